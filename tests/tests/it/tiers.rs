//! Tiers move down at the period end: the worker reviews every tiered customer once per
//! period on the brand's wall clock, moves those whose window no longer holds the tier
//! down (never up), counts it in `/metrics`, and a `tier_down` campaign tells them. Two
//! reviews at once move no one twice.

use crate::targets;
use regulars::worker::{WorkerMetrics, WorkerOptions, run_worker};
use regulars_domain::BrandId;
use regulars_http::metrics::Metrics;
use regulars_loyalty::tiers::TierProgram;
use regulars_ports::UnitOfWork;
use regulars_service::{CampaignAction, ChannelSenders, Services};
use regulars_store::Store;
use regulars_tests::ManualClock;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::macros::datetime;

/// The tier code customer `n` holds now.
async fn tier_of(store: &Store, brand: BrandId, n: u64) -> Option<String> {
    let mut tx = store.begin().await.unwrap_or_else(|e| panic!("{e}"));
    let customer = tx
        .customers()
        .customer_by_phone(brand, &regulars_tests::phone(n))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("customer {n}"));
    let stats = tx
        .customers()
        .stats(brand, customer.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    tx.rollback().await.unwrap_or_else(|e| panic!("{e}"));
    stats.and_then(|s| s.tier).map(|t| t.code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiers_move_down_once_per_period_in_the_worker() {
    for target in targets("tier_review").await {
        let name = target.name;
        let w = &target.world;
        let brand = w.brand;
        let clock = ManualClock::at(datetime!(2026-03-05 03:00 UTC));
        let services = Services::new(
            w.store.clone(),
            clock.clone(),
            Arc::new(regulars::system::OsIdGen),
        );
        // Any point earned in the last 10 days keeps Silver; reviewed monthly, +07:00.
        let program: TierProgram = serde_json::from_value(json!({
            "metric": {"kind": "points"}, "window_days": 10, "review_period": "month",
            "tiers": [
                {"code": "member", "name": "Member", "threshold": 0, "benefits": {"earn_multiplier": "1"}},
                {"code": "silver", "name": "Silver", "threshold": 1, "benefits": {"earn_multiplier": "1"}}
            ]
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        services
            .set_tiers(brand, Some(program))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        services
            .set_messaging_policy(brand, regulars_campaigns::Policy::unrestricted())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for (n, who) in [(1, "Lan"), (2, "Minh")] {
            regulars_tests::sms_customer(&services, brand, n, who)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let at = datetime!(2026-03-05 02:00 UTC);
        for (n, id) in [(1, "L-1"), (2, "M-1")] {
            let receipt = services
                .ingest_order(brand, regulars_tests::order(brand, id, n, at, 1))
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(receipt.tier.as_deref(), Some("silver"), "{name}");
        }
        // Minh comes back late in March: inside the window ending at the period end.
        clock.set(datetime!(2026-03-25 03:00 UTC));
        services
            .ingest_order(
                brand,
                regulars_tests::order(brand, "M-2", 2, datetime!(2026-03-25 02:00 UTC), 1),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));

        // 31 March, 16:00 UTC is still March in Vietnam: the period due ended on
        // 1 March, before either tier was entered. Nothing moves.
        clock.set(datetime!(2026-03-31 16:00 UTC));
        let early = services
            .review_tiers(brand)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((early.reviewed, early.moved_down), (0, 0), "{name}");
        assert_eq!(tier_of(&w.store, brand, 1).await.as_deref(), Some("silver"));

        // 1 April, 01:00 UTC (08:00 in Vietnam): March is over. Two reviews at once
        // (two workers) review each customer once between them.
        clock.set(datetime!(2026-04-01 01:00 UTC));
        let (a, b) = tokio::join!(services.review_tiers(brand), services.review_tiers(brand));
        let (a, b) = (
            a.unwrap_or_else(|e| panic!("{name}: {e}")),
            b.unwrap_or_else(|e| panic!("{name}: {e}")),
        );
        assert_eq!(a.period_end, Some(datetime!(2026-04-01 00:00 +7)), "{name}");
        assert_eq!(a.reviewed + b.reviewed, 2, "{name}: {a:?} {b:?}");
        assert_eq!(a.moved_down + b.moved_down, 1, "{name}: {a:?} {b:?}");
        assert_eq!(
            tier_of(&w.store, brand, 1).await.as_deref(),
            Some("member"),
            "{name}"
        );
        assert_eq!(
            tier_of(&w.store, brand, 2).await.as_deref(),
            Some("silver"),
            "{name}"
        );
        let again = services
            .review_tiers(brand)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((again.reviewed, again.moved_down), (0, 0), "{name}");

        // The notice goes to Lan, who moved down; not to Minh, whose tier was entered
        // by moving up.
        let record = services
            .create_campaign(
                brand,
                &json!({"name": "Tier notice", "trigger": {"type": "tier_down", "within_days": 3},
                    "channels": ["sms"], "policy": {}, "holdout": 0.0, "frequency_cap": null}),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        services
            .set_campaign_status(brand, record.id, CampaignAction::Launch)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let runs = services
            .run_campaigns(brand)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            runs.iter().map(|r| r.messages).sum::<u64>(),
            1,
            "{name}: {runs:?}"
        );
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let sent = tx
            .outbox()
            .messages(brand, Some(record.id), None, 10)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        tx.rollback().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sent.len(), 1, "{name}");
        assert_eq!(
            sent[0].phone.as_deref(),
            Some(regulars_tests::phone(1).as_str()),
            "{name}"
        );
        assert!(
            !sent[0].promotional,
            "{name}: a plain notice is transactional"
        );

        // 1 May in Vietnam: Minh's last order is out of the window. The worker reviews
        // at once when it starts, counts what it did and logs it.
        clock.set(datetime!(2026-04-30 18:00 UTC));
        let metrics = Metrics::new();
        let options = WorkerOptions {
            campaign_interval: None,
            poll: Duration::from_millis(50),
            ..WorkerOptions::default()
        };
        let stop = {
            let store = w.store.clone();
            async move {
                let started = Instant::now();
                while tier_of(&store, brand, 2).await.as_deref() != Some("member")
                    && started.elapsed() < Duration::from_secs(30)
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        run_worker(
            Arc::new(services.clone()),
            ChannelSenders::new(),
            options,
            WorkerMetrics::register(&metrics),
            stop,
        )
        .await;
        assert_eq!(
            tier_of(&w.store, brand, 2).await.as_deref(),
            Some("member"),
            "{name}"
        );
        assert_eq!(
            tier_of(&w.store, brand, 1).await.as_deref(),
            Some("member"),
            "{name}"
        );
        let text = metrics.encode();
        assert!(
            text.contains(r#"regulars_tier_reviews_total{outcome="moved_down"} 1"#),
            "{name}: {text}"
        );
        assert!(
            text.contains(r#"regulars_tier_reviews_total{outcome="kept"} 1"#),
            "{name}: {text}"
        );
    }
}
