//! Preferred send time.

use proptest::prelude::*;
use regulars_models::habits::HabitsError;
use regulars_models::habits::send_time::{SendTimePrior, SendTimeProfile};
use time::macros::{datetime, offset};
use time::{Duration, OffsetDateTime, Weekday};

#[test]
fn visit_hours_and_weekdays_are_local() {
    // 17:30 UTC on Friday is 00:30 on Saturday at +07:00.
    let p = SendTimeProfile::from_visits(&[datetime!(2026-03-06 17:30 UTC)], offset!(+7));
    assert_eq!(p.hour_weights()[0], 1.0);
    assert_eq!(p.weekday_weights()[5], 1.0); // Saturday
    assert_eq!(p.total_hour_weight(), 1.0);
}

#[test]
fn no_data_and_no_prior_chooses_nothing() {
    let none = SendTimeProfile::new().preferred(&SendTimePrior::uniform(0.0).unwrap());
    assert_eq!(none, None);
    // With a prior but no data: the prior decides, at a coin flip's confidence.
    let mut brand = SendTimeProfile::new();
    brand.record_engagement_at_hour(19, 10.0).unwrap();
    let prior = SendTimePrior::from_profile(&brand, 5.0).unwrap();
    let c = SendTimeProfile::new().preferred(&prior).unwrap();
    assert_eq!(c.hour, 19);
    assert_eq!(c.evidence, 0.0);
    // Weekdays of the brand are empty: uniform, earliest (Monday) wins the tie.
    let day = c.weekday.unwrap();
    assert_eq!(day.weekday, Weekday::Monday);
    assert_eq!(day.confidence, 0.5);
}

#[test]
fn a_strong_prior_outweighs_one_visit_and_many_visits_outweigh_the_prior() {
    let mut brand = SendTimeProfile::new();
    brand.record_engagement_at_hour(19, 100.0).unwrap();
    let prior = SendTimePrior::from_profile(&brand, 10.0).unwrap();
    let morning = datetime!(2026-03-02 01:15 UTC); // 08:15 local
    let one = SendTimeProfile::from_visits(&[morning], offset!(+7));
    assert_eq!(one.preferred(&prior).unwrap().hour, 19);
    let many: Vec<_> = (0..30).map(|d| morning + Duration::days(d)).collect();
    let regular = SendTimeProfile::from_visits(&many, offset!(+7));
    let c = regular.preferred(&prior).unwrap();
    assert_eq!(c.hour, 8);
    assert!(c.hour_confidence > 0.99, "{c:?}");
    assert!((c.hour_share - 30.0 / 40.0).abs() < 1e-12);
}

#[test]
fn engagement_moves_the_choice_and_bad_weights_are_refused() {
    let prior = SendTimePrior::uniform(2.0).unwrap();
    let mut p = SendTimeProfile::from_visits(&[datetime!(2026-03-02 01:15 UTC)], offset!(+7));
    assert_eq!(p.preferred(&prior).unwrap().hour, 8);
    // Opened twice at 20:xx local.
    p.record_engagement(datetime!(2026-03-03 13:05 UTC), offset!(+7), 1.0)
        .unwrap();
    p.record_engagement(datetime!(2026-03-04 13:40 UTC), offset!(+7), 1.0)
        .unwrap();
    assert_eq!(p.preferred(&prior).unwrap().hour, 20);
    assert_eq!(
        p.record_engagement_at_hour(24, 1.0),
        Err(HabitsError::InvalidHour { hour: 24 })
    );
    assert!(matches!(
        p.record_engagement_at_hour(3, -1.0),
        Err(HabitsError::InvalidWeight { .. })
    ));
    assert!(p.record_engagement_at_hour(3, f64::NAN).is_err());
    assert!(SendTimePrior::uniform(f64::INFINITY).is_err());
}

#[test]
fn a_segment_aggregates_its_members() {
    let a = SendTimeProfile::from_visits(&[datetime!(2026-03-02 01:15 UTC)], offset!(+7));
    let b = SendTimeProfile::from_visits(
        &[
            datetime!(2026-03-02 01:45 UTC),
            datetime!(2026-03-03 12:00 UTC),
        ],
        offset!(+7),
    );
    let seg = SendTimeProfile::aggregate([&a, &b]);
    assert_eq!(seg.hour_weights()[8], 2.0);
    assert_eq!(seg.hour_weights()[19], 1.0);
    assert_eq!(seg.total_hour_weight(), 3.0);
    let c = seg
        .preferred(&SendTimePrior::uniform(1.0).unwrap())
        .unwrap();
    assert_eq!(c.hour, 8);
    assert_eq!(c.weekday.unwrap().weekday, Weekday::Monday);
}

#[test]
fn hour_only_engagement_without_a_prior_has_no_weekday() {
    let mut p = SendTimeProfile::new();
    p.record_engagement_at_hour(21, 1.0).unwrap();
    let c = p.preferred(&SendTimePrior::uniform(0.0).unwrap()).unwrap();
    assert_eq!(c.hour, 21);
    assert_eq!(c.hour_confidence, 1.0);
    assert_eq!(c.weekday, None);
}

fn instants() -> impl Strategy<Value = Vec<OffsetDateTime>> {
    prop::collection::vec(0i64..(60 * 86_400), 0..40).prop_map(|s| {
        s.into_iter()
            .map(|x| datetime!(2026-01-01 00:00 UTC) + Duration::seconds(x))
            .collect()
    })
}

proptest! {
    #[test]
    fn choices_are_in_range_deterministic_and_order_free(
        mut v in instants(),
        strength in 0.0f64..50.0,
        brand in instants(),
        engagements in prop::collection::vec((0u8..24, 0.0f64..5.0), 0..5),
    ) {
        let brand = SendTimeProfile::from_visits(&brand, offset!(+7));
        let prior = SendTimePrior::from_profile(&brand, strength).unwrap();
        let mut p = SendTimeProfile::from_visits(&v, offset!(+7));
        for (h, w) in &engagements {
            p.record_engagement_at_hour(*h, *w).unwrap();
        }
        let choice = p.preferred(&prior);
        v.reverse();
        let mut q = SendTimeProfile::from_visits(&v, offset!(+7));
        for (h, w) in engagements.iter().rev() {
            q.record_engagement_at_hour(*h, *w).unwrap();
        }
        let again = q.preferred(&prior);
        let key = |c: &regulars_models::habits::send_time::SendTimeChoice| {
            (c.hour, c.weekday.as_ref().map(|d| d.weekday))
        };
        prop_assert_eq!(choice.as_ref().map(key), again.as_ref().map(key));
        if let Some(c) = choice {
            prop_assert!(c.hour < 24);
            let mut figures = vec![c.hour_share, c.hour_confidence];
            if let Some(d) = &c.weekday {
                figures.extend([d.share, d.confidence]);
                prop_assert!(d.confidence >= 0.5);
            } else {
                prop_assert!(strength == 0.0 && v.is_empty());
            }
            for x in figures {
                prop_assert!(x.is_finite() && (0.0..=1.0).contains(&x));
            }
            prop_assert!(c.hour_confidence >= 0.5);
            // The chosen hour has the largest posterior weight.
            let w = p.hour_weights();
            let dist = prior.hour_distribution();
            let post = |h: usize| w[h] + prior.strength() * dist[h];
            prop_assert!((0..24).all(|h| post(h) <= post(usize::from(c.hour))));
        } else {
            prop_assert!(p.total_hour_weight() == 0.0 && strength == 0.0);
        }
    }
}
