//! Visit regularity and the expected next visit.

use proptest::prelude::*;
use regulars_models::habits::regularity::VisitRegularity;
use time::macros::{date, datetime, offset};
use time::{Duration, OffsetDateTime};

#[test]
fn no_visits_and_one_visit_define_nothing_but_what_they_can() {
    let none = VisitRegularity::from_visits(&[], offset!(+7));
    assert_eq!(none.visit_days(), 0);
    assert_eq!(none.typical_gap_days(), None);
    assert_eq!(none.regularity(), None);
    assert_eq!(none.expected_next_visit(), None);
    assert_eq!(none.overdue(datetime!(2026-03-01 00:00 UTC)), None);
    assert_eq!(
        none.days_since_last_visit(datetime!(2026-03-01 00:00 UTC)),
        None
    );

    let one = VisitRegularity::from_visits(&[datetime!(2026-03-01 03:00 UTC)], offset!(+7));
    assert_eq!(one.last_visit(), Some(date!(2026 - 03 - 01)));
    assert_eq!(one.typical_gap_days(), None);
    assert_eq!(one.regularity(), None);
    assert_eq!(one.expected_next_visit(), None);
    assert_eq!(
        one.days_since_last_visit(datetime!(2026-03-05 03:00 UTC)),
        Some(4)
    );
    assert_eq!(one.overdue(datetime!(2026-03-05 03:00 UTC)), None);
}

#[test]
fn two_visits_give_a_typical_gap_but_no_regularity() {
    let r = VisitRegularity::from_visits(
        &[
            datetime!(2026-03-01 03:00 UTC),
            datetime!(2026-03-08 03:00 UTC),
        ],
        offset!(+7),
    );
    assert_eq!(r.gaps_days(), &[7]);
    assert_eq!(r.typical_gap_days(), Some(7.0));
    assert_eq!(r.regularity(), None);
    assert_eq!(r.expected_next_visit(), Some(date!(2026 - 03 - 15)));
    assert_eq!(r.overdue(datetime!(2026-03-22 03:00 UTC)), Some(2.0));
}

#[test]
fn visits_are_counted_per_local_day() {
    // 16:00 and 17:30 UTC on the 1st are 23:00 on the 1st and 00:30 on the 2nd in
    // Ho Chi Minh City: one UTC day, two local days. Two orders at one local hour are
    // one visit day.
    let visits = [
        datetime!(2026-03-01 16:00 UTC),
        datetime!(2026-03-01 16:10 UTC),
        datetime!(2026-03-01 17:30 UTC),
    ];
    let local = VisitRegularity::from_visits(&visits, offset!(+7));
    assert_eq!(local.visit_days(), 2);
    assert_eq!(local.gaps_days(), &[1]);
    assert_eq!(local.first_visit(), Some(date!(2026 - 03 - 01)));
    assert_eq!(local.last_visit(), Some(date!(2026 - 03 - 02)));
    let utc = VisitRegularity::from_visits(&visits, offset!(UTC));
    assert_eq!(utc.visit_days(), 1);
    assert_eq!(utc.typical_gap_days(), None);
}

#[test]
fn clockwork_customers_are_fully_regular_and_erratic_ones_are_not() {
    let start = datetime!(2026-01-01 02:00 UTC);
    let weekly: Vec<_> = (0..6).map(|k| start + Duration::days(7 * k)).collect();
    let r = VisitRegularity::from_visits(&weekly, offset!(+7));
    assert_eq!(r.regularity(), Some(1.0));
    assert_eq!(r.typical_gap_days(), Some(7.0));

    // Gaps 1, 1, 1, 30: mean 8.25, sd ≈ 12.56, CV > 1 → clamped to 0.
    let erratic: Vec<_> = [0, 1, 2, 3, 33]
        .iter()
        .map(|d| start + Duration::days(*d))
        .collect();
    let e = VisitRegularity::from_visits(&erratic, offset!(+7));
    assert_eq!(e.regularity(), Some(0.0));
    assert_eq!(e.typical_gap_days(), Some(1.0));

    // Gaps 6, 8: mean 7, sd 1 → 1 − 1/7.
    let near: Vec<_> = [0, 6, 14]
        .iter()
        .map(|d| start + Duration::days(*d))
        .collect();
    let n = VisitRegularity::from_visits(&near, offset!(+7));
    assert!((n.regularity().unwrap() - (1.0 - 1.0 / 7.0)).abs() < 1e-12);
    assert_eq!(n.typical_gap_days(), Some(7.0));
}

#[test]
fn a_visit_after_now_is_not_negative_time() {
    let r = VisitRegularity::from_visits(
        &[
            datetime!(2026-03-01 03:00 UTC),
            datetime!(2026-03-04 03:00 UTC),
        ],
        offset!(+7),
    );
    assert_eq!(
        r.days_since_last_visit(datetime!(2026-03-02 03:00 UTC)),
        Some(0)
    );
    assert_eq!(r.overdue(datetime!(2026-03-02 03:00 UTC)), Some(0.0));
}

fn visits() -> impl Strategy<Value = Vec<OffsetDateTime>> {
    prop::collection::vec(0i64..(400 * 86_400), 0..30).prop_map(|secs| {
        secs.into_iter()
            .map(|s| datetime!(2025-01-01 00:00 UTC) + Duration::seconds(s))
            .collect()
    })
}

proptest! {
    #[test]
    fn figures_are_finite_in_range_and_independent_of_input_order(mut v in visits(), now_days in 0i64..800) {
        let r = VisitRegularity::from_visits(&v, offset!(+7));
        v.reverse();
        let third = v.len() / 3;
        v.rotate_left(third);
        prop_assert_eq!(&VisitRegularity::from_visits(&v, offset!(+7)), &r);
        prop_assert_eq!(r.gaps_days().len(), r.visit_days().saturating_sub(1));
        prop_assert!(r.gaps_days().iter().all(|g| *g >= 1));
        if let Some(t) = r.typical_gap_days() {
            prop_assert!(t.is_finite() && t >= 1.0);
        }
        if let Some(x) = r.regularity() {
            prop_assert!((0.0..=1.0).contains(&x));
        }
        prop_assert_eq!(r.typical_gap_days().is_some(), r.visit_days() >= 2);
        prop_assert_eq!(r.regularity().is_some(), r.visit_days() >= 3);
        let now = datetime!(2025-01-01 00:00 UTC) + Duration::days(now_days);
        if let Some(o) = r.overdue(now) {
            prop_assert!(o.is_finite() && o >= 0.0);
        }
        if let (Some(next), Some(last)) = (r.expected_next_visit(), r.last_visit()) {
            prop_assert!(next > last);
        }
    }
}
