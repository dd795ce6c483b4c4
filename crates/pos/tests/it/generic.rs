use crate::{brand, fixture};
use regulars_domain::{Currency, Money, Phone, RefundScope};
use regulars_pos::generic::{self, DEFAULT_TOLERANCE, SIGNATURE_HEADER, signature_header};
use regulars_pos::{PosEvent, Secret, WebhookError};
use serde_json::{Value, json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-05-01 10:00:07 UTC);

fn secret() -> Secret {
    Secret::new("whsec_test_6f1c")
}

fn verify_at(
    body: &[u8],
    header: Option<&str>,
    now: OffsetDateTime,
) -> Result<regulars_pos::VerifiedEvent, WebhookError> {
    generic::verify(&[secret()], header, body, now, DEFAULT_TOLERANCE, &brand())
}

/// Signs `body` as sent at NOW and verifies it.
fn signed(body: &[u8]) -> Result<regulars_pos::VerifiedEvent, WebhookError> {
    let header = signature_header(NOW.unix_timestamp(), body, &[secret()]);
    verify_at(body, Some(&header), NOW)
}

fn vnd(n: i64) -> Money {
    Money::from_minor_units(n, Currency::VND)
}

fn order_json() -> Value {
    serde_json::from_slice(&fixture("generic_order_paid.json")).unwrap()
}

fn invalid_at(result: Result<regulars_pos::VerifiedEvent, WebhookError>) -> (String, String) {
    match result {
        Err(WebhookError::InvalidPayload { path, problem }) => (path, problem),
        other => panic!("expected an invalid payload, got {other:?}"),
    }
}

#[test]
fn order_paid_becomes_a_domain_order() {
    let event = signed(&fixture("generic_order_paid.json")).unwrap();
    assert_eq!(event.event_id, "evt_01J9ZQ6V8K3M2");
    assert_eq!(event.source, "pos:generic");
    assert_eq!(event.occurred_at, datetime!(2026-05-01 10:00:05 UTC));
    let PosEvent::Order(order) = event.event else {
        panic!("an order")
    };
    assert_eq!(order.brand_id, brand().brand_id);
    assert_eq!(order.key.source, "pos:generic");
    assert_eq!(order.key.external_id, "Q1-000123");
    assert_eq!(order.location.as_deref(), Some("q1"));
    assert_eq!(
        order.customer_phone,
        Some(Phone::parse_e164("+84901234567").unwrap())
    );
    assert_eq!(order.placed_at, datetime!(2026-05-01 10:00 UTC));
    assert_eq!(order.lines.len(), 2);
    assert_eq!(order.lines[0].quantity, 2);
    assert_eq!(order.lines[0].unit_price, vnd(45_000));
    assert_eq!(order.lines[0].modifiers[0].unit_price, vnd(5_000));
    assert_eq!(order.lines[1].category.as_deref(), Some("cake"));
    assert_eq!(order.total, vnd(129_000));
    assert_eq!(order.subtotal().unwrap(), vnd(139_000));
}

#[test]
fn refunds_partial_and_full() {
    let event = signed(&fixture("generic_order_refunded.json")).unwrap();
    let PosEvent::Refund(refund) = event.event else {
        panic!("a refund")
    };
    assert_eq!(refund.key.external_id, "RF-000045");
    assert_eq!(refund.order.external_id, "Q1-000123");
    assert_eq!(refund.order.source, "pos:generic");
    assert_eq!(refund.refunded_at, datetime!(2026-05-01 11:29:41 UTC));
    assert_eq!(
        refund.scope,
        RefundScope::Amount {
            amount: vnd(39_000)
        }
    );

    let body = fixture("generic_order_refunded_full.json");
    let header = signature_header(
        datetime!(2026-05-01 11:45 UTC).unix_timestamp(),
        &body,
        &[secret()],
    );
    let event = verify_at(&body, Some(&header), datetime!(2026-05-01 11:46 UTC)).unwrap();
    let PosEvent::Refund(refund) = event.event else {
        panic!("a refund")
    };
    assert_eq!(refund.scope, RefundScope::Full);
}

#[test]
fn refund_needs_exactly_one_scope() {
    let mut v: Value = serde_json::from_slice(&fixture("generic_order_refunded.json")).unwrap();
    v["data"]["full"] = json!(true);
    let (path, _) = invalid_at(signed(&serde_json::to_vec(&v).unwrap()));
    assert_eq!(path, "data.amount");
    v["data"].as_object_mut().unwrap().remove("amount");
    v["data"]["full"] = json!(false);
    let (path, _) = invalid_at(signed(&serde_json::to_vec(&v).unwrap()));
    assert_eq!(path, "data");
}

#[test]
fn any_configured_secret_and_any_v1_entry_will_do() {
    let body = fixture("generic_order_paid.json");
    let old = Secret::new("old-secret");
    let new = Secret::new("new-secret");
    // The sender signs with the old and the new secret while rotating.
    let header = signature_header(NOW.unix_timestamp(), &body, &[old.clone(), new.clone()]);
    for receiver in [
        vec![old.clone()],
        vec![new.clone()],
        vec![Secret::new("other"), new],
    ] {
        assert!(
            generic::verify(
                &receiver,
                Some(&header),
                &body,
                NOW,
                DEFAULT_TOLERANCE,
                &brand()
            )
            .is_ok()
        );
    }
    assert_eq!(
        generic::verify(
            &[Secret::new("other")],
            Some(&header),
            &body,
            NOW,
            DEFAULT_TOLERANCE,
            &brand()
        ),
        Err(WebhookError::BadSignature {
            header: SIGNATURE_HEADER
        })
    );
    // An empty secret verifies nothing, not even a signature made with it.
    let empty = Secret::new("");
    let header = signature_header(NOW.unix_timestamp(), &body, std::slice::from_ref(&empty));
    assert!(matches!(
        generic::verify(
            &[empty],
            Some(&header),
            &body,
            NOW,
            DEFAULT_TOLERANCE,
            &brand()
        ),
        Err(WebhookError::BadSignature { .. })
    ));
}

#[test]
fn bad_signature_and_tampered_body() {
    let body = fixture("generic_order_paid.json");
    let header = signature_header(NOW.unix_timestamp(), &body, &[secret()]);
    let mut tampered = body.clone();
    let at = tampered.windows(6).position(|w| w == b"129000").unwrap();
    tampered[at] = b'9';
    assert_eq!(
        verify_at(&tampered, Some(&header), NOW),
        Err(WebhookError::BadSignature {
            header: SIGNATURE_HEADER
        })
    );
    // The timestamp is signed too: moving it breaks the signature.
    let moved = header.replacen(
        &NOW.unix_timestamp().to_string(),
        &(NOW.unix_timestamp() + 1).to_string(),
        1,
    );
    assert!(matches!(
        verify_at(&body, Some(&moved), NOW),
        Err(WebhookError::BadSignature { .. })
    ));
}

#[test]
fn stale_and_future_timestamps() {
    let body = fixture("generic_order_paid.json");
    let sent = NOW - Duration::minutes(6);
    let header = signature_header(sent.unix_timestamp(), &body, &[secret()]);
    assert_eq!(
        verify_at(&body, Some(&header), NOW),
        Err(WebhookError::Stale {
            timestamp: sent,
            age_seconds: 360,
            tolerance_seconds: 300
        })
    );
    // Exactly at the edge of the window is still fine.
    let header = signature_header(
        (NOW - DEFAULT_TOLERANCE).unix_timestamp(),
        &body,
        &[secret()],
    );
    assert!(verify_at(&body, Some(&header), NOW).is_ok());

    let sent = NOW + Duration::minutes(10);
    let header = signature_header(sent.unix_timestamp(), &body, &[secret()]);
    assert_eq!(
        verify_at(&body, Some(&header), NOW),
        Err(WebhookError::FromFuture {
            timestamp: sent,
            ahead_seconds: 600,
            tolerance_seconds: 300
        })
    );
    let err = verify_at(&body, Some(&header), NOW).unwrap_err();
    assert!(err.is_authentication_failure());
}

#[test]
fn missing_and_malformed_headers() {
    let body = fixture("generic_order_paid.json");
    assert_eq!(
        verify_at(&body, None, NOW),
        Err(WebhookError::MissingSignature {
            header: "Regulars-Signature"
        })
    );
    let good = signature_header(NOW.unix_timestamp(), &body, &[secret()]);
    let v1 = good.split_once(",v1=").unwrap().1.to_owned();
    for bad in [
        String::new(),
        "garbage".to_owned(),
        format!("v1={v1}"),
        format!("t={}", NOW.unix_timestamp()),
        format!("t=abc,v1={v1}"),
        format!("t=-5,v1={v1}"),
        format!("t={0},t={0},v1={v1}", NOW.unix_timestamp()),
        format!("t={},v1=zz{}", NOW.unix_timestamp(), &v1[2..]),
        format!("t={},v1={}", NOW.unix_timestamp(), &v1[..62]),
    ] {
        let result = verify_at(&body, Some(&bad), NOW);
        assert!(
            matches!(
                result,
                Err(WebhookError::MalformedSignature {
                    header: "Regulars-Signature",
                    ..
                })
            ),
            "{bad:?} gave {result:?}"
        );
    }
    // Unknown schemes are skipped, spaces tolerated.
    let lenient = format!("t={}, v0=abc, v1={v1}", NOW.unix_timestamp());
    assert!(verify_at(&body, Some(&lenient), NOW).is_ok());
}

#[test]
fn unknown_event_type() {
    let mut v = order_json();
    v["type"] = json!("order.created");
    assert_eq!(
        signed(&serde_json::to_vec(&v).unwrap()),
        Err(WebhookError::UnknownEventType {
            event_type: "order.created".into()
        })
    );
}

#[test]
fn unknown_fields_are_named_by_path() {
    let mut v = order_json();
    v["surprise"] = json!(1);
    let (path, problem) = invalid_at(signed(&serde_json::to_vec(&v).unwrap()));
    assert_eq!(path, "surprise");
    assert!(problem.contains("unknown field"), "{problem}");

    let mut v = order_json();
    v["data"]["lines"][1]["colour"] = json!("red");
    let (path, problem) = invalid_at(signed(&serde_json::to_vec(&v).unwrap()));
    assert_eq!(path, "data.lines[1].colour");
    assert!(problem.contains("unknown field `colour`"), "{problem}");

    let mut v = order_json();
    v["data"]["lines"][0]["modifiers"][0]["qty"] = json!(2);
    let (path, _) = invalid_at(signed(&serde_json::to_vec(&v).unwrap()));
    assert_eq!(path, "data.lines[0].modifiers[0].qty");
}

#[test]
fn bad_phone_names_the_field() {
    let mut v = order_json();
    v["data"]["customer_phone"] = json!("0123 456");
    let (path, problem) = invalid_at(signed(&serde_json::to_vec(&v).unwrap()));
    assert_eq!(path, "data.customer_phone");
    assert!(problem.contains("invalid phone"), "{problem}");
    // Other accepted forms all land on the same number.
    for typed in ["+84901234567", "84901234567", "0084 90 123 4567"] {
        v["data"]["customer_phone"] = json!(typed);
        let PosEvent::Order(order) = signed(&serde_json::to_vec(&v).unwrap()).unwrap().event else {
            panic!("an order")
        };
        assert_eq!(order.customer_phone.unwrap().as_str(), "+84901234567");
    }
    // No phone, or an empty one, is an anonymous order.
    v["data"]["customer_phone"] = json!("");
    let PosEvent::Order(order) = signed(&serde_json::to_vec(&v).unwrap()).unwrap().event else {
        panic!("an order")
    };
    assert_eq!(order.customer_phone, None);
}

#[test]
fn negative_and_malformed_amounts() {
    for (pointer, value, path) in [
        ("/data/total", json!("-129000"), "data.total"),
        ("/data/total", json!(-1), "data.total"),
        (
            "/data/lines/0/unit_price",
            json!(-45000),
            "data.lines[0].unit_price",
        ),
        (
            "/data/lines/0/modifiers/0/unit_price",
            json!("-5000"),
            "data.lines[0].modifiers[0].unit_price",
        ),
        (
            "/data/lines/1/unit_price",
            json!("39,000"),
            "data.lines[1].unit_price",
        ),
        (
            "/data/lines/1/unit_price",
            json!("39000.5"),
            "data.lines[1].unit_price",
        ),
        (
            "/data/lines/1/quantity",
            json!(-1),
            "data.lines[1].quantity",
        ),
        ("/data/lines/1/quantity", json!(0), "data.lines[1].quantity"),
        (
            "/data/lines/1/quantity",
            json!(1.5),
            "data.lines[1].quantity",
        ),
        ("/data/placed_at", json!("yesterday"), "data.placed_at"),
        ("/data/currency", json!("USD"), "data.currency"),
        ("/data/lines", json!([]), "data.lines"),
        ("/data/order_id", json!("  "), "data.order_id"),
    ] {
        let mut v = order_json();
        *v.pointer_mut(pointer).unwrap() = value.clone();
        let (got, problem) = invalid_at(signed(&serde_json::to_vec(&v).unwrap()));
        assert_eq!(got, path, "{pointer} = {value}: {problem}");
    }
    let mut v = order_json();
    v["data"].as_object_mut().unwrap().remove("total");
    let (path, problem) = invalid_at(signed(&serde_json::to_vec(&v).unwrap()));
    assert_eq!(path, "data");
    assert!(problem.contains("missing field `total`"), "{problem}");
}

#[test]
fn usd_brand_reads_cents() {
    let mut b = brand();
    b.currency = Currency::USD;
    let mut v = order_json();
    v["data"]["currency"] = json!("USD");
    v["data"]["total"] = json!("12.90");
    v["data"]["lines"][0]["unit_price"] = json!(4.5);
    let body = serde_json::to_vec(&v).unwrap();
    let PosEvent::Order(order) = generic::parse(&body, &b).unwrap().event else {
        panic!("an order")
    };
    assert_eq!(order.total, Money::from_minor_units(1290, Currency::USD));
    assert_eq!(
        order.lines[0].unit_price,
        Money::from_minor_units(450, Currency::USD)
    );
    v["data"]["total"] = json!("12.905");
    let body = serde_json::to_vec(&v).unwrap();
    assert!(
        matches!(generic::parse(&body, &b), Err(WebhookError::InvalidPayload { path, .. }) if path == "data.total")
    );
}

#[test]
fn not_json_at_all() {
    let (path, _) = invalid_at(signed(b"<xml/>"));
    assert_eq!(path, ".");
}
