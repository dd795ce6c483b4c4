//! What the loyalty programme gave away in a period, set beside the revenue.
//!
//! Points cost the shop nothing until they are spent, and everything a customer gets
//! for them (or from a campaign, a stamp card or a referral) reaches the till as a
//! voucher. So the programme's cost in a period is what the vouchers **redeemed** in
//! it took off their orders, each valued by whoever adds it (the reward's cost to the
//! shop: see `regulars_loyalty`'s `Reward::cost_to_shop`); vouchers that cannot be
//! valued are counted apart, never guessed.

use crate::facts::{ReportError, Sum};
use regulars_domain::{Currency, Money};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The programme's cost in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgrammeCost {
    /// What the valued vouchers took off their orders.
    pub cost: Money,
    /// Vouchers redeemed in the period.
    pub redeemed: u64,
    /// Of those, how many could not be valued (and are not in `cost`).
    pub unpriced: u64,
}

impl ProgrammeCost {
    /// `cost / revenue`: the share of the revenue the programme gave away; `None` when
    /// the revenue is not positive or in another currency.
    pub fn share_of(&self, revenue: Money) -> Option<f64> {
        use rust_decimal::prelude::ToPrimitive;
        if revenue.currency() != self.cost.currency() || revenue.amount() <= Decimal::ZERO {
            return None;
        }
        (self.cost.amount() / revenue.amount()).to_f64()
    }
}

/// Adds up redeemed vouchers' costs into a [`ProgrammeCost`]; in any order and in
/// pages, the result is the same.
///
/// ```
/// use regulars_domain::{Currency, Money};
/// use regulars_reports::ProgrammeCostBuilder;
///
/// let vnd = |n| Money::from_minor_units(n, Currency::VND);
/// let mut cost = ProgrammeCostBuilder::new(Currency::VND);
/// cost.add(Some(vnd(45_000)))?; // a free milk tea
/// cost.add(Some(vnd(20_000)))?; // 20,000 off
/// cost.add(None)?;              // a free item no longer on the menu
/// let cost = cost.finish()?;
/// assert_eq!((cost.cost, cost.redeemed, cost.unpriced), (vnd(65_000), 3, 1));
/// assert_eq!(cost.share_of(vnd(650_000)), Some(0.1));
/// # Ok::<(), regulars_reports::ReportError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ProgrammeCostBuilder {
    currency: Currency,
    cost: Sum,
    redeemed: u64,
    unpriced: u64,
}

impl ProgrammeCostBuilder {
    /// An empty total in the brand's `currency`.
    pub fn new(currency: Currency) -> Self {
        ProgrammeCostBuilder {
            currency,
            cost: Sum::new(currency),
            redeemed: 0,
            unpriced: 0,
        }
    }

    /// Adds one redeemed voucher and what it cost, `None` when it cannot be valued.
    pub fn add(&mut self, cost: Option<Money>) -> Result<(), ReportError> {
        self.redeemed += 1;
        match cost {
            Some(cost) if cost.currency() != self.currency => Err(ReportError::Currency {
                expected: self.currency,
                found: cost.currency(),
            }),
            Some(cost) => self.cost.add(cost.amount()),
            None => {
                self.unpriced += 1;
                Ok(())
            }
        }
    }

    /// The total.
    pub fn finish(&self) -> Result<ProgrammeCost, ReportError> {
        Ok(ProgrammeCost {
            cost: self.cost.money()?,
            redeemed: self.redeemed,
            unpriced: self.unpriced,
        })
    }
}
