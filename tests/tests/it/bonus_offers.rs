//! Bonus-point campaign offers, on both databases: the points are credited when the
//! message is sent — once, whatever retries, crashed workers or racing workers do — and
//! never for a message that fails for good; the campaign's report counts them at the
//! programme's point value. Two delivery runs racing over the same due messages (one
//! taking over the other's claims after its lease) credit each message exactly once.

use crate::targets;
use async_trait::async_trait;
use regulars::system::OsIdGen;
use regulars_domain::{BrandId, CampaignId, Channel, CustomerId, Points};
use regulars_loyalty::ledger::{EntryKind, LedgerEntry};
use regulars_loyalty::rules::EarningRules;
use regulars_ports::{
    Clock, MessageSender, OutboxMessage, OutboxStatus, OutgoingMessage, SendError, SendReceipt,
    UnitOfWork,
};
use regulars_service::{CampaignAction, ChannelSenders, DeliveryOptions, Services};
use regulars_store::{Store, StoreOptions};
use regulars_tests::{ManualClock, World};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use time::macros::time;
use time::{Duration, OffsetDateTime};

/// An SMS provider whose answers are scripted per recipient (then it accepts), and which
/// may hold every send until it is opened.
#[derive(Default)]
struct Scripted {
    answers: Mutex<HashMap<String, Vec<Result<(), SendError>>>>,
    sent: Mutex<Vec<String>>,
    started: AtomicUsize,
    gate: Option<Arc<tokio::sync::Semaphore>>,
}

impl Scripted {
    fn answer(&self, recipient: &str, answers: Vec<Result<(), SendError>>) {
        if let Ok(mut map) = self.answers.lock() {
            map.insert(recipient.to_owned(), answers);
        }
    }

    fn sends(&self) -> usize {
        self.sent.lock().map(|s| s.len()).unwrap_or(0)
    }
}

#[async_trait]
impl MessageSender for Scripted {
    fn channel(&self) -> Channel {
        Channel::Sms
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError> {
        self.started.fetch_add(1, Ordering::SeqCst);
        if let Some(gate) = &self.gate {
            let _open = gate.acquire().await;
        }
        let scripted = self
            .answers
            .lock()
            .ok()
            .and_then(|mut map| {
                let queue = map.get_mut(&message.recipient)?;
                (!queue.is_empty()).then(|| queue.remove(0))
            })
            .unwrap_or(Ok(()));
        scripted?;
        let mut sent = self.sent.lock().map_err(|_| SendError::Permanent {
            reason: "poisoned".into(),
        })?;
        sent.push(message.dedupe_key.clone());
        Ok(SendReceipt {
            provider_message_id: format!("sms-{}", sent.len()),
        })
    }
}

/// 10:00 in Vietnam today: inside the hours promotional messages may go out.
fn morning() -> OffsetDateTime {
    OffsetDateTime::now_utc().replace_time(time!(03:00))
}

/// Use cases on the world's store under a clock the test moves.
fn on_clock(w: &World, clock: &Arc<ManualClock>) -> Services {
    Services::new(w.store.clone(), clock.clone(), Arc::new(OsIdGen))
}

/// Gives points a value of 100 đồng in the brand's programme.
async fn value_points(services: &Services, brand: BrandId) {
    let mut rules =
        EarningRules::from_json(regulars_tests::RULES).unwrap_or_else(|e| panic!("{e}"));
    rules.point_value = Some(100.into());
    services
        .set_earning_rules(brand, rules)
        .await
        .unwrap_or_else(|e| panic!("rules: {e}"));
}

/// Launches a broadcast giving `points` bonus points by SMS to everyone.
async fn launch_bonus(services: &Services, brand: BrandId, points: i64) -> CampaignId {
    let record = services
        .create_campaign(
            brand,
            &json!({"name": "Tặng điểm", "trigger": {"type": "broadcast"},
                "offer": {"type": "bonus_points", "points": points},
                "channels": ["sms"], "holdout": 0.0, "frequency_cap": null}),
        )
        .await
        .unwrap_or_else(|e| panic!("campaign: {e}"));
    services
        .set_campaign_status(brand, record.id, CampaignAction::Launch)
        .await
        .unwrap_or_else(|e| panic!("launch: {e}"));
    record.id
}

async fn customer_id(store: &Store, brand: BrandId, n: u64) -> CustomerId {
    let mut tx = store.begin().await.unwrap_or_else(|e| panic!("{e}"));
    let found = tx
        .customers()
        .customer_by_phone(brand, &regulars_tests::phone(n))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("customer {n}"));
    tx.rollback().await.unwrap_or_else(|e| panic!("{e}"));
    found.id
}

async fn entries(store: &Store, brand: BrandId, customer: CustomerId) -> Vec<LedgerEntry> {
    let mut tx = store.begin().await.unwrap_or_else(|e| panic!("{e}"));
    let found = tx
        .ledger()
        .entries(brand, customer)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    tx.rollback().await.unwrap_or_else(|e| panic!("{e}"));
    found
}

async fn outbox(store: &Store, brand: BrandId) -> Vec<OutboxMessage> {
    let mut tx = store.begin().await.unwrap_or_else(|e| panic!("{e}"));
    let messages = tx
        .outbox()
        .messages(brand, None, None, 500)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    tx.rollback().await.unwrap_or_else(|e| panic!("{e}"));
    messages
}

/// Bonus entries per message across the brand's customers `numbers`.
async fn bonuses(
    store: &Store,
    brand: BrandId,
    numbers: impl IntoIterator<Item = u64>,
) -> BTreeMap<String, Vec<Points>> {
    let mut out: BTreeMap<String, Vec<Points>> = BTreeMap::new();
    for n in numbers {
        let customer = customer_id(store, brand, n).await;
        for e in entries(store, brand, customer).await {
            if let EntryKind::CampaignBonus { message, .. } = e.kind {
                out.entry(message).or_default().push(e.amount);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bonus_is_credited_once_when_sent_and_never_for_a_dead_message() {
    for target in targets("bonus_once").await {
        let (w, name) = (&target.world, target.name);
        let clock = ManualClock::at(morning());
        let services = on_clock(w, &clock);
        value_points(&services, w.brand).await;
        for (n, who) in [(501, "Lan"), (502, "Minh")] {
            regulars_tests::sms_customer(&services, w.brand, n, who)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let campaign = launch_bonus(&services, w.brand, 50).await;
        let runs = services
            .run_campaigns(w.brand)
            .await
            .unwrap_or_else(|e| panic!("{name}: run: {e}"));
        assert_eq!(runs[0].messages, 2, "{name}: {runs:?}");
        assert_eq!(runs[0].vouchers, 0, "{name}: bonus points issue no voucher");
        assert_eq!(
            runs[0].budget_used_minor, 10_000,
            "{name}: 2 × 50 × 100 đồng"
        );
        let planned = outbox(&w.store, w.brand).await;
        assert!(
            planned
                .iter()
                .all(|m| m.bonus_points == Some(Points::new(50))
                    && m.promotional
                    && m.body.contains("50 điểm")),
            "{name}: {planned:?}"
        );
        let (lan, minh) = (
            customer_id(&w.store, w.brand, 501).await,
            customer_id(&w.store, w.brand, 502).await,
        );
        assert!(
            entries(&w.store, w.brand, lan).await.is_empty(),
            "{name}: nothing is credited when planned"
        );

        // Lan's first attempt fails for now; Minh's number is refused for good.
        let sms = Arc::new(Scripted::default());
        let retry = SendError::Retryable {
            reason: "busy".into(),
            retry_after: None,
        };
        sms.answer(regulars_tests::phone(501).as_str(), vec![Err(retry)]);
        let refused = SendError::Permanent {
            reason: "no such number".into(),
        };
        sms.answer(regulars_tests::phone(502).as_str(), vec![Err(refused)]);
        let senders = ChannelSenders::new().with(sms.clone());
        let options = DeliveryOptions::default();
        let round = services
            .deliver_due(&senders, &options)
            .await
            .unwrap_or_else(|e| panic!("{name}: deliver: {e}"));
        assert_eq!((round.retried, round.dead), (1, 1), "{name}: {round:?}");
        assert!(
            entries(&w.store, w.brand, lan).await.is_empty(),
            "{name}: a retried send credits nothing"
        );

        // The retry goes through: credited once, with the programme's validity.
        clock.advance(Duration::hours(2));
        let round = services
            .deliver_due(&senders, &options)
            .await
            .unwrap_or_else(|e| panic!("{name}: deliver: {e}"));
        assert_eq!(round.sent, 1, "{name}: {round:?}");
        let lan_entries = entries(&w.store, w.brand, lan).await;
        assert_eq!(lan_entries.len(), 1, "{name}: {lan_entries:?}");
        let entry = &lan_entries[0];
        assert_eq!(entry.amount, Points::new(50), "{name}");
        let EntryKind::CampaignBonus {
            campaign: credited_by,
            message,
            expires_at,
        } = &entry.kind
        else {
            panic!("{name}: {entry:?}")
        };
        assert_eq!(*credited_by, campaign, "{name}");
        assert_eq!(*expires_at, Some(entry.at + Duration::days(365)), "{name}");
        let sent = outbox(&w.store, w.brand).await;
        let lan_message = sent
            .iter()
            .find(|m| m.customer_id == Some(lan))
            .unwrap_or_else(|| panic!("{name}: Lan's message"));
        assert_eq!(message, &lan_message.id.to_string(), "{name}");
        assert_eq!(lan_message.status, OutboxStatus::Sent, "{name}");

        // Another pass of this worker, and of a second one, credit nothing more.
        clock.advance(Duration::hours(1));
        let second = on_clock(w, &clock);
        for services in [&services, &second] {
            let round = services
                .deliver_due(&senders, &options)
                .await
                .unwrap_or_else(|e| panic!("{name}: deliver: {e}"));
            assert_eq!(round.claimed, 0, "{name}: {round:?}");
        }
        assert_eq!(entries(&w.store, w.brand, lan).await.len(), 1, "{name}");
        assert!(
            entries(&w.store, w.brand, minh).await.is_empty(),
            "{name}: a dead message credits nothing"
        );

        let report = services
            .campaign_report(w.brand, campaign)
            .await
            .unwrap_or_else(|e| panic!("{name}: report: {e}"));
        assert_eq!(report.bonus_credits, 1, "{name}");
        assert_eq!(report.bonus_points, Points::new(50), "{name}");
        assert_eq!(report.bonus_cost_minor, 5_000, "{name}");
        assert_eq!(report.offer_cost_minor, 5_000, "{name}");
        let ledger = services
            .check_ledger(Some(w.brand))
            .await
            .unwrap_or_else(|e| panic!("{name}: check: {e}"));
        assert!(ledger.is_clean(), "{name}: {ledger:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_claimed_by_a_worker_that_died_is_credited_once_by_the_next() {
    for target in targets("bonus_crash").await {
        let (w, name) = (&target.world, target.name);
        let clock = ManualClock::at(morning());
        let services = on_clock(w, &clock);
        regulars_tests::sms_customer(&services, w.brand, 511, "Lan")
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        launch_bonus(&services, w.brand, 30).await;
        services
            .run_campaigns(w.brand)
            .await
            .unwrap_or_else(|e| panic!("{name}: run: {e}"));
        // A worker claims the message, sends it and dies before recording anything.
        let now = clock.now();
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let claimed = tx
            .outbox()
            .claim_due(now, now + Duration::minutes(2), 10)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(claimed.len(), 1, "{name}");
        // After its lease the message goes again (the same dedupe key) and is credited.
        clock.advance(Duration::minutes(3));
        let sms = Arc::new(Scripted::default());
        let senders = ChannelSenders::new().with(sms.clone());
        let round = services
            .deliver_due(&senders, &DeliveryOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{name}: deliver: {e}"));
        assert_eq!(round.sent, 1, "{name}: {round:?}");
        // The dead worker's late record is refused: its claim is gone.
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let kept = tx
            .outbox()
            .mark_sent_many(&[(claimed[0].clone(), "late".into())], clock.now())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(kept, vec![false], "{name}");
        let credited = bonuses(&w.store, w.brand, [511]).await;
        assert_eq!(credited.len(), 1, "{name}: {credited:?}");
        assert!(
            credited.values().all(|p| p == &vec![Points::new(30)]),
            "{name}: {credited:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_delivery_runs_credit_each_message_exactly_once() {
    const N: u64 = 12;
    for target in targets("bonus_race").await {
        let (w, name) = (&target.world, target.name);
        let clock = ManualClock::at(morning());
        let services = on_clock(w, &clock);
        for n in 0..N {
            regulars_tests::sms_customer(&services, w.brand, 600 + n, "Khách")
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        launch_bonus(&services, w.brand, 20).await;
        services
            .run_campaigns(w.brand)
            .await
            .unwrap_or_else(|e| panic!("{name}: run: {e}"));
        // A second process on the same database: its own store and use cases.
        let other_store = Arc::new(
            Store::connect(&target.url, StoreOptions::default().max_connections(20))
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}")),
        );
        let other = Services::new(other_store, clock.clone(), Arc::new(OsIdGen));

        // Run A claims every message and hangs in its sends past its lease.
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let slow = Arc::new(Scripted {
            gate: Some(gate.clone()),
            ..Scripted::default()
        });
        let options = DeliveryOptions::default();
        let run_a = {
            let (services, senders) = (services.clone(), ChannelSenders::new().with(slow.clone()));
            tokio::spawn(async move { services.deliver_due(&senders, &options).await })
        };
        while slow.started.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        // Run B, in the other process, takes the claims over once the lease is out, and
        // sends and records them while A is still sending; then A finishes too.
        clock.advance(options.lease + Duration::seconds(1));
        let fast = Arc::new(Scripted::default());
        let run_b = {
            let senders = ChannelSenders::new().with(fast.clone());
            let other = other.clone();
            tokio::spawn(async move { other.deliver_due(&senders, &options).await })
        };
        // A third run races B over whatever is left.
        let run_c = {
            let senders = ChannelSenders::new().with(fast.clone());
            let services = services.clone();
            tokio::spawn(async move { services.deliver_due(&senders, &options).await })
        };
        let b = run_b.await.unwrap_or_else(|e| panic!("{e}"));
        let c = run_c.await.unwrap_or_else(|e| panic!("{e}"));
        gate.add_permits(N as usize * 2);
        let a = run_a.await.unwrap_or_else(|e| panic!("{e}"));
        let (a, b, c) = (
            a.unwrap_or_else(|e| panic!("{name}: A: {e}")),
            b.unwrap_or_else(|e| panic!("{name}: B: {e}")),
            c.unwrap_or_else(|e| panic!("{name}: C: {e}")),
        );
        assert_eq!(a.claimed, N, "{name}: {a:?}");
        assert_eq!(b.claimed + c.claimed, N, "{name}: {b:?} {c:?}");
        assert_eq!(b.sent + c.sent, N, "{name}: {b:?} {c:?}");
        assert_eq!(a.lost, N, "{name}: A's records come too late: {a:?}");
        assert_eq!(slow.sends() + fast.sends(), 2 * N as usize, "{name}");

        let credited = bonuses(&w.store, w.brand, (0..N).map(|n| 600 + n)).await;
        assert_eq!(credited.len(), N as usize, "{name}: {credited:?}");
        assert!(
            credited.values().all(|p| p == &vec![Points::new(20)]),
            "{name}: exactly one credit per message: {credited:?}"
        );
        let messages = outbox(&w.store, w.brand).await;
        assert!(
            messages.iter().all(|m| m.status == OutboxStatus::Sent
                && credited.contains_key(&m.id.to_string())),
            "{name}: {messages:?}"
        );
        let ledger = services
            .check_ledger(Some(w.brand))
            .await
            .unwrap_or_else(|e| panic!("{name}: check: {e}"));
        assert!(ledger.is_clean(), "{name}: {ledger:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_refund_before_delivery_cancels_an_after_purchase_bonus() {
    for target in targets("bonus_refund").await {
        let (w, name) = (&target.world, target.name);
        let clock = ManualClock::at(morning());
        let services = on_clock(w, &clock);
        regulars_tests::sms_customer(&services, w.brand, 701, "Lan")
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // Sent at a fixed hour two hours away: still waiting when the refund comes.
        let record = services
            .create_campaign(
                w.brand,
                &json!({"name": "Cảm ơn", "trigger": {"type": "after_purchase"},
                    "offer": {"type": "bonus_points", "points": 40},
                    "send_time": {"type": "fixed_hour", "hour": 12},
                    "channels": ["sms"], "holdout": 0.0}),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: campaign: {e}"));
        services
            .set_campaign_status(w.brand, record.id, CampaignAction::Launch)
            .await
            .unwrap_or_else(|e| panic!("{name}: launch: {e}"));
        let now = clock.now();
        services
            .ingest_order(w.brand, regulars_tests::order(w.brand, "B-1", 701, now, 1))
            .await
            .unwrap_or_else(|e| panic!("{name}: order: {e}"));
        let written = outbox(&w.store, w.brand).await;
        assert_eq!(written.len(), 1, "{name}: {written:?}");
        assert_eq!(written[0].bonus_points, Some(Points::new(40)), "{name}");
        let refund = regulars_domain::Refund {
            brand_id: w.brand,
            key: regulars_domain::EventKey::new("pos:generic", "R-1")
                .unwrap_or_else(|e| panic!("{e}")),
            order: regulars_domain::EventKey::new("pos:generic", "B-1")
                .unwrap_or_else(|e| panic!("{e}")),
            refunded_at: now,
            scope: regulars_domain::RefundScope::Full,
        };
        services
            .refund_order(w.brand, refund)
            .await
            .unwrap_or_else(|e| panic!("{name}: refund: {e}"));
        clock.advance(Duration::hours(3));
        let sms = Arc::new(Scripted::default());
        let round = services
            .deliver_due(
                &ChannelSenders::new().with(sms.clone()),
                &DeliveryOptions::default(),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: deliver: {e}"));
        assert_eq!(round.claimed, 0, "{name}: {round:?}");
        let messages = outbox(&w.store, w.brand).await;
        assert_eq!(messages[0].status, OutboxStatus::Cancelled, "{name}");
        assert!(
            bonuses(&w.store, w.brand, [701]).await.is_empty(),
            "{name}: a cancelled offer credits nothing"
        );
    }
}
