//! Refunds.

use super::*;
use crate::{ErrorClass, RefundError, UseCaseError, VoucherGrant};
use regulars_domain::{Refund, RefundScope};
use regulars_loyalty::ledger::EntryKind;
use regulars_loyalty::vouchers::{VoucherSource, VoucherStatus};
use regulars_ports::StoreError;
use regulars_ports::mocks::TxOutcome;

fn refund(id: &str, of: &str, scope: RefundScope) -> Refund {
    Refund {
        brand_id: BRAND,
        key: EventKey::new("pos:generic", id).unwrap(),
        order: key(of),
        refunded_at: t0() + time::Duration::minutes(30),
        scope,
    }
}

fn partial(amount: i64) -> RefundScope {
    RefundScope::Amount {
        amount: vnd(amount),
    }
}

/// The customer has 65 points from order A-1 (45,000 VND) and a thank-you voucher it
/// issued.
async fn with_an_order() -> (Harness, crate::OrderReceipt) {
    let h = Harness::standard();
    let receipt = h.given_order(order("A-1", 45_000)).await;
    h.services
        .issue_voucher(
            BRAND,
            VoucherGrant {
                customer: h.customer_id(),
                reward: FREE_TOPPING,
                source: VoucherSource::Manual {
                    actor: "thank-you".into(),
                },
                validity: None,
                issued_by: Some(receipt.order_id),
            },
        )
        .await
        .unwrap();
    h.fake.take_writes();
    (h, receipt)
}

#[tokio::test]
async fn a_full_refund_reverses_the_points_and_voids_the_orders_vouchers() {
    let (h, ordered) = with_an_order().await;
    let receipt = h
        .services
        .refund_order(BRAND, refund("R-1", "A-1", RefundScope::Full))
        .await
        .unwrap();

    assert_eq!(receipt.order_id, ordered.order_id);
    assert_eq!(receipt.points_reversed, Points::new(65));
    assert_eq!(receipt.points_unrecovered, Points::ZERO);
    assert_eq!(receipt.balance, Some(Points::ZERO));
    assert_eq!(receipt.refunded_total, vnd(45_000));
    assert!(receipt.fully_refunded && !receipt.duplicate);
    assert_eq!(receipt.vouchers_voided, 1);
    assert_eq!(
        h.fake.take_writes(),
        [
            "append",
            "save_stats",
            "set_refunded",
            "void_issued_by",
            "remember"
        ]
    );

    let world = h.fake.world();
    assert_eq!(world.orders[0].refunded, vnd(45_000));
    let stats = &world.stats[&(BRAND, h.customer_id())];
    assert_eq!((stats.spend, stats.visits), (vnd(0), 1));
    assert!(matches!(
        world.vouchers[0].1.status(),
        VoucherStatus::Voided { .. }
    ));
    let entries = world.account(BRAND, h.customer_id()).entries;
    assert_eq!(
        entries.last().map(|e| &e.kind),
        Some(&EntryKind::Reverse {
            order: key("A-1"),
            unrecovered: Points::ZERO,
        })
    );
}

#[tokio::test]
async fn partial_refunds_are_cumulative_and_the_last_one_completes_the_reversal() {
    let (h, _) = with_an_order().await;
    let first = h
        .services
        .refund_order(BRAND, refund("R-1", "A-1", partial(15_000)))
        .await
        .unwrap();
    // floor(65 × 15/45) = 21
    assert_eq!(
        (first.points_reversed, first.balance),
        (Points::new(21), Some(Points::new(44)))
    );
    assert!(!first.fully_refunded);
    assert_eq!(first.vouchers_voided, 0);
    assert!(!h.fake.take_writes().contains(&"void_issued_by"));

    let second = h
        .services
        .refund_order(BRAND, refund("R-2", "A-1", partial(30_000)))
        .await
        .unwrap();
    assert_eq!(
        (second.points_reversed, second.balance),
        (Points::new(44), Some(Points::ZERO))
    );
    assert!(second.fully_refunded);
    assert_eq!(second.vouchers_voided, 1);
    assert_eq!(
        h.fake.world().stats[&(BRAND, h.customer_id())].spend,
        vnd(0)
    );
}

#[tokio::test]
async fn a_second_delivery_of_a_refund_returns_the_first_receipt() {
    let (h, _) = with_an_order().await;
    let first = h
        .services
        .refund_order(BRAND, refund("R-1", "A-1", partial(15_000)))
        .await
        .unwrap();
    h.fake.take_writes();
    let again = h
        .services
        .refund_order(BRAND, refund("R-1", "A-1", partial(15_000)))
        .await
        .unwrap();
    assert_eq!(
        again,
        crate::RefundReceipt {
            duplicate: true,
            ..first
        }
    );
    assert!(h.fake.take_writes().is_empty());
    assert_eq!(h.fake.world().orders[0].refunded, vnd(15_000));
}

#[tokio::test]
async fn a_refund_numbered_like_its_order_does_not_collide_with_it() {
    let (h, _) = with_an_order().await;
    let receipt = h
        .services
        .refund_order(BRAND, refund("A-1", "A-1", RefundScope::Full))
        .await
        .unwrap();
    assert!(!receipt.duplicate);
    assert_eq!(receipt.points_reversed, Points::new(65));
}

#[tokio::test]
async fn an_unknown_order_is_named() {
    let (h, _) = with_an_order().await;
    let error = h
        .services
        .refund_order(BRAND, refund("R-1", "NOPE", RefundScope::Full))
        .await
        .unwrap_err();
    assert_eq!(error, RefundError::UnknownOrder { order: key("NOPE") });
    assert_eq!(
        (error.class(), error.field()),
        (ErrorClass::NotFound, Some("order"))
    );
    assert!(h.fake.take_writes().is_empty());
    assert_ne!(h.fake.outcomes().last(), Some(&TxOutcome::Committed));
}

#[tokio::test]
async fn refunds_beyond_the_order_total_are_refused() {
    let (h, _) = with_an_order().await;
    let error = h
        .services
        .refund_order(BRAND, refund("R-1", "A-1", partial(50_000)))
        .await
        .unwrap_err();
    assert!(matches!(error, RefundError::ExceedsOrder { .. }));
    assert_eq!(
        (error.class(), error.field()),
        (ErrorClass::Invalid, Some("scope.amount"))
    );

    let error = h
        .services
        .refund_order(BRAND, refund("R-2", "A-1", partial(0)))
        .await
        .unwrap_err();
    assert!(matches!(error, RefundError::NonPositiveAmount { .. }));
    assert!(h.fake.take_writes().is_empty());
}

#[tokio::test]
async fn a_second_full_refund_under_another_key_is_refused() {
    let (h, _) = with_an_order().await;
    h.services
        .refund_order(BRAND, refund("R-1", "A-1", RefundScope::Full))
        .await
        .unwrap();
    h.fake.take_writes();
    let error = h
        .services
        .refund_order(BRAND, refund("R-2", "A-1", RefundScope::Full))
        .await
        .unwrap_err();
    assert_eq!(error, RefundError::AlreadyRefunded { order: key("A-1") });
    assert_eq!(
        (error.class(), error.field()),
        (ErrorClass::Refused, Some("order"))
    );
    assert!(h.fake.take_writes().is_empty());
}

#[tokio::test]
async fn points_already_spent_are_recorded_as_unrecovered_under_the_clamp_policy() {
    let (h, _) = with_an_order().await;
    h.services
        .redeem_reward(BRAND, h.customer_id(), FREE_TOPPING)
        .await
        .unwrap(); // 50 spent
    let receipt = h
        .services
        .refund_order(BRAND, refund("R-1", "A-1", RefundScope::Full))
        .await
        .unwrap();
    assert_eq!(receipt.points_reversed, Points::new(15));
    assert_eq!(receipt.points_unrecovered, Points::new(50));
    assert_eq!(receipt.balance, Some(Points::ZERO));
}

#[tokio::test]
async fn a_failure_after_the_reversal_leaves_nothing_written() {
    let (h, _) = with_an_order().await;
    let before = h.fake.world();
    h.fake.fail(
        "void_issued_by",
        StoreError::Other("deadlock detected".into()),
    );
    let error = h
        .services
        .refund_order(BRAND, refund("R-1", "A-1", RefundScope::Full))
        .await
        .unwrap_err();
    assert_eq!(error.class(), ErrorClass::Internal);
    assert_eq!(
        h.fake.take_writes(),
        ["append", "save_stats", "set_refunded", "void_issued_by"]
    );
    let after = h.fake.world();
    assert_eq!(after.accounts, before.accounts);
    assert_eq!(after.orders, before.orders);
    assert_eq!(after.stats, before.stats);
    assert!(after.idempotency.len() == before.idempotency.len());
}

#[tokio::test]
async fn an_anonymous_order_is_refunded_without_touching_any_account() {
    let h = Harness::standard();
    let mut anonymous = order("A-1", 45_000);
    anonymous.customer_phone = None;
    h.given_order(anonymous).await;
    let receipt = h
        .services
        .refund_order(BRAND, refund("R-1", "A-1", RefundScope::Full))
        .await
        .unwrap();
    assert_eq!((receipt.customer_id, receipt.balance), (None, None));
    assert_eq!(
        h.fake.take_writes(),
        ["set_refunded", "void_issued_by", "remember"]
    );
}

#[tokio::test]
async fn a_refund_dated_in_the_future_is_refused() {
    let (h, _) = with_an_order().await;
    let mut late = refund("R-1", "A-1", RefundScope::Full);
    late.refunded_at = t0() + time::Duration::hours(7);
    let error = h.services.refund_order(BRAND, late).await.unwrap_err();
    assert!(matches!(error, RefundError::RefundedInFuture { .. }));
    assert_eq!(
        (error.class(), error.field()),
        (ErrorClass::Invalid, Some("refunded_at"))
    );
    assert!(h.fake.take_writes().is_empty());
}

fn with_policy(policy: regulars_loyalty::ledger::RefundPolicy) -> Harness {
    let mut world = world();
    if let Some(brand) = world.brands.get_mut(&BRAND) {
        brand.refund_policy = policy;
    }
    Harness::new(world)
}

/// Earns 65 points with A-1, spends 50 of them on a topping voucher, and refunds A-1.
async fn earn_spend_refund(h: &Harness) -> (crate::RefundReceipt, regulars_domain::VoucherId) {
    h.given_order(order("A-1", 45_000)).await;
    let voucher = h
        .services
        .redeem_reward(BRAND, h.customer_id(), FREE_TOPPING)
        .await
        .unwrap();
    h.fake.take_writes();
    let receipt = h
        .services
        .refund_order(BRAND, refund("R-1", "A-1", RefundScope::Full))
        .await
        .unwrap();
    (receipt, voucher.id())
}

fn voucher_status(h: &Harness, id: regulars_domain::VoucherId) -> VoucherStatus {
    let world = h.fake.world();
    let (_, voucher, _) = world
        .vouchers
        .iter()
        .find(|(_, v, _)| v.id() == id)
        .unwrap();
    voucher.status().clone()
}

#[tokio::test]
async fn under_void_unredeemed_the_voucher_bought_with_refunded_points_is_voided() {
    let h = with_policy(regulars_loyalty::ledger::RefundPolicy::VoidUnredeemed);
    let (receipt, voucher) = earn_spend_refund(&h).await;

    assert_eq!(receipt.points_reversed, Points::new(65));
    assert_eq!(receipt.points_restored, Points::new(50));
    assert_eq!(receipt.vouchers_voided, 1);
    assert_eq!(receipt.balance, Some(Points::ZERO));
    assert!(matches!(
        voucher_status(&h, voucher),
        VoucherStatus::Voided { reason, .. } if reason == crate::refund::VOID_SPENT_REASON
    ));
    let account = h.fake.world().account(BRAND, h.customer_id());
    let kinds: Vec<&str> = account.entries.iter().map(|e| e.kind.name()).collect();
    assert_eq!(kinds, ["earn", "redeem", "restore", "reverse"]);
}

#[tokio::test]
async fn under_debt_the_spent_points_become_debt_that_the_next_order_repays() {
    let h = with_policy(regulars_loyalty::ledger::RefundPolicy::Debt);
    let (receipt, voucher) = earn_spend_refund(&h).await;

    assert_eq!(receipt.points_reversed, Points::new(65));
    assert_eq!(receipt.points_unrecovered, Points::ZERO);
    assert_eq!(receipt.balance, Some(Points::new(-50)));
    assert_eq!(voucher_status(&h, voucher), VoucherStatus::Issued);
    h.given_order(order_at("A-2", 60_000, t0() + days(1))).await; // 60 points
    assert_eq!(h.balance(), Points::new(10));
}

#[tokio::test]
async fn a_refund_id_reused_for_another_amount_is_refused_not_answered() {
    let (h, _) = with_an_order().await;
    h.services
        .refund_order(BRAND, refund("R-1", "A-1", partial(10_000)))
        .await
        .unwrap();
    // The same refund again, sent later: the first receipt.
    let mut again = refund("R-1", "A-1", partial(10_000));
    again.refunded_at += time::Duration::minutes(5);
    assert!(
        h.services
            .refund_order(BRAND, again)
            .await
            .unwrap()
            .duplicate
    );
    // The same id for another amount: refused, nothing more refunded.
    let error = h
        .services
        .refund_order(BRAND, refund("R-1", "A-1", partial(20_000)))
        .await
        .unwrap_err();
    assert!(
        matches!(error, RefundError::OtherRefund { .. }),
        "{error:?}"
    );
    assert_eq!(error.code(), Some("key_reused"));
    assert_eq!(h.fake.world().orders[0].refunded, vnd(10_000));
}
