//! POS webhooks after their signature was checked: refuse replays, count the event.
//!
//! Each delivery's event id is remembered (per integration) with its outcome. A second
//! delivery of the same event id gets that outcome back, marked replayed, and changes
//! nothing; that covers a vendor's retries and an attacker re-sending a captured request
//! inside the timestamp window alike. The order or refund itself is idempotent on its
//! own key too, so the same order sent under two event ids is still counted once.
//!
//! Order and refund keys are scoped by the integration that sent them (the source
//! `pos:generic` becomes `pos:generic:<integration id>`): two POS systems, or two shops
//! each with its own integration, that number their receipts independently never answer
//! each other's orders, and a refund reaches the order of its own integration. Orders
//! counted before keys were scoped keep their stored key; a refund whose order is not
//! found under the scoped key looks there, and an order sent again (under a new event
//! id) whose unscoped record matches it exactly is answered that record's receipt.

use crate::access::WebhookEndpoint;
use crate::error::{ErrorClass, UseCaseError, store_class};
use crate::fingerprint::fingerprint;
use crate::ingest::{Delivered, PreLock, first_receipt};
use crate::{IngestError, OrderReceipt, RefundError, RefundReceipt, Services};
use regulars_domain::{BrandId, Customer, EventKey, IntegrationId, Order, Phone};
use regulars_ports::{IdempotentRecord, PosEvent, StoreError, Transaction, VerifiedEvent};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::sync::Arc;
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
    /// An order of a POS customer whose phone number is not known yet: kept, and
    /// credited when the POS links the customer to a phone.
    Waiting {
        /// The POS's customer reference it waits for.
        customer_ref: String,
    },
    /// The cancellation of an order that was still waiting: it will never be credited.
    WaitingDropped {
        /// The order's key.
        order: EventKey,
    },
    /// A POS customer linked to a phone number; the orders that waited for it were
    /// credited now.
    CustomerLinked {
        /// The POS's customer reference.
        customer_ref: String,
        /// The receipts of the orders credited, oldest first.
        credited: Vec<OrderReceipt>,
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

    fn code(&self) -> Option<&'static str> {
        match self {
            WebhookError::Order(e) => e.code(),
            WebhookError::Refund(e) => e.code(),
            _ => None,
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
        let legacy = legacy_key(&event.event);
        let event = scope_event(event, endpoint.integration)?;
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
            PosEvent::CustomerContact { .. } => None,
        };
        if self.groups.is_some()
            && let PosEvent::Order(order) = &event.event
            && (order.customer_phone.is_some() || event.customer_ref.is_none())
        {
            // An order for a known phone (or none) joins a group; one that waits for a
            // POS customer's link stays alone, its customer not known in advance.
            let work = Arc::new(crate::group::WebhookOrderWork {
                endpoint: endpoint.clone(),
                key,
                event,
                legacy,
            });
            if let Some(result) = self.in_group(&work).await {
                return result;
            }
            let legacy = work.legacy.as_ref();
            return self
                .receive_alone(&work.endpoint, &work.key, &work.event, None, legacy)
                .await;
        }
        self.receive_alone(endpoint, &key, &event, refund_key.as_ref(), legacy.as_ref())
            .await
    }

    /// Receives an event in its own transaction.
    async fn receive_alone(
        &self,
        endpoint: &WebhookEndpoint,
        key: &EventKey,
        event: &VerifiedEvent,
        refund_key: Option<&EventKey>,
        legacy: Option<&EventKey>,
    ) -> Result<WebhookReceipt, WebhookError> {
        self.transact("receive_webhook", |mut tx| async move {
            let result = self
                .receive_in(tx.as_mut(), endpoint, key, event, refund_key, legacy)
                .await;
            (tx, result)
        })
        .await
    }

    pub(crate) async fn receive_in(
        &self,
        tx: &mut dyn Transaction,
        endpoint: &WebhookEndpoint,
        key: &EventKey,
        event: &VerifiedEvent,
        refund_key: Option<&EventKey>,
        legacy: Option<&EventKey>,
    ) -> Result<WebhookReceipt, WebhookError> {
        let brand = endpoint.brand;
        let first = first_reads(tx, brand, key, &event.event, legacy).await?;
        if let Some(record) = first.event {
            let outcome = serde_json::from_value(record.result)
                .map_err(|e| StoreError::Corrupt(format!("webhook outcome: {e}")))?;
            return Ok(WebhookReceipt {
                outcome,
                replayed: true,
            });
        }
        let outcome = match (&event.event, refund_key) {
            (PosEvent::Order(order), _) => {
                let customer_ref = event.customer_ref.as_deref();
                let legacy = legacy.map(|key| LegacySeen {
                    key,
                    scoped: first.order.is_some(),
                    unscoped: first.legacy,
                });
                let mut delivered = Delivered {
                    pre: first.customer.map(|customer| PreLock {
                        seen: first.order,
                        customer,
                    }),
                    event: key,
                    remembered: false,
                };
                let outcome = self
                    .receive_order(tx, endpoint, order, customer_ref, legacy, &mut delivered)
                    .await?;
                if delivered.remembered {
                    // The order's one write remembered the event with it.
                    return Ok(WebhookReceipt {
                        outcome,
                        replayed: false,
                    });
                }
                outcome
            }
            (PosEvent::Refund(refund), Some(refund_key)) => {
                let integration = endpoint.integration;
                if tx
                    .access()
                    .drop_waiting_order(brand, integration, &refund.order)
                    .await?
                {
                    WebhookOutcome::WaitingDropped {
                        order: refund.order.clone(),
                    }
                } else {
                    WebhookOutcome::Refund {
                        receipt: self
                            .refund_in(tx, brand, refund, refund_key, legacy)
                            .await
                            .map_err(WebhookError::Refund)?,
                    }
                }
            }
            (PosEvent::Refund(_), None) => {
                return Err(StoreError::Other("a refund without its key".into()).into());
            }
            (
                PosEvent::CustomerContact {
                    customer_ref,
                    phone,
                },
                _,
            ) => {
                self.link_customer(tx, endpoint, customer_ref, phone)
                    .await?
            }
        };
        let record = outcome_record(&outcome)?;
        // A concurrent delivery of the same event that committed first makes this a
        // conflict: the transaction runs again and finds it above.
        tx.idempotency().remember(brand, key, &record).await?;
        Ok(WebhookReceipt {
            outcome,
            replayed: false,
        })
    }

    /// An order: counted for its phone, or for the phone its POS customer is linked to,
    /// or kept waiting for that link. The same order counted before keys were scoped
    /// (under `legacy`) answers with its first receipt.
    async fn receive_order(
        &self,
        tx: &mut dyn Transaction,
        endpoint: &WebhookEndpoint,
        order: &Order,
        customer_ref: Option<&str>,
        legacy: Option<LegacySeen<'_>>,
        delivered: &mut Delivered<'_>,
    ) -> Result<WebhookOutcome, WebhookError> {
        let (brand, integration) = (endpoint.brand, endpoint.integration);
        if let Some(legacy) = legacy
            && let Some(receipt) = legacy_receipt(tx, brand, order, legacy).await?
        {
            return Ok(WebhookOutcome::Order { receipt });
        }
        let mut order = Cow::Borrowed(order);
        if let (None, Some(customer_ref)) = (&order.customer_phone, customer_ref) {
            let linked = tx
                .access()
                .pos_customer_phone(brand, integration, customer_ref)
                .await?;
            match linked {
                Some(phone) => order.to_mut().customer_phone = Some(phone),
                None => {
                    let now = self.clock.now();
                    tx.access()
                        .keep_waiting_order(brand, integration, customer_ref, &order, now)
                        .await?;
                    return Ok(WebhookOutcome::Waiting {
                        customer_ref: customer_ref.to_owned(),
                    });
                }
            }
        }
        // What was read with the event id holds for the order's own phone only.
        if matches!(order, Cow::Owned(_)) {
            delivered.pre = None;
        }
        Ok(WebhookOutcome::Order {
            receipt: self
                .ingest_with(tx, brand, &order, Some(delivered))
                .await
                .map_err(WebhookError::Order)?,
        })
    }

    /// Links a POS customer to a phone number and credits the orders that waited for it.
    /// Crediting is idempotent: a waiting order is taken once, and counted once by its
    /// own key even if it was counted before under another delivery.
    async fn link_customer(
        &self,
        tx: &mut dyn Transaction,
        endpoint: &WebhookEndpoint,
        customer_ref: &str,
        phone: &Phone,
    ) -> Result<WebhookOutcome, WebhookError> {
        let (brand, integration) = (endpoint.brand, endpoint.integration);
        let now = self.clock.now();
        tx.access()
            .link_pos_customer(brand, integration, customer_ref, phone, now)
            .await?;
        let waiting = tx
            .access()
            .take_waiting_orders(brand, integration, customer_ref)
            .await?;
        let mut credited = Vec::with_capacity(waiting.len());
        for mut order in waiting {
            order.customer_phone = Some(phone.clone());
            credited.push(
                self.ingest_in(tx, brand, &order)
                    .await
                    .map_err(WebhookError::Order)?,
            );
        }
        Ok(WebhookOutcome::CustomerLinked {
            customer_ref: customer_ref.to_owned(),
            credited,
        })
    }

    /// Whether storage answers: a transaction can be begun and rolled back.
    pub async fn ready(&self) -> Result<(), StoreError> {
        let tx = self.uow.begin().await?;
        tx.rollback().await
    }
}

/// The key of an event from `integration`: its source suffixed with the integration id.
fn scoped(key: &EventKey, integration: IntegrationId) -> Result<EventKey, WebhookError> {
    EventKey::new(
        format!("{}:{integration}", key.source),
        key.external_id.clone(),
    )
    // Only an over-long source can make the scoped key invalid.
    .map_err(|e| WebhookError::Order(IngestError::InvalidOrder(e)))
}

/// The event with its order (and refund) keys scoped by the integration.
fn scope_event(
    mut event: VerifiedEvent,
    integration: IntegrationId,
) -> Result<VerifiedEvent, WebhookError> {
    match &mut event.event {
        PosEvent::Order(order) => order.key = scoped(&order.key, integration)?,
        PosEvent::Refund(refund) => {
            refund.key = scoped(&refund.key, integration)?;
            refund.order = scoped(&refund.order, integration)?;
        }
        PosEvent::CustomerContact { .. } => {}
    }
    Ok(event)
}

/// The key the event's order had before keys were scoped; a customer's contact has none.
fn legacy_key(event: &PosEvent) -> Option<EventKey> {
    match event {
        PosEvent::Order(order) => Some(order.key.clone()),
        PosEvent::Refund(refund) => Some(refund.order.clone()),
        PosEvent::CustomerContact { .. } => None,
    }
}

/// The record an event leaves under its id: the outcome it answers.
fn outcome_record(outcome: &WebhookOutcome) -> Result<IdempotentRecord, StoreError> {
    Ok(IdempotentRecord {
        kind: WEBHOOK_EVENT.into(),
        result: serde_json::to_value(outcome)
            .map_err(|e| StoreError::Other(format!("encoding a webhook outcome: {e}")))?,
        fingerprint: None,
    })
}

/// The record of an event that delivered the order of `receipt`.
pub(crate) fn event_record(receipt: &OrderReceipt) -> Result<IdempotentRecord, StoreError> {
    outcome_record(&WebhookOutcome::Order {
        receipt: receipt.clone(),
    })
}

/// What a webhook's first read found.
struct FirstReads {
    /// The record under the event id.
    event: Option<IdempotentRecord>,
    /// The record under the order's key (an order only).
    order: Option<IdempotentRecord>,
    /// The record under the order's key before keys were scoped.
    legacy: Option<IdempotentRecord>,
    /// The brand's customer with the order's phone, when the order has one.
    customer: Option<Option<Customer>>,
}

/// The webhook's reads before anything is locked, in one round trip: the event id; for
/// an order, its own key and the one it had before keys were scoped, and the customer
/// with its phone.
async fn first_reads(
    tx: &mut dyn Transaction,
    brand: BrandId,
    key: &EventKey,
    event: &PosEvent,
    legacy: Option<&EventKey>,
) -> Result<FirstReads, StoreError> {
    let mut keys = vec![key.clone()];
    let phone = match event {
        PosEvent::Order(order) => {
            keys.push(order.key.clone());
            keys.extend(legacy.cloned());
            order.customer_phone.as_ref()
        }
        _ => None,
    };
    let (seen, customer) = match phone {
        Some(phone) => {
            let (seen, customer) = tx
                .idempotency()
                .seen_each_with_customer(brand, &keys, phone)
                .await?;
            (seen, Some(customer))
        }
        None => (tx.idempotency().seen_each(brand, &keys).await?, None),
    };
    let mut seen = seen.into_iter();
    Ok(FirstReads {
        event: seen.next().flatten(),
        order: seen.next().flatten(),
        legacy: seen.next().flatten(),
        customer,
    })
}

/// What was remembered, when a webhook order arrived, under its scoped and its
/// unscoped key.
struct LegacySeen<'k> {
    /// The order's key before keys were scoped.
    key: &'k EventKey,
    /// Whether the order's own (scoped) key was seen.
    scoped: bool,
    /// The record under the unscoped key.
    unscoped: Option<IdempotentRecord>,
}

/// The receipt of an order counted before keys were scoped, when `order` is exactly that
/// order sent again (only its key's scope differs); `None` otherwise.
async fn legacy_receipt(
    tx: &mut dyn Transaction,
    brand: BrandId,
    order: &Order,
    seen: LegacySeen<'_>,
) -> Result<Option<OrderReceipt>, WebhookError> {
    let legacy = seen.key;
    let (false, Some(record)) = (seen.scoped, seen.unscoped) else {
        return Ok(None);
    };
    if record.fingerprint.is_some() {
        // Written after scoping began: another integration's order.
        return Ok(None);
    }
    let Some(stored) = tx.orders().order_by_key(brand, legacy).await? else {
        return Ok(None);
    };
    let mut unscoped = order.clone();
    unscoped.key = legacy.clone();
    if stored.order != unscoped {
        return Ok(None);
    }
    let digest = fingerprint(&unscoped)?;
    first_receipt(legacy, record, &digest)
        .map(Some)
        .map_err(WebhookError::Order)
}
