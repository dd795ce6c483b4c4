//! Period-end tier reviews: the customers holding a tier, one record per customer and
//! period end (a second is a conflict), the latest move down in the histories, and
//! nothing of it seen from another brand.

use crate::support::{brand, customer, seed, vnd};
use crate::{Store, TestResult};
use regulars_ports::{CountedTimes, CustomerStats, StoreError, TierReview, TierState, UnitOfWork};
use time::macros::datetime;

pub(crate) async fn reviews_are_recorded_once_per_period_and_per_brand(store: Store) -> TestResult {
    let (a, lan, _) = seed(&store, 1).await?;
    let minh = customer(a.id, 2, "0907654321");
    let since = datetime!(2026-03-05 02:00 UTC);
    let stats = |id, tier: Option<&str>| CustomerStats {
        customer_id: id,
        visits: 1,
        spend: vnd(55_000),
        first_visit_at: Some(since),
        counted: CountedTimes {
            first: Some(since),
            last: Some(since),
            second_last: None,
        },
        last_visit_at: Some(since),
        tier: tier.map(|code| TierState {
            code: code.into(),
            since,
        }),
    };
    let mut tx = store.begin().await?;
    tx.customers().insert_customer(&minh).await?;
    tx.customers()
        .save_stats(a.id, &stats(lan.id, Some("silver")))
        .await?;
    tx.customers()
        .save_stats(a.id, &stats(minh.id, None))
        .await?;
    tx.commit().await?;

    let end = datetime!(2026-03-31 17:00 UTC);
    let review = TierReview {
        customer_id: lan.id,
        period_end: end,
        from: "silver".into(),
        to: Some("member".into()),
        reviewed_at: datetime!(2026-04-01 01:00:00.000001 UTC),
    };
    let mut tx = store.begin().await?;
    assert_eq!(
        tx.customers().tiered_customers(a.id, None, 10).await?,
        vec![lan.id]
    );
    assert_eq!(
        tx.customers()
            .tiered_customers(a.id, Some(lan.id), 10)
            .await?,
        vec![]
    );
    assert_eq!(tx.customers().tier_review(a.id, lan.id, end).await?, None);
    tx.customers().record_tier_review(a.id, &review).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(
        tx.customers().tier_review(a.id, lan.id, end).await?,
        Some(review.clone())
    );
    let histories = tx.intelligence().histories(a.id, None, 10).await?;
    let of = |id| histories.iter().find(|h| h.customer.id == id);
    assert_eq!(
        of(lan.id).and_then(|h| h.tier_down.clone()),
        Some(review.clone())
    );
    assert_eq!(of(minh.id).and_then(|h| h.tier_down.clone()), None);
    drop(tx);

    // A second record for the same customer and period end is refused.
    let mut tx = store.begin().await?;
    let err = tx.customers().record_tier_review(a.id, &review).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    drop(tx);

    // Another brand sees none of it, and its own record of the same ids is its own.
    let b = brand(2);
    let mut tx = store.begin().await?;
    tx.brands().insert_brand(&b).await?;
    assert_eq!(
        tx.customers().tiered_customers(b.id, None, 10).await?,
        vec![]
    );
    assert_eq!(tx.customers().tier_review(b.id, lan.id, end).await?, None);
    tx.commit().await?;
    Ok(())
}
