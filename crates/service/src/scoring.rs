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
//!    and weekday (smoothed toward the brand's own pattern), favourite item and the next
//!    best item by lift;
//! 4. computes RFM scores and the named RFM segment, and evaluates the brand's custom
//!    segments on the same features (`regulars-segments`);
//! 5. stores every customer's scores with the segments they had at the previous run, and
//!    records the run (model fits and segment sizes), a page per transaction.
//!
//! A model that cannot be fitted (too few customers, nobody came back) is reported in the
//! run's summary and its predictions are left empty; the rest of the run goes on.

use crate::Services;
use crate::account::load_brand;
use crate::engagement::learn;
use crate::error::{ErrorClass, UseCaseError, common_variants, store_class};
use regulars_domain::{BrandId, CustomerId};
use regulars_models::gamma_gamma::{ClvOptions, customer_lifetime_value};
use regulars_models::habits::affinity::{
    AffinityConfig, AffinityModel, Basket, Weighting, customer_affinity,
};
use regulars_models::habits::regularity::VisitRegularity;
use regulars_models::habits::send_time::{SendTimePrior, SendTimeProfile};
use regulars_models::summary::{Visit as ModelVisit, from_visits};
use regulars_models::{BgNbd, CountModel, FitOptions, GammaGamma, Parameters, Summary};
use regulars_ports::{CustomerHistory, CustomerScores, ScoringRun, StoreError};
use regulars_segments::rfm::score_all;
use regulars_segments::{CustomerFeatures, Rule};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use thiserror::Error;
use time::{OffsetDateTime, Time, UtcOffset};

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

        // 1. Read.
        let mut skus = Interner::default();
        let mut places = Interner::default();
        let mut profiles: Vec<Profile> = Vec::new();
        let mut after: Option<CustomerId> = None;
        loop {
            let (page, responses) = self
                .transact("score_read", |mut tx| async move {
                    let result: Result<_, ScoreError> = async {
                        let page = tx
                            .intelligence()
                            .histories(brand, after, options.page)
                            .await?;
                        let ids: Vec<CustomerId> = page.iter().map(|h| h.customer.id).collect();
                        let responses = tx.engagement().counted_of(brand, &ids).await?;
                        Ok((page, responses))
                    }
                    .await;
                    (tx, result)
                })
                .await?;
            let Some(last) = page.last().map(|h| h.customer.id) else {
                break;
            };
            let full = page.len() as u64 == options.page;
            let mut by_customer = learn::responses_by_customer(responses);
            profiles.extend(page.into_iter().map(|h| {
                let mut p = profile(h, &mut skus, &mut places);
                p.responses = by_customer.remove(&p.id).unwrap_or_default();
                p
            }));
            after = Some(last);
            if !full {
                break;
            }
        }

        // 2.–5. The models, habits and segments: CPU-bound, so off the async executor.
        let options_owned = *options;
        let computed = tokio::task::spawn_blocking(move || {
            compute(
                profiles,
                &skus,
                &places,
                &rules,
                offset,
                now,
                &options_owned,
            )
        })
        .await;
        let (mut scores, summary, sizes) = match computed {
            Ok(computed) => computed,
            Err(error) => return Err(ScoreError::Aborted(error.to_string())),
        };

        // 6. Store, a page at a time, keeping each customer's previous segments.
        let page = usize::try_from(options.page.max(1)).unwrap_or(1_000);
        for chunk in scores.chunks_mut(page) {
            self.transact("score_write", |mut tx| {
                let mut chunk = chunk.to_vec();
                async move {
                    let result: Result<(), ScoreError> = async {
                        let ids: Vec<CustomerId> = chunk.iter().map(|s| s.customer_id).collect();
                        let before: HashMap<CustomerId, Vec<String>> = tx
                            .intelligence()
                            .scores_of(brand, &ids)
                            .await?
                            .into_iter()
                            .map(|s| (s.customer_id, s.segments))
                            .collect();
                        for score in &mut chunk {
                            score.previous_segments =
                                before.get(&score.customer_id).cloned().unwrap_or_default();
                        }
                        tx.intelligence().save_scores(brand, &chunk).await?;
                        Ok(())
                    }
                    .await;
                    (tx, result)
                }
            })
            .await?;
        }
        let run = ScoringRun {
            id: self.ids.new_id(),
            at: now,
            customers: scores.len() as u64,
            summary,
            segment_sizes: sizes,
        };
        let record = &run;
        self.transact("score_run", |mut tx| async move {
            let result: Result<(), ScoreError> = tx
                .intelligence()
                .save_run(brand, record)
                .await
                .map_err(Into::into);
            (tx, result)
        })
        .await?;
        self.live.forget(brand);
        Ok(run)
    }
}

/// Fits the models, predicts, finds habits and segments for every profile: the run's
/// CPU-bound part, pure and synchronous so it can run on a blocking thread.
#[allow(clippy::too_many_arguments)]
fn compute(
    profiles: Vec<Profile>,
    skus: &Interner,
    places: &Interner,
    rules: &[(String, Rule)],
    offset: UtcOffset,
    now: OffsetDateTime,
    options: &ScoringOptions,
) -> (
    Vec<CustomerScores>,
    serde_json::Value,
    BTreeMap<String, u64>,
) {
    // 2. Summaries and fits.
    let mut visits = Vec::new();
    for (i, p) in profiles.iter().enumerate() {
        for (at, spend) in p.visits.iter().zip(&p.spend_minor) {
            visits.push(ModelVisit {
                customer: i,
                day: local_days(*at, offset),
                amount: Some(*spend as f64),
            });
        }
    }
    // Refunds can leave a customer's repeat visits worth nothing: such a customer has
    // no spend to model (the spend model takes positive averages only), but still
    // counts for the purchase model.
    let summaries: HashMap<usize, Summary> = from_visits(&visits, local_days(now, offset), 1.0)
        .into_iter()
        .map(|(i, mut s)| {
            s.monetary_value = s.monetary_value.filter(|m| m.is_finite() && *m > 0.0);
            (i, s)
        })
        .collect();
    drop(visits);
    let rows: Vec<Summary> = summaries.values().cloned().collect();
    let fit_options = FitOptions {
        penalizer: options.penalizer,
        ..FitOptions::default()
    };
    let counts = BgNbd::fit(&rows, &fit_options);
    let spend = GammaGamma::fit(&rows, &fit_options);
    let mut summary = json!({
        "customers": profiles.len(),
        "customers_with_visits": rows.len(),
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
    let counts = counts.ok().map(|f| f.model);
    let spend = spend.ok().map(|f| f.model);
    drop(rows);

    // 3. Habits: the brand's send-time pattern and item affinity first.
    let profiles_send: Vec<SendTimeProfile> = profiles
        .iter()
        .map(|p| learn::send_time_profile(&p.visits, &p.responses, offset))
        .collect();
    let brand_pattern = SendTimeProfile::aggregate(profiles_send.iter());
    let prior =
        SendTimePrior::from_profile(&brand_pattern, 5.0).or_else(|_| SendTimePrior::uniform(0.0));
    let affinity = AffinityModel::build(
        profiles
            .iter()
            .flat_map(|p| p.baskets.iter())
            .map(|b| b.iter().map(|&s| skus.name(s))),
        AffinityConfig::default(),
    );
    summary["affinity_pairs"] = json!(affinity.pairs().len());

    // 4. Predictions and features.
    let clv_options = ClvOptions {
        months: options.clv_months,
        monthly_discount: options.monthly_discount,
        units_per_month: 30.0,
    };
    let mut cache: HashMap<(u64, u64, u64, Option<u64>), Prediction> = HashMap::new();
    let mut scores = Vec::with_capacity(profiles.len());
    let mut features = Vec::with_capacity(profiles.len());
    for (i, p) in profiles.iter().enumerate() {
        let prediction = summaries
            .get(&i)
            .map(|s| {
                let key = (
                    s.frequency.to_bits(),
                    s.recency.to_bits(),
                    s.t.to_bits(),
                    s.monetary_value.map(f64::to_bits),
                );
                *cache.entry(key).or_insert_with(|| {
                    predict(counts.as_ref(), spend.as_ref(), s, options, &clv_options)
                })
            })
            .unwrap_or_default();
        let regularity = VisitRegularity::from_visits(&p.visits, offset);
        let send = profiles_send
            .get(i)
            .zip(prior.as_ref().ok())
            .and_then(|(profile, prior)| profile.preferred(prior));
        let baskets: Vec<Basket> = p
            .visits
            .iter()
            .zip(&p.baskets)
            .map(|(at, b)| Basket {
                placed_at: *at,
                skus: b.iter().map(|&s| skus.name(s).to_owned()).collect(),
            })
            .collect();
        let habits = customer_affinity(&affinity, &baskets, Weighting::Count, 3);
        let last = p.visits.iter().max().copied();
        let first = p.visits.iter().min().copied();
        let mut feature = CustomerFeatures::new(
            p.id,
            whole_days_between(last.unwrap_or(p.created_at), now),
            u32::try_from(p.visits.len()).unwrap_or(u32::MAX),
            p.spend_minor.iter().sum(),
        );
        feature.tier = p.tier.clone();
        feature.favourite_product = habits.favourite.clone();
        feature.p_alive = prediction.p_alive;
        feature.clv = prediction.clv;
        feature.expected_visits = prediction.expected_visits;
        feature.birthday_month = p.birthday_month;
        feature.location = home_location(&p.locations).map(|l| places.name(l).to_owned());
        feature.days_since_first_visit = whole_days_between(first.unwrap_or(p.created_at), now);
        feature.points_balance = p.balance;
        feature.marketing_consent = p.consent;
        features.push(feature);
        scores.push(CustomerScores {
            customer_id: p.id,
            scored_at: now,
            p_alive: prediction.p_alive,
            expected_visits_30d: prediction.expected_visits,
            expected_spend_minor: prediction.expected_spend.map(|v| v.round() as i64),
            clv_minor: prediction.clv.map(|v| v.round() as i64),
            typical_gap_days: regularity.typical_gap_days(),
            regularity: regularity.regularity(),
            next_visit_at: regularity.expected_next_visit().map(|d| {
                d.with_time(Time::MIDNIGHT)
                    .assume_offset(offset)
                    .to_offset(UtcOffset::UTC)
            }),
            preferred_hour: send.as_ref().map(|s| s.hour),
            preferred_weekday: send
                .as_ref()
                .and_then(|s| s.weekday.as_ref())
                .map(|w| w.weekday.number_days_from_monday()),
            favourite_item: habits.favourite,
            next_best_item: habits.next_best.map(|n| n.sku),
            rfm: None,
            segments: Vec::new(),
            previous_segments: Vec::new(),
            features: None,
        });
    }
    drop(profiles);

    // 5. Segments.
    let rfm = score_all(&features);
    let mut sizes: BTreeMap<String, u64> = BTreeMap::new();
    for ((score, feature), rfm) in scores.iter_mut().zip(&features).zip(&rfm) {
        score.rfm = Some([rfm.recency, rfm.frequency, rfm.monetary]);
        score.segments.push(rfm.segment().name().to_owned());
        for (name, rule) in rules {
            if rule.matches(feature) {
                score.segments.push(name.clone());
            }
        }
        for segment in &score.segments {
            *sizes.entry(segment.clone()).or_default() += 1;
        }
        score.features = serde_json::to_value(feature).ok();
    }
    drop(features);
    (scores, summary, sizes)
}

/// What the models predict for one summary row.
#[derive(Debug, Clone, Copy, Default)]
struct Prediction {
    p_alive: Option<f64>,
    expected_visits: Option<f64>,
    expected_spend: Option<f64>,
    clv: Option<f64>,
}

fn predict(
    counts: Option<&BgNbd>,
    spend: Option<&GammaGamma>,
    row: &Summary,
    options: &ScoringOptions,
    clv: &ClvOptions,
) -> Prediction {
    let mut p = Prediction::default();
    if let Some(counts) = counts {
        p.p_alive = counts.p_alive(row).ok().and_then(finite);
        p.expected_visits = counts
            .expected_purchases(options.horizon_days, row)
            .ok()
            .and_then(finite);
        if let Some(spend) = spend {
            p.clv = customer_lifetime_value(counts, spend, row, clv)
                .ok()
                .and_then(finite);
        }
    }
    if let Some(spend) = spend {
        p.expected_spend = spend.expected_spend(row).ok().and_then(finite);
    }
    p
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

/// The location visited most (ties: the smaller id, i.e. the first seen).
fn home_location(locations: &[Option<u32>]) -> Option<u32> {
    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    for l in locations.iter().flatten() {
        *counts.entry(*l).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(l, _)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

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
