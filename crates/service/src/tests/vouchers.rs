//! Vouchers at the till.

use super::*;
use crate::{ErrorClass, RedeemVoucherError, UseCaseError, ValidateVoucherError, VoucherGrant};
use regulars_domain::CampaignId;
use regulars_loyalty::vouchers::{Voucher, VoucherError, VoucherSource, VoucherStatus};
use regulars_ports::mocks::TxOutcome;

/// A customer holding a 7-day campaign voucher for a free drink.
async fn with_a_voucher() -> (Harness, Voucher) {
    let h = Harness::standard();
    h.given_order(order("A-1", 45_000)).await;
    let voucher = h
        .services
        .issue_voucher(
            BRAND,
            VoucherGrant {
                customer: h.customer_id(),
                reward: FREE_DRINK,
                source: VoucherSource::Campaign {
                    campaign: CampaignId::from_bytes([0xCA; 16]),
                },
                validity: Some(days(7)),
                issued_by: None,
            },
        )
        .await
        .unwrap();
    h.fake.take_writes();
    (h, voucher)
}

/// The code as a cashier might type it.
fn typed(voucher: &Voucher) -> String {
    voucher.code().to_string().to_lowercase()
}

#[tokio::test]
async fn a_valid_voucher_says_what_it_gives() {
    let (h, voucher) = with_a_voucher().await;
    let check = h
        .services
        .validate_voucher(BRAND, &typed(&voucher))
        .await
        .unwrap();
    assert!(check.redeemable);
    assert_eq!(check.refusal, None);
    assert_eq!(check.voucher, voucher);
    assert_eq!(check.reward.map(|r| r.name), Some("Free drink".to_owned()));
    assert!(h.fake.take_writes().is_empty());
}

#[tokio::test]
async fn an_expired_voucher_says_why_it_cannot_be_used() {
    let (h, voucher) = with_a_voucher().await;
    h.set_now(t0() + days(7));
    let check = h
        .services
        .validate_voucher(BRAND, voucher.code().as_str())
        .await
        .unwrap();
    assert!(!check.redeemable);
    assert_eq!(
        check.refusal,
        Some(VoucherError::Expired { at: t0() + days(7) })
    );
}

#[tokio::test]
async fn a_mistyped_or_unknown_code_is_named() {
    let (h, voucher) = with_a_voucher().await;
    let error = h
        .services
        .validate_voucher(BRAND, "not a code")
        .await
        .unwrap_err();
    assert!(matches!(error, ValidateVoucherError::InvalidCode(_)));
    assert_eq!(
        (error.class(), error.field()),
        (ErrorClass::Invalid, Some("code"))
    );

    let other = regulars_loyalty::vouchers::VoucherCode::from_random_bytes([7; 8]);
    let error = h
        .services
        .validate_voucher(BRAND, other.as_str())
        .await
        .unwrap_err();
    assert_eq!(error, ValidateVoucherError::UnknownCode(other));
    assert_eq!(
        (error.class(), error.field()),
        (ErrorClass::NotFound, Some("code"))
    );

    // Another brand's till does not see it.
    let error = h
        .services
        .validate_voucher(OTHER_BRAND, voucher.code().as_str())
        .await
        .unwrap_err();
    assert!(matches!(error, ValidateVoucherError::UnknownCode(_)));
}

#[tokio::test]
async fn a_voucher_is_redeemed_once() {
    let (h, voucher) = with_a_voucher().await;
    let redeemed = h
        .services
        .redeem_voucher(BRAND, &typed(&voucher), Some(key("A-2")))
        .await
        .unwrap();
    assert_eq!(
        *redeemed.status(),
        VoucherStatus::Redeemed {
            at: t0(),
            order: Some(key("A-2")),
        }
    );
    assert_eq!(h.fake.take_writes(), ["redeem_voucher"]);
    assert_eq!(h.fake.world().vouchers[0].1, redeemed);

    let error = h
        .services
        .redeem_voucher(BRAND, &typed(&voucher), Some(key("A-3")))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        RedeemVoucherError::Refused {
            code: voucher.code().clone(),
            reason: VoucherError::AlreadyRedeemed {
                at: t0(),
                order: Some(key("A-2")),
            },
        }
    );
    assert_eq!(
        (error.class(), error.field()),
        (ErrorClass::Refused, Some("code"))
    );
}

#[tokio::test]
async fn the_same_till_asking_again_for_the_same_order_gets_the_redemption() {
    let (h, voucher) = with_a_voucher().await;
    let first = h
        .services
        .redeem_voucher(BRAND, voucher.code().as_str(), Some(key("A-2")))
        .await
        .unwrap();
    let again = h
        .services
        .redeem_voucher(BRAND, voucher.code().as_str(), Some(key("A-2")))
        .await
        .unwrap();
    assert_eq!(first, again);
    // Without an order there is no telling a retry from a second use.
    let error = h
        .services
        .redeem_voucher(BRAND, voucher.code().as_str(), None)
        .await
        .unwrap_err();
    assert!(matches!(error, RedeemVoucherError::Refused { .. }));
}

#[tokio::test]
async fn expired_and_voided_vouchers_are_refused_with_their_reason() {
    let (h, voucher) = with_a_voucher().await;
    h.set_now(t0() + days(8));
    let error = h
        .services
        .redeem_voucher(BRAND, voucher.code().as_str(), None)
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        RedeemVoucherError::Refused {
            reason: VoucherError::Expired { .. },
            ..
        }
    ));

    h.set_now(t0());
    h.fake.edit(|world| {
        world.vouchers[0]
            .1
            .void(t0(), "customer complaint")
            .unwrap()
    });
    let error = h
        .services
        .redeem_voucher(BRAND, voucher.code().as_str(), None)
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        RedeemVoucherError::Refused {
            reason: VoucherError::Voided { .. },
            ..
        }
    ));
    // A refusal writes nothing; the conditional update changed no row.
    assert!(
        h.fake
            .outcomes()
            .iter()
            .rev()
            .take(2)
            .all(|o| *o != TxOutcome::Committed)
    );
}

#[tokio::test]
async fn an_unknown_code_or_a_bad_order_key_is_named() {
    let (h, _) = with_a_voucher().await;
    let unknown = regulars_loyalty::vouchers::VoucherCode::from_random_bytes([7; 8]);
    let error = h
        .services
        .redeem_voucher(BRAND, unknown.as_str(), None)
        .await
        .unwrap_err();
    assert_eq!(error, RedeemVoucherError::UnknownCode(unknown.clone()));
    assert_eq!(error.field(), Some("code"));

    let bad = EventKey {
        source: "pos".into(),
        external_id: " ".into(),
    };
    let error = h
        .services
        .redeem_voucher(BRAND, unknown.as_str(), Some(bad))
        .await
        .unwrap_err();
    assert_eq!(
        (error.class(), error.field()),
        (ErrorClass::Invalid, Some("order"))
    );
}
