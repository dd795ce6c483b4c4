//! A short day of POS traffic (`regulars_tests::load`) against the real `regulars serve`
//! process (the release build `cargo xtask bench` makes) on SQLite: 100 locations, their
//! orders with lunch and evening peaks, refunds, duplicate deliveries and vouchers,
//! offered faster than the server can answer, so it runs at saturation.
//!
//! Recorded, each next to a peer measured in the same run:
//! * throughput and p99 latency of the day, against the same number of `GET /healthz`
//!   requests with the same concurrency on the same server (the HTTP floor: what actix,
//!   the middleware and loopback cost with no database and no JSON);
//! * the server's memory (`VmHWM`, the peak resident set, from `/proc/PID/status`) under
//!   that load, against its resident set at rest after start-up.
//!
//! Afterwards `regulars check-ledger` must find every balance equal to its ledger, and no
//! request may have failed; otherwise the benchmark fails.
//!
//! Results go to `$REGULARS_BENCH_REPORTS/load.json`.

use regulars_testkit::SqliteFile;
use regulars_tests::bench::{row, seconds, summarise, write_report};
use regulars_tests::load::{DayPlan, Target, check_ledger, plan, prepare, replay};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

type BenchResult<T> = Result<T, String>;

const CONCURRENCY: usize = 32;

fn main() {
    if let Err(e) = run() {
        eprintln!("load benchmark failed: {e}");
        std::process::exit(1);
    }
}

fn regulars(binary: &Path, url: &str) -> Command {
    let mut command = Command::new(binary);
    for (name, _) in std::env::vars_os() {
        let text = name.to_string_lossy();
        if text.starts_with("REGULARS_") || text == "DATABASE_URL" || text == "RUST_LOG" {
            command.env_remove(&name);
        }
    }
    command
        .stdin(Stdio::null())
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn");
    command
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(binary: &Path, url: &str) -> BenchResult<Server> {
    let mut child = regulars(binary, url)
        .arg("serve")
        .env("REGULARS_LISTEN", "127.0.0.1:0")
        .env("REGULARS_SECRET_KEY", "5a".repeat(32))
        .env("REGULARS_RATE_LIMIT_PER_SECOND", "0")
        .env("REGULARS_SCORING_INTERVAL_HOURS", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("start regulars serve: {e}"))?;
    let mut stderr = child.stderr.take().ok_or("stderr")?;
    std::thread::spawn(move || {
        let mut sink = String::new();
        let _ = stderr.read_to_string(&mut sink);
    });
    let mut stdout = BufReader::new(child.stdout.take().ok_or("stdout")?);
    let mut line = String::new();
    let _ = stdout.read_line(&mut line);
    std::thread::spawn(move || {
        let mut sink = String::new();
        let _ = stdout.read_to_string(&mut sink);
    });
    let port = line
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|p| p.parse::<u16>().ok());
    let mut server = Server {
        child,
        base: String::new(),
    };
    // Dropping `server` on the error path stops the process.
    let port = port.ok_or_else(|| format!("regulars serve printed no port: {line:?}"))?;
    server.base = format!("http://127.0.0.1:{port}");
    Ok(server)
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

/// `requests` GETs of `/healthz` by `CONCURRENCY` clients as fast as they go.
async fn healthz_floor(
    client: &reqwest::Client,
    base: &str,
    requests: usize,
) -> BenchResult<regulars_tests::bench::Throughput> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let url = Arc::new(format!("{base}/healthz"));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, next, url) = (client.clone(), next.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < requests {
                let sent = Instant::now();
                let ok = client
                    .get(url.as_str())
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if !ok {
                    return Err("GET /healthz failed".to_owned());
                }
                latencies.push(sent.elapsed());
            }
            Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.map_err(|e| e.to_string())??);
    }
    Ok(summarise(latencies, started.elapsed().as_secs_f64()))
}

fn run() -> BenchResult<()> {
    let binary = regulars_tests::bench::regulars_binary()?;
    let db = SqliteFile::new().map_err(|e| e.to_string())?;
    let url = db.url();
    let rules =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/bubble-tea.rules.json");
    let created = regulars(&binary, &url)
        .args(["brand", "create", "--name", "Load tea", "--rules"])
        .arg(&rules)
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&created.stdout).into_owned();
    let admin_key = text
        .lines()
        .find_map(|l| l.strip_prefix("admin key:"))
        .map(|k| k.trim().to_owned())
        .ok_or_else(|| format!("no admin key: {text}"))?;
    let server = start(&binary, &url)?;
    let pid = server.child.id();
    let target = Target {
        base: server.base.clone(),
        admin_key,
    };
    let day = DayPlan {
        locations: 100,
        orders_per_location: 20,
        ..DayPlan::default()
    };
    let planned = plan(&day);
    // The whole day in a fifth of the bench's time unit (1 s by default): about 2,000
    // requests a second offered, more than the server takes on SQLite here, so the
    // figure is its capacity under this mix and the p99 includes the queue.
    let wall = Duration::from_millis(200 * seconds());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .map_err(|e| e.to_string())?;
    let (rest_mib, report, floor) = rt.block_on(async {
        let setup = prepare(&client, &target).await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rest_mib = memory_mib(pid, "VmRSS")?;
        let report = replay(&client, &target, &setup, &planned, wall, CONCURRENCY).await?;
        let floor = healthz_floor(&client, &target.base, report.sent).await?;
        BenchResult::Ok((rest_mib, report, floor))
    })?;
    let peak_mib = memory_mib(pid, "VmHWM")?;
    drop(server);
    println!("load: {}", report.summary());
    let ledger = check_ledger(&binary, &url)?;
    println!("load: check-ledger: {ledger}");
    if report.errors > 0 {
        return Err(format!(
            "{} requests failed: {}",
            report.errors,
            report.summary()
        ));
    }

    let note = format!(
        "{} requests ({} acknowledged, {} replayed, {} vouchers, {} refused) of a 100-location \
         day offered in {:.1} s, answered in {:.1} s, {CONCURRENCY} in flight at most; \
         check-ledger clean",
        report.sent,
        report.acknowledged,
        report.replayed,
        report.vouchers_redeemed,
        report.refused,
        wall.as_secs_f64(),
        report.elapsed_seconds
    );
    let rows = vec![
        row(
            "load/sqlite_day_throughput",
            report.throughput(),
            "req/s",
            Some((
                "load/healthz_floor_throughput",
                floor.per_second,
                "req/s",
                "as many GET /healthz with as many clients on the same server",
            )),
            &note,
        ),
        row(
            "load/sqlite_day_p99",
            report.percentile(0.99),
            "ms",
            Some((
                "load/healthz_floor_p99",
                floor.p99_ms,
                "ms",
                "p99 of the same GET /healthz run",
            )),
            "latency from each request's planned moment (open loop: queueing counts)",
        ),
        row(
            "load/server_peak_rss_under_load",
            peak_mib,
            "MiB",
            Some((
                "load/server_rss_at_rest",
                rest_mib,
                "MiB",
                "the same server's VmRSS at rest after start-up",
            )),
            "VmHWM from /proc/PID/status after the day and the /healthz run",
        ),
    ];
    write_report("load.json", &rows)
}
