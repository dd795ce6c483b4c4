//! Whole loyalty points.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A signed number of loyalty points.
///
/// Points are whole numbers. Arithmetic is checked: an overflow is an error, never a
/// silent wrap. Ledger credits are positive, debits negative.
///
/// ```
/// use regulars_domain::Points;
/// let a = Points::new(120);
/// assert_eq!(a.checked_sub(Points::new(20)), Some(Points::new(100)));
/// assert_eq!(Points::new(i64::MAX).checked_add(Points::new(1)), None);
/// ```
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Points(i64);

impl Points {
    /// No points.
    pub const ZERO: Points = Points(0);

    /// Wraps a raw value.
    pub const fn new(value: i64) -> Self {
        Points(value)
    }

    /// The raw value.
    pub const fn value(self) -> i64 {
        self.0
    }

    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: Points) -> Option<Points> {
        self.0.checked_add(other.0).map(Points)
    }

    /// `self - other`, or `None` on overflow.
    pub fn checked_sub(self, other: Points) -> Option<Points> {
        self.0.checked_sub(other.0).map(Points)
    }

    /// `-self`, or `None` for `i64::MIN`.
    pub fn checked_neg(self) -> Option<Points> {
        self.0.checked_neg().map(Points)
    }

    /// True when strictly greater than zero.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// True when strictly less than zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The smaller of two amounts.
    pub fn min(self, other: Points) -> Points {
        Points(self.0.min(other.0))
    }

    /// The larger of two amounts.
    pub fn max(self, other: Points) -> Points {
        Points(self.0.max(other.0))
    }

    /// Sums an iterator of points, `None` on overflow.
    pub fn checked_sum<I: IntoIterator<Item = Points>>(iter: I) -> Option<Points> {
        iter.into_iter()
            .try_fold(Points::ZERO, |acc, p| acc.checked_add(p))
    }
}

impl fmt::Display for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} pts", self.0)
    }
}
