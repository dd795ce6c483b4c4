//! Customers, lookup by phone, running facts.

use crate::support::{brand, customer, phone, seed, vnd};
use crate::{Store, TestResult};
use regulars_domain::{ChannelConsent, ConsentState, CustomerId};
use regulars_ports::{CountedTimes, CustomerStats, StoreError, TierState, UnitOfWork};
use time::macros::{date, datetime};

pub(crate) async fn customer_round_trip_and_lookup_by_phone(store: Store) -> TestResult {
    let brand = brand(1);
    let lan = customer(brand.id, 1, "0901234567");
    let mut minh = customer(brand.id, 2, "02838221234");
    minh.name = None;
    minh.birthday = None;
    minh.zalo_user_id = None;
    minh.email = Some("minh@example.vn".into());
    minh.consent = ChannelConsent::default();

    let mut tx = store.begin().await?;
    tx.brands().insert_brand(&brand).await?;
    tx.customers().insert_customer(&lan).await?;
    tx.customers().insert_customer(&minh).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let customers = tx.customers();
    assert_eq!(
        customers.customer(brand.id, lan.id).await?,
        Some(lan.clone())
    );
    assert_eq!(
        customers.customer(brand.id, minh.id).await?,
        Some(minh.clone())
    );
    assert_eq!(
        customers
            .customer_by_phone(brand.id, &phone("090 123 4567"))
            .await?,
        Some(lan.clone())
    );
    assert_eq!(
        customers.customer_by_phone(brand.id, &minh.phone).await?,
        Some(minh)
    );
    assert_eq!(
        customers
            .customer_by_phone(brand.id, &phone("0909999999"))
            .await?,
        None
    );
    assert_eq!(
        customers
            .customer(brand.id, CustomerId::from_bytes([9; 16]))
            .await?,
        None
    );
    Ok(())
}

/// The delivery's re-check: the consent of the brand's customers asked for, in one read;
/// unknown ids and other brands' customers are left out.
pub(crate) async fn consents_of_many_customers_in_one_read(store: Store) -> TestResult {
    let (brand, lan, _) = seed(&store, 1).await?;
    let (other, theirs, _) = seed(&store, 2).await?;
    let mut minh = customer(brand.id, 3, "0912345678");
    minh.consent = ChannelConsent::marketing(false, true, false);
    minh.consent.sms = ConsentState::Withdrawn;
    let mut tx = store.begin().await?;
    tx.customers().insert_customer(&minh).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let asked = [lan.id, minh.id, theirs.id, CustomerId::from_bytes([9; 16])];
    let mut found = tx.customers().consents(brand.id, &asked).await?;
    found.sort_by_key(|(id, _)| *id);
    let mut expected = vec![(lan.id, lan.consent), (minh.id, minh.consent)];
    expected.sort_by_key(|(id, _)| *id);
    assert_eq!(found, expected);
    assert_eq!(
        tx.customers().consents(other.id, &asked).await?,
        vec![(theirs.id, theirs.consent)]
    );
    assert!(tx.customers().consents(brand.id, &[]).await?.is_empty());
    Ok(())
}

pub(crate) async fn duplicate_phone_is_a_conflict(store: Store) -> TestResult {
    let (brand, lan, _) = seed(&store, 1).await?;
    let twin = customer(brand.id, 2, "+84 90 123 4567");
    assert_eq!(twin.phone, lan.phone);

    let mut tx = store.begin().await?;
    let err = tx.customers().insert_customer(&twin).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    drop(tx);

    let mut tx = store.begin().await?;
    let err = tx.customers().insert_customer(&lan).await;
    assert!(
        matches!(err, Err(StoreError::Conflict(_))),
        "same id: {err:?}"
    );
    drop(tx);

    let mut tx = store.begin().await?;
    assert_eq!(tx.customers().customer(brand.id, twin.id).await?, None);
    Ok(())
}

pub(crate) async fn update_customer_changes_profile_only(store: Store) -> TestResult {
    let (brand, lan, _) = seed(&store, 1).await?;
    let mut changed = lan.clone();
    changed.name = Some("Nguyễn Thị Lan".into());
    changed.birthday = Some(date!(2000 - 02 - 29));
    changed.email = Some("lan@example.vn".into());
    changed.zalo_user_id = None;
    // Every state survives the round trip, "withdrawn" apart from "never asked".
    changed.consent = ChannelConsent {
        zalo: ConsentState::Withdrawn,
        sms: ConsentState::Granted,
        email: ConsentState::Granted,
        profiling: ConsentState::Granted,
        programme: ConsentState::NeverAsked,
    };
    // Not profile fields: stay as stored.
    changed.phone = phone("0987654321");
    changed.created_at = datetime!(2030-01-01 00:00 UTC);

    let mut tx = store.begin().await?;
    tx.customers().update_customer(&changed).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let stored = tx
        .customers()
        .customer(brand.id, lan.id)
        .await?
        .expect("stored");
    let mut expected = changed.clone();
    expected.phone = lan.phone.clone();
    expected.created_at = lan.created_at;
    assert_eq!(stored, expected);

    let mut stranger = lan.clone();
    stranger.id = CustomerId::from_bytes([9; 16]);
    let err = tx.customers().update_customer(&stranger).await;
    assert!(matches!(err, Err(StoreError::NotFound(_))), "{err:?}");
    Ok(())
}

pub(crate) async fn stats_round_trip(store: Store) -> TestResult {
    let (brand, lan, _) = seed(&store, 1).await?;
    let first = CustomerStats {
        customer_id: lan.id,
        visits: 1,
        spend: vnd(129_000),
        first_visit_at: Some(datetime!(2026-05-06 08:30:15.250001 UTC)),
        counted: CountedTimes {
            first: Some(datetime!(2026-05-06 08:30:15.250001 UTC)),
            last: Some(datetime!(2026-05-06 08:30:15.250001 UTC)),
            second_last: None,
        },
        last_visit_at: Some(datetime!(2026-05-06 08:30:15.250001 UTC)),
        tier: None,
    };
    let mut tx = store.begin().await?;
    assert_eq!(tx.customers().stats(brand.id, lan.id).await?, None);
    tx.customers().save_stats(brand.id, &first).await?;
    tx.commit().await?;

    let second = CustomerStats {
        visits: 2,
        // A second order: the latest two counted are now both.
        counted: CountedTimes {
            first: Some(datetime!(2026-05-06 08:30:15.250001 UTC)),
            last: Some(datetime!(2026-05-07 01:00:00.000002 UTC)),
            second_last: Some(datetime!(2026-05-06 08:30:15.250001 UTC)),
        },
        spend: vnd(258_000),
        last_visit_at: Some(datetime!(2026-05-07 01:00:00.000002 UTC)),
        tier: Some(TierState {
            code: "gold".into(),
            since: datetime!(2026-05-07 01:00:00.000002 UTC),
        }),
        ..first.clone()
    };
    let mut tx = store.begin().await?;
    assert_eq!(tx.customers().stats(brand.id, lan.id).await?, Some(first));
    tx.customers().save_stats(brand.id, &second).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(
        tx.customers().stats(brand.id, lan.id).await?,
        Some(second.clone())
    );
    drop(tx);

    let mut unknown = second;
    unknown.customer_id = CustomerId::from_bytes([9; 16]);
    let mut tx = store.begin().await?;
    let err = tx.customers().save_stats(brand.id, &unknown).await;
    assert!(matches!(err, Err(StoreError::NotFound(_))), "{err:?}");
    Ok(())
}
