//! KiotViet against the real server routes, as KiotViet documents its webhooks: a 4xx
//! switches the webhook off for good, so only a bad signature is refused (401); both
//! readings of the registered secret verify; removal notices, other actions, broken
//! parts and fractional amounts are acknowledged and counted in `/metrics`.

use crate::server::{Body, TestServer, dbs, spawn_configured};
use base64::Engine as _;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use regulars_pos::{Secret, kiotviet};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use time::macros::format_description;
use time::{Duration, OffsetDateTime};

const INVOICES: &str =
    include_str!("../../../crates/pos/tests/fixtures/kiotviet_invoice_update.json");
const CUSTOMER_UPDATE: &str =
    include_str!("../../../crates/pos/tests/fixtures/kiotviet_customer_update.json");
const CUSTOMER_DELETE: &str =
    include_str!("../../../crates/pos/tests/fixtures/kiotviet_customer_delete.json");
/// A `product.update` notification (guide §2.11.4), reduced to its envelope.
const PRODUCT_UPDATE: &str = r#"{"Id":"p-1","Attempt":1,"Notifications":[{"Action":"product.update.500123","Data":[{"Id":7710021,"Code":"TS-OOLONG"}]}]}"#;
const PRODUCT_DELETE: &str =
    include_str!("../../../crates/pos/tests/fixtures/kiotviet_product_delete_in_envelope.json");

/// What the retailer registered: base64 of a random text, as the guide asks.
const REGISTERED: &str = "a2lvdHZpZXQtc2VjcmV0LTIwMjY=";
const DECODED: &[u8] = b"kiotviet-secret-2026";

async fn start(db: crate::server::Db) -> (TestServer, String, String) {
    // Many requests on one integration: no rate limit in the way.
    let server = spawn_configured(
        db,
        |s| s.rate_limit = None,
        Arc::new(regulars::system::SystemClock),
    )
    .await;
    let tenant = server.tenant("KiotViet shop").await;
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
            &json!({"kind": "kiotviet", "secret": REGISTERED}),
        )
        .await
        .expect(201, "kiotviet integration");
    let path = integration.str("/integration/webhook_path");
    (server, path, tenant.admin)
}

async fn post(
    server: &TestServer,
    path: &str,
    body: &[u8],
    signature: Option<String>,
) -> crate::server::Reply {
    let headers: Vec<(&str, String)> = signature
        .map(|s| vec![(kiotviet::SIGNATURE_HEADER, s)])
        .unwrap_or_default();
    server
        .send(
            Method::POST,
            path,
            None,
            Body::Raw(Some("application/json"), body.to_vec()),
            &headers,
        )
        .await
}

fn sign(body: &[u8], key: &[u8]) -> String {
    kiotviet::signature_header(body, &Secret::new(key))
}

/// The documented invoices dated `ago` in the retailer's local time (+07:00, no offset).
fn fresh_invoices(ago: Duration) -> Value {
    let offset = time::UtcOffset::from_hms(7, 0, 0).unwrap_or_else(|e| panic!("{e}"));
    let local = (OffsetDateTime::now_utc() - ago)
        .to_offset(offset)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut delivery: Value = serde_json::from_str(INVOICES).unwrap_or_else(|e| panic!("{e}"));
    for invoice in delivery["Notifications"][0]["Data"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        invoice["PurchaseDate"] = json!(local);
        invoice["ModifiedDate"] = json!(local);
    }
    delivery
}

fn ignored_reasons(reply: &crate::server::Reply) -> Vec<String> {
    reply.json["ignored"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["reason"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiotviet_is_refused_only_for_its_signature() {
    for db in dbs() {
        let (server, path, admin) = start(db).await;
        let body = fresh_invoices(Duration::minutes(30))
            .to_string()
            .into_bytes();

        post(&server, &path, &body, None).await.expect_error(
            401,
            "bad_signature",
            &format!("{db:?}: no signature"),
        );
        post(&server, &path, &body, Some(sign(&body, b"another secret")))
            .await
            .expect_error(401, "bad_signature", &format!("{db:?}: wrong secret"));

        // Signed with the bytes the registered text encodes: accepted (the invoice waits
        // for its customer's phone).
        let ack = post(&server, &path, &body, Some(sign(&body, DECODED)))
            .await
            .expect(200, &format!("{db:?}: decoded key"));
        assert_eq!(
            ack.str("/events/0/outcome"),
            "waiting",
            "{db:?}: {}",
            ack.text
        );
        // Signed with the registered text itself, base64-written: the same delivery again.
        let b64 = base64::engine::general_purpose::STANDARD
            .encode(hex_bytes(&sign(&body, REGISTERED.as_bytes())));
        let again = post(&server, &path, &body, Some(format!("sha256={b64}")))
            .await
            .expect(200, &format!("{db:?}: text key"));
        assert_eq!(again.str("/events/0/outcome"), "replayed", "{}", again.text);

        for (what, fixture, reason) in [
            ("customer.delete", CUSTOMER_DELETE, "removal"),
            ("product.delete", PRODUCT_DELETE, "removal"),
            ("product.update", PRODUCT_UPDATE, "unknown_action"),
            ("not JSON", "<xml/>", "malformed"),
        ] {
            let reply = post(
                &server,
                &path,
                fixture.as_bytes(),
                Some(sign(fixture.as_bytes(), DECODED)),
            )
            .await
            .expect(200, &format!("{db:?}: {what}"));
            assert_eq!(
                reply.json["events"],
                json!([]),
                "{db:?}: {what}: {}",
                reply.text
            );
            assert_eq!(
                ignored_reasons(&reply),
                [reason],
                "{db:?}: {what}: {}",
                reply.text
            );
        }

        // A percentage discount leaves a fraction of a dong: that invoice is left out,
        // the others still count.
        let mut fractional = fresh_invoices(Duration::minutes(20));
        fractional["Id"] = json!("fractional-delivery");
        fractional["Notifications"][0]["Data"][0]["Code"] = json!("HD099001");
        fractional["Notifications"][0]["Data"][0]["Total"] = json!(128999.5);
        let body = fractional.to_string().into_bytes();
        let reply = post(&server, &path, &body, Some(sign(&body, DECODED)))
            .await
            .expect(200, &format!("{db:?}: fractional total"));
        assert_eq!(
            ignored_reasons(&reply),
            ["unusable", "not_final"],
            "{}",
            reply.text
        );

        let metrics = server
            .call(Method::GET, "/metrics", None, Body::None)
            .await
            .expect(200, "metrics");
        for (reason, n) in [
            ("removal", 2),
            ("unknown_action", 1),
            ("malformed", 1),
            ("unusable", 1),
        ] {
            let series = format!(
                "regulars_webhook_ignored_total{{dialect=\"kiotviet\",reason=\"{reason}\"}} {n}"
            );
            assert!(
                metrics.text.contains(&series),
                "{db:?}: {series} in\n{}",
                metrics.text
            );
        }
        let orders = server.walk("/v1/orders", &admin, 50, "id").await;
        assert_eq!(orders.len(), 0, "{db:?}: {orders:?}");
        server.assert_ledger_clean().await;
        server.stop().await;
    }
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Bodies KiotViet could send, and many it never would: raw bytes, JSON-shaped text
/// with KiotViet's keys, and the documented delivery with its fields replaced.
fn bodies() -> impl Strategy<Value = Vec<u8>> {
    let json_value = prop_oneof![
        Just(json!(null)),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|x| json!(x)),
        ".{0,16}".prop_map(|s| json!(s)),
        Just(json!([])),
        Just(json!({})),
        Just(json!([1, 2])),
    ];
    let field = prop_oneof![
        Just("Action"),
        Just("Id"),
        Just("Code"),
        Just("Status"),
        Just("Total"),
        Just("PurchaseDate"),
        Just("ModifiedDate"),
        Just("InvoiceDetails"),
        Just("CustomerCode"),
        Just("BranchId"),
    ];
    let action = prop_oneof![
        Just("invoice.update".to_owned()),
        "invoice\\.update\\.[0-9]{1,9}",
        "(invoice|customer|product|order|stock)\\.(update|delete)(\\.[0-9]{1,6})?",
        ".{0,20}",
    ];
    let mutated = (action, proptest::collection::vec((field, json_value), 0..4)).prop_map(
        |(action, changes)| {
            let mut v = fresh_invoices(Duration::minutes(10));
            v["Notifications"][0]["Action"] = json!(action);
            for (i, (field, value)) in changes.into_iter().enumerate() {
                if field == "Action" {
                    v["Notifications"][0]["Action"] = value;
                } else {
                    v["Notifications"][0]["Data"][i % 3][field] = value;
                }
            }
            v.to_string().into_bytes()
        },
    );
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256),
        r#"\{("(Id|Attempt|Notifications|Action|Data|RemoveId|Status|Total)":(-?[0-9.e]{1,8}|"[^"]{0,12}"|\[\]|\{\}|\[\{\}\]|null|true),?){0,6}\}"#
            .prop_map(String::into_bytes),
        mutated,
    ]
}

/// Every way the signature may be written, under either reading of the secret.
fn signature_for(body: &[u8], decoded_key: bool, encoding: u8) -> String {
    let key = if decoded_key {
        DECODED
    } else {
        REGISTERED.as_bytes()
    };
    let hex = sign(body, key);
    match encoding % 4 {
        0 => hex,
        1 => hex.to_uppercase(),
        2 => format!("sha256={hex}"),
        _ => base64::engine::general_purpose::STANDARD.encode(hex_bytes(&hex)),
    }
}

/// A property over the real routes: whatever the body, a valid signature gets 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_correctly_signed_body_is_answered_200() {
    for db in dbs() {
        let (server, path, _) = start(db).await;
        let handle = tokio::runtime::Handle::current();
        let mut runner = TestRunner::new(Config {
            cases: 64,
            failure_persistence: None,
            ..Config::default()
        });
        let result = tokio::task::block_in_place(|| {
            runner.run(
                &(bodies(), any::<bool>(), any::<u8>()),
                |(body, decoded_key, encoding)| {
                    let signature = signature_for(&body, decoded_key, encoding);
                    let reply = handle.block_on(post(&server, &path, &body, Some(signature)));
                    prop_assert_eq!(
                        reply.status,
                        200,
                        "{:?}: {} for {}",
                        db,
                        reply.text,
                        String::from_utf8_lossy(&body)
                    );
                    Ok(())
                },
            )
        });
        if let Err(e) = result {
            panic!("{db:?}: {e}");
        }
        server.assert_ledger_clean().await;
        server.stop().await;
    }
}

/// The documented `customer.update` with its `ModifiedDate` moved to `ago`, in local
/// time, under delivery id `id`.
fn customer_update(id: &str, code: &str, ago: Duration) -> Vec<u8> {
    let offset = time::UtcOffset::from_hms(7, 0, 0).unwrap_or_else(|e| panic!("{e}"));
    let local = (OffsetDateTime::now_utc() - ago)
        .to_offset(offset)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut v: Value = serde_json::from_str(CUSTOMER_UPDATE).unwrap_or_else(|e| panic!("{e}"));
    v["Id"] = json!(id);
    v["Notifications"][0]["Data"][0]["Code"] = json!(code);
    v["Notifications"][0]["Data"][0]["ModifiedDate"] = json!(local);
    v.to_string().into_bytes()
}

/// KiotViet invoices name `CustomerCode`, not a phone: `customer.update` links the code
/// to its `ContactNumber`. An invoice that arrives first waits and is credited when the
/// link arrives, once; later invoices earn at once; a waiting invoice cancelled before
/// the link is never credited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kiotviet_customer_code_earns_points_for_its_phone() {
    for db in dbs() {
        let (server, path, admin) = start(db).await;
        let send = |body: Vec<u8>, what: String| {
            let server = &server;
            let path = &path;
            async move {
                post(server, path, &body, Some(sign(&body, DECODED)))
                    .await
                    .expect(200, &what)
            }
        };

        // The invoice comes before its customer: it waits.
        let body = fresh_invoices(Duration::minutes(40))
            .to_string()
            .into_bytes();
        let ack = send(body, format!("{db:?}: invoice")).await;
        assert_eq!(
            ack.str("/events/0/outcome"),
            "waiting",
            "{db:?}: {}",
            ack.text
        );

        // The customer's phone arrives: the waiting invoice is credited.
        let linked = send(
            customer_update("c-1", "KH000871", Duration::minutes(30)),
            format!("{db:?}: customer"),
        )
        .await;
        assert_eq!(
            linked.str("/events/0/outcome"),
            "linked",
            "{db:?}: {}",
            linked.text
        );
        let credited = &linked.json["events"][0]["credited"];
        assert_eq!(
            credited.as_array().map(Vec::len),
            Some(1),
            "{db:?}: {}",
            linked.text
        );
        let earned = credited[0]["points_earned"].as_i64().unwrap_or_default();
        assert!(earned > 0, "{db:?}: {}", linked.text);
        let customer = credited[0]["customer_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();

        // Sent again (a new delivery of the same update): nothing is credited twice.
        let again = send(
            customer_update("c-2", "KH000871", Duration::minutes(29)),
            format!("{db:?}: customer again"),
        )
        .await;
        assert_eq!(again.str("/events/0/outcome"), "linked", "{}", again.text);
        assert!(
            again.json["events"][0].get("credited").is_none(),
            "{}",
            again.text
        );

        // A later invoice of the same customer earns at once.
        let mut later = fresh_invoices(Duration::minutes(10));
        later["Id"] = json!("later-delivery");
        later["Notifications"][0]["Data"] = json!([later["Notifications"][0]["Data"][0].clone()]);
        later["Notifications"][0]["Data"][0]["Code"] = json!("HD012400");
        later["Notifications"][0]["Data"][0]["Id"] = json!(104857700);
        let ack = send(
            later.to_string().into_bytes(),
            format!("{db:?}: later invoice"),
        )
        .await;
        assert_eq!(
            ack.str("/events/0/outcome"),
            "counted",
            "{db:?}: {}",
            ack.text
        );
        assert_eq!(
            ack.str("/events/0/order/customer_id"),
            customer,
            "{}",
            ack.text
        );
        let order = &ack.json["events"][0]["order"];
        let now_earned = order["points_earned"].as_i64().unwrap_or_default();
        assert!(now_earned > 0, "{db:?}: {}", ack.text);
        assert_eq!(
            order["balance"].as_i64(),
            Some(earned + now_earned),
            "{db:?}: {}",
            ack.text
        );

        // Another customer's invoice waits, is cancelled, and is never credited.
        let mut other = later.clone();
        other["Id"] = json!("other-delivery");
        other["Notifications"][0]["Data"][0]["Code"] = json!("HD012500");
        other["Notifications"][0]["Data"][0]["CustomerCode"] = json!("KH000999");
        let ack = send(
            other.to_string().into_bytes(),
            format!("{db:?}: other invoice"),
        )
        .await;
        assert_eq!(ack.str("/events/0/outcome"), "waiting", "{}", ack.text);
        other["Id"] = json!("other-cancelled");
        other["Notifications"][0]["Data"][0]["Status"] = json!(2);
        let ack = send(
            other.to_string().into_bytes(),
            format!("{db:?}: other cancelled"),
        )
        .await;
        assert_eq!(ack.str("/events/0/outcome"), "dropped", "{}", ack.text);
        let linked = send(
            customer_update("c-3", "KH000999", Duration::minutes(5)),
            format!("{db:?}: other customer"),
        )
        .await;
        assert_eq!(linked.str("/events/0/outcome"), "linked", "{}", linked.text);
        assert!(
            linked.json["events"][0].get("credited").is_none(),
            "{}",
            linked.text
        );

        let orders = server.walk("/v1/orders", &admin, 50, "id").await;
        let codes: Vec<&str> = orders
            .iter()
            .filter_map(|o| o["external_id"].as_str())
            .collect();
        assert_eq!(codes.len(), 2, "{db:?}: {codes:?}");
        server.assert_ledger_clean().await;
        server.stop().await;
    }
}

/// The same customer's update delivered many times at once (KiotViet retrying while the
/// first is in flight, under new delivery ids): the waiting invoice is credited once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_customer_updates_credit_a_waiting_invoice_once() {
    for db in dbs() {
        let (server, path, admin) = start(db).await;
        let body = fresh_invoices(Duration::minutes(40))
            .to_string()
            .into_bytes();
        let ack = post(&server, &path, &body, Some(sign(&body, DECODED)))
            .await
            .expect(200, &format!("{db:?}: invoice"));
        assert_eq!(ack.str("/events/0/outcome"), "waiting", "{}", ack.text);

        let updates: Vec<Vec<u8>> = (0..8)
            .map(|n| customer_update(&format!("race-{n}"), "KH000871", Duration::minutes(30)))
            .collect();
        let copies = updates
            .iter()
            .map(|body| post(&server, &path, body, Some(sign(body, DECODED))));
        let replies = futures_util::future::join_all(copies).await;
        let mut credited = Vec::new();
        for reply in &replies {
            assert_eq!(reply.status, 200, "{db:?}: {}", reply.text);
            assert_eq!(reply.str("/events/0/outcome"), "linked", "{}", reply.text);
            for receipt in reply.json["events"][0]["credited"]
                .as_array()
                .into_iter()
                .flatten()
            {
                credited.push(receipt.clone());
            }
        }
        let fresh: Vec<&Value> = credited
            .iter()
            .filter(|r| r["duplicate"] == false)
            .collect();
        assert_eq!(fresh.len(), 1, "{db:?}: {credited:?}");
        let earned = fresh[0]["points_earned"].as_i64();
        let lookup = server
            .get("/v1/customers/lookup?phone=%2B84901234567", &admin)
            .await
            .expect(200, "lookup");
        assert_eq!(
            lookup.json["balance"].as_i64(),
            earned,
            "{db:?}: {}",
            lookup.text
        );
        let orders = server.walk("/v1/orders", &admin, 50, "id").await;
        assert_eq!(orders.len(), 1, "{db:?}: {orders:?}");
        server.assert_ledger_clean().await;
        server.stop().await;
    }
}
