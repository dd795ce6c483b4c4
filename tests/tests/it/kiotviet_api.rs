//! KiotViet's customers API as the fallback for invoices whose customer never sent a
//! `customer.update`: the server takes a token (OAuth client credentials), asks
//! `GET /customers/code/{code}` with the `Retailer` header, links the code to the
//! number and credits the waiting invoice, once. The stand-in speaks the guide's formats.

use crate::server::{Body, TestServer, dbs, spawn_configured};
use regulars_pos::{Secret, kiotviet};
use regulars_testkit::providers::KiotVietApiStub;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use time::macros::format_description;
use time::{Duration, OffsetDateTime};

const INVOICES: &str =
    include_str!("../../../crates/pos/tests/fixtures/kiotviet_invoice_update.json");
const CUSTOMER: &str =
    include_str!("../../../crates/pos/tests/fixtures/kiotviet_customer_by_code.json");
const REGISTERED: &str = "a2lvdHZpZXQtc2VjcmV0LTIwMjY=";

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"))
}

/// The documented delivery with its first invoice only (customer `code`), dated 30
/// minutes ago in the retailer's local time, under delivery id `id`.
fn invoice(id: &str, code: &str, invoice_code: &str) -> Vec<u8> {
    let offset = time::UtcOffset::from_hms(7, 0, 0).unwrap_or_else(|e| panic!("{e}"));
    let local = (OffsetDateTime::now_utc() - Duration::minutes(30))
        .to_offset(offset)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut delivery = parse(INVOICES);
    let mut first = delivery["Notifications"][0]["Data"][0].clone();
    first["PurchaseDate"] = json!(local);
    first["ModifiedDate"] = json!(local);
    first["CustomerCode"] = json!(code);
    first["Code"] = json!(invoice_code);
    delivery["Notifications"][0]["Data"] = json!([first]);
    delivery["Id"] = json!(id);
    delivery.to_string().into_bytes()
}

fn customer(code: &str, phone: &str) -> Value {
    let mut c = parse(CUSTOMER);
    c["code"] = json!(code);
    c["contactNumber"] = json!(phone);
    c
}

async fn post(server: &TestServer, path: &str, body: Vec<u8>) -> crate::server::Reply {
    let signature = kiotviet::signature_header(&body, &Secret::new(REGISTERED));
    server
        .send(
            Method::POST,
            path,
            None,
            Body::Raw(Some("application/json"), body),
            &[(kiotviet::SIGNATURE_HEADER, signature)],
        )
        .await
        .expect(200, "KiotViet delivery")
}

async fn balance(server: &TestServer, admin: &str, phone: &str) -> Option<i64> {
    let reply = server
        .get(&format!("/v1/customers/lookup?phone={phone}"), admin)
        .await;
    reply.json["balance"].as_i64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unlinked_customer_code_is_looked_up_and_its_invoice_credited_once() {
    for db in dbs() {
        let stub = KiotVietApiStub::start().unwrap_or_else(|e| panic!("{e}"));
        stub.put_customer(customer("KH000871", "0901234567"));
        stub.put_customer(customer("KH000872", "0912345678"));
        let (base, token_url) = (stub.base_url(), stub.token_url());
        let server = spawn_configured(
            db,
            move |s| {
                s.rate_limit = None;
                s.pos_api.kiotviet_url = base;
                s.pos_api.kiotviet_token_url = token_url;
            },
            Arc::new(regulars::system::SystemClock),
        )
        .await;
        let tenant = server.tenant("KiotViet API shop").await;
        let admin = tenant.admin;
        let rules = parse(regulars_tests::RULES);
        server
            .put("/v1/program/earning-rules", &admin, &rules)
            .await
            .expect(200, "rules");
        let (retailer, client_id, client_secret) = stub.credentials();
        // Credentials of another kind are refused, naming the field.
        let wrong = server
            .post(
                "/v1/integrations",
                &admin,
                &json!({"kind": "kiotviet", "secret": REGISTERED,
                        "api_access": {"kind": "square", "access_token": "t", "notification_url": "https://x"}}),
            )
            .await;
        assert_eq!(
            wrong.expect_error(422, "invalid", "wrong kind").as_deref(),
            Some("api_access.kind")
        );
        let created = server
            .post(
                "/v1/integrations",
                &admin,
                &json!({"kind": "kiotviet", "secret": REGISTERED,
                        "api_access": {"kind": "kiotviet", "retailer": retailer,
                                       "client_id": client_id, "client_secret": client_secret}}),
            )
            .await
            .expect(201, "kiotviet integration");
        assert!(!created.text.contains(&client_secret), "never shown");
        let path = created.str("/integration/webhook_path");

        // No customer.update ever came: the invoice waits, and is linked through the API.
        let ack = post(&server, &path, invoice("d-1", "KH000871", "HD1")).await;
        assert_eq!(
            ack.str("/events/0/outcome"),
            "waiting",
            "{db:?}: {}",
            ack.text
        );
        assert_eq!(
            ack.str("/events/1/event_id"),
            "d-1/104857601/customer",
            "{}",
            ack.text
        );
        assert_eq!(
            ack.str("/events/1/outcome"),
            "linked",
            "{db:?}: {}",
            ack.text
        );
        let earned = ack.int("/events/1/credited/0/points_earned");
        assert!(earned > 0, "{}", ack.text);
        assert_eq!(
            balance(&server, &admin, "%2B84901234567").await,
            Some(earned)
        );
        let calls = stub.requests();
        let lookup = calls
            .iter()
            .find(|r| r.path == "/customers/code/KH000871")
            .unwrap_or_else(|| panic!("{calls:?}"));
        assert_eq!(lookup.headers.get("retailer"), Some(&retailer));
        assert_eq!(
            lookup.headers.get("authorization").map(String::as_str),
            Some("Bearer kv-token-1")
        );

        // The same invoice in a new delivery: no second credit.
        let again = post(&server, &path, invoice("d-2", "KH000871", "HD1")).await;
        let outcome = again.str("/events/0/outcome");
        assert!(
            outcome != "counted" && outcome != "waiting",
            "{}",
            again.text
        );
        assert!(again.json["events"].get(1).is_none(), "{}", again.text);
        assert_eq!(
            balance(&server, &admin, "%2B84901234567").await,
            Some(earned)
        );

        // A code KiotViet does not know keeps waiting; the delivery is still 200.
        let unknown = post(&server, &path, invoice("d-3", "KH000999", "HD2")).await;
        assert_eq!(
            unknown.str("/events/0/outcome"),
            "waiting",
            "{}",
            unknown.text
        );
        assert!(unknown.json["events"].get(1).is_none(), "{}", unknown.text);

        // The token is cached; one revoked early is renewed once.
        assert_eq!(stub.tokens_issued(), 1);
        stub.revoke_tokens();
        let renewed = post(&server, &path, invoice("d-4", "KH000872", "HD3")).await;
        assert_eq!(
            renewed.str("/events/1/outcome"),
            "linked",
            "{}",
            renewed.text
        );
        assert_eq!(stub.tokens_issued(), 2);
        server.assert_ledger_clean().await;
        server.stop().await;
    }
}
