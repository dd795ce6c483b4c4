//! The POS webhook port: turning a signed delivery into a domain event.
//!
//! The HTTP adapter receives the bytes; a POS adapter knows each vendor's payload and
//! signature scheme. This trait is where they meet, so neither adapter depends on the
//! other.

use crate::IntegrationKind;
use regulars_domain::{BrandId, CallingCode, Currency, Order, Phone, Refund};
use time::{OffsetDateTime, UtcOffset};

/// An order or a refund that came in from a POS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PosEvent {
    /// A paid order.
    Order(Order),
    /// A refund of an earlier order.
    Refund(Refund),
    /// The POS's customer `customer_ref` has this phone number (KiotViet's
    /// `customer.update`): its orders earn for that phone from now on, and the ones kept
    /// waiting for it are credited.
    CustomerContact {
        /// The POS's own customer reference (KiotViet's customer `Code`).
        customer_ref: String,
        /// The customer's phone number.
        phone: Phone,
    },
}

/// An authenticated event, mapped into domain types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEvent {
    /// The sender's id for this event, remembered to refuse replays.
    pub event_id: String,
    /// When the sender says the event happened.
    pub occurred_at: OffsetDateTime,
    /// Which dialect read it (`"pos:generic"`, `"pos:kiotviet"`).
    pub source: &'static str,
    /// The POS's own customer reference, when the payload names a customer without a
    /// phone number (KiotViet's `CustomerCode`).
    pub customer_ref: Option<String>,
    /// What happened.
    pub event: PosEvent,
}

/// Why an authentic part of a delivery was acknowledged without becoming an event.
///
/// Some POS systems switch a webhook off for good after one 4xx answer (KiotViet after
/// 400, 401, 403, 404 or 405), so their deliveries are refused only for a bad signature;
/// everything else they send is acknowledged, and what could not be used is reported
/// with one of these reasons, to be logged and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IgnoredReason {
    /// The body, or a part of it, is not the shape the dialect documents.
    Malformed,
    /// A notification type this server does not handle.
    UnknownAction,
    /// A removal notice (`*.delete`): nothing to count.
    Removal,
    /// A record in a state that is neither final nor cancelled (in progress, say): it is
    /// handled when it reaches one of those.
    NotFinal,
    /// A record that cannot become an order or refund (fractional quantity or amount,
    /// no lines, an unreadable date).
    Unusable,
    /// The event's own time lies outside the accepted window.
    OutOfWindow,
}

impl IgnoredReason {
    /// The reason as a short label, for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            IgnoredReason::Malformed => "malformed",
            IgnoredReason::UnknownAction => "unknown_action",
            IgnoredReason::Removal => "removal",
            IgnoredReason::NotFinal => "not_final",
            IgnoredReason::Unusable => "unusable",
            IgnoredReason::OutOfWindow => "out_of_window",
        }
    }
}

/// An authentic part of a delivery that did not become an event, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// The kind of problem.
    pub reason: IgnoredReason,
    /// Where in the payload (a JSON path such as `Notifications[0].Data[1].Status`, `.`
    /// for the whole body).
    pub path: String,
    /// What was found there, in words.
    pub detail: String,
}

/// What an authenticated delivery holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decoded {
    /// The orders and refunds to count, in payload order.
    pub events: Vec<VerifiedEvent>,
    /// What was acknowledged without being counted.
    pub ignored: Vec<Ignored>,
    /// Authentic events that name their order only by reference, to be fetched through
    /// the POS's API ([`PosApi::complete`](crate::PosApi::complete)).
    pub pending: Vec<crate::Pending>,
}

/// One webhook delivery as received.
#[derive(Debug, Clone, Copy)]
pub struct WebhookDelivery<'a> {
    /// The integration's dialect.
    pub kind: IntegrationKind,
    /// Request headers (names in lower case).
    pub headers: &'a [(String, String)],
    /// The raw body, exactly as received: signatures cover these bytes.
    pub body: &'a [u8],
    /// The integration's secret.
    pub secret: &'a [u8],
    /// The credentials of the POS's own API, when the integration has them (Square's
    /// notification URL, which its signature covers, is among them).
    pub access: Option<&'a crate::PosApiAccess>,
    /// The brand the events belong to.
    pub brand: BrandId,
    /// The brand's currency, for amounts given as bare numbers.
    pub currency: Currency,
    /// The brand's calling code, for national phone numbers.
    pub calling_code: CallingCode,
    /// The brand's UTC offset, for local times sent without one (KiotViet's).
    pub utc_offset: UtcOffset,
    /// The time now, for the replay window.
    pub now: OffsetDateTime,
}

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The signature is missing, malformed or wrong.
    #[error("signature: {0}")]
    Signature(String),
    /// The delivery's timestamp is outside the accepted window.
    #[error("timestamp: {0}")]
    Stale(String),
    /// The payload is not what the dialect documents.
    #[error("{field}: {message}")]
    Invalid {
        /// Where in the payload (a JSON path or a header name).
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// Verifies and decodes webhook deliveries, and reads orders posted directly through
/// the API in the generic format.
pub trait WebhookDecoder: Send + Sync {
    /// Checks the delivery's signature and time window, then decodes it into its events:
    /// none for an event type with nothing to count (acknowledged and ignored), several
    /// when the dialect batches them (KiotViet sends several invoices in one delivery).
    ///
    /// Which problems are errors depends on the dialect: the generic one refuses stale
    /// or invalid deliveries; KiotViet's is refused only for its signature, and anything
    /// else it cannot use is listed in [`Decoded::ignored`].
    fn decode(&self, delivery: &WebhookDelivery<'_>) -> Result<Decoded, WebhookError>;

    /// Reads an order in the generic format (the `data` of an `order.paid` event),
    /// without any signature: the caller authenticated the request otherwise.
    fn generic_order(
        &self,
        body: &[u8],
        brand: BrandId,
        currency: Currency,
        calling_code: CallingCode,
    ) -> Result<Order, WebhookError>;

    /// Reads a refund in the generic format (the `data` of an `order.refunded` event).
    fn generic_refund(
        &self,
        body: &[u8],
        brand: BrandId,
        currency: Currency,
    ) -> Result<Refund, WebhookError>;
}
