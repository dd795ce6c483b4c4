//! What the suite benchmarks (`benches/*.rs`) share: latency summaries, the report
//! format read by `cargo xtask bench`, `pgbench` on a throwaway cluster, and the
//! in-process ingestion loop other measurements are compared with.

use crate::{FixtureResult, World};
use regulars_testkit::PgCluster;
use serde_json::{Value, json};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// How long each timed run lasts: `REGULARS_BENCH_SECS`, 5 seconds unless set.
pub fn seconds() -> u64 {
    std::env::var("REGULARS_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
}

/// What one measurement found.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    /// Completed operations per second of wall time.
    pub per_second: f64,
    /// Median latency of one operation, in milliseconds.
    pub p50_ms: f64,
    /// 99th-percentile latency, in milliseconds.
    pub p99_ms: f64,
    /// Operations completed.
    pub operations: usize,
}

/// Summarises the latencies of the operations completed in `elapsed` seconds.
pub fn summarise(mut latencies: Vec<Duration>, elapsed: f64) -> Throughput {
    latencies.sort();
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .map(|d| d.as_secs_f64() * 1e3)
            .unwrap_or(f64::NAN)
    };
    Throughput {
        per_second: if elapsed > 0.0 {
            latencies.len() as f64 / elapsed
        } else {
            f64::NAN
        },
        p50_ms: pick(0.5),
        p99_ms: pick(0.99),
        operations: latencies.len(),
    }
}

/// A peer figure: (name, value, unit, what it is).
pub type Peer<'a> = (&'a str, f64, &'a str, &'a str);

/// One report row in the format `cargo xtask bench` reads: our figure, its peer measured
/// in the same run, their ratio, and a note.
pub fn row(name: &str, value: f64, unit: &str, peer: Option<Peer<'_>>, note: &str) -> Value {
    let mut r = json!({"name": name, "value": value, "unit": unit, "note": note});
    if let Some((peer_name, peer_value, peer_unit, what)) = peer {
        r["peer"] =
            json!({"name": peer_name, "value": peer_value, "unit": peer_unit, "what": what});
        r["ratio"] = json!(if peer_value > 0.0 {
            value / peer_value
        } else {
            f64::NAN
        });
    }
    r
}

/// Prints the rows and writes them to `$REGULARS_BENCH_REPORTS/{file}` when that is set
/// (it is, under `cargo xtask bench`).
pub fn write_report(file: &str, rows: &[Value]) -> FixtureResult<()> {
    let table = serde_json::to_string_pretty(rows).map_err(|e| e.to_string())?;
    println!("{table}");
    if let Some(dir) = std::env::var_os("REGULARS_BENCH_REPORTS") {
        std::fs::write(std::path::Path::new(&dir).join(file), table)
            .map_err(|e| format!("writing {file}: {e}"))?;
    }
    Ok(())
}

/// Runs the cluster's own `pgbench` against database `db` and returns its output.
pub fn pgbench(cluster: &PgCluster, db: &str, args: &[&str]) -> FixtureResult<String> {
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

/// Transactions per second reported by `pgbench` (without initial connection time).
pub fn pgbench_tps(cluster: &PgCluster, db: &str, args: &[&str]) -> FixtureResult<f64> {
    let out = pgbench(cluster, db, args)?;
    out.lines()
        .find_map(|l| {
            l.strip_prefix("tps = ")
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
        })
        .ok_or_else(|| format!("no tps line in pgbench output:\n{out}"))
}

/// `pgbench` TPC-B and `-N` (simple update) for `clients` clients over `secs` seconds:
/// (TPC-B tps, -N tps). The database must have been initialised with `pgbench -i`.
pub fn pgbench_pair(
    cluster: &PgCluster,
    db: &str,
    clients: usize,
    secs: u64,
) -> FixtureResult<(f64, f64)> {
    let c = clients.to_string();
    let j = clients.min(2).to_string();
    let t = secs.to_string();
    let tpcb = pgbench_tps(cluster, db, &["-n", "-c", &c, "-j", &j, "-T", &t])?;
    let simple = pgbench_tps(cluster, db, &["-n", "-N", "-c", &c, "-j", &j, "-T", &t])?;
    Ok((tpcb, simple))
}

/// Calls `ingest_order` in process from `clients` concurrent tasks for `secs` seconds:
/// distinct orders of `lines(n)` line items for the `n`th order of a client, each client
/// serving its own 500 customers.
pub async fn ingest_in_process(
    world: Arc<World>,
    clients: usize,
    secs: u64,
    lines: fn(u64) -> usize,
) -> FixtureResult<Throughput> {
    ingest_in_process_as(world, "", clients, secs, lines).await
}

/// [`ingest_in_process`] with order ids that start with `run`: a second run on the
/// same world ingests new orders, not repeats of the first run's.
pub async fn ingest_in_process_as(
    world: Arc<World>,
    run: &str,
    clients: usize,
    secs: u64,
    lines: fn(u64) -> usize,
) -> FixtureResult<Throughput> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for client in 0..clients {
        let world = world.clone();
        let run = run.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let customer = client as u64 * 1_000_000 + n % 500;
                let id = format!("{run}k{clients}-c{client}-{n}");
                let o = crate::order(
                    world.brand,
                    &id,
                    customer,
                    OffsetDateTime::now_utc(),
                    lines(n),
                );
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
    Ok(summarise(latencies, started.elapsed().as_secs_f64()))
}

/// The release `regulars` binary next to the running bench: target/release/deps/<bench>
/// -> target/release/regulars (another profile's folder alike).
pub fn regulars_binary() -> FixtureResult<std::path::PathBuf> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let bin = exe
        .parent()
        .and_then(std::path::Path::parent)
        .map(|d| d.join(format!("regulars{}", std::env::consts::EXE_SUFFIX)))
        .ok_or("no target directory")?;
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!(
            "{} is missing: `cargo xtask bench` builds it (cargo build --release -p regulars)",
            bin.display()
        ))
    }
}
