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
use regulars_tests::{order, world};
use serde_json::{Value, json};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

type BenchResult<T> = Result<T, String>;

fn main() {
    if let Err(e) = run() {
        eprintln!("ingest benchmark failed: {e}");
        std::process::exit(1);
    }
}

fn seconds() -> u64 {
    std::env::var("REGULARS_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
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
        let c = clients.to_string();
        let j = clients.min(2).to_string();
        let t = secs.to_string();
        let tpcb = pgbench_tps(&cluster, &bench_name, &["-n", "-c", &c, "-j", &j, "-T", &t])?;
        let simple = pgbench_tps(
            &cluster,
            &bench_name,
            &["-n", "-N", "-c", &c, "-j", &j, "-T", &t],
        )?;
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

    let table = serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?;
    println!("{table}");
    if let Some(dir) = std::env::var_os("REGULARS_BENCH_REPORTS") {
        std::fs::write(std::path::Path::new(&dir).join("ingest.json"), table)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// What one measurement found.
struct Throughput {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    operations: usize,
}

fn row(name: &str, ours: &Throughput, peer: (&str, f64, &str)) -> Value {
    json!({
        "name": name,
        "value": ours.per_second,
        "unit": "orders/s",
        "peer": {"name": peer.0, "value": peer.1, "unit": "tx/s", "what": peer.2},
        "ratio": if peer.1 > 0.0 { ours.per_second / peer.1 } else { f64::NAN },
        "note": format!(
            "{} orders, p50 {:.2} ms, p99 {:.2} ms per order",
            ours.operations, ours.p50_ms, ours.p99_ms
        ),
    })
}

/// Ingests orders from `clients` concurrent tasks for `secs` seconds on a fresh brand.
async fn ingest(
    url: &str,
    options: StoreOptions,
    clients: usize,
    secs: u64,
) -> BenchResult<Throughput> {
    let world = Arc::new(world(url, options).await?);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for client in 0..clients {
        let world = world.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                // Each client serves its own 500 customers, as tills of different shops do.
                let customer = client as u64 * 1_000_000 + n % 500;
                let id = format!("c{client}-{n}");
                let o = order(world.brand, &id, customer, OffsetDateTime::now_utc(), 5);
                let t = Instant::now();
                world
                    .services
                    .ingest_order(world.brand, o)
                    .await
                    .map_err(|e| format!("ingest {id}: {e}"))?;
                latencies.push(t.elapsed());
            }
            Ok::<_, String>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.map_err(|e| e.to_string())??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(summarise(latencies, elapsed))
}

fn summarise(mut latencies: Vec<Duration>, elapsed: f64) -> Throughput {
    latencies.sort();
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .map(|d| d.as_secs_f64() * 1e3)
            .unwrap_or(f64::NAN)
    };
    Throughput {
        per_second: latencies.len() as f64 / elapsed,
        p50_ms: pick(0.5),
        p99_ms: pick(0.99),
        operations: latencies.len(),
    }
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
        "PRAGMA synchronous=NORMAL",
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

fn pgbench(cluster: &PgCluster, db: &str, args: &[&str]) -> BenchResult<String> {
    let port = cluster.port().to_string();
    let out = Command::new(cluster.bin("pgbench"))
        .args(["-h", "127.0.0.1", "-p", &port, "-U", "postgres"])
        .args(args)
        .arg(db)
        .output()
        .map_err(|e| format!("cannot run pgbench: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "pgbench {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// TPS reported by pgbench (without initial connection time).
fn pgbench_tps(cluster: &PgCluster, db: &str, args: &[&str]) -> BenchResult<f64> {
    let out = pgbench(cluster, db, args)?;
    out.lines()
        .find_map(|l| {
            l.strip_prefix("tps = ")
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
        })
        .ok_or_else(|| format!("no tps line in pgbench output:\n{out}"))
}
