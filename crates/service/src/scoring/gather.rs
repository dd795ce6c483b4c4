//! The scoring job's first pass: what the models need from every customer, gathered a
//! page at a time into figures of a fixed size per customer (a summary row to fit and
//! three RFM measures), and figures that do not grow with the brand at all (the brand's
//! send-time pattern and each RFM segment's, the distinct baskets with their counts).

use super::segment_times::SegmentTimes;
use super::{Interner, Profile, features_base, local_days};
use crate::engagement::learn;
use regulars_models::Summary;
use regulars_models::habits::affinity::{AffinityConfig, AffinityModel};
use regulars_models::habits::send_time::SendTimeProfile;
use regulars_models::summary::{Visit as ModelVisit, from_visits};
use regulars_segments::rfm::RfmScale;
use std::collections::HashMap;
use time::{OffsetDateTime, UtcOffset};

/// Everything the first pass keeps.
#[derive(Default)]
pub(super) struct Gathered {
    /// The summary rows of the customers with visits, in reading order.
    pub rows: Vec<Summary>,
    /// The brand's send-time pattern: every customer's visits added up.
    pub pattern: SendTimeProfile,
    /// Each RFM segment's send-time pattern, its previous run's members' added up.
    pub segment_times: SegmentTimes,
    /// Every customer's recency, frequency and monetary value.
    pub rfm: RfmScale,
    /// Distinct baskets (interned SKU ids, sorted) with how many orders had each, in the
    /// order each was first seen.
    baskets: Vec<(Vec<u32>, u64)>,
    basket_index: HashMap<Vec<u32>, usize>,
}

impl Gathered {
    /// Adds a page of customers.
    pub fn add_page(&mut self, profiles: &[Profile], offset: UtcOffset, now: OffsetDateTime) {
        for summary in summaries(profiles, offset, now).into_iter().flatten() {
            self.rows.push(summary);
        }
        for p in profiles {
            let own = learn::send_time_profile(&p.visits, &p.responses, offset);
            self.pattern = SendTimeProfile::aggregate([&self.pattern, &own]);
            self.segment_times.add(p.previous_segment.as_deref(), &own);
            self.rfm.add(&features_base(p, now));
            for basket in &p.baskets {
                match self.basket_index.get(basket) {
                    Some(&i) => {
                        if let Some(entry) = self.baskets.get_mut(i) {
                            entry.1 += 1;
                        }
                    }
                    None => {
                        self.basket_index.insert(basket.clone(), self.baskets.len());
                        self.baskets.push((basket.clone(), 1));
                    }
                }
            }
        }
    }

    /// The item-affinity model of every basket gathered: each distinct basket counted
    /// as many times as it was seen, in the order first seen (so the model is the one
    /// built from every order in reading order).
    pub fn affinity(&self, skus: &Interner) -> AffinityModel {
        AffinityModel::build(
            self.baskets.iter().flat_map(|(basket, count)| {
                std::iter::repeat_n(basket, usize::try_from(*count).unwrap_or(usize::MAX))
                    .map(|b| b.iter().map(|&s| skus.name(s)))
            }),
            AffinityConfig::default(),
        )
    }
}

/// Each profile's summary row (frequency, recency, age and average repeat spend in days
/// of the brand's local calendar), `None` for a customer without visits.
///
/// Refunds can leave a customer's repeat visits worth nothing: such a customer has no
/// spend to model (the spend model takes positive averages only), but still counts for
/// the purchase model.
pub(super) fn summaries(
    profiles: &[Profile],
    offset: UtcOffset,
    now: OffsetDateTime,
) -> Vec<Option<Summary>> {
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
    let mut out = vec![None; profiles.len()];
    for (i, mut s) in from_visits(&visits, local_days(now, offset), 1.0) {
        s.monetary_value = s.monetary_value.filter(|m| m.is_finite() && *m > 0.0);
        if let Some(slot) = out.get_mut(i) {
            *slot = Some(s);
        }
    }
    out
}
