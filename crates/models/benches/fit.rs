//! Fitting BG/NBD on 20,000 simulated customers.
//!
//! * `models/bgnbd_fit_20000_customers` (criterion) stands next to
//!   `baseline/bgnbd_loglik_20000_customers`, one evaluation of the log-likelihood and its
//!   gradient on the same rows (grouping included): the ratio is what the whole fit costs in
//!   likelihood evaluations.
//! * `models/bgnbd_fit_vs_lifetimes` runs Python `lifetimes` on the same customers
//!   (`benches/lifetimes_fit.py`, timed inside Python) and records its time as the peer,
//!   with how far the two estimates are apart. Without `lifetimes` the peer is recorded as
//!   missing. Results go to `$REGULARS_BENCH_REPORTS/models_fit.json`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::Criterion;
use regulars_models::simulate::{self, Cohorts};
use regulars_models::{BgNbd, FitOptions, Parameters, Summary};
use serde_json::{Value, json};
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

const CUSTOMERS: usize = 20_000;

fn customers() -> Vec<Summary> {
    let truth = BgNbd {
        r: 0.5,
        alpha: 20.0,
        a: 0.8,
        b: 2.5,
    };
    // Daily data over two years, as a shop's POS export gives it.
    let cohorts = Cohorts {
        min: 7.0,
        max: 730.0,
        step: 1.0,
    };
    simulate::bgnbd(&truth, CUSTOMERS, &cohorts, 42)
}

fn main() {
    let rows = customers();
    let mut c = Criterion::default().configure_from_args();
    c.bench_function("models/bgnbd_fit_20000_customers", |b| {
        b.iter(|| BgNbd::fit(black_box(&rows), &FitOptions::default()).unwrap())
    });
    let fitted = BgNbd::fit(&rows, &FitOptions::default()).unwrap();
    c.bench_function("baseline/bgnbd_loglik_20000_customers", |b| {
        b.iter(|| fitted.model.log_likelihood(black_box(&rows)).unwrap())
    });
    c.final_summary();
    if let Err(e) = against_lifetimes(&rows, &fitted.model) {
        eprintln!("models/bgnbd_fit_vs_lifetimes failed: {e}");
        std::process::exit(1);
    }
}

fn against_lifetimes(rows: &[Summary], ours: &BgNbd) -> Result<(), String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let csv = dir.join("bgnbd_fit_20000.csv");
    let mut text = String::from("customer_id,frequency,recency,T\n");
    for (i, r) in rows.iter().enumerate() {
        text.push_str(&format!("{i},{},{},{}\n", r.frequency, r.recency, r.t));
    }
    std::fs::write(&csv, text).map_err(|e| e.to_string())?;

    // Our own wall time for the same job, best of five, like the Python side.
    let mut ours_s = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        black_box(BgNbd::fit(rows, &FitOptions::default()).map_err(|e| e.to_string())?);
        ours_s = ours_s.min(start.elapsed().as_secs_f64());
    }

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/lifetimes_fit.py");
    let peer: Value = match std::process::Command::new("python3")
        .arg(&script)
        .arg(&csv)
        .arg("3")
        .output()
    {
        Ok(out) if out.status.success() => serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("lifetimes_fit.py printed no JSON: {e}"))?,
        Ok(out) => {
            json!({"missing": format!("lifetimes_fit.py failed: {}", String::from_utf8_lossy(&out.stderr))})
        }
        Err(e) => json!({"missing": format!("python3 cannot run: {e}")}),
    };

    let mut row = json!({
        "name": "models/bgnbd_fit_vs_lifetimes",
        "value": ours_s * 1e3,
        "unit": "ms",
    });
    match peer.get("seconds").and_then(Value::as_f64) {
        Some(py_s) => {
            let names = BgNbd::NAMES;
            let mut worst = 0.0f64;
            let mut theirs = Vec::new();
            for (name, value) in names.iter().zip(ours.values()) {
                let p = peer["params"][*name].as_f64().unwrap_or(f64::NAN);
                worst = worst.max((value - p).abs() / p.abs());
                theirs.push(format!("{name}={p:.4}"));
            }
            let grouped = peer["grouped_seconds"].as_f64().unwrap_or(f64::NAN);
            row["peer"] = json!({
                "name": format!("lifetimes {} BetaGeoFitter.fit", peer["version"].as_str().unwrap_or("?")),
                "value": py_s * 1e3,
                "unit": "ms",
                "what": "the same 20,000 customers, one row each, timed inside Python",
            });
            row["ratio"] = json!(ours_s / py_s);
            row["note"] = json!(format!(
                "lifetimes with rows grouped into weights first: {:.1} ms; ours: {}; lifetimes: {}; largest relative difference {:.1e}",
                grouped * 1e3,
                names
                    .iter()
                    .zip(ours.values())
                    .map(|(n, v)| format!("{n}={v:.4}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                theirs.join(" "),
                worst
            ));
        }
        None => {
            row["note"] = json!(format!(
                "peer missing: {}",
                peer.get("missing")
                    .and_then(Value::as_str)
                    .unwrap_or("no result")
            ));
        }
    }
    let report = serde_json::to_string_pretty(&json!([row])).map_err(|e| e.to_string())?;
    println!("{report}");
    if let Some(dir) = std::env::var_os("REGULARS_BENCH_REPORTS") {
        std::fs::write(Path::new(&dir).join("models_fit.json"), report)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
