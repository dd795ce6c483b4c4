//! What the programme answers about a customer: a tier decision, and where they stand.

use super::{QualifyingValue, TierCode};
use serde::{Deserialize, Serialize};

/// What happens to a customer's tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum TierDecision {
    /// Stays where it is.
    Unchanged {
        /// The tier held (none when below every threshold).
        tier: Option<TierCode>,
    },
    /// Moves up.
    Upgrade {
        /// The tier held before (none when the customer had no tier).
        from: Option<TierCode>,
        /// The new tier.
        to: TierCode,
    },
    /// Moves down (only ever at a review).
    Downgrade {
        /// The tier held before.
        from: TierCode,
        /// The new tier (none when below every threshold).
        to: Option<TierCode>,
    },
}

impl TierDecision {
    /// The tier held after the decision.
    pub fn tier(&self) -> Option<&TierCode> {
        match self {
            TierDecision::Unchanged { tier } => tier.as_ref(),
            TierDecision::Upgrade { to, .. } => Some(to),
            TierDecision::Downgrade { to, .. } => to.as_ref(),
        }
    }

    /// True for an upgrade or a downgrade.
    pub fn is_change(&self) -> bool {
        !matches!(self, TierDecision::Unchanged { .. })
    }
}

/// Where a customer stands, for their page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierProgress {
    /// The tier held, once any immediate upgrade the value earns is applied.
    pub tier: Option<TierCode>,
    /// The qualifying value the progress was computed from (never below zero).
    pub value: QualifyingValue,
    /// The next tier up and how far it is; none at the top tier.
    pub next: Option<NextTier>,
    /// How much more is needed for the value to still reach the held tier's threshold at
    /// the next review (zero when it already does, or when no tier is held). Computed
    /// from `value`: for the exact figure, pass the value over the window ending at the
    /// next period end, since older activities drop out of the window by then.
    pub to_keep: QualifyingValue,
}

/// The next tier up, on a customer's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextTier {
    /// Its code.
    pub tier: TierCode,
    /// Its threshold.
    pub threshold: QualifyingValue,
    /// How much more is needed to reach it (positive).
    pub remaining: QualifyingValue,
}
