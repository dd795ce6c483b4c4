//! A tier programme's definition: its tiers and their benefits, checked on construction,
//! and its JSON shape. What the programme decides for a customer is in `qualification.rs`.

use super::{QualificationMetric, QualifyingValue, ReviewPeriod, TierCode, TierProgramError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use time::{Duration, OffsetDateTime};

/// Longest accepted qualification window, in days (ten years).
const MAX_WINDOW_DAYS: u32 = 3_660;
/// Most tiers a programme may have.
const MAX_TIERS: usize = 20;
/// Longest tier name, in characters.
const MAX_NAME_CHARS: usize = 64;
/// Most perks a tier may list.
const MAX_PERKS: usize = 20;
/// Longest perk, in characters.
const MAX_PERK_CHARS: usize = 200;
/// Highest earning multiplier a tier may give.
const MAX_EARN_MULTIPLIER: Decimal = Decimal::TEN;

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
    pub(super) metric: QualificationMetric,
    pub(super) window_days: u32,
    pub(super) review_period: ReviewPeriod,
    pub(super) tiers: Vec<Tier>,
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
                    code: t.code.into(),
                    name: t.name,
                    threshold: t.threshold.number(),
                    benefits: t.benefits,
                })
                .collect(),
        }
    }
}
