//! What qualifies a customer for a tier, and amounts of it: the metric (points or spend
//! in a currency), a qualifying value, and a dated activity that counts towards one.

use super::TierProgramError;
use regulars_domain::{Currency, Money, Points};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

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
    pub(super) fn value(self, number: Decimal) -> Result<QualifyingValue, String> {
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
    pub(super) fn number(&self) -> Decimal {
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
