//! The background worker isolates brands: a campaign whose stored document would once
//! panic the planner (a span past the calendar, written before spans were bounded) fails
//! its own brand's run, which is logged and counted, while a healthy brand's messages
//! are planned and delivered.

use crate::targets;
use async_trait::async_trait;
use regulars::worker::{WorkerMetrics, WorkerOptions, run_worker};
use regulars_domain::{BrandId, Channel};
use regulars_http::metrics::Metrics;
use regulars_ports::{
    MessageSender, OutboxStatus, OutgoingMessage, SendError, SendReceipt, UnitOfWork,
};
use regulars_service::{CampaignAction, ChannelSenders, Services};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An SMS channel that records who it sent to.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Recorder {
    fn sent_to(&self, recipient: &str) -> bool {
        self.0
            .lock()
            .map(|r| r.iter().any(|x| x == recipient))
            .unwrap_or(false)
    }
}

#[async_trait]
impl MessageSender for Recorder {
    fn channel(&self) -> Channel {
        Channel::Sms
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError> {
        let mut sent = self.0.lock().map_err(|_| SendError::Permanent {
            reason: "poisoned".into(),
        })?;
        sent.push(message.recipient.clone());
        Ok(SendReceipt {
            provider_message_id: format!("rec-{}", sent.len()),
        })
    }
}

/// A customer who takes SMS, and an active SMS broadcast to everyone.
async fn launch_broadcast(services: &Services, brand: BrandId, phone: u64) -> Value {
    regulars_tests::sms_customer(services, brand, phone, "Lan")
        .await
        .unwrap_or_else(|e| panic!("customer: {e}"));
    // The brand's legal hours would defer the message whenever the test runs at night.
    services
        .set_messaging_policy(brand, regulars_campaigns::Policy::unrestricted())
        .await
        .unwrap_or_else(|e| panic!("policy: {e}"));
    let record = services
        .create_campaign(
            brand,
            &json!({"name": "Khai trương", "trigger": {"type": "broadcast"},
                "channels": ["sms"], "policy": {}, "holdout": 0.0, "frequency_cap": null}),
        )
        .await
        .unwrap_or_else(|e| panic!("campaign: {e}"));
    services
        .set_campaign_status(brand, record.id, CampaignAction::Launch)
        .await
        .unwrap_or_else(|e| panic!("launch: {e}"));
    json!({"id": record.id.to_string(), "definition": record.definition})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poisoned_campaign_stops_neither_other_brands_nor_delivery() {
    for target in targets("worker_isolation").await {
        let w = &target.world;
        let name = target.name;
        // The poisoned brand is set up first, so its run comes before or after the
        // healthy one's depending on the ids: either way the healthy brand must deliver.
        let (poisoned, _) = regulars_tests::add_brand(&w.services)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let bad = launch_broadcast(&w.services, poisoned, 101).await;
        // Store a span past the calendar directly, as a document saved before spans
        // were bounded would be: planning once computed `now - 4e9 days` and panicked.
        let mut definition: Value = serde_json::from_str(bad["definition"].as_str().unwrap_or(""))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        definition["frequency_cap"] = json!({"max": 1, "days": 4_000_000_000u32});
        definition["policy"]["cap_window_hours"] = json!(4_000_000_000u32);
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let id = bad["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{name}: campaign id"));
        let mut record = tx
            .campaigns()
            .campaign(poisoned, id)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .unwrap_or_else(|| panic!("{name}: campaign gone"));
        record.definition = definition.to_string();
        assert!(
            tx.campaigns()
                .update_campaign(&record)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"))
        );
        tx.commit().await.unwrap_or_else(|e| panic!("{name}: {e}"));

        launch_broadcast(&w.services, w.brand, 202).await;
        let healthy_phone = regulars_tests::phone(202).as_str().to_owned();

        let recorder = Arc::new(Recorder::default());
        let metrics = Metrics::new();
        let options = WorkerOptions {
            campaign_interval: Some(Duration::from_secs(3600)),
            poll: Duration::from_millis(50),
            ..WorkerOptions::default()
        };
        let stop = {
            let recorder = recorder.clone();
            let phone = healthy_phone.clone();
            async move {
                let started = Instant::now();
                while !recorder.sent_to(&phone) && started.elapsed() < Duration::from_secs(30) {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        let totals = run_worker(
            Arc::new(w.services.clone()),
            ChannelSenders::new().with(recorder.clone()),
            options,
            WorkerMetrics::register(&metrics),
            stop,
        )
        .await;

        assert!(
            recorder.sent_to(&healthy_phone),
            "{name}: the healthy brand's message was not delivered: {totals:?}"
        );
        assert_eq!(totals.campaign_failures, 1, "{name}: {totals:?}");
        assert_eq!(totals.planned, 1, "{name}: {totals:?}");
        assert!(
            metrics
                .encode()
                .contains(r#"regulars_worker_failures_total{task="campaigns",kind="error"} 1"#),
            "{name}: {}",
            metrics.encode()
        );
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let healthy = tx
            .outbox()
            .messages(w.brand, None, None, 10)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let stuck = tx
            .outbox()
            .messages(poisoned, None, None, 10)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        tx.rollback()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(healthy.len(), 1, "{name}");
        assert_eq!(healthy[0].status, OutboxStatus::Sent, "{name}");
        assert!(stuck.is_empty(), "{name}: {stuck:?}");
    }
}
