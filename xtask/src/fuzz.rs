//! `cargo xtask fuzz`: schemathesis against the real server on a fresh SQLite database.
//!
//! Starts `regulars serve` (the debug binary, built first) on a new database with a brand
//! and its admin key, points `schemathesis run` at its `/openapi.json` with that key, and
//! checks every answer: no 5xx, a documented status, a documented content type and a body
//! that matches the documented schema. The number of examples and the seed are fixed, so
//! a run is repeatable and stays within a few minutes on two cores.
//!
//! schemathesis comes from PyPI (`.ci/run` installs the pinned version). Without it the
//! step is skipped with a message, unless `REGULARS_REQUIRE_SCHEMATHESIS=1` (set on CI),
//! which makes a missing schemathesis a failure.

use crate::server::Server;
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// The schemathesis release `.ci/run` installs; the step says so when another one runs.
pub const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// Examples per operation and phase: enough to reach every status an operation has,
/// small enough for about two minutes on CI.
const MAX_EXAMPLES: &str = "30";
const SEED: &str = "20261123";
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_schema_conformance";

/// What a run saw, read from schemathesis' event log.
#[derive(Debug, Default, PartialEq)]
struct Tally {
    cases: usize,
    server_errors: usize,
    schema_violations: usize,
    failed_checks: usize,
}

fn installed() -> Option<String> {
    let output = Command::new("schemathesis")
        .arg("--version")
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Runs the fuzzing step; `Ok` when it passed or was skipped locally.
pub fn run(root: &Path) -> Result<()> {
    let required = std::env::var("REGULARS_REQUIRE_SCHEMATHESIS").is_ok_and(|v| v == "1");
    let Some(version) = installed() else {
        if required {
            bail!(
                "schemathesis is not installed and REGULARS_REQUIRE_SCHEMATHESIS=1: \
                 pip install schemathesis=={SCHEMATHESIS_VERSION}"
            );
        }
        println!(
            "fuzz: skipped, schemathesis is not installed \
             (pip install schemathesis=={SCHEMATHESIS_VERSION})"
        );
        return Ok(());
    };
    if !version.contains(SCHEMATHESIS_VERSION) {
        println!("fuzz: note: {version}, the pinned one is {SCHEMATHESIS_VERSION}");
    }
    let server = Server::start(root, "fuzz")?;
    let events = server.dir().join("events.ndjson");
    let mut command = Command::new("schemathesis");
    command
        .current_dir(server.dir())
        .arg("run")
        .arg(format!("{}/openapi.json", server.base()))
        .args([
            "--header",
            &format!("Authorization: Bearer {}", server.key()),
        ])
        .args(["--checks", CHECKS])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--seed", SEED])
        .args(["--workers", "2"])
        .args(["--request-timeout", "30"])
        .args(["--report", "ndjson", "--report-ndjson-path"])
        .arg(&events)
        .args(["--no-color", "--output-truncate", "true"]);
    // The key is a throwaway one, but keys are not printed.
    println!(
        "$ {}",
        format!("{command:?}").replace(server.key(), "rgk_…")
    );
    let status = command.status().context("could not start schemathesis")?;
    let Ok(log) = std::fs::read_to_string(&events) else {
        bail!("schemathesis ended with {status} and left no event log");
    };
    let tally = tally(&log)?;
    let logs = server.stop()?;
    println!(
        "fuzz: {} cases run, {} 5xx seen, {} schema violations, {} failed checks",
        tally.cases, tally.server_errors, tally.schema_violations, tally.failed_checks
    );
    if !status.success() || tally.server_errors > 0 || tally.failed_checks > 0 {
        if std::env::var_os("TEST_LOG").is_some() {
            eprintln!("{logs}");
        }
        bail!("schemathesis found problems (see above; the server's log with TEST_LOG=1)");
    }
    if tally.cases == 0 {
        bail!("schemathesis ran no case");
    }
    Ok(())
}

/// Counts cases, 5xx answers and failed checks in schemathesis' NDJSON event log.
fn tally(ndjson: &str) -> Result<Tally> {
    let mut tally = Tally::default();
    for line in ndjson.lines().filter(|l| !l.trim().is_empty()) {
        let event: Value = serde_json::from_str(line).context("schemathesis event log")?;
        let Some(recorder) = event.pointer("/ScenarioFinished/recorder") else {
            continue;
        };
        if let Some(interactions) = recorder.get("interactions").and_then(Value::as_object) {
            for interaction in interactions.values() {
                tally.cases += 1;
                let status = interaction
                    .pointer("/response/status_code")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                if status >= 500 {
                    tally.server_errors += 1;
                }
            }
        }
        if let Some(checks) = recorder.get("checks").and_then(Value::as_object) {
            for check in checks.values().filter_map(Value::as_array).flatten() {
                if check.get("status").and_then(Value::as_str) == Some("failure") {
                    tally.failed_checks += 1;
                    if check.get("name").and_then(Value::as_str)
                        == Some("response_schema_conformance")
                    {
                        tally.schema_violations += 1;
                    }
                }
            }
        }
    }
    Ok(tally)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_event_log_is_counted() {
        let log = r#"{"Initialize":{"seed":1}}
{"ScenarioFinished":{"recorder":{"interactions":{"a":{"response":{"status_code":200}},"b":{"response":{"status_code":500}},"c":{"response":null}},"checks":{"a":[{"name":"not_a_server_error","status":"success"},{"name":"response_schema_conformance","status":"failure"}],"b":[{"name":"not_a_server_error","status":"failure"}]}}}}
{"ScenarioFinished":{"recorder":{"label":"GET /healthz"}}}
"#;
        assert_eq!(
            tally(log).unwrap(),
            Tally {
                cases: 3,
                server_errors: 1,
                schema_violations: 1,
                failed_checks: 2,
            }
        );
        assert!(tally("not json").is_err());
    }
}
