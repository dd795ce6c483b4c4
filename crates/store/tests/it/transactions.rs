//! The unit of work: everything in a transaction is applied by commit or not at all.

use crate::ledger::earn;
use crate::support::{brand, customer, key, order, voucher};
use crate::{Store, TestResult};
use regulars_domain::Points;
use regulars_ports::{IdempotentRecord, Transaction, UnitOfWork};
use time::macros::datetime;

/// Writes one row through every repository.
async fn write_everything(tx: &mut dyn Transaction) -> TestResult {
    let brand = brand(1);
    let lan = customer(brand.id, 1, "0901234567");
    let reward = crate::support::reward(1, "Free topping", 300);
    tx.brands().insert_brand(&brand).await?;
    tx.brands().save_reward(brand.id, &reward).await?;
    tx.customers().insert_customer(&lan).await?;
    tx.orders()
        .insert_order(&order(brand.id, 1, "A-1001", Some(&lan)))
        .await?;
    let head = tx.ledger().lock_account(brand.id, lan.id).await?;
    tx.ledger()
        .append(
            brand.id,
            lan.id,
            head,
            &[earn(0, 12, "A-1001", datetime!(2026-05-06 08:30 UTC))],
            Points::new(12),
        )
        .await?;
    let v = voucher(
        1,
        lan.id,
        reward.id,
        datetime!(2026-06-01 00:00 UTC),
        datetime!(2026-07-01 00:00 UTC),
    );
    tx.vouchers().insert_voucher(brand.id, &v, None).await?;
    tx.idempotency()
        .remember(
            brand.id,
            &key("pos:generic", "A-1001"),
            &IdempotentRecord {
                kind: "order".into(),
                result: serde_json::json!({"points": 12}),
                fingerprint: None,
            },
        )
        .await?;
    Ok(())
}

/// Asserts nothing of [`write_everything`] is visible.
async fn assert_nothing_visible(store: &Store) -> TestResult {
    let brand = brand(1);
    let lan = customer(brand.id, 1, "0901234567");
    let mut tx = store.begin().await?;
    assert_eq!(tx.brands().brand(brand.id).await?, None);
    assert_eq!(tx.brands().brand_ids().await?, vec![]);
    assert_eq!(tx.brands().rewards(brand.id).await?, vec![]);
    assert_eq!(tx.customers().customer(brand.id, lan.id).await?, None);
    assert_eq!(
        tx.orders()
            .order_by_key(brand.id, &key("pos:generic", "A-1001"))
            .await?,
        None
    );
    assert_eq!(tx.ledger().entries(brand.id, lan.id).await?, vec![]);
    assert_eq!(tx.ledger().balances(brand.id, None, 10).await?, vec![]);
    assert_eq!(tx.vouchers().vouchers_of(brand.id, lan.id).await?, vec![]);
    assert_eq!(
        tx.idempotency()
            .seen(brand.id, &key("pos:generic", "A-1001"))
            .await?,
        None
    );
    Ok(())
}

pub(crate) async fn dropping_a_transaction_discards_everything(store: Store) -> TestResult {
    let mut tx = store.begin().await?;
    write_everything(tx.as_mut()).await?;
    drop(tx);
    assert_nothing_visible(&store).await
}

pub(crate) async fn rollback_discards_everything(store: Store) -> TestResult {
    let mut tx = store.begin().await?;
    write_everything(tx.as_mut()).await?;
    tx.rollback().await?;
    assert_nothing_visible(&store).await
}

pub(crate) async fn commit_makes_writes_visible_to_later_transactions(store: Store) -> TestResult {
    let mut tx = store.begin().await?;
    write_everything(tx.as_mut()).await?;
    tx.commit().await?;
    let brand = brand(1);
    let lan = customer(brand.id, 1, "0901234567");
    let mut tx = store.begin().await?;
    assert!(tx.brands().brand(brand.id).await?.is_some());
    assert_eq!(
        tx.customers().customer(brand.id, lan.id).await?,
        Some(lan.clone())
    );
    assert_eq!(tx.ledger().entries(brand.id, lan.id).await?.len(), 1);
    assert_eq!(tx.vouchers().vouchers_of(brand.id, lan.id).await?.len(), 1);
    Ok(())
}

/// An import's transaction plans its statements for their values on PostgreSQL: the
/// setting goes once, before its first read, and ends with the transaction. SQLite plans
/// every statement anyway and is sent nothing.
pub(crate) async fn an_import_plans_its_statements_for_their_values(
    mut store: Store,
) -> TestResult {
    const SETTING: &str = "SET LOCAL plan_cache_mode = force_custom_plan";
    let (b, lan, _) = crate::support::seed(&store, 1).await?;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = seen.clone();
    store.observe_statements(move |sql| {
        if let Ok(mut seen) = sink.lock() {
            seen.push(sql.to_owned());
        }
    });
    for _ in 0..2 {
        let mut tx = store.begin().await?;
        tx.bulk()
            .seen_many(b.id, &[key("pos:generic", "A-1")])
            .await?;
        tx.bulk().stats_of(b.id, &[lan.id]).await?;
        tx.commit().await?;
    }
    let seen = seen.lock().map_err(|_| "statement log poisoned")?.clone();
    let settings: Vec<usize> = seen
        .iter()
        .enumerate()
        .filter(|(_, sql)| sql.as_str() == SETTING)
        .map(|(i, _)| i)
        .collect();
    match store.backend() {
        regulars_store::Backend::Postgres => {
            // Once per transaction, each time before the transaction's first read.
            assert_eq!(settings.len(), 2, "{seen:#?}");
            assert_eq!(settings.first(), Some(&0), "{seen:#?}");
        }
        _ => assert_eq!(settings, Vec::<usize>::new(), "{seen:#?}"),
    }
    Ok(())
}
