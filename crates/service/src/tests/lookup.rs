//! The customer at the till and on their own page.

use super::*;
use crate::{ErrorClass, LookupError, UseCaseError};
use regulars_loyalty::tiers::QualifyingValue;
use regulars_ports::StoreError;

#[tokio::test]
async fn the_till_sees_balance_tier_progress_vouchers_and_what_can_be_redeemed() {
    let h = Harness::standard();
    h.given_order(order("A-1", 45_000)).await; // 65 points
    h.services
        .redeem_reward(BRAND, h.customer_id(), FREE_TOPPING)
        .await
        .unwrap(); // 15 left
    h.given_order(order_at("A-2", 45_000, t0() + days(1))).await; // 60

    h.set_now(t0() + days(1));
    let view = h
        .services
        .customer_lookup(BRAND, "+84 90 123 4567")
        .await
        .unwrap();

    assert_eq!(view.customer.id, h.customer_id());
    assert_eq!(view.balance, Points::new(60));
    assert_eq!(view.stats.visits, 2);
    assert_eq!(view.tier, None);
    let progress = view.tier_progress.unwrap();
    assert_eq!(progress.value, QualifyingValue::Points(Points::new(110)));
    let next = progress.next.unwrap();
    assert_eq!(
        (next.tier.as_str(), next.remaining),
        ("silver", QualifyingValue::Points(Points::new(90)))
    );
    assert_eq!(view.vouchers.len(), 1);
    // Only the active reward the balance covers: not the drink (150), not the retired mug.
    let names: Vec<&str> = view
        .redeemable_rewards
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names, ["Free topping"]);
    assert!(h.fake.take_writes().is_empty());
}

#[tokio::test]
async fn points_due_to_expire_are_not_shown_as_spendable() {
    let h = Harness::standard();
    h.given_order(order("A-1", 45_000)).await;
    h.set_now(t0() + days(365));
    let view = h.services.customer_lookup(BRAND, PHONE).await.unwrap();
    assert_eq!(view.balance, Points::ZERO);
    assert!(view.redeemable_rewards.is_empty());
}

#[tokio::test]
async fn a_bad_phone_is_named() {
    let h = Harness::standard();
    let error = h
        .services
        .customer_lookup(BRAND, "090-CALL-ME")
        .await
        .unwrap_err();
    assert!(matches!(error, LookupError::InvalidPhone(_)));
    assert_eq!(
        (error.class(), error.field()),
        (ErrorClass::Invalid, Some("phone"))
    );
}

#[tokio::test]
async fn an_unknown_phone_is_not_found_and_not_echoed_in_full() {
    let h = Harness::standard();
    let error = h
        .services
        .customer_lookup(BRAND, "0912345678")
        .await
        .unwrap_err();
    assert_eq!(
        (error.class(), error.field()),
        (ErrorClass::NotFound, Some("phone"))
    );
    assert!(!error.to_string().contains("912345678"), "{error}");
}

#[tokio::test]
async fn another_brand_does_not_know_the_customer() {
    let h = Harness::standard();
    h.given_order(order("A-1", 45_000)).await;
    let error = h
        .services
        .customer_lookup(OTHER_BRAND, PHONE)
        .await
        .unwrap_err();
    assert!(matches!(error, LookupError::UnknownPhone(_)));
    let error = h
        .services
        .customer_view(OTHER_BRAND, h.customer_id())
        .await
        .unwrap_err();
    assert_eq!(error, LookupError::UnknownCustomer(h.customer_id()));
    assert_eq!(error.field(), Some("customer"));
}

#[tokio::test]
async fn the_customer_page_shows_the_same_view_by_id() {
    let h = Harness::standard();
    h.given_order(order("A-1", 45_000)).await;
    let by_id = h
        .services
        .customer_view(BRAND, h.customer_id())
        .await
        .unwrap();
    let by_phone = h.services.customer_lookup(BRAND, PHONE).await.unwrap();
    assert_eq!(by_id, by_phone);
}

#[tokio::test]
async fn a_spend_programme_shows_progress_only_when_it_is_exact() {
    let h = Harness::standard();
    h.fake.edit(|world| {
        let spend: regulars_loyalty::tiers::TierProgram = serde_json::from_str(
            r#"{
                "metric": {"kind": "spend", "currency": "VND"},
                "window_days": 90,
                "review_period": "quarter",
                "tiers": [{"code": "vip", "name": "VIP", "threshold": 1000000,
                           "benefits": {"earn_multiplier": "1"}}]
            }"#,
        )
        .unwrap();
        world.programs.get_mut(&BRAND).unwrap().tiers = Some(spend);
    });
    h.given_order(order("A-1", 45_000)).await;
    let view = h.services.customer_lookup(BRAND, PHONE).await.unwrap();
    let progress = view.tier_progress.unwrap();
    assert_eq!(progress.value, QualifyingValue::Spend(vnd(45_000)));

    // After the window has moved past the first visit, total spend is no longer the
    // window's spend: no figure rather than a wrong one.
    h.set_now(t0() + days(91));
    let view = h.services.customer_lookup(BRAND, PHONE).await.unwrap();
    assert_eq!(view.tier_progress, None);
}

#[tokio::test]
async fn the_look_up_reads_the_stored_state_and_folds_only_an_account_without_one() {
    let h = Harness::standard();
    h.given_order(order("A-1", 45_000)).await;
    h.services
        .redeem_reward(BRAND, h.customer_id(), FREE_TOPPING)
        .await
        .unwrap();
    h.given_order(order_at("A-2", 45_000, t0() + days(1))).await;
    h.set_now(t0() + days(1));

    // The whole ledger is not read while the state is stored: its read would fail.
    h.fake.fail(
        "entries",
        StoreError::Other("the whole ledger was read".into()),
    );
    let stored = h.services.customer_lookup(BRAND, PHONE).await.unwrap();
    assert_eq!(stored.balance, Points::new(60));
    assert!(stored.tier_progress.is_some());

    // An account from before stored states: its entries are folded, and give the same.
    h.fake.edit(|w| {
        for account in w.accounts.values_mut() {
            account.state = None;
            account.lots.clear();
        }
    });
    let failed = h.services.customer_lookup(BRAND, PHONE).await;
    assert!(failed.is_err(), "the entries are read: {failed:?}");
    let folded = h.services.customer_lookup(BRAND, PHONE).await.unwrap();
    assert_eq!(folded, stored);
}
