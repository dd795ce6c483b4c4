//! The POS webhook port: turning a signed delivery into a domain event.
//!
//! The HTTP adapter receives the bytes; a POS adapter knows each vendor's payload and
//! signature scheme. This trait is where they meet, so neither adapter depends on the
//! other.

use crate::IntegrationKind;
use regulars_domain::{BrandId, CallingCode, Currency, Order, Refund};
use time::OffsetDateTime;

/// An order or a refund that came in from a POS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PosEvent {
    /// A paid order.
    Order(Order),
    /// A refund of an earlier order.
    Refund(Refund),
}

/// A delivery whose signature and timestamp were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEvent {
    /// The sender's id for this delivery, remembered to refuse replays.
    pub event_id: String,
    /// When the sender says the event happened.
    pub occurred_at: OffsetDateTime,
    /// What happened.
    pub event: PosEvent,
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
    /// The brand the events belong to.
    pub brand: BrandId,
    /// The brand's currency, for amounts given as bare numbers.
    pub currency: Currency,
    /// The brand's calling code, for national phone numbers.
    pub calling_code: CallingCode,
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
    fn decode(&self, delivery: &WebhookDelivery<'_>) -> Result<Vec<VerifiedEvent>, WebhookError>;

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
