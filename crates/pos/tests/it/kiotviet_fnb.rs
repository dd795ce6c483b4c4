//! KiotViet's invoice list (what KiotViet FnB is polled with), read from the documented
//! answer with the webhook's mapping.

use crate::{brand, fixture};
use regulars_domain::{Currency, Money, RefundScope};
use regulars_ports::IgnoredReason;
use regulars_pos::PosEvent;
use regulars_pos::kiotviet::{format_since, parse_invoice_list};
use serde_json::{Value, json};
use time::macros::datetime;

#[test]
fn the_documented_invoice_list_reads_like_the_webhook() {
    let page = parse_invoice_list(&fixture("kiotviet_fnb_invoices.json"), &brand()).unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.invoices.len(), 2);

    let paid = &page.invoices[0];
    // Local times (no offset) are the retailer's: +07:00.
    assert_eq!(
        paid.modified_at,
        Some(datetime!(2026-05-01 10:00:02.417 UTC))
    );
    let event = paid.event.as_ref().unwrap();
    assert_eq!(event.event_id, "poll/301448801/1");
    assert_eq!(event.source, "pos:kiotviet");
    assert_eq!(event.customer_ref.as_deref(), Some("KH000871"));
    let PosEvent::Order(order) = &event.event else {
        panic!("an order: {event:?}")
    };
    assert_eq!(order.key.external_id, "HD004211");
    assert_eq!(order.location.as_deref(), Some("45012"));
    assert_eq!(order.placed_at, datetime!(2026-05-01 10:00:00.527 UTC));
    assert_eq!(order.total, Money::from_minor_units(129_000, Currency::VND));
    assert_eq!(order.lines.len(), 2);
    assert_eq!(order.lines[0].quantity, 2);

    let cancelled = &page.invoices[1];
    let event = cancelled.event.as_ref().unwrap();
    assert_eq!(event.event_id, "poll/301448802/2");
    assert_eq!(event.customer_ref, None, "an empty code is a walk-in sale");
    let PosEvent::Refund(refund) = &event.event else {
        panic!("a refund: {event:?}")
    };
    assert_eq!(refund.order.external_id, "HD004212");
    assert_eq!(refund.key.external_id, "HD004212/cancelled");
    assert_eq!(refund.scope, RefundScope::Full);
    assert_eq!(refund.refunded_at, datetime!(2026-05-01 10:20:13.99 UTC));
}

#[test]
fn an_unusable_invoice_is_listed_and_still_moves_the_cursor() {
    let mut list: Value = serde_json::from_slice(&fixture("kiotviet_fnb_invoices.json")).unwrap();
    list["data"][0]["status"] = json!(3);
    list["data"][1]["invoiceDetails"][0]["quantity"] = json!(0.5);
    list["data"].as_array_mut().unwrap().push(json!("junk"));
    let page = parse_invoice_list(list.to_string().as_bytes(), &brand()).unwrap();
    assert_eq!(page.total, 2, "the answer's own total");
    let reasons: Vec<_> = page
        .invoices
        .iter()
        .map(|i| i.event.as_ref().err().map(|e| e.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            Some(IgnoredReason::NotFinal),
            None,
            Some(IgnoredReason::Malformed)
        ],
        "a cancelled invoice needs no lines: {page:?}"
    );
    assert!(page.invoices[0].modified_at.is_some());
    assert_eq!(page.invoices[2].modified_at, None);
    // Not a list at all: an error, not an empty page.
    assert!(parse_invoice_list(b"<html>", &brand()).is_err());
    assert!(
        parse_invoice_list(b"{}", &brand())
            .unwrap()
            .invoices
            .is_empty()
    );
}

#[test]
fn since_is_written_in_the_retailers_local_time() {
    assert_eq!(
        format_since(datetime!(2026-05-01 10:00:02.417 UTC), &brand()).unwrap(),
        "2026-05-01T17:00:02"
    );
}
