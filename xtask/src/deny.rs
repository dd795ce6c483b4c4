//! `cargo xtask deny`: cargo-deny's licence, ban and source checks over every dependency
//! (`deny.toml` at the root says what is allowed).
//!
//! The advisory check needs the RustSec database from the network; where it cannot be
//! fetched the offline checks still run and the step says advisories were not checked.
//!
//! Without cargo-deny (building it takes ~12 minutes on two cores, too long for every CI
//! run), the same offline checks run built in, from `cargo metadata` and `deny.toml`:
//! every dependency's licence expression must be satisfiable with the allowed licences,
//! every source must be crates.io (or a path in the workspace), and no banned crate may be
//! in the tree. `REGULARS_REQUIRE_CARGO_DENY=1` insists on cargo-deny itself.

use anyhow::{Result, bail};
use std::path::Path;
use std::process::Stdio;

/// The checks that need no network.
const OFFLINE_CHECKS: [&str; 3] = ["licenses", "bans", "sources"];

fn installed() -> bool {
    crate::cargo()
        .args(["deny", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs cargo-deny; `Ok` when it passed or was skipped locally.
pub fn run(root: &Path) -> Result<()> {
    if !installed() {
        if std::env::var("REGULARS_REQUIRE_CARGO_DENY").is_ok_and(|v| v == "1") {
            bail!(
                "cargo-deny is not installed and REGULARS_REQUIRE_CARGO_DENY=1: \
                 cargo install --locked cargo-deny"
            );
        }
        return builtin(root);
    }
    crate::run(
        crate::cargo()
            .current_dir(root)
            .args(["deny", "--locked", "check"])
            .args(OFFLINE_CHECKS),
    )?;
    if std::env::var("REGULARS_DENY_ADVISORIES").is_ok_and(|v| v == "1") {
        crate::run(crate::cargo().current_dir(root).args([
            "deny",
            "--locked",
            "check",
            "advisories",
        ]))?;
    } else {
        println!(
            "deny: licences, bans and sources checked; advisories not checked (they need the \
             advisory database from the network: REGULARS_DENY_ADVISORIES=1 to check them)"
        );
    }
    Ok(())
}

/// The crates.io index as `cargo metadata` names a source.
const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

/// The quoted strings of `key = [ ... ]` (and `crate = "..."` entries for bans) in
/// `deny.toml`: enough of TOML for the two lists the built-in check reads.
fn quoted_list(text: &str, key: &str) -> Vec<String> {
    let Some(start) = text.find(&format!("\n{key} = [")) else {
        return Vec::new();
    };
    let rest = &text[start..];
    let end = rest.find("\n]").unwrap_or(rest.len());
    rest[..end]
        .lines()
        .skip(1)
        .filter_map(|line| {
            let line = line.trim();
            if line.starts_with('#') {
                return None;
            }
            let quoted = match line.find("crate = \"") {
                Some(i) => &line[i + 9..],
                None => line.strip_prefix('"')?,
            };
            quoted.split('"').next().map(str::to_owned)
        })
        .collect()
}

/// Whether an SPDX expression (`A OR B`, `A AND B`, `A WITH X`, parentheses, the legacy
/// `A/B`) is satisfied by the allowed licences.
fn satisfied(expression: &str, allowed: &[String]) -> bool {
    let spaced = expression
        .replace('(', " ( ")
        .replace(')', " ) ")
        .replace('/', " OR ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut pos = 0;
    or_expr(&tokens, &mut pos, allowed) && pos == tokens.len()
}

fn or_expr(t: &[&str], pos: &mut usize, allowed: &[String]) -> bool {
    let mut any = and_expr(t, pos, allowed);
    while t.get(*pos) == Some(&"OR") {
        *pos += 1;
        any |= and_expr(t, pos, allowed);
    }
    any
}

fn and_expr(t: &[&str], pos: &mut usize, allowed: &[String]) -> bool {
    let mut all = atom(t, pos, allowed);
    while t.get(*pos) == Some(&"AND") {
        *pos += 1;
        all &= atom(t, pos, allowed);
    }
    all
}

fn atom(t: &[&str], pos: &mut usize, allowed: &[String]) -> bool {
    match t.get(*pos) {
        Some(&"(") => {
            *pos += 1;
            let inner = or_expr(t, pos, allowed);
            if t.get(*pos) == Some(&")") {
                *pos += 1;
            }
            inner
        }
        Some(id) => {
            *pos += 1;
            let mut name = (*id).to_owned();
            if t.get(*pos) == Some(&"WITH") {
                name = format!("{name} WITH {}", t.get(*pos + 1).unwrap_or(&""));
                *pos += 2;
            }
            allowed.contains(&name)
        }
        None => false,
    }
}

/// The offline checks without cargo-deny.
fn builtin(root: &Path) -> Result<()> {
    let config = std::fs::read_to_string(root.join("deny.toml"))?;
    let allowed = quoted_list(&config, "allow");
    let banned = quoted_list(&config, "deny");
    anyhow::ensure!(
        !allowed.is_empty(),
        "deny.toml: no [licenses] allow list found"
    );
    let output = crate::cargo()
        .current_dir(root)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--all-features",
        ])
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let members: Vec<&str> = metadata["workspace_members"]
        .as_array()
        .map(|m| m.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let mut problems = Vec::new();
    let mut checked = 0;
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let id = package["id"].as_str().unwrap_or_default();
        if members.contains(&id) {
            continue;
        }
        checked += 1;
        let name = package["name"].as_str().unwrap_or_default();
        let version = package["version"].as_str().unwrap_or_default();
        if banned.iter().any(|b| b == name) {
            problems.push(format!("{name} {version} is banned in deny.toml"));
        }
        match package["source"].as_str() {
            Some(CRATES_IO) => {}
            Some(other) => problems.push(format!("{name} {version} comes from {other}")),
            None => problems.push(format!("{name} {version} is a path outside the workspace")),
        }
        match package["license"].as_str() {
            Some(expression) if satisfied(expression, &allowed) => {}
            Some(expression) => problems.push(format!(
                "{name} {version}: licence {expression} is not allowed"
            )),
            None => problems.push(format!("{name} {version} declares no SPDX licence")),
        }
    }
    if !problems.is_empty() {
        bail!("deny (built in): {}", problems.join("; "));
    }
    println!(
        "deny: {checked} dependencies: licences, bans and sources ok (built-in check; \
         cargo-deny is not installed, so advisories were not checked)"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        [
            "MIT",
            "Apache-2.0",
            "Apache-2.0 WITH LLVM-exception",
            "Unicode-3.0",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect()
    }

    #[test]
    fn spdx_expressions() {
        let a = allowed();
        assert!(satisfied("MIT", &a));
        assert!(satisfied("MIT OR Apache-2.0", &a));
        assert!(satisfied("GPL-3.0 OR MIT", &a));
        assert!(!satisfied("GPL-3.0", &a));
        assert!(!satisfied("MIT AND GPL-3.0", &a));
        assert!(satisfied("(MIT OR Apache-2.0) AND Unicode-3.0", &a));
        assert!(satisfied("Apache-2.0 WITH LLVM-exception OR MIT", &a));
        assert!(!satisfied("GPL-2.0 WITH Classpath-exception-2.0", &a));
        assert!(satisfied("MIT/Apache-2.0", &a));
        assert!(!satisfied("", &a));
    }

    #[test]
    fn reads_the_lists_of_deny_toml() -> Result<()> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .ok_or_else(|| anyhow::anyhow!("root"))?;
        let text = std::fs::read_to_string(root.join("deny.toml"))?;
        let allow = quoted_list(&text, "allow");
        assert!(allow.contains(&"MIT".to_owned()), "{allow:?}");
        assert!(allow.contains(&"Apache-2.0 WITH LLVM-exception".to_owned()));
        assert_eq!(quoted_list(&text, "deny"), vec!["openssl-sys".to_owned()]);
        Ok(())
    }
}
