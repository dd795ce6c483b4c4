//! What a till sends: generic POS orders and refunds, signed as `docs/pos.md` says.

use regulars_domain::{BrandId, CallingCode, Currency, Order};
use regulars_pos::{BrandContext, PosEvent, Secret, generic};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// The menu orders are drawn from: sku, category, price in đồng.
const MENU: [(&str, &str, i64); 5] = [
    ("TS-OOLONG", "milk-tea", 45_000),
    ("TS-PASSION", "fruit-tea", 40_000),
    ("TS-JASMINE", "milk-tea", 39_000),
    ("TS-PEACH", "fruit-tea", 45_000),
    ("CF-SUA", "coffee", 29_000),
];

/// RFC 3339 text of a time.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .unwrap_or_else(|e| panic!("format {at}: {e}"))
}

/// Vietnam time.
pub fn vietnam() -> UtcOffset {
    UtcOffset::from_hms(7, 0, 0).unwrap_or_else(|e| panic!("offset: {e}"))
}

/// The `data` of an `order.paid` event: `lines` drinks (every other one with cheese
/// foam), for `phone` when given, paid `at`.
pub fn order_data(order_id: &str, phone: Option<&str>, at: OffsetDateTime, lines: usize) -> Value {
    let mut total = 0;
    let lines: Vec<Value> = (0..lines)
        .map(|i| {
            let (sku, category, price) = MENU[i % MENU.len()];
            let quantity = 1 + (i % 2) as i64;
            total += price * quantity;
            let mut line = json!({
                "sku": sku, "name": sku, "category": category,
                "quantity": quantity, "unit_price": price.to_string(),
            });
            if i % 2 == 0 {
                total += 10_000 * quantity;
                line["modifiers"] =
                    json!([{"sku": "TOP-CHEESE", "name": "Kem phô mai", "unit_price": 10_000}]);
            }
            line
        })
        .collect();
    let mut data = json!({
        "order_id": order_id,
        "location": "q1",
        "placed_at": rfc3339(at.to_offset(vietnam())),
        "currency": "VND",
        "lines": lines,
        "total": total.to_string(),
    });
    if let Some(phone) = phone {
        data["customer_phone"] = json!(phone);
    }
    data
}

/// An `order.paid` envelope.
pub fn paid(event_id: &str, data: Value) -> Vec<u8> {
    envelope(event_id, generic::ORDER_PAID, data)
}

/// An `order.refunded` envelope refunding `order_id` in full.
pub fn refunded(event_id: &str, refund_id: &str, order_id: &str, at: OffsetDateTime) -> Vec<u8> {
    envelope(
        event_id,
        generic::ORDER_REFUNDED,
        json!({"refund_id": refund_id, "order_id": order_id, "refunded_at": rfc3339(at), "full": true}),
    )
}

fn envelope(event_id: &str, kind: &str, data: Value) -> Vec<u8> {
    json!({
        "id": event_id,
        "type": kind,
        "created_at": rfc3339(OffsetDateTime::now_utc()),
        "data": data,
    })
    .to_string()
    .into_bytes()
}

/// The `Regulars-Signature` header for `body` signed with `secret` at `at`.
pub fn sign(secret: &str, body: &[u8], at: OffsetDateTime) -> (&'static str, String) {
    (
        generic::SIGNATURE_HEADER,
        generic::signature_header(at.unix_timestamp(), body, &[Secret::new(secret.as_bytes())]),
    )
}

/// The domain order a signed `order.paid` body carries, as the brand reads it.
pub fn domain_order(brand: BrandId, body: &[u8]) -> Order {
    let context = BrandContext {
        brand_id: brand,
        currency: Currency::VND,
        calling_code: CallingCode(84),
        utc_offset: vietnam(),
    };
    match generic::parse(body, &context) {
        Ok(event) => match event.event {
            PosEvent::Order(order) => order,
            other => panic!("not an order: {other:?}"),
        },
        Err(e) => panic!("fixture order does not parse: {e}"),
    }
}
