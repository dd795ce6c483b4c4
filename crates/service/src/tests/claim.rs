//! Claiming a missed visit: an order stored without a customer, credited later, once.

use super::*;
use crate::{ClaimBy, ClaimError, ClaimVia, Claimant, ErrorClass, OrderRef, UseCaseError};
use proptest::prelude::*;
use regulars_domain::{Refund, RefundScope};

fn api() -> ClaimBy {
    ClaimBy {
        via: ClaimVia::Api,
        actor: "api_key:test".into(),
        only_at: None,
    }
}

fn anonymous_at(id: &str, total: i64, at: OffsetDateTime) -> Order {
    let mut order = order_at(id, total, at);
    order.customer_phone = None;
    order
}

fn me() -> Claimant {
    Claimant::Phone(PHONE.into())
}

fn full_refund(of: &str, at: OffsetDateTime) -> Refund {
    Refund {
        brand_id: BRAND,
        key: EventKey::new("pos:generic", format!("R-{of}")).unwrap(),
        order: key(of),
        refunded_at: at,
        scope: RefundScope::Full,
    }
}

/// Ingests the anonymous order and answers its claim code.
async fn stored_anonymously(h: &Harness, order: Order) -> (crate::OrderReceipt, String) {
    let receipt = h.given_order(order).await;
    let code = receipt
        .claim_code
        .clone()
        .expect("claims are on by default");
    (receipt, code)
}

#[tokio::test]
async fn a_claim_by_code_credits_the_order_to_the_customer() {
    let h = Harness::standard();
    let (stored, code) = stored_anonymously(&h, anonymous_at("A-1", 45_000, t0())).await;
    h.set_now(t0() + days(2));
    let receipt = h
        .services
        .claim_order(BRAND, &OrderRef::Code(code.to_lowercase()), &me(), &api())
        .await
        .unwrap();
    // 45 base points and the 20-point welcome, as if the phone had been given.
    assert_eq!(receipt.points_earned, Points::new(65));
    assert_eq!(receipt.order_id, stored.order_id);
    assert_eq!(receipt.balance, Some(Points::new(65)));
    assert!(!receipt.duplicate);
    let world = h.fake.world();
    assert_eq!(world.orders[0].customer_id, Some(h.customer_id()));
    assert_eq!(world.orders[0].points_earned, Points::new(65));
    let claim = world.claims[0].2.clone().expect("recorded");
    assert_eq!(
        (claim.via.as_str(), claim.actor.as_str()),
        ("api", "api_key:test")
    );
    // The visit counts at the order's own time.
    let stats = &world.stats[&(BRAND, h.customer_id())];
    assert_eq!((stats.visits, stats.last_visit_at), (1, Some(t0())));
}

#[tokio::test]
async fn a_second_claim_by_the_same_customer_answers_the_first_and_another_is_refused() {
    let h = Harness::standard();
    let (stored, _) = stored_anonymously(&h, anonymous_at("A-1", 45_000, t0())).await;
    let by_id = OrderRef::Id(stored.order_id);
    let first = h
        .services
        .claim_order(BRAND, &by_id, &me(), &api())
        .await
        .unwrap();
    h.fake.take_writes();
    let again = h
        .services
        .claim_order(BRAND, &by_id, &me(), &api())
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.points_earned, first.points_earned);
    assert_eq!(again.balance, first.balance);
    assert!(h.fake.take_writes().iter().all(|w| *w != "append"));
    let other = Claimant::Phone("0907654321".into());
    let error = h
        .services
        .claim_order(BRAND, &by_id, &other, &api())
        .await
        .unwrap_err();
    assert_eq!(error, ClaimError::AlreadyClaimed);
    assert_eq!(
        (error.class(), error.code()),
        (ErrorClass::Refused, Some("already_claimed"))
    );
    assert_eq!(h.balance(), first.balance.unwrap());
}

#[tokio::test]
async fn claims_are_refused_with_the_reason() {
    let h = Harness::standard();
    let (old, old_code) = stored_anonymously(&h, anonymous_at("OLD", 45_000, t0())).await;
    let (refunded, _) = stored_anonymously(&h, anonymous_at("REF", 45_000, t0() + days(6))).await;
    h.services
        .refund_order(BRAND, full_refund("REF", t0() + days(6)))
        .await
        .unwrap();
    let credited = h.given_order(order_at("HAS", 45_000, t0() + days(6))).await;
    h.set_now(t0() + days(7) + Duration::minutes(1));
    let claim = |order: OrderRef| {
        let h = &h;
        async move {
            h.services
                .claim_order(BRAND, &order, &me(), &api())
                .await
                .unwrap_err()
        }
    };
    let too_old = claim(OrderRef::Code(old_code)).await;
    assert!(
        matches!(too_old, ClaimError::TooOld { days: 7, .. }),
        "{too_old:?}"
    );
    assert_eq!(
        (too_old.class(), too_old.code()),
        (ErrorClass::Invalid, Some("claim_expired"))
    );
    assert_eq!(
        claim(OrderRef::Id(refunded.order_id)).await,
        ClaimError::Refunded
    );
    assert_eq!(
        claim(OrderRef::Id(credited.order_id)).await,
        ClaimError::HasCustomer
    );
    assert_eq!(
        claim(OrderRef::Code("ZZZZZZZZZZ".into())).await,
        ClaimError::UnknownCode
    );
    assert_eq!(
        claim(OrderRef::Code("nope".into())).await,
        ClaimError::InvalidCode
    );
    // Another brand's order is unknown here, exactly like an order that does not exist.
    let theirs = h
        .services
        .claim_order(OTHER_BRAND, &OrderRef::Id(old.order_id), &me(), &api())
        .await
        .unwrap_err();
    assert_eq!(theirs, ClaimError::UnknownOrder(old.order_id));
    // A brand that turns claims off refuses them all, and prints no code.
    h.services.set_claim_days(BRAND, 0).await.unwrap();
    h.set_now(t0() + days(6));
    let (late, none) = (
        claim(OrderRef::Id(refunded.order_id)).await,
        h.given_order(anonymous_at("OFF", 1_000, t0() + days(6)))
            .await,
    );
    assert_eq!(late, ClaimError::Refunded);
    assert_eq!(none.claim_code, None);
    assert_eq!(
        claim(OrderRef::Id(none.order_id)).await,
        ClaimError::ClaimsOff
    );
    assert_eq!(
        h.services.set_claim_days(BRAND, 91).await,
        Err(ClaimError::InvalidDays)
    );
    // Nothing was credited by any of them.
    assert_eq!(h.balance(), credited.balance.unwrap());
}

#[tokio::test]
async fn a_refund_after_a_claim_takes_the_claimed_points_back() {
    let h = Harness::standard();
    let (_, code) = stored_anonymously(&h, anonymous_at("A-1", 45_000, t0())).await;
    h.set_now(t0() + days(1));
    h.services
        .claim_order(BRAND, &OrderRef::Code(code), &me(), &api())
        .await
        .unwrap();
    let refund = h
        .services
        .refund_order(BRAND, full_refund("A-1", t0() + days(1)))
        .await
        .unwrap();
    assert_eq!(refund.customer_id, Some(h.customer_id()));
    assert_eq!(refund.points_reversed, Points::new(65));
    assert_eq!(h.balance(), Points::ZERO);
}

#[tokio::test]
async fn the_till_claims_only_its_own_locations_orders() {
    let h = Harness::standard();
    let (here, _) = stored_anonymously(&h, anonymous_at("Q1", 45_000, t0())).await;
    let mut elsewhere = anonymous_at("Q3", 30_000, t0());
    elsewhere.location = Some("q3".into());
    let (there, _) = stored_anonymously(&h, elsewhere).await;
    let till = ClaimBy {
        via: ClaimVia::Till,
        actor: "staff:s@location:q1".into(),
        only_at: Some("q1".into()),
    };
    let error = h
        .services
        .claim_order(BRAND, &OrderRef::Id(there.order_id), &me(), &till)
        .await
        .unwrap_err();
    assert_eq!(error, ClaimError::UnknownOrder(there.order_id));
    let receipt = h
        .services
        .claim_order(BRAND, &OrderRef::Id(here.order_id), &me(), &till)
        .await
        .unwrap();
    assert_eq!(receipt.points_earned, Points::new(65));
}

/// What a customer with `history` orders earns for one more order of `total` at `at`.
#[derive(Debug)]
struct Case {
    history: Vec<(i64, i64)>,
    total: i64,
    minutes: i64,
    delay_hours: i64,
}

fn case() -> impl Strategy<Value = Case> {
    (
        proptest::collection::vec((1_000i64..400_000, 0i64..3 * 24 * 60), 0..4),
        1_000i64..2_000_000,
        0i64..24 * 60,
        0i64..7 * 24,
    )
        .prop_map(|(history, total, minutes, delay_hours)| Case {
            history,
            total,
            minutes,
            delay_hours,
        })
}

/// A harness where the customer has the case's history, all before the order.
async fn with_history(case: &Case) -> (Harness, OffsetDateTime) {
    let h = Harness::standard();
    let mut history = case.history.clone();
    history.sort_by_key(|(_, m)| *m);
    for (i, (total, minutes)) in history.iter().enumerate() {
        let at = t0() + Duration::minutes(*minutes);
        h.given_order(order_at(&format!("H-{i}"), *total, at)).await;
    }
    (h, t0() + days(3) + Duration::minutes(case.minutes))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A claimed order earns what it would have earned had the phone been given at the
    /// till; claiming it again credits nothing more; refunding it takes it all back.
    #[test]
    fn a_claim_earns_what_the_order_would_have_and_a_refund_undoes_it(case in case()) {
        rt().block_on(async {
            let (named, at) = with_history(&case).await;
            let direct = named.given_order(order_at("X", case.total, at)).await;

            let (h, at) = with_history(&case).await;
            let before = if case.history.is_empty() { Points::ZERO } else { h.balance() };
            let (_, code) = stored_anonymously(&h, anonymous_at("X", case.total, at)).await;
            h.set_now(at + Duration::hours(case.delay_hours));
            let claimed = h
                .services
                .claim_order(BRAND, &OrderRef::Code(code.clone()), &me(), &api())
                .await
                .unwrap();
            prop_assert_eq!(claimed.points_earned, direct.points_earned);
            prop_assert_eq!(&claimed.explanation, &direct.explanation);
            prop_assert_eq!(claimed.balance, direct.balance);

            let again = h
                .services
                .claim_order(BRAND, &OrderRef::Code(code), &me(), &api())
                .await
                .unwrap();
            prop_assert!(again.duplicate);
            prop_assert_eq!(h.balance(), direct.balance.unwrap());

            h.services
                .refund_order(BRAND, full_refund("X", at + Duration::hours(case.delay_hours)))
                .await
                .unwrap();
            prop_assert_eq!(h.balance(), before);
            Ok(())
        })?;
    }
}
