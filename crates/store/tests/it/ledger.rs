//! The points ledger: locking an account, appending, reading back.

use crate::support::{customer, key, seed};
use crate::{Store, TestResult};
use regulars_domain::{CustomerId, Points};
use regulars_loyalty::ledger::{EntryKind, LedgerEntry, fold};
use regulars_ports::{AccountHead, StoreError, UnitOfWork};
use time::OffsetDateTime;
use time::macros::datetime;

pub(crate) fn earn(seq: u64, points: i64, external_id: &str, at: OffsetDateTime) -> LedgerEntry {
    LedgerEntry {
        seq,
        at,
        amount: Points::new(points),
        kind: EntryKind::Earn {
            order: key("pos:generic", external_id),
            expires_at: Some(datetime!(2027-05-06 08:30:15.250001 UTC)),
            placed_at: None,
        },
    }
}

fn redeem(seq: u64, points: i64, reference: &str) -> LedgerEntry {
    LedgerEntry {
        seq,
        at: datetime!(2026-05-08 12:00:00.000001 UTC),
        amount: Points::new(-points),
        kind: EntryKind::Redeem {
            reference: reference.into(),
        },
    }
}

pub(crate) async fn lock_append_entries_and_balances(store: Store) -> TestResult {
    let (brand, lan, _) = seed(&store, 1).await?;
    let mut tx = store.begin().await?;
    tx.customers()
        .insert_customer(&customer(brand.id, 2, "0907654321"))
        .await?;
    tx.commit().await?;
    let minh = CustomerId::from_bytes([2; 16]);

    let mut tx = store.begin().await?;
    let head = tx.ledger().lock_account(brand.id, lan.id).await?;
    assert_eq!(
        head,
        AccountHead {
            balance: Points::ZERO,
            next_seq: 0
        }
    );
    let first = vec![
        earn(0, 120, "A-1001", datetime!(2026-05-06 08:30:15.250001 UTC)),
        earn(1, 30, "A-1002", datetime!(2026-05-07 09:00 UTC)),
    ];
    let head = tx
        .ledger()
        .append(brand.id, lan.id, head, &first, Points::new(150))
        .await?;
    assert_eq!(
        head,
        AccountHead {
            balance: Points::new(150),
            next_seq: 2
        }
    );
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let head = tx.ledger().lock_account(brand.id, lan.id).await?;
    assert_eq!(head.balance, Points::new(150));
    assert_eq!(head.next_seq, 2);
    let second = vec![redeem(2, 100, "voucher:ABC")];
    let head = tx
        .ledger()
        .append(brand.id, lan.id, head, &second, Points::new(50))
        .await?;
    let minh_head = tx.ledger().lock_account(brand.id, minh).await?;
    tx.ledger()
        .append(
            brand.id,
            minh,
            minh_head,
            &[earn(0, 7, "A-2001", datetime!(2026-05-09 00:00 UTC))],
            Points::new(7),
        )
        .await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let all: Vec<LedgerEntry> = first.into_iter().chain(second).collect();
    assert_eq!(tx.ledger().entries(brand.id, lan.id).await?, all);
    assert_eq!(tx.ledger().lock_account(brand.id, lan.id).await?, head);

    let mut expected = vec![(lan.id, Points::new(50)), (minh, Points::new(7))];
    expected.sort_by_key(|(id, _)| *id);
    assert_eq!(tx.ledger().balances(brand.id, None, 10).await?, expected);
    assert_eq!(
        tx.ledger().balances(brand.id, None, 1).await?,
        expected[..1].to_vec()
    );
    assert_eq!(
        tx.ledger()
            .balances(brand.id, Some(expected[0].0), 10)
            .await?,
        expected[1..].to_vec(),
        "paging continues after the given customer"
    );
    assert_eq!(
        tx.ledger()
            .balances(brand.id, Some(expected[1].0), 10)
            .await?,
        vec![]
    );
    Ok(())
}

pub(crate) async fn the_first_entry_is_numbered_zero_and_reads_back_as_written(
    store: Store,
) -> TestResult {
    let (brand, lan, _) = seed(&store, 1).await?;
    let mut tx = store.begin().await?;
    let empty = tx.ledger().lock_account(brand.id, lan.id).await?;
    assert_eq!(
        empty.next_seq, 0,
        "an empty account's next entry is numbered 0"
    );
    let first = earn(0, 40, "A-1", datetime!(2026-05-06 08:30 UTC));
    let head = tx
        .ledger()
        .append(
            brand.id,
            lan.id,
            empty,
            std::slice::from_ref(&first),
            Points::new(40),
        )
        .await?;
    assert_eq!(head.next_seq, 1);
    // An expiry names the lot by the seq of the entry that opened it.
    let expiry = LedgerEntry {
        seq: 1,
        at: datetime!(2027-05-07 00:00 UTC),
        amount: Points::new(-40),
        kind: EntryKind::Expire { lot: 0 },
    };
    let head = tx
        .ledger()
        .append(
            brand.id,
            lan.id,
            head,
            std::slice::from_ref(&expiry),
            Points::ZERO,
        )
        .await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let read = tx.ledger().entries(brand.id, lan.id).await?;
    assert_eq!(read, vec![first, expiry], "read back exactly as written");
    assert_eq!(tx.ledger().lock_account(brand.id, lan.id).await?, head);
    // The ledger accepts the stored entries as they are, and agrees with the head.
    let state = fold(&read)?;
    assert_eq!(
        (state.next_seq(), state.balance()),
        (head.next_seq, head.balance)
    );
    Ok(())
}

pub(crate) async fn append_on_a_stale_head_is_a_conflict(store: Store) -> TestResult {
    let (brand, lan, _) = seed(&store, 1).await?;
    let mut tx = store.begin().await?;
    let stale = tx.ledger().lock_account(brand.id, lan.id).await?;
    tx.ledger()
        .append(
            brand.id,
            lan.id,
            stale,
            &[earn(0, 10, "A-1", datetime!(2026-05-06 08:00 UTC))],
            Points::new(10),
        )
        .await?;
    // A writer still holding the old head builds on it again.
    let err = tx
        .ledger()
        .append(
            brand.id,
            lan.id,
            stale,
            &[earn(0, 20, "A-2", datetime!(2026-05-06 09:00 UTC))],
            Points::new(20),
        )
        .await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(
        tx.ledger().entries(brand.id, lan.id).await?,
        vec![earn(0, 10, "A-1", datetime!(2026-05-06 08:00 UTC))]
    );
    assert_eq!(
        tx.ledger().lock_account(brand.id, lan.id).await?.balance,
        Points::new(10)
    );
    Ok(())
}

pub(crate) async fn append_rejects_entries_that_do_not_fit(store: Store) -> TestResult {
    let (brand, lan, _) = seed(&store, 1).await?;
    let mut tx = store.begin().await?;
    let head = tx.ledger().lock_account(brand.id, lan.id).await?;
    let at = datetime!(2026-05-06 08:00 UTC);
    // Numbering from 1 skips the empty account's next seq, 0.
    let gap = tx
        .ledger()
        .append(
            brand.id,
            lan.id,
            head,
            &[earn(1, 10, "A-1", at)],
            Points::new(10),
        )
        .await;
    assert!(matches!(gap, Err(StoreError::Invalid(_))), "{gap:?}");
    let repeated = tx
        .ledger()
        .append(
            brand.id,
            lan.id,
            head,
            &[earn(0, 10, "A-1", at), earn(0, 10, "A-2", at)],
            Points::new(20),
        )
        .await;
    assert!(
        matches!(repeated, Err(StoreError::Invalid(_))),
        "{repeated:?}"
    );
    let wrong_sum = tx
        .ledger()
        .append(
            brand.id,
            lan.id,
            head,
            &[earn(0, 10, "A-1", at)],
            Points::new(11),
        )
        .await;
    assert!(
        matches!(wrong_sum, Err(StoreError::Invalid(_))),
        "{wrong_sum:?}"
    );
    assert_eq!(tx.ledger().entries(brand.id, lan.id).await?, vec![]);
    Ok(())
}

pub(crate) async fn lock_account_of_unknown_customer_is_not_found(store: Store) -> TestResult {
    let (brand, _, _) = seed(&store, 1).await?;
    let mut tx = store.begin().await?;
    let err = tx
        .ledger()
        .lock_account(brand.id, CustomerId::from_bytes([9; 16]))
        .await;
    assert!(matches!(err, Err(StoreError::NotFound(_))), "{err:?}");
    Ok(())
}
