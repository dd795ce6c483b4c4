//! Visit regularity and the expected next visit: "this customer usually comes back
//! within 6 days; it has been 14".
//!
//! Visits are counted per **local day** of the brand: two orders on one day are one
//! visit, and gaps are whole days between consecutive visit days, so every gap is at
//! least 1.
//!
//! * typical gap: the median gap (the mean of the two middle gaps when there is an even
//!   number), defined from 2 visit days on;
//! * regularity: `1 − CV`, where CV is the coefficient of variation (population
//!   standard deviation ÷ mean) of the gaps, clamped to `[0, 1]`: 1 means clockwork,
//!   0 means the gaps vary by as much as their mean or more. Defined from 3 visit days
//!   on (2 gaps); a single gap says nothing about variation;
//! * expected next visit: the last visit day plus the typical gap rounded to whole days;
//! * overdue: days since the last visit day ÷ typical gap (1.0 = due today, 2.0 = twice
//!   the usual gap).
//!
//! Every figure is `None` where it is undefined, never NaN.

use regulars_domain::local_date;
use time::{Date, Duration, OffsetDateTime, UtcOffset};

/// A customer's visit rhythm, from their visit times.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitRegularity {
    offset: UtcOffset,
    visit_days: Vec<Date>,
    gaps_days: Vec<u32>,
    typical_gap_days: Option<f64>,
    regularity: Option<f64>,
}

impl VisitRegularity {
    /// The rhythm of visits at the instants `visits` (any order, duplicates allowed),
    /// read in the brand's local time at `offset`.
    pub fn from_visits(visits: &[OffsetDateTime], offset: UtcOffset) -> VisitRegularity {
        let mut visit_days: Vec<Date> = visits
            .iter()
            .filter_map(|v| local_date(*v, offset))
            .collect();
        visit_days.sort_unstable();
        visit_days.dedup();
        let gaps_days: Vec<u32> = visit_days
            .windows(2)
            .map(|w| {
                let days = (w[1] - w[0]).whole_days();
                u32::try_from(days).unwrap_or(u32::MAX)
            })
            .collect();
        let typical_gap_days = median(&gaps_days);
        let regularity = if gaps_days.len() >= 2 {
            let n = gaps_days.len() as f64;
            let mean = gaps_days.iter().map(|g| f64::from(*g)).sum::<f64>() / n;
            let var = gaps_days
                .iter()
                .map(|g| (f64::from(*g) - mean).powi(2))
                .sum::<f64>()
                / n;
            // mean ≥ 1: gaps are between distinct days.
            Some((1.0 - var.sqrt() / mean).clamp(0.0, 1.0))
        } else {
            None
        };
        VisitRegularity {
            offset,
            visit_days,
            gaps_days,
            typical_gap_days,
            regularity,
        }
    }

    /// Number of distinct local visit days.
    pub fn visit_days(&self) -> usize {
        self.visit_days.len()
    }

    /// The first local visit day, if any.
    pub fn first_visit(&self) -> Option<Date> {
        self.visit_days.first().copied()
    }

    /// The last local visit day, if any.
    pub fn last_visit(&self) -> Option<Date> {
        self.visit_days.last().copied()
    }

    /// Whole days between consecutive visit days, oldest first (each ≥ 1).
    pub fn gaps_days(&self) -> &[u32] {
        &self.gaps_days
    }

    /// Median gap in days; `None` with fewer than 2 visit days.
    pub fn typical_gap_days(&self) -> Option<f64> {
        self.typical_gap_days
    }

    /// Regularity in `[0, 1]` (see the module docs); `None` with fewer than 3 visit days.
    pub fn regularity(&self) -> Option<f64> {
        self.regularity
    }

    /// The local day the next visit is expected: last visit day + typical gap (rounded).
    pub fn expected_next_visit(&self) -> Option<Date> {
        let gap = self.typical_gap_days?.round();
        // Gaps are whole days below u32::MAX; the cast is exact.
        let gap = Duration::days(gap as i64);
        self.last_visit()?.checked_add(gap)
    }

    /// Whole local days from the last visit day to `now` (0 if `now` is not after it).
    pub fn days_since_last_visit(&self, now: OffsetDateTime) -> Option<u32> {
        let today = local_date(now, self.offset)?;
        let days = (today - self.last_visit()?).whole_days().max(0);
        Some(u32::try_from(days).unwrap_or(u32::MAX))
    }

    /// Days since the last visit ÷ typical gap: below 1 not yet due, 1 due today, above 1
    /// overdue. `None` without a typical gap.
    pub fn overdue(&self, now: OffsetDateTime) -> Option<f64> {
        let typical = self.typical_gap_days?;
        Some(f64::from(self.days_since_last_visit(now)?) / typical)
    }
}

fn median(values: &[u32]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => sorted.get(n / 2).map(|v| f64::from(*v)),
        _ => {
            let (a, b) = (sorted.get(n / 2 - 1)?, sorted.get(n / 2)?);
            Some((f64::from(*a) + f64::from(*b)) / 2.0)
        }
    }
}
