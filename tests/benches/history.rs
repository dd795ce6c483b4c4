//! Cost of one accrual against the length of the customer's history: the same order for
//! a regular with 10,000 earlier ledger entries and for a brand-new customer, taken in
//! turns on the same store, median latency of each. The order path works from the stored
//! account state, so the ratio should stay near 1 whatever the history.
//!
//! SQLite file and a durable throwaway PostgreSQL cluster. The history is loaded with
//! `ingest_orders` (the import's batches). `REGULARS_BENCH_HISTORY` changes its length.
//!
//! Results go to `$REGULARS_BENCH_REPORTS/history.json` (set by `cargo xtask bench`).

use regulars_service::IMPORT_BATCH;
use regulars_store::StoreOptions;
use regulars_testkit::{PgCluster, PgOptions, SqliteFile};
use regulars_tests::bench::write_report;
use regulars_tests::{World, order, world};
use serde_json::Value;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

type BenchResult<T> = Result<T, String>;

/// Orders timed for each kind of customer.
const SAMPLES: usize = 200;
/// The regular's customer number; new customers count up from `NEW_FROM`.
const REGULAR: u64 = 1;
const NEW_FROM: u64 = 1_000_000;

fn main() {
    if let Err(e) = run() {
        eprintln!("history benchmark failed: {e}");
        std::process::exit(1);
    }
}

fn history_len() -> usize {
    std::env::var("REGULARS_BENCH_HISTORY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000)
}

fn run() -> BenchResult<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let history = history_len();
    let mut rows = Vec::new();
    let file = SqliteFile::new().map_err(|e| e.to_string())?;
    rows.push(rt.block_on(measure(
        "sqlite",
        &file.url(),
        StoreOptions::default(),
        history,
    ))?);
    let cluster =
        PgCluster::start_with(PgOptions::new().durable(true)).map_err(|e| e.to_string())?;
    let db = cluster
        .create_database("history")
        .map_err(|e| e.to_string())?;
    rows.push(rt.block_on(measure(
        "postgres",
        &db,
        StoreOptions::default().max_connections(4),
        history,
    ))?);
    write_report("history.json", &rows)
}

async fn measure(db: &str, url: &str, options: StoreOptions, history: usize) -> BenchResult<Value> {
    let w = world(url, options).await?;
    let loaded = Instant::now();
    load_history(&w, history).await?;
    let load_secs = loaded.elapsed().as_secs_f64();
    let (mut regular, mut new) = (Vec::new(), Vec::new());
    for i in 0..SAMPLES {
        let now = sample_time(i);
        let o = order(w.brand, &format!("R-{i}"), REGULAR, now, 5);
        regular.push(timed(&w, o).await?);
        let o = order(w.brand, &format!("N-{i}"), NEW_FROM + i as u64, now, 5);
        new.push(timed(&w, o).await?);
    }
    let (regular, new) = (median_ms(regular), median_ms(new));
    Ok(regulars_tests::bench::row(
        &format!("history/{db}/accrual_after_{history}_orders"),
        regular,
        "ms/order",
        Some((
            "accrual for a new customer",
            new,
            "ms/order",
            "the same 5-line order, taken in turns on the same store, same run",
        )),
        &format!(
            "median of {SAMPLES} each; the {history} earlier orders (one earn each, and the expiries of lots past their 365 days) loaded in {load_secs:.1} s \
             with ingest_orders"
        ),
    ))
}

/// Orders are placed this far apart (three a day at most), so the brand's daily cap
/// (150 points) never stops one of the 5-line orders timed: every
/// order earns and writes the same entries.
const SPACING: time::Duration = time::Duration::hours(8);

/// When the `i`-th timed order is placed: after the whole history, the last one a
/// little before now.
fn sample_time(i: usize) -> OffsetDateTime {
    OffsetDateTime::now_utc() - SPACING * (SAMPLES - i) as u32
}

/// Gives the regular `count` earlier orders (one ledger entry each, or two when the
/// order's sweep expires an old lot), oldest first, in the import's batches.
async fn load_history(w: &World, count: usize) -> BenchResult<()> {
    let start = sample_time(0) - SPACING * (count as u32 + 1);
    let orders: Vec<_> = (0..count)
        .map(|i| {
            let at = start + SPACING * i as u32;
            order(w.brand, &format!("H-{i}"), REGULAR, at, 1)
        })
        .collect();
    for batch in orders.chunks(IMPORT_BATCH) {
        for result in w.services.ingest_orders(w.brand, batch).await {
            result.map_err(|e| format!("history: {e}"))?;
        }
    }
    Ok(())
}

async fn timed(w: &World, o: regulars_domain::Order) -> BenchResult<Duration> {
    let t = Instant::now();
    let receipt = w
        .services
        .ingest_order(w.brand, o)
        .await
        .map_err(|e| e.to_string())?;
    if !receipt.points_earned.is_positive() {
        return Err(format!("the order earned nothing: {receipt:?}"));
    }
    Ok(t.elapsed())
}

fn median_ms(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples
        .get(samples.len() / 2)
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}
