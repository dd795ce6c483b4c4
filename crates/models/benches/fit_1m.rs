//! BG/NBD on 1,000,000 simulated customers against Python `lifetimes`, both as whole
//! processes from the same CSV file in the same run.
//!
//! The parent writes the summaries to a CSV file (`customer_id,frequency,recency,T`), then
//! times, from spawn to exit, (1) this same executable in child mode, which reads the file,
//! fits BG/NBD and prints the estimate, and (2) `python3 benches/lifetimes_once.py`, which
//! does the same with `lifetimes`' `BetaGeoFitter` (one row per customer). Each process
//! reports its own peak resident size (VmHWM, ru_maxrss). Without `lifetimes` the peer is
//! recorded as missing. Results go to `$REGULARS_BENCH_REPORTS/models_fit_1m.json`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rayon::prelude::*;
use regulars_models::simulate::{self, Cohorts};
use regulars_models::{BgNbd, FitOptions, Parameters, Summary};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Instant;

const CUSTOMERS: usize = 1_000_000;
const CHILD: &str = "REGULARS_FIT_CSV";

fn main() {
    if let Ok(path) = std::env::var(CHILD) {
        println!("{}", fit_file(Path::new(&path)));
        return;
    }
    // Criterion-style arguments (`--bench`, times) are not ours; ignore them.
    let csv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bgnbd_fit_1m.csv");
    let written = write_csv(&csv);
    // The child's reader must give back exactly the rows written (checked untimed).
    let read = read_rows(&std::fs::read(&csv).expect("reading the CSV back"));
    assert!(read == written, "the CSV reader changed the rows");

    let exe = std::env::current_exe().expect("own path");
    let (ours_s, ours) = timed(std::process::Command::new(&exe).env(CHILD, &csv));
    let ours = ours.expect("the fit child runs");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/lifetimes_once.py");
    let (py_s, peer) = timed(std::process::Command::new("python3").arg(&script).arg(&csv));
    let peer = peer.unwrap_or_else(|e| json!({"missing": e}));

    let ours_rss = ours["peak_rss_kib"].as_f64().unwrap_or(f64::NAN) / 1024.0;
    let mut row = json!({
        "name": "models/bgnbd_fit_1m_vs_lifetimes",
        "value": ours_s,
        "unit": "s",
    });
    if peer.get("params").is_some() {
        let mut worst = 0.0f64;
        let mut theirs = Vec::new();
        let mut mine = Vec::new();
        for (i, name) in BgNbd::NAMES.iter().enumerate() {
            let p = peer["params"][*name].as_f64().unwrap_or(f64::NAN);
            let o = ours["params"][i].as_f64().unwrap_or(f64::NAN);
            worst = worst.max((o - p).abs() / p.abs());
            theirs.push(format!("{name}={p:.4}"));
            mine.push(format!("{name}={o:.4}"));
        }
        let py_rss = peer["peak_rss_kib"].as_f64().unwrap_or(f64::NAN) / 1024.0;
        row["peer"] = json!({
            "name": format!("lifetimes {} BetaGeoFitter.fit", peer["version"].as_str().unwrap_or("?")),
            "value": py_s,
            "unit": "s",
            "what": "the same 1,000,000 customers from the same CSV, one row each, whole python3 process",
        });
        row["ratio"] = json!(ours_s / py_s);
        row["note"] = json!(format!(
            "whole processes, file to estimate; {:.1}× faster; peak RSS ours {ours_rss:.0} MiB, lifetimes {py_rss:.0} MiB; {} distinct rows on {} threads; ours: {}; lifetimes: {}; largest relative difference {worst:.1e}",
            py_s / ours_s,
            ours["distinct_rows"],
            ours["threads"],
            mine.join(" "),
            theirs.join(" "),
        ));
    } else {
        row["note"] = json!(format!(
            "peak RSS ours {ours_rss:.0} MiB; peer missing: {}",
            peer.get("missing")
                .and_then(Value::as_str)
                .unwrap_or("no result")
        ));
    }
    let report = serde_json::to_string_pretty(&json!([row])).expect("JSON");
    println!("{report}");
    if let Some(dir) = std::env::var_os("REGULARS_BENCH_REPORTS") {
        std::fs::write(Path::new(&dir).join("models_fit_1m.json"), report)
            .expect("writing the report");
    }
}

fn write_csv(path: &Path) -> Vec<Summary> {
    let truth = BgNbd {
        r: 0.5,
        alpha: 20.0,
        a: 0.8,
        b: 2.5,
    };
    let cohorts = Cohorts {
        min: 1.0,
        max: 730.0,
        step: 1.0,
    };
    let rows = simulate::bgnbd(&truth, CUSTOMERS, &cohorts, 11);
    let mut text = String::with_capacity(CUSTOMERS * 24);
    text.push_str("customer_id,frequency,recency,T\n");
    for (i, r) in rows.iter().enumerate() {
        text.push_str(&format!("{i},{},{},{}\n", r.frequency, r.recency, r.t));
    }
    std::fs::create_dir_all(path.parent().expect("a folder")).expect("the folder");
    std::fs::write(path, text).expect("writing the CSV");
    rows
}

/// Runs a process to its end: wall time from spawn to exit, and the JSON it printed.
fn timed(cmd: &mut std::process::Command) -> (f64, Result<Value, String>) {
    let start = Instant::now();
    let out = cmd.output();
    let seconds = start.elapsed().as_secs_f64();
    let result = match out {
        Ok(out) if out.status.success() => {
            serde_json::from_slice(&out.stdout).map_err(|e| format!("no JSON printed: {e}"))
        }
        Ok(out) => Err(format!(
            "failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Err(format!("cannot run: {e}")),
    };
    (seconds, result)
}

/// Child mode: the whole job from the file, as a process of its own.
fn fit_file(path: &Path) -> Value {
    let bytes = std::fs::read(path).expect("reading the CSV");
    let rows = read_rows(&bytes);
    drop(bytes);
    let fitted = BgNbd::fit(&rows, &FitOptions::default()).expect("BG/NBD fit");
    json!({
        "params": fitted.model.values(),
        "distinct_rows": fitted.stats.distinct_rows,
        "iterations": fitted.stats.iterations,
        "threads": rayon::current_num_threads(),
        "peak_rss_kib": peak_rss_kib(),
    })
}

/// The rows of `customer_id,frequency,recency,T` text: the body is cut into pieces at
/// line ends and the pieces are read on every core, byte by byte, without a string per
/// line; their rows are then joined in file order.
fn read_rows(bytes: &[u8]) -> Vec<Summary> {
    let body = match bytes.iter().position(|&b| b == b'\n') {
        Some(end) => &bytes[end + 1..],
        None => &[],
    };
    let pieces = 8 * rayon::current_num_threads();
    let mut cuts = vec![0];
    for p in 1..pieces {
        let at = (body.len() * p / pieces).max(*cuts.last().expect("a cut"));
        let end = body[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(body.len(), |i| at + i + 1);
        cuts.push(end);
    }
    cuts.push(body.len());
    let pieces: Vec<&[u8]> = cuts.windows(2).map(|w| &body[w[0]..w[1]]).collect();
    // Count each piece's rows first, so that they are read straight into their place.
    let counts: Vec<usize> = pieces.par_iter().map(|p| lines(p).count()).collect();
    let mut rows = vec![Summary::new(0.0, 0.0, 0.0); counts.iter().sum()];
    let mut slots = Vec::with_capacity(pieces.len());
    let mut rest = rows.as_mut_slice();
    for n in &counts {
        let (slot, tail) = rest.split_at_mut(*n);
        slots.push(slot);
        rest = tail;
    }
    pieces.into_par_iter().zip(slots).for_each(|(piece, slot)| {
        for (line, row) in lines(piece).zip(slot) {
            let mut fields = line.split(|&b| b == b',').skip(1).map(number);
            let mut next = || fields.next().expect("four fields");
            *row = Summary::new(next(), next(), next());
        }
    });
    rows
}

/// The non-empty lines of a piece, without their line ends.
fn lines(piece: &[u8]) -> impl Iterator<Item = &[u8]> {
    piece
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| !line.is_empty())
}

/// A field as a number: whole numbers of up to 15 digits (exact in an f64) directly,
/// anything else through the standard parser, so the value is the same either way.
fn number(field: &[u8]) -> f64 {
    if !field.is_empty() && field.len() <= 15 && field.iter().all(u8::is_ascii_digit) {
        let n = field.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
        return n as f64;
    }
    std::str::from_utf8(field)
        .expect("UTF-8")
        .trim()
        .parse()
        .expect("a number")
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
