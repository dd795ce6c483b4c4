//! The POS API port: what a webhook names only by reference (a Square order id, a
//! KiotViet customer code) fetched from the POS's own API with the integration's
//! credentials.

use crate::webhooks::{Ignored, VerifiedEvent, WebhookDelivery};
use async_trait::async_trait;
use regulars_domain::Phone;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

/// The credentials of a POS's own API, kept sealed with the integration and never shown
/// again once given.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PosApiAccess {
    /// Square: an access token for the Orders and Customers APIs, and the notification
    /// URL exactly as configured in the webhook subscription (Square signs it along with
    /// the body, so it must be the public one, not what a proxy forwards to).
    Square {
        /// `Authorization: Bearer …` for Square's APIs.
        access_token: String,
        /// The subscription's notification URL, byte for byte.
        notification_url: String,
    },
    /// KiotViet Public API: the shop's name (the `Retailer` header) and the OAuth client
    /// credentials from *Thiết lập kết nối API*.
    Kiotviet {
        /// The retailer (shop) name.
        retailer: String,
        /// The OAuth client id.
        client_id: String,
        /// The OAuth client secret.
        client_secret: String,
    },
}

impl fmt::Debug for PosApiAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PosApiAccess::Square {
                notification_url, ..
            } => f
                .debug_struct("Square")
                .field("notification_url", notification_url)
                .finish_non_exhaustive(),
            PosApiAccess::Kiotviet {
                retailer,
                client_id,
                ..
            } => f
                .debug_struct("Kiotviet")
                .field("retailer", retailer)
                .field("client_id", client_id)
                .finish_non_exhaustive(),
        }
    }
}

/// An authentic event that names what happened only by reference: it becomes an event
/// once the POS's API is asked (Square's `order.updated` carries an order id and state,
/// never the lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The sender's id for the event, remembered to refuse replays.
    pub event_id: String,
    /// When the sender says the event happened.
    pub occurred_at: OffsetDateTime,
    /// Where in the payload the reference was read (a JSON path), for what is ignored.
    pub path: String,
    /// The dialect's own reference (a Square order id), read back by the adapter that
    /// made it.
    pub reference: String,
}

/// Why the POS's API could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PosApiError {
    /// Unreachable, too slow, rate limited or failing (5xx): try the delivery again later.
    #[error("the POS API is unavailable: {0}")]
    Unavailable(String),
    /// The credentials are missing, wrong or lack a permission, or the answer is not the
    /// documented shape: retrying will not help until someone fixes the integration.
    #[error("the POS API refused: {0}")]
    Refused(String),
}

/// Asks a POS's own API for what its webhooks leave out.
#[async_trait]
pub trait PosApi: Send + Sync {
    /// Fetches what `pending` refers to and reads it into an event of the delivery's
    /// brand, or says why the authentic event counts for nothing (an order still open,
    /// say). `delivery.access` holds the credentials.
    async fn complete(
        &self,
        delivery: &WebhookDelivery<'_>,
        pending: &Pending,
    ) -> Result<Result<VerifiedEvent, Ignored>, PosApiError>;

    /// The phone number of the POS's customer `customer_ref` (a KiotViet customer
    /// code), `None` when the POS knows the customer but no usable number.
    async fn customer_phone(
        &self,
        delivery: &WebhookDelivery<'_>,
        customer_ref: &str,
    ) -> Result<Option<Phone>, PosApiError>;

    /// One page of the POS's invoices changed at or after `since`, oldest change
    /// first, starting at item `current_item` of that list; each invoice read as its
    /// webhook would be. For POS systems without an invoice webhook (KiotViet FnB).
    async fn invoices_since(
        &self,
        delivery: &WebhookDelivery<'_>,
        since: OffsetDateTime,
        current_item: u64,
    ) -> Result<crate::InvoicePage, PosApiError> {
        let _ = (since, current_item);
        Err(PosApiError::Refused(format!(
            "a {} integration has no invoice list to poll",
            delivery.kind.as_str()
        )))
    }
}
