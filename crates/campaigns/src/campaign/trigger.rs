//! What makes a customer due for a campaign's message, and the occasion it names.

use serde::{Deserialize, Serialize};

/// What makes a customer due for a message. Each trigger also names the *occasion*, so a
/// customer gets at most one message per campaign and occasion (the dedupe key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// A thank-you after an order placed in the last `within_hours` (transactional).
    AfterPurchase {
        /// How old the order may be, in hours (default 24).
        #[serde(default = "default_within_hours")]
        within_hours: u32,
    },
    /// The customer's birthday is today or within `days_before` days.
    Birthday {
        /// How many days before the birthday the message may go (default 0).
        #[serde(default)]
        days_before: u32,
    },
    /// The customer is late: the time since the last visit is at least `factor` times the
    /// expected gap to the next visit.
    Overdue {
        /// Multiple of the expected gap (default 1.5).
        #[serde(default = "default_factor")]
        factor: f64,
    },
    /// The probability the customer is still active fell below `threshold`.
    PAliveBelow {
        /// Between 0 and 1.
        threshold: f64,
    },
    /// The customer moved up a tier in the last `within_days` days.
    TierUpgrade {
        /// How old the upgrade may be, in days (default 1).
        #[serde(default = "default_within_days")]
        within_days: u32,
    },
    /// Some of the customer's points expire within `within_days` days.
    PointsExpiring {
        /// Look-ahead in days.
        within_days: u32,
    },
    /// A one-off broadcast to everyone in the audience.
    Broadcast,
    /// The customer joined (registered or was first seen) in the last `within_days`
    /// days; once per customer. Planned as the customer is created, and by runs for
    /// customers who joined before the campaign started.
    Welcome {
        /// How long after joining the welcome may still go, in days (default 7).
        #[serde(default = "default_welcome_days")]
        within_days: u32,
    },
    /// The customer's balance pays for the cheapest reward of the catalogue (another
    /// multiple of it each time); once per reward and multiple.
    RewardAffordable,
    /// The customer is at most `points_away` points short of the next multiple of the
    /// cheapest reward's cost; once per reward and multiple.
    RewardNearly {
        /// How many points short, at most (at least 1).
        points_away: u32,
    },
    /// One of the customer's vouchers expires within `days_before` days, unused; once
    /// per voucher.
    VoucherExpiring {
        /// Look-ahead in days.
        days_before: u32,
    },
    /// The customer moved down a tier at a period-end review in the last `within_days`
    /// days: a notice (transactional unless it carries an offer).
    TierDown {
        /// How old the move may be, in days (default 1).
        #[serde(default = "default_within_days")]
        within_days: u32,
    },
}

fn default_welcome_days() -> u32 {
    7
}

fn default_within_hours() -> u32 {
    24
}
fn default_factor() -> f64 {
    1.5
}
fn default_within_days() -> u32 {
    1
}

impl Trigger {
    /// Whether messages of this trigger are transactional (exempt from promotional rules).
    pub fn is_transactional(&self) -> bool {
        matches!(
            self,
            Trigger::AfterPurchase { .. } | Trigger::TierDown { .. }
        )
    }
}
