//! The scoring job's second pass: each page of customers scored against what the first
//! pass fitted and gathered, ready to store.

use super::gather::summaries;
use super::{Interner, Profile, ScoringOptions, features_base, finite, whole_days_between};
use crate::engagement::learn;
use regulars_models::gamma_gamma::{ClvOptions, customer_lifetime_value};
use regulars_models::habits::affinity::{AffinityModel, Basket, Weighting, customer_affinity};
use regulars_models::habits::regularity::VisitRegularity;
use regulars_models::habits::send_time::SendTimePrior;
use regulars_models::{BgNbd, CountModel, GammaGamma, Summary};
use regulars_ports::CustomerScores;
use regulars_segments::Rule;
use regulars_segments::rfm::RfmScale;
use std::collections::{BTreeMap, HashMap};
use time::{OffsetDateTime, Time, UtcOffset};

/// What every page is scored with: the fitted models, the brand's habits, the RFM
/// scale and the custom segments.
pub(super) struct Scorer {
    pub counts: Option<BgNbd>,
    pub spend: Option<GammaGamma>,
    pub prior: Option<SendTimePrior>,
    /// The prior of each established RFM segment's members, by segment name.
    pub segment_priors: BTreeMap<String, SendTimePrior>,
    pub affinity: AffinityModel,
    pub rfm: RfmScale,
    pub rules: Vec<(String, Rule)>,
    pub offset: UtcOffset,
    pub now: OffsetDateTime,
    pub options: ScoringOptions,
}

impl Scorer {
    /// The scores of a page of customers, in the page's order (previous segments left
    /// empty: the writer fills them in).
    pub fn score(
        &self,
        profiles: &[Profile],
        skus: &Interner,
        places: &Interner,
    ) -> Vec<CustomerScores> {
        let (offset, now) = (self.offset, self.now);
        let clv = ClvOptions {
            months: self.options.clv_months,
            monthly_discount: self.options.monthly_discount,
            units_per_month: 30.0,
        };
        let mut cache: HashMap<(u64, u64, u64, Option<u64>), Prediction> = HashMap::new();
        let rows = summaries(profiles, offset, now);
        let mut out = Vec::with_capacity(profiles.len());
        for (p, row) in profiles.iter().zip(&rows) {
            let prediction = row
                .as_ref()
                .map(|s| {
                    let key = (
                        s.frequency.to_bits(),
                        s.recency.to_bits(),
                        s.t.to_bits(),
                        s.monetary_value.map(f64::to_bits),
                    );
                    *cache.entry(key).or_insert_with(|| self.predict(s, &clv))
                })
                .unwrap_or_default();
            let regularity = VisitRegularity::from_visits(&p.visits, offset);
            let baskets: Vec<Basket> = p
                .visits
                .iter()
                .zip(&p.baskets)
                .map(|(at, b)| Basket {
                    placed_at: *at,
                    skus: b.iter().map(|&s| skus.name(s).to_owned()).collect(),
                })
                .collect();
            let habits = customer_affinity(&self.affinity, &baskets, Weighting::Count, 3);
            let first = p.visits.iter().min().copied();
            let mut feature = features_base(p, now);
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
            let rfm = self.rfm.score(&feature);
            // Pulled towards the segment's pattern, or the brand's while it is small.
            let send = self
                .segment_priors
                .get(rfm.segment().name())
                .or(self.prior.as_ref())
                .and_then(|prior| {
                    learn::send_time_profile(&p.visits, &p.responses, offset).preferred(prior)
                });
            let mut segments = vec![rfm.segment().name().to_owned()];
            for (name, rule) in &self.rules {
                if rule.matches(&feature) {
                    segments.push(name.clone());
                }
            }
            out.push(CustomerScores {
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
                rfm: Some([rfm.recency, rfm.frequency, rfm.monetary]),
                segments,
                previous_segments: Vec::new(),
                features: serde_json::to_value(&feature).ok(),
            });
        }
        out
    }

    fn predict(&self, row: &Summary, clv: &ClvOptions) -> Prediction {
        let mut p = Prediction::default();
        if let Some(counts) = &self.counts {
            p.p_alive = counts.p_alive(row).ok().and_then(finite);
            p.expected_visits = counts
                .expected_purchases(self.options.horizon_days, row)
                .ok()
                .and_then(finite);
            if let Some(spend) = &self.spend {
                p.clv = customer_lifetime_value(counts, spend, row, clv)
                    .ok()
                    .and_then(finite);
            }
        }
        if let Some(spend) = &self.spend {
            p.expected_spend = spend.expected_spend(row).ok().and_then(finite);
        }
        p
    }
}

/// What the models predict for one summary row.
#[derive(Debug, Clone, Copy, Default)]
struct Prediction {
    p_alive: Option<f64>,
    expected_visits: Option<f64>,
    expected_spend: Option<f64>,
    clv: Option<f64>,
}

/// The location visited most (ties: the smaller id, i.e. the first seen).
pub(super) fn home_location(locations: &[Option<u32>]) -> Option<u32> {
    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    for l in locations.iter().flatten() {
        *counts.entry(*l).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(l, _)| l)
}
