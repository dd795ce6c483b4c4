//! RFM scoring: recency, frequency and monetary value scored 1–5 by quintiles over a
//! brand's customers, and the standard named segments read off an R × FM grid.
//!
//! # Method
//! For each measure the brand's customers are ranked from worst to best (recency: more
//! days since the last visit is worse; frequency and monetary: less is worse). Customers
//! with equal values share the average of the ranks they occupy, so equal values always
//! get equal scores and no tie is broken by input order. A customer with average rank
//! `r` among `n` customers scores `⌈5·r / n⌉`: with distinct values that is exactly the
//! quintile (the best fifth scores 5). The score never decreases when a customer's
//! measure improves.
//!
//! `FM = ⌊(F + M) / 2⌋`, and the segment is read from this grid:
//!
//! | R \ FM | 1 | 2 | 3 | 4 | 5 |
//! |---|---|---|---|---|---|
//! | **5** | New customers | Potential loyalist | Potential loyalist | Champions | Champions |
//! | **4** | Promising | Potential loyalist | Potential loyalist | Loyal | Loyal |
//! | **3** | About to sleep | About to sleep | Need attention | Loyal | Loyal |
//! | **2** | Hibernating | Hibernating | At risk | At risk | Can't lose them |
//! | **1** | Lost | Hibernating | At risk | At risk | Can't lose them |
//!
//! It is the widely used R/FM grid (R 1–2 with FM 1–2 hibernating, 3–4 at risk, 5
//! can't lose; R 3 with FM 1–2 about to sleep, 3 need attention; R 3–4 with FM 4–5
//! loyal; R 4–5 with FM 2–3 potential loyalist; R 4 FM 1 promising; R 5 FM 1 new;
//! R 5 FM 4–5 champions), with its worst corner, R 1 FM 1, named Lost.

use crate::CustomerFeatures;
use serde::{Deserialize, Serialize};
use std::fmt;

mod scale;
pub use scale::RfmScale;

/// A customer's RFM scores, each in `1..=5` (5 is best).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RfmScore {
    /// Recency score: 5 for the most recent fifth of customers.
    pub recency: u8,
    /// Frequency score: 5 for the most frequent fifth.
    pub frequency: u8,
    /// Monetary score: 5 for the highest-spending fifth.
    pub monetary: u8,
}

impl RfmScore {
    /// The combined frequency–monetary score, `⌊(F + M) / 2⌋`, in `1..=5`.
    pub fn fm(self) -> u8 {
        (self.frequency + self.monetary) / 2
    }

    /// The named segment of these scores (see the module's grid).
    ///
    /// ```
    /// use regulars_segments::rfm::{RfmScore, RfmSegment};
    /// let s = RfmScore { recency: 1, frequency: 5, monetary: 5 };
    /// assert_eq!(s.segment(), RfmSegment::CantLoseThem);
    /// ```
    pub fn segment(self) -> RfmSegment {
        RfmSegment::from_scores(self.recency, self.fm())
    }
}

impl fmt::Display for RfmScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.recency, self.frequency, self.monetary)
    }
}

/// The standard named RFM segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RfmSegment {
    /// Recent, frequent, big spenders (R 5, FM 4–5).
    Champions,
    /// Spend well and often, still fairly recent (R 3–4, FM 4–5).
    Loyal,
    /// Recent, with average frequency and spend (R 4–5, FM 2–3).
    PotentialLoyalist,
    /// Very recent first-timers (R 5, FM 1).
    NewCustomers,
    /// Recent but low frequency and spend (R 4, FM 1).
    Promising,
    /// Middle of the road on everything (R 3, FM 3).
    NeedAttention,
    /// Slipping, with low frequency and spend (R 3, FM 1–2).
    AboutToSleep,
    /// Used to come and spend, not seen for a while (R 1–2, FM 3–4).
    AtRisk,
    /// Were among the best, not seen for a while (R 1–2, FM 5).
    CantLoseThem,
    /// Long gone, low value (R 1–2, FM 1–2, except R 1 FM 1).
    Hibernating,
    /// The least recent and least valuable (R 1, FM 1).
    Lost,
}

impl RfmSegment {
    /// Every segment, best first.
    pub const ALL: [RfmSegment; 11] = [
        RfmSegment::Champions,
        RfmSegment::Loyal,
        RfmSegment::PotentialLoyalist,
        RfmSegment::NewCustomers,
        RfmSegment::Promising,
        RfmSegment::NeedAttention,
        RfmSegment::AboutToSleep,
        RfmSegment::AtRisk,
        RfmSegment::CantLoseThem,
        RfmSegment::Hibernating,
        RfmSegment::Lost,
    ];

    /// The segment at `(recency, fm)` in the grid. Scores outside `1..=5` are clamped
    /// into it, so every pair has exactly one segment.
    pub fn from_scores(recency: u8, fm: u8) -> RfmSegment {
        let row = usize::from(5 - recency.clamp(1, 5));
        let column = usize::from(fm.clamp(1, 5) - 1);
        GRID[row][column]
    }

    /// The segment's name as people read it ("Can't lose them").
    pub fn name(self) -> &'static str {
        match self {
            RfmSegment::Champions => "Champions",
            RfmSegment::Loyal => "Loyal",
            RfmSegment::PotentialLoyalist => "Potential loyalist",
            RfmSegment::NewCustomers => "New customers",
            RfmSegment::Promising => "Promising",
            RfmSegment::NeedAttention => "Need attention",
            RfmSegment::AboutToSleep => "About to sleep",
            RfmSegment::AtRisk => "At risk",
            RfmSegment::CantLoseThem => "Can't lose them",
            RfmSegment::Hibernating => "Hibernating",
            RfmSegment::Lost => "Lost",
        }
    }
}

impl fmt::Display for RfmSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The R × FM grid of the module docs: row 0 is R = 5, column 0 is FM = 1.
const GRID: [[RfmSegment; 5]; 5] = {
    use RfmSegment::*;
    [
        [
            NewCustomers,
            PotentialLoyalist,
            PotentialLoyalist,
            Champions,
            Champions,
        ],
        [
            Promising,
            PotentialLoyalist,
            PotentialLoyalist,
            Loyal,
            Loyal,
        ],
        [AboutToSleep, AboutToSleep, NeedAttention, Loyal, Loyal],
        [Hibernating, Hibernating, AtRisk, AtRisk, CantLoseThem],
        [Lost, Hibernating, AtRisk, AtRisk, CantLoseThem],
    ]
};

/// Quintile scores (`1..=5`) of `values`, larger is better, in input order; equal
/// values get equal scores (average rank of their tie group, see the module docs).
///
/// ```
/// use regulars_segments::rfm::quintile_scores;
/// assert_eq!(quintile_scores(&[10, 50, 20, 40, 30]), vec![1, 5, 2, 4, 3]);
/// assert_eq!(quintile_scores(&[7, 7, 7, 7, 7]), vec![3; 5]);
/// ```
pub fn quintile_scores<T: Ord>(values: &[T]) -> Vec<u8> {
    let n = values.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| values[a].cmp(&values[b]));
    let mut scores = vec![1u8; n];
    let n128 = n as u128;
    let mut start = 0;
    while start < n {
        let mut end = start + 1;
        while end < n && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Ranks start+1..=end; average rank r = (start + 1 + end) / 2; score ⌈5r/n⌉
        // = ⌈5(start + 1 + end) / 2n⌉, in integers.
        let num = 5 * (start as u128 + 1 + end as u128);
        let den = 2 * n128;
        let score = num.div_ceil(den).clamp(1, 5) as u8;
        for &i in &order[start..end] {
            scores[i] = score;
        }
        start = end;
    }
    scores
}

/// RFM scores of every customer of a brand, in input order.
///
/// Recency is scored on `recency_days` (fewer is better), frequency on `frequency`,
/// monetary on `monetary`.
pub fn score_all(customers: &[CustomerFeatures]) -> Vec<RfmScore> {
    let recency: Vec<std::cmp::Reverse<u32>> = customers
        .iter()
        .map(|c| std::cmp::Reverse(c.recency_days))
        .collect();
    let frequency: Vec<u32> = customers.iter().map(|c| c.frequency).collect();
    let monetary: Vec<i64> = customers.iter().map(|c| c.monetary).collect();
    let (r, f, m) = (
        quintile_scores(&recency),
        quintile_scores(&frequency),
        quintile_scores(&monetary),
    );
    r.into_iter()
        .zip(f)
        .zip(m)
        .map(|((recency, frequency), monetary)| RfmScore {
            recency,
            frequency,
            monetary,
        })
        .collect()
}
