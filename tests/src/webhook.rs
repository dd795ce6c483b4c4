//! Orders as a POS sends them to the generic webhook (`order.paid`, signed in
//! `Regulars-Signature`; the format is in docs/pos.md).

use regulars_domain::Order;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The `order.paid` envelope carrying `order`, with event id `event_id`, created at
/// `created_at`, as the JSON bytes a POS would post.
pub fn order_paid_body(
    order: &Order,
    event_id: &str,
    created_at: OffsetDateTime,
) -> Result<Vec<u8>, String> {
    let rfc3339 = |t: OffsetDateTime| t.format(&Rfc3339).map_err(|e| e.to_string());
    let lines: Vec<Value> = order
        .lines
        .iter()
        .map(|line| {
            let modifiers: Vec<Value> = line
                .modifiers
                .iter()
                .map(|m| {
                    json!({
                        "sku": m.sku,
                        "name": m.name,
                        "unit_price": m.unit_price.amount().to_string(),
                    })
                })
                .collect();
            json!({
                "sku": line.sku,
                "name": line.name,
                "category": line.category,
                "quantity": line.quantity,
                "unit_price": line.unit_price.amount().to_string(),
                "modifiers": modifiers,
            })
        })
        .collect();
    let envelope = json!({
        "id": event_id,
        "type": "order.paid",
        "created_at": rfc3339(created_at)?,
        "data": {
            "order_id": order.key.external_id,
            "location": order.location,
            "customer_phone": order.customer_phone.as_ref().map(|p| p.as_str()),
            "placed_at": rfc3339(order.placed_at)?,
            "currency": order.total.currency().code(),
            "lines": lines,
            "total": order.total.amount().to_string(),
        }
    });
    serde_json::to_vec(&envelope).map_err(|e| e.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use regulars_domain::BrandId;
    use regulars_pos::{BrandContext, PosEvent, Secret, generic};

    #[test]
    fn a_signed_body_reads_back_as_the_same_order() {
        let brand = BrandContext::vietnam(BrandId::from_bytes([3; 16]));
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        for lines in [1, 3, 5] {
            let order = crate::order(brand.brand_id, &format!("o-{lines}"), 42, now, lines);
            let body = order_paid_body(&order, "evt-1", now).unwrap();
            let secrets = [Secret::new("whsec_test")];
            let header = generic::signature_header(now.unix_timestamp(), &body, &secrets);
            let event = generic::verify(
                &secrets,
                Some(&header),
                &body,
                now,
                generic::DEFAULT_TOLERANCE,
                &brand,
            )
            .unwrap();
            assert_eq!(event.event_id, "evt-1");
            match event.event {
                PosEvent::Order(read) => assert_eq!(read, order),
                other => panic!("not an order: {other:?}"),
            }
        }
    }
}
