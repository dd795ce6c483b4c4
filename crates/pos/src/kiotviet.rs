//! KiotViet's invoice webhook (`invoice.update`), as KiotViet documents it in section
//! 2.11 of its Public API guide (see `docs/pos.md` for the source and what is covered).
//!
//! KiotViet signs the raw request body with HMAC-SHA256 under the secret given when the
//! webhook was registered, and sends the result in `X-Hub-Signature`. Its guide does
//! not say how the digest is written, so hexadecimal (either case) and base64 are both
//! read, with or without a `sha256=`/`sha1=` prefix as some integrations show it.
//!
//! The signature carries no timestamp, so the window is checked against the event's
//! own time: the latest `ModifiedDate` (else `PurchaseDate`) of the invoices in the
//! delivery. KiotViet retries failed deliveries with the same body, so pick a tolerance
//! that covers its retries; replays inside it are harmless because every order is keyed
//! by its invoice code.
//!
//! A delivery may carry several invoices. One that cannot become an order (a status
//! that is not final, fractional quantities, no lines) is listed in
//! [`KiotVietDelivery::skipped`] rather than failing the whole delivery: KiotViet stops
//! calling an endpoint that answers 400, 401, 403, 404 or 405.
//!
//! Unlike the generic format, unknown fields are ignored: KiotViet adds fields to its
//! payloads, and refusing them would switch the webhook off.

use crate::amount::Amount;
use crate::generic::from_json;
use crate::signature::{any_matches, check_window};
use crate::{BrandContext, PosEvent, Secret, VerifiedEvent, WebhookError};
use base64::Engine as _;
use regulars_domain::{EventKey, LineItem, Money, Order, Refund, RefundScope};
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

/// The `source` of events and the [`EventKey`] source of their orders and refunds.
pub const SOURCE: &str = "pos:kiotviet";

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature";

/// The only notification action handled: an invoice was created or changed.
pub const INVOICE_UPDATE: &str = "invoice.update";

/// Invoice status "Hoàn thành" (completed): the invoice becomes an order.
pub const STATUS_COMPLETED: u8 = 1;
/// Invoice status "Đã hủy" (cancelled): the invoice becomes a full refund.
pub const STATUS_CANCELLED: u8 = 2;

/// One authenticated KiotViet delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KiotVietDelivery {
    /// KiotViet's id of the notification (`Id`); the same on every retry.
    pub delivery_id: String,
    /// Which attempt this is (`Attempt`), 1 for the first.
    pub attempt: i64,
    /// The invoices that became orders or refunds, in payload order. Each event id is
    /// `"{delivery_id}/{invoice Id}"`.
    pub events: Vec<VerifiedEvent>,
    /// Invoices left out, with why.
    pub skipped: Vec<SkippedInvoice>,
}

/// An invoice of a delivery that did not become an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedInvoice {
    /// The invoice code (`Code`), e.g. `HD000123`.
    pub code: String,
    /// Where in the payload the reason lies, e.g. `Notifications[0].Data[1].Status`.
    pub path: String,
    /// Why it was left out.
    pub reason: String,
}

/// Authenticates a KiotViet delivery and maps its invoices into orders and refunds.
///
/// `secrets` are the values registered as the webhook's `Secret` (KiotViet's guide has
/// them base64-encoded before registering; the key is the registered text's bytes).
pub fn verify(
    secrets: &[Secret],
    signature: Option<&str>,
    body: &[u8],
    now: OffsetDateTime,
    tolerance: Duration,
    brand: &BrandContext,
) -> Result<KiotVietDelivery, WebhookError> {
    let value = signature.ok_or(WebhookError::MissingSignature {
        header: SIGNATURE_HEADER,
    })?;
    let candidate = decode_signature(value)?;
    if !any_matches(secrets, &[body], &[candidate]) {
        return Err(WebhookError::BadSignature {
            header: SIGNATURE_HEADER,
        });
    }
    let delivery = parse(body, brand)?;
    if let Some(latest) = delivery.events.iter().map(|e| e.occurred_at).max() {
        check_window(latest, now, tolerance)?;
    }
    Ok(delivery)
}

/// The `X-Hub-Signature` value KiotViet sends for `body` (lower-case hex), for tests
/// and for replaying archived deliveries.
pub fn signature_header(body: &[u8], secret: &Secret) -> String {
    hex::encode(crate::signature::hmac_sha256(secret.as_bytes(), &[body]))
}

fn decode_signature(value: &str) -> Result<[u8; 32], WebhookError> {
    let malformed = |reason: &str| WebhookError::MalformedSignature {
        header: SIGNATURE_HEADER,
        reason: reason.to_owned(),
    };
    let value = value.trim();
    let digest = match value.split_once('=') {
        Some((scheme, rest))
            if scheme.eq_ignore_ascii_case("sha256") || scheme.eq_ignore_ascii_case("sha1") =>
        {
            rest
        }
        _ => value,
    };
    let mut mac = [0u8; 32];
    if digest.len() == 64 {
        hex::decode_to_slice(digest, &mut mac)
            .map_err(|_| malformed("64 characters but not hexadecimal"))?;
        return Ok(mac);
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(digest)
        .map_err(|_| malformed("neither 64 hex digits nor base64 of an HMAC-SHA256"))?;
    if bytes.len() != 32 {
        return Err(malformed("the digest is not 32 bytes long (HMAC-SHA256)"));
    }
    mac.copy_from_slice(&bytes);
    Ok(mac)
}

/// Maps an already authenticated body, without looking at any signature.
pub fn parse(body: &[u8], brand: &BrandContext) -> Result<KiotVietDelivery, WebhookError> {
    let envelope: Envelope = from_json(&mut serde_json::Deserializer::from_slice(body), "")?;
    let mut events = Vec::new();
    let mut skipped = Vec::new();
    for (n, notification) in envelope.notifications.into_iter().enumerate() {
        if !notification.action.eq_ignore_ascii_case(INVOICE_UPDATE) {
            return Err(WebhookError::UnknownEventType {
                event_type: notification.action,
            });
        }
        for (d, invoice) in notification.data.into_iter().enumerate() {
            let at = format!("Notifications[{n}].Data[{d}]");
            let code = invoice.code.clone();
            match invoice.into_event(&at, &envelope.id, brand) {
                Ok(event) => events.push(event),
                Err((path, reason)) => skipped.push(SkippedInvoice { code, path, reason }),
            }
        }
    }
    Ok(KiotVietDelivery {
        delivery_id: envelope.id,
        attempt: envelope.attempt,
        events,
        skipped,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Envelope {
    id: String,
    attempt: i64,
    notifications: Vec<Notification>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Notification {
    action: String,
    data: Vec<Invoice>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Invoice {
    id: i64,
    code: String,
    purchase_date: String,
    branch_id: i64,
    #[serde(default)]
    customer_code: Option<String>,
    total: Amount,
    status: u8,
    #[serde(default)]
    modified_date: Option<String>,
    #[serde(default)]
    invoice_details: Vec<InvoiceDetail>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InvoiceDetail {
    product_code: String,
    product_name: String,
    quantity: f64,
    price: Amount,
}

type Skip = (String, String);

impl Invoice {
    fn into_event(
        self,
        at: &str,
        delivery_id: &str,
        brand: &BrandContext,
    ) -> Result<VerifiedEvent, Skip> {
        let key = EventKey::new(SOURCE, self.code.trim())
            .map_err(|e| (format!("{at}.Code"), e.to_string()))?;
        let placed_at = parse_date(&self.purchase_date, brand)
            .map_err(|e| (format!("{at}.PurchaseDate"), e))?;
        let modified = match self.modified_date.as_deref() {
            Some(text) => {
                Some(parse_date(text, brand).map_err(|e| (format!("{at}.ModifiedDate"), e))?)
            }
            None => None,
        };
        let occurred_at = modified.unwrap_or(placed_at);
        let event = match self.status {
            STATUS_COMPLETED => PosEvent::Order(self.order(key, placed_at, at, brand)?),
            STATUS_CANCELLED => {
                let refund_key = EventKey::new(SOURCE, format!("{}/cancelled", key.external_id))
                    .map_err(|e| (format!("{at}.Code"), e.to_string()))?;
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
            customer_ref: self.customer_code.filter(|c| !c.trim().is_empty()),
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
            amount.money(brand.currency).map_err(|e| (path, e))
        };
        let mut lines = Vec::with_capacity(self.invoice_details.len());
        for (i, detail) in self.invoice_details.iter().enumerate() {
            let dat = format!("{at}.InvoiceDetails[{i}]");
            let q = detail.quantity;
            if !(q >= 1.0 && q.fract() == 0.0 && q <= f64::from(u32::MAX)) {
                return Err((
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
                Some("lines") => format!("{at}.InvoiceDetails"),
                Some(f) if f.starts_with("lines") => format!("{at}.InvoiceDetails"),
                Some("total") => format!("{at}.Total"),
                _ => at.to_owned(),
            };
            (path, e.to_string())
        })?;
        Ok(order)
    }
}

/// Reads a .NET `DateTime` as KiotViet writes it: RFC 3339 with an offset, or a local
/// time without one (then in the brand's offset), with up to seven decimals.
fn parse_date(text: &str, brand: &BrandContext) -> Result<OffsetDateTime, String> {
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
    Ok(local.assume_offset(brand.utc_offset))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use regulars_domain::BrandId;
    use time::macros::datetime;

    #[test]
    fn dotnet_dates() {
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
        assert!(parse_date("01/05/2026", &brand).is_err());
        assert!(parse_date("2026-05-01T17:00:00.12x", &brand).is_err());
    }
}
