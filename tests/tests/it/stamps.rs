//! Stamp cards over real HTTP on both databases: a card is checked as a whole (422
//! naming the card and field), an order's qualifying items earn stamps, a full card turns
//! into one voucher, a repeated delivery earns nothing again, a refund takes the order's
//! stamps back and voids the unused voucher of the card it reopens, and another brand
//! sees none of it.

use crate::pos::{order_data, rfc3339};
use crate::server::{TestServer, dbs, spawn};
use regulars_tests::phone;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

fn card(reward: &str, needed: u32) -> Value {
    json!({"cards": [{"code": "milk-tea", "name": "Thẻ trà sữa", "stamps_needed": needed,
        "earn_per": "item", "categories": ["milk-tea"], "reward_id": reward}]})
}

async fn stamps(server: &TestServer, admin: &str, customer: &str) -> Value {
    let profile = server
        .get(&format!("/v1/customers/{customer}"), admin)
        .await
        .expect(200, "profile");
    profile.json["stamps"].clone()
}

async fn usable_vouchers(server: &TestServer, admin: &str, customer: &str) -> usize {
    let profile = server
        .get(&format!("/v1/customers/{customer}"), admin)
        .await
        .expect(200, "profile");
    profile.json["vouchers"].as_array().map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stamp_card_end_to_end_with_completion_duplicate_and_refund() {
    for db in dbs() {
        let server = spawn(db).await;
        let a = server.tenant("A").await;
        let b = server.tenant("B").await;
        let reward = server
            .post(
                "/v1/rewards",
                &a.admin,
                &json!({"name": "Ly trà sữa miễn phí", "cost": 1000,
                    "kind": {"type": "free_item", "sku": "TS-OOLONG"}, "validity_days": 30}),
            )
            .await
            .expect(201, "reward")
            .str("/id");

        // Checked as a whole, the field named.
        let reply = server
            .put("/v1/stamp-cards", &a.admin, &card(&reward, 1))
            .await;
        reply.expect_error(422, "invalid", "one stamp");
        assert_eq!(
            reply.json["error"]["field"], "cards[0].stamps_needed",
            "{}",
            reply.text
        );
        let unknown = card("018f0000-0000-7000-8000-000000000000", 3);
        let reply = server.put("/v1/stamp-cards", &a.admin, &unknown).await;
        reply.expect_error(422, "invalid", "unknown reward");
        assert_eq!(
            reply.json["error"]["field"], "cards[0].reward_id",
            "{}",
            reply.text
        );
        server
            .put("/v1/stamp-cards", &a.admin, &card(&reward, 3))
            .await
            .expect(200, "card");
        let read = server
            .get("/v1/stamp-cards", &a.admin)
            .await
            .expect(200, "read");
        assert_eq!(read.json["cards"][0]["stamps_needed"], 3, "{}", read.text);

        // One milk tea, then an order with two more among other drinks: a full card.
        let at = OffsetDateTime::now_utc() - Duration::hours(3);
        let customer_phone = phone(8101);
        let first = server
            .post(
                "/v1/orders",
                &a.admin,
                &order_data("S-1", Some(customer_phone.as_str()), at, 1),
            )
            .await
            .expect(200, "first order");
        let customer = first.str("/customer_id");
        let card_now = stamps(&server, &a.admin, &customer).await;
        assert_eq!(
            (
                card_now[0]["stamps"].as_i64(),
                card_now[0]["needed"].as_i64()
            ),
            (Some(1), Some(3)),
            "{db:?}: {card_now}"
        );
        let second = order_data(
            "S-2",
            Some(customer_phone.as_str()),
            at + Duration::hours(1),
            3,
        );
        server
            .post("/v1/orders", &a.admin, &second)
            .await
            .expect(200, "second order");
        let card_now = stamps(&server, &a.admin, &customer).await;
        assert_eq!(
            (
                card_now[0]["stamps"].as_i64(),
                card_now[0]["completed"].as_i64()
            ),
            (Some(0), Some(1)),
            "{db:?}: {card_now}"
        );
        assert_eq!(usable_vouchers(&server, &a.admin, &customer).await, 1);

        // The same order again earns nothing.
        let again = server.post("/v1/orders", &a.admin, &second).await;
        assert!(again.status < 300, "{}", again.text);
        assert_eq!(again.json["duplicate"], true, "{}", again.text);
        let card_now = stamps(&server, &a.admin, &customer).await;
        assert_eq!(
            card_now[0]["completed"].as_i64(),
            Some(1),
            "{db:?}: {card_now}"
        );
        assert_eq!(usable_vouchers(&server, &a.admin, &customer).await, 1);

        // Refunding the first order takes its stamp back: the card reopens (3 − 1 = 2)
        // and its unused voucher is voided.
        let refund = json!({"refund_id": "R-S-1", "order_id": "S-1",
            "refunded_at": rfc3339(OffsetDateTime::now_utc()), "full": true});
        let refunded = server.post("/v1/refunds", &a.admin, &refund).await;
        assert!(refunded.status < 300, "{}", refunded.text);
        let card_now = stamps(&server, &a.admin, &customer).await;
        assert_eq!(
            (
                card_now[0]["stamps"].as_i64(),
                card_now[0]["completed"].as_i64()
            ),
            (Some(2), Some(0)),
            "{db:?}: {card_now}"
        );
        assert_eq!(usable_vouchers(&server, &a.admin, &customer).await, 0);
        // The customer's own page shows the card as it stands.
        let path = crate::card_privacy::card_of(&server, &a.admin, &customer).await;
        let page = server
            .call(reqwest::Method::GET, &path, None, crate::server::Body::None)
            .await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(
            page.text.contains("Thẻ trà sữa") && page.text.contains("2 / 3 ☕"),
            "{}",
            page.text
        );

        // Brand B has no card: the same phone there earns no stamps, and B cannot
        // see A's card.
        let read = server
            .get("/v1/stamp-cards", &b.admin)
            .await
            .expect(200, "B reads");
        assert_eq!(read.json["cards"], json!([]), "{db:?}");
        let other = server
            .post(
                "/v1/orders",
                &b.admin,
                &order_data("S-1", Some(customer_phone.as_str()), at, 3),
            )
            .await
            .expect(200, "B's order");
        let b_customer = other.str("/customer_id");
        assert_eq!(
            stamps(&server, &b.admin, &b_customer).await,
            json!([]),
            "{db:?}"
        );
        let card_now = stamps(&server, &a.admin, &customer).await;
        assert_eq!(
            card_now[0]["stamps"].as_i64(),
            Some(2),
            "{db:?}: {card_now}"
        );
        server.stop().await;
    }
}
