//! Outbox delivery throughput: N messages (`REGULARS_BENCH_DELIVERY_MESSAGES`, 5,000
//! unless set), and then ten times as many (a campaign's backlog), written to the
//! outbox, then delivered by the worker's use case (`deliver_due`: claim a batch and
//! read its consents in one transaction, send through the real eSMS sender, record the
//! results while the sends go on, claim the next batches while the messages of the
//! previous go out) to the eSMS stand-in on loopback, on PostgreSQL and on SQLite.
//!
//! Peer, same run: the same number of sends through the same sender to the same stand-in
//! with the same concurrency, with no outbox (no claims, no records) — the floor the
//! provider and HTTP set; the ratio is what the outbox's bookkeeping costs on top.
//!
//! Results go to `$REGULARS_BENCH_REPORTS/delivery.json` (set by `cargo xtask bench`).

use regulars::system::{OsIdGen, SystemClock};
use regulars_domain::{BrandId, Channel, CustomerId};
use regulars_ports::{
    MessageSender, OutboxMessage, OutboxStatus, OutgoingMessage, Route, UnitOfWork,
};
use regulars_service::{ChannelSenders, DeliveryOptions, Services};
use regulars_store::StoreOptions;
use regulars_testkit::providers::EsmsStub;
use regulars_testkit::{PgCluster, PgOptions, SqliteFile};
use regulars_tests::bench::{row, write_report};
use regulars_tests::{World, world};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;
use time::OffsetDateTime;
use uuid::Uuid;

type BenchResult<T> = Result<T, String>;

const CONCURRENCY: usize = 16;
const BATCH: u64 = 200;

fn main() {
    if let Err(e) = run() {
        eprintln!("delivery benchmark failed: {e}");
        std::process::exit(1);
    }
}

fn message_count() -> usize {
    std::env::var("REGULARS_BENCH_DELIVERY_MESSAGES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5_000)
}

fn sender(stub: &EsmsStub) -> BenchResult<Arc<dyn MessageSender>> {
    let config: regulars_senders::SendersConfig = serde_json::from_value(serde_json::json!({
        "sms": {"base_url": stub.base_url(), "brandname": stub.brandname()},
        "timeout_secs": 10
    }))
    .map_err(|e| e.to_string())?;
    let api = stub.api_key();
    let secret = stub.secret_key();
    let built = regulars_senders::build(&config, |name| match name {
        "REGULARS_ESMS_API_KEY" => Some(api.clone()),
        "REGULARS_ESMS_SECRET_KEY" => Some(secret.clone()),
        _ => None,
    })
    .map_err(|e| e.to_string())?;
    built
        .get(Channel::Sms)
        .ok_or_else(|| "no SMS sender".to_owned())
}

fn messages(brand: BrandId, n: usize, tag: &str) -> Vec<OutboxMessage> {
    let now = OffsetDateTime::now_utc();
    (0..n)
        .map(|i| OutboxMessage {
            id: Uuid::now_v7(),
            brand_id: brand,
            campaign_id: None,
            customer_id: Some(CustomerId::from_uuid(Uuid::now_v7())),
            phone: Some(format!("+8490{:07}", i % 10_000_000)),
            dedupe_key: format!("{tag}:{i}"),
            route: Route {
                channel: Channel::Sms,
                recipient: format!("+8490{:07}", i % 10_000_000),
            },
            fallbacks: Vec::new(),
            template: None,
            subject: None,
            body:
                "[QC] Trà Sữa Mây tặng bạn ly trà sữa ô long (mã 7K2M-9QXH), dùng đến 30/06/2026."
                    .into(),
            data: BTreeMap::new(),
            promotional: true,
            send_window: None,
            sms: Default::default(),
            zns_params: Default::default(),
            opt_out: None,
            bonus_points: None,
            status: OutboxStatus::Pending,
            attempts: 0,
            due_at: now,
            last_error: None,
            sent_at: None,
            delivered_at: None,
            provider_message_id: None,
            created_at: now,
        })
        .collect()
}

/// Delivers `n` queued messages through the outbox; messages per second.
async fn through_outbox(w: &World, stub: &EsmsStub, n: usize, tag: &str) -> BenchResult<f64> {
    let mut tx = w.store.begin().await.map_err(|e| e.to_string())?;
    for chunk in messages(w.brand, n, &format!("outbox-{tag}")).chunks(1_000) {
        tx.outbox()
            .enqueue(chunk)
            .await
            .map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    let services = Services::new(w.store.clone(), Arc::new(SystemClock), Arc::new(OsIdGen));
    let senders = ChannelSenders::new().with(sender(stub)?);
    let options = DeliveryOptions {
        batch: BATCH,
        concurrency: CONCURRENCY,
        ..DeliveryOptions::default()
    };
    let before = stub.accepted_count();
    let started = Instant::now();
    let mut sent = 0;
    loop {
        let round = services
            .deliver_due(&senders, &options)
            .await
            .map_err(|e| e.to_string())?;
        sent += round.sent;
        if round.claimed == 0 {
            break;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let delivered = stub.accepted_count() - before;
    if sent as usize != n || delivered != n {
        let last: Vec<(String, u32)> = stub
            .deliveries()
            .iter()
            .rev()
            .take(3)
            .map(|d| (d.dedupe_key.clone(), d.requests))
            .collect();
        return Err(format!(
            "sent {sent}, the stand-in took {delivered}, of {n} ({} requests; last {last:?})",
            stub.request_count()
        ));
    }
    Ok(n as f64 / seconds)
}

/// The same sends with no outbox: CONCURRENCY tasks calling the sender directly.
async fn direct(stub: &EsmsStub, n: usize, tag: &str) -> BenchResult<f64> {
    let sender = sender(stub)?;
    let brand = BrandId::from_uuid(Uuid::now_v7());
    let outgoing: Vec<OutgoingMessage> = messages(brand, n, &format!("direct-{tag}"))
        .into_iter()
        .map(|m| OutgoingMessage {
            brand_id: brand,
            channel: m.route.channel,
            recipient: m.route.recipient,
            template: None,
            subject: None,
            body: m.body,
            data: m.data,
            dedupe_key: m.dedupe_key,
            promotional: true,
            unsubscribe_url: None,
            open_pixel: None,
        })
        .collect();
    let queue = Arc::new(std::sync::Mutex::new(outgoing));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let queue = queue.clone();
        let sender = sender.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop());
                let Some(m) = next else {
                    return Ok::<(), String>(());
                };
                sender.send(&m).await.map_err(|e| e.to_string())?;
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// The queues measured: `n` messages, and ten times as many (a campaign's backlog: the
/// claims must cost a batch, not the queue behind it).
fn sizes() -> [usize; 2] {
    let n = message_count();
    [n, n.saturating_mul(10)]
}

/// Delivers each queue of [`sizes`] on `url` beside the same sends without an outbox;
/// one row per queue.
fn measure(
    rt: &tokio::runtime::Runtime,
    stub: &EsmsStub,
    url: &str,
    database: &str,
    how: &str,
) -> BenchResult<Vec<serde_json::Value>> {
    let mut rows = Vec::new();
    for n in sizes() {
        let tag = format!("{database}-{n}");
        let (ours, peer) = rt.block_on(async {
            let w = world(url, StoreOptions::default()).await?;
            let peer = direct(stub, n, &tag).await?;
            let ours = through_outbox(&w, stub, n, &tag).await?;
            Ok::<_, String>((ours, peer))
        })?;
        rows.push(row(
            &format!("delivery/{database}/{n}_messages"),
            ours,
            "messages/s",
            Some((
                "the same sends without an outbox",
                peer,
                "messages/s",
                "eSMS sender → eSMS stand-in on loopback, 16 at once, same run",
            )),
            how,
        ));
    }
    Ok(rows)
}

fn run() -> BenchResult<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let stub = EsmsStub::start().map_err(|e| e.to_string())?;
    let mut rows = Vec::new();

    let cluster =
        PgCluster::start_with(PgOptions::new().durable(true)).map_err(|e| e.to_string())?;
    let db = cluster
        .create_database("delivery")
        .map_err(|e| e.to_string())?;
    rows.extend(measure(
        &rt,
        &stub,
        &db,
        "postgres",
        "claim 200 in due order (one UPDATE … RETURNING, FOR UPDATE SKIP LOCKED) with its consent read, up to two claims under way while sending, send 16 at once, record as sent, what was decided meanwhile (up to 1,000) per transaction",
    )?);

    let file = SqliteFile::new().map_err(|e| e.to_string())?;
    rows.extend(measure(
        &rt,
        &stub,
        &file.url(),
        "sqlite",
        "claim 200 in due order (one UPDATE … RETURNING) with its consent read, up to two claims under way while sending, send 16 at once, record as sent, what was decided meanwhile (up to 1,000) per transaction (single writer)",
    )?);
    write_report("delivery.json", &rows)
}
