//! One invoice of an `invoice.update` notification (guide §2.11.7) as an order or a
//! refund.

use super::{SOURCE, STATUS_CANCELLED, STATUS_COMPLETED, join};
use crate::amount::Amount;
use crate::{BrandContext, PosEvent, VerifiedEvent};
use regulars_domain::{EventKey, LineItem, Money, Order, Refund, RefundScope};
use regulars_ports::{Ignored, IgnoredReason};
use serde::Deserialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

// The webhook writes fields in PascalCase, the Public API's invoice list (Retail
// §2.12.1, and FnB's) in camelCase: both read into the same invoice.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Invoice {
    #[serde(alias = "id")]
    id: i64,
    #[serde(alias = "code")]
    code: String,
    #[serde(alias = "purchaseDate")]
    purchase_date: String,
    #[serde(alias = "branchId")]
    branch_id: i64,
    #[serde(default, alias = "customerCode")]
    customer_code: Option<String>,
    #[serde(alias = "total")]
    total: Amount,
    #[serde(alias = "status")]
    status: u8,
    #[serde(default, alias = "modifiedDate")]
    modified_date: Option<String>,
    #[serde(default, alias = "invoiceDetails")]
    invoice_details: Vec<InvoiceDetail>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InvoiceDetail {
    #[serde(alias = "productCode")]
    product_code: String,
    #[serde(alias = "productName")]
    product_name: String,
    #[serde(alias = "quantity")]
    quantity: f64,
    #[serde(alias = "price")]
    price: Amount,
}

/// Where and why an invoice was not used.
type Skip = (IgnoredReason, String, String);

fn unusable(path: String, detail: impl Into<String>) -> Skip {
    (IgnoredReason::Unusable, path, detail.into())
}

/// Reads the invoice at `at` (`Notifications[0].Data[1]`) into its event, or says why
/// it is left out.
pub(super) fn read(
    data: Value,
    at: &str,
    delivery_id: &str,
    brand: &BrandContext,
) -> Result<VerifiedEvent, Ignored> {
    let invoice: Invoice = serde_path_to_error::deserialize(data).map_err(|e| Ignored {
        reason: IgnoredReason::Malformed,
        path: join(at, &e.path().to_string()),
        detail: e.into_inner().to_string(),
    })?;
    let code = invoice.code.clone();
    invoice
        .into_event(at, delivery_id, brand)
        .map_err(|(reason, path, detail)| Ignored {
            reason,
            path,
            detail: format!("invoice {code:?}: {detail}"),
        })
}

/// Reads one invoice of the Public API's invoice list (camelCase) at `at`
/// (`data[3]`) with the webhook's mapping. Its event id is `"poll/{id}/{status}"`: the
/// same invoice read again in the same state is a replay, and its cancellation a new
/// event. The second value is when KiotViet last changed it (`modifiedDate`, else
/// `createdDate`, else `purchaseDate`), when readable: the poll's cursor moves past it.
pub(crate) fn read_listed(
    data: Value,
    at: &str,
    brand: &BrandContext,
) -> (Result<VerifiedEvent, Ignored>, Option<OffsetDateTime>) {
    let changed = [
        "modifiedDate",
        "ModifiedDate",
        "createdDate",
        "purchaseDate",
    ]
    .iter()
    .filter_map(|field| data.get(*field).and_then(Value::as_str))
    .find_map(|text| parse_date(text, brand).ok());
    let status = data
        .get("status")
        .or_else(|| data.get("Status"))
        .and_then(Value::as_i64);
    let event = read(data, at, "poll", brand).map(|mut event| {
        if let Some((_, id)) = event.event_id.split_once('/') {
            event.event_id = format!("poll/{id}/{}", status.unwrap_or_default());
        }
        event
    });
    (event, changed)
}

impl Invoice {
    fn into_event(
        self,
        at: &str,
        delivery_id: &str,
        brand: &BrandContext,
    ) -> Result<VerifiedEvent, Skip> {
        let key = EventKey::new(SOURCE, self.code.trim())
            .map_err(|e| unusable(format!("{at}.Code"), e.to_string()))?;
        let placed_at = parse_date(&self.purchase_date, brand)
            .map_err(|e| unusable(format!("{at}.PurchaseDate"), e))?;
        let modified = match self.modified_date.as_deref() {
            Some(text) => Some(
                parse_date(text, brand).map_err(|e| unusable(format!("{at}.ModifiedDate"), e))?,
            ),
            None => None,
        };
        let occurred_at = modified.unwrap_or(placed_at);
        let event = match self.status {
            STATUS_COMPLETED => PosEvent::Order(self.order(key, placed_at, at, brand)?),
            STATUS_CANCELLED => {
                let refund_key = EventKey::new(SOURCE, format!("{}/cancelled", key.external_id))
                    .map_err(|e| unusable(format!("{at}.Code"), e.to_string()))?;
                PosEvent::Refund(Refund {
                    brand_id: brand.brand_id,
                    key: refund_key,
                    order: key,
                    refunded_at: occurred_at,
                    scope: RefundScope::Full,
                })
            }
            other => {
                return Err((
                    IgnoredReason::NotFinal,
                    format!("{at}.Status"),
                    format!(
                        "status {other} is neither completed (1) nor cancelled (2); \
                         the invoice is handled when it reaches one of them"
                    ),
                ));
            }
        };
        Ok(VerifiedEvent {
            event_id: format!("{delivery_id}/{}", self.id),
            occurred_at,
            source: SOURCE,
            customer_ref: self
                .customer_code
                .map(|c| c.trim().to_owned())
                // A code no customer update could name (control characters) links nobody.
                .filter(|c| !c.is_empty() && !c.chars().any(char::is_control)),
            event,
        })
    }

    fn order(
        &self,
        key: EventKey,
        placed_at: OffsetDateTime,
        at: &str,
        brand: &BrandContext,
    ) -> Result<Order, Skip> {
        let money = |amount: Amount, path: String| -> Result<Money, Skip> {
            amount.money(brand.currency).map_err(|e| unusable(path, e))
        };
        let mut lines = Vec::with_capacity(self.invoice_details.len());
        for (i, detail) in self.invoice_details.iter().enumerate() {
            let dat = format!("{at}.InvoiceDetails[{i}]");
            let q = detail.quantity;
            if !(q >= 1.0 && q.fract() == 0.0 && q <= f64::from(u32::MAX)) {
                return Err(unusable(
                    format!("{dat}.Quantity"),
                    format!("{q} is not a whole number of units (at least 1)"),
                ));
            }
            lines.push(LineItem {
                sku: detail.product_code.clone(),
                name: detail.product_name.clone(),
                category: None,
                // Checked above to be a whole number within u32.
                quantity: q as u32,
                unit_price: money(detail.price, format!("{dat}.Price"))?,
                modifiers: Vec::new(),
            });
        }
        let order = Order {
            brand_id: brand.brand_id,
            key,
            location: Some(self.branch_id.to_string()),
            customer_phone: None,
            placed_at,
            lines,
            total: money(self.total, format!("{at}.Total"))?,
        };
        order.validate().map_err(|e| {
            let path = match e.field() {
                Some(f) if f.starts_with("lines") => format!("{at}.InvoiceDetails"),
                Some("total") => format!("{at}.Total"),
                _ => at.to_owned(),
            };
            unusable(path, e.to_string())
        })?;
        Ok(order)
    }
}

/// Reads a .NET `DateTime` as KiotViet writes it: RFC 3339 with an offset, or a local
/// time without one (then in the brand's offset), with up to seven decimals.
pub(super) fn parse_date(text: &str, brand: &BrandContext) -> Result<OffsetDateTime, String> {
    let text = text.trim();
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(at);
    }
    let bad = || format!("{text:?} is not a date and time such as 2026-05-01T17:00:00");
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    let local = PrimitiveDateTime::parse(
        whole,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
    )
    .map_err(|_| bad())?;
    if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let mut nanos: u32 = 0;
    for b in fraction.bytes().chain(std::iter::repeat(b'0')).take(9) {
        nanos = nanos * 10 + u32::from(b - b'0');
    }
    let local = local.replace_nanosecond(nanos).map_err(|_| bad())?;
    // An offset that puts the time out of range (year 9999 at +07:00 read back in UTC,
    // say) is refused rather than wrapped.
    local
        .checked_sub(time::Duration::seconds(i64::from(
            brand.utc_offset.whole_seconds(),
        )))
        .map(|utc| utc.assume_utc())
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use regulars_domain::BrandId;
    use time::UtcOffset;
    use time::macros::datetime;

    #[test]
    fn dotnet_dates_in_the_brands_offset() {
        let brand = BrandContext::vietnam(BrandId::from_bytes([1; 16]));
        assert_eq!(
            parse_date("2026-05-01T17:00:00.1230000", &brand).unwrap(),
            datetime!(2026-05-01 10:00:00.123 UTC)
        );
        assert_eq!(
            parse_date("2026-05-01T17:00:00", &brand).unwrap(),
            datetime!(2026-05-01 10:00 UTC)
        );
        assert_eq!(
            parse_date("2026-05-01T17:00:00+07:00", &brand).unwrap(),
            datetime!(2026-05-01 10:00 UTC)
        );
        let west = BrandContext {
            utc_offset: UtcOffset::from_hms(-5, 0, 0).unwrap(),
            ..brand
        };
        assert_eq!(
            parse_date("2026-05-01T17:00:00", &west).unwrap(),
            datetime!(2026-05-01 22:00 UTC)
        );
        assert!(parse_date("01/05/2026", &brand).is_err());
        assert!(parse_date("2026-05-01T17:00:00.12x", &brand).is_err());
        assert!(parse_date("-9999-01-01T00:00:00", &brand).is_err());
    }
}
