//! Orders with their lines, keyed by their POS identity.

use crate::support::{key, order, seed, vnd};
use crate::{Store, TestResult};
use regulars_domain::{Currency, Money, OrderId};
use regulars_ports::{StoreError, UnitOfWork};

pub(crate) async fn order_with_lines_round_trip(store: Store) -> TestResult {
    let (brand, lan, _) = seed(&store, 1).await?;
    let with_customer = order(brand.id, 1, "A-1001", Some(&lan));
    let anonymous = order(brand.id, 2, "A-1002", None);

    let mut tx = store.begin().await?;
    tx.orders().insert_order(&with_customer).await?;
    tx.orders().insert_order(&anonymous).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let orders = tx.orders();
    assert_eq!(
        orders
            .order_by_key(brand.id, &with_customer.order.key)
            .await?,
        Some(with_customer.clone())
    );
    assert_eq!(
        orders.order_by_key(brand.id, &anonymous.order.key).await?,
        Some(anonymous)
    );
    assert_eq!(
        orders
            .order_by_key(brand.id, &key("pos:generic", "A-404"))
            .await?,
        None
    );
    assert_eq!(
        orders
            .order_by_key(brand.id, &key("pos:kiotviet", "A-1001"))
            .await?,
        None,
        "the source is part of the key"
    );
    Ok(())
}

pub(crate) async fn duplicate_order_key_is_a_conflict(store: Store) -> TestResult {
    let (brand, lan, _) = seed(&store, 1).await?;
    let first = order(brand.id, 1, "A-1001", Some(&lan));
    let mut tx = store.begin().await?;
    tx.orders().insert_order(&first).await?;
    tx.commit().await?;

    // Same POS identity, new Regulars id: the unique key refuses it.
    let mut redelivered = first.clone();
    redelivered.id = OrderId::from_bytes([2; 16]);
    let mut tx = store.begin().await?;
    let err = tx.orders().insert_order(&redelivered).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    drop(tx);

    // Same id, another key: the primary key refuses it.
    let mut same_id = first.clone();
    same_id.order.key = key("pos:generic", "A-2002");
    let mut tx = store.begin().await?;
    let err = tx.orders().insert_order(&same_id).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    drop(tx);

    let mut tx = store.begin().await?;
    assert_eq!(
        tx.orders().order_by_key(brand.id, &first.order.key).await?,
        Some(first)
    );
    Ok(())
}

pub(crate) async fn set_refunded_records_the_new_total(store: Store) -> TestResult {
    let (brand, lan, _) = seed(&store, 1).await?;
    let placed = order(brand.id, 1, "A-1001", Some(&lan));
    let mut tx = store.begin().await?;
    tx.orders().insert_order(&placed).await?;
    tx.orders()
        .set_refunded(brand.id, placed.id, vnd(0), vnd(29_000))
        .await?;
    tx.commit().await?;

    // A writer that read the total before that refund moved it gets a conflict, not an
    // overwrite.
    let mut tx = store.begin().await?;
    let stale = tx
        .orders()
        .set_refunded(brand.id, placed.id, vnd(0), vnd(10_000))
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    tx.rollback().await?;

    let mut tx = store.begin().await?;
    let stored = tx
        .orders()
        .order_by_key(brand.id, &placed.order.key)
        .await?
        .expect("stored");
    assert_eq!(stored.refunded, vnd(29_000));
    assert_eq!(stored.order, placed.order);

    let err = tx
        .orders()
        .set_refunded(brand.id, OrderId::from_bytes([9; 16]), vnd(0), vnd(1))
        .await;
    assert!(matches!(err, Err(StoreError::NotFound(_))), "{err:?}");
    let err = tx
        .orders()
        .set_refunded(
            brand.id,
            placed.id,
            vnd(29_000),
            Money::from_minor_units(100, Currency::USD),
        )
        .await;
    assert!(matches!(err, Err(StoreError::Invalid(_))), "{err:?}");
    Ok(())
}
