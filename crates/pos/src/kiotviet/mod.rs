//! KiotViet's webhooks, as KiotViet documents them in section 2.11 of its Public API
//! guide (see `docs/pos.md` for the sources and what is covered).
//!
//! KiotViet signs the raw request body with HMAC-SHA256 under the secret given when the
//! webhook was registered, and sends the result in `X-Hub-Signature`. Its guide does
//! not say how the digest is written, so hexadecimal (either case) and base64 are both
//! read, with or without a `sha256=`/`sha1=` prefix as some integrations show it. Nor
//! does it say whether the key is the registered (base64) text or the bytes it encodes,
//! so [`keys`] gives both.
//!
//! KiotViet switches a webhook off for good after one answer of 400, 401, 403, 404 or
//! 405, and asks for 401 on a signature mismatch. So [`verify`] fails only when the
//! signature does not authenticate the body; anything else in an authentic delivery
//! that cannot be used (a malformed part, another action, a removal notice, an invoice
//! still in progress or with fractional amounts, an event outside the window) is
//! listed in [`KiotVietDelivery::ignored`] with its path, and the rest still counts.
//!
//! The signature carries no timestamp, so the window is checked against each invoice's
//! own time: its `ModifiedDate` (else `PurchaseDate`). KiotViet retries failed
//! deliveries with the same body, so pick a tolerance that covers its retries; replays
//! inside it are harmless because every order is keyed by its invoice code.
//!
//! `Action` carries the retailer's id after the event type (`invoice.update.500123`,
//! as KiotViet's own WordPress plugin reads it): notifications are matched on their
//! entity and method only.
//!
//! Unlike the generic format, unknown fields are ignored: KiotViet adds fields to its
//! payloads.

mod customer;
mod invoice;
mod list;

pub use list::{format_since, parse_invoice_list};

use crate::signature::{any_matches, check_window};
use crate::{BrandContext, Secret, VerifiedEvent, WebhookError};
use base64::Engine as _;
use regulars_ports::{Ignored, IgnoredReason};
use serde::Deserialize;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

/// The `source` of events and the [`EventKey`](regulars_domain::EventKey) source of
/// their orders and refunds.
pub const SOURCE: &str = "pos:kiotviet";

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature";

/// An invoice was created or changed (its `Action` is `invoice.update`, usually
/// followed by `.<retailer id>`): completed and cancelled ones are counted.
pub const INVOICE_UPDATE: (&str, &str) = ("invoice", "update");

/// A customer was created or changed (`customer.update`): its `ContactNumber` links its
/// `Code`, which invoices name, to a phone number.
pub const CUSTOMER_UPDATE: (&str, &str) = ("customer", "update");

/// Invoice status "Hoàn thành" (completed): the invoice becomes an order.
pub const STATUS_COMPLETED: u8 = 1;
/// Invoice status "Đã hủy" (cancelled): the invoice becomes a full refund.
pub const STATUS_CANCELLED: u8 = 2;

/// One authenticated KiotViet delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KiotVietDelivery {
    /// KiotViet's id of the notification (`Id`); the same on every retry. Empty when
    /// the body has none (a removal notice, a malformed body).
    pub delivery_id: String,
    /// Which attempt this is (`Attempt`), 1 for the first (and when absent).
    pub attempt: i64,
    /// The invoices that became orders or refunds, in payload order. Each event id is
    /// `"{delivery_id}/{invoice Id}"`.
    pub events: Vec<VerifiedEvent>,
    /// What was acknowledged without becoming an event, with where and why.
    pub ignored: Vec<Ignored>,
}

/// The HMAC keys a registered webhook secret may stand for: its text's bytes and, when
/// the text is base64 (KiotViet's guide has the secret base64-encoded before it is
/// registered), the bytes it encodes. The guide does not say which one KiotViet signs
/// with, and a wrong guess would switch the webhook off at the first delivery.
pub fn keys(registered: &[u8]) -> Vec<Secret> {
    let mut keys = vec![Secret::new(registered.to_vec())];
    let text = registered.trim_ascii();
    if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(text)
        && !decoded.is_empty()
        && decoded != registered
    {
        keys.push(Secret::new(decoded));
    }
    keys
}

/// Authenticates a KiotViet delivery and maps its invoices into orders and refunds.
///
/// `secrets` are the HMAC keys to try (see [`keys`]). Fails only when the signature is
/// missing, unreadable or matches under none of them; an authentic body always gives a
/// [`KiotVietDelivery`], whose `ignored` lists what could not be used, including
/// invoices dated more than `tolerance` from `now`.
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
    let mut delivery = parse(body, brand);
    let (fresh, out_of_window): (Vec<_>, Vec<_>) = delivery
        .events
        .into_iter()
        .map(
            |event| match check_window(event.occurred_at, now, tolerance) {
                Ok(()) => Ok(event),
                Err(e) => Err(Ignored {
                    reason: IgnoredReason::OutOfWindow,
                    path: event.event_id.clone(),
                    detail: e.to_string(),
                }),
            },
        )
        .partition(Result::is_ok);
    delivery.events = fresh.into_iter().filter_map(Result::ok).collect();
    delivery
        .ignored
        .extend(out_of_window.into_iter().filter_map(Result::err));
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

/// The entity and method of a notification's `Action`: `invoice.update.500123` →
/// `("invoice", "update")`. Compared without regard to case.
pub fn action_kind(action: &str) -> (String, String) {
    let mut parts = action.trim().split('.');
    let entity = parts.next().unwrap_or_default().to_ascii_lowercase();
    let method = parts.next().unwrap_or_default().to_ascii_lowercase();
    (entity, method)
}

/// Maps an already authenticated body, without looking at any signature or time
/// window. Never fails: what cannot be used is listed in `ignored`.
pub fn parse(body: &[u8], brand: &BrandContext) -> KiotVietDelivery {
    let mut delivery = KiotVietDelivery {
        delivery_id: String::new(),
        attempt: 1,
        events: Vec::new(),
        ignored: Vec::new(),
    };
    let envelope: Envelope =
        match serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(body)) {
            Ok(envelope) => envelope,
            Err(e) => {
                delivery.ignored.push(unreadable_body(body, &e));
                return delivery;
            }
        };
    delivery.delivery_id = envelope.id;
    delivery.attempt = envelope.attempt.unwrap_or(1);
    for (n, notification) in envelope.notifications.into_iter().enumerate() {
        let at = format!("Notifications[{n}]");
        read_notification(notification, &at, brand, &mut delivery);
    }
    delivery
}

/// Why a body that is not an envelope was not used: a removal notice
/// (`{"RemoveId":[…]}`, which KiotViet documents for `*.delete` hooks), or malformed.
fn unreadable_body(body: &[u8], error: &serde_path_to_error::Error<serde_json::Error>) -> Ignored {
    let removal = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("RemoveId").cloned());
    match removal {
        Some(ids) => Ignored {
            reason: IgnoredReason::Removal,
            path: "RemoveId".to_owned(),
            detail: format!("a removal notice for {ids}; nothing to count"),
        },
        None => Ignored {
            reason: IgnoredReason::Malformed,
            path: error.path().to_string(),
            detail: error.inner().to_string(),
        },
    }
}

fn read_notification(
    notification: Value,
    at: &str,
    brand: &BrandContext,
    delivery: &mut KiotVietDelivery,
) {
    let notification: Notification = match serde_path_to_error::deserialize(notification) {
        Ok(n) => n,
        Err(e) => {
            delivery.ignored.push(Ignored {
                reason: IgnoredReason::Malformed,
                path: join(at, &e.path().to_string()),
                detail: e.into_inner().to_string(),
            });
            return;
        }
    };
    let (entity, method) = action_kind(&notification.action);
    let action_path = format!("{at}.Action");
    let kind = (entity.as_str(), method.as_str());
    if kind != INVOICE_UPDATE && kind != CUSTOMER_UPDATE {
        let (reason, detail) = if method == "delete" {
            (
                IgnoredReason::Removal,
                format!(
                    "{:?} is a removal notice; nothing to count",
                    notification.action
                ),
            )
        } else {
            (
                IgnoredReason::UnknownAction,
                format!(
                    "{:?} is neither an invoice nor a customer update",
                    notification.action
                ),
            )
        };
        delivery.ignored.push(Ignored {
            reason,
            path: action_path,
            detail,
        });
        return;
    }
    for (d, data) in notification.data.into_iter().enumerate() {
        let path = format!("{at}.Data[{d}]");
        let read = if kind == CUSTOMER_UPDATE {
            customer::read(data, &path, &delivery.delivery_id, brand)
        } else {
            invoice::read(data, &path, &delivery.delivery_id, brand)
        };
        match read {
            Ok(event) => delivery.events.push(event),
            Err(ignored) => delivery.ignored.push(ignored),
        }
    }
}

/// `prefix` joined with a serde path (`.` is the root).
pub(crate) fn join(prefix: &str, path: &str) -> String {
    match path {
        "." | "" => prefix.to_owned(),
        p => format!("{prefix}.{p}"),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Envelope {
    id: String,
    #[serde(default)]
    attempt: Option<i64>,
    notifications: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Notification {
    action: String,
    #[serde(default)]
    data: Vec<Value>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn actions_match_on_entity_and_method() {
        for action in [
            "invoice.update",
            "invoice.update.500123",
            "Invoice.Update.500123",
            " invoice.update.1.2 ",
        ] {
            let (e, m) = action_kind(action);
            assert_eq!((e.as_str(), m.as_str()), INVOICE_UPDATE, "{action}");
        }
        for action in [
            "invoice",
            "invoice.delete.1",
            "invoices.update",
            "",
            "customer.update.9",
        ] {
            let (e, m) = action_kind(action);
            assert_ne!((e.as_str(), m.as_str()), INVOICE_UPDATE, "{action}");
        }
    }

    #[test]
    fn both_readings_of_the_secret() {
        let keys = keys(b"c2VjcmV0LWtpb3R2aWV0");
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].as_bytes(), b"c2VjcmV0LWtpb3R2aWV0");
        assert_eq!(keys[1].as_bytes(), b"secret-kiotviet");
        // Not base64: the text only.
        assert_eq!(super::keys(b"not base64!").len(), 1);
    }
}
