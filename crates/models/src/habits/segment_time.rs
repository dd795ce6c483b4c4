//! A segment's send-time pattern, and the prior it gives its members.
//!
//! A segment's [`SegmentPattern`] is the sum of its members' [`SendTimeProfile`]s and
//! the number of members who had any history. Once it is *established* (at least
//! [`SEGMENT_MIN_MEMBERS`] members with history and [`SEGMENT_MIN_WEIGHT`] weight in
//! all, so one busy customer does not speak for a segment) its normalised pattern is the
//! Dirichlet prior of its members; before that the members' prior is the brand's.
//!
//! The segment's golden hour is what a member with no history of their own is given:
//! the largest hour of that prior (the earliest on a tie).
//!
//! ```
//! use regulars_models::habits::segment_time::SegmentPattern;
//! use regulars_models::habits::send_time::SendTimeProfile;
//! // The brand visits at 08:00; three members of a segment clicked at 20:00.
//! let mut brand = SendTimeProfile::new();
//! brand.record_engagement_at_hour(8, 100.0)?;
//! let mut segment = SegmentPattern::default();
//! for _ in 0..3 {
//!     let mut member = SendTimeProfile::new();
//!     member.record_engagement_at_hour(20, 4.0)?;
//!     segment.add_member(&member);
//! }
//! assert!(segment.is_established());
//! let golden = segment.golden(&brand, 5.0).ok_or("no hour")?;
//! assert_eq!(golden.hour, 20);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::HabitsError;
use super::send_time::{SendTimeChoice, SendTimePrior, SendTimeProfile};
use serde::{Deserialize, Serialize};

/// Members with history a segment needs before its pattern is its members' prior.
pub const SEGMENT_MIN_MEMBERS: u64 = 3;

/// Weight (visits plus weighted clicks and opens) a segment needs before its pattern is
/// its members' prior.
pub const SEGMENT_MIN_WEIGHT: f64 = 10.0;

/// The sum of a segment's members' send-time profiles.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SegmentPattern {
    profile: SendTimeProfile,
    members: u64,
}

impl SegmentPattern {
    /// Adds a member's profile; a member with no weight adds nothing and is not counted.
    pub fn add_member(&mut self, member: &SendTimeProfile) {
        if member.total_hour_weight() > 0.0 {
            self.members += 1;
            self.profile.merge(member);
        }
    }

    /// The summed profile.
    pub fn profile(&self) -> &SendTimeProfile {
        &self.profile
    }

    /// Members that had any history.
    pub fn members(&self) -> u64 {
        self.members
    }

    /// Whether the segment speaks for its members (see the module docs).
    pub fn is_established(&self) -> bool {
        self.members >= SEGMENT_MIN_MEMBERS
            && self.profile.total_hour_weight() >= SEGMENT_MIN_WEIGHT
    }

    /// The prior of the segment's members, worth `strength` visits: the segment's own
    /// pattern once established, the brand's (`brand`) before.
    pub fn prior(
        &self,
        brand: &SendTimeProfile,
        strength: f64,
    ) -> Result<SendTimePrior, HabitsError> {
        if self.is_established() {
            SendTimePrior::from_profile(&self.profile, strength)
        } else {
            SendTimePrior::from_profile(brand, strength)
        }
    }

    /// The segment's golden hour and weekday: the choice of a member with no history;
    /// `None` for an invalid strength.
    pub fn golden(&self, brand: &SendTimeProfile, strength: f64) -> Option<SendTimeChoice> {
        SendTimeProfile::new().preferred(&self.prior(brand, strength).ok()?)
    }
}
