//! Real-time triggers: the thank-you after a purchase is written with the order and the
//! worker of the process, woken by the outbox bell, delivers it within seconds — its
//! poll is set to a minute and campaign runs are off, so nothing else could. A full
//! refund of the order before its offer goes out cancels the message and voids the
//! voucher.

use crate::targets;
use async_trait::async_trait;
use regulars::worker::{WorkerMetrics, WorkerOptions, run_worker};
use regulars_domain::{BrandId, Channel, EventKey, Refund, RefundScope};
use regulars_http::metrics::Metrics;
use regulars_loyalty::vouchers::VoucherStatus;
use regulars_ports::{
    MessageSender, OutboxMessage, OutboxStatus, OutgoingMessage, SendError, SendReceipt, UnitOfWork,
};
use regulars_service::{CampaignAction, ChannelSenders, Services};
use regulars_store::Store;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// The SMS stand-in: records what it was given.
#[derive(Default)]
struct SmsStandIn(Mutex<Vec<(String, String)>>);

impl SmsStandIn {
    fn sent_to(&self, recipient: &str) -> Vec<String> {
        self.0
            .lock()
            .map(|r| {
                r.iter()
                    .filter(|(to, _)| to == recipient)
                    .map(|(_, body)| body.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[async_trait]
impl MessageSender for SmsStandIn {
    fn channel(&self) -> Channel {
        Channel::Sms
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError> {
        let mut sent = self.0.lock().map_err(|_| SendError::Permanent {
            reason: "poisoned".into(),
        })?;
        sent.push((message.recipient.clone(), message.body.clone()));
        Ok(SendReceipt {
            provider_message_id: format!("sms-{}", sent.len()),
        })
    }
}

async fn launch(services: &Services, brand: BrandId, document: Value) -> String {
    let record = services
        .create_campaign(brand, &document)
        .await
        .unwrap_or_else(|e| panic!("campaign: {e}"));
    services
        .set_campaign_status(brand, record.id, CampaignAction::Launch)
        .await
        .unwrap_or_else(|e| panic!("launch: {e}"));
    record.id.to_string()
}

async fn outbox(store: &Store, brand: BrandId) -> Vec<OutboxMessage> {
    let mut tx = store.begin().await.unwrap_or_else(|e| panic!("{e}"));
    let messages = tx
        .outbox()
        .messages(brand, None, None, 100)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    tx.rollback().await.unwrap_or_else(|e| panic!("{e}"));
    messages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thank_you_is_delivered_by_the_worker_within_seconds_of_the_order() {
    for target in targets("realtime_thanks").await {
        let w = &target.world;
        let name = target.name;
        regulars_tests::sms_customer(&w.services, w.brand, 301, "Lan")
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // A plain thank-you is transactional: no consent, hours or caps apply.
        launch(
            &w.services,
            w.brand,
            json!({"name": "Cảm ơn", "trigger": {"type": "after_purchase"},
                "template": "Cảm ơn {{name}} đã ghé {{shop}}!",
                "channels": ["sms"], "holdout": 0.0}),
        )
        .await;
        let phone = regulars_tests::phone(301).as_str().to_owned();
        let sms = Arc::new(SmsStandIn::default());
        let options = WorkerOptions {
            // Neither a campaign run nor the poll can deliver it in time: only the bell.
            campaign_interval: None,
            poll: Duration::from_secs(60),
            ..WorkerOptions::default()
        };
        let (ordered_tx, ordered_rx) = tokio::sync::oneshot::channel::<Instant>();
        let stop = {
            let (sms, phone) = (sms.clone(), phone.clone());
            async move {
                let Ok(ordered) = ordered_rx.await else {
                    return;
                };
                while sms.sent_to(&phone).is_empty() && ordered.elapsed() < Duration::from_secs(5) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        };
        let services = Arc::new(w.services.clone());
        let worker = tokio::spawn(run_worker(
            services.clone(),
            ChannelSenders::new().with(sms.clone()),
            options,
            WorkerMetrics::register(&Metrics::new()),
            stop,
        ));
        // Let the worker find the outbox empty and settle into its minute-long poll.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = OffsetDateTime::now_utc();
        let ordered = Instant::now();
        let receipt = services
            .ingest_order(w.brand, regulars_tests::order(w.brand, "T-1", 301, now, 1))
            .await
            .unwrap_or_else(|e| panic!("{name}: order: {e}"));
        let _ = ordered_tx.send(ordered);
        let totals = worker.await.unwrap_or_else(|e| panic!("{name}: {e}"));
        let bodies = sms.sent_to(&phone);
        assert_eq!(
            bodies,
            vec!["Cảm ơn Lan đã ghé Test brand!".to_owned()],
            "{name}: not delivered within 5 s of the order: {totals:?}"
        );
        let messages = outbox(&w.store, w.brand).await;
        assert_eq!(messages.len(), 1, "{name}: {messages:?}");
        assert_eq!(messages[0].status, OutboxStatus::Sent, "{name}");
        assert!(!messages[0].promotional, "{name}: a plain thank-you");
        let order_id = receipt.order_id.to_string();
        assert!(
            messages[0]
                .dedupe_key
                .ends_with(&format!(":order-{order_id}")),
            "{name}: {}",
            messages[0].dedupe_key
        );
        // The next campaign run finds it sent: the same dedupe key.
        let runs = w
            .services
            .run_campaigns(w.brand)
            .await
            .unwrap_or_else(|e| panic!("{name}: run: {e}"));
        assert_eq!(runs[0].messages, 0, "{name}: {runs:?}");
        // A repeated delivery of the order writes nothing more.
        let again = services
            .ingest_order(w.brand, regulars_tests::order(w.brand, "T-1", 301, now, 1))
            .await
            .unwrap_or_else(|e| panic!("{name}: order again: {e}"));
        assert!(again.duplicate, "{name}");
        assert_eq!(outbox(&w.store, w.brand).await.len(), 1, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_refund_before_delivery_cancels_the_offer_of_the_thank_you() {
    for target in targets("realtime_refund").await {
        let w = &target.world;
        let name = target.name;
        for n in [401, 402] {
            regulars_tests::sms_customer(&w.services, w.brand, n, "Minh")
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        // An offer makes the thank-you promotional; sent at a fixed hour at least an
        // hour away, so it is still waiting when the refund comes.
        let local_hour = (OffsetDateTime::now_utc().hour() + 7 + 2) % 24;
        let campaign = launch(
            &w.services,
            w.brand,
            json!({"name": "Cảm ơn", "trigger": {"type": "after_purchase"},
                "offer": {"type": "fixed", "reward": {"reward_id": w.reward.to_string(),
                          "cost": {"amount": "20000", "currency": "VND"}}},
                "template": "Cảm ơn bạn! Mã {{code}}: {{reward}}.",
                "send_time": {"type": "fixed_hour", "hour": local_hour},
                "channels": ["sms"], "holdout": 0.0}),
        )
        .await;
        let now = OffsetDateTime::now_utc();
        for (n, key) in [(401, "T-1"), (402, "T-2")] {
            w.services
                .ingest_order(w.brand, regulars_tests::order(w.brand, key, n, now, 1))
                .await
                .unwrap_or_else(|e| panic!("{name}: order: {e}"));
        }
        let messages = outbox(&w.store, w.brand).await;
        assert_eq!(messages.len(), 2, "{name}: written with the orders");
        assert!(
            messages.iter().all(|m| m.promotional
                && m.status == OutboxStatus::Pending
                && m.body.starts_with("[QC] ")),
            "{name}: {messages:?}"
        );

        let refund = |key: &str, order: &str| Refund {
            brand_id: w.brand,
            key: EventKey::new("pos:generic", key).unwrap_or_else(|e| panic!("{e}")),
            order: EventKey::new("pos:generic", order).unwrap_or_else(|e| panic!("{e}")),
            refunded_at: now,
            scope: RefundScope::Full,
        };
        let receipt = w
            .services
            .refund_order(w.brand, refund("R-1", "T-1"))
            .await
            .unwrap_or_else(|e| panic!("{name}: refund: {e}"));
        assert_eq!(receipt.vouchers_voided, 1, "{name}: {receipt:?}");

        let messages = outbox(&w.store, w.brand).await;
        let phone_of = |n: u64| regulars_tests::phone(n).as_str().to_owned();
        let status_of = |n: u64| {
            messages
                .iter()
                .find(|m| m.phone.as_deref() == Some(phone_of(n).as_str()))
                .map(|m| m.status)
        };
        assert_eq!(status_of(401), Some(OutboxStatus::Cancelled), "{name}");
        assert_eq!(status_of(402), Some(OutboxStatus::Pending), "{name}");

        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        for n in [401, 402] {
            let customer = tx
                .customers()
                .customer_by_phone(w.brand, &regulars_tests::phone(n))
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .unwrap_or_else(|| panic!("{name}: customer {n}"));
            let vouchers = tx
                .vouchers()
                .vouchers_of(w.brand, customer.id)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(vouchers.len(), 1, "{name}: {vouchers:?}");
            let voided = !matches!(vouchers[0].status(), VoucherStatus::Issued);
            assert_eq!(
                voided,
                n == 401,
                "{name}: only the refunded order's voucher: {n}"
            );
        }
        tx.rollback().await.unwrap_or_else(|e| panic!("{e}"));

        // The next campaign run does not offer it again.
        let runs = w
            .services
            .run_campaigns(w.brand)
            .await
            .unwrap_or_else(|e| panic!("{name}: run: {e}"));
        assert_eq!(runs[0].messages, 0, "{name}: {campaign}: {runs:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_welcome_and_a_reward_notice_are_written_as_they_happen_and_once() {
    for target in targets("realtime_lifecycle").await {
        let w = &target.world;
        let name = target.name;
        w.services
            .set_messaging_policy(w.brand, regulars_campaigns::Policy::unrestricted())
            .await
            .unwrap_or_else(|e| panic!("{name}: policy: {e}"));
        for trigger in [
            json!({"type": "welcome"}),
            json!({"type": "reward_affordable"}),
        ] {
            launch(
                &w.services,
                w.brand,
                json!({"name": "Vòng đời", "trigger": trigger, "channels": ["sms"],
                    "holdout": 0.0, "frequency_cap": null}),
            )
            .await;
        }
        // Registration plans the welcome in its own transaction.
        regulars_tests::sms_customer(&w.services, w.brand, 501, "Hoa")
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let keys = |messages: Vec<OutboxMessage>| -> Vec<String> {
            let mut keys: Vec<String> = messages
                .into_iter()
                .map(|m| {
                    m.dedupe_key
                        .rsplit(':')
                        .next()
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect();
            keys.sort();
            keys
        };
        assert_eq!(
            keys(outbox(&w.store, w.brand).await),
            vec!["welcome"],
            "{name}"
        );

        // An order that pays for the fixture's reward plans the notice with it.
        let receipt = w
            .services
            .ingest_order(
                w.brand,
                regulars_tests::order(w.brand, "T-1", 501, OffsetDateTime::now_utc(), 3),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: order: {e}"));
        let balance = receipt.balance.map(|b| b.value()).unwrap_or_default();
        assert!(
            balance >= regulars_tests::REWARD_COST,
            "{name}: {receipt:?}"
        );
        let multiple = balance / regulars_tests::REWARD_COST;
        let cost = regulars_tests::REWARD_COST;
        assert_eq!(
            keys(outbox(&w.store, w.brand).await),
            vec![
                format!("affordable-{cost}-{multiple}"),
                "welcome".to_owned()
            ],
            "{name}"
        );
        // Campaign runs find both written: nothing is sent twice.
        let runs = w
            .services
            .run_campaigns(w.brand)
            .await
            .unwrap_or_else(|e| panic!("{name}: run: {e}"));
        assert!(runs.iter().all(|r| r.messages == 0), "{name}: {runs:?}");
        assert_eq!(outbox(&w.store, w.brand).await.len(), 2, "{name}");
    }
}
