//! Retries that must not spend twice: `Idempotency-Key` on buying a reward, adjusting
//! points and redeeming a voucher, over HTTP on both databases, a retry race included.

use crate::pos::order_data;
use crate::server::{Body, TestServer, dbs, spawn};
use regulars_tests::phone;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// A brand with a 10-point reward and a customer holding `points`.
struct Shop {
    admin: String,
    customer: String,
    reward: String,
}

async fn shop(server: &TestServer, name: &str, n: u64, points: i64) -> Shop {
    let tenant = server.tenant(name).await;
    let admin = tenant.admin;
    let reward = server
        .post(
            "/v1/rewards",
            &admin,
            &json!({"name": "Free topping", "cost": 10,
                    "kind": {"type": "free_modifier", "sku": "TOP-CHEESE"}, "validity_days": 30}),
        )
        .await
        .expect(201, "reward")
        .str("/id");
    let at = OffsetDateTime::now_utc() - Duration::hours(1);
    let customer = server
        .post(
            "/v1/orders",
            &admin,
            &order_data(&format!("{name}-1"), Some(phone(n).as_str()), at, 1),
        )
        .await
        .expect(200, "order")
        .str("/customer_id");
    server
        .post(
            &format!("/v1/customers/{customer}/adjustments"),
            &admin,
            &json!({"points": points, "reason": "opening balance"}),
        )
        .await
        .expect(201, "opening balance");
    Shop {
        admin,
        customer,
        reward,
    }
}

async fn keyed(
    server: &TestServer,
    key: &str,
    path: &str,
    admin: &str,
    body: &Value,
) -> crate::server::Reply {
    server
        .send(
            Method::POST,
            path,
            Some(admin),
            Body::Json(body),
            &[("Idempotency-Key", key.to_owned())],
        )
        .await
}

async fn balance(server: &TestServer, shop: &Shop) -> i64 {
    server
        .get(&format!("/v1/customers/{}", shop.customer), &shop.admin)
        .await
        .expect(200, "profile")
        .int("/balance")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_purchase_adjustment_or_redemption_happens_once() {
    for db in dbs() {
        let server = spawn(db).await;
        let shop = shop(&server, "Retries", 81, 100).await;
        let what = |s: &str| format!("{db:?}: {s}");
        let before = balance(&server, &shop).await;
        let redemptions = format!("/v1/customers/{}/redemptions", shop.customer);
        let buy = json!({"reward_id": shop.reward});

        // Buying a reward twice with one key: one voucher, one debit, the same answer.
        let first = keyed(&server, "buy-1", &redemptions, &shop.admin, &buy)
            .await
            .expect(201, &what("purchase"));
        let again = keyed(&server, "buy-1", &redemptions, &shop.admin, &buy)
            .await
            .expect(201, &what("purchase retried"));
        assert_eq!(first.json, again.json, "{db:?}: the first response");
        assert_eq!(balance(&server, &shop).await, before - 10, "{db:?}");
        // The same key on another request is refused, naming the header.
        let other = json!({"reward_id": uuid::Uuid::now_v7().to_string()});
        let reused = keyed(&server, "buy-1", &redemptions, &shop.admin, &other).await;
        reused.expect_error(422, "key_reused", &what("key reused"));
        assert_eq!(reused.str("/error/field"), "Idempotency-Key");
        // Without a key, or with another key, it is a new purchase.
        keyed(&server, "buy-2", &redemptions, &shop.admin, &buy)
            .await
            .expect(201, &what("another key"));
        assert_eq!(balance(&server, &shop).await, before - 20, "{db:?}");

        // Adjustments.
        let adjustments = format!("/v1/customers/{}/adjustments", shop.customer);
        let credit = json!({"points": 7, "reason": "goodwill"});
        let first = keyed(&server, "adj-1", &adjustments, &shop.admin, &credit)
            .await
            .expect(201, &what("adjustment"));
        let again = keyed(&server, "adj-1", &adjustments, &shop.admin, &credit)
            .await
            .expect(201, &what("adjustment retried"));
        assert_eq!(first.json, again.json, "{db:?}");
        assert_eq!(balance(&server, &shop).await, before - 13, "{db:?}");
        keyed(
            &server,
            "adj-1",
            &adjustments,
            &shop.admin,
            &json!({"points": 8, "reason": "goodwill"}),
        )
        .await
        .expect_error(422, "key_reused", &what("adjustment key reused"));

        // A voucher redeemed twice with one key: the second answer is the first.
        let code = first_code(&server, &shop).await;
        let redeem = format!("/v1/vouchers/{code}/redeem");
        let first = keyed(&server, "use-1", &redeem, &shop.admin, &json!({}))
            .await
            .expect(200, &what("voucher redeemed"));
        let again = keyed(&server, "use-1", &redeem, &shop.admin, &json!({}))
            .await
            .expect(200, &what("voucher redemption retried"));
        assert_eq!(first.json, again.json, "{db:?}");
        // Without the key the second attempt is what it is: already redeemed.
        server
            .call(
                Method::POST,
                &redeem,
                Some(&shop.admin),
                Body::Json(&json!({})),
            )
            .await
            .expect_error(409, "refused", &what("redeemed again without the key"));
        // A malformed key is a 400 naming the header.
        keyed(&server, "", &redeem, &shop.admin, &json!({}))
            .await
            .expect_error(400, "invalid", &what("empty key"));
        server.assert_ledger_clean().await;
    }
}

async fn first_code(server: &TestServer, shop: &Shop) -> String {
    let profile = server
        .get(&format!("/v1/customers/{}", shop.customer), &shop.admin)
        .await
        .expect(200, "profile");
    profile.json["vouchers"]
        .as_array()
        .and_then(|v| v.first())
        .and_then(|v| v["code"].as_str())
        .unwrap_or_else(|| panic!("a voucher in {}", profile.text))
        .to_owned()
}

/// Ten copies of one purchase sent at once with the same key (a client retrying before
/// the first answer came back): one voucher, one debit, ten identical answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_requests_racing_with_one_key_take_effect_once() {
    for db in dbs() {
        let server = Arc::new(spawn(db).await);
        let shop = Arc::new(shop(&server, "Racing", 82, 100).await);
        let before = balance(&server, &shop).await;
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let (server, shop) = (server.clone(), shop.clone());
                tokio::spawn(async move {
                    let path = format!("/v1/customers/{}/redemptions", shop.customer);
                    keyed(
                        &server,
                        "race-1",
                        &path,
                        &shop.admin,
                        &json!({"reward_id": shop.reward}),
                    )
                    .await
                })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            let reply = task.await.unwrap_or_else(|e| panic!("task: {e}"));
            answers.push(reply.expect(201, &format!("{db:?}: purchase")).json);
        }
        assert!(
            answers.iter().all(|a| *a == answers[0]),
            "{db:?}: {answers:?}"
        );
        assert_eq!(
            balance(&server, &shop).await,
            before - 10,
            "{db:?}: one debit"
        );
        server.assert_ledger_clean().await;
    }
}
