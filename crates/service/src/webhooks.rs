//! POS webhooks after their signature was checked: refuse replays, count the event.
//!
//! Each delivery's event id is remembered (per integration) with its outcome. A second
//! delivery of the same event id gets that outcome back, marked replayed, and changes
//! nothing; that covers a vendor's retries and an attacker re-sending a captured request
//! inside the timestamp window alike. The order or refund itself is idempotent on its
//! own key too, so the same order sent under two event ids is still counted once.

use crate::access::WebhookEndpoint;
use crate::error::{ErrorClass, UseCaseError, store_class};
use crate::{IngestError, OrderReceipt, RefundError, RefundReceipt, Services};
use regulars_domain::{BrandId, EventKey};
use regulars_ports::{IdempotentRecord, PosEvent, StoreError, Transaction, VerifiedEvent};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The idempotency kind under which webhook outcomes are remembered.
pub const WEBHOOK_EVENT: &str = "webhook";

/// What became of a webhook event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum WebhookOutcome {
    /// An order, counted now or before (`receipt.duplicate`).
    Order {
        /// Its receipt.
        receipt: OrderReceipt,
    },
    /// A refund, applied now or before.
    Refund {
        /// Its receipt.
        receipt: RefundReceipt,
    },
}

/// A webhook event's outcome, and whether this delivery was a replay of its event id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookReceipt {
    /// The outcome (the first delivery's, for a replay).
    pub outcome: WebhookOutcome,
    /// Whether the event id had been received before.
    pub replayed: bool,
}

/// Why a verified webhook event could not be counted.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum WebhookError {
    /// The order was refused.
    #[error(transparent)]
    Order(IngestError),
    /// The refund was refused.
    #[error(transparent)]
    Refund(RefundError),
    /// The event's order or refund names another brand.
    #[error("the event belongs to another brand")]
    WrongBrand,
    /// The event id is empty or longer than 128 bytes.
    #[error("event id must be 1 to 128 bytes")]
    BadEventId,
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for WebhookError {
    fn from(error: StoreError) -> Self {
        WebhookError::Store(error)
    }
}

impl UseCaseError for WebhookError {
    fn class(&self) -> ErrorClass {
        match self {
            WebhookError::Order(e) => e.class(),
            WebhookError::Refund(e) => e.class(),
            WebhookError::WrongBrand | WebhookError::BadEventId => ErrorClass::Invalid,
            WebhookError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            WebhookError::Order(e) => e.field(),
            WebhookError::Refund(e) => e.field(),
            WebhookError::WrongBrand => Some("brand"),
            WebhookError::BadEventId => Some("event_id"),
            WebhookError::Store(_) => None,
        }
    }
}

impl Services {
    /// Counts a verified webhook event once per event id (see the module docs), in one
    /// transaction: the event id is looked up, the order or refund applied and the
    /// outcome remembered together, so a crash leaves either all of it or none.
    pub async fn receive_webhook(
        &self,
        endpoint: &WebhookEndpoint,
        event: VerifiedEvent,
    ) -> Result<WebhookReceipt, WebhookError> {
        let brand = endpoint.brand;
        let key = EventKey::new(format!("webhook:{}", endpoint.integration), &event.event_id)
            .map_err(|_| WebhookError::BadEventId)?;
        // Refusals that need no storage come first, as in the use cases themselves.
        let refund_key = match &event.event {
            PosEvent::Order(order) => {
                if order.brand_id != brand {
                    return Err(WebhookError::WrongBrand);
                }
                self.check_order(brand, order)
                    .map_err(WebhookError::Order)?;
                None
            }
            PosEvent::Refund(refund) => {
                if refund.brand_id != brand {
                    return Err(WebhookError::WrongBrand);
                }
                Some(
                    self.check_refund(brand, refund)
                        .map_err(WebhookError::Refund)?,
                )
            }
        };
        let (key, event, refund_key) = (&key, &event, &refund_key);
        self.transact("receive_webhook", |mut tx| async move {
            let result = self
                .receive_in(tx.as_mut(), brand, key, &event.event, refund_key.as_ref())
                .await;
            (tx, result)
        })
        .await
    }

    async fn receive_in(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        key: &EventKey,
        event: &PosEvent,
        refund_key: Option<&EventKey>,
    ) -> Result<WebhookReceipt, WebhookError> {
        if let Some(record) = tx.idempotency().seen(brand, key).await? {
            let outcome = serde_json::from_value(record.result)
                .map_err(|e| StoreError::Corrupt(format!("webhook outcome: {e}")))?;
            return Ok(WebhookReceipt {
                outcome,
                replayed: true,
            });
        }
        let outcome = match (event, refund_key) {
            (PosEvent::Order(order), _) => WebhookOutcome::Order {
                receipt: self
                    .ingest_in(tx, brand, order)
                    .await
                    .map_err(WebhookError::Order)?,
            },
            (PosEvent::Refund(refund), Some(refund_key)) => WebhookOutcome::Refund {
                receipt: self
                    .refund_in(tx, brand, refund, refund_key)
                    .await
                    .map_err(WebhookError::Refund)?,
            },
            (PosEvent::Refund(_), None) => {
                return Err(StoreError::Other("a refund without its key".into()).into());
            }
        };
        let record = IdempotentRecord {
            kind: WEBHOOK_EVENT.into(),
            result: serde_json::to_value(&outcome)
                .map_err(|e| StoreError::Other(format!("encoding a webhook outcome: {e}")))?,
        };
        // A concurrent delivery of the same event that committed first makes this a
        // conflict: the transaction runs again and finds it above.
        tx.idempotency().remember(brand, key, &record).await?;
        Ok(WebhookReceipt {
            outcome,
            replayed: false,
        })
    }

    /// Whether storage answers: a transaction can be begun and rolled back.
    pub async fn ready(&self) -> Result<(), StoreError> {
        let tx = self.uow.begin().await?;
        tx.rollback().await
    }
}
