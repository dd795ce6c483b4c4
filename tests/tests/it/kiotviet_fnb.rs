//! KiotViet FnB invoices by polling, against a stand-in that speaks the documented
//! formats (identity endpoint, invoice list paging, customers by code): pages credited
//! once, a restart resumes from the stored cursor, a cancellation refunds, a 429 backs
//! off and the next poll catches up, refused credentials stop polling with a status,
//! and two workers polling at once credit once.

use crate::targets;
use regulars_domain::BrandId;
use regulars_ports::{IntegrationKind, PosApiAccess};
use regulars_pos::client::{PosApiConfig, PosClient};
use regulars_service::{PollOptions, PollOutcome, SecretKey, Services};
use regulars_testkit::providers::KiotVietFnbStub;
use serde_json::{Value, json};
use std::sync::Arc;
use time::macros::format_description;
use time::{Duration, OffsetDateTime};

const LIST: &str = include_str!("../../../crates/pos/tests/fixtures/kiotviet_fnb_invoices.json");
const CUSTOMER: &str =
    include_str!("../../../crates/pos/tests/fixtures/kiotviet_customer_by_code.json");
const PHONE: &str = "0901234567";

fn local(minutes_ago: i64) -> String {
    let offset = time::UtcOffset::from_hms(7, 0, 0).unwrap_or_else(|e| panic!("{e}"));
    (OffsetDateTime::now_utc() - Duration::minutes(minutes_ago))
        .to_offset(offset)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]"
        ))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The documented list's first invoice as invoice `id` (`HD{id}`), of customer `code`
/// (empty: walk-in), in `status`, last changed `minutes_ago`.
fn invoice(id: i64, code: &str, status: u8, minutes_ago: i64) -> Value {
    let list: Value = serde_json::from_str(LIST).unwrap_or_else(|e| panic!("{e}"));
    let mut i = list["data"][0].clone();
    i["id"] = json!(id);
    i["code"] = json!(format!("HD{id}"));
    i["customerCode"] = json!(code);
    i["status"] = json!(status);
    i["purchaseDate"] = json!(local(minutes_ago + 1));
    i["createdDate"] = json!(local(minutes_ago + 1));
    i["modifiedDate"] = json!(local(minutes_ago));
    i
}

fn customer(code: &str, phone: &str) -> Value {
    let mut c: Value = serde_json::from_str(CUSTOMER).unwrap_or_else(|e| panic!("{e}"));
    c["code"] = json!(code);
    c["contactNumber"] = json!(phone);
    c
}

/// A process: use cases over the target's store with the server key, and a POS client
/// (its own token cache) pointed at the stand-in.
fn process(
    store: &Arc<regulars_store::Store>,
    stub: &KiotVietFnbStub,
    page: u32,
) -> (Services, PosClient) {
    let services = Services::new(
        store.clone(),
        Arc::new(regulars::system::SystemClock),
        Arc::new(regulars::system::OsIdGen),
    )
    .with_secret_key(SecretKey::from_bytes([0x5a; 32]));
    let config = PosApiConfig {
        kiotviet_fnb_url: stub.base_url(),
        kiotviet_fnb_token_url: stub.token_url(),
        kiotviet_page_size: page,
        ..PosApiConfig::default()
    };
    (
        services,
        PosClient::new(config).unwrap_or_else(|e| panic!("{e}")),
    )
}

fn options() -> PollOptions {
    PollOptions {
        base_backoff: Duration::milliseconds(200),
        ..PollOptions::default()
    }
}

async fn balance(services: &Services, brand: BrandId) -> i64 {
    services
        .customer_lookup(brand, PHONE)
        .await
        .map(|v| v.balance.value())
        .unwrap_or(0)
}

async fn fnb_integration(
    services: &Services,
    brand: BrandId,
    stub: &KiotVietFnbStub,
) -> regulars_domain::IntegrationId {
    let (retailer, client_id, client_secret) = stub.credentials();
    // Without API credentials there is nothing to poll: refused, naming the field.
    let missing = services
        .create_integration(brand, IntegrationKind::KiotvietFnb, None, None, None)
        .await;
    assert!(
        matches!(&missing, Err(e) if e.to_string().contains("api_access")),
        "{missing:?}"
    );
    services
        .create_integration(
            brand,
            IntegrationKind::KiotvietFnb,
            Some("FnB Quận 1".into()),
            None,
            Some(PosApiAccess::Kiotviet {
                retailer,
                client_id,
                client_secret,
            }),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .info
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fnb_invoices_are_polled_once_resumed_refunded_and_backed_off() {
    for target in targets("fnb_poll").await {
        let name = target.name;
        let brand = target.world.brand;
        let stub = KiotVietFnbStub::start().unwrap_or_else(|e| panic!("{e}"));
        stub.cap_page_size(2);
        stub.put_customer(customer("KH1", PHONE));
        stub.put_invoice(invoice(1, "KH1", 1, 30));
        let (second, third) = (invoice(2, "KH1", 1, 20), invoice(3, "", 1, 10));
        stub.put_invoice(second.clone());
        stub.put_invoice(third.clone());
        let (services, api) = process(&target.world.store, &stub, 2);
        let integration = fnb_integration(&services, brand, &stub).await;
        let endpoint = services
            .webhook_endpoint(integration)
            .await
            .unwrap_or_else(|e| panic!("{e}"));

        // Three invoices on two pages: the customer code is looked up, both credited.
        let first = services
            .poll_integration(&api, &endpoint, &options())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(first.outcome, PollOutcome::Polled, "{name}: {first:?}");
        assert_eq!(first.pages, 2, "{name}: {first:?}");
        let calls = stub.list_calls();
        assert_eq!(calls.len(), 2, "{name}: {calls:?}");
        assert_eq!((calls[0].current_item, calls[1].current_item), (0, 2));
        assert_eq!(calls[0].order_by, "modifiedDate");
        let token = stub
            .requests()
            .into_iter()
            .find(|r| r.path == "/identity/connect/token")
            .unwrap_or_else(|| panic!("no token request"));
        assert!(
            token.body.contains("scope=PublicApi.Access.FNB"),
            "{}",
            token.body
        );
        let earned = balance(&services, brand).await;
        assert!(earned > 0, "{name}: nothing earned");

        // A restart (a new process, its own token cache) resumes from the stored cursor,
        // less the overlap: the third invoice's change time minus ten minutes.
        let (services, api) = process(&target.world.store, &stub, 2);
        let again = services
            .poll_integration(&api, &endpoint, &options())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(again.outcome, PollOutcome::Polled, "{name}: {again:?}");
        assert_eq!(again.counted, 0, "{name}: {again:?}");
        let resumed = stub.list_calls()[2].clone();
        let cursor = third["modifiedDate"]
            .as_str()
            .map(|s| s.to_owned())
            .unwrap_or_default();
        let expected = {
            let at = time::PrimitiveDateTime::parse(
                &cursor[..19],
                format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            (at - Duration::minutes(10))
                .format(format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second]"
                ))
                .unwrap_or_else(|e| panic!("{e}"))
        };
        assert_eq!(resumed.last_modified_from, expected, "{name}");
        assert_eq!(
            balance(&services, brand).await,
            earned,
            "{name}: credited once"
        );

        // The same invoice by webhook after the poll: a duplicate, no second credit.
        let webhook: Value = json!({"Id": "wh-1", "Attempt": 1, "Notifications": [{
            "Action": "invoice.update.500123",
            "Data": [pascal(&second)]}]});
        let context = regulars_pos::BrandContext::vietnam(brand);
        let delivery = regulars_pos::kiotviet::parse(webhook.to_string().as_bytes(), &context);
        for event in delivery.events {
            services
                .receive_webhook(&endpoint, event)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert_eq!(
            balance(&services, brand).await,
            earned,
            "{name}: webhook after poll"
        );

        // Invoice 1 cancelled later: refunded.
        stub.put_invoice(invoice(1, "KH1", 2, 1));
        let cancelled = services
            .poll_integration(&api, &endpoint, &options())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(cancelled.counted, 1, "{name}: {cancelled:?}");
        let after_refund = balance(&services, brand).await;
        assert!(
            after_refund < earned && after_refund > 0,
            "{name}: {after_refund} of {earned}"
        );

        // 429: the poll backs off; once the back-off ran out the next one catches up.
        stub.fail_next(&[429]);
        stub.put_invoice(invoice(4, "KH1", 1, 0));
        let limited = services
            .poll_integration(&api, &endpoint, &options())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            matches!(limited.outcome, PollOutcome::Failed { .. }),
            "{name}: {limited:?}"
        );
        let state = services
            .poll_state(brand, integration)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            state
                .as_ref()
                .is_some_and(|s| s.failures == 1 && s.retry_at.is_some()),
            "{state:?}"
        );
        let early = services
            .poll_integration(&api, &endpoint, &options())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(early.outcome, PollOutcome::Skipped, "{name}: backing off");
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let caught_up = services
            .poll_integration(&api, &endpoint, &options())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            caught_up.outcome,
            PollOutcome::Polled,
            "{name}: {caught_up:?}"
        );
        assert!(
            balance(&services, brand).await > after_refund,
            "{name}: invoice 4 credited"
        );

        // Credentials refused: polling stops with a status, not a loop.
        stub.refuse_credentials();
        stub.put_invoice(invoice(5, "KH1", 1, 0));
        let refused = services
            .poll_integration(&api, &endpoint, &options())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            matches!(refused.outcome, PollOutcome::Disabled { .. }),
            "{name}: {refused:?}"
        );
        let before = stub.requests().len();
        let stopped = services
            .poll_integration(&api, &endpoint, &options())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(stopped.outcome, PollOutcome::Skipped);
        assert_eq!(
            stub.requests().len(),
            before,
            "{name}: no call while disabled"
        );
        let state = services
            .poll_state(brand, integration)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            state.as_ref().is_some_and(|s| s.disabled.is_some()),
            "{state:?}"
        );
        // New credentials let it run again.
        let (retailer, client_id, client_secret) = stub.credentials();
        services
            .set_integration_access(
                brand,
                integration,
                Some(PosApiAccess::Kiotviet {
                    retailer,
                    client_id,
                    client_secret,
                }),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let state = services
            .poll_state(brand, integration)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            state.as_ref().is_some_and(|s| s.disabled.is_none()),
            "{state:?}"
        );
        let report = services
            .check_ledger(None)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            report.mismatches.is_empty() && report.invalid.is_empty(),
            "{name}: {report:?}"
        );
    }
}

/// A camelCase invoice as the webhook writes it (PascalCase keys).
fn pascal(invoice: &Value) -> Value {
    fn up(key: &str) -> String {
        let mut c = key.chars();
        c.next()
            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
            .unwrap_or_default()
    }
    match invoice {
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (up(k), pascal(v))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(pascal).collect()),
        other => other.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_polling_at_once_credit_once() {
    for target in targets("fnb_two").await {
        let name = target.name;
        let brand = target.world.brand;
        let stub = KiotVietFnbStub::start().unwrap_or_else(|e| panic!("{e}"));
        stub.put_customer(customer("KH1", PHONE));
        for id in 1..=6 {
            stub.put_invoice(invoice(id, "KH1", 1, 40 - id));
        }
        let (one, api_one) = process(&target.world.store, &stub, 1);
        let (two, api_two) = process(&target.world.store, &stub, 1);
        let integration = fnb_integration(&one, brand, &stub).await;
        let endpoint = one
            .webhook_endpoint(integration)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let opts = options();
        let (a, b) = tokio::join!(
            one.poll_integration(&api_one, &endpoint, &opts),
            two.poll_integration(&api_two, &endpoint, &opts)
        );
        let (a, b) = (
            a.unwrap_or_else(|e| panic!("{name}: {e}")),
            b.unwrap_or_else(|e| panic!("{name}: {e}")),
        );
        let skipped = [&a, &b]
            .iter()
            .filter(|r| r.outcome == PollOutcome::Skipped)
            .count();
        assert_eq!(skipped, 1, "{name}: one poll holds the lease: {a:?} {b:?}");
        assert_eq!(a.counted + b.counted, 6, "{name}: {a:?} {b:?}");
        let credited = balance(&one, brand).await;
        // Each invoice credited once: a poll over all of them again adds nothing.
        let again = two
            .poll_integration(&api_two, &endpoint, &opts)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(again.counted, 0, "{name}: {again:?}");
        assert_eq!(balance(&two, brand).await, credited, "{name}");
        let report = one
            .check_ledger(None)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            report.mismatches.is_empty() && report.invalid.is_empty(),
            "{name}: {report:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_poll_status_shows_on_the_integration() {
    use crate::server::{dbs, spawn_configured};
    for db in dbs() {
        let stub = KiotVietFnbStub::start().unwrap_or_else(|e| panic!("{e}"));
        stub.put_invoice(invoice(1, "", 1, 5));
        let server = spawn_configured(
            db,
            |s| s.rate_limit = None,
            Arc::new(regulars::system::SystemClock),
        )
        .await;
        let admin = server.tenant("FnB shop").await.admin;
        // Without API credentials: 422 naming the field.
        let missing = server
            .post("/v1/integrations", &admin, &json!({"kind": "kiotviet_fnb"}))
            .await;
        assert_eq!(
            missing
                .expect_error(422, "invalid", "no credentials")
                .as_deref(),
            Some("api_access"),
            "{db:?}"
        );
        let (retailer, client_id, client_secret) = stub.credentials();
        let created = server
            .post(
                "/v1/integrations",
                &admin,
                &json!({"kind": "kiotviet_fnb", "api_access": {"kind": "kiotviet",
                        "retailer": retailer, "client_id": client_id,
                        "client_secret": client_secret}}),
            )
            .await
            .expect(201, "kiotviet_fnb integration");
        assert!(!created.text.contains(&client_secret), "never shown");
        assert_eq!(created.str("/integration/kind"), "kiotviet_fnb");
        let id = created.str("/integration/id");
        let listed = server
            .get("/v1/integrations", &admin)
            .await
            .expect(200, "list");
        assert!(listed.json["items"][0]["poll"].is_null(), "{}", listed.text);

        let integration = id.parse().unwrap_or_else(|e| panic!("{e:?}"));
        let endpoint = server
            .services
            .webhook_endpoint(integration)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let (_, api) = process_client(&stub);
        let polled = server
            .services
            .poll_integration(&api, &endpoint, &options())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(polled.counted, 1, "{db:?}: {polled:?}");
        let listed = server
            .get("/v1/integrations", &admin)
            .await
            .expect(200, "list");
        assert_eq!(
            listed.str("/items/0/poll/status"),
            "active",
            "{}",
            listed.text
        );
        assert!(
            listed.json["items"][0]["poll"]["cursor"].is_string(),
            "{}",
            listed.text
        );

        stub.refuse_credentials();
        server
            .services
            .poll_integration(&api, &endpoint, &options())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let listed = server
            .get("/v1/integrations", &admin)
            .await
            .expect(200, "list");
        assert_eq!(
            listed.str("/items/0/poll/status"),
            "disabled",
            "{}",
            listed.text
        );
        assert!(
            listed
                .str("/items/0/poll/last_error")
                .contains("invalid_client"),
            "{}",
            listed.text
        );
        server.stop().await;
    }
}

/// A POS client pointed at the stand-in.
fn process_client(stub: &KiotVietFnbStub) -> ((), PosClient) {
    let config = PosApiConfig {
        kiotviet_fnb_url: stub.base_url(),
        kiotviet_fnb_token_url: stub.token_url(),
        ..PosApiConfig::default()
    };
    ((), PosClient::new(config).unwrap_or_else(|e| panic!("{e}")))
}
