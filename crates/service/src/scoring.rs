//! The scoring job: fit the brand's models on its stored orders, score every customer,
//! recompute segments, and record the run.
//!
//! One run of [`Services::score_brand`]:
//!
//! 1. reads every customer of the brand with their visits (orders net of refunds), a
//!    page at a time;
//! 2. builds one (frequency, recency, T, average repeat spend) summary per customer in
//!    days of the brand's local calendar, and fits BG/NBD (purchases and drop-out) and
//!    Gamma-Gamma (spend per visit) by maximum likelihood (`regulars-models`);
//! 3. scores each customer: P(alive), expected visits over the horizon, expected spend,
//!    discounted CLV, typical gap and regularity, next expected visit, preferred hour
//!    and weekday (smoothed toward the pattern of the customer's RFM segment, or the
//!    brand's while that segment is small), favourite item and the next best item by
//!    lift;
//! 4. computes RFM scores and the named RFM segment, and evaluates the brand's custom
//!    segments on the same features (`regulars-segments`);
//! 5. stores every customer's scores with the segments they had at the previous run, and
//!    records the run (model fits and segment sizes) with each RFM segment's golden hour
//!    (`segment_times`), a page per transaction.
//!
//! A model that cannot be fitted (too few customers, nobody came back) is reported in the
//! run's summary and its predictions are left empty; the rest of the run goes on.

use crate::Services;
use crate::account::load_brand;
use crate::engagement::learn;
use crate::error::{ErrorClass, UseCaseError, common_variants, store_class};
use regulars_domain::{BrandId, CustomerId};
use regulars_models::habits::affinity::AffinityModel;
use regulars_models::habits::send_time::{SendTimePrior, SendTimeProfile};
use regulars_models::{BgNbd, FitOptions, GammaGamma, Parameters};
use regulars_ports::{CustomerHistory, CustomerScores, ScoringRun, StoreError};
use regulars_segments::{CustomerFeatures, Rule};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use thiserror::Error;
use time::{OffsetDateTime, UtcOffset};

mod gather;
mod page;
mod segment_times;

use gather::Gathered;
use page::Scorer;

/// How a scoring run is done.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoringOptions {
    /// Days over which expected visits are predicted.
    pub horizon_days: f64,
    /// Months of the CLV horizon.
    pub clv_months: u32,
    /// Monthly discount rate of CLV.
    pub monthly_discount: f64,
    /// L2 penalty of the fits (a small one keeps small brands' fits finite).
    pub penalizer: f64,
    /// Customers read and written per transaction.
    pub page: u64,
}

impl Default for ScoringOptions {
    fn default() -> Self {
        ScoringOptions {
            horizon_days: 30.0,
            clv_months: 12,
            monthly_discount: 0.01,
            penalizer: 0.001,
            page: 1_000,
        }
    }
}

/// Why a scoring run failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ScoreError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// The computation stopped before finishing (it panicked or was cancelled).
    #[error("the scoring run stopped before finishing: {0}")]
    Aborted(String),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(ScoreError, brand);

impl UseCaseError for ScoreError {
    fn class(&self) -> ErrorClass {
        match self {
            ScoreError::UnknownBrand(_) => ErrorClass::NotFound,
            ScoreError::Aborted(_) => ErrorClass::Internal,
            ScoreError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            ScoreError::UnknownBrand(_) => Some("brand"),
            ScoreError::Aborted(_) | ScoreError::Store(_) => None,
        }
    }
}

/// What the job keeps of a customer between reading and scoring.
struct Profile {
    id: CustomerId,
    created_at: OffsetDateTime,
    birthday_month: Option<u8>,
    tier: Option<String>,
    balance: i64,
    consent: bool,
    visits: Vec<OffsetDateTime>,
    spend_minor: Vec<i64>,
    locations: Vec<Option<u32>>,
    baskets: Vec<Vec<u32>>,
    /// Counted clicks and opens of messages: when, and what each weighs.
    responses: Vec<learn::Response>,
    /// The RFM segment the previous run put the customer in (first pass only).
    previous_segment: Option<String>,
}

/// One page of the first or second pass.
struct HistoryPage {
    histories: Vec<CustomerHistory>,
    /// Whether the page was full (more may follow).
    full: bool,
    /// The last customer, where the next page starts.
    last: Option<CustomerId>,
    /// The page's customers' counted clicks and opens.
    responses: HashMap<CustomerId, Vec<learn::Response>>,
    /// The page's customers' RFM segment at the previous run (first pass only).
    previous: HashMap<CustomerId, String>,
}

impl HistoryPage {
    /// The page's profiles, each with its customer's responses.
    fn profiles(self, skus: &mut Interner, places: &mut Interner) -> Vec<Profile> {
        let mut responses = self.responses;
        let mut previous = self.previous;
        self.histories
            .into_iter()
            .map(|h| {
                let mut p = profile(h, skus, places);
                p.responses = responses.remove(&p.id).unwrap_or_default();
                p.previous_segment = previous.remove(&p.id);
                p
            })
            .collect()
    }
}

/// Interns strings (SKUs, location codes) so a million customers' baskets stay small.
#[derive(Default)]
struct Interner {
    index: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.index.get(name) {
            return id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), id);
        id
    }

    fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", String::as_str)
    }
}

fn profile(history: CustomerHistory, skus: &mut Interner, places: &mut Interner) -> Profile {
    let consent = history.customer.consent;
    let mut p = Profile {
        id: history.customer.id,
        created_at: history.customer.created_at,
        birthday_month: history.customer.birthday.map(|d| u8::from(d.month())),
        tier: history.stats.and_then(|s| s.tier).map(|t| t.code),
        balance: history.balance.value(),
        consent: consent.zalo.granted() || consent.sms.granted() || consent.email.granted(),
        visits: Vec::with_capacity(history.visits.len()),
        spend_minor: Vec::with_capacity(history.visits.len()),
        locations: Vec::with_capacity(history.visits.len()),
        baskets: Vec::with_capacity(history.visits.len()),
        responses: Vec::new(),
        previous_segment: None,
    };
    for visit in history.visits {
        p.visits.push(visit.at);
        p.spend_minor
            .push(visit.net_total.to_minor_units().unwrap_or(0));
        p.locations
            .push(visit.location.as_deref().map(|l| places.id(l)));
        let mut basket: Vec<u32> = visit.skus.iter().map(|s| skus.id(s)).collect();
        basket.sort_unstable();
        basket.dedup();
        p.baskets.push(basket);
    }
    p
}

/// Days since the epoch on the brand's local calendar, with the fraction of the day.
fn local_days(at: OffsetDateTime, offset: UtcOffset) -> f64 {
    let local = at.to_offset(offset);
    let seconds = local.unix_timestamp() + i64::from(offset.whole_seconds());
    seconds as f64 / 86_400.0
}

fn whole_days_between(from: OffsetDateTime, to: OffsetDateTime) -> u32 {
    u32::try_from((to - from).whole_days().max(0)).unwrap_or(u32::MAX)
}

/// Finite or nothing: a prediction that is not a number is not stored.
fn finite(value: f64) -> Option<f64> {
    value.is_finite().then_some(value)
}

impl Services {
    /// Runs the scoring job for every brand, one after the other; a brand that fails
    /// does not stop the others.
    pub async fn score_all_brands(
        &self,
        options: &ScoringOptions,
    ) -> Result<Vec<(BrandId, Result<ScoringRun, ScoreError>)>, ScoreError> {
        let brands = self
            .transact("brand_ids", |mut tx| async move {
                let result: Result<_, ScoreError> =
                    tx.brands().brand_ids().await.map_err(Into::into);
                (tx, result)
            })
            .await?;
        let mut out = Vec::with_capacity(brands.len());
        for brand in brands {
            out.push((brand, self.score_brand(brand, options).await));
        }
        Ok(out)
    }

    /// A page of the brand's customers with their histories after `after` (and, when
    /// `previous`, the RFM segment each had at the previous run), each page in its own
    /// short read transaction; `None` when there are no more.
    async fn score_page(
        &self,
        brand: BrandId,
        after: Option<CustomerId>,
        limit: u64,
        previous: bool,
    ) -> Result<Option<HistoryPage>, ScoreError> {
        let (histories, responses, previous) = self
            .transact("score_read", |mut tx| async move {
                let result: Result<_, ScoreError> = async {
                    let page = tx.intelligence().histories(brand, after, limit).await?;
                    let ids: Vec<CustomerId> = page.iter().map(|h| h.customer.id).collect();
                    let responses = tx.engagement().counted_of(brand, &ids).await?;
                    let mut segments = HashMap::new();
                    if previous {
                        for s in tx.intelligence().scores_of(brand, &ids).await? {
                            if let Some(rfm) = s.segments.into_iter().next() {
                                segments.insert(s.customer_id, rfm);
                            }
                        }
                    }
                    Ok((page, responses, segments))
                }
                .await;
                (tx, result)
            })
            .await?;
        let Some(last) = histories.last().map(|h| h.customer.id) else {
            return Ok(None);
        };
        Ok(Some(HistoryPage {
            full: histories.len() as u64 == limit,
            last: Some(last),
            histories,
            responses: learn::responses_by_customer(responses),
            previous,
        }))
    }

    /// Stores a page of scores in one transaction, each with the segments the customer
    /// had before.
    async fn save_score_page(
        &self,
        brand: BrandId,
        scores: Vec<CustomerScores>,
    ) -> Result<(), ScoreError> {
        self.transact("score_write", |mut tx| {
            let mut chunk = scores.clone();
            async move {
                let result: Result<(), ScoreError> = async {
                    let ids: Vec<CustomerId> = chunk.iter().map(|s| s.customer_id).collect();
                    let mut before: HashMap<CustomerId, Vec<String>> = tx
                        .intelligence()
                        .scores_of(brand, &ids)
                        .await?
                        .into_iter()
                        .map(|s| (s.customer_id, s.segments))
                        .collect();
                    for score in &mut chunk {
                        score.previous_segments =
                            before.remove(&score.customer_id).unwrap_or_default();
                    }
                    tx.intelligence().save_scores(brand, &chunk).await?;
                    Ok(())
                }
                .await;
                (tx, result)
            }
        })
        .await
    }

    /// Runs the scoring job for one brand (see the module docs) and returns the run.
    pub async fn score_brand(
        &self,
        brand: BrandId,
        options: &ScoringOptions,
    ) -> Result<ScoringRun, ScoreError> {
        let now = self.clock.now();
        let (found, definitions) = self
            .transact("score_setup", |mut tx| async move {
                let result: Result<_, ScoreError> = async {
                    let found = load_brand::<ScoreError>(tx.as_mut(), brand).await?;
                    let definitions = tx.intelligence().segments(brand).await?;
                    Ok((found, definitions))
                }
                .await;
                (tx, result)
            })
            .await?;
        let offset = found.utc_offset;
        let rules: Vec<(String, Rule)> = definitions
            .iter()
            .filter_map(|d| match Rule::parse(&d.rule) {
                Ok(rule) => Some((d.name.clone(), rule)),
                Err(error) => {
                    tracing::warn!(segment = %d.name, %error, "stored segment rule does not parse; skipped");
                    None
                }
            })
            .collect();

        // 1. First pass: what the fits, the brand's habits and the RFM scale need.
        let mut skus = Interner::default();
        let mut places = Interner::default();
        let mut gathered = Gathered::default();
        let mut after: Option<CustomerId> = None;
        while let Some(page) = self.score_page(brand, after, options.page, true).await? {
            after = page.last;
            let full = page.full;
            let profiles = page.profiles(&mut skus, &mut places);
            gathered.add_page(&profiles, offset, now);
            if !full {
                break;
            }
        }

        // 2. The fits: CPU-bound, so off the async executor.
        let options_owned = *options;
        let fitted = tokio::task::spawn_blocking(move || {
            let fitted = fit(&gathered, &skus, &options_owned);
            let learned = gathered.segment_times.learn(&gathered.pattern, now);
            (fitted, gathered.rfm.finish(), skus, learned)
        })
        .await;
        let (fitted, rfm, skus_back, learned) = match fitted {
            Ok(fitted) => fitted,
            Err(error) => return Err(ScoreError::Aborted(error.to_string())),
        };
        skus = skus_back;
        let (counts, spend, prior, affinity, mut summary) = fitted;
        let scorer = Arc::new(Scorer {
            counts,
            spend,
            prior,
            segment_priors: learned.priors,
            affinity,
            rfm,
            rules,
            offset,
            now,
            options: *options,
        });

        // 3.–5. Second pass: each page scored and stored.
        let (customers, sizes) = self
            .score_and_store(brand, &scorer, (skus, places), options.page)
            .await?;
        summary["customers"] = json!(customers);
        let run = ScoringRun {
            id: self.ids.new_id(),
            at: now,
            customers,
            summary,
            segment_sizes: sizes,
        };
        let (record, send_times) = (&run, &learned.rows);
        self.transact("score_run", |mut tx| async move {
            let result: Result<(), ScoreError> = async {
                tx.intelligence().save_run(brand, record).await?;
                tx.intelligence()
                    .save_segment_send_times(brand, send_times)
                    .await?;
                Ok(())
            }
            .await;
            (tx, result)
        })
        .await?;
        self.live.forget(brand);
        Ok(run)
    }

    /// The second pass: each page of customers scored and stored, keeping each
    /// customer's previous segments. Returns the customers scored and the segment sizes.
    async fn score_and_store(
        &self,
        brand: BrandId,
        scorer: &Arc<Scorer>,
        mut names: (Interner, Interner),
        page_size: u64,
    ) -> Result<(u64, BTreeMap<String, u64>), ScoreError> {
        let mut sizes: BTreeMap<String, u64> = BTreeMap::new();
        let mut customers = 0u64;
        let mut after: Option<CustomerId> = None;
        while let Some(page) = self.score_page(brand, after, page_size, false).await? {
            after = page.last;
            let full = page.full;
            let s = Arc::clone(scorer);
            let scored = tokio::task::spawn_blocking(move || {
                let (mut skus, mut places) = names;
                let profiles = page.profiles(&mut skus, &mut places);
                (s.score(&profiles, &skus, &places), (skus, places))
            })
            .await;
            let (scores, back) = match scored {
                Ok(scored) => scored,
                Err(error) => return Err(ScoreError::Aborted(error.to_string())),
            };
            names = back;
            customers += scores.len() as u64;
            for segment in scores.iter().flat_map(|s| &s.segments) {
                *sizes.entry(segment.clone()).or_default() += 1;
            }
            self.save_score_page(brand, scores).await?;
            if !full {
                break;
            }
        }
        Ok((customers, sizes))
    }
}

/// What the fits give the second pass: the purchase and spend models (when they could
/// be fitted), the send-time prior, the item-affinity model, and the run's summary.
type Fitted = (
    Option<BgNbd>,
    Option<GammaGamma>,
    Option<SendTimePrior>,
    AffinityModel,
    serde_json::Value,
);

/// Fits BG/NBD and Gamma-Gamma on the gathered summary rows and builds the brand's
/// send-time prior and item-affinity model: the run's CPU-bound middle, pure and
/// synchronous so it can run on a blocking thread.
fn fit(gathered: &Gathered, skus: &Interner, options: &ScoringOptions) -> Fitted {
    let fit_options = FitOptions {
        penalizer: options.penalizer,
        ..FitOptions::default()
    };
    let counts = BgNbd::fit(&gathered.rows, &fit_options);
    let spend = GammaGamma::fit(&gathered.rows, &fit_options);
    let mut summary = json!({
        "customers": gathered.rfm.len(),
        "customers_with_visits": gathered.rows.len(),
        "horizon_days": options.horizon_days,
        "clv_months": options.clv_months,
    });
    summary["bgnbd"] = match &counts {
        Ok(f) => fit_json(BgNbd::NAMES, &f.model.values(), &f.stats),
        Err(e) => json!({"error": e.to_string()}),
    };
    summary["gamma_gamma"] = match &spend {
        Ok(f) => fit_json(GammaGamma::NAMES, &f.model.values(), &f.stats),
        Err(e) => json!({"error": e.to_string()}),
    };
    let prior = SendTimePrior::from_profile(&gathered.pattern, segment_times::PRIOR_STRENGTH)
        .or_else(|_| SendTimePrior::uniform(0.0))
        .ok();
    // The brand's golden hour: what a customer with no history of their own is given.
    summary["golden_hour"] = json!(
        prior
            .as_ref()
            .and_then(|p| SendTimeProfile::new().preferred(p))
            .map(|c| c.hour)
    );
    let affinity = gathered.affinity(skus);
    summary["affinity_pairs"] = json!(affinity.pairs().len());
    (
        counts.ok().map(|f| f.model),
        spend.ok().map(|f| f.model),
        prior,
        affinity,
        summary,
    )
}

/// A customer's features as far as their own history gives them (recency, frequency,
/// monetary value): the RFM measures, the same in both passes.
fn features_base(p: &Profile, now: OffsetDateTime) -> CustomerFeatures {
    let last = p.visits.iter().max().copied();
    CustomerFeatures::new(
        p.id,
        whole_days_between(last.unwrap_or(p.created_at), now),
        u32::try_from(p.visits.len()).unwrap_or(u32::MAX),
        p.spend_minor.iter().sum(),
    )
}
fn fit_json(
    names: &[&str],
    values: &[f64],
    stats: &regulars_models::FitStats,
) -> serde_json::Value {
    let params: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .zip(values)
        .map(|(n, v)| ((*n).to_owned(), json!(v)))
        .collect();
    json!({"parameters": params, "stats": stats, "aic": stats.aic(), "bic": stats.bic()})
}

#[cfg(test)]
mod tests {
    use super::local_days;
    use super::page::home_location;

    #[test]
    fn home_location_is_the_most_visited_then_the_first_seen() {
        assert_eq!(home_location(&[Some(2), Some(1), Some(2), None]), Some(2));
        assert_eq!(home_location(&[Some(3), Some(1)]), Some(1));
        assert_eq!(home_location(&[None]), None);
    }

    #[test]
    fn local_days_count_the_brand_calendar() {
        let offset = time::macros::offset!(+7);
        let late = time::macros::datetime!(2026-05-01 18:00 UTC); // 01:00 on 2 May local
        let day = local_days(late, offset).floor();
        let midnight = time::macros::datetime!(2026-05-02 00:00 UTC);
        assert_eq!(day, (midnight.unix_timestamp() / 86_400) as f64);
    }
}
