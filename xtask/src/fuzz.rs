//! `cargo xtask fuzz`: schemathesis against the real server on a fresh SQLite database.
//!
//! Starts `regulars serve` (the debug binary, built first) on a new database with a brand
//! and its admin key, points `schemathesis run` at its `/openapi.json` with that key, and
//! checks every answer: no 5xx, a documented status, a documented content type and a body
//! that matches the documented schema. The number of examples and the seed are fixed, so
//! a run is repeatable and stays within a few minutes on two cores.
//!
//! `cargo xtask fuzz --deep` is the long run, not part of `cargo xtask test`: another
//! seed, many more examples, and every phase including the stateful one, which follows
//! the document's links (a customer created feeds its profile, ledger, adjustments…). It
//! must reach at least [`DEEP_MIN_CASES`] cases, and it prints, per operation, what share
//! of the valid requests schemathesis generated the server served (2xx), did not find
//! (404) or refused (400/413/415/422). An operation whose valid requests mostly end in
//! 404 or a refusal is one the run never tested for real; more than
//! [`DEEP_MAX_SHALLOW_SHARE`] of the operations like that fails the run.
//!
//! schemathesis comes from PyPI (`.ci/run` installs the pinned version). Without it the
//! step is skipped with a message, unless `REGULARS_REQUIRE_SCHEMATHESIS=1` (set on CI),
//! which makes a missing schemathesis a failure.

use crate::server::Server;
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// The schemathesis release `.ci/run` installs; the step says so when another one runs.
pub const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// How long and how wide a run is.
#[derive(Debug, Clone, Copy)]
struct Depth {
    /// Examples per operation and phase.
    max_examples: &'static str,
    seed: &'static str,
    /// The schemathesis phases run.
    phases: &'static str,
    /// The least number of cases the run must reach.
    min_cases: usize,
    /// Concurrent schemathesis workers.
    workers: &'static str,
    /// Seed data through the API and offer its identifiers (see `fuzz_seed`).
    seeded: bool,
}

/// The run of `cargo xtask test` and CI: enough examples to reach every status an
/// operation has, small enough for about two minutes on two cores.
const SHORT: Depth = Depth {
    max_examples: "30",
    seed: "20261123",
    phases: "examples,coverage,fuzzing,stateful",
    min_cases: 1,
    // One worker: with two, schemathesis 4.32.5 on CPython 3.11 now and then fails a
    // case with its own parser race ("AST constructor recursion depth mismatch").
    workers: "1",
    seeded: false,
};

/// `--deep`: another seed, five times the examples, seeded identifiers.
const DEEP: Depth = Depth {
    max_examples: "150",
    seed: "20261206",
    phases: "examples,coverage,fuzzing,stateful",
    min_cases: DEEP_MIN_CASES,
    // One worker: with two, the long run meets a race in CPython 3.11's parser
    // ("AST constructor recursion depth mismatch") inside hypothesis now and then.
    workers: "1",
    seeded: true,
};

/// The least number of cases a deep run must reach.
pub const DEEP_MIN_CASES: usize = 10_000;

/// The largest share of operations a deep run may leave "shallow": most of their valid
/// requests answered 404 or refused.
pub const DEEP_MAX_SHALLOW_SHARE: f64 = 0.05;
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_schema_conformance";

/// What a run saw, read from schemathesis' event log.
#[derive(Debug, Default, PartialEq)]
struct Tally {
    cases: usize,
    server_errors: usize,
    schema_violations: usize,
    failed_checks: usize,
    /// Per documented operation (`GET /v1/customers/{id}`), the answers to the requests
    /// schemathesis generated as valid.
    operations: BTreeMap<String, Outcomes>,
}

/// The answers an operation gave to valid (positive) generated requests.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Outcomes {
    served: usize,
    not_found: usize,
    refused: usize,
    other: usize,
}

impl Outcomes {
    fn total(&self) -> usize {
        self.served + self.not_found + self.refused + self.other
    }

    fn share(&self, n: usize) -> f64 {
        if self.total() == 0 {
            0.0
        } else {
            n as f64 / self.total() as f64
        }
    }

    /// Most valid requests never got past "not found" or a refusal of the data: the
    /// operation was not really tested. One never sent a valid request counts too.
    fn shallow(&self) -> bool {
        self.total() == 0 || 2 * (self.not_found + self.refused) > self.total()
    }

    fn count(&mut self, status: u64) {
        match status {
            200..=299 => self.served += 1,
            404 => self.not_found += 1,
            400 | 413 | 415 | 422 => self.refused += 1,
            _ => self.other += 1,
        }
    }
}

impl Tally {
    /// The operations left shallow.
    fn shallow(&self) -> Vec<&str> {
        self.operations
            .iter()
            .filter(|(_, o)| o.shallow())
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// One line per operation: valid requests, and the shares served, 404 and refused.
    fn table(&self) -> String {
        let mut text = format!(
            "{:<44} {:>6} {:>6} {:>6} {:>8} {:>6}\n",
            "operation", "valid", "2xx", "404", "refused", "other"
        );
        for (name, o) in &self.operations {
            text.push_str(&format!(
                "{:<44} {:>6} {:>5.0}% {:>5.0}% {:>7.0}% {:>5.0}%{}\n",
                name,
                o.total(),
                100.0 * o.share(o.served),
                100.0 * o.share(o.not_found),
                100.0 * o.share(o.refused),
                100.0 * o.share(o.other),
                if o.shallow() { "  <- shallow" } else { "" }
            ));
        }
        text
    }
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

/// Runs the fuzzing step (`args`: nothing, or `--deep`); `Ok` when it passed or was
/// skipped locally.
pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let depth = match args {
        [] => SHORT,
        [flag] if flag == "--deep" => DEEP,
        other => bail!("cargo xtask fuzz [--deep], not {other:?}"),
    };
    if !schemathesis_ready()? {
        return Ok(());
    }
    let server = Server::start(root, "fuzz")?;
    let events = server.dir().join("events.ndjson");
    let mut command = schemathesis_command(&server, &depth, &events)?;
    // The key is a throwaway one, but keys are not printed.
    println!(
        "$ {}",
        format!("{command:?}").replace(server.key(), "rgk_…")
    );
    let started = std::time::Instant::now();
    let status = command.status().context("could not start schemathesis")?;
    let elapsed = started.elapsed();
    let Ok(log) = std::fs::read_to_string(&events) else {
        bail!("schemathesis ended with {status} and left no event log");
    };
    let tally = tally(&log)?;
    // The scratch directory goes with the server; the event log stays for a look at
    // what an operation was answered (`jq` over `ScenarioFinished`).
    let kept = crate::target_dir(root).join("fuzz-events.ndjson");
    if std::fs::write(&kept, &log).is_ok() {
        println!("fuzz: event log kept in {}", kept.display());
    }
    let logs = server.stop()?;
    judge(&tally, &depth, status.success(), &logs, elapsed)
}

/// Whether schemathesis is there to run; its absence is an error only when
/// `REGULARS_REQUIRE_SCHEMATHESIS=1`.
fn schemathesis_ready() -> Result<bool> {
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
        return Ok(false);
    };
    if !version.contains(SCHEMATHESIS_VERSION) {
        println!("fuzz: note: {version}, the pinned one is {SCHEMATHESIS_VERSION}");
    }
    Ok(true)
}

/// The schemathesis run against `server` at `depth`, writing its events to `events`
/// (seeded with the server's own data when the depth asks for it).
fn schemathesis_command(server: &Server, depth: &Depth, events: &Path) -> Result<Command> {
    let mut command = Command::new("schemathesis");
    command.current_dir(server.dir());
    if depth.seeded {
        let seeds = crate::fuzz_seed::seed(server.base(), server.key())?;
        let config = server.dir().join("schemathesis.toml");
        std::fs::write(&config, seeds.config())
            .with_context(|| format!("write {}", config.display()))?;
        command.arg("--config-file").arg(&config);
    }
    command
        .arg("run")
        .arg(format!("{}/openapi.json", server.base()))
        .args([
            "--header",
            &format!("Authorization: Bearer {}", server.key()),
        ])
        .args(["--checks", CHECKS])
        .args(["--max-examples", depth.max_examples])
        .args(["--seed", depth.seed])
        .args(["--phases", depth.phases])
        .args(["--workers", depth.workers])
        .args(["--request-timeout", "30"])
        .args(["--report", "ndjson", "--report-ndjson-path"])
        .arg(events)
        .args(["--no-color", "--output-truncate", "true"]);
    Ok(command)
}

/// Prints what the run found and fails it on a 5xx, a failed check, too few cases or,
/// for a deep run, too many operations that were mostly 404 or refused.
fn judge(
    tally: &Tally,
    depth: &Depth,
    success: bool,
    logs: &str,
    elapsed: std::time::Duration,
) -> Result<()> {
    println!(
        "fuzz: {} cases run, {} 5xx seen, {} schema violations, {} failed checks",
        tally.cases, tally.server_errors, tally.schema_violations, tally.failed_checks
    );
    let shallow = tally.shallow();
    let operations = tally.operations.len();
    let shallow_share = if operations == 0 {
        1.0
    } else {
        shallow.len() as f64 / operations as f64
    };
    if depth.min_cases > 1 {
        print!("{}", tally.table());
    }
    println!(
        "fuzz: {} of {operations} operations mostly 404 or refused ({:.1} %), in {:.0?}",
        shallow.len(),
        100.0 * shallow_share,
        elapsed
    );
    if !success || tally.server_errors > 0 || tally.failed_checks > 0 {
        if std::env::var_os("TEST_LOG").is_some() {
            eprintln!("{logs}");
        }
        bail!("schemathesis found problems (see above; the server's log with TEST_LOG=1)");
    }
    if tally.cases < depth.min_cases {
        bail!(
            "schemathesis ran {} cases, fewer than {}",
            tally.cases,
            depth.min_cases
        );
    }
    if depth.min_cases > 1 && shallow_share > DEEP_MAX_SHALLOW_SHARE {
        bail!(
            "more than {:.0} % of the operations were mostly 404 or refused: {}",
            100.0 * DEEP_MAX_SHALLOW_SHARE,
            shallow.join(", ")
        );
    }
    Ok(())
}

/// Counts cases, 5xx answers and failed checks in schemathesis' NDJSON event log.
fn tally(ndjson: &str) -> Result<Tally> {
    let mut tally = Tally::default();
    // The documented operations: the labels of the per-operation scenarios (the stateful
    // phase's scenarios span several). Requests with undocumented methods, which the
    // checks send on purpose, are left out of the per-operation shares.
    let mut documented = BTreeSet::new();
    let mut answers: Vec<(String, u64)> = Vec::new();
    for line in ndjson.lines().filter(|l| !l.trim().is_empty()) {
        let event: Value = serde_json::from_str(line).context("schemathesis event log")?;
        let Some(recorder) = event.pointer("/ScenarioFinished/recorder") else {
            continue;
        };
        if let Some(label) = recorder.get("label").and_then(Value::as_str)
            && label.starts_with(|c: char| c.is_ascii_uppercase())
            && label.contains(" /")
        {
            documented.insert(label.to_owned());
        }
        if let Some(interactions) = recorder.get("interactions").and_then(Value::as_object) {
            for (id, interaction) in interactions {
                tally.cases += 1;
                let status = interaction
                    .pointer("/response/status_code")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                if status >= 500 {
                    tally.server_errors += 1;
                }
                let case = recorder.pointer(&format!("/cases/{id}/value"));
                let positive = case
                    .and_then(|c| c.pointer("/meta/generation/mode"))
                    .and_then(Value::as_str)
                    == Some("positive");
                let method = case.and_then(|c| c.get("method")).and_then(Value::as_str);
                let path = case.and_then(|c| c.get("path")).and_then(Value::as_str);
                if let (true, Some(method), Some(path), true) = (positive, method, path, status > 0)
                {
                    answers.push((format!("{method} {path}"), status));
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
    for name in &documented {
        tally.operations.insert(name.clone(), Outcomes::default());
    }
    for (name, status) in answers {
        if let Some(outcomes) = tally.operations.get_mut(&name) {
            outcomes.count(status);
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
{"ScenarioFinished":{"recorder":{"label":"GET /v1/a","interactions":{"a":{"response":{"status_code":200}},"b":{"response":{"status_code":500}},"c":{"response":null}},"cases":{"a":{"value":{"method":"GET","path":"/v1/a","meta":{"generation":{"mode":"positive"}}}},"b":{"value":{"method":"GET","path":"/v1/a","meta":{"generation":{"mode":"negative"}}}}},"checks":{"a":[{"name":"not_a_server_error","status":"success"},{"name":"response_schema_conformance","status":"failure"}],"b":[{"name":"not_a_server_error","status":"failure"}]}}}}
{"ScenarioFinished":{"recorder":{"label":"GET /healthz"}}}
{"ScenarioFinished":{"recorder":{"label":"Stateful tests","interactions":{"d":{"response":{"status_code":404}},"e":{"response":{"status_code":422}},"f":{"response":{"status_code":404}}},"cases":{"d":{"value":{"method":"GET","path":"/v1/b/{id}","meta":{"generation":{"mode":"positive"}}}},"e":{"value":{"method":"GET","path":"/v1/a","meta":{"generation":{"mode":"positive"}}}},"f":{"value":{"method":"DELETE","path":"/v1/a","meta":{"generation":{"mode":"positive"}}}}}}}}
"#;
        let tally = tally(log).unwrap();
        assert_eq!(
            (
                tally.cases,
                tally.server_errors,
                tally.schema_violations,
                tally.failed_checks
            ),
            (6, 1, 1, 2)
        );
        // Only documented operations (scenario labels) are kept; undocumented methods
        // and negative cases are not counted.
        assert_eq!(
            tally.operations.keys().collect::<Vec<_>>(),
            ["GET /healthz", "GET /v1/a"]
        );
        let a = tally.operations["GET /v1/a"];
        assert_eq!((a.served, a.refused, a.not_found), (1, 1, 0));
        assert!(!a.shallow(), "half refused is not most");
        // An operation never sent a valid request is shallow.
        assert_eq!(tally.shallow(), ["GET /healthz"]);
        assert!(tally.table().contains("GET /v1/a"));
        assert!(super::tally("not json").is_err());
    }

    #[test]
    fn mostly_not_found_or_refused_is_shallow() {
        let mut o = Outcomes::default();
        for status in [404, 404, 422, 200, 409] {
            o.count(status);
        }
        assert!(o.shallow());
        o.count(201);
        assert!(!o.shallow());
    }
}
