//! A segment's send-time pattern as its members' prior.

use proptest::prelude::*;
use regulars_models::habits::segment_time::{
    SEGMENT_MIN_MEMBERS, SEGMENT_MIN_WEIGHT, SegmentPattern,
};
use regulars_models::habits::send_time::SendTimeProfile;

/// The earliest hour of the largest weight.
fn argmax(weights: &[f64; 24]) -> u8 {
    let mut best = 0;
    for (h, w) in weights.iter().enumerate() {
        if *w > weights[best] {
            best = h;
        }
    }
    best as u8
}

/// A profile of engagement weights at hours.
fn profile(events: &[(u8, f64)]) -> SendTimeProfile {
    let mut p = SendTimeProfile::new();
    for (h, w) in events {
        p.record_engagement_at_hour(*h, *w).unwrap();
    }
    p
}

fn members() -> impl Strategy<Value = Vec<Vec<(u8, f64)>>> {
    prop::collection::vec(prop::collection::vec((0u8..24, 0.0f64..10.0), 0..6), 0..12)
}

#[test]
fn a_small_segment_leaves_its_members_to_the_brand() {
    let brand = profile(&[(8, 50.0)]);
    let mut segment = SegmentPattern::default();
    for _ in 0..SEGMENT_MIN_MEMBERS - 1 {
        segment.add_member(&profile(&[(20, 100.0)]));
    }
    assert!(!segment.is_established());
    assert_eq!(segment.golden(&brand, 5.0).unwrap().hour, 8);
    // One more member makes it speak for itself.
    segment.add_member(&profile(&[(20, 1.0)]));
    assert!(segment.is_established());
    assert_eq!(segment.golden(&brand, 5.0).unwrap().hour, 20);
    // A member with no history is not counted.
    let mut empty = SegmentPattern::default();
    empty.add_member(&SendTimeProfile::new());
    assert_eq!(empty.members(), 0);
    assert!(segment.golden(&brand, f64::NAN).is_none());
}

proptest! {
    #[test]
    fn a_member_without_events_gets_exactly_the_segment_argmax(
        members in members(),
        brand in prop::collection::vec((0u8..24, 0.0f64..10.0), 0..6),
        strength in 0.01f64..50.0,
    ) {
        let brand = profile(&brand);
        let mut segment = SegmentPattern::default();
        for m in &members {
            segment.add_member(&profile(m));
        }
        let golden = segment.golden(&brand, strength).unwrap();
        let expected = if segment.is_established() {
            argmax(segment.profile().hour_weights())
        } else {
            argmax(brand.hour_weights())
        };
        prop_assert_eq!(golden.hour, expected);
        let prior = segment.prior(&brand, strength).unwrap();
        let own = SendTimeProfile::new().preferred(&prior).unwrap();
        prop_assert_eq!(own.hour, golden.hour);
        prop_assert_eq!(own.evidence, 0.0);
    }

    #[test]
    fn many_events_dominate_the_segment_prior(
        members in members(),
        strength in 0.0f64..50.0,
        hour in 0u8..24,
        extra in 0.001f64..100.0,
    ) {
        let mut segment = SegmentPattern::default();
        for m in &members {
            segment.add_member(&profile(m));
        }
        let prior = segment.prior(&SendTimeProfile::new(), strength).unwrap();
        // More weight at one hour than the whole prior is worth beats any hour.
        let customer = profile(&[(hour, strength + extra)]);
        prop_assert_eq!(customer.preferred(&prior).unwrap().hour, hour);
    }

    #[test]
    fn a_segment_pattern_is_the_sum_of_its_members(members in members()) {
        let profiles: Vec<SendTimeProfile> = members.iter().map(|m| profile(m)).collect();
        let mut segment = SegmentPattern::default();
        for p in &profiles {
            segment.add_member(p);
        }
        let sum = SendTimeProfile::aggregate(&profiles);
        for h in 0..24 {
            let by_hand: f64 = members
                .iter()
                .flatten()
                .filter(|(at, _)| usize::from(*at) == h)
                .map(|(_, w)| w)
                .sum();
            let got = segment.profile().hour_weights()[h];
            prop_assert!((got - by_hand).abs() <= 1e-9 * (1.0 + by_hand));
            prop_assert!((sum.hour_weights()[h] - got).abs() <= 1e-9 * (1.0 + got));
        }
        let with_history = profiles.iter().filter(|p| p.total_hour_weight() > 0.0).count();
        prop_assert_eq!(segment.members(), with_history as u64);
        prop_assert_eq!(
            segment.is_established(),
            segment.members() >= SEGMENT_MIN_MEMBERS
                && segment.profile().total_hour_weight() >= SEGMENT_MIN_WEIGHT
        );
    }
}
