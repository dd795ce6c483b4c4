//! Properties of tier programmes: upgrades are immediate and monotone, activity never
//! downgrades, a review lands exactly on the earned tier, and the window counts exactly
//! the activities in `(now − N days, now]`.

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use regulars_domain::{Currency, Money, Points};
use regulars_loyalty::tiers::{
    QualificationMetric, QualifyingActivity, QualifyingValue, ReviewPeriod, Tier, TierBenefits,
    TierCode, TierDecision, TierProgram,
};
use rust_decimal::Decimal;
use time::{Date, Duration, Month, OffsetDateTime, Time, UtcOffset};

/// Failing cases are kept in `proptest-regressions/tiers_props.txt` (relative to the crate),
/// committed, and replayed first on every run.
fn config() -> Config {
    Config {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/tiers_props.txt",
        ))),
        ..Config::default()
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
}

/// A points programme of 1 to 6 tiers; the lowest threshold is sometimes 0 (a base tier).
fn points_program() -> impl Strategy<Value = TierProgram> {
    (
        any::<bool>(),
        prop::collection::vec(1i64..5_000, 1..=6),
        1u32..400,
    )
        .prop_filter_map("valid programme", |(base, gaps, window)| {
            let mut threshold = if base { 0 } else { gaps[0] };
            let mut tiers = Vec::new();
            for (i, gap) in gaps.iter().enumerate() {
                if i > 0 {
                    threshold += gap;
                }
                tiers.push(Tier {
                    code: TierCode::new(format!("t{i}")).ok()?,
                    name: format!("Tier {i}"),
                    threshold: QualifyingValue::Points(Points::new(threshold)),
                    benefits: TierBenefits {
                        earn_multiplier: Decimal::ONE + Decimal::new(i64::try_from(i).ok()?, 1),
                        perks: vec![],
                    },
                });
            }
            TierProgram::new(
                QualificationMetric::Points,
                window,
                ReviewPeriod::Quarter,
                tiers,
            )
            .ok()
        })
}

fn pts(n: i64) -> QualifyingValue {
    QualifyingValue::Points(Points::new(n))
}

/// The index of a tier in the programme; `None` for no tier (below every tier).
fn rank(program: &TierProgram, code: Option<&TierCode>) -> Option<usize> {
    code.and_then(|c| program.tiers().iter().position(|t| &t.code == c))
}

fn earned(program: &TierProgram, value: i64) -> Result<Option<usize>, TestCaseError> {
    let tier = program
        .tier_for(pts(value))
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    Ok(rank(program, tier.map(|t| &t.code)))
}

/// The threshold of a points tier, as a number.
fn threshold(tier: &Tier) -> i64 {
    match tier.threshold {
        QualifyingValue::Points(p) => p.value(),
        QualifyingValue::Spend(_) => i64::MAX,
    }
}

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn more_value_never_earns_a_lower_tier(
        program in points_program(),
        a in -1_000i64..40_000,
        b in -1_000i64..40_000,
    ) {
        let (low, high) = (a.min(b), a.max(b));
        prop_assert!(earned(&program, low)? <= earned(&program, high)?);
    }

    #[test]
    fn the_earned_tier_is_the_highest_threshold_reached(
        program in points_program(),
        value in -1_000i64..40_000,
    ) {
        let rank = earned(&program, value)?;
        let tiers = program.tiers();
        if let Some(r) = rank {
            prop_assert!(threshold(&tiers[r]) <= value.max(0));
        }
        let next = rank.map_or(0, |r| r + 1);
        if let Some(above) = tiers.get(next) {
            prop_assert!(threshold(above) > value.max(0));
        }
    }

    #[test]
    fn activity_upgrades_at_once_and_never_downgrades(
        program in points_program(),
        held in prop::option::of(0usize..6),
        value in -1_000i64..40_000,
    ) {
        let current = held.and_then(|i| program.tiers().get(i)).map(|t| t.code.clone());
        let before = rank(&program, current.as_ref());
        let decision = program.on_activity(current.as_ref(), pts(value)).map_err(fail)?;
        let after = rank(&program, decision.tier());
        let earned = earned(&program, value)?;
        prop_assert_eq!(after, before.max(earned));
        let downgraded = matches!(decision, TierDecision::Downgrade { .. });
        prop_assert!(!downgraded, "activity downgraded: {:?}", decision);
        prop_assert_eq!(matches!(decision, TierDecision::Upgrade { .. }), earned > before);
    }

    #[test]
    fn a_review_lands_on_the_earned_tier(
        program in points_program(),
        held in prop::option::of(0usize..6),
        value in -1_000i64..40_000,
    ) {
        let current = held.and_then(|i| program.tiers().get(i)).map(|t| t.code.clone());
        let before = rank(&program, current.as_ref());
        let decision = program.at_period_end(current.as_ref(), pts(value)).map_err(fail)?;
        let after = rank(&program, decision.tier());
        prop_assert_eq!(after, earned(&program, value)?);
        match decision {
            TierDecision::Upgrade { .. } => prop_assert!(after > before),
            TierDecision::Downgrade { .. } => prop_assert!(after < before),
            TierDecision::Unchanged { .. } => prop_assert_eq!(after, before),
        }
    }

    #[test]
    fn the_window_counts_exactly_the_activities_inside(
        program in points_program(),
        activities in prop::collection::vec((0u8..4, -3_000i64..3_000, -200i64..1_000), 0..40),
    ) {
        let now = now();
        let window = Duration::days(i64::from(program.window_days()));
        let start = now - window;
        // Times cluster around both edges of the window so the boundaries are exercised.
        let activities: Vec<QualifyingActivity> = activities
            .into_iter()
            .map(|(edge, seconds, points)| {
                let at = match edge {
                    0 => now,
                    1 => start,
                    2 => now + Duration::seconds(seconds),
                    _ => start + Duration::seconds(seconds),
                };
                QualifyingActivity { at, value: pts(points) }
            })
            .collect();
        let expected: i64 = activities
            .iter()
            .filter(|a| a.at > start && a.at <= now)
            .map(|a| match a.value {
                QualifyingValue::Points(p) => p.value(),
                QualifyingValue::Spend(_) => 0,
            })
            .sum();
        let value = program.qualifying_value(&activities, now).map_err(fail)?;
        prop_assert_eq!(value, pts(expected.max(0)));
    }

    #[test]
    fn progress_states_exactly_what_the_next_tier_needs(
        program in points_program(),
        held in prop::option::of(0usize..6),
        value in 0i64..40_000,
    ) {
        let current = held.and_then(|i| program.tiers().get(i)).map(|t| t.code.clone());
        let progress = program.progress(current.as_ref(), pts(value)).map_err(fail)?;
        let decision = program.on_activity(current.as_ref(), pts(value)).map_err(fail)?;
        prop_assert_eq!(progress.tier.as_ref(), decision.tier());
        if let Some(next) = progress.next {
            let QualifyingValue::Points(remaining) = next.remaining else {
                return Err(fail("remaining must be points"));
            };
            prop_assert!(remaining.is_positive());
            let reached = earned(&program, value + remaining.value())?;
            prop_assert_eq!(reached, rank(&program, Some(&next.tier)));
            prop_assert!(earned(&program, value + remaining.value() - 1)? < reached);
        } else {
            prop_assert_eq!(rank(&program, progress.tier.as_ref()), Some(program.tiers().len() - 1));
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// The worker's review only ever moves down, to exactly the tier the value earns.
    #[test]
    fn a_review_never_moves_up(
        program in points_program(),
        held in prop::option::of(0usize..6),
        value in -1_000i64..40_000,
    ) {
        let current = held.and_then(|i| program.tiers().get(i)).map(|t| t.code.clone());
        let before = rank(&program, current.as_ref());
        let decision = program.review(current.as_ref(), pts(value)).map_err(fail)?;
        let after = rank(&program, decision.tier());
        prop_assert!(after <= before, "moved up: {:?}", decision);
        let upgraded = matches!(decision, TierDecision::Upgrade { .. });
        prop_assert!(!upgraded, "upgraded: {:?}", decision);
        prop_assert_eq!(after, before.min(earned(&program, value)?));
    }

    /// With a base tier (threshold 0), a customer holding a tier never drops below it.
    #[test]
    fn a_review_never_goes_below_the_base_tier(
        program in points_program(),
        held in 0usize..6,
        value in -1_000i64..40_000,
    ) {
        prop_assume!(program.tiers().first().is_some_and(|t| threshold(t) == 0));
        let current = program.tiers().get(held).map(|t| t.code.clone());
        prop_assume!(current.is_some());
        let decision = program.review(current.as_ref(), pts(value)).map_err(fail)?;
        prop_assert!(decision.tier().is_some(), "fell below the base tier: {:?}", decision);
    }

    /// A customer whose value still reaches the held tier's threshold keeps it.
    #[test]
    fn a_customer_who_qualifies_keeps_the_tier(
        program in points_program(),
        held in 0usize..6,
        extra in 0i64..10_000,
    ) {
        let tier = program.tiers().get(held.min(program.tiers().len() - 1)).cloned();
        let tier = tier.ok_or_else(|| fail("no tier"))?;
        let decision = program
            .review(Some(&tier.code), pts(threshold(&tier) + extra))
            .map_err(fail)?;
        prop_assert_eq!(decision, TierDecision::Unchanged { tier: Some(tier.code) });
    }

    /// Reviewing again with the same value changes nothing: the review is idempotent.
    #[test]
    fn a_review_is_idempotent(
        program in points_program(),
        held in prop::option::of(0usize..6),
        value in -1_000i64..40_000,
    ) {
        let current = held.and_then(|i| program.tiers().get(i)).map(|t| t.code.clone());
        let first = program.review(current.as_ref(), pts(value)).map_err(fail)?;
        let again = program.review(first.tier(), pts(value)).map_err(fail)?;
        prop_assert_eq!(again, TierDecision::Unchanged { tier: first.tier().cloned() });
    }

    /// The period end a review owes is the latest boundary at or before now: the next
    /// period end seen from just before it is itself.
    #[test]
    fn the_last_period_end_is_the_latest_boundary(
        seconds in 0i64..4_000_000_000,
        offset_minutes in -12 * 60i32..=14 * 60,
        period in prop_oneof![Just(ReviewPeriod::Month), Just(ReviewPeriod::Quarter), Just(ReviewPeriod::Year)],
    ) {
        let offset = UtcOffset::from_whole_seconds(offset_minutes * 60).map_err(fail)?;
        let now = OffsetDateTime::UNIX_EPOCH + Duration::seconds(seconds);
        let last = period.last_period_end(now, offset).map_err(fail)?;
        prop_assert!(last <= now);
        prop_assert_eq!(period.next_period_end(last - Duration::SECOND, offset).map_err(fail)?, last);
        prop_assert!(period.next_period_end(now, offset).map_err(fail)? > now);
        prop_assert_eq!(period.next_period_end(last, offset).map_err(fail)?, period.next_period_end(now, offset).map_err(fail)?);
    }
}

/// The first day of the period that ends at `end`, for checking no boundary is skipped.
fn period_start(period: ReviewPeriod, end: Date) -> Option<Date> {
    let months_back = match period {
        ReviewPeriod::Month => 1,
        ReviewPeriod::Quarter => 3,
        ReviewPeriod::Year => 12,
    };
    let index = end.year() * 12 + i32::from(u8::from(end.month())) - 1 - months_back;
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    Date::from_calendar_date(index.div_euclid(12), month, 1).ok()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_next_period_end_is_the_first_boundary_after_now(
        seconds in 0i64..4_000_000_000,
        offset_minutes in -12 * 60i32..=14 * 60,
        period in prop_oneof![Just(ReviewPeriod::Month), Just(ReviewPeriod::Quarter), Just(ReviewPeriod::Year)],
    ) {
        let offset = UtcOffset::from_whole_seconds(offset_minutes * 60).map_err(fail)?;
        let now = OffsetDateTime::UNIX_EPOCH + Duration::seconds(seconds);
        let end = period.next_period_end(now, offset).map_err(fail)?;
        prop_assert!(end > now);
        let local = end.to_offset(offset);
        prop_assert_eq!(local.time(), Time::MIDNIGHT);
        prop_assert_eq!(local.day(), 1);
        let month = u8::from(local.month());
        match period {
            ReviewPeriod::Month => {}
            ReviewPeriod::Quarter => prop_assert!(matches!(month, 1 | 4 | 7 | 10)),
            ReviewPeriod::Year => prop_assert_eq!(month, 1),
        }
        let start = period_start(period, local.date()).ok_or_else(|| fail("start"))?;
        prop_assert!(start.midnight().assume_offset(offset) <= now, "a boundary was skipped");
        // Every instant of the period maps to the same end.
        prop_assert_eq!(period.next_period_end(end - Duration::SECOND, offset).map_err(fail)?, end);
        prop_assert!(period.next_period_end(end, offset).map_err(fail)? > end);
    }
}

#[test]
fn spend_programmes_count_money() -> Result<(), Box<dyn std::error::Error>> {
    let vnd = |n| QualifyingValue::Spend(Money::from_minor_units(n, Currency::VND));
    let program = TierProgram::new(
        QualificationMetric::Spend {
            currency: Currency::VND,
        },
        30,
        ReviewPeriod::Month,
        vec![Tier {
            code: TierCode::new("regular")?,
            name: "Khách quen".into(),
            threshold: vnd(500_000),
            benefits: TierBenefits {
                earn_multiplier: Decimal::new(11, 1),
                perks: vec!["Miễn phí topping".into()],
            },
        }],
    )?;
    let now = now();
    let activities = [
        QualifyingActivity {
            at: now - Duration::days(30),
            value: vnd(400_000),
        },
        QualifyingActivity {
            at: now - Duration::days(29),
            value: vnd(300_000),
        },
        QualifyingActivity {
            at: now,
            value: vnd(250_000),
        },
    ];
    let value = program.qualifying_value(&activities, now)?;
    assert_eq!(value, vnd(550_000));
    assert_eq!(
        program.on_activity(None, value)?,
        TierDecision::Upgrade {
            from: None,
            to: TierCode::new("regular")?
        }
    );
    Ok(())
}
