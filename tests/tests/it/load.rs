//! The load generator (`regulars_tests::load`) against the real server on both
//! databases: a small chain's day, compressed into two seconds, is acknowledged exactly
//! once, its duplicate deliveries are recognised, its vouchers redeemed, and the ledger
//! stays clean.

use crate::server::{dbs, spawn};
use regulars_tests::RULES;
use regulars_tests::load::{DayPlan, Kind, Target, plan, prepare, replay};
use serde_json::Value;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_chain_day_is_counted_once_and_leaves_the_ledger_clean() {
    for db in dbs() {
        let server = spawn(db).await;
        let tenant = server.tenant("load").await;
        let rules: Value = serde_json::from_str(RULES).unwrap_or_else(|e| panic!("rules: {e}"));
        server
            .put("/v1/program/earning-rules", &tenant.admin, &rules)
            .await
            .expect(200, "earning rules");
        let day = DayPlan {
            locations: 5,
            orders_per_location: 40,
            refund_share: 0.05,
            duplicate_share: 0.05,
            voucher_share: 0.2,
            seed: 11,
        };
        let planned = plan(&day);
        let count = |f: fn(&Kind) -> bool| planned.iter().filter(|p| f(&p.kind)).count();
        let orders = count(|k| matches!(k, Kind::Order { .. }));
        let duplicates = count(|k| matches!(k, Kind::Duplicate { .. }));
        let refunds = count(|k| matches!(k, Kind::Refund { .. }));
        assert!(duplicates > 0 && refunds > 0, "{db:?}: a day with both");

        let client = reqwest::Client::new();
        let target = Target {
            base: server.base.clone(),
            admin_key: tenant.admin.clone(),
        };
        let setup = prepare(&client, &target)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        let report = replay(
            &client,
            &target,
            &setup,
            &planned,
            Duration::from_secs(2),
            8,
        )
        .await
        .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        let summary = report.summary();
        assert_eq!(report.errors, 0, "{db:?}: {summary}");
        assert_eq!(report.replayed, duplicates, "{db:?}: {summary}");
        assert!(report.vouchers_redeemed > 0, "{db:?}: {summary}");
        // Every order and refund counted once; each voucher bought (201) and redeemed (200).
        assert_eq!(
            report.acknowledged,
            orders + refunds + 2 * report.vouchers_redeemed,
            "{db:?}: {summary}"
        );
        assert_eq!(
            report.sent,
            orders + duplicates + refunds + 2 * report.vouchers_redeemed + report.refused,
            "{db:?}: {summary}"
        );
        assert_eq!(report.latencies_ms.len(), report.sent, "{db:?}");

        let listed = server.walk("/v1/orders", &tenant.admin, 200, "id").await;
        assert_eq!(listed.len(), orders, "{db:?}: every order stored once");
        server.assert_ledger_clean().await;
        server.stop().await;
    }
}
