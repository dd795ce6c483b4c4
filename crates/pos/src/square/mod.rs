//! Square's webhooks, as Square documents them (see `docs/pos.md` §Square for the
//! sources and what is covered).
//!
//! Square signs every notification with HMAC-SHA256 under the subscription's signature
//! key, over the **notification URL followed by the raw body**, and sends the base64 of
//! the digest in `x-square-hmacsha256-signature`. The URL is the one configured in the
//! subscription, byte for byte: behind a proxy it is the public URL, never the address
//! the request reached this server at, so it is part of the integration's
//! [`PosApiAccess`](regulars_ports::PosApiAccess).
//!
//! Notifications carry ids and partial objects: `payment.updated` names its `order_id`,
//! `order.updated` an order id and state, never the lines. Those become
//! [`Pending`](regulars_ports::Pending) references, which [`crate::client::PosClient`]
//! completes through the Orders API. `refund.created`/`refund.updated` carry the
//! refund's `amount_money` and `order_id`, enough for a refund of that amount.
//!
//! Amounts are `Money {amount, currency}` in the currency's smallest unit (VND has
//! none smaller than the đồng, so `amount` is in đồng).
//!
//! Square redelivers a notification until it is answered 2xx, so everything authentic
//! that cannot be used is acknowledged and listed with its reason, as for KiotViet; only
//! a bad signature is refused.

pub(crate) mod order;

use crate::signature::{any_matches, check_window};
use crate::{BrandContext, PosEvent, Secret, VerifiedEvent, WebhookError};
use base64::Engine as _;
use regulars_domain::{EventKey, Money, Refund, RefundScope};
use regulars_ports::{Decoded, Ignored, IgnoredReason, Pending};
use serde::Deserialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// The `source` of events and the [`EventKey`] source of their orders and refunds.
pub const SOURCE: &str = "pos:square";

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-square-hmacsha256-signature";

/// How far a notification's `created_at` may lie from now. The signature carries no
/// timestamp and Square retries a failed notification for a while with the same body;
/// replays inside the window are refused by their `event_id`, and orders and refunds
/// are keyed by Square's ids.
pub const TOLERANCE: Duration = Duration::hours(72);

/// The status of a payment or refund, and the state of an order, that count.
pub const COMPLETED: &str = "COMPLETED";

/// The signature Square sends for `body` delivered to `notification_url` under
/// `signature_key` (for tests, and for a stand-in of Square).
pub fn signature_header(notification_url: &str, body: &[u8], signature_key: &Secret) -> String {
    let digest = crate::signature::hmac_sha256(
        signature_key.as_bytes(),
        &[notification_url.as_bytes(), body],
    );
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// Checks the signature over `notification_url` + `body` under `signature_key`.
pub fn authenticate(
    signature_key: &Secret,
    notification_url: &str,
    signature: Option<&str>,
    body: &[u8],
) -> Result<(), WebhookError> {
    let value = signature.ok_or(WebhookError::MissingSignature {
        header: SIGNATURE_HEADER,
    })?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| WebhookError::MalformedSignature {
            header: SIGNATURE_HEADER,
            reason: "not the base64 of a 32-byte HMAC-SHA256 digest".to_owned(),
        })?;
    let parts: [&[u8]; 2] = [notification_url.as_bytes(), body];
    if any_matches(std::slice::from_ref(signature_key), &parts, &[bytes]) {
        Ok(())
    } else {
        Err(WebhookError::BadSignature {
            header: SIGNATURE_HEADER,
        })
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    event_id: String,
    created_at: String,
    #[serde(default)]
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(default)]
    object: Value,
}

#[derive(Deserialize)]
struct PaymentObject {
    status: String,
    #[serde(default)]
    order_id: Option<String>,
}

#[derive(Deserialize)]
struct OrderChange {
    order_id: String,
    state: String,
}

#[derive(Deserialize)]
struct RefundObject {
    id: String,
    status: String,
    amount_money: order::SquareMoney,
    order_id: String,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
}

/// Authenticates a Square notification and reads it: a refund becomes an event, a
/// completed payment or order a [`Pending`] order id to fetch, anything else is
/// listed in `ignored`. Fails only on the signature.
pub fn verify(
    signature_key: &Secret,
    notification_url: &str,
    signature: Option<&str>,
    body: &[u8],
    now: OffsetDateTime,
    brand: &BrandContext,
) -> Result<Decoded, WebhookError> {
    authenticate(signature_key, notification_url, signature, body)?;
    let mut decoded = Decoded::default();
    match read(body, now, brand) {
        Ok(Read::Event(event)) => decoded.events.push(*event),
        Ok(Read::Pending(pending)) => decoded.pending.push(pending),
        Err(ignored) => decoded.ignored.push(ignored),
    }
    Ok(decoded)
}

enum Read {
    Event(Box<VerifiedEvent>),
    Pending(Pending),
}

fn ignored(reason: IgnoredReason, path: &str, detail: impl Into<String>) -> Ignored {
    Ignored {
        reason,
        path: path.to_owned(),
        detail: detail.into(),
    }
}

fn malformed(path: &str, error: impl std::fmt::Display) -> Ignored {
    ignored(IgnoredReason::Malformed, path, error.to_string())
}

pub(crate) fn parse_time(text: &str, path: &str) -> Result<OffsetDateTime, Ignored> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|_| malformed(path, format!("{text:?} is not an RFC 3339 time")))
}

fn object<T: serde::de::DeserializeOwned>(data: &Value, name: &str) -> Result<T, Ignored> {
    let at = format!("data.object.{name}");
    let value = data.get(name).cloned().unwrap_or(Value::Null);
    serde_path_to_error::deserialize(value).map_err(|e| {
        malformed(
            &crate::kiotviet::join(&at, &e.path().to_string()),
            e.into_inner(),
        )
    })
}

fn read(body: &[u8], now: OffsetDateTime, brand: &BrandContext) -> Result<Read, Ignored> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| malformed(".", e))?;
    let created_at = parse_time(&envelope.created_at, "created_at")?;
    check_window(created_at, now, TOLERANCE)
        .map_err(|e| ignored(IgnoredReason::OutOfWindow, "created_at", e.to_string()))?;
    let data = envelope.data.map(|d| d.object).unwrap_or(Value::Null);
    let pending = |order_id: String, path: &str| {
        Ok(Read::Pending(Pending {
            event_id: envelope.event_id.clone(),
            occurred_at: created_at,
            path: path.to_owned(),
            reference: order_id,
        }))
    };
    let not_final = |path: &str, what: &str, state: &str| {
        Err(ignored(
            IgnoredReason::NotFinal,
            path,
            format!("{what} is {state}; it counts once it is {COMPLETED}"),
        ))
    };
    match envelope.kind.as_str() {
        "payment.created" | "payment.updated" => {
            let payment: PaymentObject = object(&data, "payment")?;
            if payment.status != COMPLETED {
                return not_final("data.object.payment.status", "the payment", &payment.status);
            }
            match payment.order_id {
                Some(id) if !id.is_empty() => pending(id, "data.object.payment.order_id"),
                _ => Err(ignored(
                    IgnoredReason::Unusable,
                    "data.object.payment.order_id",
                    "a payment without an order has no lines to count",
                )),
            }
        }
        kind @ ("order.created" | "order.updated") => {
            let name = if kind == "order.created" {
                "order_created"
            } else {
                "order_updated"
            };
            let change: OrderChange = object(&data, name)?;
            if change.state != COMPLETED {
                return not_final(
                    &format!("data.object.{name}.state"),
                    "the order",
                    &change.state,
                );
            }
            pending(change.order_id, &format!("data.object.{name}.order_id"))
        }
        "refund.created" | "refund.updated" => {
            let refund: RefundObject = object(&data, "refund")?;
            if refund.status != COMPLETED {
                return not_final("data.object.refund.status", "the refund", &refund.status);
            }
            refund_event(refund, &envelope.event_id, created_at, brand)
                .map(|event| Read::Event(Box::new(event)))
        }
        other => Err(ignored(
            IgnoredReason::UnknownAction,
            "type",
            format!("{other:?} is not an event this server counts"),
        )),
    }
}

fn refund_event(
    refund: RefundObject,
    event_id: &str,
    created_at: OffsetDateTime,
    brand: &BrandContext,
) -> Result<VerifiedEvent, Ignored> {
    let at = "data.object.refund";
    let unusable = |path: &str, detail: String| ignored(IgnoredReason::Unusable, path, detail);
    let amount: Money = refund
        .amount_money
        .money(brand)
        .map_err(|e| unusable(&format!("{at}.amount_money"), e))?;
    if amount.is_zero() {
        return Err(unusable(
            &format!("{at}.amount_money"),
            "a refund of nothing".to_owned(),
        ));
    }
    let key = EventKey::new(SOURCE, &refund.id)
        .map_err(|e| unusable(&format!("{at}.id"), e.to_string()))?;
    let order = EventKey::new(SOURCE, &refund.order_id)
        .map_err(|e| unusable(&format!("{at}.order_id"), e.to_string()))?;
    let refunded_at = match refund
        .updated_at
        .as_deref()
        .or(refund.created_at.as_deref())
    {
        Some(text) => parse_time(text, &format!("{at}.updated_at"))?,
        None => created_at,
    };
    Ok(VerifiedEvent {
        event_id: event_id.to_owned(),
        occurred_at: created_at,
        source: SOURCE,
        customer_ref: None,
        event: PosEvent::Refund(Refund {
            brand_id: brand.brand_id,
            key,
            order,
            refunded_at,
            scope: RefundScope::Amount { amount },
        }),
    })
}
