//! Offer variants end to end, on both databases: a two-variant win-back runs; each
//! messaged customer got the variant the pure assignment names, with its offer and text;
//! the messages split about evenly; a redemption and an order of one variant's customer
//! show in that variant's row only; every variant is set against the one shared hold-out;
//! a bad variants document is refused naming the field; and a launched campaign keeps
//! its variants and hold-out.

use crate::targets;
use regulars::system::OsIdGen;
use regulars_campaigns::{plan::in_holdout, variant_index};
use regulars_domain::{BrandId, CampaignId, CustomerId};
use regulars_ports::{Clock, OutboxMessage, UnitOfWork};
use regulars_service::{CampaignAction, CampaignError, Services};
use regulars_store::Store;
use regulars_tests::{ManualClock, World};
use serde_json::{Value, json};
use std::sync::Arc;
use time::OffsetDateTime;
use time::macros::time;

const CUSTOMERS: u64 = 80;
const HOLDOUT: f64 = 0.2;

/// 10:00 in Vietnam today: inside the hours promotional messages may go out.
fn morning() -> OffsetDateTime {
    OffsetDateTime::now_utc().replace_time(time!(03:00))
}

fn document(w: &World) -> Value {
    json!({
        "name": "Win back: which offer?",
        "trigger": {"type": "broadcast"},
        "channels": ["sms"],
        "holdout": HOLDOUT,
        "frequency_cap": null,
        "variants": [
            {"name": "Small", "offer": {"type": "fixed",
                "reward": {"reward_id": w.reward.to_string(), "cost": {"amount": "10000", "currency": "VND"}}}},
            {"name": "Big", "offer": {"type": "fixed",
                "reward": {"reward_id": w.reward.to_string(), "cost": {"amount": "25000", "currency": "VND"}}},
             "template": "{{name}} ơi, quay lại nhé: {{reward}}, mã {{code}}"},
        ],
    })
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

async fn customer_ids(store: &Store, brand: BrandId) -> Vec<CustomerId> {
    let mut tx = store.begin().await.unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    for n in 0..CUSTOMERS {
        let c = tx
            .customers()
            .customer_by_phone(brand, &regulars_tests::phone(700 + n))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("customer {n}"));
        out.push(c.id);
    }
    tx.rollback().await.unwrap_or_else(|e| panic!("{e}"));
    out
}

async fn launch(services: &Services, w: &World) -> CampaignId {
    let record = services
        .create_campaign(w.brand, &document(w))
        .await
        .unwrap_or_else(|e| panic!("campaign: {e}"));
    services
        .set_campaign_status(w.brand, record.id, CampaignAction::Launch)
        .await
        .unwrap_or_else(|e| panic!("launch: {e}"));
    record.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_variants_split_the_messages_and_report_against_one_holdout() {
    for target in targets("offer_variants").await {
        let (w, name) = (&target.world, target.name);
        let clock = ManualClock::at(morning());
        let services = Services::new(w.store.clone(), clock.clone(), Arc::new(OsIdGen));
        for n in 0..CUSTOMERS {
            regulars_tests::sms_customer(&services, w.brand, 700 + n, &format!("Khách {n}"))
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let campaign = launch(&services, w).await;
        let runs = services
            .run_campaigns(w.brand)
            .await
            .unwrap_or_else(|e| panic!("{name}: run: {e}"));
        let ids = customer_ids(&w.store, w.brand).await;
        let held: Vec<&CustomerId> = ids
            .iter()
            .filter(|c| in_holdout(campaign, **c, HOLDOUT))
            .collect();
        assert_eq!(runs[0].held_out, held.len() as u64, "{name}: {runs:?}");
        assert_eq!(
            runs[0].messages,
            CUSTOMERS - held.len() as u64,
            "{name}: {runs:?}"
        );
        // Each message has the variant the pure function names: its text and its offer.
        let messages = outbox(&w.store, w.brand).await;
        let mut split = [0u64; 2];
        let mut big = None;
        for m in &messages {
            let customer = m.customer_id.unwrap_or_else(|| panic!("{name}: {m:?}"));
            let variant = variant_index(campaign, customer, 2);
            split[variant] += 1;
            assert_eq!(
                m.body.contains("quay lại nhé"),
                variant == 1,
                "{name}: {}",
                m.body
            );
            if variant == 1 {
                big.get_or_insert(customer);
            }
        }
        assert!(
            split.iter().all(|n| *n >= 16),
            "{name}: about even: {split:?}"
        );

        // One customer of "Big" redeems their voucher and orders.
        let big = big.unwrap_or_else(|| panic!("{name}: nobody got Big"));
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let vouchers = tx
            .vouchers()
            .vouchers_of(w.brand, big)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        tx.rollback().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(vouchers.len(), 1, "{name}: {vouchers:?}");
        services
            .redeem_voucher(w.brand, &vouchers[0].code().to_string(), None)
            .await
            .unwrap_or_else(|e| panic!("{name}: redeem: {e}"));
        let n = (0..CUSTOMERS)
            .find(|n| ids[*n as usize] == big)
            .unwrap_or_else(|| panic!("{name}: Big's number"));
        let order = regulars_tests::order(w.brand, "variant-1", 700 + n, clock.now(), 2);
        let paid = order
            .total
            .to_minor_units()
            .unwrap_or_else(|e| panic!("{e}"));
        services
            .ingest_order(w.brand, order)
            .await
            .unwrap_or_else(|e| panic!("{name}: order: {e}"));

        let report = services
            .campaign_report(w.brand, campaign)
            .await
            .unwrap_or_else(|e| panic!("{name}: report: {e}"));
        assert_eq!(report.variants.len(), 2, "{name}");
        let (small, large) = (&report.variants[0], &report.variants[1]);
        assert_eq!((small.name.as_str(), large.name.as_str()), ("Small", "Big"));
        assert_eq!(
            (small.treated, large.treated),
            (split[0], split[1]),
            "{name}"
        );
        assert_eq!(
            (small.vouchers_issued, large.vouchers_issued),
            (split[0], split[1]),
            "{name}"
        );
        assert_eq!(
            (small.vouchers_redeemed, large.vouchers_redeemed),
            (0, 1),
            "{name}"
        );
        assert_eq!(
            (small.offer_cost_minor, large.offer_cost_minor),
            (0, 25_000),
            "{name}"
        );
        assert_eq!(
            (small.revenue_minor, large.revenue_minor),
            (0, paid),
            "{name}"
        );
        // Both against the same hold-out.
        for v in &report.variants {
            let a = v
                .attribution
                .as_ref()
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(a.holdout, held.len(), "{name}: {}", v.name);
            assert_eq!(a.treated as u64, v.treated, "{name}");
        }
        let verdict = report
            .verdict
            .unwrap_or_else(|| panic!("{name}: a verdict"));
        assert_eq!(verdict.best, 1, "{name}: {verdict:?}");
        assert!(!verdict.sure, "{name}: one order is not proof: {verdict:?}");
        assert_eq!(report.treated, split[0] + split[1], "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_variants_are_refused_naming_the_field() {
    for target in targets("offer_variants_bad").await {
        let (w, name) = (&target.world, target.name);
        let cases: Vec<(Value, &str)> = vec![
            (json!([{"name": "Only"}]), "variants"),
            (json!([{"name": "A"}, {"name": "A"}]), "variants[1].name"),
            (
                json!([{"name": "A"}, {"name": "B", "offer": {"type": "fixed",
                    "reward": {"reward_id": "not-an-id", "cost": {"amount": "1", "currency": "VND"}}}}]),
                "variants[1].offer.reward.reward_id",
            ),
            (
                json!([{"name": "A"}, {"name": "B", "offer": {"type": "fixed",
                    "reward": {"reward_id": w.reward.to_string(), "cost": {"amount": "1", "currency": "USD"}}}}]),
                "variants[1].offer.reward.cost",
            ),
        ];
        for (variants, path) in cases {
            let mut doc = document(w);
            doc["variants"] = variants;
            match w.services.create_campaign(w.brand, &doc).await {
                Err(CampaignError::Invalid { path: found, .. }) => {
                    assert_eq!(found, path, "{name}")
                }
                other => panic!("{name}: {path}: {other:?}"),
            }
        }
        // An offer beside variants.
        let mut doc = document(w);
        doc["offer"] = doc["variants"][0]["offer"].clone();
        match w.services.create_campaign(w.brand, &doc).await {
            Err(CampaignError::Invalid { path, .. }) => assert_eq!(path, "variants", "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launched_campaigns_variants_are_frozen() {
    for target in targets("offer_variants_frozen").await {
        let (w, name) = (&target.world, target.name);
        let campaign = launch(&w.services, w).await;
        w.services
            .set_campaign_status(w.brand, campaign, CampaignAction::Pause)
            .await
            .unwrap_or_else(|e| panic!("{name}: pause: {e}"));
        let mut doc = document(w);
        doc["variants"][0]["name"] = json!("Tiny");
        match w.services.update_campaign(w.brand, campaign, &doc).await {
            Err(CampaignError::Invalid { path, .. }) => assert_eq!(path, "variants[0]", "{name}"),
            other => panic!("{name}: {other:?}"),
        }
        let mut doc = document(w);
        doc["holdout"] = json!(0.3);
        match w.services.update_campaign(w.brand, campaign, &doc).await {
            Err(CampaignError::Invalid { path, .. }) => assert_eq!(path, "holdout", "{name}"),
            other => panic!("{name}: {other:?}"),
        }
        let mut doc = document(w);
        doc["name"] = json!("Win back, again");
        w.services
            .update_campaign(w.brand, campaign, &doc)
            .await
            .unwrap_or_else(|e| panic!("{name}: a name may change: {e}"));
        // A draft's variants may change.
        let draft = w
            .services
            .create_campaign(w.brand, &document(w))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut doc = document(w);
        doc["variants"][0]["name"] = json!("Tiny");
        w.services
            .update_campaign(w.brand, draft.id, &doc)
            .await
            .unwrap_or_else(|e| panic!("{name}: a draft may change: {e}"));
    }
}
