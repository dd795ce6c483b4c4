//! POS webhooks over the fake store: the first read (event id, the order's scoped and
//! unscoped keys, the customer) and what each of its findings leads to.

use super::*;
use crate::{OrderReceipt, WebhookEndpoint, WebhookOutcome, WebhookReceipt};
use regulars_domain::IntegrationId;
use regulars_ports::{IntegrationKind, PosEvent, VerifiedEvent};

const INTEGRATION: IntegrationId = IntegrationId::from_bytes([0x1D; 16]);

fn endpoint() -> WebhookEndpoint {
    WebhookEndpoint {
        brand: BRAND,
        integration: INTEGRATION,
        kind: IntegrationKind::Generic,
        secret: b"webhook-secret".to_vec(),
        access: None,
        settings: brand(BRAND),
    }
}

fn paid(event_id: &str, order: Order) -> VerifiedEvent {
    VerifiedEvent {
        event_id: event_id.to_owned(),
        occurred_at: order.placed_at,
        source: "pos:generic",
        customer_ref: None,
        event: PosEvent::Order(order),
    }
}

async fn receive(h: &Harness, event: VerifiedEvent) -> WebhookReceipt {
    h.services
        .receive_webhook(&endpoint(), event)
        .await
        .unwrap()
}

fn order_receipt(receipt: &WebhookReceipt) -> &OrderReceipt {
    match &receipt.outcome {
        WebhookOutcome::Order { receipt } => receipt,
        other => panic!("not an order: {other:?}"),
    }
}

#[tokio::test]
async fn an_order_counted_before_keys_were_scoped_answers_its_first_receipt() {
    let h = Harness::standard();
    // Counted through the API under the POS's own key, as webhooks once were, and
    // remembered without a fingerprint as records were then.
    let first = h
        .services
        .ingest_order(BRAND, order("L-1", 50_000))
        .await
        .unwrap();
    h.fake.edit(|w| {
        if let Some(record) = w.idempotency.get_mut(&(BRAND, key("L-1"))) {
            record.fingerprint = None;
        }
    });
    let balance = h.balance();

    let again = receive(&h, paid("evt-L-1", order("L-1", 50_000))).await;
    let receipt = order_receipt(&again);
    assert!(receipt.duplicate, "{receipt:?}");
    assert_eq!(receipt.order_id, first.order_id);
    assert!(!again.replayed);
    assert_eq!(h.balance(), balance, "nothing credited twice");

    // Another order of the same customer is counted, the customer found by the first
    // read; its event sent again is a replay.
    let next = receive(&h, paid("evt-L-2", order("L-2", 60_000))).await;
    let counted = order_receipt(&next);
    assert!(!counted.duplicate, "{counted:?}");
    assert_eq!(counted.customer_id, first.customer_id);
    assert!(h.balance() > balance);
    let replay = receive(&h, paid("evt-L-2", order("L-2", 60_000))).await;
    assert!(replay.replayed);
    assert_eq!(order_receipt(&replay).order_id, counted.order_id);
}

#[tokio::test]
async fn a_scoped_order_is_not_taken_for_an_unscoped_one() {
    let h = Harness::standard();
    // The same POS order id arrives by webhook first: counted under its scoped key.
    let first = receive(&h, paid("evt-S-1", order("S-1", 40_000))).await;
    assert!(!order_receipt(&first).duplicate);
    // A different event carrying the same order: the scoped key answers, as a duplicate
    // of the first, whatever an unscoped record says.
    let second = receive(&h, paid("evt-S-1b", order("S-1", 40_000))).await;
    assert!(!second.replayed);
    let receipt = order_receipt(&second);
    assert!(receipt.duplicate, "{receipt:?}");
    assert_eq!(receipt.order_id, order_receipt(&first).order_id);
}
