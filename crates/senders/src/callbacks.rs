//! Delivery-status callbacks: the providers' reports, turned into
//! [`DeliveryUpdate`]s. Pure functions: the HTTP server hands them what it received.
//!
//! * eSMS calls the `CallbackUrl` of a message with an HTTP GET whose query carries
//!   `SMSID`, `SendStatus`, `SendSuccess`, `SendFailed`, `RequestId`, … ([`esms_callback`]).
//!   eSMS signs nothing: anyone who knows the URL can call it, so the route should be
//!   unguessable (a random path segment) and the update treated as a hint.
//! * Zalo posts OA webhook events; `user_received_message` reports that a ZNS message
//!   reached the user's device. Each event is signed in `X-ZEvent-Signature` with
//!   `mac=` + hex SHA-256 of app id + raw body + the body's `timestamp` + the OA secret
//!   key ([`zalo_event`]). A follower's text to the OA comes the same way, signed the
//!   same, as `user_send_text` ([`zalo_provider_event`] takes both).

use regulars_domain::Channel;
use regulars_ports::{DeliveryStatus, DeliveryUpdate, InboundText, ProviderEvent};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;
use time::OffsetDateTime;

/// Why a callback could not be turned into an update.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CallbackError {
    /// The signature header is missing.
    #[error("missing {0} header")]
    MissingSignature(&'static str),
    /// The signature does not match the body and secret.
    #[error("signature does not match")]
    BadSignature,
    /// The request is not what the provider sends.
    #[error("malformed callback: {0}")]
    Malformed(String),
    /// A well-formed event that is not a delivery report (Zalo sends many kinds).
    #[error("not a delivery report: {0}")]
    NotADeliveryReport(String),
    /// A signed event whose timestamp is missing or further than [`ZALO_EVENT_WINDOW`]
    /// from the time it arrived: a captured event replayed later is not taken.
    #[error("event timestamp {0:?} is missing or outside the accepted window")]
    Stale(String),
    /// A report of a state that is not final (eSMS: pending approval, waiting, sent to
    /// the network and waiting for its report).
    #[error("status {0} is not final")]
    NotFinal(String),
}

/// eSMS's `SendStatus` values, from its callback documentation.
const ESMS_REJECTED: &str = "4";
const ESMS_SENT: &str = "5";

/// How far a Zalo event's signed `timestamp` may be from the time it arrives, either
/// way (the provider's delays and clock skew): older events are refused as replays.
pub const ZALO_EVENT_WINDOW: time::Duration = time::Duration::minutes(15);

/// Parses an eSMS status callback from its query string (without the leading `?`).
///
/// `SendStatus` 5 ("sent successfully") with `SendSuccess` ≥ 1 is [`Delivered`]; 5 with
/// no success and `SendFailed` ≥ 1, or 4 ("rejected"), is [`Failed`]; 1, 2 and 7 are
/// not final ([`CallbackError::NotFinal`]), and so is a 5 that counts neither a success
/// nor a failure. eSMS gives no time in the callback, so `at`
/// is `received_at`. `RequestId`, when not empty, is the message's dedupe key.
///
/// [`Delivered`]: DeliveryStatus::Delivered
/// [`Failed`]: DeliveryStatus::Failed
///
/// # Errors
///
/// [`CallbackError::Malformed`] without `SMSID` or `SendStatus`, and
/// [`CallbackError::NotFinal`] for an intermediate status.
///
/// ```
/// use regulars_senders::callbacks::esms_callback;
/// use regulars_ports::DeliveryStatus;
/// use time::OffsetDateTime;
/// let q = "SMSID=abc&SendFailed=0&SendStatus=5&SendSuccess=1&RequestId=msg-1&TypeId=2";
/// let update = esms_callback(q, OffsetDateTime::UNIX_EPOCH).unwrap();
/// assert_eq!(update.provider_message_id, "abc");
/// assert_eq!(update.dedupe_key.as_deref(), Some("msg-1"));
/// assert_eq!(update.status, DeliveryStatus::Delivered);
/// ```
pub fn esms_callback(
    query: &str,
    received_at: OffsetDateTime,
) -> Result<DeliveryUpdate, CallbackError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.trim_start_matches('?'))
        .map_err(|e| CallbackError::Malformed(format!("query: {e}")))?;
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    let count = |name: &str| get(name).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let smsid = get("SMSID").ok_or_else(|| CallbackError::Malformed("no SMSID".into()))?;
    let status =
        get("SendStatus").ok_or_else(|| CallbackError::Malformed("no SendStatus".into()))?;
    let status = match status {
        ESMS_SENT if count("SendSuccess") > 0 => DeliveryStatus::Delivered,
        ESMS_SENT if count("SendFailed") > 0 => DeliveryStatus::Failed {
            reason: "eSMS: the network reported the message as failed".to_owned(),
        },
        ESMS_REJECTED => DeliveryStatus::Failed {
            reason: "eSMS: the message was rejected".to_owned(),
        },
        ESMS_SENT => {
            return Err(CallbackError::NotFinal(format!(
                "{ESMS_SENT} (neither SendSuccess nor SendFailed counted)"
            )));
        }
        other => return Err(CallbackError::NotFinal(other.to_owned())),
    };
    Ok(DeliveryUpdate {
        channel: Channel::Sms,
        provider_message_id: smsid.to_owned(),
        dedupe_key: get("RequestId").map(str::to_owned),
        status,
        at: received_at,
    })
}

/// The header carrying the signature of a Zalo webhook event.
pub const ZALO_SIGNATURE_HEADER: &str = "X-ZEvent-Signature";

#[derive(Deserialize)]
struct ZaloEvent {
    event_name: String,
    #[serde(default, deserialize_with = "string_or_number")]
    timestamp: Option<String>,
    message: Option<ZaloEventMessage>,
    sender: Option<ZaloEventParty>,
}

#[derive(Deserialize)]
struct ZaloEventParty {
    #[serde(default, deserialize_with = "string_or_number")]
    id: Option<String>,
}

#[derive(Deserialize, Default)]
struct ZaloEventMessage {
    #[serde(default, deserialize_with = "string_or_number")]
    msg_id: Option<String>,
    text: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    delivery_time: Option<String>,
    tracking_id: Option<String>,
}

fn string_or_number<'de, D>(d: D) -> Result<Option<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// The expected `X-ZEvent-Signature` value for a body: `mac=` + hex SHA-256 of
/// `app_id + body + timestamp + oa_secret_key`.
///
/// ```
/// use regulars_senders::callbacks::zalo_signature;
/// let sig = zalo_signature("123", br#"{"timestamp":"1"}"#, "1", "secret");
/// assert!(sig.starts_with("mac=") && sig.len() == 4 + 64);
/// ```
#[must_use]
pub fn zalo_signature(app_id: &str, body: &[u8], timestamp: &str, oa_secret_key: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(app_id.as_bytes());
    hash.update(body);
    hash.update(timestamp.as_bytes());
    hash.update(oa_secret_key.as_bytes());
    format!("mac={}", hex::encode(hash.finalize()))
}

/// Verifies and parses a Zalo OA webhook event that reports a ZNS delivery
/// (`event_name` `user_received_message`).
///
/// `headers` are the request's headers (names in any case); `body` the raw body exactly
/// as received (the signature covers its bytes). The signature is checked first, in
/// constant time; it may be given with or without its `mac=` prefix. The update's `at`
/// is the message's `delivery_time` (milliseconds since the epoch), else the event's
/// `timestamp`, else `received_at`; `tracking_id`, when Zalo includes it, is the dedupe
/// key.
///
/// # Errors
///
/// [`CallbackError::MissingSignature`] / [`CallbackError::BadSignature`] before anything
/// else is trusted, [`CallbackError::Stale`] for a signed event whose `timestamp` is
/// more than [`ZALO_EVENT_WINDOW`] away from `received_at` (a replay),
/// [`CallbackError::Malformed`] for a body that is not an event,
/// [`CallbackError::NotADeliveryReport`] for other events.
///
/// ```
/// use regulars_senders::callbacks::{zalo_event, zalo_signature, CallbackError};
/// use time::OffsetDateTime;
/// let body = br#"{"app_id":"1","event_name":"user_received_message","timestamp":"1700000000000",
///   "message":{"msg_id":"m1","delivery_time":"1700000000000","tracking_id":"k1"}}"#;
/// let sig = zalo_signature("1", body, "1700000000000", "oa-secret");
/// let now = OffsetDateTime::from_unix_timestamp(1_700_000_060).unwrap();
/// let update = zalo_event(&[("x-zevent-signature", &sig)], body, "1", "oa-secret", now)
///     .unwrap();
/// assert_eq!(update.provider_message_id, "m1");
/// let forged = zalo_event(&[("X-ZEvent-Signature", "mac=00")], body, "1", "oa-secret", now);
/// assert_eq!(forged, Err(CallbackError::BadSignature));
/// let replayed = zalo_event(&[("x-zevent-signature", &sig)], body, "1", "oa-secret",
///     now + time::Duration::days(1));
/// assert!(matches!(replayed, Err(CallbackError::Stale(_))));
/// ```
pub fn zalo_event(
    headers: &[(&str, &str)],
    body: &[u8],
    app_id: &str,
    oa_secret_key: &str,
    received_at: OffsetDateTime,
) -> Result<DeliveryUpdate, CallbackError> {
    let (event, _) = verified_zalo_event(headers, body, app_id, oa_secret_key, received_at)?;
    if event.event_name != "user_received_message" {
        return Err(CallbackError::NotADeliveryReport(event.event_name));
    }
    delivery_report(event, received_at)
}

/// The event a follower's text message to the OA comes as.
const USER_SEND_TEXT: &str = "user_send_text";

/// Verifies and parses a Zalo OA webhook event that is either a ZNS delivery report
/// (`user_received_message`, as [`zalo_event`]) or a follower's text to the OA
/// (`user_send_text`: `sender.id` is the user id at the OA, `message.text` the text,
/// `message.msg_id` the event's id, else its `timestamp`).
///
/// # Errors
///
/// As [`zalo_event`]; a `user_send_text` without `sender.id` is
/// [`CallbackError::Malformed`], one without text (a sticker, a photo) is
/// [`CallbackError::NotADeliveryReport`] like every other event.
pub fn zalo_provider_event(
    headers: &[(&str, &str)],
    body: &[u8],
    app_id: &str,
    oa_secret_key: &str,
    received_at: OffsetDateTime,
) -> Result<ProviderEvent, CallbackError> {
    let (event, sent_at) = verified_zalo_event(headers, body, app_id, oa_secret_key, received_at)?;
    match event.event_name.as_str() {
        "user_received_message" => delivery_report(event, received_at).map(ProviderEvent::Report),
        USER_SEND_TEXT => follower_text(event, sent_at).map(ProviderEvent::Text),
        _ => Err(CallbackError::NotADeliveryReport(event.event_name)),
    }
}

/// The event of a body whose signature is right and whose signed time is recent, with
/// that time.
fn verified_zalo_event(
    headers: &[(&str, &str)],
    body: &[u8],
    app_id: &str,
    oa_secret_key: &str,
    received_at: OffsetDateTime,
) -> Result<(ZaloEvent, OffsetDateTime), CallbackError> {
    let supplied = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(ZALO_SIGNATURE_HEADER))
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
        .ok_or(CallbackError::MissingSignature(ZALO_SIGNATURE_HEADER))?;
    // The timestamp is inside the signed body: read it before trusting anything else.
    let event: ZaloEvent =
        serde_json::from_slice(body).map_err(|e| CallbackError::Malformed(format!("body: {e}")))?;
    let timestamp = event.timestamp.clone().unwrap_or_default();
    let expected = zalo_signature(app_id, body, &timestamp, oa_secret_key);
    let supplied_hex = supplied
        .strip_prefix("mac=")
        .unwrap_or(supplied)
        .to_ascii_lowercase();
    let expected_hex = expected.trim_start_matches("mac=");
    if !bool::from(supplied_hex.as_bytes().ct_eq(expected_hex.as_bytes())) {
        return Err(CallbackError::BadSignature);
    }
    let sent_at = event.timestamp.as_deref().and_then(from_millis);
    let Some(sent_at) = sent_at.filter(|at| (received_at - *at).abs() <= ZALO_EVENT_WINDOW) else {
        return Err(CallbackError::Stale(timestamp));
    };
    Ok((event, sent_at))
}

fn delivery_report(
    event: ZaloEvent,
    received_at: OffsetDateTime,
) -> Result<DeliveryUpdate, CallbackError> {
    let message = event
        .message
        .ok_or_else(|| CallbackError::Malformed("no message".into()))?;
    let msg_id = message
        .msg_id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| CallbackError::Malformed("no message.msg_id".into()))?;
    let at = message
        .delivery_time
        .as_deref()
        .or(event.timestamp.as_deref())
        .and_then(from_millis)
        .unwrap_or(received_at);
    Ok(DeliveryUpdate {
        channel: Channel::Zalo,
        provider_message_id: msg_id,
        dedupe_key: message.tracking_id.filter(|t| !t.is_empty()),
        status: DeliveryStatus::Delivered,
        at,
    })
}

fn follower_text(event: ZaloEvent, sent_at: OffsetDateTime) -> Result<InboundText, CallbackError> {
    let timestamp = event.timestamp.clone().unwrap_or_default();
    let sender = event
        .sender
        .and_then(|s| s.id)
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| CallbackError::Malformed("no sender.id".into()))?;
    let message = event.message.unwrap_or_default();
    let Some(text) = message.text else {
        return Err(CallbackError::NotADeliveryReport(
            "user_send_text without text".into(),
        ));
    };
    Ok(InboundText {
        channel: Channel::Zalo,
        sender: sender.trim().to_owned(),
        text,
        event_id: message
            .msg_id
            .filter(|id| !id.is_empty())
            .unwrap_or(timestamp),
        at: sent_at,
    })
}

fn from_millis(text: &str) -> Option<OffsetDateTime> {
    let millis: i128 = text.trim().parse().ok()?;
    OffsetDateTime::from_unix_timestamp_nanos(millis.checked_mul(1_000_000)?).ok()
}
