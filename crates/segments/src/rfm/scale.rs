//! RFM scores one customer at a time against a brand's measures gathered beforehand, so
//! a brand too large to hold every customer's features at once is scored page by page
//! with the same result as [`score_all`](super::score_all).

use super::RfmScore;
use crate::CustomerFeatures;
use std::cmp::Reverse;

/// The brand's recency, frequency and monetary values, sorted: what a customer's
/// quintile scores are read from. 16 bytes a customer, whatever their history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RfmScale {
    recency: Vec<Reverse<u32>>,
    frequency: Vec<u32>,
    monetary: Vec<i64>,
}

impl RfmScale {
    /// An empty scale; add every customer with [`add`](Self::add), then
    /// [`finish`](Self::finish).
    pub fn new() -> RfmScale {
        RfmScale::default()
    }

    /// Adds one customer's measures.
    pub fn add(&mut self, features: &CustomerFeatures) {
        self.recency.push(Reverse(features.recency_days));
        self.frequency.push(features.frequency);
        self.monetary.push(features.monetary);
    }

    /// Sorts what was added; scores are read from the finished scale.
    pub fn finish(mut self) -> RfmScale {
        self.recency.sort_unstable();
        self.frequency.sort_unstable();
        self.monetary.sort_unstable();
        self
    }

    /// Customers added.
    pub fn len(&self) -> usize {
        self.frequency.len()
    }

    /// Whether no customer was added.
    pub fn is_empty(&self) -> bool {
        self.frequency.is_empty()
    }

    /// The scores `score_all` gives a customer with these measures among the customers
    /// added (a customer whose measures were not added is scored where they would fall).
    ///
    /// ```
    /// use regulars_domain::CustomerId;
    /// use regulars_segments::CustomerFeatures;
    /// use regulars_segments::rfm::{RfmScale, score_all};
    /// let all: Vec<_> = (0..10u32)
    ///     .map(|i| CustomerFeatures::new(CustomerId::from_bytes([i as u8; 16]), i * 7, i % 4, i64::from(i) * 1000))
    ///     .collect();
    /// let mut scale = RfmScale::new();
    /// all.iter().for_each(|f| scale.add(f));
    /// let scale = scale.finish();
    /// let one_by_one: Vec<_> = all.iter().map(|f| scale.score(f)).collect();
    /// assert_eq!(one_by_one, score_all(&all));
    /// ```
    pub fn score(&self, features: &CustomerFeatures) -> RfmScore {
        RfmScore {
            recency: quintile(&self.recency, &Reverse(features.recency_days)),
            frequency: quintile(&self.frequency, &features.frequency),
            monetary: quintile(&self.monetary, &features.monetary),
        }
    }
}

/// The quintile score of `value` among `sorted` (ascending, larger is better): the
/// average rank of its tie group, as `quintile_scores` computes it.
fn quintile<T: Ord>(sorted: &[T], value: &T) -> u8 {
    let n = sorted.len() as u128;
    if n == 0 {
        return 1;
    }
    let start = sorted.partition_point(|v| v < value) as u128;
    let end = (sorted.partition_point(|v| v <= value) as u128).max(start + 1);
    (5 * (start + 1 + end)).div_ceil(2 * n).clamp(1, 5) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rfm::score_all;
    use proptest::prelude::*;
    use regulars_domain::CustomerId;

    fn features(measures: &[(u32, u32, i64)]) -> Vec<CustomerFeatures> {
        measures
            .iter()
            .enumerate()
            .map(|(i, &(r, f, m))| {
                let mut id = [0u8; 16];
                id[..8].copy_from_slice(&(i as u64).to_be_bytes());
                CustomerFeatures::new(CustomerId::from_bytes(id), r, f, m)
            })
            .collect()
    }

    proptest! {
        /// Scored one at a time against the scale, every customer gets exactly the
        /// scores of the whole-brand computation, ties and all.
        #[test]
        fn one_at_a_time_equals_all_at_once(
            measures in prop::collection::vec((0u32..40, 0u32..12, -5i64..50_000), 1..300)
        ) {
            let all = features(&measures);
            let mut scale = RfmScale::new();
            for f in &all {
                scale.add(f);
            }
            let scale = scale.finish();
            let expected = score_all(&all);
            for (f, want) in all.iter().zip(&expected) {
                prop_assert_eq!(scale.score(f), *want);
            }
        }

        /// Scores stay within 1–5 and never fall when a measure improves.
        #[test]
        fn scores_are_monotone(
            measures in prop::collection::vec((0u32..40, 0u32..12, 0i64..50_000), 1..100),
            r in 0u32..40, f in 0u32..12, m in 0i64..50_000,
        ) {
            let mut scale = RfmScale::new();
            for c in features(&measures) {
                scale.add(&c);
            }
            let scale = scale.finish();
            let base = &features(&[(r, f, m)])[0];
            let better = &features(&[(r.saturating_sub(1), f + 1, m + 1)])[0];
            let (a, b) = (scale.score(base), scale.score(better));
            prop_assert!((1..=5).contains(&a.recency) && (1..=5).contains(&a.monetary));
            prop_assert!(b.recency >= a.recency);
            prop_assert!(b.frequency >= a.frequency);
            prop_assert!(b.monetary >= a.monetary);
        }
    }
}
