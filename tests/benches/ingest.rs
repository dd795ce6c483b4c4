//! Order ingestion throughput: a POS order of 5 line items, earning rules applied, points
//! credited and everything committed, per second — on SQLite and on PostgreSQL, with one
//! client and with 16 concurrent clients.
//!
//! Each figure stands next to a peer measured in the same run on the same storage:
//! * PostgreSQL: `pgbench` TPC-B (5 statements per transaction) and `pgbench -N` (the
//!   simple-update variant, 3 statements) on the same throwaway, durable cluster;
//! * SQLite: a minimal write transaction (one insert and one update, committed) on a file
//!   with the same settings, through the same driver.
//!
//! Results go to `$REGULARS_BENCH_REPORTS/ingest.json` (set by `cargo xtask bench`).

use regulars_store::StoreOptions;
use regulars_testkit::{PgCluster, PgOptions, SqliteFile};
use regulars_tests::bench::{
    Throughput, ingest_in_process, pgbench, pgbench_pair, seconds, write_report,
};
use regulars_tests::world;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

type BenchResult<T> = Result<T, String>;

/// Line items of every order.
fn five_lines(_: u64) -> usize {
    5
}

fn main() {
    if let Err(e) = run() {
        eprintln!("ingest benchmark failed: {e}");
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

    // SQLite: the embedded default.
    let file = SqliteFile::new().map_err(|e| e.to_string())?;
    let peer_file = SqliteFile::new().map_err(|e| e.to_string())?;
    for clients in [1, 16] {
        let ours = rt.block_on(ingest(&file.url(), StoreOptions::default(), clients, secs))?;
        let peer = rt.block_on(sqlite_minimal_tx(&peer_file.url(), clients, secs))?;
        rows.push(row(
            &format!("ingest/sqlite/{clients}_clients"),
            &ours,
            (
                "sqlite/insert+update_tx",
                peer,
                "a minimal write transaction on the same kind of file",
            ),
        ));
    }

    // PostgreSQL: a durable throwaway cluster, shared with pgbench.
    let cluster = PgCluster::start_with(PgOptions::new().durable(true).max_connections(100))
        .map_err(|e| e.to_string())?;
    let ours_db = cluster
        .create_database("ingest")
        .map_err(|e| e.to_string())?;
    let bench_db = cluster
        .create_database("pgbench")
        .map_err(|e| e.to_string())?;
    let bench_name = bench_db.rsplit('/').next().unwrap_or("pgbench").to_owned();
    pgbench(&cluster, &bench_name, &["-i", "-q", "-s", "16"])?;
    for clients in [1, 16] {
        let ours = rt.block_on(ingest(
            &ours_db,
            StoreOptions::default().max_connections(clients as u32 + 2),
            clients,
            secs,
        ))?;
        let (tpcb, simple) = pgbench_pair(&cluster, &bench_name, clients, secs)?;
        rows.push(row(
            &format!("ingest/postgres/{clients}_clients"),
            &ours,
            (
                "pgbench TPC-B",
                tpcb,
                "same cluster, same run, same client count",
            ),
        ));
        rows.push(row(
            &format!("ingest/postgres/{clients}_clients"),
            &ours,
            (
                "pgbench -N",
                simple,
                "simple-update TPC-B variant, same cluster",
            ),
        ));
    }

    write_report("ingest.json", &rows)
}

fn row(name: &str, ours: &Throughput, peer: (&str, f64, &str)) -> Value {
    regulars_tests::bench::row(
        name,
        ours.per_second,
        "orders/s",
        Some((peer.0, peer.1, "tx/s", peer.2)),
        &format!(
            "{} orders, p50 {:.2} ms, p99 {:.2} ms per order",
            ours.operations, ours.p50_ms, ours.p99_ms
        ),
    )
}

/// Ingests orders of 5 lines from `clients` concurrent tasks for `secs` seconds on a
/// fresh brand.
async fn ingest(
    url: &str,
    options: StoreOptions,
    clients: usize,
    secs: u64,
) -> BenchResult<Throughput> {
    let world = Arc::new(world(url, options).await?);
    ingest_in_process(world, clients, secs, five_lines).await
}

/// The SQLite peer: `BEGIN IMMEDIATE; INSERT; UPDATE; COMMIT` with the store's settings.
async fn sqlite_minimal_tx(url: &str, clients: usize, secs: u64) -> BenchResult<f64> {
    use sea_orm::{ConnectOptions, ConnectionTrait, Database};
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(1)
        .min_connections(1)
        .sqlx_logging(false);
    let db = Arc::new(
        Database::connect(options)
            .await
            .map_err(|e| e.to_string())?,
    );
    for stmt in [
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=FULL",
        "CREATE TABLE IF NOT EXISTS history (id INTEGER PRIMARY KEY, account INTEGER, delta INTEGER)",
        "CREATE TABLE IF NOT EXISTS accounts (id INTEGER PRIMARY KEY, balance INTEGER)",
        "INSERT OR IGNORE INTO accounts (id, balance) SELECT value, 0 FROM json_each('[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]')",
    ] {
        db.execute_unprepared(stmt)
            .await
            .map_err(|e| e.to_string())?;
    }
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0usize;
            while Instant::now() < deadline {
                let sql = format!(
                    "BEGIN IMMEDIATE; INSERT INTO history (account, delta) VALUES ({client}, 1); \
                     UPDATE accounts SET balance = balance + 1 WHERE id = {client}; COMMIT;"
                );
                db.execute_unprepared(&sql)
                    .await
                    .map_err(|e| e.to_string())?;
                done += 1;
            }
            Ok::<_, String>(done)
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.map_err(|e| e.to_string())??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}
