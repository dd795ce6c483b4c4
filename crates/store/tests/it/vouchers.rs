//! Vouchers: storage, lookup, exactly-once redemption, voiding on refund.

use crate::support::{code, key, order, seed, voucher};
use crate::{Store, TestResult};
use regulars_domain::{CampaignId, VoucherId};
use regulars_loyalty::vouchers::{NewVoucher, Voucher, VoucherSource, VoucherStatus};
use regulars_ports::{RedeemOutcome, StoreError, UnitOfWork};
use time::Duration;
use time::macros::datetime;

const ISSUED_AT: time::OffsetDateTime = datetime!(2026-06-01 00:00:00.000001 UTC);
const EXPIRES_AT: time::OffsetDateTime = datetime!(2026-07-01 00:00:00.000001 UTC);

pub(crate) async fn voucher_round_trip_and_listing(store: Store) -> TestResult {
    let (brand, lan, reward) = seed(&store, 1).await?;
    let placed = order(brand.id, 1, "A-1001", Some(&lan));
    let bought = voucher(1, lan.id, reward.id, ISSUED_AT, EXPIRES_AT);
    let campaign = Voucher::issue(NewVoucher {
        id: VoucherId::from_bytes([2; 16]),
        code: code(2),
        customer: lan.id,
        reward: reward.id,
        source: VoucherSource::Campaign {
            campaign: CampaignId::from_bytes([7; 16]),
        },
        issued_at: ISSUED_AT + Duration::days(1),
        expires_at: EXPIRES_AT,
    })?;
    let mut redeemed = Voucher::issue(NewVoucher {
        id: VoucherId::from_bytes([3; 16]),
        code: code(3),
        customer: lan.id,
        reward: reward.id,
        source: VoucherSource::Manual {
            actor: "staff:thao".into(),
        },
        issued_at: ISSUED_AT + Duration::days(2),
        expires_at: EXPIRES_AT,
    })?;
    redeemed.redeem(
        ISSUED_AT + Duration::days(3),
        Some(key("pos:generic", "A-1002")),
    )?;
    let mut voided = voucher(
        4,
        lan.id,
        reward.id,
        ISSUED_AT - Duration::days(1),
        EXPIRES_AT,
    );
    voided.void(ISSUED_AT, "refund of A-0999")?;
    let mut expired = voucher(
        5,
        lan.id,
        reward.id,
        ISSUED_AT - Duration::days(2),
        EXPIRES_AT,
    );
    expired.expire(EXPIRES_AT)?;

    let mut tx = store.begin().await?;
    tx.orders().insert_order(&placed).await?;
    tx.vouchers()
        .insert_voucher(brand.id, &bought, Some(placed.id))
        .await?;
    for v in [&campaign, &redeemed, &voided, &expired] {
        tx.vouchers().insert_voucher(brand.id, v, None).await?;
    }
    tx.commit().await?;

    let mut tx = store.begin().await?;
    for v in [&bought, &campaign, &redeemed, &voided, &expired] {
        assert_eq!(
            tx.vouchers()
                .voucher_by_code(brand.id, v.code())
                .await?
                .as_ref(),
            Some(v)
        );
    }
    assert_eq!(
        tx.vouchers().vouchers_of(brand.id, lan.id).await?,
        vec![redeemed, campaign, bought, voided, expired],
        "newest first"
    );
    Ok(())
}

pub(crate) async fn redeem_once_then_refused(store: Store) -> TestResult {
    let (brand, lan, reward) = seed(&store, 1).await?;
    let issued = voucher(1, lan.id, reward.id, ISSUED_AT, EXPIRES_AT);
    let mut tx = store.begin().await?;
    tx.vouchers()
        .insert_voucher(brand.id, &issued, None)
        .await?;
    tx.commit().await?;

    let now = datetime!(2026-06-15 10:11:12.131415 UTC);
    let till = key("pos:generic", "A-1001");
    let mut expected = issued.clone();
    expected.redeem(now, Some(till.clone()))?;

    let mut tx = store.begin().await?;
    let first = tx
        .vouchers()
        .redeem_voucher(brand.id, issued.code(), now, Some(till.clone()), None)
        .await?;
    assert_eq!(first, RedeemOutcome::Redeemed(expected.clone()));
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let second = tx
        .vouchers()
        .redeem_voucher(
            brand.id,
            issued.code(),
            now + Duration::minutes(1),
            None,
            None,
        )
        .await?;
    assert_eq!(second, RedeemOutcome::Refused(expected.clone()));
    assert_eq!(
        tx.vouchers()
            .voucher_by_code(brand.id, issued.code())
            .await?,
        Some(expected)
    );
    Ok(())
}

pub(crate) async fn expired_or_not_yet_valid_is_refused(store: Store) -> TestResult {
    let (brand, lan, reward) = seed(&store, 1).await?;
    let issued = voucher(1, lan.id, reward.id, ISSUED_AT, EXPIRES_AT);
    let mut tx = store.begin().await?;
    tx.vouchers()
        .insert_voucher(brand.id, &issued, None)
        .await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    for too_late in [EXPIRES_AT, EXPIRES_AT + Duration::days(1)] {
        let outcome = tx
            .vouchers()
            .redeem_voucher(brand.id, issued.code(), too_late, None, None)
            .await?;
        assert_eq!(
            outcome,
            RedeemOutcome::Refused(issued.clone()),
            "at {too_late}"
        );
    }
    let too_early = ISSUED_AT - Duration::microseconds(1);
    let outcome = tx
        .vouchers()
        .redeem_voucher(brand.id, issued.code(), too_early, None, None)
        .await?;
    assert_eq!(outcome, RedeemOutcome::Refused(issued.clone()));

    // The last microsecond of validity still counts.
    let last = EXPIRES_AT - Duration::microseconds(1);
    let outcome = tx
        .vouchers()
        .redeem_voucher(brand.id, issued.code(), last, None, None)
        .await?;
    let mut expected = issued.clone();
    expected.redeem(last, None)?;
    assert_eq!(outcome, RedeemOutcome::Redeemed(expected));
    Ok(())
}

pub(crate) async fn unknown_code_is_not_found(store: Store) -> TestResult {
    let (brand, _, _) = seed(&store, 1).await?;
    let mut tx = store.begin().await?;
    let outcome = tx
        .vouchers()
        .redeem_voucher(brand.id, &code(9), ISSUED_AT, None, None)
        .await?;
    assert_eq!(outcome, RedeemOutcome::NotFound);
    assert_eq!(
        tx.vouchers().voucher_by_code(brand.id, &code(9)).await?,
        None
    );
    Ok(())
}

pub(crate) async fn void_issued_by_voids_only_issued_vouchers(store: Store) -> TestResult {
    let (brand, lan, reward) = seed(&store, 1).await?;
    let refunded = order(brand.id, 1, "A-1001", Some(&lan));
    let kept = order(brand.id, 2, "A-1002", Some(&lan));
    let unused = voucher(1, lan.id, reward.id, ISSUED_AT, EXPIRES_AT);
    let used = voucher(2, lan.id, reward.id, ISSUED_AT, EXPIRES_AT);
    let other_order = voucher(3, lan.id, reward.id, ISSUED_AT, EXPIRES_AT);
    let unlinked = voucher(4, lan.id, reward.id, ISSUED_AT, EXPIRES_AT);

    let mut tx = store.begin().await?;
    tx.orders().insert_order(&refunded).await?;
    tx.orders().insert_order(&kept).await?;
    tx.vouchers()
        .insert_voucher(brand.id, &unused, Some(refunded.id))
        .await?;
    tx.vouchers()
        .insert_voucher(brand.id, &used, Some(refunded.id))
        .await?;
    tx.vouchers()
        .insert_voucher(brand.id, &other_order, Some(kept.id))
        .await?;
    tx.vouchers()
        .insert_voucher(brand.id, &unlinked, None)
        .await?;
    let redeemed_at = ISSUED_AT + Duration::hours(1);
    let outcome = tx
        .vouchers()
        .redeem_voucher(brand.id, used.code(), redeemed_at, None, None)
        .await?;
    assert!(matches!(outcome, RedeemOutcome::Redeemed(_)));
    tx.commit().await?;

    let now = ISSUED_AT + Duration::days(2);
    let mut tx = store.begin().await?;
    let voided = tx
        .vouchers()
        .void_issued_by(brand.id, refunded.id, now, "refund of A-1001")
        .await?;
    assert_eq!(voided, 1);
    assert_eq!(
        tx.vouchers()
            .void_issued_by(brand.id, refunded.id, now, "refund of A-1001")
            .await?,
        0,
        "nothing left to void"
    );
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let mut expected_unused = unused.clone();
    expected_unused.void(now, "refund of A-1001")?;
    let mut expected_used = used.clone();
    expected_used.redeem(redeemed_at, None)?;
    for expected in [&expected_unused, &expected_used, &other_order, &unlinked] {
        assert_eq!(
            tx.vouchers()
                .voucher_by_code(brand.id, expected.code())
                .await?
                .as_ref(),
            Some(expected)
        );
    }
    assert!(matches!(
        tx.vouchers()
            .voucher_by_code(brand.id, unused.code())
            .await?
            .map(|v| v.status().clone()),
        Some(VoucherStatus::Voided { .. })
    ));
    let blank = tx
        .vouchers()
        .void_issued_by(brand.id, kept.id, now, "  ")
        .await;
    assert!(matches!(blank, Err(StoreError::Invalid(_))), "{blank:?}");
    Ok(())
}

pub(crate) async fn duplicate_code_is_a_conflict(store: Store) -> TestResult {
    let (brand, lan, reward) = seed(&store, 1).await?;
    let first = voucher(1, lan.id, reward.id, ISSUED_AT, EXPIRES_AT);
    let mut tx = store.begin().await?;
    tx.vouchers().insert_voucher(brand.id, &first, None).await?;
    tx.commit().await?;

    let same_code = Voucher::issue(NewVoucher {
        id: VoucherId::from_bytes([2; 16]),
        code: first.code().clone(),
        customer: lan.id,
        reward: reward.id,
        source: VoucherSource::Manual {
            actor: "staff".into(),
        },
        issued_at: ISSUED_AT,
        expires_at: EXPIRES_AT,
    })?;
    let mut tx = store.begin().await?;
    let err = tx
        .vouchers()
        .insert_voucher(brand.id, &same_code, None)
        .await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    Ok(())
}
