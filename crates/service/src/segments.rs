//! Custom segments and what the scoring job found: definitions with live counts, segment
//! sizes over time, who just entered a segment, and a customer's scores.
//!
//! A live count evaluates the rule on every customer's features as stored by the last
//! scoring run, with the day counts (`recency_days`, `days_since_first_visit`) moved on
//! to today; model outputs (P(alive), CLV) stay those of the last run.

use crate::Services;
use crate::account::load_brand;
use crate::error::{ErrorClass, UseCaseError, common_variants, store_class};
use regulars_domain::{BrandId, CustomerId, SegmentId};
use regulars_ports::{CustomerScores, ScoringRun, SegmentRecord, StoreError, Transaction};
use regulars_segments::{CustomerFeatures, Rule};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use thiserror::Error;
use time::OffsetDateTime;

/// Scores read per transaction when counting.
const COUNT_PAGE: u64 = 2_000;

/// How long a brand's live segment counts are reused.
pub const LIVE_COUNT_TTL: time::Duration = time::Duration::minutes(1);

/// A brand's last live counts.
#[derive(Debug)]
struct CachedCounts {
    at: OffsetDateTime,
    rules: Vec<String>,
    counts: Vec<u64>,
}

type CountSlot = Arc<tokio::sync::Mutex<Option<CachedCounts>>>;

/// Each brand's live-count slot: one entry per brand that listed its segments.
#[derive(Debug, Default)]
pub(crate) struct LiveCounts {
    brands: Mutex<HashMap<BrandId, CountSlot>>,
}

impl LiveCounts {
    /// Drops the brand's counts (a scoring run changed the scores they count).
    pub(crate) fn forget(&self, brand: BrandId) {
        self.brands
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&brand);
    }

    fn slot(&self, brand: BrandId) -> CountSlot {
        self.brands
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(brand)
            .or_default()
            .clone()
    }
}
/// Longest segment name.
pub const MAX_SEGMENT_NAME: usize = 100;

/// A custom segment and how many customers are in it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentView {
    /// The definition.
    pub segment: SegmentRecord,
    /// Customers matching its rule today.
    pub live_count: u64,
}

/// Why a segment use case failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SegmentError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// No such segment in the brand.
    #[error("segment {0} does not exist")]
    UnknownSegment(SegmentId),
    /// No such customer in the brand, or not scored yet.
    #[error("customer {0} does not exist or has not been scored yet")]
    UnknownCustomer(CustomerId),
    /// The rule does not parse or type-check.
    #[error("{0}")]
    InvalidRule(String),
    /// No named or custom segment of the brand has the name asked for.
    #[error("{0}")]
    NoSuchSegment(String),
    /// The name is blank or too long.
    #[error("{0}")]
    InvalidName(String),
    /// Another segment of the brand has the name (a conflict with what is stored, like a
    /// location code taken: 409, not 422).
    #[error("{0}")]
    NameTaken(String),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(SegmentError, brand);

impl UseCaseError for SegmentError {
    fn class(&self) -> ErrorClass {
        match self {
            SegmentError::UnknownBrand(_)
            | SegmentError::UnknownSegment(_)
            | SegmentError::UnknownCustomer(_)
            | SegmentError::NoSuchSegment(_) => ErrorClass::NotFound,
            SegmentError::InvalidRule(_) | SegmentError::InvalidName(_) => ErrorClass::Invalid,
            SegmentError::NameTaken(_) => ErrorClass::Conflict,
            SegmentError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            SegmentError::UnknownBrand(_) => Some("brand"),
            SegmentError::UnknownSegment(_) | SegmentError::NoSuchSegment(_) => Some("segment"),
            SegmentError::UnknownCustomer(_) => Some("customer"),
            SegmentError::InvalidRule(_) => Some("rule"),
            SegmentError::InvalidName(_) | SegmentError::NameTaken(_) => Some("name"),
            SegmentError::Store(_) => None,
        }
    }
}

fn check_name(name: &str) -> Result<String, SegmentError> {
    let name = name.trim();
    if name.is_empty() || name.len() > MAX_SEGMENT_NAME || name.chars().any(char::is_control) {
        return Err(SegmentError::InvalidName(format!(
            "name must be 1 to {MAX_SEGMENT_NAME} bytes without control characters"
        )));
    }
    Ok(name.to_owned())
}

fn parse_rule(rule: &str) -> Result<Rule, SegmentError> {
    Rule::parse(rule).map_err(|e| SegmentError::InvalidRule(e.to_string()))
}

/// The stored features moved on to `now`.
pub(crate) fn features_now(
    score: &CustomerScores,
    now: OffsetDateTime,
) -> Option<CustomerFeatures> {
    let mut features: CustomerFeatures = serde_json::from_value(score.features.clone()?).ok()?;
    let elapsed = u32::try_from((now - score.scored_at).whole_days().max(0)).unwrap_or(0);
    features.recency_days = features.recency_days.saturating_add(elapsed);
    features.days_since_first_visit = features.days_since_first_visit.saturating_add(elapsed);
    Some(features)
}

impl Services {
    /// Reads the brand's stored scores a page at a time from `after`, handing each
    /// page to `visit` until it returns `false` or the scores run out.
    pub(crate) async fn each_score_page(
        &self,
        brand: BrandId,
        after: Option<CustomerId>,
        mut visit: impl FnMut(Vec<CustomerScores>) -> bool,
    ) -> Result<(), SegmentError> {
        let mut cursor = after;
        loop {
            let page = self
                .transact("score_pages", |mut tx| async move {
                    let result: Result<_, SegmentError> = tx
                        .intelligence()
                        .scores_page(brand, cursor, COUNT_PAGE)
                        .await
                        .map_err(Into::into);
                    (tx, result)
                })
                .await?;
            let Some(last) = page.last().map(|s| s.customer_id) else {
                return Ok(());
            };
            let short = (page.len() as u64) < COUNT_PAGE;
            if !visit(page) || short {
                return Ok(());
            }
            cursor = Some(last);
        }
    }

    async fn count_matching(
        &self,
        brand: BrandId,
        rules: &[Option<Rule>],
    ) -> Result<Vec<u64>, SegmentError> {
        let now = self.clock.now();
        let mut counts = vec![0u64; rules.len()];
        self.each_score_page(brand, None, |page| {
            for score in &page {
                if let Some(features) = features_now(score, now) {
                    for (count, rule) in counts.iter_mut().zip(rules) {
                        if rule.as_ref().is_some_and(|r| r.matches(&features)) {
                            *count += 1;
                        }
                    }
                }
            }
            true
        })
        .await?;
        Ok(counts)
    }

    /// The live counts of `records`' rules: computed at most once at a time per brand
    /// (concurrent callers wait for it) and reused for [`LIVE_COUNT_TTL`] while the rules
    /// are the same, so repeated list views cannot each walk every stored score.
    async fn live_counts(
        &self,
        brand: BrandId,
        records: &[SegmentRecord],
    ) -> Result<Vec<u64>, SegmentError> {
        let texts: Vec<String> = records.iter().map(|r| r.rule.clone()).collect();
        let slot = self.live.slot(brand);
        let mut cached = slot.lock().await;
        let now = self.clock.now();
        if let Some(c) = cached.as_ref()
            && c.rules == texts
            && c.at <= now
            && now - c.at < LIVE_COUNT_TTL
        {
            return Ok(c.counts.clone());
        }
        // A stored rule that no longer parses counts nobody rather than failing the list.
        let rules: Vec<Option<Rule>> = texts.iter().map(|r| Rule::parse(r).ok()).collect();
        let counts = self.count_matching(brand, &rules).await?;
        *cached = Some(CachedCounts {
            at: now,
            rules: texts,
            counts: counts.clone(),
        });
        Ok(counts)
    }

    /// The brand's custom segments with their live counts.
    pub async fn segments(&self, brand: BrandId) -> Result<Vec<SegmentView>, SegmentError> {
        let records = self
            .transact("segments", |mut tx| async move {
                let result: Result<_, SegmentError> = async {
                    load_brand::<SegmentError>(tx.as_mut(), brand).await?;
                    Ok(tx.intelligence().segments(brand).await?)
                }
                .await;
                (tx, result)
            })
            .await?;
        let counts = self.live_counts(brand, &records).await?;
        Ok(records
            .into_iter()
            .zip(counts)
            .map(|(segment, live_count)| SegmentView {
                segment,
                live_count,
            })
            .collect())
    }

    /// One custom segment with its live count.
    pub async fn segment(
        &self,
        brand: BrandId,
        id: SegmentId,
    ) -> Result<SegmentView, SegmentError> {
        let all = self.segments(brand).await?;
        all.into_iter()
            .find(|s| s.segment.id == id)
            .ok_or(SegmentError::UnknownSegment(id))
    }

    /// Creates (`id: None`) or replaces a custom segment after checking its rule.
    pub async fn save_segment(
        &self,
        brand: BrandId,
        id: Option<SegmentId>,
        name: &str,
        rule: &str,
    ) -> Result<SegmentView, SegmentError> {
        let name = check_name(name)?;
        let parsed = parse_rule(rule)?;
        let now = self.clock.now();
        let (name, rule) = (&name, &rule);
        let record = self
            .transact("save_segment", |mut tx| async move {
                let result = save_in(tx.as_mut(), brand, id, name, rule, now, self).await;
                (tx, result)
            })
            .await?;
        let live_count = self
            .count_matching(brand, &[Some(parsed)])
            .await?
            .first()
            .copied()
            .unwrap_or(0);
        Ok(SegmentView {
            segment: record,
            live_count,
        })
    }

    /// Deletes a custom segment.
    pub async fn delete_segment(&self, brand: BrandId, id: SegmentId) -> Result<(), SegmentError> {
        self.transact("delete_segment", |mut tx| async move {
            let result = match tx.intelligence().delete_segment(brand, id).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(SegmentError::UnknownSegment(id)),
                Err(e) => Err(e.into()),
            };
            (tx, result)
        })
        .await
    }

    /// The latest scoring runs (segment sizes over time), newest first.
    pub async fn scoring_runs(
        &self,
        brand: BrandId,
        limit: u64,
    ) -> Result<Vec<ScoringRun>, SegmentError> {
        let limit = limit.clamp(1, 500);
        self.transact("scoring_runs", |mut tx| async move {
            let result: Result<_, SegmentError> = async {
                load_brand::<SegmentError>(tx.as_mut(), brand).await?;
                Ok(tx.intelligence().runs(brand, limit).await?)
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// A customer's scores from the last run (with the segments they were in before it).
    pub async fn customer_scores(
        &self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<CustomerScores, SegmentError> {
        self.transact("customer_scores", |mut tx| async move {
            let result: Result<_, SegmentError> = async {
                let found = tx.intelligence().scores_of(brand, &[customer]).await?;
                found
                    .into_iter()
                    .next()
                    .ok_or(SegmentError::UnknownCustomer(customer))
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// Customers who are in `segment` since the last run and were not before it ("who
    /// just became at risk"), a page at a time by customer id.
    pub async fn segment_entrants(
        &self,
        brand: BrandId,
        segment: &str,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Vec<CustomerScores>, SegmentError> {
        let limit = usize::try_from(limit.clamp(1, 500)).unwrap_or(500);
        let mut found = Vec::new();
        self.each_score_page(brand, after, |page| {
            for score in page {
                let entered = score.segments.iter().any(|s| s == segment)
                    && !score.previous_segments.iter().any(|s| s == segment);
                if entered {
                    found.push(score);
                    if found.len() == limit {
                        return false;
                    }
                }
            }
            true
        })
        .await?;
        Ok(found)
    }
}

async fn save_in(
    tx: &mut dyn Transaction,
    brand: BrandId,
    id: Option<SegmentId>,
    name: &str,
    rule: &str,
    now: OffsetDateTime,
    services: &Services,
) -> Result<SegmentRecord, SegmentError> {
    load_brand::<SegmentError>(tx, brand).await?;
    let existing = tx.intelligence().segments(brand).await?;
    if existing
        .iter()
        .any(|s| s.name.eq_ignore_ascii_case(name) && Some(s.id) != id)
    {
        return Err(SegmentError::NameTaken(format!(
            "a segment named {name:?} exists already"
        )));
    }
    let record = match id {
        Some(id) => {
            let Some(old) = existing.into_iter().find(|s| s.id == id) else {
                return Err(SegmentError::UnknownSegment(id));
            };
            SegmentRecord {
                name: name.to_owned(),
                rule: rule.to_owned(),
                updated_at: now,
                ..old
            }
        }
        None => SegmentRecord {
            id: SegmentId::from_uuid(services.ids.new_id()),
            brand_id: brand,
            name: name.to_owned(),
            rule: rule.to_owned(),
            created_at: now,
            updated_at: now,
        },
    };
    tx.intelligence().save_segment(&record).await?;
    Ok(record)
}
