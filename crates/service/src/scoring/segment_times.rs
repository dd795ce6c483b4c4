//! The golden hour per RFM segment: the first pass sums each segment's send-time
//! pattern (one pattern per segment, never one per customer), the fits turn each into
//! the prior of its members, and the run stores every segment's golden hour.
//!
//! RFM segments are known only after the first pass (their thresholds are the brand's
//! quintiles), so a customer's pattern is added to the segment they were in at the
//! previous run; a customer never scored counts for the brand alone. Segments move
//! slowly, and the pattern of the previous run's members is what a segment responds to.

use regulars_models::habits::segment_time::SegmentPattern;
use regulars_models::habits::send_time::{SendTimePrior, SendTimeProfile};
use regulars_ports::SegmentSendTime;
use regulars_segments::rfm::RfmSegment;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// How many visits the brand's or a segment's pattern is worth as a customer's prior.
pub(super) const PRIOR_STRENGTH: f64 = 5.0;

/// Each RFM segment's summed pattern, by name.
#[derive(Default)]
pub(super) struct SegmentTimes {
    patterns: BTreeMap<&'static str, SegmentPattern>,
}

/// What the fits make of the patterns: the prior of each established segment's members,
/// and every segment's golden hour to store.
pub(super) struct Learned {
    pub priors: BTreeMap<String, SendTimePrior>,
    pub rows: Vec<SegmentSendTime>,
}

impl SegmentTimes {
    /// Adds a customer's profile to the RFM segment named `segment` (their segment at the
    /// previous run); anything else (none, a custom segment) is not counted.
    pub fn add(&mut self, segment: Option<&str>, own: &SendTimeProfile) {
        let Some(rfm) = segment.and_then(|s| RfmSegment::ALL.iter().find(|r| r.name() == s)) else {
            return;
        };
        self.patterns.entry(rfm.name()).or_default().add_member(own);
    }

    /// The priors and the rows of every RFM segment, with `brand` as the pattern of a
    /// segment too small to speak for its members.
    pub fn learn(&self, brand: &SendTimeProfile, now: OffsetDateTime) -> Learned {
        let mut priors = BTreeMap::new();
        let mut rows = Vec::with_capacity(RfmSegment::ALL.len());
        let empty = SegmentPattern::default();
        for rfm in RfmSegment::ALL {
            let pattern = self.patterns.get(rfm.name()).unwrap_or(&empty);
            let Ok(prior) = pattern.prior(brand, PRIOR_STRENGTH) else {
                continue;
            };
            let golden = pattern.golden(brand, PRIOR_STRENGTH);
            rows.push(SegmentSendTime {
                segment: rfm.name().to_owned(),
                golden_hour: golden.as_ref().map(|g| g.hour),
                golden_weekday: golden
                    .as_ref()
                    .and_then(|g| g.weekday.as_ref())
                    .map(|w| w.weekday.number_days_from_monday()),
                members: pattern.members(),
                own_pattern: pattern.is_established(),
                hours: prior.hour_distribution().to_vec(),
                scored_at: now,
            });
            if pattern.is_established() {
                priors.insert(rfm.name().to_owned(), prior);
            }
        }
        Learned { priors, rows }
    }
}
