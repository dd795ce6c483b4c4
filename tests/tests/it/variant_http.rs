//! Offer variants over HTTP, on both databases: a bad variants document is a 422 naming
//! the exact path, and a launched campaign's variants and hold-out are frozen (a draft's
//! are not).

use crate::server::{TestServer, dbs, spawn};
use serde_json::{Value, json};

fn offer(reward: &str, cost: &str) -> Value {
    json!({"type": "fixed", "reward": {"reward_id": reward,
        "cost": {"amount": cost, "currency": "VND"}}})
}

fn document(reward: &str) -> Value {
    json!({
        "name": "Win back: which offer?",
        "trigger": {"type": "broadcast"},
        "channels": ["sms"],
        "holdout": 0.2,
        "variants": [
            {"name": "Free drink", "offer": offer(reward, "15000")},
            {"name": "20 % off", "offer": offer(reward, "12000")},
        ],
    })
}

async fn reward(server: &TestServer, admin: &str) -> String {
    server
        .post(
            "/v1/rewards",
            admin,
            &json!({"name": "Trà sữa", "cost": 100,
                    "kind": {"type": "free_item", "sku": "TS"}, "validity_days": 14}),
        )
        .await
        .expect(201, "reward")
        .str("/id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_variants_are_422_naming_the_path() {
    for db in dbs() {
        let server = spawn(db).await;
        let admin = server.tenant("Variants 422").await.admin;
        let reward = reward(&server, &admin).await;
        let six: Vec<Value> = (0..6)
            .map(|i| json!({"name": format!("V{i}"), "offer": offer(&reward, "1000")}))
            .collect();
        let cases: Vec<(&str, Value, &str)> = vec![
            (
                "one variant",
                json!({"variants": [{"name": "Only"}]}),
                "variants",
            ),
            ("six variants", json!({"variants": six}), "variants"),
            (
                "duplicate names",
                json!({"variants": [{"name": "A"}, {"name": "A"}]}),
                "variants[1].name",
            ),
            (
                "offer and variants",
                json!({"offer": offer(&reward, "1000")}),
                "variants",
            ),
            (
                "a variant's unknown reward",
                json!({"variants": [{"name": "A"}, {"name": "B", "offer": offer("not-an-id", "1")}]}),
                "variants[1].offer.reward.reward_id",
            ),
            (
                "a variant's cost in another currency",
                json!({"variants": [{"name": "A"}, {"name": "B", "offer": {"type": "fixed",
                    "reward": {"reward_id": reward, "cost": {"amount": "1", "currency": "USD"}}}}]}),
                "variants[1].offer.reward.cost",
            ),
        ];
        for (what, overrides, path) in cases {
            let mut doc = document(&reward);
            for (k, v) in overrides.as_object().into_iter().flatten() {
                doc[k] = v.clone();
            }
            let field = server
                .post("/v1/campaigns", &admin, &doc)
                .await
                .expect_error(422, "invalid", &format!("{db:?}: {what}"));
            assert_eq!(field.as_deref(), Some(path), "{db:?}: {what}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launched_variants_and_holdout_are_frozen() {
    for db in dbs() {
        let server = spawn(db).await;
        let admin = server.tenant("Variants frozen").await.admin;
        let reward = reward(&server, &admin).await;
        let doc = document(&reward);
        let id = server
            .post("/v1/campaigns", &admin, &doc)
            .await
            .expect(201, "campaign")
            .str("/id");
        let at = format!("/v1/campaigns/{id}");
        // A draft's variants may still change.
        let mut draft = doc.clone();
        draft["variants"][1]["offer"] = offer(&reward, "13000");
        server
            .put(&at, &admin, &draft)
            .await
            .expect(200, "draft edit");
        server
            .post(&format!("{at}/launch"), &admin, &json!({}))
            .await
            .expect(200, "launch");
        server
            .post(&format!("{at}/pause"), &admin, &json!({}))
            .await
            .expect(200, "pause");
        let mut renamed = draft.clone();
        renamed["variants"][1]["name"] = json!("25 % off");
        let mut reoffered = draft.clone();
        reoffered["variants"][0]["offer"] = offer(&reward, "9000");
        let mut templated = draft.clone();
        templated["variants"][0]["template"] = json!("{{name}} ơi, quay lại nhé: {{code}}");
        let mut third = draft.clone();
        if let Some(list) = third["variants"].as_array_mut() {
            list.push(json!({"name": "Points", "offer": {"type": "bonus_points", "points": 20}}));
        }
        let mut dropped = draft.clone();
        dropped["variants"] = json!([draft["variants"][0].clone(), {"name": "Nothing"}]);
        let mut held = draft.clone();
        held["holdout"] = json!(0.3);
        for (what, edit, path) in [
            ("a renamed variant", renamed, "variants[1]"),
            ("another offer", reoffered, "variants[0]"),
            ("another template", templated, "variants[0]"),
            ("a third variant", third, "variants"),
            ("a variant replaced", dropped, "variants[1]"),
            ("another hold-out", held, "holdout"),
        ] {
            let reply = server.put(&at, &admin, &edit).await;
            let field = reply.expect_error(422, "invalid", &format!("{db:?}: {what}"));
            assert_eq!(
                field.as_deref(),
                Some(path),
                "{db:?}: {what}: {}",
                reply.text
            );
        }
        // Nothing was written, and other fields may still change.
        let stored = server.get(&at, &admin).await.expect(200, "campaign");
        assert_eq!(stored.json["definition"]["variants"][1]["name"], "20 % off");
        let mut renamed_campaign = draft.clone();
        renamed_campaign["name"] = json!("Win back, spring");
        server
            .put(&at, &admin, &renamed_campaign)
            .await
            .expect(200, "a paused campaign's name");
        // An active campaign is not edited at all.
        server
            .post(&format!("{at}/launch"), &admin, &json!({}))
            .await
            .expect(200, "relaunch");
        server
            .put(&at, &admin, &renamed_campaign)
            .await
            .expect_error(409, "refused", &format!("{db:?}: active"));
    }
}
