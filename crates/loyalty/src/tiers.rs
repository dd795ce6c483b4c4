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

use regulars_domain::{Currency, Money, Points};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use thiserror::Error;
use time::{Date, Duration, Month, OffsetDateTime, UtcOffset};

/// Longest accepted qualification window, in days (ten years).
const MAX_WINDOW_DAYS: u32 = 3_660;
/// Most tiers a programme may have.
const MAX_TIERS: usize = 20;
/// Longest tier code, in bytes.
const MAX_CODE_BYTES: usize = 32;
/// Longest tier name, in characters.
const MAX_NAME_CHARS: usize = 64;
/// Most perks a tier may list.
const MAX_PERKS: usize = 20;
/// Longest perk, in characters.
const MAX_PERK_CHARS: usize = 200;
/// Highest earning multiplier a tier may give.
const MAX_EARN_MULTIPLIER: Decimal = Decimal::TEN;

/// The stable identifier of a tier inside its programme, e.g. `"silver"`.
///
/// 1 to 32 bytes of lower-case ASCII letters, digits, `-` and `_`. Customers' stored
/// tiers refer to it, so renaming a tier's display name never loses anyone's tier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TierCode(String);

impl TierCode {
    /// Checks and wraps a code.
    pub fn new(code: impl Into<String>) -> Result<TierCode, TierProgramError> {
        let code = code.into();
        if code.is_empty() || code.len() > MAX_CODE_BYTES {
            return Err(TierProgramError::new(
                "code",
                format!("must be 1 to {MAX_CODE_BYTES} bytes"),
            ));
        }
        let allowed =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        if !code.chars().all(allowed) {
            return Err(TierProgramError::new(
                "code",
                "only lower-case ASCII letters, digits, '-' and '_'",
            ));
        }
        Ok(TierCode(code))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TierCode {
    type Error = TierProgramError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        TierCode::new(s)
    }
}

impl From<TierCode> for String {
    fn from(code: TierCode) -> String {
        code.0
    }
}

impl fmt::Display for TierCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What qualifies a customer for a tier.
///
/// In JSON: `{"kind": "points"}` or `{"kind": "spend", "currency": "VND"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "MetricRecord", into = "MetricRecord")]
pub enum QualificationMetric {
    /// Points earned in the window (not the balance: spending points does not cost a
    /// tier).
    Points,
    /// Money spent in the window, in one currency.
    Spend {
        /// The currency spend is counted in.
        currency: Currency,
    },
}

impl QualificationMetric {
    /// Nothing yet: zero points or zero spend.
    pub fn zero(self) -> QualifyingValue {
        match self {
            QualificationMetric::Points => QualifyingValue::Points(Points::ZERO),
            QualificationMetric::Spend { currency } => {
                QualifyingValue::Spend(Money::zero(currency))
            }
        }
    }

    /// Builds a value of this metric from a decimal number (whole points, or an amount).
    fn value(self, number: Decimal) -> Result<QualifyingValue, String> {
        match self {
            QualificationMetric::Points => {
                if !number.fract().is_zero() {
                    return Err("points must be a whole number".into());
                }
                i64::try_from(number)
                    .map(|n| QualifyingValue::Points(Points::new(n)))
                    .map_err(|_| "too many points".into())
            }
            QualificationMetric::Spend { currency } => Money::new(number, currency)
                .map(QualifyingValue::Spend)
                .map_err(|e| e.to_string()),
        }
    }
}

/// The JSON shape of a [`QualificationMetric`], strict about stray fields for both kinds.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricRecord {
    kind: MetricKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    currency: Option<Currency>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum MetricKind {
    Points,
    Spend,
}

impl TryFrom<MetricRecord> for QualificationMetric {
    type Error = TierProgramError;

    fn try_from(r: MetricRecord) -> Result<Self, Self::Error> {
        match (r.kind, r.currency) {
            (MetricKind::Points, None) => Ok(QualificationMetric::Points),
            (MetricKind::Spend, Some(currency)) => Ok(QualificationMetric::Spend { currency }),
            (MetricKind::Points, Some(_)) => Err(TierProgramError::new(
                "metric.currency",
                "only a spend metric has a currency",
            )),
            (MetricKind::Spend, None) => Err(TierProgramError::new(
                "metric.currency",
                "a spend metric needs a currency",
            )),
        }
    }
}

impl From<QualificationMetric> for MetricRecord {
    fn from(m: QualificationMetric) -> Self {
        match m {
            QualificationMetric::Points => MetricRecord {
                kind: MetricKind::Points,
                currency: None,
            },
            QualificationMetric::Spend { currency } => MetricRecord {
                kind: MetricKind::Spend,
                currency: Some(currency),
            },
        }
    }
}

impl fmt::Display for QualificationMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QualificationMetric::Points => f.write_str("points"),
            QualificationMetric::Spend { currency } => write!(f, "spend in {currency}"),
        }
    }
}

/// An amount of the qualification metric: points earned or money spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QualifyingValue {
    /// Points earned.
    Points(Points),
    /// Money spent.
    Spend(Money),
}

impl QualifyingValue {
    /// The metric this value measures.
    pub fn metric(&self) -> QualificationMetric {
        match self {
            QualifyingValue::Points(_) => QualificationMetric::Points,
            QualifyingValue::Spend(m) => QualificationMetric::Spend {
                currency: m.currency(),
            },
        }
    }

    /// The value as a plain number, for comparisons within one metric.
    fn number(&self) -> Decimal {
        match self {
            QualifyingValue::Points(p) => Decimal::from(p.value()),
            QualifyingValue::Spend(m) => m.amount(),
        }
    }
}

impl fmt::Display for QualifyingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QualifyingValue::Points(p) => p.fmt(f),
            QualifyingValue::Spend(m) => m.fmt(f),
        }
    }
}

/// Something that counts towards a tier, and when it happened: the points an order
/// earned, or what it cost. A refund is a negative activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualifyingActivity {
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// How much it counts (negative for a reversal).
    pub value: QualifyingValue,
}

/// How often tiers are reviewed for downgrades, on the brand's wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewPeriod {
    /// Every calendar month.
    Month,
    /// Every calendar quarter: January–March, April–June, July–September,
    /// October–December.
    Quarter,
    /// Every calendar year.
    Year,
}

impl ReviewPeriod {
    /// The end of the review period running at `now`, on the wall clock of `offset`.
    ///
    /// A period ends at the first instant of the next one: local midnight starting the
    /// 1st of the next month, quarter or year. The result is the earliest period end
    /// strictly after `now`, so at exactly midnight on the 1st it is the end of the
    /// period that has just begun.
    ///
    /// ```
    /// use regulars_loyalty::tiers::ReviewPeriod;
    /// use time::macros::{datetime, offset};
    /// // 20:00 UTC on 31 March is already 03:00 on 1 April in Vietnam: a new quarter.
    /// let end = ReviewPeriod::Quarter.next_period_end(datetime!(2026-03-31 20:00 UTC), offset!(+7))?;
    /// assert_eq!(end, datetime!(2026-07-01 00:00 +7));
    /// # Ok::<(), regulars_loyalty::tiers::TierError>(())
    /// ```
    pub fn next_period_end(
        self,
        now: OffsetDateTime,
        offset: UtcOffset,
    ) -> Result<OffsetDateTime, TierError> {
        let local = now
            .checked_to_offset(offset)
            .ok_or(TierError::DateOutOfRange)?;
        let (year, month) = (local.year(), u8::from(local.month()));
        let (year, month) = match self {
            ReviewPeriod::Month if month == 12 => (year + 1, 1),
            ReviewPeriod::Month => (year, month + 1),
            ReviewPeriod::Quarter if month >= 10 => (year + 1, 1),
            ReviewPeriod::Quarter => (year, (month - 1) / 3 * 3 + 4),
            ReviewPeriod::Year => (year + 1, 1),
        };
        let month = Month::try_from(month).map_err(|_| TierError::DateOutOfRange)?;
        let start =
            Date::from_calendar_date(year, month, 1).map_err(|_| TierError::DateOutOfRange)?;
        Ok(start.midnight().assume_offset(offset))
    }

    /// The latest period end at or before `now`, on the wall clock of `offset`: local
    /// midnight starting the 1st of the month, quarter or year running at `now`. This is
    /// the period end a review owes at `now`; it is the same instant for every moment
    /// until the next period end.
    ///
    /// ```
    /// use regulars_loyalty::tiers::ReviewPeriod;
    /// use time::macros::{datetime, offset};
    /// let end = ReviewPeriod::Quarter.last_period_end(datetime!(2026-05-20 10:00 UTC), offset!(+7))?;
    /// assert_eq!(end, datetime!(2026-04-01 00:00 +7));
    /// # Ok::<(), regulars_loyalty::tiers::TierError>(())
    /// ```
    pub fn last_period_end(
        self,
        now: OffsetDateTime,
        offset: UtcOffset,
    ) -> Result<OffsetDateTime, TierError> {
        let local = now
            .checked_to_offset(offset)
            .ok_or(TierError::DateOutOfRange)?;
        let month = u8::from(local.month());
        let month = match self {
            ReviewPeriod::Month => month,
            ReviewPeriod::Quarter => (month - 1) / 3 * 3 + 1,
            ReviewPeriod::Year => 1,
        };
        let month = Month::try_from(month).map_err(|_| TierError::DateOutOfRange)?;
        let start = Date::from_calendar_date(local.year(), month, 1)
            .map_err(|_| TierError::DateOutOfRange)?;
        Ok(start.midnight().assume_offset(offset))
    }
}

/// What a tier gives its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierBenefits {
    /// Points earned are multiplied by this; from 1 to 10.
    pub earn_multiplier: Decimal,
    /// Other advantages, as shown to the customer ("Free upsize").
    #[serde(default)]
    pub perks: Vec<String>,
}

/// A level of a tier programme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    /// Stable identifier.
    pub code: TierCode,
    /// Display name, e.g. "Vàng" or "Gold".
    pub name: String,
    /// The qualifying value that earns it; 0 for a base tier everyone has.
    pub threshold: QualifyingValue,
    /// What it gives.
    pub benefits: TierBenefits,
}

/// A brand's tier programme, checked on construction: tiers in strictly increasing
/// order of threshold, unique codes, thresholds in the programme's metric.
///
/// In JSON, thresholds are plain numbers in the metric's unit (whole points, or an
/// amount in the metric's currency); unknown fields are rejected, and a validation error
/// names the field, e.g. `tiers[2].benefits.earn_multiplier`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TierProgramRecord", into = "TierProgramRecord")]
pub struct TierProgram {
    metric: QualificationMetric,
    window_days: u32,
    review_period: ReviewPeriod,
    tiers: Vec<Tier>,
}

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
    fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
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

impl TierProgram {
    /// A checked programme: `window_days` from 1 to 3660; 1 to 20 tiers in strictly
    /// increasing order of threshold, thresholds non-negative and in `metric`; unique
    /// codes; names of 1 to 64 characters; earning multipliers from 1 to 10; at most 20
    /// non-empty perks of at most 200 characters each.
    pub fn new(
        metric: QualificationMetric,
        window_days: u32,
        review_period: ReviewPeriod,
        tiers: Vec<Tier>,
    ) -> Result<TierProgram, TierProgramError> {
        if !(1..=MAX_WINDOW_DAYS).contains(&window_days) {
            return Err(TierProgramError::new(
                "window_days",
                format!("must be between 1 and {MAX_WINDOW_DAYS}"),
            ));
        }
        if tiers.is_empty() || tiers.len() > MAX_TIERS {
            return Err(TierProgramError::new(
                "tiers",
                format!("must have 1 to {MAX_TIERS} tiers"),
            ));
        }
        let mut codes = BTreeSet::new();
        for (i, tier) in tiers.iter().enumerate() {
            let field = |name: &str| format!("tiers[{i}].{name}");
            if !codes.insert(&tier.code) {
                return Err(TierProgramError::new(
                    field("code"),
                    format!("{} is used by another tier", tier.code),
                ));
            }
            let name = tier.name.trim();
            if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
                return Err(TierProgramError::new(
                    field("name"),
                    format!("must be 1 to {MAX_NAME_CHARS} characters"),
                ));
            }
            if tier.threshold.metric() != metric {
                return Err(TierProgramError::new(
                    field("threshold"),
                    format!("must be {metric}, found {}", tier.threshold.metric()),
                ));
            }
            if tier.threshold.number() < Decimal::ZERO {
                return Err(TierProgramError::new(
                    field("threshold"),
                    "must not be negative",
                ));
            }
            if let Some(previous) = i.checked_sub(1).and_then(|p| tiers.get(p))
                && tier.threshold.number() <= previous.threshold.number()
            {
                return Err(TierProgramError::new(
                    field("threshold"),
                    format!(
                        "must be above the previous tier's {} (tiers are listed from lowest to highest)",
                        previous.threshold
                    ),
                ));
            }
            let multiplier = tier.benefits.earn_multiplier;
            if multiplier < Decimal::ONE || multiplier > MAX_EARN_MULTIPLIER {
                return Err(TierProgramError::new(
                    field("benefits.earn_multiplier"),
                    format!("must be between 1 and {MAX_EARN_MULTIPLIER}"),
                ));
            }
            if tier.benefits.perks.len() > MAX_PERKS {
                return Err(TierProgramError::new(
                    field("benefits.perks"),
                    format!("at most {MAX_PERKS} perks"),
                ));
            }
            for (j, perk) in tier.benefits.perks.iter().enumerate() {
                let perk = perk.trim();
                if perk.is_empty() || perk.chars().count() > MAX_PERK_CHARS {
                    return Err(TierProgramError::new(
                        field(&format!("benefits.perks[{j}]")),
                        format!("must be 1 to {MAX_PERK_CHARS} characters"),
                    ));
                }
            }
        }
        Ok(TierProgram {
            metric,
            window_days,
            review_period,
            tiers,
        })
    }

    /// What qualifies customers.
    pub fn metric(&self) -> QualificationMetric {
        self.metric
    }

    /// Length of the rolling qualification window, in days.
    pub fn window_days(&self) -> u32 {
        self.window_days
    }

    /// How often downgrades are reviewed.
    pub fn review_period(&self) -> ReviewPeriod {
        self.review_period
    }

    /// The tiers, lowest first.
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }

    /// The tier with this code.
    pub fn tier(&self, code: &TierCode) -> Option<&Tier> {
        self.tiers.iter().find(|t| &t.code == code)
    }

    /// The (exclusive) start of the window ending at `now`: `now − window_days × 24 h`.
    /// Activities strictly after it and at or before `now` count. `None` when it falls
    /// before the earliest supported date, in which case everything up to `now` counts.
    pub fn window_start(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        now.checked_sub(Duration::days(i64::from(self.window_days)))
    }

    /// The qualifying value of `activities` over the window ending at `now`: the sum of
    /// those with `now − window_days × 24 h < at <= now`, floored at zero (refunds of
    /// activities older than the window cannot push it below nothing).
    pub fn qualifying_value(
        &self,
        activities: &[QualifyingActivity],
        now: OffsetDateTime,
    ) -> Result<QualifyingValue, TierError> {
        let start = self.window_start(now);
        let mut sum = Decimal::ZERO;
        for activity in activities {
            // Checked even outside the window, so the answer never depends on `now`.
            let n = self.number_of(activity.value)?;
            if activity.at <= now && start.is_none_or(|s| activity.at > s) {
                sum = sum.checked_add(n).ok_or(TierError::Overflow)?;
            }
        }
        self.value_of(sum.max(Decimal::ZERO))
    }

    /// The tier a qualifying value earns: the highest whose threshold it reaches (a value
    /// below zero counts as zero). `None` when it reaches no threshold.
    pub fn tier_for(&self, value: QualifyingValue) -> Result<Option<&Tier>, TierError> {
        let rank = self.earned_rank(value)?;
        Ok(rank.and_then(|r| self.tiers.get(r)))
    }

    /// The decision after new activity: upgrade at once to the tier `value` (the
    /// qualifying value now) earns if it is above `current`; never downgrade.
    pub fn on_activity(
        &self,
        current: Option<&TierCode>,
        value: QualifyingValue,
    ) -> Result<TierDecision, TierError> {
        let held = self.rank_of(current)?;
        let earned = self.earned_rank(value)?;
        Ok(self.decide(held, held.max(earned)))
    }

    /// The decision at the end of a review period: the customer gets exactly the tier
    /// `value` earns, up or down by as many levels as needed.
    ///
    /// Pass the value over the window ending at the period end under review (the instant
    /// [`TierProgram::next_period_end`] gave before it passed), not at the time the
    /// review job happens to run, so a late review decides the same.
    pub fn at_period_end(
        &self,
        current: Option<&TierCode>,
        value: QualifyingValue,
    ) -> Result<TierDecision, TierError> {
        let held = self.rank_of(current)?;
        let earned = self.earned_rank(value)?;
        Ok(self.decide(held, earned))
    }

    /// The decision of the period-end review the worker runs: the customer moves down to
    /// exactly the tier `value` earns, as many levels as needed (to no tier when it
    /// reaches no threshold), and never up (upgrades happen at once, on activity; see
    /// [`TierProgram::on_activity`]). A customer whose value still reaches the held
    /// tier's threshold keeps it, so a second review with the same value changes
    /// nothing.
    ///
    /// Pass the value over the window ending at the period end under review, as for
    /// [`TierProgram::at_period_end`].
    pub fn review(
        &self,
        current: Option<&TierCode>,
        value: QualifyingValue,
    ) -> Result<TierDecision, TierError> {
        let held = self.rank_of(current)?;
        let earned = self.earned_rank(value)?;
        Ok(self.decide(held, held.min(earned)))
    }

    /// When the review period running at `now` ends, on the wall clock of `offset`; see
    /// [`ReviewPeriod::next_period_end`].
    ///
    /// A review job that last ran at `last` owes a review once
    /// `next_period_end(last, offset) <= now`.
    pub fn next_period_end(
        &self,
        now: OffsetDateTime,
        offset: UtcOffset,
    ) -> Result<OffsetDateTime, TierError> {
        self.review_period.next_period_end(now, offset)
    }

    /// The earning multiplier of a tier; 1 for no tier.
    pub fn earn_multiplier(&self, current: Option<&TierCode>) -> Result<Decimal, TierError> {
        Ok(self
            .rank_of(current)?
            .and_then(|r| self.tiers.get(r))
            .map_or(Decimal::ONE, |t| t.benefits.earn_multiplier))
    }

    /// Where a customer holding `current` with qualifying value `value` stands: the
    /// tier held after any immediate upgrade, the next tier and how much more it needs,
    /// and how much more keeps the held tier at the next review.
    pub fn progress(
        &self,
        current: Option<&TierCode>,
        value: QualifyingValue,
    ) -> Result<TierProgress, TierError> {
        let number = self.number_of(value)?.max(Decimal::ZERO);
        let held = self.rank_of(current)?.max(self.rank_for(number));
        let next_rank = held.map_or(0, |r| r + 1);
        let next = match self.tiers.get(next_rank) {
            Some(tier) => Some(NextTier {
                tier: tier.code.clone(),
                threshold: tier.threshold,
                remaining: self.value_of(self.shortfall(tier, number)?)?,
            }),
            None => None,
        };
        let to_keep = match held.and_then(|r| self.tiers.get(r)) {
            Some(tier) => self.shortfall(tier, number)?,
            None => Decimal::ZERO,
        };
        Ok(TierProgress {
            tier: held.and_then(|r| self.tiers.get(r)).map(|t| t.code.clone()),
            value: self.value_of(number)?,
            next,
            to_keep: self.value_of(to_keep)?,
        })
    }

    /// `max(0, threshold − number)`.
    fn shortfall(&self, tier: &Tier, number: Decimal) -> Result<Decimal, TierError> {
        let gap = tier
            .threshold
            .number()
            .checked_sub(number)
            .ok_or(TierError::Overflow)?;
        Ok(gap.max(Decimal::ZERO))
    }

    /// The index of the tier a value earns.
    fn earned_rank(&self, value: QualifyingValue) -> Result<Option<usize>, TierError> {
        Ok(self.rank_for(self.number_of(value)?))
    }

    /// The index of the highest tier whose threshold `number` reaches (floored at zero).
    fn rank_for(&self, number: Decimal) -> Option<usize> {
        let number = number.max(Decimal::ZERO);
        self.tiers
            .iter()
            .rposition(|t| t.threshold.number() <= number)
    }

    /// The index of a held tier; `None` for no tier.
    fn rank_of(&self, code: Option<&TierCode>) -> Result<Option<usize>, TierError> {
        match code {
            None => Ok(None),
            Some(code) => self
                .tiers
                .iter()
                .position(|t| &t.code == code)
                .map(Some)
                .ok_or_else(|| TierError::UnknownTier { code: code.clone() }),
        }
    }

    /// The decision moving from the tier at `from` to the tier at `to`.
    fn decide(&self, from: Option<usize>, to: Option<usize>) -> TierDecision {
        let code =
            |rank: Option<usize>| rank.and_then(|r| self.tiers.get(r)).map(|t| t.code.clone());
        match (code(from), code(to)) {
            (from_code, Some(to_code)) if to > from => TierDecision::Upgrade {
                from: from_code,
                to: to_code,
            },
            (Some(from_code), to_code) if to < from => TierDecision::Downgrade {
                from: from_code,
                to: to_code,
            },
            (from_code, _) => TierDecision::Unchanged { tier: from_code },
        }
    }

    /// The plain number of a value, checked to be in the programme's metric.
    fn number_of(&self, value: QualifyingValue) -> Result<Decimal, TierError> {
        if value.metric() == self.metric {
            Ok(value.number())
        } else {
            Err(TierError::MetricMismatch {
                expected: self.metric,
                found: value.metric(),
            })
        }
    }

    /// A value of the programme's metric from a plain number computed from valid values.
    fn value_of(&self, number: Decimal) -> Result<QualifyingValue, TierError> {
        self.metric.value(number).map_err(|_| TierError::Overflow)
    }
}

/// The JSON shape of a [`TierProgram`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TierProgramRecord {
    metric: QualificationMetric,
    window_days: u32,
    review_period: ReviewPeriod,
    tiers: Vec<TierRecord>,
}

/// The JSON shape of a [`Tier`]: the threshold is a plain number in the metric's unit.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TierRecord {
    code: String,
    name: String,
    threshold: Decimal,
    benefits: TierBenefits,
}

impl TryFrom<TierProgramRecord> for TierProgram {
    type Error = TierProgramError;

    fn try_from(r: TierProgramRecord) -> Result<Self, Self::Error> {
        let tiers = r
            .tiers
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                let code = TierCode::new(t.code)
                    .map_err(|e| TierProgramError::new(format!("tiers[{i}].code"), e.reason))?;
                let threshold = r.metric.value(t.threshold).map_err(|reason| {
                    TierProgramError::new(format!("tiers[{i}].threshold"), reason)
                })?;
                Ok(Tier {
                    code,
                    name: t.name,
                    threshold,
                    benefits: t.benefits,
                })
            })
            .collect::<Result<Vec<_>, TierProgramError>>()?;
        TierProgram::new(r.metric, r.window_days, r.review_period, tiers)
    }
}

impl From<TierProgram> for TierProgramRecord {
    fn from(p: TierProgram) -> Self {
        TierProgramRecord {
            metric: p.metric,
            window_days: p.window_days,
            review_period: p.review_period,
            tiers: p
                .tiers
                .into_iter()
                .map(|t| TierRecord {
                    code: t.code.0,
                    name: t.name,
                    threshold: t.threshold.number(),
                    benefits: t.benefits,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use time::macros::{datetime, offset};

    fn spend_program() -> Result<TierProgram, serde_json::Error> {
        serde_json::from_str(
            r#"{
                "metric": {"kind": "spend", "currency": "VND"},
                "window_days": 180,
                "review_period": "month",
                "tiers": [
                    {"code": "silver", "name": "Bạc", "threshold": "1000000",
                     "benefits": {"earn_multiplier": "1.2"}},
                    {"code": "gold", "name": "Vàng", "threshold": 3000000,
                     "benefits": {"earn_multiplier": 1.5, "perks": ["Free upsize"]}}
                ]
            }"#,
        )
    }

    fn vnd(n: i64) -> QualifyingValue {
        QualifyingValue::Spend(Money::from_minor_units(n, Currency::VND))
    }

    fn code(s: &str) -> TierCode {
        TierCode(s.into())
    }

    #[test]
    fn json_round_trip() -> Result<(), serde_json::Error> {
        let p = spend_program()?;
        assert_eq!(p.tiers()[1].benefits.earn_multiplier, dec!(1.5));
        let again: TierProgram = serde_json::from_str(&serde_json::to_string(&p)?)?;
        assert_eq!(again, p);
        Ok(())
    }

    #[test]
    fn invalid_json_names_the_field() -> Result<(), serde_json::Error> {
        let good = serde_json::to_value(spend_program()?)?;
        let cases = [
            (
                "/tiers/1/threshold",
                serde_json::json!("999999"),
                "tiers[1].threshold",
            ),
            (
                "/tiers/0/threshold",
                serde_json::json!("0.5"),
                "tiers[0].threshold",
            ),
            (
                "/tiers/1/code",
                serde_json::json!("silver"),
                "tiers[1].code",
            ),
            ("/tiers/1/code", serde_json::json!("Gold"), "tiers[1].code"),
            (
                "/tiers/0/benefits/earn_multiplier",
                serde_json::json!("0.9"),
                "tiers[0].benefits.earn_multiplier",
            ),
            (
                "/tiers/0/benefits/perks",
                serde_json::json!([" "]),
                "tiers[0].benefits.perks[0]",
            ),
            ("/window_days", serde_json::json!(0), "window_days"),
        ];
        for (pointer, bad, field) in cases {
            let mut v = good.clone();
            if let Some(slot) = v.pointer_mut(pointer) {
                *slot = bad;
            }
            let err = serde_json::from_value::<TierProgram>(v)
                .err()
                .map(|e| e.to_string());
            assert!(
                err.as_deref()
                    .is_some_and(|e| e.starts_with(&format!("{field}: "))),
                "{pointer}: {err:?}"
            );
        }
        let mut v = good.clone();
        v["surprise"] = serde_json::json!(true);
        assert!(serde_json::from_value::<TierProgram>(v).is_err());
        for metric in [
            serde_json::json!({"kind": "points", "currency": "VND"}),
            serde_json::json!({"kind": "spend"}),
            serde_json::json!({"kind": "spend", "currency": "VND", "x": 1}),
        ] {
            let mut v = good.clone();
            v["metric"] = metric;
            assert!(serde_json::from_value::<TierProgram>(v).is_err());
        }
        Ok(())
    }

    #[test]
    fn no_tier_below_the_lowest_threshold() -> Result<(), Box<dyn std::error::Error>> {
        let p = spend_program()?;
        assert_eq!(p.tier_for(vnd(999_999))?, None);
        assert_eq!(
            p.on_activity(None, vnd(10))?,
            TierDecision::Unchanged { tier: None }
        );
        assert_eq!(
            p.at_period_end(Some(&code("gold")), vnd(0))?,
            TierDecision::Downgrade {
                from: code("gold"),
                to: None
            }
        );
        assert_eq!(p.earn_multiplier(None)?, Decimal::ONE);
        assert_eq!(p.earn_multiplier(Some(&code("gold")))?, dec!(1.5));
        Ok(())
    }

    #[test]
    fn values_in_another_metric_are_refused() -> Result<(), serde_json::Error> {
        let p = spend_program()?;
        let usd = QualifyingValue::Spend(Money::from_minor_units(1, Currency::USD));
        assert!(matches!(
            p.tier_for(usd),
            Err(TierError::MetricMismatch { .. })
        ));
        let pts = QualifyingValue::Points(Points::new(1));
        assert!(matches!(
            p.on_activity(None, pts),
            Err(TierError::MetricMismatch { .. })
        ));
        assert_eq!(
            p.on_activity(Some(&code("platinum")), vnd(0)),
            Err(TierError::UnknownTier {
                code: code("platinum")
            })
        );
        Ok(())
    }

    #[test]
    fn progress_for_the_customer_page() -> Result<(), Box<dyn std::error::Error>> {
        let p = spend_program()?;
        let progress = p.progress(Some(&code("silver")), vnd(700_000))?;
        assert_eq!(
            progress,
            TierProgress {
                tier: Some(code("silver")),
                value: vnd(700_000),
                next: Some(NextTier {
                    tier: code("gold"),
                    threshold: vnd(3_000_000),
                    remaining: vnd(2_300_000),
                }),
                to_keep: vnd(300_000),
            }
        );
        let top = p.progress(None, vnd(3_500_000))?;
        assert_eq!(top.tier, Some(code("gold")));
        assert_eq!(top.next, None);
        assert_eq!(top.to_keep, vnd(0));
        let none = p.progress(None, vnd(0))?;
        assert_eq!(none.next.map(|n| n.remaining), Some(vnd(1_000_000)));
        Ok(())
    }

    #[test]
    fn period_ends() -> Result<(), TierError> {
        let vn = offset!(+7);
        let month = ReviewPeriod::Month;
        assert_eq!(
            month.next_period_end(datetime!(2026-12-31 16:59:59 UTC), vn)?,
            datetime!(2027-01-01 00:00 +7)
        );
        // Exactly at a boundary, the period that just began ends next.
        assert_eq!(
            month.next_period_end(datetime!(2026-12-31 17:00 UTC), vn)?,
            datetime!(2027-02-01 00:00 +7)
        );
        let quarter = ReviewPeriod::Quarter;
        for (m, end) in [
            (1, datetime!(2026-04-01 00:00 +7)),
            (3, datetime!(2026-04-01 00:00 +7)),
            (4, datetime!(2026-07-01 00:00 +7)),
            (9, datetime!(2026-10-01 00:00 +7)),
            (10, datetime!(2027-01-01 00:00 +7)),
            (12, datetime!(2027-01-01 00:00 +7)),
        ] {
            let month = Month::try_from(m).map_err(|_| TierError::DateOutOfRange)?;
            let day =
                Date::from_calendar_date(2026, month, 15).map_err(|_| TierError::DateOutOfRange)?;
            assert_eq!(
                quarter.next_period_end(day.midnight().assume_offset(vn), vn)?,
                end
            );
        }
        assert_eq!(
            ReviewPeriod::Year.next_period_end(datetime!(2026-06-01 00:00 UTC), vn)?,
            datetime!(2027-01-01 00:00 +7)
        );
        assert_eq!(
            ReviewPeriod::Year.next_period_end(datetime!(9999-06-01 00:00 UTC), vn),
            Err(TierError::DateOutOfRange)
        );
        Ok(())
    }
}
