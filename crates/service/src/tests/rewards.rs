//! Rewards bought with points, vouchers given by campaigns and staff.

use super::*;
use crate::{ErrorClass, IssueVoucherError, RedeemRewardError, UseCaseError, VoucherGrant};
use regulars_domain::{CampaignId, OrderId};
use regulars_loyalty::ledger::EntryKind;
use regulars_loyalty::vouchers::{VoucherCode, VoucherSource, VoucherStatus};
use regulars_ports::StoreError;
use regulars_ports::mocks::TxOutcome;

async fn with_points() -> Harness {
    let h = Harness::standard();
    h.given_order(order("A-1", 45_000)).await; // 65 points
    h
}

#[tokio::test]
async fn a_reward_is_paid_with_points_and_issued_as_a_voucher() {
    let h = with_points().await;
    h.set_now(t0() + days(1));
    let voucher = h
        .services
        .redeem_reward(BRAND, h.customer_id(), FREE_TOPPING)
        .await
        .unwrap();

    assert_eq!(voucher.customer(), h.customer_id());
    assert_eq!(voucher.reward(), FREE_TOPPING);
    assert_eq!(*voucher.status(), VoucherStatus::Issued);
    assert_eq!(
        voucher.source(),
        &VoucherSource::Redemption {
            points: Points::new(50),
            // The order's earn is entry 0; the purchase is entry 1.
            ledger_seq: Some(1),
        }
    );
    assert_eq!(voucher.issued_at(), t0() + days(1));
    assert_eq!(voucher.expires_at(), t0() + days(31));
    assert_eq!(
        *voucher.code(),
        VoucherCode::from_random_bytes(0x0123_4567_89AB_CDEF_u64.to_be_bytes())
    );
    assert_eq!(h.fake.take_writes(), ["insert_voucher", "append"]);

    let world = h.fake.world();
    assert_eq!(world.vouchers.len(), 1);
    let account = world.account(BRAND, h.customer_id());
    assert_eq!(account.balance, Points::new(15));
    assert_eq!(
        account.entries[1].kind,
        EntryKind::Redeem {
            reference: format!("voucher:{}", voucher.id()),
        }
    );
}

#[tokio::test]
async fn a_reward_beyond_the_balance_is_refused_with_both_figures() {
    let h = with_points().await;
    let error = h
        .services
        .redeem_reward(BRAND, h.customer_id(), FREE_DRINK)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        RedeemRewardError::InsufficientPoints {
            available: Points::new(65),
            requested: Points::new(150),
        }
    );
    assert_eq!(
        (error.class(), error.field()),
        (ErrorClass::Refused, Some("reward"))
    );
    assert!(h.fake.take_writes().is_empty());
    assert_eq!(h.fake.outcomes().last(), Some(&TxOutcome::RolledBack));
    assert!(h.fake.world().vouchers.is_empty());
    assert_eq!(h.balance(), Points::new(65));
}

#[tokio::test]
async fn points_due_to_expire_cannot_be_spent() {
    let h = with_points().await;
    h.set_now(t0() + days(365));
    let error = h
        .services
        .redeem_reward(BRAND, h.customer_id(), FREE_TOPPING)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        RedeemRewardError::InsufficientPoints {
            available: Points::ZERO,
            requested: Points::new(50),
        }
    );
}

#[tokio::test]
async fn inactive_and_unknown_rewards_are_refused() {
    let h = with_points().await;
    let error = h
        .services
        .redeem_reward(BRAND, h.customer_id(), RETIRED)
        .await
        .unwrap_err();
    assert_eq!(error, RedeemRewardError::InactiveReward(RETIRED));
    assert_eq!(
        (error.class(), error.field()),
        (ErrorClass::Refused, Some("reward"))
    );

    let nothing = RewardId::from_bytes([0xEE; 16]);
    let error = h
        .services
        .redeem_reward(BRAND, h.customer_id(), nothing)
        .await
        .unwrap_err();
    assert_eq!(error, RedeemRewardError::UnknownReward(nothing));
    assert_eq!(
        (error.class(), error.field()),
        (ErrorClass::NotFound, Some("reward"))
    );

    let stranger = CustomerId::from_bytes([9; 16]);
    let error = h
        .services
        .redeem_reward(BRAND, stranger, FREE_TOPPING)
        .await
        .unwrap_err();
    assert_eq!(error.field(), Some("customer"));
    assert!(h.fake.take_writes().is_empty());
}

#[tokio::test]
async fn a_colliding_code_is_drawn_again() {
    let h = with_points().await;
    let taken = 0x1111_u64;
    // Someone already holds the code the first draw gives.
    h.script_bytes(&[taken]);
    h.services
        .issue_voucher(BRAND, grant(h.customer_id(), None))
        .await
        .unwrap();
    h.fake.take_writes();
    h.script_bytes(&[taken, 0x2222]);

    let voucher = h
        .services
        .redeem_reward(BRAND, h.customer_id(), FREE_TOPPING)
        .await
        .unwrap();

    assert_eq!(
        *voucher.code(),
        VoucherCode::from_random_bytes(0x2222_u64.to_be_bytes())
    );
    assert_eq!(
        h.fake.take_writes(),
        ["insert_voucher", "insert_voucher", "append"]
    );
    assert_eq!(
        h.fake.outcomes()[2..],
        [TxOutcome::RolledBack, TxOutcome::Committed]
    );
    let world = h.fake.world();
    assert_eq!(world.vouchers.len(), 2);
    // Paid once.
    assert_eq!(
        world.account(BRAND, h.customer_id()).balance,
        Points::new(15)
    );
}

#[tokio::test]
async fn a_failed_voucher_insert_spends_no_points() {
    let h = with_points().await;
    h.fake
        .fail("append", StoreError::Unavailable("down".into()));
    let error = h
        .services
        .redeem_reward(BRAND, h.customer_id(), FREE_TOPPING)
        .await
        .unwrap_err();
    assert_eq!(error.class(), ErrorClass::Unavailable);
    assert_eq!(h.fake.take_writes(), ["insert_voucher", "append"]);
    let world = h.fake.world();
    assert!(world.vouchers.is_empty());
    assert_eq!(
        world.account(BRAND, h.customer_id()).balance,
        Points::new(65)
    );
}

fn grant(customer: CustomerId, issued_by: Option<OrderId>) -> VoucherGrant {
    VoucherGrant {
        customer,
        reward: FREE_DRINK,
        source: VoucherSource::Campaign {
            campaign: CampaignId::from_bytes([0xCA; 16]),
        },
        validity: Some(days(7)),
        issued_by,
    }
}

#[tokio::test]
async fn a_campaign_voucher_costs_no_points() {
    let h = with_points().await;
    let ordered = h.fake.world().orders[0].id;
    let voucher = h
        .services
        .issue_voucher(BRAND, grant(h.customer_id(), Some(ordered)))
        .await
        .unwrap();
    assert_eq!(voucher.expires_at(), t0() + days(7));
    assert_eq!(h.fake.take_writes(), ["insert_voucher"]);
    let world = h.fake.world();
    assert_eq!(world.vouchers[0].2, Some(ordered));
    assert_eq!(
        world.account(BRAND, h.customer_id()).balance,
        Points::new(65)
    );
}

#[tokio::test]
async fn an_inactive_reward_can_still_be_given() {
    let h = with_points().await;
    let mut given = grant(h.customer_id(), None);
    given.reward = RETIRED;
    given.validity = None;
    let voucher = h.services.issue_voucher(BRAND, given).await.unwrap();
    assert_eq!(voucher.expires_at(), t0() + days(30));
}

#[tokio::test]
async fn a_grant_cannot_pretend_points_were_spent_or_last_no_time() {
    let h = with_points().await;
    let mut bought = grant(h.customer_id(), None);
    bought.source = VoucherSource::Redemption {
        points: Points::new(1),
        ledger_seq: None,
    };
    let error = h.services.issue_voucher(BRAND, bought).await.unwrap_err();
    assert_eq!(error, IssueVoucherError::PointsSource);
    assert_eq!(
        (error.class(), error.field()),
        (ErrorClass::Invalid, Some("source"))
    );

    let mut instant = grant(h.customer_id(), None);
    instant.validity = Some(days(0));
    let error = h.services.issue_voucher(BRAND, instant).await.unwrap_err();
    assert_eq!(error.field(), Some("validity"));

    let mut anonymous = grant(h.customer_id(), None);
    anonymous.source = VoucherSource::Manual { actor: " ".into() };
    let error = h
        .services
        .issue_voucher(BRAND, anonymous)
        .await
        .unwrap_err();
    assert_eq!(
        (error.class(), error.field()),
        (ErrorClass::Invalid, Some("source.actor"))
    );
    assert!(h.fake.take_writes().is_empty());
}

#[tokio::test]
async fn a_voucher_bought_after_a_future_dated_order_is_valid_at_once() {
    let h = Harness::standard();
    // The till's clock runs ten minutes fast: its order is dated ahead of the server.
    h.given_order(order("A-1", 45_000)).await;
    let now = t0() - Duration::minutes(10);
    h.set_now(now);
    let voucher = h
        .services
        .redeem_reward(BRAND, h.customer_id(), FREE_TOPPING)
        .await
        .unwrap();

    assert_eq!(voucher.issued_at(), now);
    assert_eq!(voucher.expires_at(), now + days(30));
    // The debit still follows the ledger's own order.
    let account = h.fake.world().account(BRAND, h.customer_id());
    assert_eq!(account.entries[1].at, t0());
    // Shown at the till and redeemable right away.
    let view = h.services.customer_lookup(BRAND, PHONE).await.unwrap();
    assert_eq!(view.vouchers.len(), 1);
    let code = voucher.code().to_string();
    h.services.redeem_voucher(BRAND, &code, None).await.unwrap();
}
