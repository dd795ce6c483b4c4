//! What a refund may take back: the brand's policy for points already spent, the
//! share of an order refunded so far, and what a reversal did.

use super::{LedgerEntry, LedgerError};
use regulars_domain::{Money, Points};
use serde::{Deserialize, Serialize};

/// What a refund does when the customer has already spent the points it reverses: the
/// brand's `refund_overdraw` setting.
///
/// Whatever the policy, a refund takes back exactly what the order earned when the
/// balance covers it; the policies differ only in what happens to the shortfall.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundPolicy {
    /// Take everything back; the balance goes negative and the shortfall becomes debt,
    /// which the next credits repay before anything else. The default.
    #[default]
    Debt,
    /// First void unredeemed vouchers bought with points, newest redemption first, until
    /// their restored points cover the shortfall (see [`Ledger::reverse_order_voiding`](super::Ledger::reverse_order_voiding));
    /// whatever remains becomes debt.
    VoidUnredeemed,
    /// Take back only what the balance holds and record the rest as `unrecovered` on the
    /// reversal entry; the balance never goes below zero. Gives the spent points away, so
    /// only by a brand's explicit choice.
    Clamp,
}

/// What a refund did: its entries, and the redemptions whose vouchers must be voided
/// because their points were restored to pay for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reversal {
    /// The entries appended, in order: expiries, restorations, then the reversal.
    pub entries: Vec<LedgerEntry>,
    /// References of the redemptions restored (the vouchers to void), newest first.
    pub restored: Vec<String>,
    /// Points the reversal took back from the balance (possibly into debt).
    pub recovered: Points,
    /// Points it could not take back (only under [`RefundPolicy::Clamp`]).
    pub unrecovered: Points,
}

/// Whether a negative adjustment may take the balance below zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overdraft {
    /// Refuse an adjustment larger than the available points
    /// ([`LedgerError::InsufficientPoints`]).
    Refuse,
    /// Allow it: the shortfall becomes debt, as with [`RefundPolicy::Debt`].
    Allow,
}

/// The cumulative share of an order refunded so far: `refunded / total`, with
/// `0 <= refunded <= total` and `total > 0`, in any common unit (usually minor units of
/// money).
///
/// A partial reversal brings the order's total reversed points to
/// `floor(earned * refunded / total)`. Because the share is cumulative, successive partial
/// refunds never reverse more than the order earned, and the final full refund
/// (`refunded == total`) brings the total to exactly what it earned.
///
/// ```
/// use regulars_domain::{Currency, Money, Points};
/// use regulars_loyalty::ledger::RefundFraction;
///
/// let total = Money::from_minor_units(100_000, Currency::VND);
/// let refunded = Money::from_minor_units(30_000, Currency::VND);
/// let share = RefundFraction::from_money(&refunded, &total)?;
/// assert_eq!(share.reversal_target(Points::new(45))?, Points::new(13)); // floor(13.5)
/// assert_eq!(RefundFraction::FULL.reversal_target(Points::new(45))?, Points::new(45));
/// # Ok::<(), regulars_loyalty::ledger::LedgerError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RefundFraction {
    refunded: i64,
    total: i64,
}

impl RefundFraction {
    /// The whole order.
    pub const FULL: RefundFraction = RefundFraction {
        refunded: 1,
        total: 1,
    };

    /// `refunded / total`; refuses `total <= 0`, `refunded < 0` and `refunded > total`.
    pub fn new(refunded: i64, total: i64) -> Result<Self, LedgerError> {
        if total <= 0 || refunded < 0 || refunded > total {
            return Err(LedgerError::InvalidRefundFraction { refunded, total });
        }
        Ok(RefundFraction { refunded, total })
    }

    /// The share `refunded_so_far / order_total`, both in the same currency, computed
    /// exactly in minor units.
    pub fn from_money(refunded_so_far: &Money, order_total: &Money) -> Result<Self, LedgerError> {
        // Refuses mixed currencies before comparing minor units of different sizes.
        refunded_so_far.cmp_amount(order_total)?;
        Self::new(
            refunded_so_far.to_minor_units()?,
            order_total.to_minor_units()?,
        )
    }

    /// Refunded part (numerator).
    pub fn refunded(&self) -> i64 {
        self.refunded
    }

    /// Order total (denominator).
    pub fn total(&self) -> i64 {
        self.total
    }

    /// `floor(earned * refunded / total)`, computed exactly: what an order that earned
    /// `earned` has reversed in total once this share is refunded.
    pub fn reversal_target(&self, earned: Points) -> Result<Points, LedgerError> {
        // Both factors are below 2^63, so the product fits in an i128.
        let product = i128::from(earned.value())
            .checked_mul(i128::from(self.refunded))
            .ok_or(LedgerError::Overflow)?;
        let target = product
            .checked_div_euclid(i128::from(self.total))
            .ok_or(LedgerError::Overflow)?;
        i64::try_from(target)
            .map(Points::new)
            .map_err(|_| LedgerError::Overflow)
    }
}
