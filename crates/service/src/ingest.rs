//! Order in: a paid order from a point of sale earns its customer points.

use crate::Services;
use crate::account::Account;
use crate::config_cache::OrderConfig;
pub(crate) use crate::credit::{Credit, fresh_stats, record_visit, upgrade_tier};
use crate::fingerprint::{fingerprint, same_request};
pub use crate::ingest_error::IngestError;
use crate::webhooks::event_record;
use regulars_domain::{
    BrandId, ChannelConsent, Customer, CustomerId, EventKey, Money, Order, OrderId, Phone, Points,
};
use regulars_loyalty::rules::ExplanationLine;
use regulars_ports::{
    BrandConfig, CampaignRecord, CustomerStats, IdempotentRecord, StoreError, StoredOrder,
    Transaction,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
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

    /// Ingests one order in `tx` (see [`Services::ingest_order`] for what that means):
    /// the checks against the brand's configuration, one read for the key and the
    /// customer, then the order stored — as it is without a customer, or credited under
    /// the customer's account lock ([`Services::credit_order_in`]).
    pub(crate) async fn ingest_in(
        &self,
        tx: &mut dyn Transaction,
        brand_id: BrandId,
        order: &Order,
    ) -> Result<OrderReceipt, IngestError> {
        self.ingest_with(tx, brand_id, order, None).await
    }

    /// [`Services::ingest_in`] for an order a POS webhook delivered: the reads before the
    /// lock are the webhook's when it made them for the order's phone, and its event is
    /// remembered in the order's one write when there is one (see [`Delivered`]).
    pub(crate) async fn ingest_with(
        &self,
        tx: &mut dyn Transaction,
        brand_id: BrandId,
        order: &Order,
        mut delivered: Option<&mut Delivered<'_>>,
    ) -> Result<OrderReceipt, IngestError> {
        let (config, fingerprint) = self.order_checks(tx, brand_id, order).await?;
        let pre = delivered.as_mut().and_then(|d| d.pre.take());
        // Before any lock: has the key been seen, and who is the customer — one read.
        let (seen, known) = match (&order.customer_phone, pre) {
            (Some(_), Some(pre)) => (pre.seen, pre.customer),
            (Some(phone), None) => {
                tx.idempotency()
                    .seen_with_customer(brand_id, &order.key, phone)
                    .await?
            }
            (None, _) => (tx.idempotency().seen(brand_id, &order.key).await?, None),
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
        let Some(phone) = &order.customer_phone else {
            let stored = stored_order(receipt.order_id, order, None, Points::ZERO);
            tx.orders().insert_order(&stored).await?;
            receipt.claim_code = self.open_claim_in(tx, brand_id, &stored).await?;
            return remember_order(tx, brand_id, order, receipt, fingerprint).await;
        };
        let customer = match known {
            Some(customer) => customer,
            None => {
                let first_seen = order.placed_at.min(now);
                self.new_customer_in(tx, brand_id, phone, first_seen)
                    .await?
            }
        };
        let sale = Sale {
            customer: &customer,
            order,
            fingerprint,
        };
        self.credit_order_in(tx, config, sale, receipt, delivered)
            .await
    }

    /// Config and checks, before anything is read for the order itself: the brand's
    /// configuration (the kept copy when there is one), the order's fingerprint, and the
    /// currency. A brand's currency never changes, so a kept copy can refuse an order in
    /// another currency; its rules are checked against the stored version once the
    /// account is locked ([`Services::lock_for_order`]), before they are applied.
    async fn order_checks(
        &self,
        tx: &mut dyn Transaction,
        brand_id: BrandId,
        order: &Order,
    ) -> Result<(OrderConfig, String), IngestError> {
        let config = self.order_config::<IngestError>(tx, brand_id).await?;
        let fingerprint = fingerprint(order)?;
        if order.currency() != config.config.brand.currency {
            return Err(IngestError::CurrencyMismatch {
                brand: config.config.brand.currency,
                order: order.currency(),
            });
        }
        Ok((config, fingerprint))
    }

    /// The customer's part of an order: locks the account, works out the credit, writes
    /// it — with everything else, the idempotency record (and the delivering webhook's)
    /// included, in one piece for the common order — and, for any other order, does
    /// what comes after it ([`Services::after_order_writes`]) and remembers the receipt.
    async fn credit_order_in(
        &self,
        tx: &mut dyn Transaction,
        config: OrderConfig,
        sale: Sale<'_>,
        mut receipt: OrderReceipt,
        delivered: Option<&mut Delivered<'_>>,
    ) -> Result<OrderReceipt, IngestError> {
        let Sale {
            customer,
            order,
            fingerprint,
        } = sale;
        // The configuration is the brand's the order was sent to.
        let brand_id = config.config.brand.id;
        let locked = self
            .lock_for_order(tx, brand_id, customer.id, &order.key, config)
            .await?;
        let (mut account, stats, config) = match locked {
            Ok(locked) => locked,
            Err(record) => return first_receipt(&order.key, record, &fingerprint),
        };
        let referral_pending = account.referral_pending;
        let credit = Credit {
            brand: &config.brand,
            program: config.program.as_ref(),
            customer,
            order,
            claim: false,
        };
        let credited = credit
            .work_out(tx, &mut account, stats, &mut receipt)
            .await?;
        let campaigns = self.order_campaigns(tx, &config, &account, order).await?;
        if campaigns.as_ref().is_some_and(Vec::is_empty) {
            let record = order_record(&receipt, fingerprint)?;
            let also = match delivered {
                Some(delivered) => {
                    delivered.remembered = true;
                    Some((delivered.event.clone(), event_record(&receipt)?))
                }
                None => None,
            };
            credited
                .write_with_record(tx, &credit, &mut account, &receipt, (record, also))
                .await?;
            return Ok(receipt);
        }
        credited.write(tx, &credit, &mut account, &receipt).await?;
        let after = AfterOrder {
            referral_pending,
            campaigns,
        };
        self.after_order_writes(tx, &config, customer, order, &mut receipt, after)
            .await?;
        remember_order(tx, brand_id, order, receipt, fingerprint).await
    }

    /// The real-time campaigns the order plans, read now or known to be none (see
    /// [`ConfigCache::quiet_at`](crate::config_cache::ConfigCache::quiet_at)); `None`
    /// for an order that earns stamps or may complete a referral, which looks them up
    /// after its own writes. `Some` of none: the common order, written in one piece.
    async fn order_campaigns(
        &self,
        tx: &mut dyn Transaction,
        config: &BrandConfig,
        account: &Account,
        order: &Order,
    ) -> Result<Option<Vec<CampaignRecord>>, StoreError> {
        let brand_id = config.brand.id;
        let stamps = config
            .stamp_cards
            .iter()
            .any(|card| card.stamps_for(order) > 0);
        if stamps || account.referral_pending {
            return Ok(None);
        }
        if self.config.quiet_at(brand_id, account.config_version) {
            return Ok(Some(Vec::new()));
        }
        let due = self.order_campaigns_in(tx, &config.brand).await?;
        if due.is_empty() {
            // The version the lock read: a campaign launched since has moved it.
            self.config.note_quiet(brand_id, account.config_version);
        }
        Ok(Some(due))
    }

    /// The lock: opens (locks) the customer's account, then looks at the key again and
    /// reads the customer's stats in one read — a concurrent delivery of the same order
    /// may have committed while this one waited for the lock, and READ COMMITTED shows
    /// its record only now — and makes sure the brand's configuration is the one
    /// committed when the lock was taken. `Err` holds the record such a delivery left.
    async fn lock_for_order(
        &self,
        tx: &mut dyn Transaction,
        brand_id: BrandId,
        customer: CustomerId,
        key: &EventKey,
        config: OrderConfig,
    ) -> Result<Result<LockedOrder, IdempotentRecord>, IngestError> {
        // Lock first: the stats read while crediting are only consistent under the
        // account lock.
        let account = Account::open::<IngestError>(tx, brand_id, customer).await?;
        let (seen, stats) = tx
            .idempotency()
            .seen_with_stats(brand_id, key, customer)
            .await?;
        if let Some(record) = seen {
            return Ok(Err(record));
        }
        let config = self
            .current_config::<IngestError>(tx, config, &account)
            .await?;
        Ok(Ok((account, stats, config)))
    }

    /// After the order's credit is written, one by one: its stamps, the referral its
    /// customer's first order may complete (rewarding both, in this transaction; the
    /// account's mark, read under its lock, says whether one may be waiting), and the
    /// real-time campaigns it plans — the ones read already, or looked up now.
    async fn after_order_writes(
        &self,
        tx: &mut dyn Transaction,
        config: &BrandConfig,
        customer: &Customer,
        order: &Order,
        receipt: &mut OrderReceipt,
        after: AfterOrder,
    ) -> Result<(), IngestError> {
        let brand_id = config.brand.id;
        self.stamp_order_in(tx, brand_id, customer, &config.stamp_cards, order)
            .await?;
        if after.referral_pending
            && let Some(balance) = self
                .referral_on_order_in::<IngestError>(tx, &config.brand, customer.id, order)
                .await?
        {
            receipt.balance = Some(balance);
        }
        match after.campaigns {
            Some(due) => {
                self.plan_after_order_in(tx, &config.brand, customer, order, receipt, due)
                    .await?;
            }
            None => {
                self.after_order_in(tx, &config.brand, customer, order, receipt)
                    .await?;
            }
        }
        Ok(())
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

/// What an order's reads before any lock found (see [`Services::ingest_with`]).
pub(crate) struct PreLock {
    /// The record under the order's key.
    pub seen: Option<IdempotentRecord>,
    /// The brand's customer with the order's phone.
    pub customer: Option<Customer>,
}

/// A POS webhook's part in an order it delivers.
pub(crate) struct Delivered<'k> {
    /// What its first read found for the order's phone (taken by the order).
    pub pre: Option<PreLock>,
    /// Its event id, remembered with the order's outcome.
    pub event: &'k EventKey,
    /// Set when the order's one write remembered the event too, so the webhook does not
    /// remember it again.
    pub remembered: bool,
}

/// The order being credited and whose it is.
struct Sale<'a> {
    customer: &'a Customer,
    order: &'a Order,
    fingerprint: String,
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

/// The customer's account, locked, with their stats and the brand's configuration as
/// of the lock.
type LockedOrder = (Account, Option<CustomerStats>, Arc<BrandConfig>);

/// What is left to do after an order's credit is written.
struct AfterOrder {
    /// Whether a referral may wait for the customer's first order.
    referral_pending: bool,
    /// The real-time campaigns the order plans, when they were read already.
    campaigns: Option<Vec<CampaignRecord>>,
}

/// Remembers the order's `receipt` under its key (with the order's fingerprint) and
/// gives it back.
async fn remember_order(
    tx: &mut dyn Transaction,
    brand_id: BrandId,
    order: &Order,
    receipt: OrderReceipt,
    fingerprint: String,
) -> Result<OrderReceipt, IngestError> {
    let record = order_record(&receipt, fingerprint)?;
    tx.idempotency()
        .remember(brand_id, &order.key, &record)
        .await?;
    Ok(receipt)
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
