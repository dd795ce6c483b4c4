//! What the scoring job reads and writes: each customer's visit history, the scores and
//! segments computed from it, custom segment definitions, and one record per scoring
//! run with the segment sizes it found (so movement over time can be reported).

use crate::{CustomerStats, StoreError, TierReview};
use async_trait::async_trait;
use regulars_domain::{BrandId, Customer, CustomerId, Money, OrderId, Points, SegmentId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// One visit (a stored order) as the models see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    /// The order.
    pub order_id: OrderId,
    /// When it was paid.
    pub at: OffsetDateTime,
    /// The location code.
    pub location: Option<String>,
    /// What was paid, less what was refunded.
    pub net_total: Money,
    /// The products bought (one entry per line).
    pub skus: Vec<String>,
}

/// A customer with everything scoring needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerHistory {
    /// The profile.
    pub customer: Customer,
    /// Running facts (tier), if saved.
    pub stats: Option<CustomerStats>,
    /// Cached points balance (zero when the account was never opened).
    pub balance: Points,
    /// Visits, oldest first.
    pub visits: Vec<Visit>,
    /// The latest period-end review that moved the customer down, if any.
    pub tier_down: Option<TierReview>,
}

/// What the scoring job concluded about a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerScores {
    /// The customer.
    pub customer_id: CustomerId,
    /// When the scores were computed.
    #[serde(with = "time::serde::rfc3339")]
    pub scored_at: OffsetDateTime,
    /// Probability the customer is still active (BG/NBD).
    pub p_alive: Option<f64>,
    /// Expected visits in the next 30 days.
    pub expected_visits_30d: Option<f64>,
    /// Expected spend per visit (Gamma-Gamma), in minor units.
    pub expected_spend_minor: Option<i64>,
    /// Discounted customer lifetime value over the brand's horizon, in minor units.
    pub clv_minor: Option<i64>,
    /// Typical days between visits.
    pub typical_gap_days: Option<f64>,
    /// How regular the visits are, 0 (erratic) to 1 (clockwork).
    pub regularity: Option<f64>,
    /// When the next visit is expected.
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_visit_at: Option<OffsetDateTime>,
    /// Preferred local hour to be contacted (0–23).
    pub preferred_hour: Option<u8>,
    /// Preferred local weekday (0 = Monday).
    pub preferred_weekday: Option<u8>,
    /// The item bought most.
    pub favourite_item: Option<String>,
    /// The item most likely to appeal next, not yet bought.
    pub next_best_item: Option<String>,
    /// RFM scores 1–5 (recency, frequency, monetary).
    pub rfm: Option<[u8; 3]>,
    /// Segments the customer belongs to (the named RFM segment and custom ones).
    pub segments: Vec<String>,
    /// Segments at the previous scoring run.
    pub previous_segments: Vec<String>,
    /// The features segments are evaluated on, as of `scored_at` (JSON of
    /// `regulars_segments::CustomerFeatures`), so a new or edited segment can be counted
    /// without rescoring.
    #[serde(default)]
    pub features: Option<serde_json::Value>,
}

/// A brand's custom segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentRecord {
    /// Its id.
    pub id: SegmentId,
    /// The brand.
    pub brand_id: BrandId,
    /// Its name, unique in the brand.
    pub name: String,
    /// The rule (see `regulars-segments`).
    pub rule: String,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

/// One scoring run of a brand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoringRun {
    /// Its id.
    pub id: Uuid,
    /// When it ran.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Customers scored.
    pub customers: u64,
    /// Model fits and other facts of the run (JSON).
    pub summary: serde_json::Value,
    /// Segment sizes it found.
    pub segment_sizes: BTreeMap<String, u64>,
}

/// A segment's send-time pattern as the last scoring run learned it: its golden hour
/// (what a member with no history of their own is given) and the hour distribution its
/// members are pulled towards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentSendTime {
    /// The RFM segment's name.
    pub segment: String,
    /// The local hour, 0–23, to message a member without a preferred hour of their own.
    pub golden_hour: Option<u8>,
    /// The local weekday (Monday = 0) likewise.
    pub golden_weekday: Option<u8>,
    /// Members with any history (visits, clicks or opens) counted in the pattern.
    pub members: u64,
    /// Whether the pattern is the segment's own (established) or the brand's (the
    /// segment is still too small to speak for its members).
    pub own_pattern: bool,
    /// The share of each local hour, 0–23, in the prior of the segment's members.
    pub hours: Vec<f64>,
    /// When it was learned.
    #[serde(with = "time::serde::rfc3339")]
    pub scored_at: OffsetDateTime,
}

/// Storage of the scoring job.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait IntelligenceRepo: Send {
    /// A page of customers (by id, after `after`) with their visits, stats and balance.
    async fn histories(
        &mut self,
        brand: BrandId,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Vec<CustomerHistory>, StoreError>;
    /// The same page as a campaign plans it: like [`IntelligenceRepo::histories`], but
    /// `visits` holds each customer's latest visit alone (without its `skus`), read with
    /// one row per customer however long their history.
    async fn latest_histories(
        &mut self,
        brand: BrandId,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Vec<CustomerHistory>, StoreError>;
    /// Inserts or replaces customers' scores.
    async fn save_scores(
        &mut self,
        brand: BrandId,
        scores: &[CustomerScores],
    ) -> Result<(), StoreError>;
    /// A page of the brand's stored scores, by customer id, after `after`.
    async fn scores_page(
        &mut self,
        brand: BrandId,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Vec<CustomerScores>, StoreError>;
    /// The stored scores of these customers (those that have any).
    async fn scores_of(
        &mut self,
        brand: BrandId,
        customers: &[CustomerId],
    ) -> Result<Vec<CustomerScores>, StoreError>;
    /// Records a finished run.
    async fn save_run(&mut self, brand: BrandId, run: &ScoringRun) -> Result<(), StoreError>;
    /// The latest runs, newest first.
    async fn runs(&mut self, brand: BrandId, limit: u64) -> Result<Vec<ScoringRun>, StoreError>;
    /// The brand's custom segments, by name.
    async fn segments(&mut self, brand: BrandId) -> Result<Vec<SegmentRecord>, StoreError>;
    /// Inserts or replaces a custom segment; a name taken by another is a
    /// [`StoreError::Conflict`].
    async fn save_segment(&mut self, segment: &SegmentRecord) -> Result<(), StoreError>;
    /// Deletes a custom segment; `false` when the brand has none with that id.
    async fn delete_segment(&mut self, brand: BrandId, id: SegmentId) -> Result<bool, StoreError>;
    /// Replaces the brand's segment send-time patterns with `patterns`.
    async fn save_segment_send_times(
        &mut self,
        brand: BrandId,
        patterns: &[SegmentSendTime],
    ) -> Result<(), StoreError>;
    /// The brand's segment send-time patterns, by segment name.
    async fn segment_send_times(
        &mut self,
        brand: BrandId,
    ) -> Result<Vec<SegmentSendTime>, StoreError>;
}
