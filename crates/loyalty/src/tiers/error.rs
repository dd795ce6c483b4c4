//! Why a tier programme is invalid, and why a tier question cannot be answered.

use super::{QualificationMetric, TierCode};
use thiserror::Error;

/// Why a tier programme (or a tier code) is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {reason}")]
pub struct TierProgramError {
    /// The offending field, e.g. `"tiers[1].threshold"`.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl TierProgramError {
    pub(super) fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        TierProgramError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Why a tier question cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TierError {
    /// The customer's current tier is not in the programme (it was removed). The caller
    /// decides: usually treat the customer as holding no tier.
    #[error("tier {code} is not in the programme")]
    UnknownTier {
        /// The code given.
        code: TierCode,
    },
    /// A value in another metric (or currency) than the programme's.
    #[error("expected {expected}, found {found}")]
    MetricMismatch {
        /// The programme's metric.
        expected: QualificationMetric,
        /// The value's metric.
        found: QualificationMetric,
    },
    /// A sum of activities does not fit.
    #[error("qualifying value overflowed")]
    Overflow,
    /// A date outside the calendar the `time` crate supports (years −9999 to 9999).
    #[error("date out of the supported range")]
    DateOutOfRange,
}
