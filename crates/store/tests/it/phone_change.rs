//! A customer's phone number changed: the row holds the new number sealed with its blind
//! index (the old one is gone), the old number is free for someone else, a number
//! another customer has is refused without a write, and messages not yet sent follow
//! the customer to the new number.

use crate::outreach::message;
use crate::support::{brand_id, customer, phone, seed};
use crate::{Store, TestResult};
use regulars_domain::{BrandId, Channel, CustomerId};
use regulars_ports::{OutboxStatus, PhoneChange, StoreError, UnitOfWork};
use regulars_store::{ContactKey, ContactKeys, SealScope};
use time::macros::datetime;

fn keys(byte: u8, previous: &[u8]) -> ContactKeys {
    let key = |b: u8| ContactKey::new(format!("{b:08x}"), [b; 32], [b ^ 0x5a; 32]);
    ContactKeys::new(key(byte)).with_previous(previous.iter().map(|b| key(*b)).collect())
}

async fn found_by(
    store: &Store,
    brand: BrandId,
    national: &str,
) -> Result<Option<CustomerId>, StoreError> {
    let mut tx = store.begin().await?;
    let found = tx
        .customers()
        .customer_by_phone(brand, &phone(national))
        .await?;
    tx.rollback().await?;
    Ok(found.map(|c| c.id))
}

async fn change(
    store: &Store,
    brand: BrandId,
    id: CustomerId,
    national: &str,
) -> Result<PhoneChange, StoreError> {
    let mut tx = store.begin().await?;
    let changed = tx
        .customers()
        .change_phone(brand, id, &phone(national))
        .await?;
    tx.commit().await?;
    Ok(changed)
}

/// Everything a change does, on a store that seals (`keys`) or not.
async fn a_change_moves_the_number_and_its_messages(store: Store) -> TestResult {
    let (brand, seeded, _) = seed(&store, 1).await?;
    let b = brand.id;
    let lan = customer(b, 3, "0912345678");
    let mut tx = store.begin().await?;
    tx.customers().insert_customer(&lan).await?;
    // Pending, addressed to the seeded customer's number by Zalo, then SMS, then email.
    tx.outbox()
        .enqueue(&[message(b, 3, "m-3", datetime!(2026-05-02 08:00 UTC))])
        .await?;
    tx.commit().await?;

    let changed = change(&store, b, seeded.id, "0987654321").await?;
    assert_eq!(
        changed,
        PhoneChange::Changed {
            previous: phone("0901234567"),
            readdressed: 1
        }
    );
    assert_eq!(found_by(&store, b, "0987654321").await?, Some(seeded.id));
    assert_eq!(found_by(&store, b, "0901234567").await?, None);
    let mut tx = store.begin().await?;
    let now = tx
        .customers()
        .customer(b, seeded.id)
        .await?
        .ok_or("the customer")?;
    assert_eq!(now.phone, phone("0987654321"));
    assert_eq!(now.name, seeded.name, "the rest of the profile stays");
    let messages = tx.outbox().messages(b, None, None, 10).await?;
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.phone.as_deref(), Some("+84987654321"));
    assert_eq!(m.route.recipient, "+84987654321");
    assert_eq!(m.fallbacks[0].channel, Channel::Sms);
    assert_eq!(m.fallbacks[0].recipient, "+84987654321");
    assert_eq!(m.fallbacks[1].recipient, "lan@example.vn", "emails stay");
    assert_eq!(m.status, OutboxStatus::Pending);
    tx.rollback().await?;

    // The same number again changes nothing; Lan's number is refused and nothing moves.
    assert_eq!(
        change(&store, b, seeded.id, "0987654321").await?,
        PhoneChange::Unchanged
    );
    assert_eq!(
        change(&store, b, seeded.id, "0912345678").await?,
        PhoneChange::Taken
    );
    assert_eq!(found_by(&store, b, "0912345678").await?, Some(lan.id));
    assert_eq!(found_by(&store, b, "0987654321").await?, Some(seeded.id));

    // The old number is free: a new customer may have it.
    let mut tx = store.begin().await?;
    tx.customers()
        .insert_customer(&customer(b, 9, "0901234567"))
        .await?;
    tx.commit().await?;
    assert_eq!(
        found_by(&store, b, "0901234567").await?,
        Some(CustomerId::from_bytes([9; 16]))
    );

    // Another brand's customer, an unknown id: not found, and nothing written.
    let other = brand_id(2);
    let error = change(&store, other, seeded.id, "0933333333")
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::NotFound(_)), "{error}");
    let error = change(&store, b, CustomerId::from_bytes([7; 16]), "0933333333")
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::NotFound(_)), "{error}");
    assert_eq!(found_by(&store, b, "0933333333").await?, None);
    Ok(())
}

pub(crate) async fn a_plain_store_changes_the_phone(store: Store) -> TestResult {
    a_change_moves_the_number_and_its_messages(store).await
}

pub(crate) async fn a_sealing_store_changes_the_phone(store: Store) -> TestResult {
    a_change_moves_the_number_and_its_messages(store.with_contact_keys(keys(1, &[]))).await
}

/// The new number is indexed under the current key: found during a rotation, after the
/// re-sealing, and by the new key alone.
pub(crate) async fn a_changed_phone_survives_a_key_rotation(store: Store) -> TestResult {
    let old = store.with_contact_keys(keys(1, &[]));
    let (brand, seeded, _) = seed(&old, 1).await?;
    change(&old, brand.id, seeded.id, "0987654321").await?;
    let rotating = store.with_contact_keys(keys(2, &[1]));
    assert_eq!(
        found_by(&rotating, brand.id, "0987654321").await?,
        Some(seeded.id)
    );
    rotating.seal_contacts(SealScope::NotCurrent).await?;
    let new = store.with_contact_keys(keys(2, &[]));
    assert_eq!(
        found_by(&new, brand.id, "0987654321").await?,
        Some(seeded.id)
    );
    assert_eq!(found_by(&new, brand.id, "0901234567").await?, None);
    // Changed during the rotation: indexed under the new key at once.
    change(&rotating, brand.id, seeded.id, "0977777777").await?;
    assert_eq!(
        found_by(&new, brand.id, "0977777777").await?,
        Some(seeded.id)
    );
    Ok(())
}
