//! Ratings of visits: how many and how good, by location and by local week.

use regulars_domain::Stars;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::{Date, Duration, OffsetDateTime, UtcOffset};

/// One rating as a report reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingFact {
    /// The location code of the rated order; `None` when it had none.
    pub location: Option<String>,
    /// The stars.
    pub stars: Stars,
    /// When it was given.
    pub at: OffsetDateTime,
}

/// Count, average and spread of some ratings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RatingSummary {
    /// How many ratings.
    pub count: u64,
    /// The mean stars; `None` without ratings.
    pub average: Option<f64>,
    /// Ratings at or below the brand's low threshold.
    pub low: u64,
    /// Ratings of 1, 2, 3, 4 and 5 stars.
    pub by_stars: [u64; 5],
}

impl RatingSummary {
    fn add(&mut self, stars: Stars, low: bool) {
        self.count += 1;
        self.low += u64::from(low);
        if let Some(slot) = self.by_stars.get_mut(usize::from(stars.value()) - 1) {
            *slot += 1;
        }
        self.average = Some(self.sum() as f64 / self.count as f64);
    }

    fn sum(&self) -> u64 {
        self.by_stars
            .iter()
            .zip(1u64..)
            .map(|(n, stars)| n * stars)
            .sum()
    }
}

/// One location's ratings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingLocationRow {
    /// The location code; `None` for orders without one.
    pub location: Option<String>,
    /// Its ratings.
    pub summary: RatingSummary,
}

/// One local week's ratings (weeks begin on Monday).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingWeekRow {
    /// The Monday the week begins, in the brand's local time.
    pub week: Date,
    /// Its ratings.
    pub summary: RatingSummary,
}

/// Ratings by location and by week; each adds up to the total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingsReport {
    /// Every rating read.
    pub total: RatingSummary,
    /// By location code, in code order (orders without a location last).
    pub by_location: Vec<RatingLocationRow>,
    /// By local week, oldest first; weeks without ratings are left out.
    pub by_week: Vec<RatingWeekRow>,
}

/// Folds ratings into a [`RatingsReport`], in any order.
///
/// ```
/// use regulars_domain::Stars;
/// use regulars_reports::{RatingFact, RatingsBuilder};
/// use time::macros::{date, datetime, offset};
///
/// let mut report = RatingsBuilder::new(offset!(+7), Stars::new(2)?);
/// report.add(&RatingFact { location: Some("q1".into()), stars: Stars::new(5)?, at: datetime!(2026-12-07 09:00 +7) });
/// report.add(&RatingFact { location: Some("q1".into()), stars: Stars::new(2)?, at: datetime!(2026-12-08 09:00 +7) });
/// let report = report.finish();
/// assert_eq!(report.total.count, 2);
/// assert_eq!(report.total.average, Some(3.5));
/// assert_eq!(report.total.low, 1);
/// assert_eq!(report.by_week[0].week, date!(2026 - 12 - 07));
/// # Ok::<(), regulars_domain::DomainError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RatingsBuilder {
    offset: UtcOffset,
    threshold: Stars,
    total: RatingSummary,
    // `Some` sorts after `None` in a BTreeMap; the report puts `None` last itself.
    by_location: BTreeMap<Option<String>, RatingSummary>,
    by_week: BTreeMap<Date, RatingSummary>,
}

/// The Monday of the local week of `at`.
pub fn week_of(at: OffsetDateTime, offset: UtcOffset) -> Date {
    let day = at.to_offset(offset).date();
    let back = i64::from(day.weekday().number_days_from_monday());
    day.checked_sub(Duration::days(back)).unwrap_or(day)
}

impl RatingsBuilder {
    /// A builder for local weeks at `offset`, counting ratings at or below `threshold`
    /// as low.
    pub fn new(offset: UtcOffset, threshold: Stars) -> Self {
        RatingsBuilder {
            offset,
            threshold,
            total: RatingSummary::default(),
            by_location: BTreeMap::new(),
            by_week: BTreeMap::new(),
        }
    }

    /// Counts one rating.
    pub fn add(&mut self, fact: &RatingFact) {
        let low = fact.stars.is_low(self.threshold);
        self.total.add(fact.stars, low);
        self.by_location
            .entry(fact.location.clone())
            .or_default()
            .add(fact.stars, low);
        self.by_week
            .entry(week_of(fact.at, self.offset))
            .or_default()
            .add(fact.stars, low);
    }

    /// The report.
    pub fn finish(self) -> RatingsReport {
        let (none, some): (Vec<_>, Vec<_>) = self
            .by_location
            .into_iter()
            .map(|(location, summary)| RatingLocationRow { location, summary })
            .partition(|r| r.location.is_none());
        RatingsReport {
            total: self.total,
            by_location: some.into_iter().chain(none).collect(),
            by_week: self
                .by_week
                .into_iter()
                .map(|(week, summary)| RatingWeekRow { week, summary })
                .collect(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::Weekday;
    use time::macros::offset;

    fn fact() -> impl Strategy<Value = RatingFact> {
        (
            proptest::option::of(prop_oneof![Just("q1"), Just("q3"), Just("d7")]),
            1u8..=5,
            0i64..(120 * 86_400),
        )
            .prop_map(|(location, stars, secs)| RatingFact {
                location: location.map(str::to_owned),
                stars: Stars::new(stars).unwrap(),
                at: OffsetDateTime::from_unix_timestamp(1_796_000_000 + secs).unwrap(),
            })
    }

    fn report(facts: &[RatingFact]) -> RatingsReport {
        let mut b = RatingsBuilder::new(offset!(+7), Stars::new(2).unwrap());
        for f in facts {
            b.add(f);
        }
        b.finish()
    }

    fn totals(rows: impl Iterator<Item = RatingSummary>) -> (u64, u64, [u64; 5]) {
        rows.fold((0, 0, [0; 5]), |(c, l, mut s), r| {
            for (a, b) in s.iter_mut().zip(r.by_stars) {
                *a += b;
            }
            (c + r.count, l + r.low, s)
        })
    }

    #[test]
    fn weeks_begin_on_the_local_monday() {
        // Sunday 23:30 UTC is Monday 06:30 in Vietnam.
        let at = time::macros::datetime!(2026-12-06 23:30 UTC);
        let week = week_of(at, offset!(+7));
        assert_eq!(week, time::macros::date!(2026 - 12 - 07));
        assert_eq!(week.weekday(), Weekday::Monday);
        assert_eq!(
            week_of(at, offset!(UTC)),
            time::macros::date!(2026 - 11 - 30)
        );
    }

    #[test]
    fn no_ratings_have_no_average() {
        let r = report(&[]);
        assert_eq!(r.total.count, 0);
        assert_eq!(r.total.average, None);
        assert!(r.by_location.is_empty() && r.by_week.is_empty());
    }

    proptest! {
        /// By location and by week each add up to the total; every average lies between
        /// 1 and 5 and is the mean of its stars; the order of the ratings does not matter.
        #[test]
        fn rows_add_up_and_order_does_not_matter(
            facts in proptest::collection::vec(fact(), 0..60),
            seed in any::<u64>(),
        ) {
            let r = report(&facts);
            prop_assert_eq!(r.total.count, facts.len() as u64);
            let want_low = facts.iter().filter(|f| f.stars.value() <= 2).count() as u64;
            prop_assert_eq!(r.total.low, want_low);
            let total = (r.total.count, r.total.low, r.total.by_stars);
            prop_assert_eq!(totals(r.by_location.iter().map(|x| x.summary.clone())), total);
            prop_assert_eq!(totals(r.by_week.iter().map(|x| x.summary.clone())), total);
            for s in r.by_location.iter().map(|x| &x.summary).chain(r.by_week.iter().map(|x| &x.summary)) {
                let avg = s.average.expect("a row has ratings");
                prop_assert!((1.0..=5.0).contains(&avg));
                let sum: u64 = s.by_stars.iter().zip(1u64..).map(|(n, k)| n * k).sum();
                prop_assert!((avg - sum as f64 / s.count as f64).abs() < 1e-9);
            }
            for w in &r.by_week {
                prop_assert_eq!(w.week.weekday(), Weekday::Monday);
            }
            prop_assert!(r.by_week.windows(2).all(|p| p[0].week < p[1].week));
            if let Some(pos) = r.by_location.iter().position(|x| x.location.is_none()) {
                prop_assert_eq!(pos, r.by_location.len() - 1);
            }
            let mut shuffled = facts.clone();
            let n = shuffled.len();
            if n > 1 {
                let mut s = seed;
                for i in (1..n).rev() {
                    s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    shuffled.swap(i, (s >> 33) as usize % (i + 1));
                }
            }
            prop_assert_eq!(report(&shuffled), r);
        }
    }
}
