//! Earn, spend, refund over HTTP: under each `refund_overdraw` policy a refunded purchase
//! leaves no reward behind for free, and a thank-you voucher dies with its order.

use crate::pos::{rfc3339, vietnam};
use crate::server::{Body, TestServer, dbs, spawn};
use reqwest::Method;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

/// One point per 1,000 VND, nothing else: every order's points are plain to see.
fn rules() -> Value {
    json!({"currency": "VND", "base": {"per_amount": "1000", "points": 1, "rounding": "floor"}})
}

/// A 500,000 VND order (500 points) by `phone`, placed a little while ago.
fn purchase(order_id: &str, phone: &str) -> Value {
    let at = OffsetDateTime::now_utc() - Duration::minutes(5);
    json!({
        "order_id": order_id, "customer_phone": phone,
        "placed_at": rfc3339(at.to_offset(vietnam())),
        "lines": [{"sku": "TS", "name": "Trà sữa", "quantity": 10, "unit_price": "50000"}],
        "total": "500000",
    })
}

fn full_refund(refund_id: &str, order_id: &str) -> Value {
    json!({"refund_id": refund_id, "order_id": order_id,
           "refunded_at": rfc3339(OffsetDateTime::now_utc()), "full": true})
}

struct Shop {
    server: TestServer,
    admin: String,
    till: String,
    /// A reward costing exactly what one purchase earns.
    reward: String,
}

impl Shop {
    async fn open(server: TestServer) -> Shop {
        let tenant = server.tenant("Trà Sữa Hoàn Tiền").await;
        let admin = tenant.admin;
        server
            .put("/v1/program/earning-rules", &admin, &rules())
            .await
            .expect(200, "earning rules");
        let reward = server
            .post(
                "/v1/rewards",
                &admin,
                &json!({"name": "Free drink", "cost": 500,
                        "kind": {"type": "free_item", "sku": "TS"}, "validity_days": 30}),
            )
            .await
            .expect(201, "reward")
            .str("/id");
        let till = server
            .post("/v1/keys", &admin, &json!({"role": "pos", "label": "till"}))
            .await
            .expect(201, "pos key")
            .str("/token");
        Shop {
            server,
            admin,
            till,
            reward,
        }
    }

    async fn set_policy(&self, policy: &str) {
        let brand = self
            .patch_brand(&self.admin, &json!({"refund_overdraw": policy}))
            .await;
        assert_eq!(brand.0, 200, "{}", brand.1);
        assert_eq!(brand.1["refund_overdraw"], policy);
    }

    async fn patch_brand(&self, key: &str, body: &Value) -> (u16, Value) {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let reply = self
            .server
            .call(
                Method::PATCH,
                "/v1/brand",
                Some(key),
                Body::Raw(Some("application/merge-patch+json"), bytes),
            )
            .await;
        (reply.status, reply.json)
    }

    /// Buys for 500 points and spends them on the reward: the customer and voucher code.
    async fn buy_and_spend(&self, order_id: &str, phone: &str) -> (String, String) {
        let s = &self.server;
        let bought = s
            .post("/v1/orders", &self.till, &purchase(order_id, phone))
            .await
            .expect(200, "order");
        assert_eq!(bought.int("/points_earned"), 500, "{}", bought.text);
        let customer = bought.str("/customer_id");
        let voucher = s
            .post(
                &format!("/v1/customers/{customer}/redemptions"),
                &self.till,
                &json!({"reward_id": self.reward}),
            )
            .await
            .expect(201, "redemption");
        (customer, voucher.str("/code"))
    }

    async fn redeem(&self, code: &str) -> u16 {
        self.server
            .post(
                &format!("/v1/vouchers/{code}/redeem"),
                &self.till,
                &json!({}),
            )
            .await
            .status
    }

    async fn balance(&self, customer: &str) -> i64 {
        self.server
            .get(&format!("/v1/customers/{customer}"), &self.admin)
            .await
            .expect(200, "profile")
            .int("/balance")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refunded_purchase_keeps_no_reward_under_any_policy() {
    for db in dbs() {
        let shop = Shop::open(spawn(db).await).await;
        brand_settings(&shop).await;
        void_unredeemed(&shop).await;
        debt(&shop).await;
        shop.server.assert_ledger_clean().await;
        shop.server.stop().await;
    }
}

/// `PATCH /v1/brand`: admin only, merge-patch semantics, bad values named.
async fn brand_settings(shop: &Shop) {
    let db = shop.server.db;
    let (status, body) = shop.patch_brand(&shop.admin, &json!({})).await;
    assert_eq!(status, 200, "{db:?}: empty patch: {body}");
    assert_eq!(body["refund_overdraw"], "clamp", "{db:?}: the kit's brand");
    let (status, body) = shop
        .patch_brand(&shop.till, &json!({"refund_overdraw": "debt"}))
        .await;
    assert_eq!(status, 403, "{db:?}: a till may not: {body}");
    for bad in [json!("nope"), json!(null), json!(3)] {
        let (status, body) = shop
            .patch_brand(&shop.admin, &json!({"refund_overdraw": bad}))
            .await;
        assert_eq!(status, 422, "{db:?}: {bad}: {body}");
        assert_eq!(body["error"]["field"], "refund_overdraw", "{db:?}: {body}");
    }
    let (status, body) = shop
        .patch_brand(
            &shop.admin,
            &json!({"refund_overdraw": "void_unredeemed", "x": 1}),
        )
        .await;
    assert_eq!(status, 400, "{db:?}: unknown field: {body}");
    let brand = shop
        .server
        .get("/v1/brand", &shop.till)
        .await
        .expect(200, "brand");
    assert_eq!(brand.json["refund_overdraw"], "clamp", "{db:?}: unchanged");
}

/// Buy, spend the points on a voucher, refund in full: the voucher is voided and the
/// balance is back where it started.
async fn void_unredeemed(shop: &Shop) {
    let db = shop.server.db;
    shop.set_policy("void_unredeemed").await;
    let (customer, code) = shop.buy_and_spend("V-1", "0901000001").await;
    let refund = shop
        .server
        .post("/v1/refunds", &shop.till, &full_refund("RV-1", "V-1"))
        .await
        .expect(200, "refund");
    let r = &refund.json;
    assert_eq!(r["points_reversed"], 500, "{db:?}: {r}");
    assert_eq!(r["points_restored"], 500, "{db:?}: {r}");
    assert_eq!(r["points_unrecovered"], 0, "{db:?}: {r}");
    assert_eq!(r["vouchers_voided"], 1, "{db:?}: {r}");
    assert_eq!(r["balance"], 0, "{db:?}: {r}");
    assert_eq!(shop.redeem(&code).await, 409, "{db:?}: the voided voucher");
    assert_eq!(shop.balance(&customer).await, 0, "{db:?}");
}

/// Buy, spend, refund in full: the balance goes into debt, and the next purchase repays
/// it before the customer can spend again.
async fn debt(shop: &Shop) {
    let db = shop.server.db;
    shop.set_policy("debt").await;
    let (customer, code) = shop.buy_and_spend("D-1", "0901000002").await;
    let refund = shop
        .server
        .post("/v1/refunds", &shop.till, &full_refund("RD-1", "D-1"))
        .await
        .expect(200, "refund");
    let r = &refund.json;
    assert_eq!(r["points_reversed"], 500, "{db:?}: {r}");
    assert_eq!(r["points_unrecovered"], 0, "{db:?}: {r}");
    assert_eq!(r["balance"], -500, "{db:?}: {r}");
    // The customer paid for the voucher with what they now owe: it stays usable.
    assert_eq!(shop.redeem(&code).await, 200, "{db:?}");
    let again = shop
        .server
        .post("/v1/orders", &shop.till, &purchase("D-2", "0901000002"))
        .await
        .expect(200, "later order");
    assert_eq!(again.int("/points_earned"), 500, "{db:?}: {}", again.text);
    assert_eq!(again.int("/balance"), 0, "{db:?}: the debt is repaid first");
    assert_eq!(shop.balance(&customer).await, 0, "{db:?}");
    let spend = shop
        .server
        .post(
            &format!("/v1/customers/{customer}/redemptions"),
            &shop.till,
            &json!({"reward_id": shop.reward}),
        )
        .await;
    assert_eq!(
        spend.status, 409,
        "{db:?}: nothing to spend: {}",
        spend.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thank_you_voucher_is_voided_when_its_order_is_refunded() {
    for db in dbs() {
        thank_you(Shop::open(spawn(db).await).await).await;
    }
}

async fn thank_you(shop: Shop) {
    let s = &shop.server;
    let db = s.db;
    let campaign = s
        .post(
            "/v1/campaigns",
            &shop.admin,
            &json!({
                "name": "Cảm ơn",
                "trigger": {"type": "after_purchase"},
                "offer": {"type": "fixed", "reward": {"reward_id": shop.reward,
                          "cost": {"amount": "20000", "currency": "VND"}}},
                "template": "Cảm ơn bạn! Mã [{{code}}]: {{reward}}.",
                "channels": ["sms"],
                "holdout": 0,
                "policy": {}
            }),
        )
        .await
        .expect(201, "campaign")
        .str("/id");
    s.post(
        &format!("/v1/campaigns/{campaign}/launch"),
        &shop.admin,
        &json!({}),
    )
    .await
    .expect(200, "launch");
    let phones = ["0902000001", "0902000002"];
    // A thank-you that carries an offer is promotional: it goes to customers who took
    // SMS at the till, and the brand's legal hours are lifted so the hour the test runs
    // at does not defer it.
    s.unrestricted(&shop.admin).await;
    for (i, phone) in phones.iter().enumerate() {
        s.post(
            "/v1/customers",
            &shop.till,
            &json!({"phone": phone, "consent": {"sms": true}}),
        )
        .await
        .expect(201, "customer");
        s.post(
            "/v1/orders",
            &shop.till,
            &purchase(&format!("T-{i}"), phone),
        )
        .await
        .expect(200, "order");
    }
    let runs = s
        .post("/v1/campaigns/runs", &shop.admin, &json!({}))
        .await
        .expect(201, "run");
    // The thank-yous and their vouchers were written with the orders: the run finds
    // them there.
    assert_eq!(runs.json[0]["vouchers"], 0, "{db:?}: {}", runs.text);
    let mut codes = Vec::new();
    for phone in phones {
        let view = s
            .get(&format!("/v1/customers/lookup?phone={phone}"), &shop.till)
            .await
            .expect(200, "lookup");
        let vouchers = view.json["vouchers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(vouchers.len(), 1, "{db:?}: {}", view.text);
        codes.push(vouchers[0]["code"].as_str().unwrap_or_default().to_owned());
    }

    // Order T-0 is refunded in full: its thank-you voucher goes with it.
    let refund = s
        .post("/v1/refunds", &shop.till, &full_refund("RT-0", "T-0"))
        .await
        .expect(200, "refund");
    assert_eq!(refund.json["vouchers_voided"], 1, "{db:?}: {}", refund.text);
    assert_eq!(shop.redeem(&codes[0]).await, 409, "{db:?}: voided");
    // The other customer's voucher is theirs to use.
    assert_eq!(shop.redeem(&codes[1]).await, 200, "{db:?}: untouched");
    s.assert_ledger_clean().await;
    shop.server.stop().await;
}

/// A refund voiding a voucher and the till redeeming that same voucher, at once, many
/// times: each voucher ends either redeemed (and the refund leaves debt) or voided (and
/// its points were restored), never both, and every ledger checks clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_voucher_voided_by_a_refund_while_the_till_redeems_it_ends_one_way() {
    use regulars_domain::{EventKey, Points, Refund, RefundScope};
    use regulars_loyalty::ledger::RefundPolicy;
    use regulars_service::BrandPatch;
    use std::sync::Arc;

    for target in crate::targets("void-race").await {
        let world = Arc::new(target.world);
        let db = target.name;
        let patch = BrandPatch {
            refund_overdraw: Some(RefundPolicy::VoidUnredeemed),
        };
        world
            .services
            .patch_brand(world.brand, patch)
            .await
            .unwrap_or_else(|e| panic!("{db}: policy: {e}"));
        let (mut redeemed, mut voided) = (0, 0);
        for round in 0..12_u64 {
            let now = OffsetDateTime::now_utc();
            let order_id = format!("race-{round}");
            let order = regulars_tests::order(world.brand, &order_id, 100 + round, now, 4);
            let key = order.key.clone();
            let receipt = world
                .services
                .ingest_order(world.brand, order)
                .await
                .unwrap_or_else(|e| panic!("{db}: order: {e}"));
            let customer = receipt.customer_id.unwrap_or_else(|| panic!("a customer"));
            let earned = receipt.points_earned.value();
            assert!(earned >= regulars_tests::REWARD_COST, "{db}: {earned}");
            let voucher = world
                .services
                .redeem_reward(world.brand, customer, world.reward)
                .await
                .unwrap_or_else(|e| panic!("{db}: buy: {e}"));
            let code = voucher.code().as_str().to_owned();
            let refund = Refund {
                brand_id: world.brand,
                key: EventKey::new("pos:generic", format!("refund-{round}"))
                    .unwrap_or_else(|e| panic!("{e}")),
                order: key,
                refunded_at: now,
                scope: RefundScope::Full,
            };
            let (w1, w2) = (world.clone(), world.clone());
            let refunding =
                tokio::spawn(async move { w1.services.refund_order(w1.brand, refund).await });
            let redeeming =
                tokio::spawn(
                    async move { w2.services.redeem_voucher(w2.brand, &code, None).await },
                );
            let receipt = refunding
                .await
                .unwrap_or_else(|e| panic!("task: {e}"))
                .unwrap_or_else(|e| panic!("{db}: refund: {e}"));
            let redemption = redeeming.await.unwrap_or_else(|e| panic!("task: {e}"));
            let cost = regulars_tests::REWARD_COST;
            if redemption.is_ok() {
                redeemed += 1;
                assert_eq!(receipt.vouchers_voided, 0, "{db}: {receipt:?}");
                assert_eq!(receipt.points_restored, Points::ZERO, "{db}: {receipt:?}");
                assert_eq!(
                    receipt.balance,
                    Some(Points::new(-cost)),
                    "{db}: {receipt:?}"
                );
            } else {
                voided += 1;
                assert_eq!(receipt.vouchers_voided, 1, "{db}: {receipt:?}");
                assert_eq!(
                    receipt.points_restored,
                    Points::new(cost),
                    "{db}: {receipt:?}"
                );
                assert_eq!(receipt.balance, Some(Points::ZERO), "{db}: {receipt:?}");
            }
        }
        assert_eq!(redeemed + voided, 12, "{db}");
        let report = world
            .services
            .check_ledger(Some(world.brand))
            .await
            .unwrap_or_else(|e| panic!("{db}: check ledger: {e}"));
        assert!(
            report.mismatches.is_empty() && report.invalid.is_empty(),
            "{db}: {report:?}"
        );
    }
}
