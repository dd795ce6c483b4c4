//! Custom segments, scoring runs and a customer's scores.

use super::{MoneyDto, json, rfc3339};
use regulars_domain::Money;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// A custom segment to create or replace. The rule language is in `docs/segments.md`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentIn {
    /// Its name, unique in the brand: 1 to 100 bytes without control characters.
    #[schema(
        example = "Lapsing regulars",
        pattern = r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,59}$"
    )]
    pub name: String,
    /// Its rule. The pattern documents a few simple rules; the language has more.
    #[schema(
        example = "recency_days > 21 and frequency >= 5 and p_alive < 0.5",
        pattern = r"^(recency_days|frequency) (>|<|>=|<=) [0-9]{1,3}( and p_alive < 0\.[0-9])?$"
    )]
    pub rule: String,
}

/// A custom segment with its live count.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SegmentDto {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Rule.
    pub rule: String,
    /// Customers matching now (on the last run's features, day counts moved to today).
    pub live_count: u64,
    /// When it was made.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

impl From<&regulars_service::SegmentView> for SegmentDto {
    fn from(v: &regulars_service::SegmentView) -> Self {
        SegmentDto {
            id: v.segment.id.as_uuid(),
            name: v.segment.name.clone(),
            rule: v.segment.rule.clone(),
            live_count: v.live_count,
            created_at: rfc3339(v.segment.created_at),
            updated_at: rfc3339(v.segment.updated_at),
        }
    }
}

/// One scoring run: when, how many customers, the model fits and the segment sizes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScoringRunDto {
    /// Id.
    pub id: Uuid,
    /// When it ran.
    pub at: String,
    /// Customers scored.
    pub customers: u64,
    /// Customers per segment (named RFM segments and custom ones).
    #[schema(value_type = Object)]
    pub segment_sizes: Value,
    /// Model fits (parameters, log-likelihood, standard errors) and counts.
    #[schema(value_type = Object)]
    pub summary: Value,
}

impl From<&regulars_ports::ScoringRun> for ScoringRunDto {
    fn from(r: &regulars_ports::ScoringRun) -> Self {
        ScoringRunDto {
            id: r.id,
            at: rfc3339(r.at),
            customers: r.customers,
            segment_sizes: json(&r.segment_sizes),
            summary: r.summary.clone(),
        }
    }
}

/// What the last scoring run concluded about a customer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScoresDto {
    /// The customer.
    pub customer_id: Uuid,
    /// When.
    pub scored_at: String,
    /// Probability the customer is still active (BG/NBD).
    pub p_alive: Option<f64>,
    /// Expected visits in the next 30 days.
    pub expected_visits_30d: Option<f64>,
    /// Expected spend per visit (Gamma-Gamma).
    pub expected_spend: Option<MoneyDto>,
    /// Discounted 12-month customer lifetime value.
    pub clv: Option<MoneyDto>,
    /// Typical days between visits.
    pub typical_gap_days: Option<f64>,
    /// Regularity, 0 (erratic) to 1 (clockwork).
    pub regularity: Option<f64>,
    /// When the next visit is expected.
    pub next_visit_at: Option<String>,
    /// Preferred local hour (0–23).
    pub preferred_hour: Option<u8>,
    /// Preferred local weekday (0 = Monday).
    pub preferred_weekday: Option<u8>,
    /// Most bought item.
    pub favourite_item: Option<String>,
    /// The item to offer next.
    pub next_best_item: Option<String>,
    /// RFM scores `[R, F, M]`, 1–5.
    pub rfm: Option<Vec<u8>>,
    /// Segments now.
    pub segments: Vec<String>,
    /// Segments at the run before.
    pub previous_segments: Vec<String>,
}

impl ScoresDto {
    /// Builds the DTO; amounts are minor units of `currency`.
    pub fn new(s: &regulars_ports::CustomerScores, currency: regulars_domain::Currency) -> Self {
        let money = |minor: i64| MoneyDto::from(&Money::from_minor_units(minor, currency));
        ScoresDto {
            customer_id: s.customer_id.as_uuid(),
            scored_at: rfc3339(s.scored_at),
            p_alive: s.p_alive,
            expected_visits_30d: s.expected_visits_30d,
            expected_spend: s.expected_spend_minor.map(money),
            clv: s.clv_minor.map(money),
            typical_gap_days: s.typical_gap_days,
            regularity: s.regularity,
            next_visit_at: s.next_visit_at.map(rfc3339),
            preferred_hour: s.preferred_hour,
            preferred_weekday: s.preferred_weekday,
            favourite_item: s.favourite_item.clone(),
            next_best_item: s.next_best_item.clone(),
            rfm: s.rfm.map(|r| r.to_vec()),
            segments: s.segments.clone(),
            previous_segments: s.previous_segments.clone(),
        }
    }
}
