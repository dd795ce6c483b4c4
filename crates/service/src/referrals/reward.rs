//! The referral's life on the friend's orders: their first order rewards both (in that
//! order's transaction), a full refund of that order takes both rewards back (in the
//! refund's transaction).
//!
//! Exactly once: the pure rules ([`step`]) change nothing on a later order, a replay or
//! a partial refund, and the stored move from one status to the next is one conditional
//! update (`decide`) made before any point is credited — of two transactions racing on
//! the same referral (two first orders at once, a redelivery), one moves it and credits,
//! the other finds it moved and credits nothing. Points go in as ledger adjustments by
//! the actor `referral`, with the referral's id and side in the reason.

use super::programme_of;
use crate::Services;
use crate::account::{Account, points_expiry};
use crate::error::CorruptLedger;
use regulars_domain::{BrandId, CustomerId, EventKey, Order, Points};
use regulars_loyalty::ledger::{LotsWanted, Overdraft};
use regulars_loyalty::referrals::{ReferralEvent, ReferralState, step};
use regulars_ports::{Brand, Referral, StoreError, Transaction};
use time::{Date, Month, OffsetDateTime, Time};

/// The actor of the ledger entries a referral writes.
pub const REFERRAL_ACTOR: &str = "referral";

/// `[start, end)` of the brand-local calendar month holding `now`, in UTC.
fn month_of(brand: &Brand, now: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
    let local = now.to_offset(brand.utc_offset);
    let first = |year: i32, month: Month| {
        Date::from_calendar_date(year, month, 1)
            .map(|d| d.with_time(Time::MIDNIGHT).assume_offset(brand.utc_offset))
            .unwrap_or(now)
    };
    let start = first(local.year(), local.month());
    let (year, month) = match local.month() {
        Month::December => (local.year() + 1, Month::January),
        m => (local.year(), m.next()),
    };
    (start, first(year, month))
}

/// Credits (or, negative, takes back) `points` on `account` for the referral.
async fn move_points<E>(
    tx: &mut dyn Transaction,
    brand: &Brand,
    account: &mut Account,
    points: Points,
    reason: String,
    now: OffsetDateTime,
) -> Result<(), E>
where
    E: From<StoreError> + From<CorruptLedger>,
{
    if points == Points::ZERO {
        return Ok(());
    }
    let at = account.time_for(now);
    let expiry = points
        .is_positive()
        .then(|| points_expiry(brand, at))
        .flatten();
    // Taking back a reward the customer already spent leaves a debt, as a refund does
    // under the `debt` policy: the reward is undone whatever happened to the points.
    let wanted = LotsWanted::adjust(at, points);
    let entries = account
        .command(tx, brand.id, &wanted, |ledger| {
            ledger.adjust(
                points,
                at,
                reason.clone(),
                REFERRAL_ACTOR,
                expiry,
                Overdraft::Allow,
            )
        })
        .await?
        .map_err(|error| CorruptLedger {
            customer: account.customer,
            error,
        })?;
    account.append(tx, brand.id, &entries).await?;
    Ok(())
}

/// Gives or takes back the referrer's `points`, unless the referrer is gone (erased).
async fn move_referrer_points<E>(
    tx: &mut dyn Transaction,
    brand: &Brand,
    referral: &Referral,
    points: Points,
    reason: String,
    now: OffsetDateTime,
) -> Result<(), E>
where
    E: From<StoreError> + From<CorruptLedger>,
{
    if points == Points::ZERO
        || tx
            .customers()
            .customer(brand.id, referral.referrer)
            .await?
            .is_none()
    {
        return Ok(());
    }
    let mut referrer = Account::open::<E>(tx, brand.id, referral.referrer).await?;
    move_points::<E>(tx, brand, &mut referrer, points, reason, now).await
}

/// Moves the stored referral to `next` from `from`; `false` when another transaction
/// moved it first.
async fn decide(
    tx: &mut dyn Transaction,
    brand: BrandId,
    referral: &Referral,
    next: ReferralState,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let moved = Referral {
        state: next,
        decided_at: Some(now),
        ..referral.clone()
    };
    tx.referrals()
        .decide(brand, &moved, referral.state.status())
        .await
}

impl Services {
    /// After the friend's order `order` is credited: on their first order, rewards both
    /// or ends the referral (below the minimum). Answers the friend's balance when it
    /// moved. Called only when the friend's account is marked as waiting for a
    /// referral (see `LockedAccount::referral_pending`), so nearly no order reads here.
    pub(crate) async fn referral_on_order_in<E>(
        &self,
        tx: &mut dyn Transaction,
        brand: &Brand,
        friend: CustomerId,
        order: &Order,
    ) -> Result<Option<Points>, E>
    where
        E: From<StoreError> + From<CorruptLedger>,
    {
        let Some(referral) = tx.referrals().referral_of_friend(brand.id, friend).await? else {
            return Ok(None);
        };
        if referral.state != ReferralState::Pending {
            return Ok(None);
        }
        let now = self.clock.now();
        let programme = programme_of(tx, brand.id).await?;
        let (from, to) = month_of(brand, now);
        let this_month = tx
            .referrals()
            .rewarded_between(brand.id, referral.referrer, from, to)
            .await?;
        let event = ReferralEvent::Order {
            order: order.key.clone(),
            total_minor: order.total.to_minor_units().unwrap_or(i64::MAX),
            referrer_rewarded_this_month: u32::try_from(this_month).unwrap_or(u32::MAX),
        };
        let Some(done) = step(&programme, &referral.state, &event) else {
            return Ok(None);
        };
        if !decide(tx, brand.id, &referral, done.state.clone(), now).await? {
            return Ok(None);
        }
        let why = |side: &str| format!("referral {} ({side})", referral.id);
        let mut account = Account::open::<E>(tx, brand.id, friend).await?;
        move_points::<E>(tx, brand, &mut account, done.friend, why("friend"), now).await?;
        let balance = account.balance();
        move_referrer_points::<E>(tx, brand, &referral, done.referrer, why("referrer"), now)
            .await?;
        tracing::info!(brand = %brand.id, referral = %referral.id, status = done.state.status(),
            friend = done.friend.value(), referrer = done.referrer.value(), "referral decided");
        Ok(Some(balance))
    }

    /// After a refund of the friend's order `order` (`fully`: now refunded in full):
    /// when it is the order that rewarded the referral, takes both rewards back, once.
    pub(crate) async fn referral_on_refund_in<E>(
        &self,
        tx: &mut dyn Transaction,
        brand: &Brand,
        friend: &mut Account,
        order: &EventKey,
        fully: bool,
    ) -> Result<(), E>
    where
        E: From<StoreError> + From<CorruptLedger>,
    {
        if !fully {
            return Ok(());
        }
        let Some(referral) = tx
            .referrals()
            .referral_of_friend(brand.id, friend.customer)
            .await?
        else {
            return Ok(());
        };
        let event = ReferralEvent::Refund {
            order: order.clone(),
            fully,
        };
        // The programme does not matter to a reversal: it gives back what was credited.
        let programme = regulars_loyalty::referrals::ReferralProgramme::default();
        let Some(done) = step(&programme, &referral.state, &event) else {
            return Ok(());
        };
        let now = self.clock.now();
        if !decide(tx, brand.id, &referral, done.state.clone(), now).await? {
            return Ok(());
        }
        let why = |side: &str| format!("referral {} reversed ({side})", referral.id);
        move_points::<E>(tx, brand, friend, done.friend, why("friend"), now).await?;
        move_referrer_points::<E>(tx, brand, &referral, done.referrer, why("referrer"), now)
            .await?;
        tracing::info!(brand = %brand.id, referral = %referral.id, "referral reversed");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regulars_domain::CallingCode;
    use time::macros::{datetime, offset};

    #[test]
    fn the_month_is_the_brands_local_month() {
        let brand = Brand {
            id: BrandId::from_uuid(uuid::Uuid::from_u128(1)),
            name: "b".into(),
            currency: "VND"
                .parse()
                .unwrap_or_else(|_| unreachable!("a known currency")),
            calling_code: CallingCode(84),
            utc_offset: offset!(+7),
            refund_policy: Default::default(),
            points_validity_days: None,
            created_at: datetime!(2026-01-01 0:00 UTC),
        };
        // 31 Dec 18:00 UTC is already 1 January in Vietnam.
        let (start, end) = month_of(&brand, datetime!(2026-12-31 18:00 UTC));
        assert_eq!(start, datetime!(2027-01-01 0:00 +7));
        assert_eq!(end, datetime!(2027-02-01 0:00 +7));
        let (start, end) = month_of(&brand, datetime!(2026-12-31 16:00 UTC));
        assert_eq!(start, datetime!(2026-12-01 0:00 +7));
        assert_eq!(end, datetime!(2027-01-01 0:00 +7));
    }
}
