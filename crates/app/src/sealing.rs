//! Contact data sealed at rest: the store's contact keys, derived from the server keys,
//! wired into every store the binary opens.
//!
//! Each server key gives two purpose keys (HMAC-SHA256 of the purpose's name, see
//! [`SecretKey::derive`]): `contact-data` seals phones, emails and Zalo ids,
//! `contact-index` makes the phone's blind index. Both carry the server key's id, so
//! that during a rotation the previous keys still open and find what they made.

use crate::settings::Settings;
use regulars_ports::StoreError;
use regulars_service::{SecretKey, SecretKeys};
use regulars_store::{ContactKey, ContactKeys, Store};

/// The purpose the contact sealing key is derived for.
const SEALING_PURPOSE: &str = "contact-data";
/// The purpose the blind-index key is derived for.
const INDEX_PURPOSE: &str = "contact-index";

fn contact_key(key: &SecretKey) -> ContactKey {
    ContactKey::new(
        key.id(),
        key.derive(SEALING_PURPOSE),
        key.derive(INDEX_PURPOSE),
    )
}

/// The contact keys of the server keys: the current one seals, the previous ones open.
pub fn contact_keys(keys: &SecretKeys) -> ContactKeys {
    let mut all = keys.all().map(contact_key);
    let current = all.next().unwrap_or_else(|| contact_key(keys.current()));
    ContactKeys::new(current).with_previous(all.collect())
}

/// `store` sealing contact data under the server keys of `settings`; as it is when no
/// server key is set (contact data is then written plain).
pub fn keyed(store: &Store, settings: &Settings) -> Store {
    match settings.secret_keys() {
        Some(keys) => store.with_contact_keys(contact_keys(&keys)),
        None => store.clone(),
    }
}

/// Seals the contact data still stored plain (rows written before sealing existed, or
/// by a process without the key); logs what it did. A no-op without a key, and without
/// a scan once a sweep found nothing plain and no process opened the database without
/// the key since ([`Store::seal_plain_contacts`]).
///
/// # Errors
///
/// When the database fails.
pub async fn seal_plain_rows(store: &Store, settings: &Settings) -> Result<(), StoreError> {
    if settings.secret_key.is_none() {
        tracing::warn!(
            "REGULARS_SECRET_KEY is not set: customers' phones, emails and Zalo ids are stored unencrypted"
        );
        return Ok(());
    }
    match store.seal_plain_contacts().await? {
        Some(report) if report.rows() > 0 => {
            tracing::info!(rows = report.rows(), tables = ?report.tables, "sealed plain contact data");
        }
        Some(_) => tracing::info!("no plain contact data left: later starts skip the scan"),
        None => tracing::debug!("contact data known sealed: no scan"),
    }
    Ok(())
}

/// Opens `url` as every command of the binary does: contact data sealed under the
/// server keys of the configuration (`REGULARS_CONFIG` or `./regulars.toml`, and the
/// environment).
///
/// # Errors
///
/// When the configuration is invalid or the database cannot be opened.
pub async fn open(url: &str, options: regulars_store::StoreOptions) -> anyhow::Result<Store> {
    use anyhow::Context as _;
    let config = std::env::var_os("REGULARS_CONFIG").map(std::path::PathBuf::from);
    let settings = Settings::load(config.as_deref(), |name| std::env::var(name).ok())
        .context("invalid configuration")?;
    let store = Store::connect(url, options)
        .await
        .with_context(|| format!("cannot open the database {}", regulars_store::redact(url)))?;
    Ok(keyed(&store, &settings))
}
