//! Concurrent transactions on the same rows: exactly-once redemption, serialised ledgers.
//!
//! On PostgreSQL these run truly in parallel on the pool; on SQLite the single connection
//! serialises them, and the same assertions must hold.

use crate::ledger::earn;
use crate::support::{customer, key, seed, voucher};
use crate::{Store, TestResult};
use regulars_domain::Points;
use regulars_ports::{RedeemOutcome, StoreError, UnitOfWork};
use regulars_store::Backend;
use std::sync::Arc;
use time::Duration;
use time::macros::datetime;
use tokio::sync::Barrier;

pub(crate) async fn fifty_concurrent_redemptions_redeem_once(store: Store) -> TestResult {
    const TASKS: usize = 50;
    let (brand, lan, reward) = seed(&store, 1).await?;
    let issued_at = datetime!(2026-06-01 00:00 UTC);
    let issued = voucher(
        1,
        lan.id,
        reward.id,
        issued_at,
        issued_at + Duration::days(30),
    );
    let mut tx = store.begin().await?;
    tx.vouchers()
        .insert_voucher(brand.id, &issued, None)
        .await?;
    tx.commit().await?;

    let start = Arc::new(Barrier::new(TASKS));
    let mut tasks = Vec::with_capacity(TASKS);
    for n in 0..TASKS {
        let store = store.clone();
        let start = Arc::clone(&start);
        let code = issued.code().clone();
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let mut tx = store.begin().await?;
            let now = issued_at + Duration::minutes(i64::try_from(n).unwrap_or(0) + 1);
            let till = key("pos:generic", &format!("T-{n}"));
            let outcome = tx
                .vouchers()
                .redeem_voucher(brand.id, &code, now, Some(till), None)
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(outcome)
        }));
    }
    let mut redeemed = Vec::new();
    let mut refused = 0;
    for task in tasks {
        match task.await?? {
            RedeemOutcome::Redeemed(v) => redeemed.push(v),
            RedeemOutcome::Refused(_) => refused += 1,
            RedeemOutcome::NotFound => return Err("voucher not found".into()),
        }
    }
    assert_eq!(redeemed.len(), 1, "exactly one redemption");
    assert_eq!(refused, TASKS - 1);

    let mut tx = store.begin().await?;
    let stored = tx
        .vouchers()
        .voucher_by_code(brand.id, issued.code())
        .await?;
    assert_eq!(
        stored.as_ref(),
        redeemed.first(),
        "the winner's redemption is stored"
    );
    Ok(())
}

pub(crate) async fn concurrent_appends_to_one_account_serialise(store: Store) -> TestResult {
    const TASKS: u64 = 20;
    let (brand, lan, _) = seed(&store, 1).await?;
    let start = Arc::new(Barrier::new(usize::try_from(TASKS)?));
    let mut tasks = Vec::new();
    for n in 0..TASKS {
        let store = store.clone();
        let start = Arc::clone(&start);
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let mut tx = store.begin().await?;
            // Every task reads the head after taking the lock, so none builds on a stale one.
            let head = tx.ledger().lock_account(brand.id, lan.id).await?;
            tokio::task::yield_now().await;
            let entry = earn(
                head.next_seq,
                10,
                &format!("A-{n}"),
                datetime!(2026-05-06 08:30 UTC),
            );
            let balance = head
                .balance
                .checked_add(Points::new(10))
                .unwrap_or_default();
            tx.ledger()
                .append(brand.id, lan.id, head, &[entry], balance)
                .await?;
            tx.commit().await
        }));
    }
    for task in tasks {
        task.await??;
    }

    let mut tx = store.begin().await?;
    let head = tx.ledger().lock_account(brand.id, lan.id).await?;
    assert_eq!(head.next_seq, TASKS);
    assert_eq!(head.balance, Points::new(10 * i64::try_from(TASKS)?));
    let entries = tx.ledger().entries(brand.id, lan.id).await?;
    let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (0..TASKS).collect::<Vec<_>>());
    Ok(())
}

/// Two transactions lock two accounts in opposite orders. PostgreSQL detects the deadlock
/// and aborts one of them with `deadlock_detected`, which must surface as a retryable
/// [`StoreError::Conflict`]; the other then proceeds. (SQLite transactions never overlap in
/// one store, so there is nothing to test there.)
pub(crate) async fn a_deadlock_is_a_conflict(store: Store) -> TestResult {
    if store.backend() == Backend::Sqlite {
        return Ok(());
    }
    let (brand, lan, _) = seed(&store, 1).await?;
    let minh = customer(brand.id, 2, "0907654321");
    let mut tx = store.begin().await?;
    tx.customers().insert_customer(&minh).await?;
    tx.ledger().lock_account(brand.id, lan.id).await?;
    tx.ledger().lock_account(brand.id, minh.id).await?;
    tx.commit().await?;

    let mut first = store.begin().await?;
    let mut second = store.begin().await?;
    first.ledger().lock_account(brand.id, lan.id).await?;
    second.ledger().lock_account(brand.id, minh.id).await?;
    let (a, b) = tokio::join!(
        first.ledger().lock_account(brand.id, minh.id),
        second.ledger().lock_account(brand.id, lan.id),
    );
    let conflicts = [&a, &b]
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Conflict(_))))
        .count();
    assert_eq!(conflicts, 1, "{a:?} / {b:?}");
    assert!(a.is_ok() || b.is_ok(), "{a:?} / {b:?}");
    Ok(())
}
