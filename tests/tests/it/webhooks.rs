//! POS webhooks over HTTP: signatures, time windows, replays, duplicates, unknown and
//! revoked integrations, and a real KiotViet delivery.

use crate::pos::{order_data, paid, refunded, sign};
use crate::server::{Body, TestServer, dbs, spawn};
use regulars_pos::{Secret, kiotviet};
use regulars_tests::phone;
use reqwest::Method;
use serde_json::{Value, json};
use time::macros::format_description;
use time::{Duration, OffsetDateTime};

const KIOTVIET_DELIVERY: &str =
    include_str!("../../../crates/pos/tests/fixtures/kiotviet_invoice_update.json");

async fn post_signed(
    server: &TestServer,
    path: &str,
    body: &[u8],
    header: (&str, String),
) -> crate::server::Reply {
    server
        .send(
            Method::POST,
            path,
            None,
            Body::Raw(Some("application/json"), body.to_vec()),
            &[(header.0, header.1)],
        )
        .await
}

/// A brand with the bubble-tea rules and a generic integration.
struct Hooked {
    tenant: crate::server::Tenant,
    /// The integration's id.
    id: String,
    /// Its webhook path.
    path: String,
    /// Its secret.
    secret: String,
}

async fn generic_integration(server: &TestServer, name: &str) -> Hooked {
    let tenant = server.tenant(name).await;
    let rules: Value =
        serde_json::from_str(regulars_tests::RULES).unwrap_or_else(|e| panic!("{e}"));
    server
        .put("/v1/program/earning-rules", &tenant.admin, &rules)
        .await
        .expect(200, "rules");
    let integration = server
        .post(
            "/v1/integrations",
            &tenant.admin,
            &json!({"kind": "generic"}),
        )
        .await
        .expect(201, "integration");
    Hooked {
        tenant,
        id: integration.str("/integration/id"),
        path: integration.str("/integration/webhook_path"),
        secret: integration.str("/secret"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_authenticated_fresh_and_counted_once() {
    for db in dbs() {
        let server = spawn(db).await;
        let Hooked {
            tenant,
            id,
            path,
            secret,
        } = generic_integration(&server, "Hooks").await;
        let admin = tenant.admin.as_str();
        let now = OffsetDateTime::now_utc();
        let customer = phone(55).as_str().to_owned();
        let body = paid(
            "evt-1",
            order_data("W-1", Some(&customer), now - Duration::hours(2), 3),
        );
        let what = |s: &str| format!("{db:?}: {s}");

        // Refused deliveries count nothing.
        post_signed(
            &server,
            &path,
            &body,
            sign("whsec_not_the_secret", &body, now),
        )
        .await
        .expect_error(401, "bad_signature", &what("wrong secret"));
        server
            .call(
                Method::POST,
                &path,
                None,
                Body::Raw(Some("application/json"), body.clone()),
            )
            .await
            .expect_error(401, "bad_signature", &what("no signature"));
        post_signed(
            &server,
            &path,
            &body,
            ("Regulars-Signature", "t=1,v1=zz".to_owned()),
        )
        .await
        .expect_error(401, "bad_signature", &what("malformed signature"));
        let mut tampered = body.clone();
        tampered.extend_from_slice(b" ");
        post_signed(&server, &path, &tampered, sign(&secret, &body, now))
            .await
            .expect_error(401, "bad_signature", &what("body changed after signing"));
        post_signed(
            &server,
            &path,
            &body,
            sign(&secret, &body, now - Duration::minutes(10)),
        )
        .await
        .expect_error(401, "stale_timestamp", &what("signed 10 minutes ago"));
        post_signed(
            &server,
            &path,
            &body,
            sign(&secret, &body, now + Duration::minutes(10)),
        )
        .await
        .expect_error(401, "stale_timestamp", &what("signed 10 minutes ahead"));
        let orders = server.get("/v1/orders", admin).await.expect(200, "orders");
        assert_eq!(
            orders.json["items"].as_array().map(Vec::len),
            Some(0),
            "{}",
            orders.text
        );

        // Counted once; the same delivery again is a replay that changes nothing.
        let signature = sign(&secret, &body, now);
        let first = post_signed(&server, &path, &body, signature.clone())
            .await
            .expect(200, &what("first delivery"));
        assert_eq!(first.str("/events/0/outcome"), "counted");
        let earned = first.int("/events/0/order/points_earned");
        assert!(earned > 0);
        let customer_id = first.str("/events/0/order/customer_id");
        let replay = post_signed(&server, &path, &body, signature)
            .await
            .expect(200, &what("replay"));
        assert_eq!(
            replay.str("/events/0/outcome"),
            "replayed",
            "{}",
            replay.text
        );

        // The same order under a new event id is a duplicate: earned once.
        let again = paid(
            "evt-2",
            order_data("W-1", Some(&customer), now - Duration::hours(2), 3),
        );
        let duplicate = post_signed(&server, &path, &again, sign(&secret, &again, now))
            .await
            .expect(200, &what("duplicate"));
        assert_eq!(
            duplicate.str("/events/0/outcome"),
            "duplicate",
            "{}",
            duplicate.text
        );
        assert_eq!(duplicate.int("/events/0/order/points_earned"), earned);
        let profile = server
            .get(&format!("/v1/customers/{customer_id}"), admin)
            .await
            .expect(200, "profile");
        assert_eq!(profile.int("/balance"), earned, "{db:?}: earned once");
        let orders = server.get("/v1/orders", admin).await.expect(200, "orders");
        assert_eq!(
            orders.json["items"].as_array().map(Vec::len),
            Some(1),
            "{}",
            orders.text
        );

        // Unknown, malformed and revoked integrations answer 404.
        let fresh = paid(
            "evt-3",
            order_data("W-3", None, now - Duration::hours(1), 1),
        );
        for unknown in [
            format!("/webhooks/{}", uuid::Uuid::now_v7()),
            "/webhooks/not-a-uuid".to_owned(),
        ] {
            post_signed(&server, &unknown, &fresh, sign(&secret, &fresh, now))
                .await
                .expect_error(404, "not_found", &what(&unknown));
        }
        server
            .call(
                Method::DELETE,
                &format!("/v1/integrations/{id}"),
                Some(admin),
                Body::None,
            )
            .await
            .expect(204, "revoke");
        post_signed(&server, &path, &fresh, sign(&secret, &fresh, now))
            .await
            .expect_error(404, "not_found", &what("revoked integration"));

        kiotviet_delivery(&server, admin).await;
        server.assert_ledger_clean().await;
        server.stop().await;
    }
}

/// KiotViet's invoice times as it writes them: the retailer's local wall-clock time
/// (+07:00 here), without an offset.
fn kiotviet_local(at: OffsetDateTime) -> String {
    let offset = time::UtcOffset::from_hms(7, 0, 0).unwrap_or_else(|e| panic!("{e}"));
    at.to_offset(offset)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]"
        ))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The documented KiotViet delivery, with its invoice times moved to an hour ago in
/// the retailer's local time: the completed invoice becomes an order; the one in
/// progress is acknowledged without counting.
async fn kiotviet_delivery(server: &TestServer, admin: &str) {
    let db = server.db;
    let secret = "a2lvdHZpZXQtc2VjcmV0LTIwMjY=";
    let integration = server
        .post(
            "/v1/integrations",
            admin,
            &json!({"kind": "kiotviet", "secret": secret}),
        )
        .await
        .expect(201, "kiotviet integration");
    let path = integration.str("/integration/webhook_path");
    let sign_kv = |body: &[u8]| {
        (
            kiotviet::SIGNATURE_HEADER,
            kiotviet::signature_header(body, &Secret::new(secret.as_bytes())),
        )
    };

    // As documented, dated months ago: outside KiotViet's window, acknowledged (any
    // 4xx would switch the webhook off) and counted as ignored.
    let old = KIOTVIET_DELIVERY.as_bytes();
    let ack = post_signed(server, &path, old, sign_kv(old))
        .await
        .expect(200, &format!("{db:?}: old KiotViet delivery"));
    assert_eq!(ack.json["events"], json!([]), "{}", ack.text);
    assert_eq!(
        ack.str("/ignored/1/reason"),
        "out_of_window",
        "{}",
        ack.text
    );

    let mut delivery: Value =
        serde_json::from_str(KIOTVIET_DELIVERY).unwrap_or_else(|e| panic!("fixture: {e}"));
    let recent = kiotviet_local(OffsetDateTime::now_utc() - Duration::hours(1));
    let invoices = delivery["Notifications"][0]["Data"]
        .as_array_mut()
        .unwrap_or_else(|| panic!("fixture has invoices"));
    for invoice in invoices.iter_mut() {
        invoice["PurchaseDate"] = json!(recent);
        invoice["ModifiedDate"] = json!(recent);
        // A walk-in sale: no KiotViet customer to wait for (see kiotviet.rs for those).
        invoice["CustomerCode"] = json!("");
    }
    let body = delivery.to_string().into_bytes();
    post_signed(server, &path, &body, ("X-Hub-Signature", "0".repeat(64)))
        .await
        .expect_error(
            401,
            "bad_signature",
            &format!("{db:?}: KiotViet bad signature"),
        );
    // The completed invoice is counted; the cancellation of an invoice never completed
    // is skipped without refusing the delivery (KiotViet switches off an endpoint that
    // answers 4xx); the invoice still in progress is no event at all.
    let ack = post_signed(server, &path, &body, sign_kv(&body))
        .await
        .expect(200, &format!("{db:?}: KiotViet delivery"));
    let outcomes: Vec<&str> = ack.json["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["outcome"].as_str())
        .collect();
    assert_eq!(outcomes, ["counted", "skipped"], "{db:?}: {}", ack.text);
    assert_eq!(ack.str("/ignored/0/reason"), "not_final", "{}", ack.text);
    let orders = server.walk("/v1/orders", admin, 50, "id").await;
    let kv: Vec<&Value> = orders
        .iter()
        .filter(|o| {
            o["source"]
                .as_str()
                .is_some_and(|s| s.starts_with(kiotviet::SOURCE))
        })
        .collect();
    assert_eq!(kv.len(), 1, "{db:?}: {orders:?}");
    assert_eq!(kv[0]["external_id"], "HD012345");
    assert_eq!(kv[0]["total"]["amount"], "129000");
    // Stored at the instant it happened (an hour ago), not seven hours later.
    let placed = OffsetDateTime::parse(
        kv[0]["placed_at"].as_str().unwrap_or_default(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap_or_else(|e| panic!("{db:?}: placed_at {}: {e}", kv[0]));
    let age = OffsetDateTime::now_utc() - placed;
    assert!(
        age > Duration::minutes(55) && age < Duration::minutes(65),
        "{db:?}: {age}"
    );
    // KiotViet retries with the same body: nothing more is counted.
    let retry = post_signed(server, &path, &body, sign_kv(&body))
        .await
        .expect(200, "KiotViet retry");
    assert_eq!(retry.str("/events/0/outcome"), "replayed", "{}", retry.text);
    assert_eq!(retry.str("/events/1/outcome"), "skipped", "{}", retry.text);

    // Later the completed invoice is cancelled: a full refund.
    let mut cancel = delivery.clone();
    cancel["Id"] = json!("c1a7e3f0-5b2d-4f8e-9a61-2f4b8d0e7c56");
    let first = cancel["Notifications"][0]["Data"][0].clone();
    let mut cancelled = first;
    cancelled["Status"] = json!(2);
    cancel["Notifications"][0]["Data"] = json!([cancelled]);
    let body = cancel.to_string().into_bytes();
    let ack = post_signed(server, &path, &body, sign_kv(&body))
        .await
        .expect(200, &format!("{db:?}: KiotViet cancellation"));
    assert_eq!(ack.str("/events/0/outcome"), "counted", "{}", ack.text);
    assert_eq!(ack.json["events"][0]["refund"]["fully_refunded"], true);
    let order = server
        .get(
            &format!("/v1/orders/{}", ack.str("/events/0/refund/order_id")),
            admin,
        )
        .await
        .expect(200, "refunded order");
    assert_eq!(order.str("/refunded/amount"), "129000");
}

/// The same signed delivery sent twelve times at once (a POS retrying while the first
/// is still in flight): it is counted once, every other copy is told it was a replay,
/// and the balance holds the points once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_copies_of_one_event_are_counted_once() {
    for db in dbs() {
        let server = spawn(db).await;
        let Hooked {
            tenant,
            path,
            secret,
            ..
        } = generic_integration(&server, "Racing hooks").await;
        let admin = tenant.admin.as_str();
        let now = OffsetDateTime::now_utc();
        let customer = phone(77).as_str().to_owned();
        let body = paid(
            "evt-race",
            order_data("RACE-1", Some(&customer), now - Duration::hours(1), 2),
        );
        let header = sign(&secret, &body, now);
        let copies = (0..12).map(|_| post_signed(&server, &path, &body, header.clone()));
        let replies = futures_util::future::join_all(copies).await;
        let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
        let mut earned = None;
        for reply in &replies {
            assert_eq!(reply.status, 200, "{db:?}: {}", reply.text);
            let event = &reply.json["events"][0];
            *outcomes
                .entry(event["outcome"].as_str().unwrap_or("?").to_owned())
                .or_default() += 1;
            let points = event["order"]["points_earned"].as_i64();
            assert!(
                earned.is_none() || earned == points,
                "{db:?}: one receipt for all"
            );
            earned = points;
        }
        assert_eq!(outcomes.get("counted"), Some(&1), "{db:?}: {outcomes:?}");
        assert_eq!(outcomes.get("replayed"), Some(&11), "{db:?}: {outcomes:?}");
        let lookup = server
            .get(
                &format!(
                    "/v1/customers/lookup?phone={}",
                    customer.replace('+', "%2B")
                ),
                admin,
            )
            .await
            .expect(200, "lookup");
        assert_eq!(
            lookup.json["balance"].as_i64(),
            earned,
            "{db:?}: {}",
            lookup.text
        );
        assert_eq!(lookup.json["visits"], 1, "{db:?}");
    }
}

/// Two POS integrations of one brand that number their receipts independently: each
/// one's order 1001 is its own, and a refund reaches its own integration's order only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integrations_reusing_an_order_id_keep_their_orders_apart() {
    for db in dbs() {
        let server = spawn(db).await;
        let a = generic_integration(&server, "Two tills").await;
        let admin = a.tenant.admin.as_str();
        let b = server
            .post("/v1/integrations", admin, &json!({"kind": "generic"}))
            .await
            .expect(201, "second integration");
        let (b_path, b_secret) = (b.str("/integration/webhook_path"), b.str("/secret"));
        let now = OffsetDateTime::now_utc();
        let what = |s: &str| format!("{db:?}: {s}");
        let (lan, minh) = (phone(71).as_str().to_owned(), phone(72).as_str().to_owned());

        let at_a = paid(
            "a-1",
            order_data("1001", Some(&lan), now - Duration::hours(1), 2),
        );
        let first = post_signed(&server, &a.path, &at_a, sign(&a.secret, &at_a, now))
            .await
            .expect(200, &what("A's 1001"));
        let at_b = paid(
            "b-1",
            order_data("1001", Some(&minh), now - Duration::hours(1), 3),
        );
        let second = post_signed(&server, &b_path, &at_b, sign(&b_secret, &at_b, now))
            .await
            .expect(200, &what("B's 1001"));
        for reply in [&first, &second] {
            assert_eq!(reply.str("/events/0/outcome"), "counted", "{}", reply.text);
            assert!(
                reply.int("/events/0/order/points_earned") > 0,
                "{}",
                reply.text
            );
        }
        let a_order = first.str("/events/0/order/order_id");
        let b_order = second.str("/events/0/order/order_id");
        assert_ne!(a_order, b_order, "{db:?}: two orders");
        assert_ne!(
            first.str("/events/0/order/customer_id"),
            second.str("/events/0/order/customer_id"),
            "{db:?}: two customers credited"
        );

        // B refunds its 1001: A's order and A's customer are untouched.
        let refund = refunded("b-2", "R-1001", "1001", now);
        let refunded_b = post_signed(&server, &b_path, &refund, sign(&b_secret, &refund, now))
            .await
            .expect(200, &what("B's refund"));
        assert_eq!(refunded_b.str("/events/0/refund/order_id"), b_order);
        let a_after = server
            .get(&format!("/v1/orders/{a_order}"), admin)
            .await
            .expect(200, "A's order");
        assert_eq!(
            a_after.str("/refunded/amount"),
            "0",
            "{db:?}: {}",
            a_after.text
        );
        let b_after = server
            .get(&format!("/v1/orders/{b_order}"), admin)
            .await
            .expect(200, "B's order");
        assert_ne!(
            b_after.str("/refunded/amount"),
            "0",
            "{db:?}: {}",
            b_after.text
        );

        // A sends another order under its used id 1001: refused, not answered A's receipt.
        let reused = paid(
            "a-2",
            order_data("1001", Some(&minh), now - Duration::minutes(5), 1),
        );
        post_signed(&server, &a.path, &reused, sign(&a.secret, &reused, now))
            .await
            .expect_error(
                409,
                "key_reused",
                &what("order id reused with another order"),
            );
        // The same order again (a retry under a new event id) is still a duplicate.
        let retry = paid(
            "a-3",
            order_data("1001", Some(&lan), now - Duration::hours(1), 2),
        );
        let again = post_signed(&server, &a.path, &retry, sign(&a.secret, &retry, now))
            .await
            .expect(200, &what("retry"));
        assert_eq!(
            again.str("/events/0/outcome"),
            "duplicate",
            "{}",
            again.text
        );
    }
}
