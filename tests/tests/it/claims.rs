//! Claiming a missed visit on both databases: an order a POS sent without a phone is
//! claimed later by the code its receipt printed, by its id, or at the till of its
//! location — credited once, for what it would have earned, and undone by its refund.

use crate::pos::order_data;
use crate::server::{Body, TestServer, dbs, spawn};
use crate::targets;
use crate::till::{Till, shop};
use regulars_domain::{CustomerId, EventKey, Points};
use regulars_service::{ClaimBy, ClaimError, ClaimVia, Claimant, OrderRef};
use regulars_tests::{order, phone, sms_customer};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

async fn anonymous(server: &TestServer, key: &str, id: &str, at: OffsetDateTime) -> Value {
    server
        .post("/v1/orders", key, &order_data(id, None, at, 3))
        .await
        .expect(200, "anonymous order")
        .json
}

async fn balance(server: &TestServer, admin: &str, customer: &str) -> i64 {
    server
        .get(&format!("/v1/customers/{customer}"), admin)
        .await
        .expect(200, "profile")
        .int("/balance")
}

async fn claim(server: &TestServer, key: &str, body: &Value) -> crate::server::Reply {
    server.post("/v1/claims", key, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_without_a_phone_is_claimed_once_by_its_receipt_code() {
    for db in dbs() {
        let server = spawn(db).await;
        let what = |s: &str| format!("{db:?}: {s}");
        let a = crate::isolation::populate(&server, "Claims A", 8101).await;
        let b = crate::isolation::populate(&server, "Claims B", 8102).await;
        let admin = a.tenant.admin.as_str();
        let pos = server
            .post("/v1/keys", admin, &json!({"role": "pos"}))
            .await
            .expect(201, "pos key")
            .str("/token");
        let hour_ago = OffsetDateTime::now_utc() - Duration::hours(1);

        // The POS gets the code to print with the order, and can read it again.
        let sent = anonymous(&server, &pos, "C-1", hour_ago).await;
        let (order, code) = (
            sent["order_id"].as_str().unwrap_or_default().to_owned(),
            sent["claim_code"].as_str().unwrap_or_default().to_owned(),
        );
        assert_eq!(code.len(), 10, "{}", what("claim code"));
        assert_eq!(sent["points_earned"], 0);
        let read = server
            .get(&format!("/v1/orders/{order}"), &pos)
            .await
            .expect(200, "order");
        assert_eq!(read.str("/claim_code"), code);

        // What the same order earns when the phone is given at the till.
        let twin = server
            .post(
                "/v1/orders",
                &pos,
                &order_data("C-TWIN", Some(phone(8103).as_str()), hour_ago, 3),
            )
            .await
            .expect(200, "twin");
        let earned = twin.int("/points_earned");
        assert!(earned > 0);

        // Claimed by its code, as the customer reads it off the receipt.
        let me = phone(8104).as_str().to_owned();
        let typed = format!("{}-{}", &code[..5], &code[5..]).to_lowercase();
        let first = claim(&server, &pos, &json!({"code": typed, "customer_phone": me}))
            .await
            .expect(200, "claim");
        assert_eq!(
            first.int("/points_earned"),
            earned,
            "{}",
            what("claimed points")
        );
        assert_eq!(first.json["duplicate"], false);
        let again = claim(&server, &pos, &json!({"code": code, "customer_phone": me}))
            .await
            .expect(200, "again");
        assert_eq!(again.json["duplicate"], true);
        assert_eq!(again.int("/balance"), first.int("/balance"));
        claim(
            &server,
            &pos,
            &json!({"code": code, "customer_phone": phone(8105).as_str()}),
        )
        .await
        .expect_error(409, "already_claimed", &what("another customer"));
        let read = server
            .get(&format!("/v1/orders/{order}"), &pos)
            .await
            .expect(200, "order");
        assert_eq!(read.str("/customer_id"), first.str("/customer_id"));
        assert!(read.json.get("claim_code").is_none(), "{}", read.text);

        // Refusals, each with its reason.
        let twin_id = twin.str("/order_id");
        server
            .post(
                &format!("/v1/orders/{twin_id}/claim"),
                &pos,
                &json!({"customer_phone": me}),
            )
            .await
            .expect_error(409, "has_customer", &what("credited at the till"));
        let old = anonymous(
            &server,
            &pos,
            "C-OLD",
            OffsetDateTime::now_utc() - Duration::days(8),
        )
        .await;
        server
            .post(
                &format!(
                    "/v1/orders/{}/claim",
                    old["order_id"].as_str().unwrap_or_default()
                ),
                &pos,
                &json!({"customer_phone": me}),
            )
            .await
            .expect_error(422, "claim_expired", &what("too old"));
        let refunded = anonymous(&server, &pos, "C-REF", hour_ago).await;
        server
            .post(
                "/v1/refunds",
                &pos,
                &json!({"refund_id": "C-REF-R", "order_id": "C-REF",
                "refunded_at": crate::pos::rfc3339(OffsetDateTime::now_utc()), "full": true}),
            )
            .await
            .expect(200, "refund");
        claim(
            &server,
            &pos,
            &json!({"code": refunded["claim_code"], "customer_phone": me}),
        )
        .await
        .expect_error(422, "refunded", &what("refunded"));

        // A wrong code and another brand's code get the same answer.
        let theirs = anonymous(&server, &b.tenant.admin, "C-B", hour_ago).await;
        let wrong = claim(
            &server,
            &pos,
            &json!({"code": "ZZZZZZZZZZ", "customer_phone": me}),
        )
        .await;
        let other = claim(
            &server,
            &pos,
            &json!({"code": theirs["claim_code"], "customer_phone": me}),
        )
        .await;
        wrong.expect_error(404, "not_found", &what("wrong code"));
        assert_eq!(
            (other.status, &other.json),
            (404, &wrong.json),
            "{}",
            what("B's code")
        );
        server
            .post(
                &format!(
                    "/v1/orders/{}/claim",
                    theirs["order_id"].as_str().unwrap_or_default()
                ),
                &pos,
                &json!({"customer_phone": me}),
            )
            .await
            .expect_error(404, "not_found", &what("B's order"));

        // The claimed order's refund takes its points back.
        let refund = server
            .post(
                "/v1/refunds",
                &pos,
                &json!({"refund_id": "C-1-R", "order_id": "C-1",
                "refunded_at": crate::pos::rfc3339(OffsetDateTime::now_utc()), "full": true}),
            )
            .await
            .expect(200, "refund of the claimed order");
        assert_eq!(refund.int("/points_reversed"), earned);
        assert_eq!(refund.int("/balance"), 0);

        // The window: off, then refused; the admin alone sets it.
        assert_eq!(
            server
                .get("/v1/settings/claims", &pos)
                .await
                .expect(200, "window")
                .int("/claim_days"),
            7
        );
        server
            .put("/v1/settings/claims", &pos, &json!({"claim_days": 0}))
            .await
            .expect_error(403, "forbidden", &what("pos sets the window"));
        server
            .put("/v1/settings/claims", admin, &json!({"claim_days": 0}))
            .await
            .expect(200, "off");
        let off = anonymous(&server, &pos, "C-OFF", hour_ago).await;
        assert!(off.get("claim_code").is_none(), "{off}");
        server
            .post(
                &format!(
                    "/v1/orders/{}/claim",
                    off["order_id"].as_str().unwrap_or_default()
                ),
                &pos,
                &json!({"customer_phone": me}),
            )
            .await
            .expect_error(422, "claims_off", &what("claims off"));
        server.assert_ledger_clean().await;
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_claims_are_4xx_naming_the_field() {
    for db in dbs() {
        let server = spawn(db).await;
        let admin = server.tenant("Bad claims").await.admin;
        let what = |s: &str| format!("{db:?}: {s}");
        let sent = anonymous(&server, &admin, "BAD-1", OffsetDateTime::now_utc()).await;
        let order = sent["order_id"].as_str().unwrap_or_default().to_owned();
        let path = format!("/v1/orders/{order}/claim");
        let phone = "0901234567";
        let someone = CustomerId::from_bytes([1; 16]).to_string();
        // The request's shape: 400; a value the rules refuse: 422; what it names: 404.
        let cases: Vec<(&str, Value, u16, &str)> = vec![
            (&path, json!({}), 400, "customer_id"),
            (
                &path,
                json!({"customer_id": someone, "customer_phone": phone}),
                400,
                "customer_phone",
            ),
            (
                &path,
                json!({"code": "ABCDEFGHJK", "customer_phone": phone}),
                400,
                "code",
            ),
            (
                &path,
                json!({"customer_phone": "not a phone"}),
                422,
                "customer_phone",
            ),
            (&path, json!({"customer_id": someone}), 404, "customer_id"),
            ("/v1/claims", json!({"customer_phone": phone}), 400, "code"),
            (
                "/v1/claims",
                json!({"code": "short", "customer_phone": phone}),
                422,
                "code",
            ),
            (
                "/v1/claims",
                json!({"code": 7, "customer_phone": phone}),
                400,
                "code",
            ),
            (
                "/v1/claims",
                json!({"code": "ABCDEFGHJK", "phone": phone}),
                400,
                "phone",
            ),
            (
                "/v1/orders/not-an-id/claim",
                json!({"customer_phone": phone}),
                404,
                "order",
            ),
        ];
        for (path, body, status, field) in cases {
            let reply = server.post(path, &admin, &body).await;
            assert_eq!(
                reply.status,
                status,
                "{}: {body} {}",
                what(path),
                reply.text
            );
            assert_eq!(
                reply.json["error"]["field"].as_str(),
                Some(field),
                "{}: {body} {}",
                what(path),
                reply.text
            );
        }
        let too_long = server
            .put("/v1/settings/claims", &admin, &json!({"claim_days": 91}))
            .await;
        too_long.expect_error(422, "invalid", &what("91 days"));
        let negative = server
            .call(
                Method::PUT,
                "/v1/settings/claims",
                Some(&admin),
                Body::Json(&json!({"claim_days": -1})),
            )
            .await;
        assert_eq!(negative.status, 400, "{}", negative.text);
        // Nothing was credited by any of them.
        let read = server
            .get(&format!("/v1/orders/{order}"), &admin)
            .await
            .expect(200, "order");
        assert!(read.json["customer_id"].is_null(), "{}", read.text);
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cashier_attaches_a_recent_order_of_the_till_location_to_the_customer() {
    for db in dbs() {
        let server = spawn(db).await;
        let shop = shop(&server, 8201).await;
        let what = |s: &str| format!("{db:?}: {s}");
        let hour_ago = OffsetDateTime::now_utc() - Duration::hours(1);
        let here = anonymous(&server, &shop.admin, "T-Q1", hour_ago).await;
        let mut elsewhere = order_data("T-Q3", None, hour_ago, 3);
        elsewhere["location"] = json!("q3");
        let there = server
            .post("/v1/orders", &shop.admin, &elsewhere)
            .await
            .expect(200, "q3 order")
            .json;
        let (here, there) = (
            here["order_id"].as_str().unwrap_or_default().to_owned(),
            there["order_id"].as_str().unwrap_or_default().to_owned(),
        );
        let before = balance(&server, &shop.admin, &shop.customer).await;

        let mut till = Till::new(&server);
        till.enrol(&shop.device_q1).await;
        till.sign_in(&shop.lan_q1, "2468")
            .await
            .expect(303, "sign in");
        let page = till
            .get(&format!("/till/customers/{}", shop.customer))
            .await
            .expect(200, "customer");
        assert!(page.text.contains("claim-link"), "{}", page.text);
        let list = till
            .get(&format!("/till/customers/{}/claims", shop.customer))
            .await
            .expect(200, "list");
        assert!(list.text.contains(&here), "{}", what("q1's order listed"));
        assert!(
            !list.text.contains(&there),
            "{}",
            what("q3's order not listed")
        );
        let csrf = list.field("csrf");

        // Another location's order cannot be attached here, even by a forged form.
        let forged = till
            .post(
                "/till/claims",
                &[
                    ("csrf", &csrf),
                    ("customer", &shop.customer),
                    ("order", &there),
                ],
            )
            .await
            .expect(200, "forged");
        assert!(forged.text.contains("till-message"), "{}", forged.text);
        assert_eq!(
            balance(&server, &shop.admin, &shop.customer).await,
            before,
            "{}",
            what("nothing credited")
        );

        let form = [
            ("csrf", csrf.as_str()),
            ("customer", shop.customer.as_str()),
            ("order", here.as_str()),
        ];
        let done = till.post("/till/claims", &form).await.expect(200, "attach");
        assert!(done.text.contains("Đã gắn đơn"), "{}", done.text);
        let again = till
            .post("/till/claims", &form)
            .await
            .expect(200, "attach again");
        assert!(again.text.contains("không cộng thêm"), "{}", again.text);
        let after = balance(&server, &shop.admin, &shop.customer).await;
        assert!(after > before, "{}", what("points credited"));
        let read = server
            .get(&format!("/v1/orders/{here}"), &shop.admin)
            .await
            .expect(200, "order");
        assert_eq!(read.str("/customer_id"), shop.customer);
        assert_eq!(read.int("/points_earned"), after - before);
        let list = till
            .get(&format!("/till/customers/{}/claims", shop.customer))
            .await
            .expect(200, "list");
        assert!(list.text.contains("no-unclaimed"), "{}", list.text);
        server.assert_ledger_clean().await;
        server.stop().await;
    }
}

/// Twenty claims of one order at once, ten by the same customer and one by each of ten
/// others: exactly one credit, whatever the interleaving.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_simultaneous_claims_of_one_order_credit_it_once() {
    for target in targets("claims").await {
        let world = Arc::new(target.world);
        let mut sent = order(
            world.brand,
            "RACE-1",
            0,
            OffsetDateTime::now_utc() - Duration::hours(1),
            2,
        );
        sent.customer_phone = None;
        let receipt = world
            .services
            .ingest_order(world.brand, sent)
            .await
            .unwrap_or_else(|e| panic!("{}: order: {e}", target.name));
        let mut customers = Vec::new();
        for n in 0..11 {
            let customer = sms_customer(&world.services, world.brand, 8300 + n, "Racer")
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            customers.push(customer.id);
        }
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let world = world.clone();
                let customer = if i % 2 == 0 {
                    customers[0]
                } else {
                    customers[1 + i / 2]
                };
                let order = receipt.order_id;
                tokio::spawn(async move {
                    let by = ClaimBy {
                        via: ClaimVia::Api,
                        actor: "race".into(),
                        only_at: None,
                    };
                    let result = world
                        .services
                        .claim_order(
                            world.brand,
                            &OrderRef::Id(order),
                            &Claimant::Customer(customer),
                            &by,
                        )
                        .await;
                    (customer, result)
                })
            })
            .collect();
        let (mut credits, mut duplicates, mut refused) = (0, 0, 0);
        let mut winner = None;
        for task in tasks {
            let (customer, result) = task.await.unwrap_or_else(|e| panic!("task: {e}"));
            match result {
                Ok(r) if !r.duplicate => {
                    credits += 1;
                    winner = Some(customer);
                }
                Ok(_) => duplicates += 1,
                Err(ClaimError::AlreadyClaimed) => refused += 1,
                Err(other) => panic!("{}: unexpected {other:?}", target.name),
            }
        }
        assert_eq!(credits, 1, "{}: credits", target.name);
        let winner = winner.unwrap_or_else(|| panic!("a winner"));
        let mut total = Points::ZERO;
        for customer in &customers {
            let view = world
                .services
                .customer_view(world.brand, *customer)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            total = total
                .checked_add(view.balance)
                .unwrap_or_else(|| panic!("points overflow"));
            if *customer != winner {
                assert_eq!(
                    view.balance,
                    Points::ZERO,
                    "{}: a loser was credited",
                    target.name
                );
            }
        }
        let stored = world
            .services
            .order(world.brand, receipt.order_id)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            total, stored.points_earned,
            "{}: one credit in all",
            target.name
        );
        assert!(stored.points_earned.is_positive());
        assert_eq!(stored.customer_id, Some(winner));
        assert_eq!(credits + duplicates + refused, 20);
        let key = EventKey::new("pos:generic", "RACE-1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stored.order.key, key);
        let report = world
            .services
            .check_ledger(Some(world.brand))
            .await
            .unwrap_or_else(|e| panic!("check ledger: {e}"));
        assert!(
            report.mismatches.is_empty() && report.invalid.is_empty(),
            "{report:?}"
        );
    }
}
