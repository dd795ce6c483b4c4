//! Tenant isolation: brand B names brand A's ids, codes, phones and keys and gets nothing.

use crate::ledger::earn;
use crate::support::{brand, customer, key, order, seed, voucher};
use crate::{Store, TestResult};
use regulars_domain::Points;
use regulars_ports::{
    CountedTimes, CustomerStats, IdempotentRecord, RedeemOutcome, StoreError, UnitOfWork,
};
use time::macros::datetime;

pub(crate) async fn another_brand_never_sees_or_touches_these_rows(store: Store) -> TestResult {
    // Brand A with a customer, an order, a ledger, a voucher, a programme, a reward, an
    // idempotency record.
    let (a, lan, reward) = seed(&store, 1).await?;
    let placed = order(a.id, 1, "A-1001", Some(&lan));
    let event = key("pos:generic", "A-1001");
    let issued = voucher(
        1,
        lan.id,
        reward.id,
        datetime!(2026-06-01 00:00 UTC),
        datetime!(2026-07-01 00:00 UTC),
    );
    let stats = CustomerStats {
        customer_id: lan.id,
        visits: 1,
        spend: crate::support::vnd(129_000),
        first_visit_at: Some(placed.order.placed_at),
        counted: CountedTimes {
            first: Some(placed.order.placed_at),
            last: Some(placed.order.placed_at),
            second_last: None,
        },
        last_visit_at: Some(placed.order.placed_at),
        tier: None,
    };
    let record = IdempotentRecord {
        kind: "order".into(),
        result: serde_json::json!({"brand": "A"}),
        fingerprint: None,
    };
    let mut tx = store.begin().await?;
    tx.orders().insert_order(&placed).await?;
    tx.customers().save_stats(a.id, &stats).await?;
    let head = tx.ledger().lock_account(a.id, lan.id).await?;
    tx.ledger()
        .append(
            a.id,
            lan.id,
            head,
            &[earn(0, 12, "A-1001", datetime!(2026-05-06 08:30 UTC))],
            Points::new(12),
        )
        .await?;
    tx.vouchers()
        .insert_voucher(a.id, &issued, Some(placed.id))
        .await?;
    tx.idempotency().remember(a.id, &event, &record).await?;
    tx.brands()
        .save_program(
            a.id,
            &regulars_ports::LoyaltyProgram {
                earning_rules: regulars_loyalty::rules::EarningRules::empty(
                    regulars_domain::Currency::VND,
                ),
                tiers: None,
            },
        )
        .await?;
    // Brand B exists and is empty.
    let b = brand(2);
    tx.brands().insert_brand(&b).await?;
    tx.commit().await?;

    // Reads from B.
    let mut tx = store.begin().await?;
    assert_eq!(tx.brands().program(b.id).await?, None);
    assert_eq!(tx.brands().reward(b.id, reward.id).await?, None);
    assert_eq!(tx.brands().rewards(b.id).await?, vec![]);
    assert_eq!(tx.customers().customer(b.id, lan.id).await?, None);
    assert_eq!(
        tx.customers().customer_by_phone(b.id, &lan.phone).await?,
        None
    );
    assert_eq!(tx.customers().stats(b.id, lan.id).await?, None);
    assert_eq!(
        tx.orders().order_by_key(b.id, &placed.order.key).await?,
        None
    );
    assert_eq!(tx.ledger().entries(b.id, lan.id).await?, vec![]);
    assert_eq!(tx.ledger().balances(b.id, None, 100).await?, vec![]);
    assert_eq!(
        tx.vouchers().voucher_by_code(b.id, issued.code()).await?,
        None
    );
    assert_eq!(tx.vouchers().vouchers_of(b.id, lan.id).await?, vec![]);
    assert_eq!(tx.idempotency().seen(b.id, &event).await?, None);

    // Writes from B that name A's rows find nothing to change.
    let outcome = tx
        .vouchers()
        .redeem_voucher(
            b.id,
            issued.code(),
            datetime!(2026-06-02 00:00 UTC),
            None,
            None,
        )
        .await?;
    assert_eq!(outcome, RedeemOutcome::NotFound);
    assert_eq!(
        tx.vouchers()
            .void_issued_by(b.id, placed.id, datetime!(2026-06-02 00:00 UTC), "refund")
            .await?,
        0
    );
    let err = tx
        .orders()
        .set_refunded(
            b.id,
            placed.id,
            crate::support::vnd(0),
            crate::support::vnd(1),
        )
        .await;
    assert!(matches!(err, Err(StoreError::NotFound(_))), "{err:?}");
    let mut as_b = lan.clone();
    as_b.brand_id = b.id;
    as_b.name = Some("hijacked".into());
    let err = tx.customers().update_customer(&as_b).await;
    assert!(matches!(err, Err(StoreError::NotFound(_))), "{err:?}");
    let err = tx
        .ledger()
        .append(
            b.id,
            lan.id,
            head,
            &[earn(0, 99, "X", datetime!(2026-05-06 08:30 UTC))],
            Points::new(99),
        )
        .await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    tx.commit().await?;

    // Writes that would need A's customer inside B fail (each in its own transaction: on
    // PostgreSQL a failed statement ends the transaction).
    let mut tx = store.begin().await?;
    let err = tx.ledger().lock_account(b.id, lan.id).await;
    assert!(matches!(err, Err(StoreError::NotFound(_))), "{err:?}");
    drop(tx);
    let mut tx = store.begin().await?;
    let err = tx.customers().save_stats(b.id, &stats).await;
    assert!(matches!(err, Err(StoreError::NotFound(_))), "{err:?}");
    drop(tx);

    // The same phone, order key, voucher code and event key are free in B.
    let mut tx = store.begin().await?;
    let b_lan = customer(b.id, 1, "0901234567");
    tx.customers().insert_customer(&b_lan).await?;
    tx.orders()
        .insert_order(&order(b.id, 1, "A-1001", Some(&b_lan)))
        .await?;
    tx.brands().save_reward(b.id, &reward).await?;
    tx.vouchers().insert_voucher(b.id, &issued, None).await?;
    tx.idempotency()
        .remember(
            b.id,
            &event,
            &IdempotentRecord {
                kind: "order".into(),
                result: serde_json::json!({"brand": "B"}),
                fingerprint: None,
            },
        )
        .await?;
    tx.commit().await?;

    // A's rows are as they were.
    let mut tx = store.begin().await?;
    assert_eq!(
        tx.customers().customer(a.id, lan.id).await?,
        Some(lan.clone())
    );
    assert_eq!(
        tx.orders().order_by_key(a.id, &placed.order.key).await?,
        Some(placed.clone())
    );
    assert_eq!(
        tx.vouchers().voucher_by_code(a.id, issued.code()).await?,
        Some(issued)
    );
    assert_eq!(tx.idempotency().seen(a.id, &event).await?, Some(record));
    assert_eq!(
        tx.ledger().balances(a.id, None, 10).await?,
        vec![(lan.id, Points::new(12))]
    );
    assert_eq!(tx.customers().stats(a.id, lan.id).await?, Some(stats));
    let mut ids = tx.brands().brand_ids().await?;
    ids.sort();
    assert_eq!(ids, vec![a.id, b.id]);
    Ok(())
}
