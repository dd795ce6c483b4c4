//! Contact data sealed at rest: what a store with keys writes, a store without them
//! cannot read; plain rows of before are found, then sealed in place; a key rotation
//! keeps every row readable and findable before, during and after the re-sealing.

use crate::outreach::message;
use crate::support::{customer, key, order, phone, seed};
use crate::{Store, TestResult};
use regulars_domain::{BrandId, IntegrationId};
use regulars_ports::{
    IdempotentRecord, IntegrationKind, IntegrationRecord, StoreError, TokenAccount, TokenPair,
    TokenStore, UnitOfWork,
};
use regulars_store::{ContactKey, ContactKeys, SealScope};
use serde_json::json;
use time::macros::datetime;

fn keys(byte: u8, previous: &[u8]) -> ContactKeys {
    let key = |b: u8| ContactKey::new(format!("{b:08x}"), [b; 32], [b ^ 0x5a; 32]);
    ContactKeys::new(key(byte)).with_previous(previous.iter().map(|b| key(*b)).collect())
}

const KV: IntegrationId = IntegrationId::from_bytes([7; 16]);

/// A customer with email, an order with their phone, a message, a POS link, a waiting
/// order and a remembered result: one row in every table that holds contact data.
async fn write_everything(store: &Store, brand: BrandId) -> TestResult {
    let mut lan = customer(brand, 3, "0912345678");
    lan.email = Some("lan@example.vn".into());
    let mut tx = store.begin().await?;
    tx.customers().insert_customer(&lan).await?;
    tx.orders()
        .insert_order(&order(brand, 3, "HD3", Some(&lan)))
        .await?;
    tx.outbox()
        .enqueue(&[message(brand, 3, "m-3", datetime!(2026-05-02 08:00 UTC))])
        .await?;
    tx.access()
        .insert_integration(&IntegrationRecord {
            id: KV,
            brand_id: brand,
            kind: IntegrationKind::Kiotviet,
            label: None,
            sealed_secret: "00ff".into(),
            sealed_access: None,
            created_at: datetime!(2026-05-01 08:00 UTC),
            revoked_at: None,
        })
        .await?;
    tx.access()
        .link_pos_customer(
            brand,
            KV,
            "KH1",
            &lan.phone,
            datetime!(2026-05-02 08:00 UTC),
        )
        .await?;
    let waiting = order(brand, 4, "HD4", Some(&lan)).order;
    tx.access()
        .keep_waiting_order(brand, KV, "KH2", &waiting, datetime!(2026-05-02 08:00 UTC))
        .await?;
    tx.idempotency()
        .remember(
            brand,
            &key("api:customers", "c-1"),
            &IdempotentRecord {
                kind: "customer".into(),
                result: json!({"phone": "+84912345678"}),
                fingerprint: None,
            },
        )
        .await?;
    tx.commit().await?;
    store
        .seed(
            &zalo(brand),
            &zalo_pair(),
            "seed-1",
            datetime!(2026-05-02 08:00 UTC),
        )
        .await?;
    Ok(())
}

/// A brand's own Zalo OA tokens, sealed like contact data.
fn zalo(brand: BrandId) -> TokenAccount {
    TokenAccount {
        brand_id: Some(brand),
        provider: "zalo".into(),
        account: "4301234567890123456".into(),
    }
}

fn zalo_pair() -> TokenPair {
    TokenPair {
        access_token: "zns-access".into(),
        refresh_token: Some("zns-refresh".into()),
        expires_at: None,
    }
}

/// Reads every row [`write_everything`] wrote (and the seeded customer), through `store`.
async fn read_everything(store: &Store, brand: BrandId) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    let lan = tx
        .customers()
        .customer_by_phone(brand, &phone("0912345678"))
        .await?
        .ok_or_else(|| StoreError::NotFound("Lan by phone".into()))?;
    assert_eq!(lan.email.as_deref(), Some("lan@example.vn"));
    assert_eq!(lan.zalo_user_id.as_deref(), Some("zalo-3"));
    // Found by the Zalo id too (a keyword sent to the Official Account names only that).
    let by_zalo = tx
        .customers()
        .customers_by_zalo_user(brand, "zalo-3")
        .await?;
    let ids: Vec<_> = by_zalo.iter().map(|c| c.id).collect();
    if ids != [lan.id] {
        return Err(StoreError::NotFound(format!("Lan by Zalo id: {ids:?}")));
    }
    assert!(
        tx.customers()
            .customers_by_zalo_user(brand, "zalo-4")
            .await?
            .is_empty()
    );
    let seeded = tx
        .customers()
        .customer_by_phone(brand, &phone("0901234567"))
        .await?
        .ok_or_else(|| StoreError::NotFound("seeded by phone".into()))?;
    assert_eq!(seeded.phone, phone("0901234567"));
    let orders = tx.orders().orders(brand, Some(lan.id), None, 10).await?;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].order.customer_phone, Some(lan.phone.clone()));
    let messages = tx.outbox().messages(brand, None, None, 10).await?;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].route.recipient, "+84901234567");
    assert_eq!(messages[0].fallbacks[1].recipient, "lan@example.vn");
    assert_eq!(
        tx.access().pos_customer_phone(brand, KV, "KH1").await?,
        Some(lan.phone.clone())
    );
    let seen = tx
        .idempotency()
        .seen(brand, &key("api:customers", "c-1"))
        .await?
        .ok_or_else(|| StoreError::NotFound("remembered result".into()))?;
    assert_eq!(seen.result, json!({"phone": "+84912345678"}));
    tx.rollback().await?;
    let tokens = store
        .load(&zalo(brand))
        .await?
        .ok_or_else(|| StoreError::NotFound("zalo tokens".into()))?;
    assert_eq!(tokens.tokens, zalo_pair());
    Ok(())
}

/// The waiting order reads back with its phone (taking it deletes it: last).
async fn take_waiting(store: &Store, brand: BrandId) -> TestResult {
    let mut tx = store.begin().await?;
    let taken = tx.access().take_waiting_orders(brand, KV, "KH2").await?;
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].customer_phone, Some(phone("0912345678")));
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn sealed_contact_data_opens_only_with_the_key(store: Store) -> TestResult {
    let sealed = store.with_contact_keys(keys(1, &[]));
    let (brand, _, _) = seed(&sealed, 1).await?;
    write_everything(&sealed, brand.id).await?;
    read_everything(&sealed, brand.id).await?;

    // Without the key (or with another one) nothing opens, and nothing is found by phone.
    let error = read_everything(&store, brand.id).await.unwrap_err();
    assert!(matches!(error, StoreError::NotFound(_)), "{error}");
    let mut tx = store.begin().await?;
    let error = tx
        .customers()
        .customer(
            brand.id,
            crate::support::customer(brand.id, 3, "0912345678").id,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Corrupt(_)), "{error}");
    tx.rollback().await?;
    let other = store.with_contact_keys(keys(2, &[]));
    assert!(read_everything(&other, brand.id).await.is_err());

    // The same phone again is the same customer: the blind index is unique per brand.
    let mut tx = sealed.begin().await?;
    let twin = customer(brand.id, 9, "0912345678");
    let error = tx.customers().insert_customer(&twin).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error}");
    drop(tx);
    take_waiting(&sealed, brand.id).await
}

pub(crate) async fn plain_rows_are_found_then_sealed_in_place(store: Store) -> TestResult {
    // Rows written before sealing (a store without keys writes them plain).
    let (brand, _, _) = seed(&store, 1).await?;
    write_everything(&store, brand.id).await?;
    let sealed = store.with_contact_keys(keys(1, &[]));
    read_everything(&sealed, brand.id).await?;

    let report = sealed.seal_contacts(SealScope::Plain).await?;
    // Two customers, one order, one message, one link, one waiting order, one result,
    // one token pair.
    assert_eq!(report.rows(), 8, "{report:?}");
    read_everything(&sealed, brand.id).await?;
    assert!(read_everything(&store, brand.id).await.is_err(), "sealed");
    assert_eq!(sealed.seal_contacts(SealScope::Plain).await?.rows(), 0);
    take_waiting(&sealed, brand.id).await
}

pub(crate) async fn a_key_rotation_keeps_every_row_readable_and_findable(
    store: Store,
) -> TestResult {
    let old = store.with_contact_keys(keys(1, &[]));
    let (brand, _, _) = seed(&old, 1).await?;
    write_everything(&old, brand.id).await?;

    // During: the new key seals, the old one still opens and finds.
    let rotating = store.with_contact_keys(keys(2, &[1]));
    read_everything(&rotating, brand.id).await?;
    let mut tx = rotating.begin().await?;
    let twin = customer(brand.id, 9, "0912345678");
    assert!(
        tx.customers()
            .customer_by_phone(brand.id, &twin.phone)
            .await?
            .is_some(),
        "found under the old index"
    );
    drop(tx);
    assert_eq!(rotating.seal_contacts(SealScope::Plain).await?.rows(), 0);
    let report = rotating.seal_contacts(SealScope::NotCurrent).await?;
    assert_eq!(report.rows(), 8, "{report:?}");
    assert_eq!(
        rotating.seal_contacts(SealScope::NotCurrent).await?.rows(),
        0
    );

    // After: the new key alone opens and finds everything; the old one nothing.
    let new = store.with_contact_keys(keys(2, &[]));
    read_everything(&new, brand.id).await?;
    assert!(read_everything(&old, brand.id).await.is_err());

    // A store missing the key a value is sealed under says so, and stops.
    let lost = store.with_contact_keys(keys(3, &[]));
    let error = lost.seal_contacts(SealScope::NotCurrent).await.unwrap_err();
    assert!(matches!(error, StoreError::Corrupt(_)), "{error}");
    assert!(
        store.seal_contacts(SealScope::Plain).await.is_err(),
        "no keys"
    );
    take_waiting(&new, brand.id).await
}

/// A phone stored both ways (a keyless server wrote it plain after a sealed one had
/// indexed it) finds the indexed customer.
pub(crate) async fn an_indexed_customer_is_found_before_a_plain_twin(store: Store) -> TestResult {
    let sealed = store.with_contact_keys(keys(1, &[]));
    let (brand, indexed, _) = seed(&sealed, 1).await?;
    let plain = customer(brand.id, 9, "0901234567");
    let mut tx = store.begin().await?;
    tx.customers().insert_customer(&plain).await?;
    tx.commit().await?;
    let mut tx = sealed.begin().await?;
    let found = tx
        .customers()
        .customer_by_phone(brand.id, &indexed.phone)
        .await?
        .ok_or("found")?;
    assert_eq!(found.id, indexed.id);
    tx.rollback().await?;
    Ok(())
}

/// `serve` seals plain rows at every start: once a sweep finds nothing plain, later
/// starts skip the scan, until a store opened without keys (which writes plain values)
/// has begun a transaction.
async fn a_clean_sweep_is_remembered_until_a_keyless_store_writes(
    store: Store,
    url: String,
) -> TestResult {
    let (brand, _, _) = seed(&store, 1).await?;
    write_everything(&store, brand.id).await?;
    let sealed = store.with_contact_keys(keys(1, &[]));
    let first = sealed.seal_plain_contacts().await?.ok_or("a first sweep")?;
    assert_eq!(first.rows(), 8, "{first:?}");
    assert_eq!(sealed.seal_plain_contacts().await?, None, "remembered");

    // Another process without the key opens the database and writes plain values.
    let keyless = Store::connect(&url, regulars_store::StoreOptions::default()).await?;
    let mut lan = customer(brand.id, 9, "0987654321");
    lan.email = Some("again@example.vn".into());
    let mut tx = keyless.begin().await?;
    tx.customers().insert_customer(&lan).await?;
    tx.commit().await?;
    let again = sealed.seal_plain_contacts().await?.ok_or("swept again")?;
    assert_eq!(again.rows(), 1, "{again:?}");
    assert_eq!(
        sealed.seal_plain_contacts().await?,
        None,
        "remembered again"
    );
    read_everything(&sealed, brand.id).await?;

    // Beginning a transaction without keys is enough: whatever it writes is plain.
    let late = Store::connect(&url, regulars_store::StoreOptions::default()).await?;
    let tx = late.begin().await?;
    drop(tx);
    assert!(
        sealed.seal_plain_contacts().await?.is_some(),
        "cleared by the open"
    );
    keyless.close().await?;
    late.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_clean_sweep_is_remembered_until_a_keyless_store_writes() -> TestResult {
    crate::support::on_sqlite_url(a_clean_sweep_is_remembered_until_a_keyless_store_writes).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_clean_sweep_is_remembered_until_a_keyless_store_writes() -> TestResult {
    crate::support::on_postgres_url(
        "sealing_marker",
        a_clean_sweep_is_remembered_until_a_keyless_store_writes,
    )
    .await
}
