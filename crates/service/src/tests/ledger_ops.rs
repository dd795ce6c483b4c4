//! Manual adjustments, the expiry sweep and the ledger check.

use super::*;
use crate::{AdjustError, CheckLedgerError, ErrorClass, UseCaseError};
use regulars_loyalty::ledger::{EntryKind, LedgerEntry};
use regulars_ports::StoreError;
use regulars_ports::mocks::TxOutcome;

#[tokio::test]
async fn a_credit_is_audited_and_expires_like_earned_points() {
    let h = Harness::standard();
    h.given_order(order("A-1", 45_000)).await;
    h.set_now(t0() + days(3));
    let receipt = h
        .services
        .adjust_points(
            BRAND,
            h.customer_id(),
            Points::new(30),
            "drink spilled",
            "staff:an",
        )
        .await
        .unwrap();
    assert_eq!(
        (receipt.delta, receipt.balance),
        (Points::new(30), Points::new(95))
    );
    let entries = h.fake.world().account(BRAND, h.customer_id()).entries;
    assert_eq!(
        entries[1].kind,
        EntryKind::Adjust {
            reason: "drink spilled".into(),
            actor: "staff:an".into(),
            expires_at: Some(t0() + days(3 + 365)),
        }
    );
    assert_eq!(entries[1].at, t0() + days(3));
}

#[tokio::test]
async fn a_debit_never_overdraws() {
    let h = Harness::standard();
    h.given_order(order("A-1", 45_000)).await;
    let error = h
        .services
        .adjust_points(
            BRAND,
            h.customer_id(),
            Points::new(-100),
            "typo",
            "staff:an",
        )
        .await
        .unwrap_err();
    assert_eq!(
        error,
        AdjustError::InsufficientPoints {
            available: Points::new(65),
            requested: Points::new(100),
        }
    );
    assert_eq!(
        (error.class(), error.field()),
        (ErrorClass::Refused, Some("delta"))
    );
    assert!(h.fake.take_writes().is_empty());
    assert_eq!(h.fake.outcomes().last(), Some(&TxOutcome::RolledBack));
    assert_eq!(h.balance(), Points::new(65));

    let receipt = h
        .services
        .adjust_points(BRAND, h.customer_id(), Points::new(-65), "typo", "staff:an")
        .await
        .unwrap();
    assert_eq!(receipt.balance, Points::ZERO);
}

#[tokio::test]
async fn an_adjustment_needs_a_change_a_reason_and_an_actor() {
    let h = Harness::standard();
    let customer = CustomerId::from_bytes([9; 16]);
    let cases = [
        (Points::ZERO, "why", "who", "delta"),
        (Points::new(5), " ", "who", "reason"),
        (Points::new(5), "why", "", "actor"),
    ];
    for (delta, reason, actor, field) in cases {
        let error = h
            .services
            .adjust_points(BRAND, customer, delta, reason, actor)
            .await
            .unwrap_err();
        assert_eq!(
            (error.class(), error.field()),
            (ErrorClass::Invalid, Some(field))
        );
    }
    assert_eq!(h.fake.begun(), 0);
}

#[tokio::test]
async fn an_unknown_customer_is_named() {
    let h = Harness::standard();
    let stranger = CustomerId::from_bytes([9; 16]);
    let error = h
        .services
        .adjust_points(BRAND, stranger, Points::new(5), "why", "who")
        .await
        .unwrap_err();
    assert_eq!(error, AdjustError::UnknownCustomer(stranger));
    assert_eq!(error.field(), Some("customer"));
}

#[tokio::test]
async fn the_sweep_expires_due_lots_account_by_account() {
    let h = Harness::standard();
    h.given_order(order("A-1", 45_000)).await; // 65, expires t0 + 365
    let mut other = order_at("B-1", 10_000, t0() + days(100));
    other.customer_phone = Some(Phone::parse("0912345678", Phone::VIETNAM).unwrap());
    h.given_order(other).await; // 30, expires t0 + 465

    let report = h
        .services
        .expire_points(BRAND, t0() + days(400))
        .await
        .unwrap();
    assert_eq!(report.accounts_checked, 2);
    assert_eq!(report.accounts_expired, 1);
    assert_eq!(report.points_expired, Points::new(65));
    assert!(report.corrupt.is_empty());
    assert_eq!(h.balance(), Points::ZERO);
    assert_eq!(h.fake.take_writes(), ["append"]);

    // Running it again finds nothing more.
    let again = h
        .services
        .expire_points(BRAND, t0() + days(400))
        .await
        .unwrap();
    assert_eq!(
        (again.accounts_checked, again.points_expired),
        (1, Points::ZERO)
    );
    assert!(h.fake.take_writes().is_empty());
}

#[tokio::test]
async fn the_sweep_skips_and_lists_a_corrupt_ledger() {
    let h = Harness::standard();
    h.given_order(order("A-1", 45_000)).await;
    let customer = h.customer_id();
    h.fake.edit(|world| {
        let account = world.accounts.get_mut(&(BRAND, customer)).unwrap();
        account.entries[0].seq = 7;
        // Without a stored state the sweep folds the entries, and finds them broken.
        account.state = None;
    });
    let report = h
        .services
        .expire_points(BRAND, t0() + days(400))
        .await
        .unwrap();
    assert_eq!(report.corrupt, [customer]);
    assert_eq!(report.points_expired, Points::ZERO);
}

#[tokio::test]
async fn the_check_is_clean_after_ordinary_activity() {
    let h = Harness::standard();
    h.given_order(order("A-1", 45_000)).await;
    h.services
        .redeem_reward(BRAND, h.customer_id(), FREE_TOPPING)
        .await
        .unwrap();
    h.fake.take_writes();
    let report = h.services.check_ledger(None).await.unwrap();
    assert_eq!((report.brands_checked, report.accounts_checked), (2, 1));
    assert!(report.is_clean());
    assert!(h.fake.take_writes().is_empty());
}

#[tokio::test]
async fn the_check_reports_a_stored_state_or_tallies_that_differ_from_the_entries() {
    let h = Harness::standard();
    h.given_order(order("A-1", 45_000)).await;
    h.services
        .redeem_reward(BRAND, h.customer_id(), FREE_TOPPING)
        .await
        .unwrap();
    let customer = h.customer_id();
    let stored = h.fake.world().account(BRAND, customer);
    assert!(stored.state.is_some(), "the order path stores the state");
    assert_eq!(stored.tallies.len(), 2, "the order's and the redemption's");
    assert!(h.services.check_ledger(None).await.unwrap().is_clean());

    h.fake.edit(|world| {
        let account = world.accounts.get_mut(&(BRAND, customer)).unwrap();
        account.tallies.clear();
    });
    let report = h.services.check_ledger(None).await.unwrap();
    assert_eq!(
        report.state_mismatches,
        [crate::StateMismatch {
            brand: BRAND,
            customer,
            differs: "tallies".into(),
        }]
    );
    assert!(report.mismatches.is_empty() && report.invalid.is_empty());

    h.fake.edit(|world| {
        let account = world.accounts.get_mut(&(BRAND, customer)).unwrap();
        let entries = account.entries[..1].to_vec();
        let earlier = regulars_loyalty::ledger::fold(&entries).unwrap();
        account.state = Some(earlier.account().without_lots());
    });
    let report = h.services.check_ledger(None).await.unwrap();
    assert_eq!(report.state_mismatches[0].differs, "state");
    assert!(!report.is_clean());
}

#[tokio::test]
async fn the_check_reports_a_wrong_cache_and_broken_entries() {
    let h = Harness::standard();
    h.given_order(order("A-1", 45_000)).await;
    let mut other = order("B-1", 10_000);
    other.customer_phone = Some(Phone::parse("0912345678", Phone::VIETNAM).unwrap());
    h.given_order(other).await;
    let (lan, binh) = {
        let world = h.fake.world();
        let id = |p: &str| {
            let phone = Phone::parse(p, Phone::VIETNAM).unwrap();
            world
                .customers
                .iter()
                .find(|c| c.phone == phone)
                .unwrap()
                .id
        };
        (id(PHONE), id("0912345678"))
    };
    h.fake.edit(|world| {
        world.accounts.get_mut(&(BRAND, lan)).unwrap().balance = Points::new(999);
        let broken = LedgerEntry {
            seq: 1,
            at: t0(),
            amount: Points::new(-1000),
            kind: EntryKind::Redeem {
                reference: "voucher:forged".into(),
            },
        };
        world
            .accounts
            .get_mut(&(BRAND, binh))
            .unwrap()
            .entries
            .push(broken);
    });

    let report = h.services.check_ledger(Some(BRAND)).await.unwrap();
    assert_eq!(report.accounts_checked, 2);
    assert_eq!(report.mismatches.len(), 1);
    let mismatch = &report.mismatches[0];
    assert_eq!(
        (mismatch.customer, mismatch.cached, mismatch.recomputed),
        (lan, Points::new(999), Points::new(65))
    );
    assert_eq!(report.invalid.len(), 1);
    assert_eq!(report.invalid[0].customer, binh);
    assert!(
        report.invalid[0].error.contains("ledger entry 1"),
        "{}",
        report.invalid[0].error
    );
}

#[tokio::test]
async fn the_check_of_an_unknown_brand_fails() {
    let h = Harness::new(World::default());
    let error = h.services.check_ledger(Some(BRAND)).await.unwrap_err();
    assert_eq!(error, CheckLedgerError::UnknownBrand(BRAND));
    assert_eq!(error.field(), Some("brand"));
}

#[tokio::test]
async fn a_stale_cache_does_not_block_the_account_and_stays_reported() {
    let h = Harness::standard();
    h.given_order(order("A-1", 45_000)).await; // 65
    let customer = h.customer_id();
    h.fake
        .edit(|world| world.accounts.get_mut(&(BRAND, customer)).unwrap().balance = Points::new(1));
    let receipt = h
        .services
        .adjust_points(BRAND, customer, Points::new(5), "goodwill", "staff:an")
        .await
        .unwrap();
    // The entries decide: 65 + 5.
    assert_eq!(receipt.balance, Points::new(70));
    // The cache moved by what was appended, and the check still sees the drift.
    assert_eq!(h.balance(), Points::new(6));
    let report = h.services.check_ledger(Some(BRAND)).await.unwrap();
    assert_eq!(report.mismatches[0].recomputed, Points::new(70));
}

#[tokio::test]
async fn a_storage_failure_in_the_sweep_is_returned() {
    let h = Harness::standard();
    h.given_order(order("A-1", 45_000)).await;
    h.fake
        .fail("balances", StoreError::Unavailable("down".into()));
    let error = h.services.expire_points(BRAND, t0()).await.unwrap_err();
    assert_eq!(error.class(), ErrorClass::Unavailable);
}
