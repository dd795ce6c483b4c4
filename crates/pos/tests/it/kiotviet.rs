use crate::{brand, fixture};
use base64::Engine as _;
use regulars_domain::{Currency, Money, RefundScope};
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

    assert_eq!(delivery.skipped.len(), 1);
    assert_eq!(delivery.skipped[0].code, "HD012346");
    assert_eq!(delivery.skipped[0].path, "Notifications[0].Data[2].Status");
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
fn window_uses_the_latest_event_time() {
    let body = fixture("kiotviet_invoice_update.json");
    let header = signature_header(&body, &secret());
    let latest = datetime!(2026-05-01 10:00:01.113 UTC);
    let late = latest + Duration::minutes(6);
    assert_eq!(
        kiotviet::verify(
            &[secret()],
            Some(&header),
            &body,
            late,
            Duration::minutes(5),
            &brand()
        ),
        Err(WebhookError::Stale {
            timestamp: latest,
            age_seconds: 360,
            tolerance_seconds: 300
        })
    );
    // A retry hours later passes with a tolerance chosen for KiotViet's retries.
    assert!(
        kiotviet::verify(
            &[secret()],
            Some(&header),
            &body,
            late,
            Duration::hours(24),
            &brand()
        )
        .is_ok()
    );
    let early = latest - Duration::minutes(10);
    assert!(matches!(
        kiotviet::verify(
            &[secret()],
            Some(&header),
            &body,
            early,
            Duration::minutes(5),
            &brand()
        ),
        Err(WebhookError::FromFuture {
            ahead_seconds: 600,
            ..
        })
    ));
}

fn mutate(f: impl FnOnce(&mut Value)) -> Result<kiotviet::KiotVietDelivery, WebhookError> {
    let mut v: Value = serde_json::from_slice(&fixture("kiotviet_invoice_update.json")).unwrap();
    f(&mut v);
    let body = serde_json::to_vec(&v).unwrap();
    verify(&body, Some(&signature_header(&body, &secret())))
}

#[test]
fn other_actions_are_unknown_event_types() {
    assert_eq!(
        mutate(|v| v["Notifications"][0]["Action"] = json!("product.update")),
        Err(WebhookError::UnknownEventType {
            event_type: "product.update".into()
        })
    );
}

#[test]
fn unusable_invoices_are_skipped_with_the_path() {
    let delivery = mutate(|v| {
        v["Notifications"][0]["Data"][0]["InvoiceDetails"][1]["Quantity"] = json!(0.5);
        v["Notifications"][0]["Data"][1]["PurchaseDate"] = json!("01/05/2026");
    })
    .unwrap();
    assert!(delivery.events.is_empty());
    let paths: Vec<&str> = delivery.skipped.iter().map(|s| s.path.as_str()).collect();
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
        delivery.skipped[0].path,
        "Notifications[0].Data[0].InvoiceDetails"
    );
}

#[test]
fn broken_envelope_and_negative_amounts() {
    let err = mutate(|v| v["Notifications"][0]["Data"][0]["Total"] = json!(-5)).unwrap_err();
    assert!(
        matches!(&err, WebhookError::InvalidPayload { path, .. } if path == "Notifications[0].Data[0].Total"),
        "{err:?}"
    );
    let err = mutate(|v| {
        v.as_object_mut().unwrap().remove("Attempt");
    })
    .unwrap_err();
    assert!(
        matches!(&err, WebhookError::InvalidPayload { path, .. } if path == "."),
        "{err:?}"
    );
    // Fields KiotViet may add are not refused.
    assert!(mutate(|v| v["Notifications"][0]["Data"][0]["NewField"] = json!(1)).is_ok());
}
