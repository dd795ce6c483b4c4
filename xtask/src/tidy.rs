//! Layout and dependency rules of the workspace, checked from `cargo metadata`.
//!
//! The rules keep the hexagon honest:
//! * pure crates (domain, loyalty, segments, models, campaigns, reports) depend only on a short
//!   allow-list of data and numeric crates — nothing async, no I/O, no ORM, no web;
//! * `regulars-ports` holds traits only: pure crates plus async-trait/mockall;
//! * `regulars-service` never sees an adapter, an ORM or a web framework;
//! * adapters (store, http, web, senders, pos) never depend on each other;
//! * `regulars-pos` parses bytes it is handed: no async runtime, no I/O crates but the
//!   HTTP client of its `PosApi` adapter (`reqwest`), no use cases; it meets the rest
//!   through the webhook and POS API ports, which it implements;
//! * the test kit is only ever a dev-dependency;
//! * every crate opts into the workspace lints and is named after its folder.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

pub(crate) const PURE: &[&str] = &[
    "regulars-domain",
    "regulars-loyalty",
    "regulars-segments",
    "regulars-models",
    "regulars-campaigns",
    "regulars-reports",
];

/// External crates a pure crate may use. Adding one is a design decision: it must do no
/// I/O, spawn nothing and read no clock.
const PURE_ALLOWED: &[&str] = &[
    // Numerical optimisation (L-BFGS, Nelder–Mead) for the customer models. Pure
    // computation; its executor reads the clock only when a timer or timeout is asked for,
    // and the models ask for neither.
    "argmin",
    "argmin-math",
    // Data parallelism of the models' likelihood sums. Its worker threads only compute
    // (no I/O, no clock); the rows are cut into chunks of a fixed size and the partial
    // sums combined in order, so a result never depends on the number of threads.
    "rayon",
    "rust_decimal",
    "serde",
    "serde_json",
    "serde_path_to_error",
    "thiserror",
    "time",
    // Unicode decomposition tables (NFD) for folding Vietnamese SMS text: data and pure
    // functions only.
    "unicode-normalization",
    "uuid",
];

pub(crate) const PORTS: &str = "regulars-ports";
const PORTS_ALLOWED: &[&str] = &[
    "async-trait",
    "mockall",
    "rust_decimal",
    "serde",
    "serde_json",
    // Pure hashing for `provider_key`, the one derivation the outbox store and the
    // senders must agree on.
    "sha2",
    "thiserror",
    "time",
    "uuid",
];

const SERVICE: &str = "regulars-service";

const ADAPTERS: &[&str] = &[
    "regulars-store",
    "regulars-http",
    "regulars-web",
    "regulars-senders",
    "regulars-pos",
];

/// Crates that mean I/O, an ORM, a web framework or a network client.
const INFRASTRUCTURE: &[&str] = &[
    "actix-web",
    "actix-rt",
    "axum",
    "hyper",
    "lettre",
    "reqwest",
    "rusqlite",
    "sea-orm",
    "sea-orm-migration",
    "sea-query",
    "sqlx",
    "tokio-postgres",
];

/// The POS adapter turns bytes handed to it into domain values: no runtime, no network,
/// no database, and no use cases. It implements the (synchronous) webhook port, so it
/// may depend on `regulars-ports`; `app` wires it.
const POS: &str = "regulars-pos";
const POS_FORBIDDEN: &[&str] = &["async-std", "futures", "regulars-service", "tokio"];
/// What `regulars-pos` may use of the infrastructure: its `client` module is the adapter
/// of the async `PosApi` port, the one place it calls out (the POS's own HTTP APIs);
/// decoding still works on the bytes it is given.
const POS_CLIENT_ALLOWED: &[&str] = &["reqwest"];

const TESTKIT: &str = "regulars-testkit";

/// Crates that are themselves test code (end-to-end tests and benchmarks, never shipped):
/// they may use the test kit as a normal dependency.
const TEST_CRATES: &[&str] = &["regulars-tests"];

/// Runs `cargo metadata` and checks every rule; returns the problems found.
pub fn check(root: &Path) -> Result<Vec<String>> {
    let meta = metadata(root)?;
    let mut problems = check_metadata(&meta);
    problems.extend(check_manifests(&meta));
    Ok(problems)
}

/// The workspace's own packages as `cargo metadata --no-deps` describes them.
pub(crate) fn metadata(root: &Path) -> Result<Value> {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .output()
        .context("could not run cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    serde_json::from_slice(&output.stdout).context("cargo metadata output")
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The array under `key`, empty when absent.
fn array_of<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The dependency rules, on parsed `cargo metadata` output.
pub fn check_metadata(meta: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for pkg in array_of(meta, "packages") {
        let name = str_of(pkg, "name");
        for dep in array_of(pkg, "dependencies") {
            let dep_name = str_of(dep, "name");
            // `kind` is null for normal dependencies, "dev" or "build" otherwise.
            let kind = dep.get("kind").and_then(Value::as_str).unwrap_or("normal");
            if kind == "dev" {
                continue;
            }
            if dep_name == TESTKIT && !TEST_CRATES.contains(&name) {
                problems.push(format!(
                    "{name} depends on {TESTKIT} outside dev-dependencies; the test kit is for tests only"
                ));
            }
            let internal = dep_name.starts_with("regulars");
            if PURE.contains(&name) {
                let ok = if internal {
                    PURE.contains(&dep_name)
                } else {
                    PURE_ALLOWED.contains(&dep_name)
                };
                if !ok {
                    problems.push(format!(
                        "pure crate {name} depends on {dep_name}; pure crates may use only {PURE_ALLOWED:?} and other pure crates"
                    ));
                }
            } else if name == PORTS {
                let ok = if internal {
                    PURE.contains(&dep_name)
                } else {
                    PORTS_ALLOWED.contains(&dep_name)
                };
                if !ok {
                    problems.push(format!(
                        "{PORTS} depends on {dep_name}; ports hold traits over domain types only"
                    ));
                }
            } else if name == SERVICE {
                if ADAPTERS.contains(&dep_name) || INFRASTRUCTURE.contains(&dep_name) {
                    problems.push(format!(
                        "{SERVICE} depends on {dep_name}; use cases reach the world through ports only"
                    ));
                }
            } else if ADAPTERS.contains(&name) && ADAPTERS.contains(&dep_name) {
                problems.push(format!(
                    "adapter {name} depends on adapter {dep_name}; adapters never depend on each other"
                ));
            } else if name == POS
                && (POS_FORBIDDEN.contains(&dep_name)
                    || (INFRASTRUCTURE.contains(&dep_name)
                        && !POS_CLIENT_ALLOWED.contains(&dep_name)))
            {
                problems.push(format!(
                    "{POS} depends on {dep_name}; it parses bytes it is given, and only its client calls the POS APIs over HTTP"
                ));
            }
        }
    }
    problems
}

/// Manifest habits: workspace lints, folder names.
fn check_manifests(meta: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for pkg in array_of(meta, "packages") {
        let name = str_of(pkg, "name");
        let manifest_path = Path::new(str_of(pkg, "manifest_path"));
        let text = match std::fs::read_to_string(manifest_path) {
            Ok(text) => text,
            Err(e) => {
                problems.push(format!(
                    "{name}: cannot read {}: {e}",
                    manifest_path.display()
                ));
                continue;
            }
        };
        let normalized: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if !normalized.contains("[lints] workspace = true") {
            problems.push(format!(
                "{name}: add `[lints] workspace = true` so the workspace lints apply"
            ));
        }
        let folder = manifest_path
            .parent()
            .and_then(Path::file_name)
            .and_then(|f| f.to_str())
            .unwrap_or_default();
        let parent = manifest_path
            .parent()
            .and_then(Path::parent)
            .and_then(Path::file_name)
            .and_then(|f| f.to_str())
            .unwrap_or_default();
        if parent == "crates" {
            let expected = if folder == "app" {
                "regulars".to_owned()
            } else {
                format!("regulars-{folder}")
            };
            if name != expected {
                problems.push(format!(
                    "crates/{folder} is named {name}; name it {expected} (folder name = crate name)"
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pkg(name: &str, deps: &[(&str, Option<&str>)]) -> Value {
        json!({
            "name": name,
            "manifest_path": "",
            "dependencies": deps.iter().map(|(d, kind)| json!({"name": d, "kind": kind})).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn workspace_obeys_the_rules() -> Result<()> {
        let problems = check(&crate::workspace_root())?;
        assert!(
            problems.is_empty(),
            "tidy problems:\n{}",
            problems.join("\n")
        );
        Ok(())
    }

    #[test]
    fn catches_forbidden_dependencies() {
        let meta = json!({"packages": [
            pkg("regulars-loyalty", &[("tokio", None), ("proptest", Some("dev")), ("regulars-domain", None)]),
            pkg("regulars-ports", &[("sea-orm", None)]),
            pkg("regulars-service", &[("actix-web", None), ("regulars-store", Some("dev"))]),
            pkg("regulars-http", &[("regulars-store", None), ("regulars-service", None)]),
            pkg("regulars-store", &[("regulars-testkit", None)]),
            pkg("regulars-pos", &[("tokio", None), ("regulars-service", None), ("criterion", Some("dev"))]),
        ]});
        let problems = check_metadata(&meta);
        assert_eq!(problems.len(), 7, "{problems:#?}");
        assert!(problems[0].contains("tokio"));
        assert!(problems[1].contains("sea-orm"));
        assert!(problems[2].contains("actix-web"));
        assert!(problems[3].contains("regulars-store"));
        assert!(problems[4].contains("test kit"));
        assert!(problems[5].contains("regulars-pos depends on tokio"));
        assert!(problems[6].contains("regulars-pos depends on regulars-service"));
    }

    #[test]
    fn accepts_the_intended_shape() {
        let meta = json!({"packages": [
            pkg("regulars-domain", &[("serde", None), ("time", None), ("proptest", Some("dev"))]),
            pkg("regulars-loyalty", &[("regulars-domain", None), ("rust_decimal", None)]),
            pkg("regulars-ports", &[("regulars-loyalty", None), ("async-trait", None), ("mockall", None)]),
            pkg("regulars-service", &[("regulars-ports", None), ("regulars-ports", Some("dev"))]),
            pkg("regulars-store", &[("regulars-ports", None), ("sea-orm", None), ("regulars-testkit", Some("dev"))]),
            pkg("regulars-pos", &[("regulars-domain", None), ("regulars-ports", None), ("hmac", None), ("csv", None), ("criterion", Some("dev"))]),
            pkg("regulars", &[("regulars-store", None), ("regulars-http", None)]),
        ]});
        assert_eq!(check_metadata(&meta), Vec::<String>::new());
    }
}
