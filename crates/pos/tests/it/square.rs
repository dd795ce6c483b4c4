//! Square: the notifications as Square documents them (fixtures `square_*.json`), the
//! signature over the notification URL and the body, and the Orders and Customers API
//! calls against a stand-in speaking Square's formats.

use crate::fixture;
use regulars_domain::{BrandId, CallingCode, Currency, Money, Phone, RefundScope};
use regulars_ports::{
    IgnoredReason, IntegrationKind, Pending, PosApi, PosApiAccess, PosApiError, WebhookDelivery,
};
use regulars_pos::client::{PosApiConfig, PosClient};
use regulars_pos::square::{self, SIGNATURE_HEADER, signature_header};
use regulars_pos::{BrandContext, PosEvent, Secret, WebhookError};
use regulars_testkit::providers::SquareStub;
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::{datetime, offset};

const NOW: OffsetDateTime = datetime!(2026-05-01 12:20 UTC);
const URL: &str = "https://loyalty.example.com/webhooks/0190f1d2-aaaa-7bbb-8ccc-1234567890ab";

/// A brand in the United States: Square's documented examples are in USD.
fn brand() -> BrandContext {
    BrandContext {
        brand_id: BrandId::from_bytes([7; 16]),
        currency: Currency::USD,
        calling_code: CallingCode(1),
        utc_offset: offset!(-5),
    }
}

fn key() -> Secret {
    Secret::new("Fgc8Xf0qUwlWc1N3_7T9Fw")
}

fn usd(cents: i64) -> Money {
    Money::from_minor_units(cents, Currency::USD)
}

fn verify(body: &[u8]) -> regulars_ports::Decoded {
    let header = signature_header(URL, body, &key());
    square::verify(&key(), URL, Some(&header), body, NOW, &brand()).unwrap()
}

#[test]
fn the_signature_covers_the_configured_url_and_the_raw_body() {
    let body = fixture("square_order_updated.json");
    let header = signature_header(URL, &body, &key());
    assert!(square::authenticate(&key(), URL, Some(&header), &body).is_ok());
    // What a proxy forwards to is not what Square signed.
    let behind_proxy = "http://10.0.0.5:8080/webhooks/0190f1d2-aaaa-7bbb-8ccc-1234567890ab";
    assert!(matches!(
        square::authenticate(&key(), behind_proxy, Some(&header), &body),
        Err(WebhookError::BadSignature {
            header: SIGNATURE_HEADER
        })
    ));
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    assert!(matches!(
        square::authenticate(&key(), URL, Some(&header), &tampered),
        Err(WebhookError::BadSignature { .. })
    ));
    assert!(matches!(
        square::authenticate(&Secret::new("other"), URL, Some(&header), &body),
        Err(WebhookError::BadSignature { .. })
    ));
    assert!(matches!(
        square::authenticate(&key(), URL, None, &body),
        Err(WebhookError::MissingSignature { .. })
    ));
    assert!(matches!(
        square::authenticate(&key(), URL, Some("not base64!"), &body),
        Err(WebhookError::MalformedSignature { .. })
    ));
    // Square's digest is base64 of HMAC-SHA256(key, url + body).
    let expected = {
        use base64::Engine as _;
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac =
            <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(b"Fgc8Xf0qUwlWc1N3_7T9Fw").unwrap();
        mac.update(URL.as_bytes());
        mac.update(&body);
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    };
    assert_eq!(header, expected);
}

#[test]
fn a_completed_order_or_payment_names_the_order_to_fetch() {
    let decoded = verify(&fixture("square_order_updated.json"));
    assert!(decoded.events.is_empty() && decoded.ignored.is_empty());
    assert_eq!(
        decoded.pending,
        vec![Pending {
            event_id: "4b8e5c91-9f17-4cf1-900a-4a0629f81add".to_owned(),
            occurred_at: datetime!(2026-05-01 10:00:05.359 UTC),
            path: "data.object.order_updated.order_id".to_owned(),
            reference: "eA3vssLHKJrv9H0IdJCM3gNqfdcZY".to_owned(),
        }]
    );
    let decoded = verify(&fixture("square_payment_updated.json"));
    assert_eq!(decoded.pending.len(), 1);
    assert_eq!(
        decoded.pending[0].reference,
        "eA3vssLHKJrv9H0IdJCM3gNqfdcZY"
    );
    assert_eq!(
        decoded.pending[0].event_id,
        "6a8f5f28-54a1-4eb0-a98a-3111513fd4fc"
    );
}

fn with(fixture_name: &str, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(&fixture(fixture_name)).unwrap();
    edit(&mut value);
    serde_json::to_vec(&value).unwrap()
}

#[test]
fn what_is_not_final_or_not_counted_is_acknowledged() {
    let open = with("square_order_updated.json", |v| {
        v["data"]["object"]["order_updated"]["state"] = "OPEN".into();
    });
    let decoded = verify(&open);
    assert!(decoded.pending.is_empty());
    assert_eq!(decoded.ignored[0].reason, IgnoredReason::NotFinal);
    assert_eq!(decoded.ignored[0].path, "data.object.order_updated.state");
    let approved = with("square_payment_updated.json", |v| {
        v["data"]["object"]["payment"]["status"] = "APPROVED".into();
    });
    assert_eq!(verify(&approved).ignored[0].reason, IgnoredReason::NotFinal);
    let pending_refund = with("square_refund_updated.json", |v| {
        v["data"]["object"]["refund"]["status"] = "PENDING".into();
    });
    assert_eq!(
        verify(&pending_refund).ignored[0].reason,
        IgnoredReason::NotFinal
    );
    let other = with("square_order_updated.json", |v| {
        v["type"] = "customer.created".into();
    });
    assert_eq!(
        verify(&other).ignored[0].reason,
        IgnoredReason::UnknownAction
    );
    let broken = with("square_refund_updated.json", |v| {
        v["data"]["object"]["refund"]["amount_money"]["amount"] = "a lot".into();
    });
    let ignored = &verify(&broken).ignored[0];
    assert_eq!(ignored.reason, IgnoredReason::Malformed);
    assert!(
        ignored.path.starts_with("data.object.refund.amount_money"),
        "{ignored:?}"
    );
    assert_eq!(
        verify(b"not json").ignored[0].reason,
        IgnoredReason::Malformed
    );
    let old = with("square_order_updated.json", |v| {
        v["created_at"] = "2026-04-01T10:00:05Z".into();
    });
    assert_eq!(verify(&old).ignored[0].reason, IgnoredReason::OutOfWindow);
}

#[test]
fn a_completed_refund_reverses_its_amount() {
    let decoded = verify(&fixture("square_refund_updated.json"));
    assert!(decoded.pending.is_empty() && decoded.ignored.is_empty());
    let event = &decoded.events[0];
    assert_eq!(event.event_id, "bc316346-6691-4243-88ed-6d651a0d0c47");
    let PosEvent::Refund(refund) = &event.event else {
        panic!("a refund: {event:?}")
    };
    assert_eq!(refund.key.source, square::SOURCE);
    assert_eq!(
        refund.key.external_id,
        "hYy9pRFVxpDsO1FB05SunFWUe9JZY_ptNBVqHYxt5gAdfcobBe4u1AZsXhoz06KTtuq9Ls24P"
    );
    assert_eq!(refund.order.external_id, "eA3vssLHKJrv9H0IdJCM3gNqfdcZY");
    assert_eq!(refund.scope, RefundScope::Amount { amount: usd(650) });
    assert_eq!(refund.refunded_at, datetime!(2026-05-01 12:14:16.381 UTC));
    // A refund in another currency is not guessed at.
    let vnd = with("square_refund_updated.json", |v| {
        v["data"]["object"]["refund"]["amount_money"]["currency"] = "VND".into();
    });
    assert_eq!(verify(&vnd).ignored[0].reason, IgnoredReason::Unusable);
}

fn stub() -> SquareStub {
    let stub = SquareStub::start().unwrap();
    let order: Value = serde_json::from_slice(&fixture("square_retrieve_order.json")).unwrap();
    stub.put_order(order["order"].clone());
    let customer: Value =
        serde_json::from_slice(&fixture("square_retrieve_customer.json")).unwrap();
    stub.put_customer(customer["customer"].clone());
    stub
}

fn client(stub: &SquareStub) -> PosClient {
    PosClient::new(PosApiConfig {
        square_url: stub.base_url(),
        ..PosApiConfig::default()
    })
    .unwrap()
}

fn delivery<'a>(access: &'a PosApiAccess, headers: &'a [(String, String)]) -> WebhookDelivery<'a> {
    let b = brand();
    WebhookDelivery {
        kind: IntegrationKind::Square,
        headers,
        body: b"",
        secret: b"",
        access: Some(access),
        brand: b.brand_id,
        currency: b.currency,
        calling_code: b.calling_code,
        utc_offset: b.utc_offset,
        now: NOW,
    }
}

fn pending() -> Pending {
    verify(&fixture("square_order_updated.json"))
        .pending
        .remove(0)
}

#[tokio::test]
async fn the_order_is_fetched_with_its_lines_and_customer_phone() {
    let stub = stub();
    let access = PosApiAccess::Square {
        access_token: stub.access_token(),
        notification_url: URL.to_owned(),
    };
    let event = client(&stub)
        .complete(&delivery(&access, &[]), &pending())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.event_id, "4b8e5c91-9f17-4cf1-900a-4a0629f81add");
    let PosEvent::Order(order) = event.event else {
        panic!("an order")
    };
    assert_eq!(order.key.source, square::SOURCE);
    assert_eq!(order.key.external_id, "eA3vssLHKJrv9H0IdJCM3gNqfdcZY");
    assert_eq!(order.location.as_deref(), Some("FPYCBCHYMXFK1"));
    assert_eq!(order.placed_at, datetime!(2026-05-01 10:00:04 UTC));
    assert_eq!(
        order.customer_phone,
        Some(Phone::parse("+12125554240", CallingCode(1)).unwrap())
    );
    assert_eq!(order.lines.len(), 2);
    let tea = &order.lines[0];
    assert_eq!(tea.sku, "BEMYCSMIJL46OCDV4KYIKXIB");
    assert_eq!(tea.name, "Oolong milk tea (Large)");
    assert_eq!(tea.quantity, 2);
    assert_eq!(tea.unit_price, usd(500));
    assert_eq!(tea.modifiers[0].unit_price, usd(75));
    assert_eq!(order.lines[1].unit_price, usd(650));
    // The total paid, after discounts, without the tip.
    assert_eq!(order.total, usd(1700));
    let requests = stub.requests();
    assert_eq!(requests[0].path, "/v2/orders/eA3vssLHKJrv9H0IdJCM3gNqfdcZY");
    assert_eq!(requests[1].path, "/v2/customers/JDKYHBWT1D4F8MFH63DBMEN8Y4");
    for r in &requests {
        assert_eq!(
            r.headers.get("authorization").map(String::as_str),
            Some(format!("Bearer {}", stub.access_token()).as_str())
        );
        assert!(r.headers.contains_key("square-version"));
    }
}

#[tokio::test]
async fn orders_still_open_failures_and_bad_tokens_are_told_apart() {
    let stub = stub();
    let access = PosApiAccess::Square {
        access_token: stub.access_token(),
        notification_url: URL.to_owned(),
    };
    let client = client(&stub);
    let mut order: Value = serde_json::from_slice(&fixture("square_retrieve_order.json")).unwrap();
    order["order"]["state"] = "OPEN".into();
    stub.put_order(order["order"].clone());
    let ignored = client
        .complete(&delivery(&access, &[]), &pending())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(ignored.reason, IgnoredReason::NotFinal);

    stub.fail_next(&[503]);
    assert!(matches!(
        client.complete(&delivery(&access, &[]), &pending()).await,
        Err(PosApiError::Unavailable(_))
    ));

    let wrong = PosApiAccess::Square {
        access_token: "revoked".to_owned(),
        notification_url: URL.to_owned(),
    };
    assert!(matches!(
        client.complete(&delivery(&wrong, &[]), &pending()).await,
        Err(PosApiError::Refused(_))
    ));

    let mut unknown = pending();
    unknown.reference = "no-such-order".to_owned();
    let ignored = client
        .complete(&delivery(&access, &[]), &unknown)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(ignored.reason, IgnoredReason::Unusable);
}
