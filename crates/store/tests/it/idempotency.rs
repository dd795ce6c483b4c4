//! Remembered results of external events.

use crate::support::{key, seed};
use crate::{Store, TestResult};
use regulars_ports::{IdempotentRecord, StoreError, UnitOfWork};
use serde_json::json;

pub(crate) async fn remember_then_seen_and_duplicate_is_a_conflict(store: Store) -> TestResult {
    let (brand, _, _) = seed(&store, 1).await?;
    let event = key("pos:generic", "A-1001");
    let record = IdempotentRecord {
        kind: "order".into(),
        result: json!({"points_earned": 12, "balance": 340, "note": "Trà sữa ✓", "ratio": 0.25}),
        fingerprint: Some("9f86d081884c7d65".into()),
    };

    let mut tx = store.begin().await?;
    assert_eq!(tx.idempotency().seen(brand.id, &event).await?, None);
    tx.idempotency().remember(brand.id, &event, &record).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(
        tx.idempotency().seen(brand.id, &event).await?,
        Some(record.clone())
    );
    assert_eq!(
        tx.idempotency()
            .seen(brand.id, &key("pos:generic", "A-1002"))
            .await?,
        None
    );
    assert_eq!(
        tx.idempotency()
            .seen(brand.id, &key("csv", "A-1001"))
            .await?,
        None
    );
    let again = IdempotentRecord {
        kind: "order".into(),
        result: json!({"points_earned": 99}),
        fingerprint: None,
    };
    let err = tx.idempotency().remember(brand.id, &event, &again).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    drop(tx);

    let mut tx = store.begin().await?;
    assert_eq!(tx.idempotency().seen(brand.id, &event).await?, Some(record));
    Ok(())
}

pub(crate) async fn prune_forgets_old_records_of_the_given_kinds_only(store: Store) -> TestResult {
    let (brand, _, _) = seed(&store, 1).await?;
    let record = |kind: &str| IdempotentRecord {
        kind: kind.into(),
        result: json!({}),
        fingerprint: None,
    };
    let mut tx = store.begin().await?;
    tx.idempotency()
        .remember(brand.id, &key("webhook:x", "e-1"), &record("webhook"))
        .await?;
    tx.idempotency()
        .remember(brand.id, &key("pos:generic", "A-1"), &record("order"))
        .await?;
    tx.commit().await?;

    let past = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    let future = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let mut tx = store.begin().await?;
    // Nothing is old enough yet.
    assert_eq!(tx.idempotency().prune(&["webhook"], past).await?, 0);
    assert_eq!(tx.idempotency().prune(&[], future).await?, 0);
    assert_eq!(tx.idempotency().prune(&["webhook"], future).await?, 1);
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(
        tx.idempotency()
            .seen(brand.id, &key("webhook:x", "e-1"))
            .await?,
        None
    );
    assert!(
        tx.idempotency()
            .seen(brand.id, &key("pos:generic", "A-1"))
            .await?
            .is_some(),
        "orders are remembered for good"
    );
    Ok(())
}
