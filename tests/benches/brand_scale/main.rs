//! A chain's nightly work on one large brand on PostgreSQL: the scoring job from stored
//! data (`regulars score`, the release binary run as its own process), the overview of
//! the last 90 days, a live segment count and a campaign run over every customer with
//! its writes — each timed, each with the peak resident memory of the process doing it.
//!
//! The brand: `REGULARS_BENCH_SCALE_CUSTOMERS` customers (1,000,000 unless set) with
//! `REGULARS_BENCH_SCALE_VISITS` orders each on average (10 unless set), generated from a
//! fixed seed. How it is loaded:
//! * a *seed slice* of at most `REGULARS_BENCH_SCALE_SEED` customers (2,000 unless set)
//!   is written as a history CSV and imported by `regulars import orders` (the real
//!   import, every rule applied) — visit counts heavy-tailed (most customers come a few
//!   times, some every few days), lapsed customers, lunch and evening peaks, 1–3 lines
//!   from an 8-item menu, a home shop for most visits, 70 % with SMS and profiling
//!   consent;
//! * the rest are copies of the slice made inside PostgreSQL (plain column-wise
//!   `INSERT … SELECT` over `generate_series`, in chunks, with the tables' keys and
//!   indexes dropped before and re-created identically after: see `copy.rs`): each copy
//!   gets new ids, its own phone numbers and order ids, and its history shifted back by
//!   0–28 days. Copies carry customers, their statistics, orders and lines — what the
//!   measured paths read — but no ledger (their balance is zero) and no idempotency
//!   records. The import is far from `COPY` speed today (about 500 orders/s); ten
//!   million orders through it would take hours.
//!
//! The cluster is the testkit's (durability off) with `max_wal_size` raised to 4 GB so
//! the load does not checkpoint every few seconds. Each load phase's time is printed and
//! kept in the `load_seconds` row.
//!
//! Peak memory: `VmHWM` from `/proc/PID/status`, polled every 20 ms for the `score`
//! process; for the in-process measurements the bench resets its own peak
//! (`/proc/self/clear_refs`) before each and reads it after.
//!
//! Each row's peer is the bound the brand must stay within (the ratio is the share of it
//! used). Results go to `$REGULARS_BENCH_REPORTS/brand_scale.json`.

mod copy;
mod seed;

use copy::{Psql, consent_sql, copy_slice};
use regulars::system::{OsIdGen, SystemClock};
use regulars_domain::BrandId;
use regulars_reports::Interval;
use regulars_service::{CampaignAction, Services};
use regulars_store::StoreOptions;
use regulars_testkit::{PgCluster, PgOptions};
use regulars_tests::bench::{row, write_report};
use regulars_tests::world;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

pub(crate) type BenchResult<T> = Result<T, String>;

/// The bounds the brand must stay within (the rows' peers).
const SCORE_BOUND_S: f64 = 600.0;
const SCORE_BOUND_MIB: f64 = 2048.0;
const OVERVIEW_BOUND_S: f64 = 2.0;
const CAMPAIGN_BOUND_S: f64 = 300.0;

/// The segment counted live.
const SEGMENT_RULE: &str = "recency_days > 60 and frequency >= 5";

fn main() {
    if let Err(e) = run() {
        eprintln!("brand_scale benchmark failed: {e}");
        std::process::exit(1);
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// The brand's shape: seed slice and copies.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    pub(crate) seed: u64,
    pub(crate) copies: u64,
    pub(crate) visits: u64,
}

impl Shape {
    fn from_env() -> Shape {
        let customers = env_or("REGULARS_BENCH_SCALE_CUSTOMERS", 1_000_000).max(1);
        let seed = env_or("REGULARS_BENCH_SCALE_SEED", 2_000).clamp(1, 9_999);
        let seed = seed.min(customers);
        Shape {
            seed,
            copies: customers.div_ceil(seed) - 1,
            visits: env_or("REGULARS_BENCH_SCALE_VISITS", 10).max(1),
        }
    }
}

fn run() -> BenchResult<()> {
    let shape = Shape::from_env();
    let binary = regulars_tests::bench::regulars_binary()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let cluster = PgCluster::start_with(PgOptions::new().setting("max_wal_size", "4GB"))
        .map_err(|e| e.to_string())?;
    let url = cluster
        .create_database("brand_scale")
        .map_err(|e| e.to_string())?;
    let db = url.rsplit('/').next().unwrap_or("brand_scale").to_owned();
    let psql = Psql {
        cluster: &cluster,
        db: &db,
    };
    let w = rt.block_on(world(&url, StoreOptions::default().max_connections(4)))?;
    let brand = w.brand;
    let (scale, load, mut rows) = load(&psql, &binary, &url, brand, shape)?;
    rows.extend(score_rows(&binary, &url, brand, &scale, &load)?);
    let services = || Services::new(w.store.clone(), Arc::new(SystemClock), Arc::new(OsIdGen));
    rows.extend(rt.block_on(in_process_rows(services, brand, &scale))?);
    write_report("brand_scale.json", &rows)
}

/// Loads the brand: (the scale in row names, a sentence on the load, the load's row).
fn load(
    psql: &Psql<'_>,
    binary: &Path,
    url: &str,
    brand: BrandId,
    shape: Shape,
) -> BenchResult<(String, String, Vec<Value>)> {
    let started = Instant::now();
    let (orders, import_s) = seed::import_seed(binary, url, brand, shape)?;
    println!("brand_scale: load phase seed slice imported: {import_s:.1} s");
    psql.run(&consent_sql(brand))?;
    let phases = copy_slice(psql, brand, shape)?;
    let load_s = started.elapsed().as_secs_f64();
    let counted = psql.run(&format!(
        "SELECT (SELECT count(*) FROM customers WHERE brand_id = '{brand}') || ' ' || \
         (SELECT count(*) FROM orders WHERE brand_id = '{brand}')"
    ))?;
    let (customers, total_orders) = parse_counts(&counted)?;
    let phases: Vec<String> = phases
        .iter()
        .map(|(name, seconds)| format!("{name} {seconds:.1} s"))
        .collect();
    let load = format!(
        "brand of {customers} customers and {total_orders} orders loaded in {load_s:.0} s: \
         seed slice of {} customers ({orders} orders) through `regulars import orders` in \
         {import_s:.1} s, {} copies of it made in PostgreSQL ({})",
        shape.seed,
        shape.copies,
        phases.join(", "),
    );
    println!("brand_scale: {load}");
    let scale = format!("{customers}_customers");
    let rows = vec![row(
        &format!("brand_scale/postgres/{scale}/load_seconds"),
        load_s,
        "s",
        None,
        &load,
    )];
    Ok((scale, load, rows))
}

/// The scoring job as its own process: its time and its peak memory.
fn score_rows(
    binary: &Path,
    url: &str,
    brand: BrandId,
    scale: &str,
    load: &str,
) -> BenchResult<Vec<Value>> {
    let (score_s, score_mib, out) = score(binary, url, brand)?;
    Ok(vec![
        row(
            &format!("brand_scale/postgres/{scale}/score_seconds"),
            score_s,
            "s",
            Some(("bound", SCORE_BOUND_S, "s", "the issue's bound: 10 min")),
            &format!("`regulars score --brand`, whole process; {out}; {load}"),
        ),
        row(
            &format!("brand_scale/postgres/{scale}/score_peak_rss"),
            score_mib,
            "MiB",
            Some(("bound", SCORE_BOUND_MIB, "MiB", "the issue's bound: 2 GiB")),
            "VmHWM of the `regulars score` process, polled every 20 ms",
        ),
    ])
}

/// The overview, the segment count and the campaign run in this process, each on fresh
/// services (no cached counts).
async fn in_process_rows(
    fresh: impl Fn() -> Services,
    brand: BrandId,
    scale: &str,
) -> BenchResult<Vec<Value>> {
    let (overview_s, overview_mib, note) = measured(overview(fresh(), brand)).await?;
    let mut rows = vec![row(
        &format!("brand_scale/postgres/{scale}/overview_90_days"),
        overview_s,
        "s",
        Some(("bound", OVERVIEW_BOUND_S, "s", "the issue's bound: 2 s")),
        &format!(
            "report_overview of the last 90 days by week: {note}; \
             bench process peak RSS {overview_mib:.0} MiB"
        ),
    )];
    let (segment_s, segment_mib, note) = measured(segment(fresh(), brand)).await?;
    rows.push(row(
        &format!("brand_scale/postgres/{scale}/segment_live_count"),
        segment_s,
        "s",
        None,
        &format!(
            "saving a custom segment and counting it live over every stored score: {note}; \
             bench process peak RSS {segment_mib:.0} MiB"
        ),
    ));
    let (campaign_s, campaign_mib, note) = measured(campaign(fresh(), brand)).await?;
    rows.push(row(
        &format!("brand_scale/postgres/{scale}/campaign_run"),
        campaign_s,
        "s",
        Some(("bound", CAMPAIGN_BOUND_S, "s", "the issue's bound: 5 min")),
        &format!(
            "run_campaigns: an SMS broadcast of bonus points to every customer, 10 % held \
             out, messages written to the outbox: {note}; bench process peak RSS \
             {campaign_mib:.0} MiB"
        ),
    ));
    rows.push(row(
        &format!("brand_scale/postgres/{scale}/in_process_peak_rss"),
        overview_mib.max(segment_mib).max(campaign_mib),
        "MiB",
        None,
        "the bench process's peak RSS over the overview, the segment count and the campaign \
         run (the largest of the three)",
    ));
    Ok(rows)
}

async fn overview(services: Services, brand: BrandId) -> BenchResult<String> {
    let today = OffsetDateTime::now_utc().date();
    let from = today - time::Duration::days(89);
    let (_, overview) = services
        .report_overview(brand, Some(from), None, Interval::Week)
        .await
        .map_err(|e| format!("overview: {e}"))?;
    Ok(format!(
        "{} orders, {} active customers, {} returning",
        overview.orders, overview.active_customers, overview.returning_customers
    ))
}

async fn segment(services: Services, brand: BrandId) -> BenchResult<String> {
    let view = services
        .save_segment(brand, None, "Lapsed regulars", SEGMENT_RULE)
        .await
        .map_err(|e| format!("segment: {e}"))?;
    Ok(format!(
        "{} customers match `{SEGMENT_RULE}`",
        view.live_count
    ))
}

async fn campaign(services: Services, brand: BrandId) -> BenchResult<String> {
    let record = services
        .create_campaign(
            brand,
            &json!({"name": "Tặng điểm", "trigger": {"type": "broadcast"},
                "offer": {"type": "bonus_points", "points": 20},
                "channels": ["sms"], "holdout": 0.1, "frequency_cap": null}),
        )
        .await
        .map_err(|e| format!("campaign: {e}"))?;
    services
        .set_campaign_status(brand, record.id, CampaignAction::Launch)
        .await
        .map_err(|e| format!("launch: {e}"))?;
    let reports = services
        .run_campaigns(brand)
        .await
        .map_err(|e| format!("run: {e}"))?;
    let r = reports.first().ok_or("no campaign ran")?;
    Ok(format!(
        "{} customers planned, {} messages written, {} held out, skipped {:?}",
        r.customers, r.messages, r.held_out, r.skipped
    ))
}

fn parse_counts(text: &str) -> BenchResult<(u64, u64)> {
    let mut parts = text.split_whitespace().map(str::parse::<u64>);
    match (parts.next(), parts.next()) {
        (Some(Ok(c)), Some(Ok(o))) => Ok((c, o)),
        _ => Err(format!("cannot read the counts from {text:?}")),
    }
}

/// Runs `work` timed, with this process's peak RSS reset before and read after.
async fn measured(
    work: impl std::future::Future<Output = BenchResult<String>>,
) -> BenchResult<(f64, f64, String)> {
    // "5" resets the peak resident set size (VmHWM) of the process.
    std::fs::write("/proc/self/clear_refs", "5").map_err(|e| format!("clear_refs: {e}"))?;
    let started = Instant::now();
    let note = work.await?;
    let seconds = started.elapsed().as_secs_f64();
    let mib = memory_mib(std::process::id(), "VmHWM")?;
    println!("brand_scale: {seconds:.2} s, {mib:.0} MiB: {note}");
    Ok((seconds, mib, note))
}

/// `regulars score --brand` as a process: (seconds, peak MiB, the line that says how
/// many customers it scored).
fn score(binary: &Path, url: &str, brand: BrandId) -> BenchResult<(f64, f64, String)> {
    let started = Instant::now();
    let mut child = Command::new(binary)
        .args(["score", "--brand", &brand.to_string()])
        .env("DATABASE_URL", url)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("run {}: {e}", binary.display()))?;
    let pid = child.id();
    let mut peak = 0.0f64;
    loop {
        if let Ok(mib) = memory_mib(pid, "VmHWM") {
            peak = peak.max(mib);
        }
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!(
            "regulars score failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let last = text
        .lines()
        .find(|l| l.contains("customers scored"))
        .unwrap_or_default()
        .trim()
        .to_owned();
    println!("brand_scale: score {seconds:.1} s, {peak:.0} MiB: {last}");
    Ok((seconds, peak, last))
}

/// A field of `/proc/PID/status` in MiB (`VmRSS`, `VmHWM`).
fn memory_mib(pid: u32, field: &str) -> BenchResult<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kib| kib / 1024.0)
        .ok_or_else(|| format!("no {field} in /proc/{pid}/status"))
}
