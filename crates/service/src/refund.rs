//! Refunds: an order's points go back, its unused vouchers are voided.

use crate::Services;
use crate::account::{Account, load_brand, points_expiry};
use crate::fingerprint::{fingerprint, same_request};
use crate::ingest::{MAX_CLOCK_SKEW, fresh_stats};
use regulars_domain::{
    BrandId, CustomerId, DomainError, EventKey, Money, OrderId, Points, Refund, RefundScope,
};
use regulars_loyalty::ledger::{
    EntryKind, LedgerEntry, LedgerError, LotsWanted, RefundFraction, RefundPolicy, Reversal, Tally,
};
use regulars_loyalty::vouchers::{VoucherSource, VoucherStatus};
use regulars_ports::{Brand, IdempotentRecord, StoreError, StoredOrder, Transaction};
use regulars_reports::order_counts;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use time::OffsetDateTime;

mod error;

pub use error::RefundError;

/// The `kind` of the idempotency record a refund leaves.
pub const REFUND_EVENT: &str = "refund";

/// The reason recorded on messages cancelled by a full refund of the order that
/// triggered their offer.
pub const CANCEL_REASON: &str = "cancelled: the order was refunded before the offer went out";

/// The reason recorded on vouchers voided by a full refund of the order that issued them.
pub const VOID_REASON: &str = "order refunded";

/// The reason recorded on vouchers bought with points that a refund took back (brand
/// policy `void_unredeemed`); their points were restored to pay for the refund.
pub const VOID_SPENT_REASON: &str = "points refunded";

/// What a refund did; a repeated delivery gets the first delivery's receipt back with
/// `duplicate` set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundReceipt {
    /// The refunded order.
    pub order_id: OrderId,
    /// Its customer, if it had one.
    pub customer_id: Option<CustomerId>,
    /// Refunded so far, this refund included.
    pub refunded_total: Money,
    /// True when the order is now refunded in full.
    pub fully_refunded: bool,
    /// Points this refund took back from the balance.
    pub points_reversed: Points,
    /// Points this refund should have taken back but could not because they were already
    /// spent (brand policy `clamp`).
    pub points_unrecovered: Points,
    /// Points given back by voiding unused vouchers bought with them, so that the refund
    /// could take them (brand policy `void_unredeemed`).
    #[serde(default)]
    pub points_restored: Points,
    /// The customer's balance afterwards.
    pub balance: Option<Points>,
    /// Vouchers voided by this refund: still-issued vouchers the order issued (on a full
    /// refund), and unused vouchers bought with the points it took back.
    pub vouchers_voided: u64,
    /// True when this is a repeated delivery: nothing was applied again.
    pub duplicate: bool,
}

impl Services {
    /// Applies a refund of an earlier order, in one transaction.
    ///
    /// * **Idempotent** by the refund's own key (remembered under a `refund:` prefix of
    ///   its source, so a POS that numbers a refund like its order does not collide).
    /// * Refunds are cumulative: the order's refunded total grows by this refund, and the
    ///   order's points are reversed to `floor(earned × refunded / total)`, exactly what
    ///   it earned once refunded in full. Points already spent follow the brand's
    ///   `refund_overdraw` policy: debt; or unused vouchers bought with points voided
    ///   (newest first) and their points restored, then debt; or recorded as unrecovered.
    /// * The customer's net spend goes down by the refunded amount; visits stay (the visit
    ///   happened) and the tier stays (downgrades wait for the period-end review).
    /// * Once the order is refunded in full, the still-issued vouchers it issued are
    ///   voided. A partial refund leaves them.
    pub async fn refund_order(
        &self,
        brand: BrandId,
        refund: Refund,
    ) -> Result<RefundReceipt, RefundError> {
        let idempotency_key = self.check_refund(brand, &refund)?;
        let (refund, idempotency_key) = (&refund, &idempotency_key);
        self.transact("refund_order", |mut tx| async move {
            let result = self
                .refund_in(tx.as_mut(), brand, refund, idempotency_key, None)
                .await;
            (tx, result)
        })
        .await
    }

    /// What can be refused about a refund before any storage is read; the key its
    /// result is remembered under.
    pub(crate) fn check_refund(
        &self,
        brand: BrandId,
        refund: &Refund,
    ) -> Result<EventKey, RefundError> {
        if refund.brand_id != brand {
            return Err(RefundError::BrandMismatch {
                brand,
                refund: refund.brand_id,
            });
        }
        refund.key.validate().map_err(RefundError::InvalidKey)?;
        refund
            .order
            .validate()
            .map_err(RefundError::InvalidOrderKey)?;
        let now = self.clock.now();
        if refund.refunded_at > now + MAX_CLOCK_SKEW {
            return Err(RefundError::RefundedInFuture {
                refunded_at: refund.refunded_at,
                now,
            });
        }
        refund_event_key(&refund.key).map_err(RefundError::InvalidKey)
    }

    /// Applies the refund in `tx`. `legacy_order` is where the order may be stored when
    /// it is not under `refund.order`: an order counted before its source was scoped.
    pub(crate) async fn refund_in(
        &self,
        tx: &mut dyn Transaction,
        brand_id: BrandId,
        refund: &Refund,
        idempotency_key: &EventKey,
        legacy_order: Option<&EventKey>,
    ) -> Result<RefundReceipt, RefundError> {
        let brand = load_brand::<RefundError>(tx, brand_id).await?;
        // What the refund asks for; its time may differ between retries.
        let fingerprint = fingerprint(&(&refund.order, &refund.scope))?;
        if let Some(record) = tx.idempotency().seen(brand_id, idempotency_key).await? {
            return first_receipt(&refund.key, record, &fingerprint);
        }
        let stored = lock_refunded_order(tx, brand_id, refund, legacy_order).await?;
        let (refunded_total, delta) = refunded_after(&stored, &refund.scope)?;
        let fully_refunded = refunded_total == stored.order.total;
        let mut receipt = RefundReceipt {
            order_id: stored.id,
            customer_id: stored.customer_id,
            refunded_total,
            fully_refunded,
            points_reversed: Points::ZERO,
            points_unrecovered: Points::ZERO,
            points_restored: Points::ZERO,
            balance: None,
            vouchers_voided: 0,
            duplicate: false,
        };
        self.refund_customer_in(tx, &brand, refund, &stored, &delta, &mut receipt)
            .await?;
        self.settle_order_in(tx, brand_id, &stored, &mut receipt)
            .await?;
        let record = IdempotentRecord {
            kind: REFUND_EVENT.into(),
            result: serde_json::to_value(&receipt)
                .map_err(|e| StoreError::Other(format!("encoding the refund receipt: {e}")))?,
            fingerprint: Some(fingerprint),
        };
        tx.idempotency()
            .remember(brand_id, idempotency_key, &record)
            .await?;
        Ok(receipt)
    }

    /// What a refund does to the order's customer: the order's points taken back (under
    /// the brand's policy) and its stamps, net spend lowered by the refunded amount, and a
    /// referral the order rewarded undone on a full refund. Fills in `receipt`; nothing
    /// for an order without a customer.
    async fn refund_customer_in(
        &self,
        tx: &mut dyn Transaction,
        brand: &Brand,
        refund: &Refund,
        stored: &StoredOrder,
        delta: &Money,
        receipt: &mut RefundReceipt,
    ) -> Result<(), RefundError> {
        let Some(customer) = stored.customer_id else {
            return Ok(());
        };
        let brand_id = brand.id;
        // The ledger knows the order by the key it was stored under.
        let order_key = &stored.order.key;
        let (refunded_total, total) = (receipt.refunded_total, stored.order.total);
        let fully_refunded = receipt.fully_refunded;
        let mut account = Account::open::<RefundError>(tx, brand_id, customer).await?;
        if stored.points_earned.is_positive() {
            let share = if fully_refunded {
                RefundFraction::FULL
            } else {
                RefundFraction::from_money(&refunded_total, &total).map_err(RefundError::Ledger)?
            };
            let at = account.time_for(refund.refunded_at);
            let (reversal, voided) = self
                .reverse_points(tx, brand, &mut account, order_key, share, at)
                .await?;
            receipt.points_reversed = reversal.recovered;
            receipt.points_unrecovered = reversal.unrecovered;
            receipt.points_restored = restored_points(&reversal.entries);
            receipt.vouchers_voided = voided;
            account.append(tx, brand_id, &reversal.entries).await?;
        }
        let share = if fully_refunded {
            RefundFraction::FULL
        } else {
            RefundFraction::from_money(&refunded_total, &total).map_err(RefundError::Ledger)?
        };
        let at = account.time_for(refund.refunded_at);
        receipt.vouchers_voided += self
            .unstamp_order_in(tx, brand_id, customer, order_key, share, at)
            .await?;
        let mut stats = tx
            .customers()
            .stats(brand_id, customer)
            .await?
            .unwrap_or_else(|| fresh_stats(customer, brand.currency));
        let spend = stats.spend.checked_sub(delta).map_err(RefundError::Money)?;
        // Net spend never goes below nothing, whatever older data says.
        stats.spend = if spend.is_negative() {
            Money::zero(spend.currency())
        } else {
            spend
        };
        // An order that stops counting may be one whose time the stats keep.
        let counts = order_counts(&stored.order.total, &refunded_total);
        if !counts && stats.counted.holds(stored.order.placed_at) {
            stats.counted = tx
                .orders()
                .counted_times(brand_id, customer, stored.id)
                .await?;
        }
        tx.customers().save_stats(brand_id, &stats).await?;
        // A full refund of the order that rewarded a referral takes both back.
        self.referral_on_refund_in::<RefundError>(
            tx,
            brand,
            &mut account,
            order_key,
            fully_refunded,
        )
        .await?;
        receipt.balance = Some(account.balance());
        Ok(())
    }

    /// What a refund does to the order itself: its refunded total recorded, and on a full
    /// refund the vouchers it issued voided and the offers it triggered cancelled.
    async fn settle_order_in(
        &self,
        tx: &mut dyn Transaction,
        brand_id: BrandId,
        stored: &StoredOrder,
        receipt: &mut RefundReceipt,
    ) -> Result<(), RefundError> {
        let (refunded_total, fully_refunded) = (receipt.refunded_total, receipt.fully_refunded);
        tx.orders()
            .set_refunded(brand_id, stored.id, stored.refunded, refunded_total)
            .await?;
        if fully_refunded {
            receipt.vouchers_voided += tx
                .vouchers()
                .void_issued_by(brand_id, stored.id, self.clock.now(), VOID_REASON)
                .await?;
            if let Some(customer) = stored.customer_id {
                // An offer the order triggered is not sent once the order is undone.
                tx.outbox()
                    .cancel_for_order(brand_id, customer, stored.id, CANCEL_REASON)
                    .await?;
            }
        }
        Ok(())
    }
}

impl Services {
    /// Takes the order's points back under the brand's policy; under `void_unredeemed`
    /// also voids the unused vouchers whose points the ledger restored. Returns the
    /// reversal and how many vouchers it voided.
    async fn reverse_points(
        &self,
        tx: &mut dyn Transaction,
        brand: &Brand,
        account: &mut Account,
        order: &EventKey,
        share: RefundFraction,
        at: OffsetDateTime,
    ) -> Result<(Reversal, u64), RefundError> {
        let refused = |error| match error {
            LedgerError::AlreadyReversed { .. } => RefundError::AlreadyRefunded {
                order: order.clone(),
            },
            other => RefundError::Ledger(other),
        };
        let order_tally = Tally::order_key(order);
        if brand.refund_policy != RefundPolicy::VoidUnredeemed {
            account
                .load_tallies(tx, brand.id, std::slice::from_ref(&order_tally))
                .await?;
            let wanted = refund_lots(account, order, at);
            let entries = account
                .command(tx, brand.id, &wanted, |l| {
                    l.reverse_order_partial(order, share, at, brand.refund_policy)
                })
                .await?
                .map_err(refused)?;
            return Ok((reversal_of(entries), 0));
        }
        // Vouchers bought with points and still usable, by the reference their purchase
        // left in the ledger.
        let now = self.clock.now();
        let unused: BTreeMap<String, regulars_domain::VoucherId> = tx
            .vouchers()
            .vouchers_of(brand.id, account.customer)
            .await?
            .into_iter()
            .filter(|v| {
                *v.status() == VoucherStatus::Issued
                    && v.expires_at() > now
                    && matches!(v.source(), VoucherSource::Redemption { .. })
            })
            .map(|v| (format!("voucher:{}", v.id()), v.id()))
            .collect();
        let references: Vec<String> = unused.keys().cloned().collect();
        let keys: Vec<String> = std::iter::once(order_tally)
            .chain(references.iter().map(|r| Tally::redemption_key(r)))
            .collect();
        account.load_tallies(tx, brand.id, &keys).await?;
        let wanted = refund_lots(account, order, at);
        let reversal = account
            .command(tx, brand.id, &wanted, |l| {
                l.reverse_order_voiding(order, share, at, &references, points_expiry(brand, at))
            })
            .await?
            .map_err(refused)?;
        let mut voided = 0;
        for reference in &reversal.restored {
            let Some(&voucher) = unused.get(reference) else {
                continue;
            };
            // A voucher redeemed at the till since it was read: its points cannot come
            // back; the use case runs again and sees it redeemed.
            if !tx
                .vouchers()
                .void_voucher(brand.id, voucher, now, VOID_SPENT_REASON)
                .await?
            {
                return Err(RefundError::Store(StoreError::Conflict(format!(
                    "voucher {voucher} changed while the refund voided it"
                ))));
            }
            voided += 1;
        }
        Ok((reversal, voided))
    }
}

/// The refunded order, locked before anything is computed from its refunded total (a
/// concurrent refund of the same order waits here, then reads the total it left): stored
/// under `refund.order`, or else under `legacy_order`.
async fn lock_refunded_order(
    tx: &mut dyn Transaction,
    brand_id: BrandId,
    refund: &Refund,
    legacy_order: Option<&EventKey>,
) -> Result<StoredOrder, RefundError> {
    let mut stored = tx
        .orders()
        .lock_order_by_key(brand_id, &refund.order)
        .await?;
    if let (None, Some(legacy)) = (&stored, legacy_order) {
        stored = tx.orders().lock_order_by_key(brand_id, legacy).await?;
    }
    stored.ok_or_else(|| RefundError::UnknownOrder {
        order: refund.order.clone(),
    })
}

/// The reversal that `entries` of a refund without voiding record.
fn reversal_of(entries: Vec<LedgerEntry>) -> Reversal {
    let mut reversal = Reversal::default();
    for entry in &entries {
        if let EntryKind::Reverse { unrecovered, .. } = &entry.kind {
            reversal.recovered = Points::new(-entry.amount.value());
            reversal.unrecovered = *unrecovered;
        }
    }
    reversal.entries = entries;
    reversal
}

/// The points restored by a refund's entries.
fn restored_points(entries: &[LedgerEntry]) -> Points {
    let sum = entries
        .iter()
        .filter(|e| matches!(e.kind, EntryKind::Restore { .. }))
        .map(|e| e.amount.value())
        .sum::<i64>();
    Points::new(sum)
}

/// The key a refund's idempotency record is kept under: its source prefixed with
/// `refund:`, so that it never collides with an order of the same source and number.
pub(crate) fn refund_event_key(key: &EventKey) -> Result<EventKey, DomainError> {
    EventKey::new(format!("refund:{}", key.source), key.external_id.clone())
}

/// The order's refunded total after this refund, and what this refund adds.
fn refunded_after(
    stored: &StoredOrder,
    scope: &RefundScope,
) -> Result<(Money, Money), RefundError> {
    let total = stored.order.total;
    let before = stored.refunded;
    let already_full = || RefundError::AlreadyRefunded {
        order: stored.order.key.clone(),
    };
    match scope {
        RefundScope::Full => {
            // A zero-total order has nothing to refund in money but may still have points
            // to reverse; the ledger tells whether they already were.
            if before == total && !total.is_zero() {
                return Err(already_full());
            }
            let delta = total.checked_sub(&before).map_err(RefundError::Money)?;
            Ok((total, delta))
        }
        RefundScope::Amount { amount } => {
            if amount.currency() != total.currency() {
                return Err(RefundError::CurrencyMismatch {
                    order: total.currency(),
                    refund: amount.currency(),
                });
            }
            if amount.is_negative() || amount.is_zero() {
                return Err(RefundError::NonPositiveAmount { amount: *amount });
            }
            if before == total {
                return Err(already_full());
            }
            let after = before.checked_add(amount).map_err(RefundError::Money)?;
            if after.cmp_amount(&total).map_err(RefundError::Money)? == Ordering::Greater {
                return Err(RefundError::ExceedsOrder {
                    amount: *amount,
                    refunded: before,
                    total,
                });
            }
            Ok((after, *amount))
        }
    }
}

/// The receipt a first delivery remembered, marked as a duplicate; refused when the key
/// was used by another kind of event or by a refund with other contents.
fn first_receipt(
    key: &EventKey,
    record: IdempotentRecord,
    fingerprint: &str,
) -> Result<RefundReceipt, RefundError> {
    if record.kind != REFUND_EVENT {
        return Err(RefundError::KeyReused {
            key: key.clone(),
            kind: record.kind,
        });
    }
    if !same_request(&record, fingerprint) {
        return Err(RefundError::OtherRefund { key: key.clone() });
    }
    let mut receipt: RefundReceipt = serde_json::from_value(record.result)
        .map_err(|e| StoreError::Corrupt(format!("remembered refund receipt: {e}")))?;
    receipt.duplicate = true;
    Ok(receipt)
}

/// The lots a reversal of `order` can touch: the order's own lot and the first-expiring
/// ones up to what is left to take back (none when the order is unknown: it is refused).
fn refund_lots(account: &Account, order: &EventKey, at: OffsetDateTime) -> LotsWanted {
    match account.ledger.state().order(order) {
        Some(points) => LotsWanted::refund(
            at,
            points
                .earned
                .checked_sub(points.reversed)
                .unwrap_or(points.earned),
            points.earn_seq,
        ),
        None => LotsWanted::none(),
    }
}
