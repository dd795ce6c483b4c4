use crate::{brand, fixture};
use base64::Engine as _;
use regulars_domain::{Currency, Money, RefundScope};
use regulars_ports::IgnoredReason;
use regulars_pos::kiotviet::{self, SIGNATURE_HEADER, signature_header};
use regulars_pos::{PosEvent, Secret, WebhookError};
use serde_json::{Value, json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-05-01 10:01 UTC);

/// KiotViet's guide has the secret base64-encoded before it is registered.
fn secret() -> Secret {
    Secret::new("c2VjcmV0LWtpb3R2aWV0LTIwMjY=")
}

fn verify(body: &[u8], header: Option<&str>) -> Result<kiotviet::KiotVietDelivery, WebhookError> {
    kiotviet::verify(
        &[secret()],
        header,
        body,
        NOW,
        Duration::minutes(5),
        &brand(),
    )
}

fn vnd(n: i64) -> Money {
    Money::from_minor_units(n, Currency::VND)
}

#[test]
fn invoice_update_as_documented() {
    let body = fixture("kiotviet_invoice_update.json");
    let header = signature_header(&body, &secret());
    let delivery = verify(&body, Some(&header)).unwrap();
    assert_eq!(delivery.delivery_id, "c1a7e3f0-5b2d-4f8e-9a61-2f4b8d0e7c55");
    assert_eq!(delivery.attempt, 1);
    assert_eq!(delivery.events.len(), 2);

    let paid = &delivery.events[0];
    assert_eq!(
        paid.event_id,
        "c1a7e3f0-5b2d-4f8e-9a61-2f4b8d0e7c55/104857601"
    );
    assert_eq!(paid.source, "pos:kiotviet");
    assert_eq!(paid.customer_ref.as_deref(), Some("KH000871"));
    assert_eq!(paid.occurred_at, datetime!(2026-05-01 10:00:01.113 UTC));
    let PosEvent::Order(order) = &paid.event else {
        panic!("an order")
    };
    assert_eq!(order.key.source, "pos:kiotviet");
    assert_eq!(order.key.external_id, "HD012345");
    assert_eq!(order.location.as_deref(), Some("21034"));
    assert_eq!(order.customer_phone, None);
    assert_eq!(order.placed_at, datetime!(2026-05-01 10:00:00.527 UTC));
    assert_eq!(order.total, vnd(129_000));
    assert_eq!(order.lines.len(), 2);
    assert_eq!(order.lines[0].sku, "TS-OOLONG");
    assert_eq!(order.lines[0].name, "Trà sữa ô long");
    assert_eq!(order.lines[0].quantity, 2);
    assert_eq!(order.lines[0].unit_price, vnd(45_000));

    let cancelled = &delivery.events[1];
    assert_eq!(cancelled.customer_ref, None);
    let PosEvent::Refund(refund) = &cancelled.event else {
        panic!("a refund")
    };
    assert_eq!(refund.order.external_id, "HD012301");
    assert_eq!(refund.key.external_id, "HD012301/cancelled");
    assert_eq!(refund.scope, RefundScope::Full);
    assert_eq!(refund.refunded_at, datetime!(2026-05-01 09:58:40.25 UTC));

    assert_eq!(delivery.ignored.len(), 1);
    assert_eq!(delivery.ignored[0].reason, IgnoredReason::NotFinal);
    assert!(delivery.ignored[0].detail.contains("HD012346"));
    assert_eq!(delivery.ignored[0].path, "Notifications[0].Data[2].Status");
}

/// The guide has the secret base64-encoded before it is registered but does not say
/// which bytes key the HMAC: both readings verify.
#[test]
fn either_reading_of_the_secret_verifies() {
    let body = fixture("kiotviet_invoice_update.json");
    let registered = "c2VjcmV0LWtpb3R2aWV0LTIwMjY=";
    for key in [registered.as_bytes(), b"secret-kiotviet-2026".as_slice()] {
        let header = signature_header(&body, &Secret::new(key));
        let delivery = kiotviet::verify(
            &kiotviet::keys(registered.as_bytes()),
            Some(&header),
            &body,
            NOW,
            Duration::minutes(5),
            &brand(),
        )
        .unwrap();
        assert_eq!(delivery.events.len(), 2);
    }
}

/// An invoice code with a NUL (found by the signed-body property test: PostgreSQL cannot
/// store it and answered 500) is ignored as unusable; the other invoice still counts.
#[test]
fn an_invoice_code_with_control_characters_is_ignored() {
    let mut v: Value = serde_json::from_slice(&fixture("kiotviet_invoice_update.json")).unwrap();
    v["Notifications"][0]["Data"][0]["Code"] = json!("HD\u{0}0001");
    let body = serde_json::to_vec(&v).unwrap();
    let delivery = verify(&body, Some(&signature_header(&body, &secret()))).unwrap();
    assert_eq!(delivery.events.len(), 1, "{delivery:?}");
    assert_eq!(delivery.ignored[0].reason, IgnoredReason::Unusable);
    assert_eq!(delivery.ignored[0].path, "Notifications[0].Data[0].Code");
}

/// Offset-less times are the retailer's local time: the brand's offset decides.
#[test]
fn times_are_read_in_the_brands_offset() {
    let body = fixture("kiotviet_invoice_update.json");
    let header = signature_header(&body, &secret());
    let utc_brand = regulars_pos::BrandContext {
        utc_offset: time::UtcOffset::UTC,
        ..brand()
    };
    let delivery = kiotviet::verify(
        &[secret()],
        Some(&header),
        &body,
        datetime!(2026-05-01 17:01 UTC),
        Duration::minutes(5),
        &utc_brand,
    )
    .unwrap();
    let PosEvent::Order(order) = &delivery.events[0].event else {
        panic!("an order")
    };
    assert_eq!(order.placed_at, datetime!(2026-05-01 17:00:00.527 UTC));
}

#[test]
fn signature_encodings() {
    let body = fixture("kiotviet_invoice_update.json");
    let hex = signature_header(&body, &secret());
    let raw = hex::decode(&hex).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&raw);
    for header in [
        hex.clone(),
        hex.to_uppercase(),
        format!("sha256={hex}"),
        format!("sha1={hex}"),
        b64.clone(),
        format!("sha256={b64}"),
    ] {
        assert!(verify(&body, Some(&header)).is_ok(), "{header}");
    }
    for header in ["", "abc", "sha256=", &hex[..60], &format!("{hex}00")] {
        assert!(
            matches!(
                verify(&body, Some(header)),
                Err(WebhookError::MalformedSignature {
                    header: "X-Hub-Signature",
                    ..
                })
            ),
            "{header:?}"
        );
    }
    assert_eq!(
        verify(&body, None),
        Err(WebhookError::MissingSignature {
            header: SIGNATURE_HEADER
        })
    );
}

#[test]
fn bad_signature() {
    let body = fixture("kiotviet_invoice_update.json");
    let wrong = signature_header(&body, &Secret::new("another-secret"));
    assert_eq!(
        verify(&body, Some(&wrong)),
        Err(WebhookError::BadSignature {
            header: SIGNATURE_HEADER
        })
    );
    let header = signature_header(&body, &secret());
    let tampered = String::from_utf8(body)
        .unwrap()
        .replace("\"Total\": 129000", "\"Total\": 1290000");
    assert_eq!(
        verify(tampered.as_bytes(), Some(&header)),
        Err(WebhookError::BadSignature {
            header: SIGNATURE_HEADER
        })
    );
}

#[test]
fn window_is_checked_per_invoice() {
    let body = fixture("kiotviet_invoice_update.json");
    let header = signature_header(&body, &secret());
    let latest = datetime!(2026-05-01 10:00:01.113 UTC);
    let late = latest + Duration::minutes(6);
    // Out of the window: acknowledged, listed, not counted (never an error, which
    // KiotViet would take as a reason to switch the webhook off).
    let stale = kiotviet::verify(
        &[secret()],
        Some(&header),
        &body,
        late,
        Duration::minutes(5),
        &brand(),
    )
    .unwrap();
    assert!(stale.events.is_empty());
    let reasons: Vec<_> = stale.ignored.iter().map(|i| i.reason).collect();
    assert_eq!(
        reasons,
        [
            IgnoredReason::NotFinal,
            IgnoredReason::OutOfWindow,
            IgnoredReason::OutOfWindow
        ]
    );
    assert!(stale.ignored[1].detail.contains("360 s ago"), "{stale:?}");
    // A retry hours later passes with a tolerance chosen for KiotViet's retries.
    let retried = kiotviet::verify(
        &[secret()],
        Some(&header),
        &body,
        late,
        Duration::hours(24),
        &brand(),
    )
    .unwrap();
    assert_eq!(retried.events.len(), 2);
    let early = latest - Duration::minutes(6);
    let ahead = kiotviet::verify(
        &[secret()],
        Some(&header),
        &body,
        early,
        Duration::minutes(5),
        &brand(),
    )
    .unwrap();
    assert_eq!(
        ahead.events.len(),
        1,
        "the cancellation is older: {ahead:?}"
    );
    assert!(ahead.ignored[1].detail.contains("360 s in the future"));
}

fn mutate(f: impl FnOnce(&mut Value)) -> Result<kiotviet::KiotVietDelivery, WebhookError> {
    let mut v: Value = serde_json::from_slice(&fixture("kiotviet_invoice_update.json")).unwrap();
    f(&mut v);
    let body = serde_json::to_vec(&v).unwrap();
    verify(&body, Some(&signature_header(&body, &secret())))
}

fn signed_fixture(name: &str) -> kiotviet::KiotVietDelivery {
    let body = fixture(name);
    verify(&body, Some(&signature_header(&body, &secret()))).unwrap()
}

#[test]
fn actions_match_on_entity_and_method() {
    for action in [
        "invoice.update",
        "INVOICE.UPDATE.1",
        "invoice.update.500123.x",
    ] {
        let delivery = mutate(|v| v["Notifications"][0]["Action"] = json!(action)).unwrap();
        assert_eq!(delivery.events.len(), 2, "{action}");
    }
    for action in ["product.update.500123", "invoice", "invoices.update.1", ""] {
        let delivery = mutate(|v| v["Notifications"][0]["Action"] = json!(action)).unwrap();
        assert!(delivery.events.is_empty(), "{action}");
        assert_eq!(delivery.ignored.len(), 1, "{action}");
        assert_eq!(delivery.ignored[0].reason, IgnoredReason::UnknownAction);
        assert_eq!(delivery.ignored[0].path, "Notifications[0].Action");
    }
}

/// `customer.update` (guide §2.11.3) links a customer code to its phone number.
#[test]
fn customer_updates_link_a_code_to_a_phone() {
    let customer = signed_fixture("kiotviet_customer_update.json");
    assert!(customer.ignored.is_empty(), "{customer:?}");
    let event = &customer.events[0];
    assert_eq!(
        event.event_id,
        "5b0e2f4c-8d1a-4c3e-b7f2-91a6d3e0c412/customer/5520871"
    );
    assert_eq!(event.occurred_at, datetime!(2026-05-01 09:59:12.407 UTC));
    assert_eq!(
        event.event,
        PosEvent::CustomerContact {
            customer_ref: "KH000871".into(),
            phone: regulars_domain::Phone::parse("+84901234567", regulars_domain::Phone::VIETNAM)
                .unwrap(),
        }
    );
    let mut v: Value = serde_json::from_slice(&fixture("kiotviet_customer_update.json")).unwrap();
    v["Notifications"][0]["Data"][0]["ContactNumber"] = json!("");
    let body = serde_json::to_vec(&v).unwrap();
    let delivery = verify(&body, Some(&signature_header(&body, &secret()))).unwrap();
    assert!(delivery.events.is_empty());
    assert_eq!(delivery.ignored[0].reason, IgnoredReason::Unusable);
    assert_eq!(
        delivery.ignored[0].path,
        "Notifications[0].Data[0].ContactNumber"
    );
    // A code with a NUL could be stored by no database as text: ignored, never a 500.
    let mut v: Value = serde_json::from_slice(&fixture("kiotviet_customer_update.json")).unwrap();
    v["Notifications"][0]["Data"][0]["Code"] = json!("KH\u{0}871");
    let body = serde_json::to_vec(&v).unwrap();
    let delivery = verify(&body, Some(&signature_header(&body, &secret()))).unwrap();
    assert!(delivery.events.is_empty(), "{delivery:?}");
    assert_eq!(delivery.ignored[0].path, "Notifications[0].Data[0].Code");
}

#[test]
fn removal_notices_are_acknowledged() {
    for name in [
        "kiotviet_customer_delete.json",
        "kiotviet_product_delete_in_envelope.json",
    ] {
        let delivery = signed_fixture(name);
        assert!(delivery.events.is_empty(), "{name}");
        assert_eq!(delivery.ignored.len(), 1, "{name}");
        assert_eq!(delivery.ignored[0].reason, IgnoredReason::Removal, "{name}");
    }
}

#[test]
fn unusable_invoices_are_skipped_with_the_path() {
    let delivery = mutate(|v| {
        v["Notifications"][0]["Data"][0]["InvoiceDetails"][1]["Quantity"] = json!(0.5);
        v["Notifications"][0]["Data"][1]["PurchaseDate"] = json!("01/05/2026");
    })
    .unwrap();
    assert!(delivery.events.is_empty());
    let paths: Vec<&str> = delivery.ignored.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "Notifications[0].Data[0].InvoiceDetails[1].Quantity",
            "Notifications[0].Data[1].PurchaseDate",
            "Notifications[0].Data[2].Status",
        ]
    );
    let delivery =
        mutate(|v| v["Notifications"][0]["Data"][0]["InvoiceDetails"] = json!([])).unwrap();
    assert_eq!(
        delivery.ignored[0].path,
        "Notifications[0].Data[0].InvoiceDetails"
    );
    // Fractional amounts (a percentage discount in VND) leave that invoice out.
    let delivery = mutate(|v| v["Notifications"][0]["Data"][0]["Total"] = json!(128999.5)).unwrap();
    assert_eq!(delivery.events.len(), 1);
    assert_eq!(delivery.ignored[0].reason, IgnoredReason::Unusable);
    assert_eq!(delivery.ignored[0].path, "Notifications[0].Data[0].Total");
}

#[test]
fn broken_parts_are_acknowledged_with_their_path() {
    let delivery = mutate(|v| v["Notifications"][0]["Data"][0]["Total"] = json!(-5)).unwrap();
    assert_eq!(delivery.events.len(), 1);
    assert_eq!(delivery.ignored[0].reason, IgnoredReason::Malformed);
    assert_eq!(delivery.ignored[0].path, "Notifications[0].Data[0].Total");
    // Attempt is informative only.
    let delivery = mutate(|v| {
        v.as_object_mut().unwrap().remove("Attempt");
    })
    .unwrap();
    assert_eq!((delivery.attempt, delivery.events.len()), (1, 2));
    let delivery = mutate(|v| {
        v.as_object_mut().unwrap().remove("Id");
    })
    .unwrap();
    assert!(delivery.events.is_empty());
    assert_eq!(delivery.ignored[0].reason, IgnoredReason::Malformed);
    let delivery = mutate(|v| v["Notifications"][0] = json!(7)).unwrap();
    assert_eq!(delivery.ignored[0].path, "Notifications[0]");
    // Fields KiotViet may add are not refused.
    assert_eq!(
        mutate(|v| v["Notifications"][0]["Data"][0]["NewField"] = json!(1))
            .unwrap()
            .events
            .len(),
        2
    );
    let not_json = b"not json";
    let delivery = verify(not_json, Some(&signature_header(not_json, &secret()))).unwrap();
    assert_eq!(delivery.ignored[0].reason, IgnoredReason::Malformed);
}
