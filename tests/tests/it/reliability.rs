//! Crashes and outages against the real `regulars` binary, on loopback only.
//!
//! * `kill -9` of the server during sustained ingestion (concurrent POS clients sending
//!   signed webhooks, duplicates, refunds and racing voucher redemptions, the orders
//!   group-committed), twenty times per database, each time restarted on the same database with everything not
//!   acknowledged sent again; then every order is stored exactly once, every event sent
//!   again is known, every balance equals its ledger and no voucher was redeemed twice.
//! * PostgreSQL stopped under load: `/readyz` and requests answer a clean 503 (never a
//!   hang, never a 500), and the same server recovers by itself when the database is
//!   back, losing nothing it acknowledged.
//!
//! The binary is the one `cargo test --workspace` (and `cargo xtask test`) builds next
//! to this test; a missing or stale one fails the test with what to run.

use crate::pos::{order_data, paid, refunded, sign};
use crate::server::assert_error_shape;
use regulars_ports::Role;
use regulars_store::StoreOptions;
use regulars_testkit::{PgCluster, SqliteFile, StopMode, require_pg};
use regulars_tests::{phone, world};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use time::OffsetDateTime;

const SECRET_KEY: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
const CLIENTS: usize = 8;
const ORDERS_PER_CLIENT: usize = 24;
const VOUCHERS: usize = 6;
const CRASHES: usize = 20;

/// The newest modification time of the Rust sources and manifests under `dir`.
fn newest_source(dir: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return newest;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            // The test kit is never part of the binary: a change there does not make it stale.
            if name != "tests" && name != "benches" && name != "testkit" {
                newest = newest.max(newest_source(&path));
            }
        } else if path
            .extension()
            .is_some_and(|e| e == "rs" || e == "toml" || e == "sql")
            && let Ok(modified) = entry.metadata().and_then(|m| m.modified())
        {
            newest = newest.max(modified);
        }
    }
    newest
}

/// The `regulars` binary built next to this test, checked to be newer than every
/// source it is made of.
pub(crate) fn binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current exe: {e}"));
    // target/<profile>/deps/it-<hash> -> target/<profile>/regulars
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join(format!("regulars{}", std::env::consts::EXE_SUFFIX)))
        .unwrap_or_else(|| panic!("no target directory above {}", exe.display()));
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| {
            panic!(
                "{} is missing: run `cargo build -p regulars` first \
                 (`cargo test --workspace` and `cargo xtask test` build it)",
                bin.display()
            )
        });
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or_else(|| panic!("workspace root"));
    let sources = newest_source(&root.join("crates")).max(
        std::fs::metadata(root.join("Cargo.lock"))
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH),
    );
    assert!(
        built >= sources,
        "{} is older than its sources: run `cargo build -p regulars` first",
        bin.display()
    );
    bin
}

/// `regulars` with a clean environment (no `REGULARS_*` of the caller) in `dir`.
pub(crate) fn regulars(dir: &Path, url: &str) -> Command {
    let mut command = Command::new(binary());
    for (name, _) in std::env::vars_os() {
        let text = name.to_string_lossy();
        if text.starts_with("REGULARS_") || text == "DATABASE_URL" || text == "RUST_LOG" {
            command.env_remove(&name);
        }
    }
    command
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn");
    command
}

/// A running `regulars serve`.
struct ServerProcess {
    child: Child,
    base: String,
    logs: Option<std::thread::JoinHandle<String>>,
}

impl ServerProcess {
    fn start(dir: &Path, url: &str) -> ServerProcess {
        let mut child = regulars(dir, url)
            .arg("serve")
            .env("REGULARS_LISTEN", "127.0.0.1:0")
            .env("REGULARS_SECRET_KEY", SECRET_KEY)
            // Group commit on both databases (PostgreSQL runs without it by default).
            .env("REGULARS_INGEST_GROUP_COMMIT", "true")
            .env("REGULARS_RATE_LIMIT_PER_SECOND", "0")
            .env("REGULARS_SCORING_INTERVAL_HOURS", "0")
            .env("REGULARS_DATABASE_TIMEOUT_SECONDS", "2")
            .env("REGULARS_SHUTDOWN_TIMEOUT_SECONDS", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start regulars serve: {e}"));
        let mut stderr = child.stderr.take().unwrap_or_else(|| panic!("stderr"));
        // Drained on the side so a chatty log never blocks the server.
        let logs = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap_or_else(|| panic!("stdout")));
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        // Keep reading so the pipe never fills.
        std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = stdout.read_to_string(&mut rest);
        });
        let port: Option<u16> = line
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|p| p.parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            let logs = logs.join().unwrap_or_default();
            panic!("no port in {line:?}: {logs}");
        };
        ServerProcess {
            child,
            base: format!("http://127.0.0.1:{port}"),
            logs: Some(logs),
        }
    }

    /// `kill -9`: no graceful anything.
    fn kill(mut self) {
        self.child.kill().unwrap_or_else(|e| panic!("kill -9: {e}"));
        let _ = self.child.wait();
        self.print_logs();
    }

    fn print_logs(&mut self) {
        if let Some(logs) = self.logs.take() {
            let text = logs.join().unwrap_or_default();
            if std::env::var_os("TEST_LOG").is_some() {
                eprintln!("{text}");
            }
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"))
}

/// A JSON body and, for a webhook, its signature header.
type Payload<'a> = (&'a [u8], Option<(&'a str, String)>);

/// An answer, or `None` when the connection failed (the server is gone).
async fn call(
    client: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    path: &str,
    key: Option<&str>,
    body: Option<Payload<'_>>,
) -> Option<(u16, Value, String)> {
    let mut request = client.request(method, format!("{base}{path}"));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some((bytes, header)) = body {
        request = request
            .header("content-type", "application/json")
            .body(bytes.to_vec());
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
    }
    let response = request.send().await.ok()?;
    let status = response.status().as_u16();
    let text = response.text().await.ok()?;
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Some((status, json, text))
}

async fn post_json(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    key: &str,
    body: &Value,
) -> (u16, Value, String) {
    let bytes = body.to_string().into_bytes();
    call(
        client,
        base,
        reqwest::Method::POST,
        path,
        Some(key),
        Some((&bytes, None)),
    )
    .await
    .unwrap_or_else(|| panic!("POST {path}: no answer"))
}

/// What a POS sends: a signed webhook event, or a voucher redemption at the till.
#[derive(Debug, Clone)]
enum Op {
    Event {
        event_id: String,
        body: Vec<u8>,
        /// For a refund: the order it refunds, sent only once that order is in.
        needs_order: Option<String>,
        /// For an order: its id.
        order: Option<String>,
    },
    Redeem {
        code: String,
    },
}

/// Everything the clients saw, shared between them.
#[derive(Default)]
struct Tally {
    sent: AtomicUsize,
    acknowledged: AtomicUsize,
    acked_orders: Mutex<BTreeSet<String>>,
    redeemed: Mutex<BTreeMap<String, usize>>,
    statuses: Mutex<BTreeMap<u16, usize>>,
}

/// The brand, keys, integration and vouchers of a run.
struct Fixture {
    admin: String,
    pos: String,
    webhook_path: String,
    secret: String,
    vouchers: Vec<String>,
}

async fn set_up(dir: &Path, url: &str, options: StoreOptions) -> (Fixture, ServerProcess) {
    let world = world(url, options).await.unwrap_or_else(|e| panic!("{e}"));
    let admin = world
        .services
        .create_api_key(world.brand, Role::Admin, None)
        .await
        .unwrap_or_else(|e| panic!("admin key: {e}"))
        .token;
    let pos = world
        .services
        .create_api_key(world.brand, Role::Pos, None)
        .await
        .unwrap_or_else(|e| panic!("pos key: {e}"))
        .token;
    let reward = world.reward.to_string();
    drop(world);
    let server = ServerProcess::start(dir, url);
    let http = client();
    let (status, made, text) = post_json(
        &http,
        &server.base,
        "/v1/integrations",
        &admin,
        &json!({"kind": "generic"}),
    )
    .await;
    assert_eq!(status, 201, "integration: {text}");
    let webhook_path = made["integration"]["webhook_path"]
        .as_str()
        .unwrap_or_else(|| panic!("{text}"))
        .to_owned();
    let secret = made["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("{text}"))
        .to_owned();
    let mut vouchers = Vec::new();
    for n in 0..VOUCHERS {
        let (status, customer, text) = post_json(
            &http,
            &server.base,
            "/v1/customers",
            &pos,
            &json!({"phone": phone(9_000 + n as u64).as_str()}),
        )
        .await;
        assert_eq!(status, 201, "customer: {text}");
        let id = customer["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{text}"))
            .to_owned();
        let (status, _, text) = post_json(
            &http,
            &server.base,
            &format!("/v1/customers/{id}/adjustments"),
            &admin,
            &json!({"points": regulars_tests::REWARD_COST, "reason": "voucher for the crash test"}),
        )
        .await;
        assert_eq!(status, 201, "adjustment: {text}");
        let (status, voucher, text) = post_json(
            &http,
            &server.base,
            &format!("/v1/customers/{id}/redemptions"),
            &pos,
            &json!({"reward_id": reward}),
        )
        .await;
        assert_eq!(status, 201, "redemption: {text}");
        vouchers.push(
            voucher["code"]
                .as_str()
                .unwrap_or_else(|| panic!("{text}"))
                .to_owned(),
        );
    }
    (
        Fixture {
            admin,
            pos,
            webhook_path,
            secret,
            vouchers,
        },
        server,
    )
}

/// Client `c`'s work: orders of customers shared with the other clients, some sent
/// again under new event ids, some refunded, and every voucher redeemed (racing the
/// other clients for it).
fn workload(c: usize, vouchers: &[String]) -> Vec<Op> {
    let placed = OffsetDateTime::now_utc() - time::Duration::hours(2);
    let order_id = |i: usize| format!("C{c}-O{i}");
    let order = |i: usize, event: String| {
        let customer = phone(100 + ((c * ORDERS_PER_CLIENT + i) % 17) as u64);
        Op::Event {
            body: paid(
                &event,
                order_data(&order_id(i), Some(customer.as_str()), placed, 1 + i % 3),
            ),
            event_id: event,
            needs_order: None,
            order: Some(order_id(i)),
        }
    };
    let mut ops = Vec::new();
    for i in 0..ORDERS_PER_CLIENT {
        ops.push(order(i, format!("e-C{c}-O{i}")));
        if i % 4 == 3 {
            // The same order again under a new event id: counted once.
            ops.push(order(i - 2, format!("e-C{c}-D{i}")));
        }
        if i % 5 == 4 {
            let refunded_order = order_id(i - 3);
            let event = format!("e-C{c}-R{i}");
            ops.push(Op::Event {
                body: refunded(
                    &event,
                    &format!("C{c}-R{i}"),
                    &refunded_order,
                    placed + time::Duration::minutes(30),
                ),
                event_id: event,
                needs_order: Some(refunded_order),
                order: None,
            });
        }
        if i % 4 == 1 {
            let v = (i / 4 + c) % vouchers.len();
            ops.push(Op::Redeem {
                code: vouchers[v].clone(),
            });
        }
    }
    // Every client tries every voucher at least once.
    for code in vouchers {
        ops.push(Op::Redeem { code: code.clone() });
    }
    ops
}

/// Sends `pending` in order until done or the server is gone; what got an answer is
/// removed. Returns whether the server is still there.
async fn drive(base: &str, fixture: &Fixture, pending: &mut Vec<Op>, tally: &Tally) -> bool {
    let http = client();
    let mut stalled_passes = 0;
    while !pending.is_empty() {
        let before = pending.len();
        let mut i = 0;
        while i < pending.len() {
            let op = pending[i].clone();
            let answered = match &op {
                Op::Event {
                    event_id,
                    body,
                    needs_order,
                    order,
                } => {
                    if let Some(needed) = needs_order
                        && !tally
                            .acked_orders
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .contains(needed)
                    {
                        i += 1;
                        continue;
                    }
                    tally.sent.fetch_add(1, Ordering::Relaxed);
                    // Signed now: a resend after a restart is a fresh delivery of the
                    // same event, as a POS retry would be.
                    let header = sign(&fixture.secret, body, OffsetDateTime::now_utc());
                    let Some((status, json, text)) = call(
                        &http,
                        base,
                        reqwest::Method::POST,
                        &fixture.webhook_path,
                        None,
                        Some((body, Some((header.0, header.1)))),
                    )
                    .await
                    else {
                        return false;
                    };
                    *tally
                        .statuses
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .entry(status)
                        .or_default() += 1;
                    assert!(
                        status == 200 || status == 503,
                        "{event_id}: {status} {text}"
                    );
                    if status == 200 {
                        let outcome = json["events"][0]["outcome"].as_str().unwrap_or_default();
                        assert!(
                            ["counted", "replayed", "duplicate"].contains(&outcome),
                            "{event_id}: {text}"
                        );
                        tally.acknowledged.fetch_add(1, Ordering::Relaxed);
                        if let Some(order) = order {
                            tally
                                .acked_orders
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .insert(order.clone());
                        }
                    }
                    status == 200
                }
                Op::Redeem { code } => {
                    tally.sent.fetch_add(1, Ordering::Relaxed);
                    let Some((status, _, text)) = call(
                        &http,
                        base,
                        reqwest::Method::POST,
                        &format!("/v1/vouchers/{code}/redeem"),
                        Some(&fixture.pos),
                        Some((b"{}", None)),
                    )
                    .await
                    else {
                        return false;
                    };
                    assert!(
                        [200, 409, 503].contains(&status),
                        "redeem {code}: {status} {text}"
                    );
                    if status == 200 {
                        tally.acknowledged.fetch_add(1, Ordering::Relaxed);
                        *tally
                            .redeemed
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .entry(code.clone())
                            .or_default() += 1;
                    }
                    status == 200 || status == 409
                }
            };
            if answered {
                pending.remove(i);
            } else {
                i += 1;
            }
        }
        if pending.len() == before {
            // Only refunds waiting for another client's order, or a database pause.
            stalled_passes += 1;
            assert!(stalled_passes < 400, "no progress: {pending:?}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        } else {
            stalled_passes = 0;
        }
    }
    true
}

/// Runs every client against `base` until all is done or the server dies.
async fn round(
    base: &str,
    fixture: &Arc<Fixture>,
    work: &mut [Vec<Op>],
    tally: &Arc<Tally>,
) -> Vec<tokio::task::JoinHandle<Vec<Op>>> {
    work.iter_mut()
        .map(|ops| {
            let mut ops = std::mem::take(ops);
            let (base, fixture, tally) = (base.to_owned(), fixture.clone(), tally.clone());
            tokio::spawn(async move {
                drive(&base, &fixture, &mut ops, &tally).await;
                ops
            })
        })
        .collect()
}

/// After the load: every event sent again is known (nothing acknowledged was lost),
/// every order is stored once, ledgers add up, no voucher was redeemed twice.
async fn verify(
    name: &str,
    dir: &Path,
    url: &str,
    base: &str,
    fixture: &Fixture,
    all: &[Vec<Op>],
    tally: &Tally,
) -> usize {
    let http = client();
    let mut orders_sent = BTreeSet::new();
    for op in all.iter().flatten() {
        if let Op::Event {
            event_id,
            body,
            order,
            ..
        } = op
        {
            if let Some(order) = order {
                orders_sent.insert(order.clone());
            }
            let header = sign(&fixture.secret, body, OffsetDateTime::now_utc());
            let (status, json, text) = call(
                &http,
                base,
                reqwest::Method::POST,
                &fixture.webhook_path,
                None,
                Some((body, Some((header.0, header.1)))),
            )
            .await
            .unwrap_or_else(|| panic!("{name}: no answer"));
            assert_eq!(status, 200, "{name}: {event_id} again: {text}");
            assert_eq!(
                json["events"][0]["outcome"], "replayed",
                "{name}: {event_id} was acknowledged, so it is known: {text}"
            );
        }
    }

    let mut found: BTreeMap<String, usize> = BTreeMap::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(cursor) => format!("/v1/orders?limit=100&after={cursor}"),
            None => "/v1/orders?limit=100".to_owned(),
        };
        let (status, page, text) = call(
            &http,
            base,
            reqwest::Method::GET,
            &path,
            Some(&fixture.admin),
            None,
        )
        .await
        .unwrap_or_else(|| panic!("{name}: no answer"));
        assert_eq!(status, 200, "{name}: {text}");
        for item in page["items"].as_array().unwrap_or_else(|| panic!("{text}")) {
            let id = item["external_id"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: no external_id in {item}"))
                .to_owned();
            *found.entry(id).or_default() += 1;
        }
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
    }
    let twice: Vec<_> = found.iter().filter(|(_, n)| **n != 1).collect();
    assert!(
        twice.is_empty(),
        "{name}: orders stored more than once: {twice:?}"
    );
    let found_ids: BTreeSet<String> = found.keys().cloned().collect();
    assert_eq!(found_ids, orders_sent, "{name}: every order stored");
    let acked = tally
        .acked_orders
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    assert!(
        acked.is_subset(&found_ids),
        "{name}: every acknowledged order stored"
    );

    let output = regulars(dir, url)
        .arg("check-ledger")
        .output()
        .unwrap_or_else(|e| panic!("check-ledger: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(" 0 mismatches, 0 invalid ledgers"),
        "{name}: check-ledger: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let redeemed = tally
        .redeemed
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    for code in &fixture.vouchers {
        let times = redeemed.get(code).copied().unwrap_or(0);
        assert!(times <= 1, "{name}: voucher {code} redeemed {times} times");
        let (status, check, text) = call(
            &http,
            base,
            reqwest::Method::GET,
            &format!("/v1/vouchers/{code}"),
            Some(&fixture.pos),
            None,
        )
        .await
        .unwrap_or_else(|| panic!("{name}: no answer"));
        assert_eq!(status, 200, "{name}: {text}");
        // Every client got an answer for it, so someone redeemed it (maybe just
        // before a crash swallowed the answer).
        assert_eq!(check["voucher"]["status"], "redeemed", "{name}: {text}");
    }
    found.len()
}

async fn crash_and_restart(name: &str, dir: &Path, url: &str, options: StoreOptions) {
    let started = Instant::now();
    let (fixture, mut server) = set_up(dir, url, options).await;
    let fixture = Arc::new(fixture);
    let all: Vec<Vec<Op>> = (0..CLIENTS)
        .map(|c| workload(c, &fixture.vouchers))
        .collect();
    let total_ops: usize = all.iter().map(Vec::len).sum();
    let mut work = all.clone();
    let tally = Arc::new(Tally::default());
    let mut crashes = 0;
    for _ in 0..CRASHES {
        let target = tally.acknowledged.load(Ordering::Relaxed) + total_ops / (CRASHES + 2);
        let clients = round(&server.base, &fixture, &mut work, &tally).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        while tally.acknowledged.load(Ordering::Relaxed) < target
            && !clients.iter().all(|c| c.is_finished())
        {
            assert!(
                Instant::now() < deadline,
                "{name}: the load made no progress"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.kill();
        crashes += 1;
        for (slot, client) in work.iter_mut().zip(clients) {
            *slot = client
                .await
                .unwrap_or_else(|e| panic!("{name}: client: {e}"));
        }
        server = ServerProcess::start(dir, url);
    }
    let clients = round(&server.base, &fixture, &mut work, &tally).await;
    for (slot, client) in work.iter_mut().zip(clients) {
        *slot = client
            .await
            .unwrap_or_else(|e| panic!("{name}: client: {e}"));
    }
    assert!(
        work.iter().all(Vec::is_empty),
        "{name}: everything answered after the last restart"
    );
    let found = verify(name, dir, url, &server.base, &fixture, &all, &tally).await;
    println!(
        "{name}: {} requests sent, {} acknowledged, {found} orders found once each, {crashes} kill -9 survived, {:.1} s",
        tally.sent.load(Ordering::Relaxed),
        tally.acknowledged.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(crashes, CRASHES);
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_ingestion_loses_nothing_acknowledged_on_sqlite() {
    let file = SqliteFile::new().unwrap_or_else(|e| panic!("sqlite file: {e}"));
    let dir = file
        .path()
        .parent()
        .unwrap_or_else(|| panic!("scratch dir"))
        .to_path_buf();
    crash_and_restart("sqlite", &dir, &file.url(), StoreOptions::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_ingestion_loses_nothing_acknowledged_on_postgres() {
    let Some(cluster) = require_pg() else {
        return;
    };
    let url = cluster
        .create_database("crash")
        .unwrap_or_else(|e| panic!("create database: {e}"));
    let scratch = SqliteFile::new().unwrap_or_else(|e| panic!("scratch: {e}"));
    let dir = scratch
        .path()
        .parent()
        .unwrap_or_else(|| panic!("scratch dir"))
        .to_path_buf();
    crash_and_restart("postgres", &dir, &url, StoreOptions::default()).await;
}

/// Polls `path` until it answers `status`; panics after `within`.
async fn wait_for(base: &str, path: &str, status: u16, within: Duration) -> Value {
    let http = client();
    let deadline = Instant::now() + within;
    loop {
        if let Some((got, json, _)) =
            call(&http, base, reqwest::Method::GET, path, None, None).await
            && got == status
        {
            return json;
        }
        assert!(Instant::now() < deadline, "{path} never answered {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_under_load_gives_503_and_the_server_recovers_by_itself() {
    if require_pg().is_none() {
        return;
    }
    // A cluster of its own: the shared one serves the other tests.
    let cluster = PgCluster::start().unwrap_or_else(|e| panic!("start cluster: {e}"));
    let url = cluster
        .create_database("outage")
        .unwrap_or_else(|e| panic!("create database: {e}"));
    let scratch = SqliteFile::new().unwrap_or_else(|e| panic!("scratch: {e}"));
    let dir = scratch
        .path()
        .parent()
        .unwrap_or_else(|| panic!("scratch dir"))
        .to_path_buf();
    let (fixture, server) = set_up(&dir, &url, StoreOptions::default()).await;
    let fixture = Arc::new(fixture);
    let all: Vec<Vec<Op>> = (0..2).map(|c| workload(c, &fixture.vouchers)).collect();
    let mut work = all.clone();
    let tally = Arc::new(Tally::default());
    let clients = round(&server.base, &fixture, &mut work, &tally).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while tally.acknowledged.load(Ordering::Relaxed) < 10 {
        assert!(Instant::now() < deadline, "the load made no progress");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    cluster
        .stop(StopMode::Fast)
        .unwrap_or_else(|e| panic!("stop PostgreSQL: {e}"));
    let ready = wait_for(&server.base, "/readyz", 503, Duration::from_secs(20)).await;
    assert_error_shape(&ready, "/readyz while the database is down");
    let http = client();
    let asked = Instant::now();
    let (status, body, text) = call(
        &http,
        &server.base,
        reqwest::Method::GET,
        "/v1/brand",
        Some(&fixture.admin),
        None,
    )
    .await
    .unwrap_or_else(|| panic!("no answer while the database is down"));
    assert_eq!(status, 503, "{text}");
    assert_error_shape(&body, "a request while the database is down");
    assert_eq!(body["error"]["code"], "unavailable", "{text}");
    assert!(
        !text.to_lowercase().contains("sql") && !text.contains("127.0.0.1"),
        "no internals: {text}"
    );
    let event = paid(
        "e-outage",
        order_data(
            "OUTAGE-1",
            Some(phone(1).as_str()),
            OffsetDateTime::now_utc() - time::Duration::hours(1),
            1,
        ),
    );
    let header = sign(&fixture.secret, &event, OffsetDateTime::now_utc());
    let (status, body, text) = call(
        &http,
        &server.base,
        reqwest::Method::POST,
        &fixture.webhook_path,
        None,
        Some((&event, Some((header.0, header.1)))),
    )
    .await
    .unwrap_or_else(|| panic!("no answer to a webhook while the database is down"));
    assert_eq!(status, 503, "{text}");
    assert_error_shape(&body, "a webhook while the database is down");
    let waited = asked.elapsed();

    cluster
        .start_again()
        .unwrap_or_else(|e| panic!("start PostgreSQL again: {e}"));
    wait_for(&server.base, "/readyz", 200, Duration::from_secs(30)).await;
    for (slot, client) in work.iter_mut().zip(clients) {
        *slot = client.await.unwrap_or_else(|e| panic!("client: {e}"));
    }
    assert!(
        work.iter().all(Vec::is_empty),
        "every request answered once the database was back"
    );
    let mut everything = all.clone();
    everything.push(vec![Op::Event {
        event_id: "e-outage".to_owned(),
        body: event.clone(),
        needs_order: None,
        order: Some("OUTAGE-1".to_owned()),
    }]);
    // The webhook refused during the outage is the POS's to retry: it is counted now.
    let header = sign(&fixture.secret, &event, OffsetDateTime::now_utc());
    let (status, _, text) = call(
        &http,
        &server.base,
        reqwest::Method::POST,
        &fixture.webhook_path,
        None,
        Some((&event, Some((header.0, header.1)))),
    )
    .await
    .unwrap_or_else(|| panic!("no answer"));
    assert_eq!(status, 200, "{text}");
    let found = verify(
        "postgres outage",
        &dir,
        &url,
        &server.base,
        &fixture,
        &everything,
        &tally,
    )
    .await;
    let statuses = tally
        .statuses
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    println!(
        "postgres outage: {} requests sent, {} acknowledged, {found} orders found once each, \
         answers by status {statuses:?}, two requests during the outage answered in {:.1} s",
        tally.sent.load(Ordering::Relaxed),
        tally.acknowledged.load(Ordering::Relaxed),
        waited.as_secs_f64()
    );
    server.kill();
}
