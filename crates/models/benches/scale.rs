//! Fitting and scoring at the size of a large chain: 100,000 and 1,000,000 simulated
//! customers (BG/NBD purchases, Gamma-Gamma spend, daily data over two years).
//!
//! For each size, in a fresh child process so peak memory is that size's own:
//! * fit time of BG/NBD and of Gamma-Gamma (validation and grouping included);
//! * scoring time: expected purchases in 90 days, P(alive), expected spend and a 12-month
//!   discounted CLV for every customer;
//! * peak resident memory (VmHWM from /proc/self/status), the simulated input included.
//!
//! The peer of each figure is one grouping pass over the same rows (`group_counts`): the
//! floor for anything that reads every customer once. Results go to
//! `$REGULARS_BENCH_REPORTS/models_scale.json` and are printed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use regulars_models::gamma_gamma::ClvOptions;
use regulars_models::score::score_value;
use regulars_models::simulate::{self, Cohorts};
use regulars_models::summary::group_counts;
use regulars_models::{BgNbd, FitOptions, GammaGamma, Parameters};
use serde_json::{Value, json};
use std::hint::black_box;
use std::time::Instant;

const SIZES: [usize; 2] = [100_000, 1_000_000];
const CHILD: &str = "REGULARS_SCALE_CUSTOMERS";

fn main() {
    if let Some(n) = std::env::var(CHILD).ok().and_then(|v| v.parse().ok()) {
        println!("{}", measure(n));
        return;
    }
    // Criterion-style arguments (`--bench`, times) are not ours; ignore them.
    let exe = std::env::current_exe().expect("own path");
    let mut rows = Vec::new();
    for n in SIZES {
        let out = std::process::Command::new(&exe)
            .env(CHILD, n.to_string())
            .output()
            .expect("child runs");
        if !out.status.success() {
            eprintln!("scale {n}: {}", String::from_utf8_lossy(&out.stderr));
            std::process::exit(1);
        }
        let m: Value = serde_json::from_slice(&out.stdout).expect("child JSON");
        eprintln!("{}", serde_json::to_string(&m).unwrap_or_default());
        let peer = json!({
            "name": "group_counts",
            "value": m["group_s"],
            "unit": "s",
            "what": "one grouping pass over the same customers",
        });
        let ratio =
            |v: &Value| v.as_f64().unwrap_or(f64::NAN) / m["group_s"].as_f64().unwrap_or(f64::NAN);
        let note = format!(
            "{} distinct (x, tx, T) rows; Gamma-Gamma fit {:.3} s; peak RSS {:.0} MiB",
            m["distinct_rows"],
            m["gamma_gamma_fit_s"].as_f64().unwrap_or(f64::NAN),
            m["peak_rss_kib"].as_f64().unwrap_or(f64::NAN) / 1024.0
        );
        rows.push(json!({
            "name": format!("models/scale/{n}_customers/fit_bgnbd"),
            "value": m["bgnbd_fit_s"], "unit": "s", "peer": peer, "ratio": ratio(&m["bgnbd_fit_s"]),
            "note": note,
        }));
        rows.push(json!({
            "name": format!("models/scale/{n}_customers/score_all"),
            "value": m["score_s"], "unit": "s", "peer": peer, "ratio": ratio(&m["score_s"]),
            "note": "expected purchases (90 days), P(alive), expected spend and 12-month CLV for every customer",
        }));
        rows.push(json!({
            "name": format!("models/scale/{n}_customers/peak_memory"),
            "value": m["peak_rss_kib"].as_f64().unwrap_or(f64::NAN) / 1024.0, "unit": "MiB",
            "note": format!("VmHWM of the process: {n} simulated summaries ({} bytes each), the fit and every score", std::mem::size_of::<regulars_models::Summary>()),
        }));
    }
    let report = serde_json::to_string_pretty(&rows).expect("JSON");
    println!("{report}");
    if let Some(dir) = std::env::var_os("REGULARS_BENCH_REPORTS") {
        std::fs::write(std::path::Path::new(&dir).join("models_scale.json"), report)
            .expect("writing the report");
    }
}

fn measure(n: usize) -> Value {
    let counts = BgNbd {
        r: 0.5,
        alpha: 20.0,
        a: 0.8,
        b: 2.5,
    };
    let spend = GammaGamma {
        p: 4.0,
        q: 5.0,
        v: 30.0,
    };
    let cohorts = Cohorts {
        min: 1.0,
        max: 730.0,
        step: 1.0,
    };
    let mut rows = simulate::bgnbd(&counts, n, &cohorts, 7);
    simulate::add_spend(&spend, &mut rows, 8);

    let start = Instant::now();
    let grouped = black_box(group_counts(&rows));
    let group_s = start.elapsed().as_secs_f64();
    let distinct_rows = grouped.len();
    drop(grouped);

    let start = Instant::now();
    let bg = BgNbd::fit(&rows, &FitOptions::default()).expect("BG/NBD fit");
    let bgnbd_fit_s = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let gg = GammaGamma::fit(&rows, &FitOptions::default()).expect("Gamma-Gamma fit");
    let gamma_gamma_fit_s = start.elapsed().as_secs_f64();

    let clv = ClvOptions {
        months: 12,
        monthly_discount: 0.01,
        units_per_month: 30.0,
    };
    let start = Instant::now();
    let scores = score_value(&bg.model, &gg.model, &rows, 90.0, &clv).expect("scores");
    let score_s = start.elapsed().as_secs_f64();
    let total_clv: f64 = scores.iter().map(|s| s.clv).sum();

    json!({
        "customers": n,
        "distinct_rows": distinct_rows,
        "group_s": group_s,
        "bgnbd_fit_s": bgnbd_fit_s,
        "gamma_gamma_fit_s": gamma_gamma_fit_s,
        "score_s": score_s,
        "peak_rss_kib": peak_rss_kib(),
        "bgnbd": bg.model.values(),
        "gamma_gamma": gg.model.values(),
        "total_clv": total_clv,
    })
}

/// VmHWM of this process in KiB, NaN where /proc is not available.
fn peak_rss_kib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(f64::NAN)
}
