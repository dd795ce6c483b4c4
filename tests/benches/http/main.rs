//! Accrual over HTTP: the real server (`Application::with_store`, the release build that
//! `cargo bench` makes) receiving signed `order.paid` webhooks of the generic POS format,
//! on SQLite and on a durable throwaway PostgreSQL cluster, with 1 and 16 concurrent
//! clients. Each client is a till with its own keep-alive HTTP/1.1 connection posting
//! distinct orders of 3–5 lines for customers drawn from a shared pool.
//!
//! A request counts only when the answer is 200 with `"outcome": "counted"`: the order
//! was verified, its points computed and everything committed. Anything else is a
//! failure, reported next to the figure.
//!
//! Peers, measured in the same run on the same storage:
//! * `ingest_order` called in process with the same kind of orders (what HTTP, JSON and
//!   the signature check add to the use case), on SQLite and on PostgreSQL;
//! * PostgreSQL: `pgbench` TPC-B and `-N` on the same cluster, same client counts.
//!
//! Then, on each database, an open-loop run (`open_loop.rs`): orders planned at half the
//! 16-client rate just measured, each latency counted from its planned moment, the p99
//! set against its 10 ms bound.
//!
//! The load generator runs in this process: its CPU shares the machine's cores with the
//! server and the database, as the server's two workers share them with each other.
//!
//! Results go to `$REGULARS_BENCH_REPORTS/http.json` (set by `cargo xtask bench`).

use regulars::server::Application;
use regulars::settings::Settings;
use regulars_ports::IntegrationKind;
use regulars_pos::{Secret, generic};
use regulars_service::SecretKey;
use regulars_store::StoreOptions;
use regulars_testkit::{PgCluster, PgOptions, SqliteFile};
use regulars_tests::bench::{
    Throughput, ingest_in_process, pgbench, pgbench_pair, row, seconds, summarise, write_report,
};
use regulars_tests::webhook::order_paid_body;
use regulars_tests::{World, order, world};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::sync::Barrier;

mod open_loop;

type BenchResult<T> = Result<T, String>;

/// Customers the tills draw from (shared by all clients, as at a chain's counters).
const CUSTOMER_POOL: u64 = 5_000;

fn main() {
    if let Err(e) = run() {
        eprintln!("http benchmark failed: {e}");
        std::process::exit(1);
    }
}

/// Lines of the `n`th order of a client: 3, 4 or 5.
fn lines_of(n: u64) -> usize {
    3 + (n % 3) as usize
}

fn run() -> BenchResult<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let secs = seconds();
    let mut rows = Vec::new();

    let file = SqliteFile::new().map_err(|e| e.to_string())?;
    let direct_file = SqliteFile::new().map_err(|e| e.to_string())?;
    rt.block_on(async {
        let server = Served::start(&file.url()).await?;
        let direct = Arc::new(world(&direct_file.url(), StoreOptions::default()).await?);
        let mut top = 0.0;
        for clients in [1, 16] {
            let ours = server.drive(clients, secs).await?;
            let peer = ingest_in_process(direct.clone(), clients, secs, lines_of).await?;
            rows.push(in_process_row("sqlite", clients, &ours, &peer));
            top = ours.counted.per_second;
        }
        rows.push(server.open_loop(top / 2.0, secs).await?.row("sqlite", top));
        server.stop().await;
        Ok::<_, String>(())
    })?;

    let cluster = PgCluster::start_with(PgOptions::new().durable(true).max_connections(100))
        .map_err(|e| e.to_string())?;
    let ours_db = cluster.create_database("http").map_err(|e| e.to_string())?;
    let direct_db = cluster
        .create_database("direct")
        .map_err(|e| e.to_string())?;
    let bench_db = cluster
        .create_database("pgbench")
        .map_err(|e| e.to_string())?;
    let bench_name = bench_db.rsplit('/').next().unwrap_or("pgbench").to_owned();
    pgbench(&cluster, &bench_name, &["-i", "-q", "-s", "16"])?;
    rt.block_on(async {
        let server = Served::start(&ours_db).await?;
        let direct = Arc::new(world(&direct_db, StoreOptions::default()).await?);
        let mut top = 0.0;
        for clients in [1, 16] {
            let ours = server.drive(clients, secs).await?;
            let peer = ingest_in_process(direct.clone(), clients, secs, lines_of).await?;
            let (tpcb, simple) = pgbench_pair(&cluster, &bench_name, clients, secs)?;
            rows.push(in_process_row("postgres", clients, &ours, &peer));
            let name = format!("http/postgres/{clients}_clients");
            rows.push(row(
                &name,
                ours.counted.per_second,
                "accruals/s",
                Some((
                    "pgbench TPC-B",
                    tpcb,
                    "tx/s",
                    "same cluster, same run, same client count",
                )),
                &ours.note(),
            ));
            rows.push(row(
                &name,
                ours.counted.per_second,
                "accruals/s",
                Some((
                    "pgbench -N",
                    simple,
                    "tx/s",
                    "simple-update TPC-B variant, same cluster",
                )),
                &ours.note(),
            ));
            top = ours.counted.per_second;
        }
        rows.push(
            server
                .open_loop(top / 2.0, secs)
                .await?
                .row("postgres", top),
        );
        server.stop().await;
        Ok::<_, String>(())
    })?;

    write_report("http.json", &rows)
}

fn in_process_row(db: &str, clients: usize, ours: &Driven, peer: &Throughput) -> Value {
    row(
        &format!("http/{db}/{clients}_clients"),
        ours.counted.per_second,
        "accruals/s",
        Some((
            "ingest_order in process",
            peer.per_second,
            "orders/s",
            "the same use case and orders without HTTP, same kind of store, same run",
        )),
        &format!(
            "{}; in process: p50 {:.2} ms, p99 {:.2} ms",
            ours.note(),
            peer.p50_ms,
            peer.p99_ms
        ),
    )
}

/// The server running over a fresh brand with the bubble-tea rules and a generic
/// integration.
struct Served {
    app_handle: actix_web::dev::ServerHandle,
    running: tokio::task::JoinHandle<std::io::Result<()>>,
    url: String,
    secret: Secret,
    world: World,
}

/// What driving the server found.
struct Driven {
    counted: Throughput,
    failures: usize,
    first_failure: Option<String>,
    clients: usize,
}

impl Driven {
    fn note(&self) -> String {
        let mut note = format!(
            "{} accruals, p50 {:.2} ms, p99 {:.2} ms per request, {} failed; \
             {} keep-alive client(s) in the same process, sharing the cores with the server",
            self.counted.operations,
            self.counted.p50_ms,
            self.counted.p99_ms,
            self.failures,
            self.clients,
        );
        if let Some(first) = &self.first_failure {
            note.push_str(&format!(" (first failure: {first})"));
        }
        note
    }
}

impl Served {
    async fn start(url: &str) -> BenchResult<Served> {
        let world = world(url, StoreOptions::default()).await?;
        let mut settings = Settings {
            database_url: url.to_owned(),
            listen: "127.0.0.1:0".to_owned(),
            secret_key: Some(SecretKey::from_bytes(*b"http-benchmark-sealing-key-32-by")),
            // Throughput is what is measured: one integration's per-key limit would cap it.
            rate_limit: None,
            ..Settings::default()
        };
        // The server's default is measured (group commit on SQLite, not on PostgreSQL);
        // `REGULARS_INGEST_GROUP_COMMIT=true` or `false` measures either on both.
        match std::env::var("REGULARS_INGEST_GROUP_COMMIT").as_deref() {
            Ok("true") => settings.ingest.group_commit = Some(true),
            Ok("false") => settings.ingest.group_commit = Some(false),
            _ => {}
        }
        // `REGULARS_INGEST_GROUP_WRITERS=n` measures n groups committed at once.
        if let Some(writers) = std::env::var("REGULARS_INGEST_GROUP_WRITERS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            settings.ingest.writers = writers;
        }
        let app =
            Application::with_store(&settings, world.store.clone()).map_err(|e| e.to_string())?;
        let integration = app
            .services()
            .create_integration(
                world.brand,
                IntegrationKind::Generic,
                Some("benchmark till".to_owned()),
                None,
                None,
            )
            .await
            .map_err(|e| format!("create integration: {e}"))?;
        let url = format!(
            "http://127.0.0.1:{}/webhooks/{}",
            app.port(),
            integration.info.id
        );
        let app_handle = app.handle();
        let running = tokio::spawn(app.run_until_stopped());
        Ok(Served {
            app_handle,
            running,
            url,
            secret: Secret::new(integration.secret.into_bytes()),
            world,
        })
    }

    async fn stop(self) {
        self.app_handle.stop(true).await;
        let _ = self.running.await;
    }

    /// A till with its own keep-alive connection; its order ids start with `prefix`.
    fn till(&self, prefix: String, seed: u64) -> BenchResult<Till> {
        Ok(Till {
            http: reqwest::Client::builder()
                .tcp_nodelay(true)
                .pool_max_idle_per_host(1)
                .build()
                .map_err(|e| e.to_string())?,
            url: self.url.clone(),
            secret: self.secret.clone(),
            brand: self.world.brand,
            prefix,
            rng: 0x9e37_79b9_7f4a_7c15 ^ (seed + 1).wrapping_mul(0xff51_afd7),
        })
    }

    /// Posts orders from `clients` tills for `secs` seconds after one untimed request
    /// each (which opens its connection).
    async fn drive(&self, clients: usize, secs: u64) -> BenchResult<Driven> {
        let barrier = Arc::new(Barrier::new(clients));
        let mut tasks = Vec::new();
        for client in 0..clients {
            let till = self.till(format!("{clients}c-{client}"), client as u64)?;
            let barrier = barrier.clone();
            tasks.push(tokio::spawn(till.run(barrier, secs)));
        }
        let mut latencies = Vec::new();
        let mut failures = 0;
        let mut first_failure = None;
        let mut span: Option<(Instant, Instant)> = None;
        for task in tasks {
            let done = task.await.map_err(|e| e.to_string())??;
            latencies.extend(done.latencies);
            failures += done.failures;
            first_failure = first_failure.or(done.first_failure);
            span = Some(match span {
                None => (done.started, done.ended),
                Some((s, e)) => (s.min(done.started), e.max(done.ended)),
            });
        }
        let elapsed = span.map_or(0.0, |(s, e)| (e - s).as_secs_f64());
        let counted = summarise(latencies, elapsed);
        if counted.operations == 0 {
            return Err(format!(
                "no order was counted over HTTP: {}",
                first_failure.unwrap_or_default()
            ));
        }
        Ok(Driven {
            counted,
            failures,
            first_failure,
            clients,
        })
    }
}

/// One client: a POS till with its own connection.
struct Till {
    http: reqwest::Client,
    url: String,
    secret: Secret,
    brand: regulars_domain::BrandId,
    prefix: String,
    rng: u64,
}

/// What one till did in the timed window.
struct TillRun {
    latencies: Vec<Duration>,
    failures: usize,
    first_failure: Option<String>,
    started: Instant,
    ended: Instant,
}

impl Till {
    fn customer(&mut self) -> u64 {
        self.rng = self
            .rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.rng >> 33) % CUSTOMER_POOL
    }

    /// Sends the `n`th order; `Ok(latency)` when it was counted, `Err(why)` otherwise.
    async fn post(&mut self, n: u64) -> BenchResult<Result<Duration, String>> {
        self.post_planned(n, None).await
    }

    /// [`Till::post`], its latency counted from `planned` when given (an open-loop
    /// request that should have left then), else from when it is sent.
    async fn post_planned(
        &mut self,
        n: u64,
        planned: Option<Instant>,
    ) -> BenchResult<Result<Duration, String>> {
        let id = format!("{}-{n}", self.prefix);
        let customer = self.customer();
        let now = OffsetDateTime::now_utc();
        let o = order(self.brand, &id, customer, now, lines_of(n));
        let body = order_paid_body(&o, &format!("evt-{id}"), now)?;
        let signature = generic::signature_header(
            now.unix_timestamp(),
            &body,
            std::slice::from_ref(&self.secret),
        );
        let started = planned.unwrap_or_else(Instant::now);
        let sent = self
            .http
            .post(&self.url)
            .header(generic::SIGNATURE_HEADER, signature)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        let answer = match sent {
            Ok(response) => {
                let status = response.status();
                response.bytes().await.map(|b| (status, b))
            }
            Err(e) => Err(e),
        };
        let latency = started.elapsed();
        Ok(match answer {
            Err(e) => Err(format!("order {id}: {e}")),
            Ok((status, bytes)) => {
                let outcome = serde_json::from_slice::<Value>(&bytes)
                    .ok()
                    .and_then(|v| {
                        v.pointer("/events/0/outcome")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    })
                    .unwrap_or_default();
                if status.as_u16() == 200 && outcome == "counted" {
                    Ok(latency)
                } else {
                    Err(format!(
                        "order {id}: {status} {}",
                        String::from_utf8_lossy(&bytes)
                    ))
                }
            }
        })
    }

    async fn run(mut self, barrier: Arc<Barrier>, secs: u64) -> BenchResult<TillRun> {
        // One untimed order opens the connection and warms the server's caches.
        if let Err(why) = self.post(0).await? {
            return Err(format!("first request refused: {why}"));
        }
        barrier.wait().await;
        let started = Instant::now();
        let deadline = started + Duration::from_secs(secs);
        let mut run = TillRun {
            latencies: Vec::new(),
            failures: 0,
            first_failure: None,
            started,
            ended: started,
        };
        let mut n = 0;
        while Instant::now() < deadline {
            n += 1;
            match self.post(n).await? {
                Ok(latency) => run.latencies.push(latency),
                Err(why) => {
                    run.failures += 1;
                    run.first_failure.get_or_insert(why);
                }
            }
        }
        run.ended = Instant::now();
        Ok(run)
    }
}
