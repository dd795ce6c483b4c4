//! Bonus-point campaign offers: what a point is worth to the shop (the offers' cost),
//! and the credit of a message's bonus when it is sent.
//!
//! The credit is written in the transaction that records the message sent, and only for
//! a message whose claim this worker still holds, so it follows the send exactly: a
//! message that fails for good, is cancelled or expires credits nothing. Each message
//! credits once: its outbox id is the ledger's idempotency key for the bonus
//! ([`Ledger::credit_bonus`](regulars_loyalty::ledger::Ledger::credit_bonus)), checked
//! under the account's lock in that same transaction, so a delivery retried after a
//! crash, or recorded by a second worker that took the claim over, adds nothing.

use crate::account::{Account, load_brand, points_expiry};
use crate::error::{CorruptLedger, UnknownBrand};
use regulars_domain::{BrandId, Currency, CustomerId, Money, Points};
use regulars_loyalty::ledger::{LedgerError, Tally};
use regulars_loyalty::rewards::RewardKind;
use regulars_ports::{Brand, OutboxMessage, StoreError, Transaction};
use rust_decimal::Decimal;
use std::collections::HashMap;
use time::OffsetDateTime;

/// What one point is worth to the brand, in `currency`: the programme's `point_value`
/// when it sets one; otherwise the most a point buys through the active fixed-discount
/// rewards of the catalogue (amount ÷ points, rounded up to a minor unit, so the cost
/// is never understated); `None` when neither says.
pub(crate) async fn point_value(
    tx: &mut dyn Transaction,
    brand: BrandId,
    currency: Currency,
) -> Result<Option<Money>, StoreError> {
    if let Some(program) = tx.brands().program(brand).await?
        && let Some(value) = program.earning_rules.point_value
        && program.earning_rules.currency == currency
    {
        return Ok(Money::new(value, currency).ok());
    }
    let rewards = tx.brands().rewards(brand).await?;
    let per_point = rewards
        .iter()
        .filter(|r| r.active && r.cost.is_positive())
        .filter_map(|r| match &r.kind {
            RewardKind::FixedDiscount { amount } if amount.currency() == currency => {
                let minor = Decimal::from(amount.to_minor_units().ok()?);
                let each = (minor / Decimal::from(r.cost.value())).ceil();
                i64::try_from(each).ok()
            }
            _ => None,
        })
        .max();
    Ok(per_point.map(|minor| Money::from_minor_units(minor, currency)))
}

/// Why a bonus could not be credited: storage failed (the whole record is redone), or
/// the customer's ledger is invalid (the message stays sent and the credit is logged).
pub(crate) enum CreditFailure {
    Store(StoreError),
    Corrupt(CorruptLedger),
    UnknownBrand,
}

impl From<StoreError> for CreditFailure {
    fn from(e: StoreError) -> Self {
        CreditFailure::Store(e)
    }
}

impl From<CorruptLedger> for CreditFailure {
    fn from(e: CorruptLedger) -> Self {
        CreditFailure::Corrupt(e)
    }
}

impl From<UnknownBrand> for CreditFailure {
    fn from(_: UnknownBrand) -> Self {
        CreditFailure::UnknownBrand
    }
}

/// Credits the bonus of every message in `sent` that carries one (messages this worker
/// has just recorded sent), in the caller's transaction. Accounts are locked in (brand,
/// customer) order, so two groups recorded at once cannot deadlock on them. Returns the
/// points credited; a storage error fails the whole record.
pub(crate) async fn credit_sent(
    tx: &mut dyn Transaction,
    sent: &[&OutboxMessage],
    now: OffsetDateTime,
) -> Result<Points, StoreError> {
    let mut due: Vec<(BrandId, CustomerId, &OutboxMessage, Points)> = sent
        .iter()
        .filter_map(|m| {
            let points = m.bonus_points.filter(|p| p.is_positive())?;
            Some((m.brand_id, m.customer_id?, *m, points))
        })
        .collect();
    if due.is_empty() {
        return Ok(Points::ZERO);
    }
    due.sort_by_key(|(brand, customer, m, _)| (*brand, *customer, m.id));
    let mut brands: HashMap<BrandId, Brand> = HashMap::new();
    let mut total = Points::ZERO;
    for (brand, customer, message, points) in due {
        match credit_one(tx, &mut brands, brand, customer, message, points, now).await {
            Ok(true) => total = total.checked_add(points).unwrap_or(total),
            Ok(false) => {}
            Err(CreditFailure::Store(e)) => return Err(e),
            Err(CreditFailure::Corrupt(error)) => {
                tracing::error!(%brand, %customer, message = %message.id, %error,
                    "campaign bonus not credited: the customer's ledger is invalid");
            }
            Err(CreditFailure::UnknownBrand) => {}
        }
    }
    Ok(total)
}

/// Credits one message's bonus; `false` when it was credited before (or its customer
/// is gone) and nothing was written.
async fn credit_one(
    tx: &mut dyn Transaction,
    brands: &mut HashMap<BrandId, Brand>,
    brand_id: BrandId,
    customer: CustomerId,
    message: &OutboxMessage,
    points: Points,
    now: OffsetDateTime,
) -> Result<bool, CreditFailure> {
    let Some(campaign) = message.campaign_id else {
        return Ok(false);
    };
    if tx.customers().customer(brand_id, customer).await?.is_none() {
        // Erased since it was planned: nobody to credit.
        return Ok(false);
    }
    let brand = match brands.get(&brand_id) {
        Some(found) => found.clone(),
        None => {
            let found = load_brand::<CreditFailure>(tx, brand_id).await?;
            brands.insert(brand_id, found.clone());
            found
        }
    };
    let mut account = Account::open::<CreditFailure>(tx, brand_id, customer).await?;
    let key = message.id.to_string();
    account
        .load_tallies(tx, brand_id, &[Tally::bonus_key(&key)])
        .await?;
    if account.ledger.state().bonus(&key).is_some() {
        return Ok(false);
    }
    let at = account.time_for(now);
    let entries =
        match account
            .ledger
            .credit_bonus(campaign, &key, points, at, points_expiry(&brand, at))
        {
            Ok(entries) => entries,
            Err(LedgerError::DuplicateBonus { .. }) => return Ok(false),
            Err(error) => {
                return Err(CreditFailure::Corrupt(CorruptLedger { customer, error }));
            }
        };
    account.append(tx, brand_id, &entries).await?;
    tracing::info!(brand = %brand_id, %customer, %campaign, message = %message.id,
        points = points.value(), "campaign bonus credited");
    Ok(true)
}
