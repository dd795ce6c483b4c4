//! Tier programmes: levels a customer reaches by points earned or money spent over a
//! rolling window, with immediate upgrades and downgrades only at the end of a review
//! period.
//!
//! A [`TierProgram`] is data (JSON), validated on construction. Its functions are pure:
//!
//! * [`TierProgram::qualifying_value`]: the points or spend of dated activities inside
//!   the window `(now − window_days, now]`;
//! * [`TierProgram::tier_for`]: the tier a qualifying value earns;
//! * [`TierProgram::on_activity`]: after a purchase, upgrade at once, never downgrade;
//! * [`TierProgram::at_period_end`]: at a review, move to exactly the tier the value
//!   earns, down as many levels as needed;
//! * [`TierProgram::review`]: the worker's period-end review, which only ever moves
//!   down (to exactly the tier the value earns);
//! * [`TierProgram::next_period_end`]: when the next review is due;
//! * [`TierProgram::progress`]: how much more is needed, for the customer's page.
//!
//! ```
//! use regulars_domain::Points;
//! use regulars_loyalty::tiers::{QualifyingActivity, QualifyingValue, TierDecision, TierProgram};
//! use time::macros::{datetime, offset};
//!
//! let program: TierProgram = serde_json::from_str(r#"{
//!     "metric": {"kind": "points"},
//!     "window_days": 365,
//!     "review_period": "quarter",
//!     "tiers": [
//!         {"code": "member", "name": "Member", "threshold": 0,
//!          "benefits": {"earn_multiplier": "1"}},
//!         {"code": "silver", "name": "Silver", "threshold": 1000,
//!          "benefits": {"earn_multiplier": "1.25", "perks": ["Free upsize"]}},
//!         {"code": "gold", "name": "Gold", "threshold": 3000,
//!          "benefits": {"earn_multiplier": "1.5", "perks": ["Free upsize", "Birthday drink"]}}
//!     ]
//! }"#)?;
//!
//! let now = datetime!(2026-05-20 10:00 UTC);
//! let activities = [
//!     QualifyingActivity { at: datetime!(2025-05-20 10:00 UTC), value: QualifyingValue::Points(Points::new(900)) },
//!     QualifyingActivity { at: datetime!(2026-01-10 08:00 UTC), value: QualifyingValue::Points(Points::new(700)) },
//!     QualifyingActivity { at: datetime!(2026-05-20 10:00 UTC), value: QualifyingValue::Points(Points::new(400)) },
//! ];
//! // The first activity is exactly 365 days old: outside the window.
//! let value = program.qualifying_value(&activities, now)?;
//! assert_eq!(value, QualifyingValue::Points(Points::new(1100)));
//!
//! let member = program.tiers()[0].code.clone();
//! let decision = program.on_activity(Some(&member), value)?;
//! assert!(matches!(&decision, TierDecision::Upgrade { to, .. } if to.as_str() == "silver"));
//!
//! // Reviews happen at the end of each calendar quarter, Vietnam time.
//! let review = program.next_period_end(now, offset!(+7))?;
//! assert_eq!(review, datetime!(2026-07-01 00:00 +7));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod code;
mod decision;
mod error;
mod metric;
mod period;
mod program;
mod qualification;

pub use code::TierCode;
pub use decision::{NextTier, TierDecision, TierProgress};
pub use error::{TierError, TierProgramError};
pub use metric::{QualificationMetric, QualifyingActivity, QualifyingValue};
pub use period::ReviewPeriod;
pub use program::{Tier, TierBenefits, TierProgram};

#[cfg(test)]
mod tests;
