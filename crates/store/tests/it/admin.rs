//! API keys, integrations, locations, paged listings and the scoring job's tables.

use crate::support::{brand, customer, order, seed, vnd};
use crate::{Store, TestResult};
use regulars_domain::{ApiKeyId, CustomerId, IntegrationId, LocationId, Phone, SegmentId};
use regulars_ports::{
    ApiKeyRecord, CustomerScores, IntegrationKind, IntegrationRecord, Location, Role, ScoringRun,
    SegmentRecord, StoreError, UnitOfWork,
};
use std::collections::BTreeMap;
use time::macros::{datetime, offset};

fn key(brand: regulars_domain::BrandId, n: u8, prefix: &str) -> ApiKeyRecord {
    ApiKeyRecord {
        id: ApiKeyId::from_bytes([n; 16]),
        brand_id: brand,
        prefix: prefix.into(),
        secret_hash: "ab".repeat(32),
        role: Role::Pos,
        label: Some("till 1".into()),
        created_at: datetime!(2026-05-01 08:00 UTC),
        revoked_at: None,
        locations: Vec::new(),
    }
}

pub(crate) async fn keys_are_found_by_prefix_and_revoked_once(store: Store) -> TestResult {
    let (b, _, _) = seed(&store, 1).await?;
    let (other, _, _) = seed(&store, 2).await?;
    let mut tx = store.begin().await?;
    tx.access().insert_api_key(&key(b.id, 1, "p1")).await?;
    // A prefix is unique within its brand.
    let taken = tx.access().insert_api_key(&key(b.id, 3, "p1")).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    tx.rollback().await?;

    // Across brands prefixes are random, not constrained (a unique key that leaves out
    // brand_id cannot be kept on a database distributed by brand); one that two brands
    // share finds no key rather than either.
    let mut tx = store.begin().await?;
    tx.access().insert_api_key(&key(b.id, 1, "p1")).await?;
    tx.access().insert_api_key(&key(other.id, 2, "p1")).await?;
    assert_eq!(tx.access().api_key_by_prefix("p1").await?, None);
    tx.rollback().await?;

    let mut tx = store.begin().await?;
    tx.access().insert_api_key(&key(b.id, 1, "p1")).await?;
    tx.access().insert_api_key(&key(other.id, 2, "p2")).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(
        tx.access().api_key_by_prefix("p1").await?,
        Some(key(b.id, 1, "p1"))
    );
    assert_eq!(tx.access().api_key_by_prefix("nope").await?, None);
    assert_eq!(tx.access().api_keys(b.id).await?, vec![key(b.id, 1, "p1")]);
    let at = datetime!(2026-05-02 08:00 UTC);
    // Another brand's key cannot be revoked through this brand.
    assert!(
        !tx.access()
            .revoke_api_key(b.id, ApiKeyId::from_bytes([2; 16]), at)
            .await?
    );
    assert!(
        tx.access()
            .revoke_api_key(b.id, ApiKeyId::from_bytes([1; 16]), at)
            .await?
    );
    assert!(
        !tx.access()
            .revoke_api_key(b.id, ApiKeyId::from_bytes([1; 16]), at)
            .await?
    );
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let found = tx.access().api_key_by_prefix("p1").await?.ok_or("key")?;
    assert_eq!(found.revoked_at, Some(at));
    assert_eq!(
        tx.access()
            .api_key_by_prefix("p2")
            .await?
            .and_then(|k| k.revoked_at),
        None
    );
    Ok(())
}

pub(crate) async fn integrations_round_trip_and_revoke(store: Store) -> TestResult {
    let (b, _, _) = seed(&store, 1).await?;
    let (other, _, _) = seed(&store, 2).await?;
    let record = IntegrationRecord {
        id: IntegrationId::from_bytes([7; 16]),
        brand_id: b.id,
        kind: IntegrationKind::Kiotviet,
        label: None,
        sealed_secret: "00ff".into(),
        sealed_access: None,
        created_at: datetime!(2026-05-01 08:00 UTC),
        revoked_at: None,
    };
    let mut tx = store.begin().await?;
    tx.access().insert_integration(&record).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    assert_eq!(
        tx.access().integration(record.id).await?,
        Some(record.clone())
    );
    assert_eq!(tx.access().integrations(b.id).await?, vec![record.clone()]);
    assert_eq!(tx.access().integrations(other.id).await?, vec![]);
    let at = datetime!(2026-05-03 08:00 UTC);
    assert!(
        !tx.access()
            .revoke_integration(other.id, record.id, at)
            .await?
    );
    assert!(tx.access().revoke_integration(b.id, record.id, at).await?);
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let found = tx
        .access()
        .integration(record.id)
        .await?
        .ok_or("integration")?;
    assert_eq!(found.revoked_at, Some(at));
    drop(tx);
    // An id another brand also has (random UUIDs: never in practice) finds neither.
    let mut tx = store.begin().await?;
    let twin = IntegrationRecord {
        brand_id: other.id,
        ..record.clone()
    };
    tx.access().insert_integration(&twin).await?;
    assert_eq!(tx.access().integration(record.id).await?, None);
    tx.rollback().await?;
    Ok(())
}

/// A POS customer code linked to a phone, and orders waiting for it: kept once, taken
/// once, dropped by key, and never visible to another brand or integration.
pub(crate) async fn pos_customers_link_and_orders_wait(store: Store) -> TestResult {
    let (b, _, _) = seed(&store, 1).await?;
    let (other, _, _) = seed(&store, 2).await?;
    let mut integrations = Vec::new();
    for (n, brand) in [(7u8, b.id), (8, b.id), (9, other.id)] {
        let record = IntegrationRecord {
            id: IntegrationId::from_bytes([n; 16]),
            brand_id: brand,
            kind: IntegrationKind::Kiotviet,
            label: None,
            sealed_secret: "00ff".into(),
            sealed_access: None,
            created_at: datetime!(2026-05-01 08:00 UTC),
            revoked_at: None,
        };
        let mut tx = store.begin().await?;
        tx.access().insert_integration(&record).await?;
        tx.commit().await?;
        integrations.push(record.id);
    }
    let (kv, kv2, elsewhere) = (integrations[0], integrations[1], integrations[2]);
    let phone = Phone::parse("0901234567", Phone::VIETNAM)?;
    let new_phone = Phone::parse("0912345678", Phone::VIETNAM)?;
    let at = datetime!(2026-05-02 08:00 UTC);
    let first = order(b.id, 1, "HD1", None).order;
    let second = order(b.id, 2, "HD2", None).order;

    let mut tx = store.begin().await?;
    let access = tx.access();
    assert_eq!(access.pos_customer_phone(b.id, kv, "KH1").await?, None);
    access
        .keep_waiting_order(b.id, kv, "KH1", &first, at)
        .await?;
    access
        .keep_waiting_order(b.id, kv, "KH1", &first, at)
        .await?;
    access
        .keep_waiting_order(b.id, kv, "KH1", &second, at)
        .await?;
    assert!(access.drop_waiting_order(b.id, kv, &second.key).await?);
    assert!(!access.drop_waiting_order(b.id, kv, &second.key).await?);
    access
        .link_pos_customer(b.id, kv, "KH1", &phone, at)
        .await?;
    access
        .link_pos_customer(b.id, kv, "KH1", &new_phone, at)
        .await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let access = tx.access();
    assert_eq!(
        access.pos_customer_phone(b.id, kv, "KH1").await?,
        Some(new_phone)
    );
    assert_eq!(access.pos_customer_phone(b.id, kv2, "KH1").await?, None);
    assert_eq!(
        access
            .pos_customer_phone(other.id, elsewhere, "KH1")
            .await?,
        None
    );
    assert_eq!(access.take_waiting_orders(b.id, kv2, "KH1").await?, vec![]);
    assert_eq!(
        access
            .take_waiting_orders(other.id, elsewhere, "KH1")
            .await?,
        vec![]
    );
    assert_eq!(
        access.take_waiting_orders(b.id, kv, "KH1").await?,
        vec![first]
    );
    assert_eq!(access.take_waiting_orders(b.id, kv, "KH1").await?, vec![]);
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn locations_round_trip_with_unique_codes(store: Store) -> TestResult {
    let (b, _, _) = seed(&store, 1).await?;
    let q1 = Location {
        id: LocationId::from_bytes([1; 16]),
        brand_id: b.id,
        code: "q1".into(),
        name: "Quận 1".into(),
        utc_offset: Some(offset!(+7)),
        created_at: datetime!(2026-05-01 08:00 UTC),
    };
    let mut q3 = Location {
        id: LocationId::from_bytes([3; 16]),
        code: "q3".into(),
        name: "Quận 3".into(),
        utc_offset: None,
        ..q1.clone()
    };
    let mut tx = store.begin().await?;
    tx.locations().insert_location(&q3).await?;
    tx.locations().insert_location(&q1).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    assert_eq!(
        tx.locations().locations(b.id).await?,
        vec![q1.clone(), q3.clone()]
    );
    q3.name = "Quận Ba".into();
    tx.locations().update_location(&q3).await?;
    assert_eq!(
        tx.locations().location(b.id, q3.id).await?,
        Some(q3.clone())
    );
    q3.code = "q1".into();
    let taken = tx.locations().update_location(&q3).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    Ok(())
}

pub(crate) async fn customers_and_orders_page_by_id(store: Store) -> TestResult {
    let b = brand(1);
    let mut tx = store.begin().await?;
    tx.brands().insert_brand(&b).await?;
    let customers: Vec<_> = (1..=5u8)
        .map(|n| customer(b.id, n, &format!("090123450{n}")))
        .collect();
    for c in &customers {
        tx.customers().insert_customer(c).await?;
    }
    for (n, c) in (10u8..).zip(&customers) {
        tx.orders()
            .insert_order(&order(b.id, n, &format!("A-{n}"), Some(c)))
            .await?;
    }
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let first = tx.customers().customers(b.id, None, 2).await?;
    let rest = tx
        .customers()
        .customers(b.id, first.last().map(|c| c.id), 10)
        .await?;
    let mut walked: Vec<CustomerId> = first.iter().chain(&rest).map(|c| c.id).collect();
    assert_eq!(walked.len(), 5);
    walked.dedup();
    assert_eq!(walked.len(), 5);
    let page = tx.orders().orders(b.id, None, None, 3).await?;
    assert_eq!(page.len(), 3);
    let next = tx
        .orders()
        .orders(b.id, None, page.last().map(|o| o.id), 3)
        .await?;
    assert_eq!(next.len(), 2);
    let mine = tx
        .orders()
        .orders(b.id, Some(customers[2].id), None, 10)
        .await?;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].customer_id, Some(customers[2].id));
    assert_eq!(mine[0].order.lines.len(), 2);
    let one = tx.orders().order(b.id, mine[0].id).await?;
    assert_eq!(one.as_ref(), Some(&mine[0]));
    assert_eq!(tx.orders().order(brand(2).id, mine[0].id).await?, None);
    Ok(())
}

fn scores(customer: CustomerId, segments: &[&str]) -> CustomerScores {
    CustomerScores {
        customer_id: customer,
        scored_at: datetime!(2026-06-01 00:00 UTC),
        p_alive: Some(0.42),
        expected_visits_30d: Some(1.5),
        expected_spend_minor: Some(52_000),
        clv_minor: Some(1_200_000),
        typical_gap_days: Some(6.0),
        regularity: Some(0.7),
        next_visit_at: Some(datetime!(2026-06-04 00:00 UTC)),
        preferred_hour: Some(17),
        preferred_weekday: Some(4),
        favourite_item: Some("TS-OOLONG".into()),
        next_best_item: Some("TOP-PEARL".into()),
        rfm: Some([5, 4, 3]),
        segments: segments.iter().map(|s| (*s).to_owned()).collect(),
        previous_segments: vec![],
        features: Some(serde_json::json!({"recency_days": 3})),
    }
}

pub(crate) async fn histories_scores_runs_and_segments(store: Store) -> TestResult {
    let (b, c, _) = seed(&store, 1).await?;
    let mut tx = store.begin().await?;
    let mut o = order(b.id, 9, "A-9", Some(&c));
    o.refunded = vnd(29_000);
    tx.orders().insert_order(&o).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let histories = tx.intelligence().histories(b.id, None, 10).await?;
    assert_eq!(histories.len(), 1);
    let h = &histories[0];
    assert_eq!(h.customer.id, c.id);
    assert_eq!(h.visits.len(), 1);
    assert_eq!(h.visits[0].net_total, vnd(100_000));
    assert_eq!(
        h.visits[0].skus,
        vec!["TS-OOLONG".to_owned(), "CF-SUA".to_owned()]
    );
    assert_eq!(
        tx.intelligence()
            .histories(b.id, Some(c.id), 10)
            .await?
            .len(),
        0
    );

    tx.intelligence()
        .save_scores(b.id, &[scores(c.id, &["Champions"])])
        .await?;
    tx.intelligence()
        .save_scores(b.id, &[scores(c.id, &["At risk"])])
        .await?;
    let stored = tx.intelligence().scores_of(b.id, &[c.id]).await?;
    assert_eq!(stored, vec![scores(c.id, &["At risk"])]);
    assert_eq!(
        tx.intelligence().scores_of(brand(2).id, &[c.id]).await?,
        vec![]
    );

    let run = |n: u8, at| ScoringRun {
        id: uuid::Uuid::from_bytes([n; 16]),
        at,
        customers: 1,
        summary: serde_json::json!({"bgnbd": {"r": 0.24}}),
        segment_sizes: BTreeMap::from([("At risk".to_owned(), 1)]),
    };
    tx.intelligence()
        .save_run(b.id, &run(1, datetime!(2026-05-01 00:00 UTC)))
        .await?;
    tx.intelligence()
        .save_run(b.id, &run(2, datetime!(2026-06-01 00:00 UTC)))
        .await?;
    let runs = tx.intelligence().runs(b.id, 10).await?;
    assert_eq!(
        runs,
        vec![
            run(2, datetime!(2026-06-01 00:00 UTC)),
            run(1, datetime!(2026-05-01 00:00 UTC))
        ]
    );

    let segment = SegmentRecord {
        id: SegmentId::from_bytes([5; 16]),
        brand_id: b.id,
        name: "Lapsing".into(),
        rule: "recency_days > 30".into(),
        created_at: datetime!(2026-05-01 00:00 UTC),
        updated_at: datetime!(2026-05-01 00:00 UTC),
    };
    tx.intelligence().save_segment(&segment).await?;
    let other = SegmentRecord {
        id: SegmentId::from_bytes([6; 16]),
        ..segment.clone()
    };
    let taken = tx.intelligence().save_segment(&other).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    tx.rollback().await?;
    let mut tx = store.begin().await?;
    tx.intelligence().save_segment(&segment).await?;
    assert_eq!(
        tx.intelligence().segments(b.id).await?,
        vec![segment.clone()]
    );
    assert!(
        !tx.intelligence()
            .delete_segment(brand(2).id, segment.id)
            .await?
    );
    assert!(tx.intelligence().delete_segment(b.id, segment.id).await?);
    assert_eq!(tx.intelligence().segments(b.id).await?, vec![]);
    Ok(())
}
