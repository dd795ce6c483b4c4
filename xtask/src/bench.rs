//! `cargo xtask bench`: runs every benchmark and writes the results next to their peers.
//!
//! Two kinds of benchmark plug in:
//! * criterion benches (`benches/*.rs` in any crate): their estimates are read from
//!   `target/criterion/**/new/{benchmark,estimates}.json`;
//! * suite binaries that measure against an outside peer (pgbench, COPY, Python
//!   `lifetimes`, ...) and write one JSON report each into `target/bench-reports/`:
//!   `{"name", "value", "unit", "peer": {"name", "value", "unit"}?, "ratio"?, "note"?}`.
//!
//! Criterion figures are paired with a peer from [`PEERS`] measured in the same run, so
//! every figure is read as a ratio, never as an absolute time that depends on the machine.

use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// (benchmark, its peer or physical limit measured in the same run, what the peer is).
const PEERS: &[(&str, &str, &str)] = &[
    (
        "ledger/fold_10000_entries",
        "baseline/sum_10000_i64",
        "summing 10,000 integers (the floor for any fold)",
    ),
    (
        "models/bgnbd_fit_20000_customers",
        "baseline/bgnbd_loglik_20000_customers",
        "one log-likelihood and gradient evaluation on the same customers",
    ),
    (
        "rules/evaluate_5_lines_20_rules",
        "baseline/parse_order_json",
        "deserialising the same order from JSON",
    ),
    (
        "csv/import_100000_rows",
        "baseline/csv_read_100000_records",
        "the csv crate splitting the same file into records (no parsing)",
    ),
    (
        "segments/rule_5_clauses_1m_rows",
        "baseline/hand_written_5_clauses_1m_rows",
        "the same 5-clause predicate hand-written in Rust",
    ),
    (
        "campaigns/plan_1m_customers",
        "baseline/audience_rule_1m_customers",
        "evaluating only the campaign's audience rule on the same customers",
    ),
    (
        "reports/overview_1m_orders",
        "baseline/sum_1m_amounts",
        "adding the same orders' net amounts as decimals in one pass",
    ),
    (
        "affinity/build_1m_orders",
        "baseline/count_skus_1m_orders",
        "counting every SKU of the same orders in a string-keyed hash map",
    ),
];

/// Suite benchmarks that measure against an outside peer: (report file each writes into
/// `target/bench-reports/`, what it measures). A missing report fails the run, so a
/// suite that stopped writing one cannot drop out of the results unnoticed.
const SUITES: &[(&str, &str)] = &[
    (
        "ingest.json",
        "tests/benches/ingest.rs: ingest_order in process vs pgbench and a minimal SQLite transaction",
    ),
    (
        "http.json",
        "tests/benches/http/: signed webhooks through the real server vs ingest_order in process and pgbench, and the open-loop p99 at half the top rate",
    ),
    (
        "load.json",
        "tests/benches/load.rs: a 100-location POS day against `regulars serve` vs GET /healthz, server RSS under load vs at rest",
    ),
    (
        "csv_import.json",
        "tests/benches/csv_import.rs: CSV history import as the CLI does it vs PostgreSQL COPY",
    ),
    (
        "campaign_memory.json",
        "crates/campaigns/benches/plan.rs: peak memory of planning 1M customers vs the facts' own size",
    ),
    (
        "models_fit_1m.json",
        "crates/models/benches/fit_1m.rs: BG/NBD on 1M customers vs Python lifetimes, whole processes from the same CSV, with peak memory",
    ),
    (
        "delivery.json",
        "tests/benches/delivery.rs: outbox delivery to the eSMS stand-in vs the same sends without an outbox",
    ),
    (
        "contacts.json",
        "tests/benches/contacts.rs: look-up by phone and accrual with contact data sealed vs plain columns",
    ),
    (
        "history.json",
        "tests/benches/history.rs: accrual for a customer with 10,000 earlier entries vs for a new customer",
    ),
    (
        "brand_scale.json",
        "tests/benches/brand_scale/: a 1M-customer brand on PostgreSQL: `regulars score`, 90-day overview, live segment count, campaign run, with peak memory, vs their bounds",
    ),
];

/// A measured figure.
#[derive(Debug, Clone)]
struct Figure {
    name: String,
    value: f64,
    unit: String,
}

pub fn run(root: &Path, extra: &[String]) -> Result<()> {
    let target = target_dir(root);
    let reports = target.join("bench-reports");
    let _ = std::fs::remove_dir_all(&reports);
    std::fs::create_dir_all(&reports)?;
    let _ = std::fs::remove_dir_all(target.join("criterion"));

    // The load benchmark runs the release binary as its own process (its memory is
    // measured from /proc), which `cargo bench` does not build for another package.
    crate::run(crate::cargo().current_dir(root).args([
        "build",
        "--release",
        "--locked",
        "--package",
        "regulars",
    ]))?;
    let mut cmd =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root)
        .args(["bench", "--workspace", "--bench", "*", "--locked", "--"])
        .args(["--warm-up-time", "1", "--measurement-time", "3"])
        .args(extra)
        .env("REGULARS_BENCH_REPORTS", &reports);
    crate::run(&mut cmd)?;
    for (report, what) in SUITES {
        anyhow::ensure!(
            reports.join(report).exists(),
            "no {report} was written ({what})"
        );
    }

    let criterion = read_criterion(&target.join("criterion"))?;
    let mut rows = Vec::new();
    for fig in &criterion {
        if fig.name.starts_with("baseline/") {
            continue;
        }
        let peer = PEERS
            .iter()
            .find(|(name, _, _)| *name == fig.name)
            .and_then(|(_, peer, what)| {
                criterion
                    .iter()
                    .find(|f| f.name == *peer)
                    .map(|p| (p.clone(), *what))
            });
        let mut row = json!({"name": fig.name, "value": fig.value, "unit": fig.unit});
        if let Some((peer, what)) = peer {
            row["peer"] =
                json!({"name": peer.name, "value": peer.value, "unit": peer.unit, "what": what});
            if peer.value > 0.0 {
                row["ratio"] = json!(fig.value / peer.value);
            }
        }
        rows.push(row);
    }
    rows.extend(read_reports(&reports)?);

    let out_dir = root.join("bench").join("results");
    std::fs::create_dir_all(&out_dir)?;
    // The last run's figures stand beside the new ones, so a regression shows in the
    // table itself rather than only in the history of the file.
    let previous = previous_results(&out_dir.join("latest.json"));
    let previous_machine = previous.as_ref().map(|(_, m)| m.clone());
    let previous = previous.map(|(rows, _)| rows).unwrap_or_default();
    add_previous(&mut rows, &previous);
    let latest =
        json!({"results": rows, "machine": machine(), "previous_machine": previous_machine});
    std::fs::write(
        out_dir.join("latest.json"),
        serde_json::to_string_pretty(&latest)?,
    )?;
    let table = markdown(&rows);
    std::fs::write(root.join("bench").join("RESULTS.md"), &table)?;
    println!("{table}");
    println!("wrote bench/results/latest.json and bench/RESULTS.md");
    Ok(())
}

fn target_dir(root: &Path) -> PathBuf {
    crate::target_dir(root)
}

fn machine() -> Value {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_default();
    json!({"cpus": cpus, "cpu": model})
}

/// Reads every criterion estimate under `dir` (mean, in ns per iteration).
fn read_criterion(dir: &Path) -> Result<Vec<Figure>> {
    let mut figures = Vec::new();
    if !dir.exists() {
        return Ok(figures);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n == "new") {
                    if let Some(fig) = read_estimate(&path)? {
                        figures.push(fig);
                    }
                } else {
                    stack.push(path);
                }
            }
        }
    }
    figures.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(figures)
}

fn read_estimate(new_dir: &Path) -> Result<Option<Figure>> {
    let (Ok(bench), Ok(est)) = (
        std::fs::read_to_string(new_dir.join("benchmark.json")),
        std::fs::read_to_string(new_dir.join("estimates.json")),
    ) else {
        return Ok(None);
    };
    let bench: Value = serde_json::from_str(&bench)?;
    let est: Value = serde_json::from_str(&est)?;
    let name = bench
        .get("full_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let value = est
        .pointer("/mean/point_estimate")
        .and_then(Value::as_f64)
        .unwrap_or(f64::NAN);
    Ok(Some(Figure {
        name,
        value,
        unit: "ns/op".into(),
    }))
}

fn read_reports(dir: &Path) -> Result<Vec<Value>> {
    let mut rows = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(rows);
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path)?;
            let v: Value =
                serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
            match v {
                Value::Array(items) => rows.extend(items),
                other => rows.push(other),
            }
        }
    }
    Ok(rows)
}

/// The rows and machine of the run before, from its `latest.json`; `None` when there is
/// none or it cannot be read (a first run, or a file edited by hand).
fn previous_results(path: &Path) -> Option<(Vec<Value>, Value)> {
    let text = std::fs::read_to_string(path).ok()?;
    let latest: Value = serde_json::from_str(&text).ok()?;
    let rows = latest.get("results")?.as_array()?.clone();
    let machine = latest.get("machine").cloned().unwrap_or(Value::Null);
    Some((rows, machine))
}

/// Gives each row the figures of the row of the same name in `previous` (its value,
/// unit and ratio), when there is one. The rows of the run before carry their own
/// `previous` too; only their own figures are taken, so the file never grows.
fn add_previous(rows: &mut [Value], previous: &[Value]) {
    for row in rows.iter_mut() {
        let Some(name) = row.get("name").and_then(Value::as_str) else {
            continue;
        };
        let Some(before) = previous
            .iter()
            .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
        else {
            continue;
        };
        let mut kept = json!({});
        for field in ["value", "unit", "ratio"] {
            if let Some(v) = before.get(field) {
                kept[field] = v.clone();
            }
        }
        row["previous"] = kept;
    }
}

/// The change from `before` to `now` in per cent, signed: `+12.5%`, `-3.0%`; `—` when
/// there is nothing to compare (no earlier figure, another unit, a zero or NaN).
fn change(now: f64, before: f64) -> String {
    if !now.is_finite() || !before.is_finite() || before == 0.0 {
        return "—".into();
    }
    let pct = (now - before) / before.abs() * 100.0;
    format!("{pct:+.1}%")
}

/// The previous and change cells of a row: the earlier value with its unit (and its
/// ratio), and the change of the value in per cent.
fn previous_cells(r: &Value, value: f64, unit: &str) -> (String, String) {
    let Some(p) = r.get("previous") else {
        return ("—".into(), "—".into());
    };
    let before = p.get("value").and_then(Value::as_f64).unwrap_or(f64::NAN);
    let before_unit = p.get("unit").and_then(Value::as_str).unwrap_or("");
    let mut cell = format!("{} {before_unit}", fmt_num(before));
    if let Some(ratio) = p.get("ratio").and_then(Value::as_f64) {
        let _ = write!(cell, " ({})", fmt_ratio(ratio));
    }
    let delta = if before_unit == unit {
        change(value, before)
    } else {
        "—".into()
    };
    (cell, delta)
}

fn fmt_ratio(x: f64) -> String {
    // Small ratios (a per-order import against COPY) keep two significant digits.
    if x != 0.0 && x.abs() < 0.01 {
        format!("{x:.4}×")
    } else {
        format!("{x:.2}×")
    }
}

fn fmt_num(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

fn markdown(rows: &[Value]) -> String {
    let mut out = String::from(
        "# Benchmark results\n\nWritten by `cargo xtask bench`. Each figure stands next to a peer or limit measured in the same run; read the ratio, not the absolute value. The previous column is the run before this one (same name), with its ratio; the change is of the value (for ns/op lower is better, for rates higher is better).\n\n| benchmark | value | peer | peer value | ratio | previous | change |\n|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let name = r.get("name").and_then(Value::as_str).unwrap_or("?");
        let value = r.get("value").and_then(Value::as_f64).unwrap_or(f64::NAN);
        let unit = r.get("unit").and_then(Value::as_str).unwrap_or("");
        let (peer, peer_value) = match r.get("peer") {
            Some(p) => (
                format!(
                    "{} ({})",
                    p.get("name").and_then(Value::as_str).unwrap_or("?"),
                    p.get("what").and_then(Value::as_str).unwrap_or("")
                ),
                format!(
                    "{} {}",
                    fmt_num(p.get("value").and_then(Value::as_f64).unwrap_or(f64::NAN)),
                    p.get("unit").and_then(Value::as_str).unwrap_or("")
                ),
            ),
            None => ("—".into(), "—".into()),
        };
        let ratio = r
            .get("ratio")
            .and_then(Value::as_f64)
            .map(fmt_ratio)
            .unwrap_or_else(|| "—".into());
        let (previous, delta) = previous_cells(r, value, unit);
        let _ = writeln!(
            out,
            "| {name} | {} {unit} | {peer} | {peer_value} | {ratio} | {previous} | {delta} |",
            fmt_num(value)
        );
        if let Some(note) = r.get("note").and_then(Value::as_str) {
            let _ = writeln!(out, "| ↳ {note} | | | | | | |");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_line<'a>(table: &'a str, name: &str) -> &'a str {
        table
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no row {name} in {table}"))
    }

    #[test]
    fn rows_show_the_previous_run_beside_the_new_matched_by_name() {
        let mut rows = vec![
            json!({"name": "http/postgres/16_clients", "value": 1200.0, "unit": "accruals/s",
                   "peer": {"name": "pgbench", "value": 1000.0, "unit": "tps", "what": "TPC-B"},
                   "ratio": 1.2}),
            json!({"name": "ledger/fold", "value": 90.0, "unit": "ns/op"}),
            json!({"name": "new/bench", "value": 5.0, "unit": "rows/s"}),
        ];
        let previous = vec![
            json!({"name": "ledger/fold", "value": 100.0, "unit": "ns/op",
                   "previous": {"value": 1.0, "unit": "ns/op"}}),
            json!({"name": "http/postgres/16_clients", "value": 800.0, "unit": "accruals/s",
                   "ratio": 0.8}),
            json!({"name": "gone/bench", "value": 1.0, "unit": "ns/op"}),
        ];
        add_previous(&mut rows, &previous);
        // Only the earlier run's own figures are kept, never its own previous.
        assert_eq!(
            rows[1]["previous"],
            json!({"value": 100.0, "unit": "ns/op"})
        );
        assert!(rows[2].get("previous").is_none());

        let table = markdown(&rows);
        assert!(table.contains("| ratio | previous | change |"), "{table}");
        assert_eq!(
            table_line(&table, "http/postgres/16_clients"),
            "| http/postgres/16_clients | 1200 accruals/s | pgbench (TPC-B) | 1000 tps | 1.20× \
             | 800 accruals/s (0.80×) | +50.0% |"
        );
        assert_eq!(
            table_line(&table, "ledger/fold"),
            "| ledger/fold | 90.00 ns/op | — | — | — | 100 ns/op | -10.0% |"
        );
        assert_eq!(
            table_line(&table, "new/bench"),
            "| new/bench | 5.00 rows/s | — | — | — | — | — |"
        );
        assert!(!table.contains("gone/bench"), "{table}");
    }

    #[test]
    fn a_change_of_unit_or_a_zero_is_not_compared() {
        let mut rows = vec![json!({"name": "a", "value": 2.0, "unit": "MiB"})];
        add_previous(
            &mut rows,
            &[json!({"name": "a", "value": 2048.0, "unit": "KiB"})],
        );
        assert_eq!(
            table_line(&markdown(&rows), "a"),
            "| a | 2.00 MiB | — | — | — | 2048 KiB | — |"
        );
        assert_eq!(change(1.0, 0.0), "—");
        assert_eq!(change(f64::NAN, 1.0), "—");
        assert_eq!(change(3.0, 2.0), "+50.0%");
    }

    #[test]
    fn a_missing_or_unreadable_previous_file_is_no_previous_run() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("latest.json");
        let _ = std::fs::remove_file(&path);
        assert!(previous_results(&path).is_none());
        std::fs::write(&path, "not json").unwrap_or_else(|e| panic!("{e}"));
        assert!(previous_results(&path).is_none());
        std::fs::write(
            &path,
            r#"{"results": [{"name": "a", "value": 1}], "machine": {"cpus": 2}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let (rows, machine) = previous_results(&path).unwrap_or_else(|| panic!("unread"));
        assert_eq!(rows.len(), 1);
        assert_eq!(machine, json!({"cpus": 2}));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
