//! Square against the real server routes: notifications signed over the configured
//! notification URL and the body, orders fetched through the Orders API (a stand-in
//! speaking Square's formats), the customer's phone through the Customers API, refunds
//! reversing points, and every event counted once by Square's `event_id`.

use crate::server::{Body, TestServer, dbs, spawn_configured};
use regulars_pos::{Secret, square};
use regulars_testkit::providers::SquareStub;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

const ORDER_UPDATED: &str =
    include_str!("../../../crates/pos/tests/fixtures/square_order_updated.json");
const PAYMENT_UPDATED: &str =
    include_str!("../../../crates/pos/tests/fixtures/square_payment_updated.json");
const REFUND_UPDATED: &str =
    include_str!("../../../crates/pos/tests/fixtures/square_refund_updated.json");
const ORDER: &str = include_str!("../../../crates/pos/tests/fixtures/square_retrieve_order.json");
const CUSTOMER: &str =
    include_str!("../../../crates/pos/tests/fixtures/square_retrieve_customer.json");

/// The subscription's signature key, as Square shows it.
const SIGNATURE_KEY: &str = "Fgc8Xf0qUwlWc1N3_7T9Fw";
/// The public host Square posts to; the test server sits "behind" it.
const PUBLIC: &str = "https://loyalty.example.com";

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"))
}

fn at(ago: Duration) -> String {
    (OffsetDateTime::now_utc() - ago)
        .format(&Rfc3339)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Square's documented order, in đồng (VND has no smaller unit, so `amount` is đồng):
/// 2 × 45,000 with a 5,000 topping each, 1 × 39,000, a 10,000 discount, a 20,000 tip.
fn vnd_order() -> Value {
    let mut order = parse(ORDER)["order"].clone();
    let money = |amount: i64| json!({"amount": amount, "currency": "VND"});
    order["line_items"][0]["base_price_money"] = money(45_000);
    order["line_items"][0]["modifiers"][0]["base_price_money"] = money(5_000);
    order["line_items"][1]["base_price_money"] = money(39_000);
    order["total_money"] = money(129_000 + 20_000);
    order["total_tip_money"] = money(20_000);
    order["closed_at"] = json!(at(Duration::minutes(10)));
    order["created_at"] = json!(at(Duration::minutes(12)));
    order
}

async fn start(db: crate::server::Db, stub: &SquareStub) -> (TestServer, String, String) {
    let url = stub.base_url();
    let server = spawn_configured(
        db,
        move |s| {
            s.rate_limit = None;
            s.pos_api.square_url = url;
        },
        Arc::new(regulars::system::SystemClock),
    )
    .await;
    let tenant = server.tenant("Square shop").await;
    let rules: Value =
        serde_json::from_str(regulars_tests::RULES).unwrap_or_else(|e| panic!("{e}"));
    server
        .put("/v1/program/earning-rules", &tenant.admin, &rules)
        .await
        .expect(200, "rules");
    (server, tenant.admin, stub.access_token())
}

async fn post(
    server: &TestServer,
    path: &str,
    body: &[u8],
    signature: String,
) -> crate::server::Reply {
    server
        .send(
            Method::POST,
            path,
            None,
            Body::Raw(Some("application/json"), body.to_vec()),
            &[(square::SIGNATURE_HEADER, signature)],
        )
        .await
}

fn sign(url: &str, body: &[u8]) -> String {
    square::signature_header(url, body, &Secret::new(SIGNATURE_KEY))
}

fn fresh(fixture: &str, ago: Duration) -> Vec<u8> {
    let mut v = parse(fixture);
    v["created_at"] = json!(at(ago));
    if let Some(refund) = v["data"]["object"].get_mut("refund") {
        refund["amount_money"] = json!({"amount": 39_000, "currency": "VND"});
        refund["updated_at"] = json!(at(ago));
    }
    v.to_string().into_bytes()
}

/// A Square `order.updated` (an id and a state) signed over the configured URL + body:
/// the order is fetched, earns for its customer's phone, is counted once whichever
/// event names it, and a refund reverses its share of the points.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_square_order_earns_for_its_customer_and_its_refund_reverses() {
    for db in dbs() {
        let stub = SquareStub::start().unwrap_or_else(|e| panic!("{e}"));
        stub.put_order(vnd_order());
        let mut customer = parse(CUSTOMER)["customer"].clone();
        customer["phone_number"] = json!("090 123 4567");
        stub.put_customer(customer);
        let (server, admin, token) = start(db, &stub).await;

        // A Square integration needs its access token and notification URL.
        let refused = server
            .post(
                "/v1/integrations",
                &admin,
                &json!({"kind": "square", "secret": SIGNATURE_KEY}),
            )
            .await;
        assert_eq!(
            refused
                .expect_error(422, "invalid", "square without access")
                .as_deref(),
            Some("api_access"),
            "{db:?}"
        );
        let created = server
            .post(
                "/v1/integrations",
                &admin,
                &json!({"kind": "square", "secret": SIGNATURE_KEY, "label": "Square Q1",
                        "api_access": {"kind": "square", "access_token": token,
                                       "notification_url": format!("{PUBLIC}/placeholder")}}),
            )
            .await
            .expect(201, "square integration");
        assert_eq!(created.json["integration"]["api_access"], true, "{db:?}");
        assert!(
            !created.text.contains(&token),
            "{db:?}: the token is never shown"
        );
        let path = created.str("/integration/webhook_path");
        // The subscription's URL is known once the integration exists: set it.
        let url = format!("{PUBLIC}{path}");
        let id = path.trim_start_matches("/webhooks/");
        server
            .put(
                &format!("/v1/integrations/{id}/access"),
                &admin,
                &json!({"api_access": {"kind": "square", "access_token": token, "notification_url": url}}),
            )
            .await
            .expect(204, "set access");

        let body = fresh(ORDER_UPDATED, Duration::minutes(9));
        // Signed over the address the request reached (what a proxy forwards to): refused.
        let local = format!("{}{path}", server.base);
        post(&server, &path, &body, sign(&local, &body))
            .await
            .expect_error(401, "bad_signature", "proxied URL");

        let ack = post(&server, &path, &body, sign(&url, &body))
            .await
            .expect(200, "order.updated");
        assert_eq!(
            ack.str("/events/0/outcome"),
            "counted",
            "{db:?}: {}",
            ack.text
        );
        let earned = ack.int("/events/0/order/points_earned");
        assert!(earned > 0, "{db:?}: {}", ack.text);
        let requests = stub.requests();
        assert!(
            requests
                .iter()
                .any(|r| r.path == "/v2/orders/eA3vssLHKJrv9H0IdJCM3gNqfdcZY"),
            "{db:?}: {requests:?}"
        );

        // The same event again: replayed. The payment naming the same order: duplicate.
        let again = post(&server, &path, &body, sign(&url, &body))
            .await
            .expect(200, "again");
        assert_eq!(again.str("/events/0/outcome"), "replayed", "{}", again.text);
        let payment = fresh(PAYMENT_UPDATED, Duration::minutes(9));
        let dup = post(&server, &path, &payment, sign(&url, &payment))
            .await
            .expect(200, "payment.updated");
        assert_eq!(dup.str("/events/0/outcome"), "duplicate", "{}", dup.text);

        let lookup = server
            .get("/v1/customers/lookup?phone=%2B84901234567", &admin)
            .await
            .expect(200, "lookup");
        assert_eq!(
            lookup.json["balance"].as_i64(),
            Some(earned),
            "{}",
            lookup.text
        );

        // A refund of 39,000 of the 129,000 paid reverses part of the points.
        let refund = fresh(REFUND_UPDATED, Duration::minutes(5));
        let ack = post(&server, &path, &refund, sign(&url, &refund))
            .await
            .expect(200, "refund.updated");
        assert_eq!(
            ack.str("/events/0/outcome"),
            "counted",
            "{db:?}: {}",
            ack.text
        );
        let after = server
            .get("/v1/customers/lookup?phone=%2B84901234567", &admin)
            .await
            .expect(200, "lookup");
        let balance = after.json["balance"].as_i64().unwrap_or_default();
        assert!(
            balance < earned && balance > 0,
            "{db:?}: {earned} → {}",
            after.text
        );
        server.assert_ledger_clean().await;
        server.stop().await;
    }
}

/// When Square's API cannot answer, the delivery is refused with 503 so Square sends it
/// again, and nothing is remembered: the retry counts. An order still open counts for
/// nothing yet (acknowledged as `not_final`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn square_outages_are_retried_and_open_orders_wait() {
    for db in dbs() {
        let stub = SquareStub::start().unwrap_or_else(|e| panic!("{e}"));
        let mut open = vnd_order();
        open["state"] = json!("OPEN");
        stub.put_order(open);
        let (server, admin, token) = start(db, &stub).await;
        let url = format!("{PUBLIC}/hooks/square");
        let created = server
            .post(
                "/v1/integrations",
                &admin,
                &json!({"kind": "square", "secret": SIGNATURE_KEY,
                        "api_access": {"kind": "square", "access_token": token, "notification_url": url}}),
            )
            .await
            .expect(201, "square integration");
        let path = created.str("/integration/webhook_path");
        let body = fresh(ORDER_UPDATED, Duration::minutes(1));

        let ack = post(&server, &path, &body, sign(&url, &body))
            .await
            .expect(200, "open order");
        assert_eq!(ack.json["events"], json!([]), "{}", ack.text);
        assert_eq!(ack.str("/ignored/0/reason"), "not_final", "{}", ack.text);

        stub.put_order(vnd_order());
        stub.fail_next(&[503]);
        post(&server, &path, &body, sign(&url, &body))
            .await
            .expect_error(503, "pos_api_unavailable", "Square down");
        let ack = post(&server, &path, &body, sign(&url, &body))
            .await
            .expect(200, "retried");
        assert_eq!(
            ack.str("/events/0/outcome"),
            "counted",
            "{db:?}: {}",
            ack.text
        );
        server.stop().await;
    }
}
