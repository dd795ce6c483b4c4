//! The delivery worker against a failing provider, killed mid-run: a campaign puts
//! messages in the outbox, `regulars work` delivers them through the eSMS stand-in that
//! fails 30 % of calls (and loses some acknowledgements after delivering), the worker is
//! killed with SIGKILL part-way, restarted, and must finish with every message delivered
//! exactly once per dedupe key at the provider, none lost and none dead.

use crate::reliability::regulars;
use regulars_ports::{OutboxStatus, UnitOfWork};
use regulars_store::StoreOptions;
use regulars_testkit::providers::{EsmsStub, Fault};
use regulars_testkit::{SqliteFile, require_pg};
use regulars_tests::{World, world};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const CUSTOMERS: u64 = 150;
const FAILURE_RATIO: f64 = 0.3;

struct Worker(Child);

impl Worker {
    fn start(dir: &std::path::Path, url: &str, stub: &EsmsStub) -> Worker {
        let child = regulars(dir, url)
            .arg("work")
            .env("REGULARS_ESMS_API_KEY", stub.api_key())
            .env("REGULARS_ESMS_SECRET_KEY", stub.secret_key())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start regulars work: {e}"));
        Worker(child)
    }

    fn kill(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn counts(w: &World) -> BTreeMap<OutboxStatus, u64> {
    let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
    tx.outbox()
        .counts(w.brand, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn outbox_keys(w: &World) -> Vec<String> {
    let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
    tx.outbox()
        .messages(w.brand, None, None, 1_000)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        // The provider sees each message's provider key, derived from its dedupe key.
        .map(|m| regulars_ports::provider_key(&m.dedupe_key))
        .collect()
}

async fn scenario(name: &str, url: &str, options: StoreOptions) {
    let w = world(url, options)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    for n in 0..CUSTOMERS {
        regulars_tests::sms_customer(&w.services, w.brand, n, &format!("Khách {n}"))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    w.services
        .set_messaging_policy(w.brand, regulars_campaigns::Policy::unrestricted())
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let campaign = w
        .services
        .create_campaign(
            w.brand,
            &json!({
                "name": "Khai trương chi nhánh mới",
                "trigger": {"type": "broadcast"},
                "offer": {"type": "fixed", "reward": {"reward_id": w.reward.to_string(),
                          "cost": {"amount": "10000", "currency": "VND"}}},
                "channels": ["sms"],
                "policy": {},
                "frequency_cap": null
            }),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    w.services
        .set_campaign_status(
            w.brand,
            campaign.id,
            regulars_service::CampaignAction::Launch,
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let runs = w
        .services
        .run_campaigns(w.brand)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let planned = runs.iter().map(|r| r.messages).sum::<u64>();
    assert!(planned > CUSTOMERS / 2, "{name}: {runs:?}");
    let keys: HashSet<String> = outbox_keys(&w).await.into_iter().collect();
    assert_eq!(keys.len() as u64, planned, "{name}");

    let stub = EsmsStub::start().unwrap_or_else(|e| panic!("stub: {e}"));
    stub.set_failure_ratio(FAILURE_RATIO, 7);
    // Some calls deliver and then lose the answer: the worker cannot know they went out.
    for _ in 0..5 {
        stub.push_fault(Fault::DropAfterAccept);
    }
    let dir = tempfile_dir(name);
    std::fs::write(
        dir.join("regulars.toml"),
        format!(
            "[senders]\ntimeout_secs = 2\n\n[senders.sms]\nbase_url = \"{}\"\nbrandname = \"{}\"\n\n\
             [worker]\ncampaign_interval_minutes = 0\nlease_seconds = 2\nbackoff_seconds = 1\nmax_backoff_seconds = 4\n\
             max_attempts = 40\nconcurrency = 8\n",
            stub.base_url(),
            stub.brandname()
        ),
    )
    .unwrap_or_else(|e| panic!("config: {e}"));

    // First worker: killed once a third of the messages went out.
    let worker = Worker::start(&dir, url, &stub);
    let started = Instant::now();
    while (stub.accepted_count() as u64) < planned / 3 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{name}: the worker delivered only {} of {planned} in 60 s",
            stub.accepted_count()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.kill();
    let at_kill = counts(&w).await;
    let accepted_at_kill = stub.accepted_count();

    // Second worker: finishes the queue.
    let worker = Worker::start(&dir, url, &stub);
    let started = Instant::now();
    loop {
        let c = counts(&w).await;
        let open = c.get(&OutboxStatus::Pending).copied().unwrap_or(0)
            + c.get(&OutboxStatus::Sending).copied().unwrap_or(0);
        if open == 0 {
            break;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
            let open: Vec<String> = tx
                .outbox()
                .messages(w.brand, None, None, 1_000)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .into_iter()
                .filter(|m| matches!(m.status, OutboxStatus::Pending | OutboxStatus::Sending))
                .map(|m| {
                    format!(
                        "{} {:?} attempts {} due {} error {:?}",
                        m.dedupe_key, m.status, m.attempts, m.due_at, m.last_error
                    )
                })
                .collect();
            panic!("{name}: still open after 120 s: {c:?}: {open:#?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    worker.kill();

    let done = counts(&w).await;
    assert_eq!(
        done,
        BTreeMap::from([(OutboxStatus::Sent, planned)]),
        "{name}: every message sent, none dead"
    );
    let deliveries = stub.deliveries();
    let delivered: Vec<&str> = deliveries.iter().map(|d| d.dedupe_key.as_str()).collect();
    let unique: HashSet<&str> = delivered.iter().copied().collect();
    assert_eq!(
        unique.len(),
        delivered.len(),
        "{name}: a key delivered twice"
    );
    assert_eq!(
        unique,
        keys.iter().map(String::as_str).collect::<HashSet<_>>(),
        "{name}: the provider delivered exactly the outbox's keys"
    );
    let resent: u32 = deliveries
        .iter()
        .map(|d| d.requests.saturating_sub(1))
        .sum();
    println!(
        "{name}: {planned} messages; worker killed after {accepted_at_kill} accepted \
         (outbox then {at_kill:?}); provider saw {} requests ({:.0} % failing by design), \
         {resent} repeated keys answered as the same request; {} delivered once each, 0 lost, 0 dead",
        stub.request_count(),
        FAILURE_RATIO * 100.0,
        unique.len()
    );
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "regulars-outbox-{name}-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_killed_mid_run_against_a_failing_provider_delivers_each_message_once_on_sqlite() {
    let file = SqliteFile::new().unwrap_or_else(|e| panic!("sqlite file: {e}"));
    scenario("sqlite", &file.url(), StoreOptions::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_killed_mid_run_against_a_failing_provider_delivers_each_message_once_on_postgres() {
    let Some(cluster) = require_pg() else {
        return;
    };
    let url = cluster
        .create_database("outbox_faults")
        .unwrap_or_else(|e| panic!("create database: {e}"));
    scenario("postgres", &url, StoreOptions::default()).await;
}
