//! The legal policy for promotional messages is the brand's: an admin sets it, a
//! campaign may only tighten it, every campaign is planned under it, and an offer makes
//! a message promotional whatever its trigger.

use crate::pos::order_data;
use crate::server::{TestServer, dbs, spawn};
use regulars_tests::phone;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

fn vietnam() -> UtcOffset {
    UtcOffset::from_hms(7, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// A one-hour window that does not contain the current local hour.
fn window_not_now() -> (u8, u8) {
    let hour = OffsetDateTime::now_utc().to_offset(vietnam()).hour();
    let start = (hour + 2) % 24;
    (start, start + 1)
}

async fn reward(server: &TestServer, admin: &str) -> String {
    server
        .post(
            "/v1/rewards",
            admin,
            &json!({"name": "Free topping", "cost": 10,
                    "kind": {"type": "free_modifier", "sku": "TOP"}, "validity_days": 30}),
        )
        .await
        .expect(201, "reward")
        .str("/id")
}

fn offer(reward: &str) -> Value {
    json!({"type": "fixed", "reward": {"reward_id": reward,
           "cost": {"amount": "10000", "currency": "VND"}}})
}

/// Launches `campaign`, runs the brand's campaigns and answers its messages.
async fn run(server: &TestServer, admin: &str, campaign: &str) -> Vec<Value> {
    server
        .post(
            &format!("/v1/campaigns/{campaign}/launch"),
            admin,
            &json!({}),
        )
        .await
        .expect(200, "launch");
    server
        .post("/v1/campaigns/runs", admin, &json!({}))
        .await
        .expect(201, "run");
    server
        .walk(
            &format!("/v1/campaigns/{campaign}/messages"),
            admin,
            50,
            "id",
        )
        .await
}

fn local_hour(message: &Value) -> u8 {
    let due = message["due_at"].as_str().unwrap_or_default();
    OffsetDateTime::parse(due, &Rfc3339)
        .unwrap_or_else(|e| panic!("due_at {due}: {e}"))
        .to_offset(vietnam())
        .hour()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_brand_sets_the_policy_and_a_campaign_may_only_tighten_it() {
    for db in dbs() {
        let server = spawn(db).await;
        let tenant = server.tenant("Policy").await;
        let admin = tenant.admin.as_str();
        let reward = reward(&server, admin).await;

        // Decree 91 until the brand says otherwise.
        let policy = server
            .get("/v1/brand/policy", admin)
            .await
            .expect(200, "policy");
        assert_eq!(
            policy.json,
            json!({"promotional_prefix": "[QC] ", "max_per_phone": 3, "cap_window_hours": 24,
                   "allowed_hours": {"start_hour": 7, "end_hour": 22},
                   "opt_out_instruction": "Tu choi QC: {link}", "profiling_default": false}),
            "{db:?}"
        );

        // A campaign document cannot relax it, nor move the brand's clock.
        for (field, change) in [
            (
                "policy.allowed_hours",
                json!({"policy": {"allowed_hours": null}}),
            ),
            (
                "policy.allowed_hours",
                json!({"policy": {"allowed_hours": {"start_hour": 6, "end_hour": 22}}}),
            ),
            (
                "policy.max_per_phone",
                json!({"policy": {"max_per_phone": 5}}),
            ),
            (
                "policy.max_per_phone",
                json!({"policy": {"max_per_phone": null}}),
            ),
            (
                "policy.cap_window_hours",
                json!({"policy": {"cap_window_hours": 1}}),
            ),
            (
                "policy.promotional_prefix",
                json!({"policy": {"promotional_prefix": ""}}),
            ),
            ("utc_offset", json!({"utc_offset": "+00:00"})),
        ] {
            let mut doc = json!({"name": "Night owls", "trigger": {"type": "broadcast"},
                                 "channels": ["sms"], "offer": offer(&reward)});
            for (k, v) in change.as_object().into_iter().flatten() {
                doc[k] = v.clone();
            }
            let refused = server.post("/v1/campaigns", admin, &doc).await;
            let named = refused.expect_error(422, "invalid", &format!("{db:?}: {change}"));
            assert_eq!(named.as_deref(), Some(field), "{db:?}: {}", refused.text);
        }

        // Only an admin sets it, and only to something valid.
        let narrow = json!({"promotional_prefix": "[QC] ", "max_per_phone": 2,
                            "cap_window_hours": 24, "allowed_hours": null,
                            "opt_out_instruction": "Tu choi QC soan TC gui 8079",
                            "profiling_default": true});
        let (start, end) = window_not_now();
        let mut narrow = narrow;
        narrow["allowed_hours"] = json!({"start_hour": start, "end_hour": end});
        for bad in [
            json!({"promotional_prefix": "[QC] ", "max_per_phone": 2, "cap_window_hours": 0,
                   "allowed_hours": null}),
            json!({"promotional_prefix": "[QC] ", "max_per_phone": 2, "cap_window_hours": 24,
                   "allowed_hours": {"start_hour": 22, "end_hour": 7}}),
        ] {
            server
                .put("/v1/brand/policy", admin, &bad)
                .await
                .expect_error(422, "invalid", &format!("{db:?}: {bad}"));
        }
        for instruction in ["x".repeat(161), "Tu choi QC\nsoan TC".to_owned()] {
            let bad = json!({"promotional_prefix": "[QC] ", "max_per_phone": 2,
                             "cap_window_hours": 24, "allowed_hours": null,
                             "opt_out_instruction": instruction});
            let refused = server.put("/v1/brand/policy", admin, &bad).await;
            let named = refused.expect_error(422, "invalid", &format!("{db:?}: {bad}"));
            assert_eq!(named.as_deref(), Some("opt_out_instruction"), "{db:?}");
        }
        let set = server
            .put("/v1/brand/policy", admin, &narrow)
            .await
            .expect(200, "set policy");
        assert_eq!(set.json, narrow, "{db:?}");
        let read = server
            .get("/v1/brand/policy", admin)
            .await
            .expect(200, "policy");
        assert_eq!(read.json, narrow, "{db:?}");

        // A campaign that says nothing is planned under the brand's hours.
        for n in 1..=2 {
            server
                .post(
                    "/v1/customers",
                    admin,
                    &json!({"phone": phone(n).as_str(), "consent": {"sms": true}}),
                )
                .await
                .expect(201, "customer");
        }
        let campaign = server
            .post(
                "/v1/campaigns",
                admin,
                &json!({"name": "Hello", "trigger": {"type": "broadcast"}, "holdout": 0,
                        "channels": ["sms"], "offer": offer(&reward)}),
            )
            .await
            .expect(201, "campaign")
            .str("/id");
        let messages = run(&server, admin, &campaign).await;
        assert_eq!(messages.len(), 2, "{db:?}: {messages:?}");
        for m in &messages {
            assert_eq!(local_hour(m), start, "{db:?}: {m}");
            assert!(
                m["body"].as_str().is_some_and(|b| b.starts_with("[QC] ")),
                "{db:?}: {m}"
            );
        }
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thank_you_with_an_offer_needs_consent_and_waits_for_the_legal_hours() {
    for db in dbs() {
        let server = spawn(db).await;
        let tenant = server.tenant("Thanks").await;
        let admin = tenant.admin.as_str();
        let reward = reward(&server, admin).await;
        let (start, end) = window_not_now();
        server
            .put(
                "/v1/brand/policy",
                admin,
                &json!({"promotional_prefix": "[QC] ", "max_per_phone": 3, "cap_window_hours": 24,
                        "allowed_hours": {"start_hour": start, "end_hour": end}}),
            )
            .await
            .expect(200, "policy");
        let mut consented = String::new();
        for (n, sms) in [(11u64, true), (12, false)] {
            let id = server
                .post(
                    "/v1/customers",
                    admin,
                    &json!({"phone": phone(n).as_str(), "consent": {"sms": sms}}),
                )
                .await
                .expect(201, "customer")
                .str("/id");
            if sms {
                consented = id;
            }
            server
                .post(
                    "/v1/orders",
                    admin,
                    &order_data(
                        &format!("T-{n}"),
                        Some(phone(n).as_str()),
                        OffsetDateTime::now_utc() - Duration::hours(1),
                        1,
                    ),
                )
                .await
                .expect(200, "order");
        }
        let campaign = server
            .post(
                "/v1/campaigns",
                admin,
                &json!({"name": "Thanks", "trigger": {"type": "after_purchase"}, "holdout": 0,
                        "channels": ["sms"], "offer": offer(&reward), "frequency_cap": null}),
            )
            .await
            .expect(201, "campaign")
            .str("/id");
        let messages = run(&server, admin, &campaign).await;
        assert_eq!(
            messages.len(),
            1,
            "{db:?}: only the consented: {messages:?}"
        );
        let m = &messages[0];
        assert_eq!(m["customer_id"], consented.as_str(), "{db:?}");
        assert_eq!(m["promotional"], true, "{db:?}: {m}");
        assert_eq!(local_hour(m), start, "{db:?}: {m}");
        assert!(
            m["body"].as_str().is_some_and(|b| b.starts_with("[QC] ")),
            "{db:?}: {m}"
        );
        server.stop().await;
    }
}
