//! Regulars' own webhook format, for POS systems that integrate with Regulars directly.
//!
//! A delivery is a JSON envelope `{"id", "type", "created_at", "data"}` whose `type` is
//! `order.paid` (data: an order) or `order.refunded` (data: a refund), signed in the
//! `Regulars-Signature` header as `t=<unix seconds>,v1=<hex HMAC-SHA256>`, where the HMAC
//! is taken over `"{t}.{raw body}"`. Several `v1=` entries may be sent while a secret is
//! being rotated; one matching any configured secret is enough. Unknown fields anywhere
//! are refused, with the JSON path named. `docs/pos.md` describes the format in full.

use crate::amount::Amount;
use crate::signature::{any_matches, check_window, hmac_sha256};
use crate::{BrandContext, PosEvent, Secret, VerifiedEvent, WebhookError};
use regulars_domain::{EventKey, LineItem, Modifier, Money, Order, Phone, Refund, RefundScope};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::fmt::Write as _;
use time::{Duration, OffsetDateTime};

/// The `source` of events and the [`EventKey`] source of their orders and refunds.
pub const SOURCE: &str = "pos:generic";

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Regulars-Signature";

/// The window a signature's timestamp must fall in, either side of "now", unless the
/// caller chooses another.
pub const DEFAULT_TOLERANCE: Duration = Duration::minutes(5);

/// Event type of a paid order.
pub const ORDER_PAID: &str = "order.paid";

/// Event type of a refund.
pub const ORDER_REFUNDED: &str = "order.refunded";

/// The `Regulars-Signature` header value for `body` sent at `timestamp` (unix seconds):
/// one `v1=` entry per secret, so a receiver that knows any of them accepts it.
///
/// ```
/// use regulars_pos::{generic, Secret};
/// let header = generic::signature_header(1_700_000_000, b"{}", &[Secret::new("a"), Secret::new("b")]);
/// assert!(header.starts_with("t=1700000000,v1="));
/// assert_eq!(header.matches(",v1=").count(), 2);
/// ```
pub fn signature_header(timestamp: i64, body: &[u8], secrets: &[Secret]) -> String {
    let t = timestamp.to_string();
    let mut header = format!("t={t}");
    for secret in secrets {
        let mac = hmac_sha256(secret.as_bytes(), &[t.as_bytes(), b".", body]);
        let _ = write!(header, ",v1={}", hex::encode(mac));
    }
    header
}

/// A parsed `Regulars-Signature` header.
struct SignatureHeader<'a> {
    timestamp_text: &'a str,
    timestamp: OffsetDateTime,
    signatures: Vec<[u8; 32]>,
}

fn parse_header(value: &str) -> Result<SignatureHeader<'_>, WebhookError> {
    let malformed = |reason: String| WebhookError::MalformedSignature {
        header: SIGNATURE_HEADER,
        reason,
    };
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in value.split(',') {
        let item = item.trim();
        let Some((key, val)) = item.split_once('=') else {
            return Err(malformed(format!("{item:?} is not a key=value pair")));
        };
        match key {
            "t" => {
                if timestamp.is_some() {
                    return Err(malformed("more than one t=".into()));
                }
                if val.is_empty() || val.len() > 12 || !val.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(malformed(format!("t={val:?} is not unix seconds")));
                }
                let seconds: i64 = val
                    .parse()
                    .map_err(|_| malformed(format!("t={val:?} is not unix seconds")))?;
                let at = OffsetDateTime::from_unix_timestamp(seconds)
                    .map_err(|_| malformed(format!("t={val} is out of range")))?;
                timestamp = Some((val, at));
            }
            "v1" => {
                let mut mac = [0u8; 32];
                hex::decode_to_slice(val, &mut mac).map_err(|_| {
                    malformed("v1= must be 64 hex digits (an HMAC-SHA256)".to_owned())
                })?;
                signatures.push(mac);
            }
            // Other schemes are for other versions of the format; ignore them.
            _ => {}
        }
    }
    let Some((timestamp_text, timestamp)) = timestamp else {
        return Err(malformed("no t= timestamp".into()));
    };
    if signatures.is_empty() {
        return Err(malformed("no v1= signature".into()));
    }
    Ok(SignatureHeader {
        timestamp_text,
        timestamp,
        signatures,
    })
}

/// Authenticates a delivery and maps it into a domain order or refund.
///
/// Checks, in order: the header is present and well formed; some `v1` signature matches
/// `"{t}.{body}"` under some secret (constant-time); `t` lies within `tolerance` of
/// `now`; the body is an envelope of a known type; its data makes a valid order or
/// refund for `brand`.
pub fn verify(
    secrets: &[Secret],
    signature: Option<&str>,
    body: &[u8],
    now: OffsetDateTime,
    tolerance: Duration,
    brand: &BrandContext,
) -> Result<VerifiedEvent, WebhookError> {
    let header = parse_header(signature.ok_or(WebhookError::MissingSignature {
        header: SIGNATURE_HEADER,
    })?)?;
    let parts: [&[u8]; 3] = [header.timestamp_text.as_bytes(), b".", body];
    if !any_matches(secrets, &parts, &header.signatures) {
        return Err(WebhookError::BadSignature {
            header: SIGNATURE_HEADER,
        });
    }
    check_window(header.timestamp, now, tolerance)?;
    parse(body, brand)
}

/// Maps an already authenticated body into a domain event, without looking at any
/// signature. For bodies whose authenticity was established another way (tests, a
/// replay from the caller's own archive).
pub fn parse(body: &[u8], brand: &BrandContext) -> Result<VerifiedEvent, WebhookError> {
    let envelope: Envelope = from_json(&mut serde_json::Deserializer::from_slice(body), "")?;
    if envelope.id.trim().is_empty() {
        return Err(WebhookError::invalid("id", "must not be empty"));
    }
    let event = match envelope.kind.as_str() {
        ORDER_PAID => {
            let data: OrderData = from_json(envelope.data, "data")?;
            PosEvent::Order(data.into_order(brand)?)
        }
        ORDER_REFUNDED => {
            let data: RefundData = from_json(envelope.data, "data")?;
            PosEvent::Refund(data.into_refund(brand)?)
        }
        other => {
            return Err(WebhookError::UnknownEventType {
                event_type: other.to_owned(),
            });
        }
    };
    Ok(VerifiedEvent {
        event_id: envelope.id,
        occurred_at: envelope.created_at,
        source: SOURCE,
        customer_ref: None,
        event,
    })
}

/// Reads an order given on its own: the `data` object of an `order.paid` event, as
/// posted to the API's `/v1/orders` (authenticated by an API key, not a signature).
/// Error paths are relative to the object (`lines[0].quantity`).
pub fn parse_order_data(body: &[u8], brand: &BrandContext) -> Result<Order, WebhookError> {
    let data: OrderData =
        from_json(&mut serde_json::Deserializer::from_slice(body), "").map_err(unprefixed)?;
    data.into_order(brand).map_err(unprefixed)
}

/// Reads a refund given on its own: the `data` object of an `order.refunded` event.
pub fn parse_refund_data(body: &[u8], brand: &BrandContext) -> Result<Refund, WebhookError> {
    let data: RefundData =
        from_json(&mut serde_json::Deserializer::from_slice(body), "").map_err(unprefixed)?;
    data.into_refund(brand).map_err(unprefixed)
}

/// Drops the `data.` the event readers put before a field's path.
fn unprefixed(error: WebhookError) -> WebhookError {
    match error {
        WebhookError::InvalidPayload { path, problem } => WebhookError::InvalidPayload {
            path: path
                .strip_prefix("data.")
                .map(str::to_owned)
                .unwrap_or(path),
            problem,
        },
        other => other,
    }
}

/// Deserialises with the JSON path of any error, under `prefix`.
pub(crate) fn from_json<'de, T, D>(de: D, prefix: &str) -> Result<T, WebhookError>
where
    T: DeserializeOwned,
    D: serde::Deserializer<'de>,
    D::Error: std::fmt::Display,
{
    serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.path().to_string();
        let path = match (prefix.is_empty(), inner.as_str()) {
            (true, p) => p.to_owned(),
            (false, ".") => prefix.to_owned(),
            (false, p) => format!("{prefix}.{p}"),
        };
        WebhookError::invalid(path, e.into_inner().to_string())
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    data: serde_json::Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderData {
    order_id: String,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    customer_phone: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    placed_at: OffsetDateTime,
    lines: Vec<LineData>,
    total: Amount,
    #[serde(default)]
    currency: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineData {
    sku: String,
    name: String,
    #[serde(default)]
    category: Option<String>,
    quantity: u32,
    unit_price: Amount,
    #[serde(default)]
    modifiers: Vec<ModifierData>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModifierData {
    sku: String,
    name: String,
    unit_price: Amount,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefundData {
    refund_id: String,
    order_id: String,
    #[serde(with = "time::serde::rfc3339")]
    refunded_at: OffsetDateTime,
    #[serde(default)]
    full: Option<bool>,
    #[serde(default)]
    amount: Option<Amount>,
    #[serde(default)]
    currency: Option<String>,
}

fn money(amount: Amount, brand: &BrandContext, path: &str) -> Result<Money, WebhookError> {
    amount
        .money(brand.currency)
        .map_err(|problem| WebhookError::invalid(path, problem))
}

fn check_currency(currency: Option<&str>, brand: &BrandContext) -> Result<(), WebhookError> {
    match currency {
        Some(code) if code != brand.currency.code() => Err(WebhookError::invalid(
            "data.currency",
            format!(
                "the brand's currency is {}, not {code:?}",
                brand.currency.code()
            ),
        )),
        _ => Ok(()),
    }
}

fn key(external_id: &str, path: &str) -> Result<EventKey, WebhookError> {
    EventKey::new(SOURCE, external_id.trim())
        .map_err(|e| WebhookError::invalid(path, e.to_string()))
}

fn non_blank(value: &str, path: &str) -> Result<(), WebhookError> {
    if value.trim().is_empty() {
        Err(WebhookError::invalid(path, "must not be empty"))
    } else {
        Ok(())
    }
}

impl OrderData {
    fn into_order(self, brand: &BrandContext) -> Result<Order, WebhookError> {
        check_currency(self.currency.as_deref(), brand)?;
        let key = key(&self.order_id, "data.order_id")?;
        let customer_phone = match self.customer_phone.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(typed) => Some(
                Phone::parse(typed, brand.calling_code)
                    .map_err(|e| WebhookError::invalid("data.customer_phone", e.to_string()))?,
            ),
        };
        if self.lines.is_empty() {
            return Err(WebhookError::invalid(
                "data.lines",
                "an order has at least one line",
            ));
        }
        let mut lines = Vec::with_capacity(self.lines.len());
        for (i, line) in self.lines.into_iter().enumerate() {
            let at = format!("data.lines[{i}]");
            non_blank(&line.sku, &format!("{at}.sku"))?;
            if line.quantity == 0 {
                return Err(WebhookError::invalid(
                    format!("{at}.quantity"),
                    "must be at least 1",
                ));
            }
            let mut modifiers = Vec::with_capacity(line.modifiers.len());
            for (j, m) in line.modifiers.into_iter().enumerate() {
                let mat = format!("{at}.modifiers[{j}]");
                non_blank(&m.sku, &format!("{mat}.sku"))?;
                modifiers.push(Modifier {
                    unit_price: money(m.unit_price, brand, &format!("{mat}.unit_price"))?,
                    sku: m.sku,
                    name: m.name,
                });
            }
            lines.push(LineItem {
                unit_price: money(line.unit_price, brand, &format!("{at}.unit_price"))?,
                sku: line.sku,
                name: line.name,
                category: line.category.filter(|c| !c.trim().is_empty()),
                quantity: line.quantity,
                modifiers,
            });
        }
        let order = Order {
            brand_id: brand.brand_id,
            key,
            location: self.location.filter(|l| !l.trim().is_empty()),
            customer_phone,
            placed_at: self.placed_at,
            lines,
            total: money(self.total, brand, "data.total")?,
        };
        order.validate().map_err(|e| {
            let field = e.field().unwrap_or("lines");
            WebhookError::invalid(format!("data.{field}"), e.to_string())
        })?;
        Ok(order)
    }
}

impl RefundData {
    fn into_refund(self, brand: &BrandContext) -> Result<Refund, WebhookError> {
        check_currency(self.currency.as_deref(), brand)?;
        let scope = match (self.full, self.amount) {
            (Some(true), None) => RefundScope::Full,
            (None | Some(false), Some(amount)) => {
                let amount = money(amount, brand, "data.amount")?;
                if amount.is_zero() {
                    return Err(WebhookError::invalid(
                        "data.amount",
                        "a refund gives back more than zero",
                    ));
                }
                RefundScope::Amount { amount }
            }
            (Some(true), Some(_)) => {
                return Err(WebhookError::invalid(
                    "data.amount",
                    "give either \"full\": true or an amount, not both",
                ));
            }
            (_, None) => {
                return Err(WebhookError::invalid(
                    "data",
                    "give either \"full\": true or an \"amount\"",
                ));
            }
        };
        Ok(Refund {
            brand_id: brand.brand_id,
            key: key(&self.refund_id, "data.refund_id")?,
            order: key(&self.order_id, "data.order_id")?,
            refunded_at: self.refunded_at,
            scope,
        })
    }
}
