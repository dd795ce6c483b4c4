//! Properties of the referral rules: whatever the order of events and however often
//! each is delivered, each side is credited at most once and a full refund of the
//! rewarding order takes back exactly what was credited.

use super::*;
use proptest::prelude::*;

fn key(n: u8) -> EventKey {
    EventKey::new("pos", format!("o-{n}")).unwrap_or_else(|_| unreachable!("valid key"))
}

fn programme() -> impl Strategy<Value = ReferralProgramme> {
    (0..500_i64, 0..500_i64, 0..100_000_i64, 0..4_u32).prop_map(|(r, f, min, cap)| {
        ReferralProgramme {
            enabled: true,
            referrer_points: Points::new(r),
            friend_points: Points::new(f),
            min_purchase_minor: min,
            monthly_cap: cap,
        }
    })
}

fn event() -> impl Strategy<Value = ReferralEvent> {
    prop_oneof![
        (0..4_u8, 0..150_000_i64, 0..5_u32).prop_map(|(k, total, month)| ReferralEvent::Order {
            order: key(k),
            total_minor: total,
            referrer_rewarded_this_month: month,
        }),
        (0..4_u8, any::<bool>()).prop_map(|(k, fully)| ReferralEvent::Refund {
            order: key(k),
            fully,
        }),
    ]
}

/// Events where each may be delivered more than once, right away or later.
fn events() -> impl Strategy<Value = Vec<ReferralEvent>> {
    prop::collection::vec((event(), 1..3_usize), 0..16).prop_map(|v| {
        v.into_iter()
            .flat_map(|(e, times)| std::iter::repeat_n(e, times))
            .collect()
    })
}

struct Run {
    state: ReferralState,
    friend: i64,
    referrer: i64,
    friend_credits: usize,
    referrer_credits: usize,
}

fn run(programme: &ReferralProgramme, events: &[ReferralEvent]) -> Run {
    let mut run = Run {
        state: ReferralState::Pending,
        friend: 0,
        referrer: 0,
        friend_credits: 0,
        referrer_credits: 0,
    };
    for event in events {
        if let Some(done) = step(programme, &run.state, event) {
            run.friend += done.friend.value();
            run.referrer += done.referrer.value();
            run.friend_credits += usize::from(done.friend.is_positive());
            run.referrer_credits += usize::from(done.referrer.is_positive());
            assert!(
                run.friend >= 0 && run.referrer >= 0,
                "taken back more than given"
            );
            run.state = done.state;
        }
    }
    run
}

proptest! {
    #[test]
    fn each_side_is_credited_at_most_once_and_totals_match_the_state(
        programme in programme(),
        events in events(),
    ) {
        let run = run(&programme, &events);
        prop_assert!(run.friend_credits <= 1);
        prop_assert!(run.referrer_credits <= 1);
        match &run.state {
            ReferralState::Pending => {
                let ordered = events.iter().any(|e| matches!(e, ReferralEvent::Order { .. }));
                prop_assert!(!ordered);
                prop_assert_eq!((run.friend, run.referrer), (0, 0));
            }
            ReferralState::Rewarded { friend, referrer, referrer_capped, .. } => {
                prop_assert_eq!(run.friend, programme.friend_points.value());
                prop_assert_eq!(run.friend, friend.value());
                prop_assert_eq!(run.referrer, referrer.value());
                let expected = if *referrer_capped { 0 } else { programme.referrer_points.value() };
                prop_assert_eq!(run.referrer, expected);
            }
            ReferralState::Reversed { .. } | ReferralState::Refused { .. } => {
                prop_assert_eq!((run.friend, run.referrer), (0, 0));
            }
        }
    }

    #[test]
    fn only_the_first_order_decides(programme in programme(), events in events()) {
        let run = run(&programme, &events);
        let first = events.iter().find_map(|e| match e {
            ReferralEvent::Order { order, total_minor, referrer_rewarded_this_month } =>
                Some((order.clone(), *total_minor, *referrer_rewarded_this_month)),
            ReferralEvent::Refund { .. } => None,
        });
        match (&run.state, first) {
            (ReferralState::Pending, None) => {}
            (ReferralState::Refused { reason }, Some((_, total, _))) => {
                prop_assert_eq!(*reason, RefusalReason::BelowMinimum);
                prop_assert!(total < programme.min_purchase_minor);
            }
            (ReferralState::Rewarded { order, referrer_capped, .. }, Some((first, total, month))) => {
                prop_assert_eq!(order, &first);
                prop_assert!(total >= programme.min_purchase_minor);
                prop_assert_eq!(*referrer_capped, programme.monthly_cap > 0 && month >= programme.monthly_cap);
            }
            (ReferralState::Reversed { order }, Some((first, _, _))) => {
                prop_assert_eq!(order, &first);
                let refunded = events.iter().any(|e| matches!(e,
                    ReferralEvent::Refund { order: o, fully: true } if *o == first));
                prop_assert!(refunded);
            }
            (state, first) => prop_assert!(false, "{state:?} after first order {first:?}"),
        }
    }

    #[test]
    fn delivering_every_event_twice_changes_nothing(programme in programme(), events in events()) {
        let once = run(&programme, &events);
        let twice: Vec<ReferralEvent> =
            events.iter().flat_map(|e| [e.clone(), e.clone()]).collect();
        let twice = run(&programme, &twice);
        prop_assert_eq!(once.state, twice.state);
        prop_assert_eq!((once.friend, once.referrer), (twice.friend, twice.referrer));
    }

    #[test]
    fn a_signup_is_accepted_only_when_nothing_stands_against_it(
        enabled in any::<bool>(), same in any::<bool>(), referred in any::<bool>(),
        existing in any::<bool>(), budget in any::<bool>(),
    ) {
        let facts = SignupFacts {
            enabled,
            same_customer: same,
            already_referred: referred,
            existing_customer: existing,
            address_within_budget: budget,
        };
        let ok = enabled && !same && !referred && !existing && budget;
        prop_assert_eq!(check_signup(facts).is_ok(), ok);
        if same && enabled {
            prop_assert_eq!(check_signup(facts), Err(RefusalReason::SelfReferral));
        }
    }
}

#[test]
fn reasons_round_trip_through_their_names() {
    for reason in RefusalReason::ALL {
        assert_eq!(RefusalReason::parse(reason.as_str()), Some(reason));
    }
    assert_eq!(RefusalReason::parse("nope"), None);
}

#[test]
fn programmes_out_of_range_name_their_field() {
    let good = ReferralProgramme {
        enabled: true,
        referrer_points: Points::new(10),
        friend_points: Points::new(10),
        min_purchase_minor: 0,
        monthly_cap: 0,
    };
    assert_eq!(good.validate(), Ok(()));
    let field = |p: ReferralProgramme| p.validate().err().map(|e| e.field);
    let mut bad = good.clone();
    bad.referrer_points = Points::new(-1);
    assert_eq!(field(bad), Some("referrer_points"));
    let mut bad = good.clone();
    bad.friend_points = Points::new(MAX_REFERRAL_POINTS + 1);
    assert_eq!(field(bad), Some("friend_points"));
    let mut bad = good.clone();
    bad.min_purchase_minor = -5;
    assert_eq!(field(bad), Some("min_purchase"));
    let mut bad = good;
    bad.referrer_points = Points::ZERO;
    bad.friend_points = Points::ZERO;
    assert_eq!(field(bad), Some("friend_points"));
}
