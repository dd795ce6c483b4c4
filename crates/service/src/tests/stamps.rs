//! Stamp cards: the cards' checks, and an order's stamps, completion, voucher and
//! refund through the use cases.

use super::*;
use crate::{ErrorClass, RefundError, StampCardsError, UseCaseError};
use regulars_domain::{Refund, RefundScope};
use regulars_loyalty::stamps::{StampCard, StampEarning};
use regulars_loyalty::vouchers::{VoucherSource, VoucherStatus};

fn milk_tea_card(needed: u32) -> StampCard {
    StampCard {
        code: "milk-tea".into(),
        name: "Milk tea card".into(),
        stamps_needed: needed,
        earn: StampEarning::Item {
            skus: vec![],
            categories: vec!["milk-tea".into()],
        },
        max_per_order: None,
        reward: FREE_DRINK,
        expiry_days: None,
        active: true,
    }
}

async fn with_card(needed: u32) -> Harness {
    let h = Harness::standard();
    h.services
        .put_stamp_cards(BRAND, vec![milk_tea_card(needed)])
        .await
        .unwrap();
    h
}

fn full_refund(id: &str, of: &str) -> Refund {
    Refund {
        brand_id: BRAND,
        key: EventKey::new("pos:generic", id).unwrap(),
        order: key(of),
        refunded_at: t0() + time::Duration::hours(5),
        scope: RefundScope::Full,
    }
}

async fn progress(h: &Harness) -> (u32, u32) {
    let view = h
        .services
        .customer_view(BRAND, h.customer_id())
        .await
        .unwrap();
    let card = &view.stamps[0];
    assert_eq!((card.code.as_str(), card.needed), ("milk-tea", 3));
    (card.stamps, card.completed)
}

fn stamp_vouchers(h: &Harness) -> Vec<regulars_loyalty::vouchers::Voucher> {
    h.fake
        .world()
        .vouchers
        .into_iter()
        .filter(|(b, v, _)| *b == BRAND && matches!(v.source(), VoucherSource::StampCard { .. }))
        .map(|(_, v, _)| v)
        .collect()
}

#[tokio::test]
async fn cards_are_checked_as_a_whole_and_name_the_field() {
    let h = Harness::standard();
    let error = h
        .services
        .put_stamp_cards(BRAND, vec![milk_tea_card(3), milk_tea_card(1)])
        .await
        .unwrap_err();
    assert_eq!(error.class(), ErrorClass::Invalid);
    assert_eq!(error.field(), Some("stamps_needed"));
    assert!(
        error.to_string().starts_with("cards[1].stamps_needed"),
        "{error}"
    );

    let mut unknown = milk_tea_card(3);
    unknown.reward = regulars_domain::RewardId::from_bytes([0xEE; 16]);
    let error = h
        .services
        .put_stamp_cards(BRAND, vec![unknown])
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        StampCardsError::UnknownReward { index: 0, .. }
    ));
    assert_eq!(error.field(), Some("reward"));
    assert!(h.services.stamp_cards(BRAND).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_full_card_issues_one_voucher_and_carries_nothing_over() {
    let h = with_card(3).await;
    h.given_order(order("A-1", 45_000)).await;
    h.given_order(order_at("A-2", 45_000, t0() + time::Duration::hours(1)))
        .await;
    assert_eq!(progress(&h).await, (2, 0));
    h.given_order(order_at("A-3", 45_000, t0() + time::Duration::hours(2)))
        .await;
    assert_eq!(progress(&h).await, (0, 1));
    let vouchers = stamp_vouchers(&h);
    assert_eq!(vouchers.len(), 1);
    assert_eq!(vouchers[0].reward(), FREE_DRINK);
    assert_eq!(*vouchers[0].status(), VoucherStatus::Issued);

    // A repeated delivery earns nothing again.
    let again = h
        .ingest(order_at("A-3", 45_000, t0() + time::Duration::hours(2)))
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(progress(&h).await, (0, 1));
    assert_eq!(stamp_vouchers(&h).len(), 1);
}

#[tokio::test]
async fn a_refund_after_completion_voids_the_unused_voucher() {
    let h = with_card(3).await;
    for (i, id) in ["A-1", "A-2", "A-3"].into_iter().enumerate() {
        let at = t0() + time::Duration::hours(i64::try_from(i).unwrap());
        h.given_order(order_at(id, 45_000, at)).await;
    }
    h.set_now(t0() + time::Duration::hours(5));
    let receipt = h
        .services
        .refund_order(BRAND, full_refund("R-1", "A-2"))
        .await
        .unwrap();
    assert_eq!(receipt.vouchers_voided, 1);
    // The card reopens: 0 + 3 − 1 = 2 stamps, no completed card.
    assert_eq!(progress(&h).await, (2, 0));
    let vouchers = stamp_vouchers(&h);
    assert!(
        matches!(vouchers[0].status(), VoucherStatus::Voided { reason, .. }
        if reason == crate::STAMP_VOID_REASON)
    );

    // Refunding again is refused before anything is counted twice.
    let error = h
        .services
        .refund_order(BRAND, full_refund("R-2", "A-2"))
        .await
        .unwrap_err();
    assert!(matches!(error, RefundError::AlreadyRefunded { .. }));
    assert_eq!(progress(&h).await, (2, 0));
}

#[tokio::test]
async fn a_refund_after_the_voucher_was_used_keeps_the_card_at_zero() {
    let h = with_card(3).await;
    for (i, id) in ["A-1", "A-2", "A-3"].into_iter().enumerate() {
        let at = t0() + time::Duration::hours(i64::try_from(i).unwrap());
        h.given_order(order_at(id, 45_000, at)).await;
    }
    let voucher = stamp_vouchers(&h)[0].clone();
    h.set_now(t0() + time::Duration::hours(4));
    h.services
        .redeem_voucher(BRAND, voucher.code().as_str(), None)
        .await
        .unwrap();
    h.set_now(t0() + time::Duration::hours(5));
    let receipt = h
        .services
        .refund_order(BRAND, full_refund("R-1", "A-3"))
        .await
        .unwrap();
    assert_eq!(receipt.vouchers_voided, 0);
    assert_eq!(progress(&h).await, (0, 1));
}
