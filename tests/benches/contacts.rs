//! Contact data sealed at rest against plain columns: the till's look-up by phone and an
//! accrual (a POS order of 5 line items ingested for a known customer), on SQLite and on
//! PostgreSQL, one client.
//!
//! The peer of each figure is the same work on plain contact columns (a store given no
//! contact keys), on a fresh database of the same kind, in the same run; each figure is
//! measured in two halves, plain–sealed–sealed–plain, so that neither gets the warmer
//! machine. The target is a ratio of
//! at least 0.91 (sealed takes at most 1.1× the time).
//!
//! Results go to `$REGULARS_BENCH_REPORTS/contacts.json` (set by `cargo xtask bench`).

use regulars_service::{SecretKey, SecretKeys};
use regulars_store::StoreOptions;
use regulars_testkit::{PgCluster, PgOptions, SqliteFile};
use regulars_tests::bench::{Throughput, ingest_in_process_as, seconds, summarise, write_report};
use regulars_tests::{World, phone, sms_customer, world_with_keys};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

type BenchResult<T> = Result<T, String>;

/// Customers the single client's orders and look-ups cycle through.
const CUSTOMERS: u64 = 500;

fn five_lines(_: u64) -> usize {
    5
}

fn main() {
    if let Err(e) = run() {
        eprintln!("contacts benchmark failed: {e}");
        std::process::exit(1);
    }
}

fn run() -> BenchResult<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let secs = seconds();
    let mut rows = Vec::new();

    let plain_file = SqliteFile::new().map_err(|e| e.to_string())?;
    let sealed_file = SqliteFile::new().map_err(|e| e.to_string())?;
    rows.extend(rt.block_on(compare(
        "sqlite",
        (&plain_file.url(), &sealed_file.url()),
        StoreOptions::default(),
        secs,
    ))?);

    let cluster = PgCluster::start_with(PgOptions::new().durable(true).max_connections(40))
        .map_err(|e| e.to_string())?;
    let plain_db = cluster
        .create_database("plain")
        .map_err(|e| e.to_string())?;
    let sealed_db = cluster
        .create_database("sealed")
        .map_err(|e| e.to_string())?;
    rows.extend(rt.block_on(compare(
        "postgres",
        (&plain_db, &sealed_db),
        StoreOptions::default().max_connections(4),
        secs,
    ))?);
    write_report("contacts.json", &rows)
}

/// Accrual and look-up on plain columns (`urls.0`) and sealed ones (`urls.1`).
async fn compare(
    db: &str,
    urls: (&str, &str),
    options: StoreOptions,
    secs: u64,
) -> BenchResult<Vec<Value>> {
    let plain = Arc::new(world(urls.0, options.clone(), false).await?);
    let sealed = Arc::new(world(urls.1, options, true).await?);
    // The customers the orders and look-ups find.
    for world in [&plain, &sealed] {
        for n in 0..CUSTOMERS {
            sms_customer(&world.services, world.brand, n, "Khách").await?;
        }
    }
    // Each figure in two halves, plain–sealed–sealed–plain, so that a machine getting
    // busier or quieter during the run weighs on both alike.
    let half = secs.div_ceil(2).max(1);
    let plain_accrual_a = ingest_in_process_as(plain.clone(), "a", 1, half, five_lines).await?;
    let sealed_accrual_a = ingest_in_process_as(sealed.clone(), "a", 1, half, five_lines).await?;
    let sealed_accrual_b = ingest_in_process_as(sealed.clone(), "b", 1, half, five_lines).await?;
    let plain_accrual_b = ingest_in_process_as(plain.clone(), "b", 1, half, five_lines).await?;
    let plain_lookup_a = lookups(&plain, half).await?;
    let sealed_lookup_a = lookups(&sealed, half).await?;
    let sealed_lookup_b = lookups(&sealed, half).await?;
    let plain_lookup_b = lookups(&plain, half).await?;
    let plain_accrual = merge(&plain_accrual_a, &plain_accrual_b);
    let sealed_accrual = merge(&sealed_accrual_a, &sealed_accrual_b);
    let plain_lookup = merge(&plain_lookup_a, &plain_lookup_b);
    let sealed_lookup = merge(&sealed_lookup_a, &sealed_lookup_b);
    Ok(vec![
        row(
            &format!("contacts/{db}/lookup_by_phone"),
            &sealed_lookup,
            plain_lookup.per_second,
            "look-ups/s",
        ),
        row(
            &format!("contacts/{db}/accrual"),
            &sealed_accrual,
            plain_accrual.per_second,
            "orders/s",
        ),
    ])
}

/// Two halves of one figure as one: operations over the time of both; the latency
/// percentiles are the halves' weighted by their operations.
fn merge(a: &Throughput, b: &Throughput) -> Throughput {
    let operations = a.operations + b.operations;
    let seconds = |t: &Throughput| {
        if t.per_second > 0.0 {
            t.operations as f64 / t.per_second
        } else {
            0.0
        }
    };
    let elapsed = seconds(a) + seconds(b);
    let weighted = |x: f64, y: f64| {
        if operations == 0 {
            f64::NAN
        } else {
            (x * a.operations as f64 + y * b.operations as f64) / operations as f64
        }
    };
    Throughput {
        per_second: if elapsed > 0.0 {
            operations as f64 / elapsed
        } else {
            f64::NAN
        },
        p50_ms: weighted(a.p50_ms, b.p50_ms),
        p99_ms: weighted(a.p99_ms, b.p99_ms),
        operations,
    }
}

fn row(name: &str, sealed: &Throughput, plain: f64, unit: &str) -> Value {
    regulars_tests::bench::row(
        name,
        sealed.per_second,
        unit,
        Some((
            "plain contact columns",
            plain,
            unit,
            "the same work on a store given no contact keys, fresh database of the same kind, same run",
        )),
        &format!(
            "{} operations in two halves (plain, sealed, sealed, plain), p50 {:.3} ms, p99 {:.3} ms; sealed takes {:.2}× the plain time",
            sealed.operations,
            sealed.p50_ms,
            sealed.p99_ms,
            if sealed.per_second > 0.0 {
                plain / sealed.per_second
            } else {
                f64::NAN
            }
        ),
    )
}

/// A brand with the bubble-tea rules on a fresh store; contact data sealed when `sealed`.
async fn world(url: &str, options: StoreOptions, sealed: bool) -> BenchResult<World> {
    let keys = SecretKeys::new(SecretKey::from_bytes([0x42; 32]));
    world_with_keys(url, options, sealed.then_some(&keys)).await
}

/// The till's look-up by phone (`GET /v1/customers/lookup` without HTTP: the customer,
/// balance, vouchers and rewards), cycling through the customers for `secs` seconds.
async fn lookups(world: &World, secs: u64) -> BenchResult<Throughput> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let mut latencies = Vec::new();
    let mut n = 0u64;
    while Instant::now() < deadline {
        let customer = phone(n % CUSTOMERS);
        n += 1;
        let t = Instant::now();
        world
            .services
            .customer_lookup(world.brand, customer.as_str())
            .await
            .map_err(|e| format!("look-up {customer}: {e}"))?;
        latencies.push(t.elapsed());
    }
    Ok(summarise(latencies, started.elapsed().as_secs_f64()))
}
