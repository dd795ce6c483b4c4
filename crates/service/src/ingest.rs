//! Order in: a paid order from a point of sale earns its customer points.

use crate::Services;
use crate::account::Account;
pub(crate) use crate::credit::{Credit, fresh_stats, record_visit, upgrade_tier};
use crate::error::{CorruptLedger, ErrorClass, UseCaseError, common_variants, store_class};
use crate::fingerprint::{fingerprint, same_request};
use regulars_domain::{
    BrandId, ChannelConsent, Currency, Customer, CustomerId, DomainError, EventKey, Money, Order,
    OrderId, Phone, Points,
};
use regulars_loyalty::ledger::LedgerError;
use regulars_loyalty::rules::{ExplanationLine, RulesError};
use regulars_ports::{IdempotentRecord, StoreError, StoredOrder, Transaction};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use thiserror::Error;
use time::OffsetDateTime;

/// How far in the future an event's own time may be, by the server's clock: tills'
/// clocks drift, but an event dated later than this (a till sending local time as UTC,
/// say) is refused rather than allowed to move the customer's ledger forward in time.
pub const MAX_CLOCK_SKEW: time::Duration = time::Duration::HOUR;

/// The `kind` of the idempotency record an order leaves.
pub const ORDER_EVENT: &str = "order";

/// How many orders of an import go into one transaction (see
/// [`Services::ingest_orders`]): enough that the commit no longer dominates, few enough
/// that a batch falling back to one-by-one costs little.
pub const IMPORT_BATCH: usize = 200;

/// What ingesting an order did; a repeated delivery gets the first delivery's receipt back
/// with `duplicate` set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderReceipt {
    /// Regulars' id of the stored order.
    pub order_id: OrderId,
    /// The customer credited, `None` when the order carried no phone number.
    pub customer_id: Option<CustomerId>,
    /// Points credited by this order.
    pub points_earned: Points,
    /// The customer's balance afterwards (due points swept).
    pub balance: Option<Points>,
    /// The customer's tier code afterwards.
    pub tier: Option<String>,
    /// True when this order moved the customer up a tier.
    pub upgraded: bool,
    /// Why the order earns what it earns, one line per rule that applied.
    pub explanation: Vec<ExplanationLine>,
    /// True when the order arrived so late, after later ledger entries, that the points
    /// it earned (per `explanation`) had already expired: nothing was credited.
    pub lapsed: bool,
    /// True when this is a repeated delivery: nothing was applied again.
    pub duplicate: bool,
    /// For an order without a customer, the code that claims it later (see
    /// [`Services::claim_order`]); `None` when the brand's claims are off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_code: Option<String>,
}

/// Why an order was not ingested.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum IngestError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// The order names another brand than the one it was sent to.
    #[error("the order belongs to brand {order}, not to brand {brand}")]
    BrandMismatch {
        /// The brand it was sent to.
        brand: BrandId,
        /// The brand the order names.
        order: BrandId,
    },
    /// The order is incoherent (no lines, negative prices, mixed currencies, bad key).
    #[error("invalid order: {0}")]
    InvalidOrder(DomainError),
    /// The order is dated further in the future than clocks can disagree: recording it
    /// would drag every later ledger entry of the customer forward to its time.
    #[error(
        "the order is placed at {placed_at}, after now ({now}) by more than the allowed clock skew"
    )]
    PlacedInFuture {
        /// The order's time.
        placed_at: OffsetDateTime,
        /// Now, by the server's clock.
        now: OffsetDateTime,
    },
    /// The order is not in the brand's currency.
    #[error("the order is in {order}, the brand works in {brand}")]
    CurrencyMismatch {
        /// The brand's currency.
        brand: Currency,
        /// The order's currency.
        order: Currency,
    },
    /// The order's key was already used by another kind of event.
    #[error("key {}/{} was already used by a {kind} event", key.source, key.external_id)]
    KeyReused {
        /// The key.
        key: EventKey,
        /// The kind of event that used it.
        kind: String,
    },
    /// The order's key was already used by an order with other contents: a POS that
    /// numbers orders on its own, or two that share a numbering. The first order's
    /// receipt is not given to this one.
    #[error(
        "order id {} was already used by an order with other contents",
        key.external_id
    )]
    OtherOrder {
        /// The key.
        key: EventKey,
    },
    /// The earning rules could not evaluate the order.
    #[error("earning rules: {0}")]
    Rules(RulesError),
    /// The customer's stored ledger is invalid.
    #[error(transparent)]
    CorruptLedger(CorruptLedger),
    /// The ledger refused the points (an arithmetic overflow on absurd amounts).
    #[error("ledger: {0}")]
    Ledger(LedgerError),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(IngestError, ledger);

impl UseCaseError for IngestError {
    fn class(&self) -> ErrorClass {
        match self {
            IngestError::UnknownBrand(_) => ErrorClass::NotFound,
            IngestError::BrandMismatch { .. }
            | IngestError::InvalidOrder(_)
            | IngestError::PlacedInFuture { .. }
            | IngestError::CurrencyMismatch { .. } => ErrorClass::Invalid,
            IngestError::KeyReused { .. } | IngestError::OtherOrder { .. } => ErrorClass::Refused,
            IngestError::Rules(e) => match e {
                RulesError::CurrencyMismatch { .. } | RulesError::InvalidOrder { .. } => {
                    ErrorClass::Invalid
                }
                _ => ErrorClass::Internal,
            },
            IngestError::CorruptLedger(_) | IngestError::Ledger(_) => ErrorClass::Internal,
            IngestError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            IngestError::UnknownBrand(_) => Some("brand"),
            IngestError::BrandMismatch { .. } => Some("brand_id"),
            IngestError::InvalidOrder(e) => e.field(),
            IngestError::PlacedInFuture { .. } => Some("placed_at"),
            IngestError::CurrencyMismatch { .. } => Some("total"),
            IngestError::KeyReused { .. } => Some("key"),
            IngestError::OtherOrder { .. } => Some("order_id"),
            IngestError::Rules(RulesError::CurrencyMismatch { .. }) => Some("total"),
            IngestError::Rules(RulesError::InvalidOrder { field, .. }) => Some(field),
            _ => None,
        }
    }

    fn code(&self) -> Option<&'static str> {
        match self {
            IngestError::KeyReused { .. } | IngestError::OtherOrder { .. } => Some("key_reused"),
            _ => None,
        }
    }
}

impl Services {
    /// Ingests a paid order: one transaction that credits the customer's points.
    ///
    /// * **Idempotent** by `(brand, order.key)`: a repeated delivery returns the first
    ///   receipt with `duplicate: true` and writes nothing. Two concurrent deliveries
    ///   collide on the order's unique key; the loser runs again and finds the first.
    /// * The customer is found by phone, or created (a concurrent creation is a conflict,
    ///   and the retry finds the other's customer). An order without a phone is stored
    ///   and earns nothing.
    /// * Under the customer's account lock: lots due at the order's time are expired, the
    ///   brand's earning rules evaluate the order (tier, birthday, visit number and points
    ///   already earned that local day as context; the held tier's earning multiplier is
    ///   applied as one more multiplier so the explanation stays exact), the points are
    ///   credited in a lot valid for the brand's `points_validity_days` from the order's
    ///   time, and the visit, spend and tier are updated (upgrades only; see
    ///   [tier qualification](crate#tier-qualification) for how the qualifying value is obtained).
    /// * An order older than the customer's last ledger entry (a late delivery) is
    ///   recorded at that entry's time, because the ledger is append-only in time order;
    ///   its lot still expires counting from the order's own time, and when that is
    ///   already past, nothing is credited (`lapsed`). An order dated more than
    ///   [`MAX_CLOCK_SKEW`] in the future is refused for the same reason: it would drag
    ///   every later entry forward.
    /// * A brand without a loyalty programme stores orders and customers but credits
    ///   nothing.
    pub async fn ingest_order(
        &self,
        brand: BrandId,
        order: Order,
    ) -> Result<OrderReceipt, IngestError> {
        self.check_order(brand, &order)?;
        if self.groups.is_some() {
            let work = Arc::new(crate::group::OrderWork { brand, order });
            if let Some(result) = self.in_group(&work).await {
                return result;
            }
            return self.ingest_alone(brand, &work.order).await;
        }
        self.ingest_alone(brand, &order).await
    }

    /// Ingests an order in its own transaction.
    async fn ingest_alone(
        &self,
        brand: BrandId,
        order: &Order,
    ) -> Result<OrderReceipt, IngestError> {
        self.transact("ingest_order", |mut tx| async move {
            let result = self.ingest_in(tx.as_mut(), brand, order).await;
            (tx, result)
        })
        .await
    }

    /// Ingests several orders — order history from an import, [`IMPORT_BATCH`] at a
    /// time — with one transaction
    /// (one durable commit) for the whole batch instead of one per order. Each result is
    /// exactly what [`Services::ingest_order`] would give for that order, in order: the
    /// orders are applied one after another inside the transaction, so a customer's
    /// second order sees the first. When any order of the batch is refused, the batch is
    /// rolled back and its orders are ingested one by one instead, so one bad order
    /// costs its batch the speed-up, never its neighbours' results.
    pub async fn ingest_orders(
        &self,
        brand: BrandId,
        orders: &[Order],
    ) -> Vec<Result<OrderReceipt, IngestError>> {
        let all_checked = orders
            .iter()
            .all(|order| self.check_order(brand, order).is_ok());
        if all_checked && !orders.is_empty() {
            let batch = self
                .transact("ingest_orders", |mut tx| async move {
                    let mut receipts = Vec::with_capacity(orders.len());
                    for order in orders {
                        match self.ingest_in(tx.as_mut(), brand, order).await {
                            Ok(receipt) => receipts.push(receipt),
                            Err(error) => return (tx, Err(error)),
                        }
                    }
                    (tx, Ok(receipts))
                })
                .await;
            if let Ok(receipts) = batch {
                return receipts.into_iter().map(Ok).collect();
            }
        }
        let mut results = Vec::with_capacity(orders.len());
        for order in orders {
            results.push(self.ingest_order(brand, order.clone()).await);
        }
        results
    }

    /// What can be refused about an order before any storage is read.
    pub(crate) fn check_order(&self, brand: BrandId, order: &Order) -> Result<(), IngestError> {
        if order.brand_id != brand {
            return Err(IngestError::BrandMismatch {
                brand,
                order: order.brand_id,
            });
        }
        order.validate().map_err(IngestError::InvalidOrder)?;
        let now = self.clock.now();
        if order.placed_at > now + MAX_CLOCK_SKEW {
            return Err(IngestError::PlacedInFuture {
                placed_at: order.placed_at,
                now,
            });
        }
        Ok(())
    }

    pub(crate) async fn ingest_in(
        &self,
        tx: &mut dyn Transaction,
        brand_id: BrandId,
        order: &Order,
    ) -> Result<OrderReceipt, IngestError> {
        // A brand's currency never changes, so a kept copy can refuse an order in
        // another currency; its rules are checked against the stored version once the
        // account is locked, before they are applied.
        let config = self.order_config::<IngestError>(tx, brand_id).await?;
        let fingerprint = fingerprint(order)?;
        if order.currency() != config.config.brand.currency {
            return Err(IngestError::CurrencyMismatch {
                brand: config.config.brand.currency,
                order: order.currency(),
            });
        }
        // Before any lock: has the key been seen, and who is the customer — one read.
        let (seen, known) = match &order.customer_phone {
            Some(phone) => {
                tx.idempotency()
                    .seen_with_customer(brand_id, &order.key, phone)
                    .await?
            }
            None => (tx.idempotency().seen(brand_id, &order.key).await?, None),
        };
        if let Some(record) = seen {
            return first_receipt(&order.key, record, &fingerprint);
        }
        let now = self.clock.now();
        let mut receipt = OrderReceipt {
            order_id: OrderId::from_uuid(self.ids.new_id()),
            customer_id: None,
            points_earned: Points::ZERO,
            balance: None,
            tier: None,
            upgraded: false,
            explanation: Vec::new(),
            lapsed: false,
            duplicate: false,
            claim_code: None,
        };
        match &order.customer_phone {
            None => {
                let stored = stored_order(receipt.order_id, order, None, Points::ZERO);
                tx.orders().insert_order(&stored).await?;
                receipt.claim_code = self.open_claim_in(tx, brand_id, &stored).await?;
            }
            Some(phone) => {
                let customer = match known {
                    Some(customer) => customer,
                    None => {
                        let first_seen = order.placed_at.min(now);
                        self.new_customer_in(tx, brand_id, phone, first_seen)
                            .await?
                    }
                };
                // Lock first: the stats read while crediting are only consistent under
                // the account lock. A concurrent delivery of the same order may have
                // committed while this one waited for it: READ COMMITTED shows its record
                // only now, after the lock, so look again before crediting anything.
                // The second look and the stats the rules need are one read.
                let mut account = Account::open::<IngestError>(tx, brand_id, customer.id).await?;
                let (seen, stats) = tx
                    .idempotency()
                    .seen_with_stats(brand_id, &order.key, customer.id)
                    .await?;
                if let Some(record) = seen {
                    return first_receipt(&order.key, record, &fingerprint);
                }
                let config = self
                    .current_config::<IngestError>(tx, config, &account)
                    .await?;
                let referral_pending = account.referral_pending;
                let credit = Credit {
                    brand: &config.brand,
                    program: config.program.as_ref(),
                    customer: &customer,
                    order,
                    claim: false,
                };
                let credited = credit
                    .work_out(tx, &mut account, stats, &mut receipt)
                    .await?;
                let stamps = config
                    .stamp_cards
                    .iter()
                    .any(|card| card.stamps_for(order) > 0);
                // The common order — no stamps, no referral waiting, no real-time
                // campaign to plan — writes everything, its record too, in one piece.
                let campaigns = if stamps || referral_pending {
                    None
                } else {
                    Some(self.order_campaigns_in(tx, &config.brand).await?)
                };
                if campaigns.as_ref().is_some_and(Vec::is_empty) {
                    let record = order_record(&receipt, fingerprint)?;
                    credited
                        .write_with_record(tx, &credit, &mut account, &receipt, record)
                        .await?;
                    return Ok(receipt);
                }
                credited.write(tx, &credit, &mut account, &receipt).await?;
                self.stamp_order_in(tx, brand_id, &customer, &config.stamp_cards, order)
                    .await?;
                // A referred friend's first order rewards both, in this transaction. The
                // account's mark, read under its lock, says whether one may be waiting.
                if referral_pending
                    && let Some(balance) = self
                        .referral_on_order_in::<IngestError>(tx, &config.brand, customer.id, order)
                        .await?
                {
                    receipt.balance = Some(balance);
                }
                match campaigns {
                    Some(due) => {
                        self.plan_after_order_in(
                            tx,
                            &config.brand,
                            &customer,
                            order,
                            &receipt,
                            due,
                        )
                        .await?;
                    }
                    None => {
                        self.after_order_in(tx, &config.brand, &customer, order, &receipt)
                            .await?;
                    }
                }
            }
        }
        let record = order_record(&receipt, fingerprint)?;
        tx.idempotency()
            .remember(brand_id, &order.key, &record)
            .await?;
        Ok(receipt)
    }

    /// The brand's customer with this phone, created if new.
    pub(crate) async fn customer_for(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        phone: &Phone,
        first_seen: OffsetDateTime,
    ) -> Result<Customer, StoreError> {
        if let Some(customer) = tx.customers().customer_by_phone(brand, phone).await? {
            return Ok(customer);
        }
        self.new_customer_in(tx, brand, phone, first_seen).await
    }

    /// A new customer of the brand with this phone, found by no one yet (a concurrent
    /// creation of the same phone is a conflict, and the retry finds the other's).
    async fn new_customer_in(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        phone: &Phone,
        first_seen: OffsetDateTime,
    ) -> Result<Customer, StoreError> {
        let customer = Customer {
            id: CustomerId::from_uuid(self.ids.new_id()),
            brand_id: brand,
            phone: phone.clone(),
            name: None,
            birthday: None,
            email: None,
            zalo_user_id: None,
            consent: ChannelConsent::default(),
            created_at: first_seen,
        };
        tx.customers().insert_customer(&customer).await?;
        Ok(customer)
    }
}

/// The record an order leaves under its key: its receipt, and the fingerprint that
/// tells a repeated delivery from another order reusing the key.
fn order_record(
    receipt: &OrderReceipt,
    fingerprint: String,
) -> Result<IdempotentRecord, StoreError> {
    Ok(IdempotentRecord {
        kind: ORDER_EVENT.into(),
        result: serde_json::to_value(receipt)
            .map_err(|e| StoreError::Other(format!("encoding the order receipt: {e}")))?,
        fingerprint: Some(fingerprint),
    })
}

/// The receipt a first delivery remembered, marked as a duplicate; refused when the key
/// was used by another kind of event or by an order with other contents.
pub(crate) fn first_receipt(
    key: &EventKey,
    record: IdempotentRecord,
    fingerprint: &str,
) -> Result<OrderReceipt, IngestError> {
    if record.kind != ORDER_EVENT {
        return Err(IngestError::KeyReused {
            key: key.clone(),
            kind: record.kind,
        });
    }
    if !same_request(&record, fingerprint) {
        return Err(IngestError::OtherOrder { key: key.clone() });
    }
    let mut receipt: OrderReceipt = serde_json::from_value(record.result)
        .map_err(|e| StoreError::Corrupt(format!("remembered order receipt: {e}")))?;
    receipt.duplicate = true;
    Ok(receipt)
}

pub(crate) fn stored_order(
    id: OrderId,
    order: &Order,
    customer_id: Option<CustomerId>,
    points_earned: Points,
) -> StoredOrder {
    StoredOrder {
        id,
        order: order.clone(),
        customer_id,
        points_earned,
        refunded: Money::zero(order.currency()),
    }
}
