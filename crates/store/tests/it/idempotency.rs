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
    };
    let err = tx.idempotency().remember(brand.id, &event, &again).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    drop(tx);

    let mut tx = store.begin().await?;
    assert_eq!(tx.idempotency().seen(brand.id, &event).await?, Some(record));
    Ok(())
}
