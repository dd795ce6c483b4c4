//! Who may call in: API keys (per brand, with a role, stored hashed) and POS
//! integrations (per brand, with a webhook secret stored sealed).
//!
//! # API keys
//!
//! A key reads `rgk_<prefix>_<secret>`: 13 and 52 lowercase Crockford base32 symbols
//! (64 and 256 random bits). The prefix finds the stored key (unique within its brand,
//! random across brands, and what logs may show; a prefix found twice finds nothing); the
//! secret is kept only as its SHA-256, compared in constant time. A 256-bit random secret
//! needs no slow password hash: there is nothing to guess. The full key is returned once, when it is made.
//!
//! # Webhook secrets
//!
//! A POS signs its webhooks with a secret both sides know, so the server must keep the
//! secret itself, not a hash. It is sealed under a key derived from the server's
//! [`SecretKey`](crate::SecretKey) (from the environment, never stored), with the id of
//! the key beside it; see [`crate::secrets`].

use crate::error::{common_variants, store_class};
use crate::scope::{MAX_MANAGER_LOCATIONS, Scope};
use crate::secrets::{from_hex, to_hex};
use crate::{ErrorClass, Services, UseCaseError};
use regulars_domain::{ApiKeyId, BrandId, IntegrationId, LocationId};
use regulars_ports::{ApiKeyRecord, Role, StoreError, Transaction};
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;
use time::OffsetDateTime;

pub(crate) mod endpoints;
mod integrations;
pub use integrations::{CreatedIntegration, IntegrationInfo, WebhookEndpoint};

const KEY_TAG: &str = "rgk";
const PREFIX_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;
/// Longest label kept for a key or an integration.
pub const MAX_LABEL_LEN: usize = 200;
/// Shortest and longest webhook secret a brand may supply.
pub const WEBHOOK_SECRET_LEN: std::ops::RangeInclusive<usize> = 16..=256;

/// An API key as shown to people: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKeyInfo {
    /// Its id.
    pub id: ApiKeyId,
    /// The public prefix (`rgk_<prefix>_…`), to recognise a key in logs.
    pub prefix: String,
    /// What it may do.
    pub role: Role,
    /// A note for people.
    pub label: Option<String>,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it was revoked.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// The locations a manager key covers; empty for other roles.
    pub locations: Vec<LocationId>,
}

impl From<&ApiKeyRecord> for ApiKeyInfo {
    fn from(key: &ApiKeyRecord) -> Self {
        ApiKeyInfo {
            id: key.id,
            prefix: key.prefix.clone(),
            role: key.role,
            label: key.label.clone(),
            created_at: key.created_at,
            revoked_at: key.revoked_at,
            locations: key.locations.clone(),
        }
    }
}

/// A key just made: its description and the full key, which is never shown again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedApiKey {
    /// The key's description.
    pub info: ApiKeyInfo,
    /// The full key to give to the caller.
    pub token: String,
}

/// Who a request acts for, once its key is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The brand every read and write is scoped to.
    pub brand: BrandId,
    /// What the key may do.
    pub role: Role,
    /// The key.
    pub key: ApiKeyId,
    /// The locations its reads cover (a manager's; the whole brand for other roles).
    pub scope: Scope,
}

/// Why managing keys or integrations failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AccessError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// The brand has no such key, or it is revoked already.
    #[error("no active API key {0}")]
    UnknownKey(ApiKeyId),
    /// The brand has no such integration, or it is revoked already.
    #[error("no active integration {0}")]
    UnknownIntegration(IntegrationId),
    /// The label is too long or has control characters.
    #[error("label must be at most {MAX_LABEL_LEN} bytes without control characters")]
    InvalidLabel,
    /// A supplied webhook secret is too short, too long or not printable.
    #[error("secret must be {min} to {max} printable ASCII characters", min = WEBHOOK_SECRET_LEN.start(), max = WEBHOOK_SECRET_LEN.end())]
    InvalidSecret,
    /// The POS API credentials do not fit the integration's kind, or a field is empty,
    /// too long or not printable (the field, and what is wrong).
    #[error("{0}: {1}")]
    InvalidAccess(&'static str, String),
    /// The server has no key to seal webhook secrets with.
    #[error("the server has no secret key (set REGULARS_SECRET_KEY) to keep webhook secrets")]
    NoSecretKey,
    /// Revoking the key making the request would lock the brand out of its last admin key.
    #[error("the brand's last active admin key cannot be revoked")]
    LastAdminKey,
    /// A key's locations are missing for a manager, given for another role, unknown to
    /// the brand or too many (what is wrong).
    #[error("{0}")]
    InvalidLocations(String),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(AccessError, brand);

impl UseCaseError for AccessError {
    fn class(&self) -> ErrorClass {
        match self {
            AccessError::UnknownBrand(_)
            | AccessError::UnknownKey(_)
            | AccessError::UnknownIntegration(_) => ErrorClass::NotFound,
            AccessError::InvalidLabel
            | AccessError::InvalidSecret
            | AccessError::InvalidLocations(_)
            | AccessError::InvalidAccess(..) => ErrorClass::Invalid,
            // Not a passing outage: the operator must set the key, so say so (409), not
            // "try again later".
            AccessError::LastAdminKey | AccessError::NoSecretKey => ErrorClass::Refused,
            AccessError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            AccessError::UnknownBrand(_) => Some("brand"),
            AccessError::UnknownKey(_) | AccessError::LastAdminKey => Some("key"),
            AccessError::UnknownIntegration(_) => Some("integration"),
            AccessError::InvalidLabel => Some("label"),
            AccessError::InvalidSecret => Some("secret"),
            AccessError::InvalidLocations(_) => Some("locations"),
            AccessError::InvalidAccess(field, _) => Some(field),
            AccessError::NoSecretKey | AccessError::Store(_) => None,
        }
    }
}

/// Why a presented key or webhook was not accepted. The caller should not learn which
/// (unknown, revoked, wrong secret): [`AuthError::class`] is the same for all but storage.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AuthError {
    /// Not shaped like a key.
    #[error("malformed API key")]
    Malformed,
    /// No such key, a wrong secret, or a revoked key.
    #[error("unknown or revoked API key")]
    Rejected,
    /// No such integration, or revoked, or its secret cannot be opened.
    #[error("unknown or revoked integration")]
    UnknownIntegration,
    /// The client address failed too many key checks lately; try again after this many
    /// seconds.
    #[error("too many failed API key checks from this address; retry in {0} s")]
    Throttled(u64),
    /// Webhook secrets cannot be opened without the server's secret key.
    #[error("the server has no secret key (set REGULARS_SECRET_KEY) to check webhooks")]
    NoSecretKey,
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AuthError {
    fn from(error: StoreError) -> Self {
        AuthError::Store(error)
    }
}

impl UseCaseError for AuthError {
    fn class(&self) -> ErrorClass {
        match self {
            AuthError::Malformed | AuthError::Rejected => ErrorClass::Refused,
            AuthError::UnknownIntegration => ErrorClass::NotFound,
            AuthError::NoSecretKey | AuthError::Throttled(_) => ErrorClass::Unavailable,
            AuthError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        None
    }
}

impl Services {
    /// Makes an API key for the brand. The returned token is the only copy of its secret.
    /// A manager key needs its locations: see [`create_manager_key`](Self::create_manager_key).
    pub async fn create_api_key(
        &self,
        brand: BrandId,
        role: Role,
        label: Option<String>,
    ) -> Result<CreatedApiKey, AccessError> {
        self.create_scoped_key(brand, role, label, Vec::new()).await
    }

    /// Makes an API key of `role`; `locations` must be the brand's own, at least one, for
    /// a manager, and none for any other role (their keys see the whole brand).
    pub async fn create_scoped_key(
        &self,
        brand: BrandId,
        role: Role,
        label: Option<String>,
        locations: Vec<LocationId>,
    ) -> Result<CreatedApiKey, AccessError> {
        let label = clean_label(label)?;
        let label = &label;
        let locations = key_locations(role, locations)?;
        let locations = &locations;
        self.transact("create_api_key", |mut tx| async move {
            let result = async {
                if !locations.is_empty() {
                    let known = tx.locations().locations(brand).await?;
                    // Another brand's location reads as unknown: nothing says it exists.
                    if let Some(unknown) = locations
                        .iter()
                        .find(|l| !known.iter().any(|k| k.id == **l))
                    {
                        return Err(AccessError::InvalidLocations(format!(
                            "no location {unknown} in this brand"
                        )));
                    }
                }
                self.create_key_in(tx.as_mut(), brand, role, label, locations)
                    .await
            }
            .await;
            (tx, result)
        })
        .await
    }

    async fn create_key_in(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        role: Role,
        label: &Option<String>,
        locations: &[LocationId],
    ) -> Result<CreatedApiKey, AccessError> {
        crate::account::load_brand::<AccessError>(tx, brand).await?;
        let mut prefix = [0u8; PREFIX_BYTES];
        self.ids.fill_bytes(&mut prefix);
        let mut secret = [0u8; SECRET_BYTES];
        self.ids.fill_bytes(&mut secret);
        let prefix = base32(&prefix);
        let secret = base32(&secret);
        let record = ApiKeyRecord {
            id: ApiKeyId::from_uuid(self.ids.new_id()),
            brand_id: brand,
            prefix: prefix.clone(),
            secret_hash: sha256_hex(secret.as_bytes()),
            role,
            label: label.clone(),
            created_at: self.clock.now(),
            revoked_at: None,
            locations: locations.to_vec(),
        };
        // A prefix drawn twice is a conflict: the use case runs again with new bytes.
        tx.access().insert_api_key(&record).await?;
        Ok(CreatedApiKey {
            info: ApiKeyInfo::from(&record),
            token: format!("{KEY_TAG}_{prefix}_{secret}"),
        })
    }

    /// The brand's keys, revoked ones included.
    pub async fn api_keys(&self, brand: BrandId) -> Result<Vec<ApiKeyInfo>, AccessError> {
        self.transact("api_keys", |mut tx| async move {
            let result = async {
                crate::account::load_brand::<AccessError>(tx.as_mut(), brand).await?;
                let keys = tx.access().api_keys(brand).await?;
                Ok(keys.iter().map(ApiKeyInfo::from).collect())
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// Revokes a key of the brand. The brand's last active admin key stays: without it
    /// nobody could make keys again. The brand's keys are locked while the other admins
    /// are counted, so two admins revoking each other at once cannot both succeed.
    pub async fn revoke_api_key(&self, brand: BrandId, key: ApiKeyId) -> Result<(), AccessError> {
        self.transact("revoke_api_key", |mut tx| async move {
            let result = async {
                let keys = tx.access().lock_api_keys(brand).await?;
                let Some(target) = keys.iter().find(|k| k.id == key && k.revoked_at.is_none())
                else {
                    return Err(AccessError::UnknownKey(key));
                };
                let other_admins = keys
                    .iter()
                    .filter(|k| k.id != key && k.role == Role::Admin && k.revoked_at.is_none())
                    .count();
                if target.role == Role::Admin && other_admins == 0 {
                    return Err(AccessError::LastAdminKey);
                }
                if tx
                    .access()
                    .revoke_api_key(brand, key, self.clock.now())
                    .await?
                {
                    Ok(())
                } else {
                    Err(AccessError::UnknownKey(key))
                }
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// Checks a presented key from `client` (its network address): who it acts for and as
    /// what. A key of the wrong shape, or refused in the last 30 seconds, is refused
    /// without a database look-up; an address whose failures are spent (see
    /// [`guard`](crate::guard)) gets [`AuthError::Throttled`], also without one.
    pub async fn authenticate(&self, token: &str, client: &str) -> Result<Principal, AuthError> {
        let (prefix, secret) = split_token(token).ok_or(AuthError::Malformed)?;
        let now = self.clock.now();
        let guard = &self.guard;
        let digest = crate::guard::AuthGuard::digest(token);
        if guard.refused.contains(&digest, now) {
            return Err(guard
                .failed(client, now)
                .map_or_else(AuthError::Throttled, |()| AuthError::Rejected));
        }
        let prefix_owned = prefix.to_owned();
        if !guard.trusted.contains(&prefix_owned, now)
            && let Some(seconds) = guard.exhausted(client, now)
        {
            return Err(AuthError::Throttled(seconds));
        }
        guard.counted_lookup();
        let result = self.look_up_key(prefix, secret).await;
        match &result {
            Ok(_) => guard.trusted.insert(prefix_owned, now),
            Err(AuthError::Rejected) => {
                guard.refused.insert(digest, now);
                // The refusal is the answer; a spent budget shows on the next attempt.
                let _ = guard.failed(client, now);
            }
            Err(_) => {}
        }
        result
    }

    /// How many key checks reached the database since the process started.
    pub fn key_lookups(&self) -> u64 {
        self.guard.lookups()
    }

    async fn look_up_key(&self, prefix: &str, secret: &str) -> Result<Principal, AuthError> {
        let presented = Sha256::digest(secret.as_bytes());
        self.transact("authenticate", |mut tx| async move {
            let result = async {
                let key = tx.access().api_key_by_prefix(prefix).await?;
                let Some(key) = key else {
                    return Err(AuthError::Rejected);
                };
                let stored = from_hex(&key.secret_hash).unwrap_or_default();
                let matches: bool = stored.as_slice().ct_eq(&presented[..]).into();
                if !matches || key.revoked_at.is_some() {
                    return Err(AuthError::Rejected);
                }
                Ok(Principal {
                    brand: key.brand_id,
                    role: key.role,
                    key: key.id,
                    scope: Scope::of(key.role, &key.locations),
                })
            }
            .await;
            (tx, result)
        })
        .await
    }
}

/// A key's locations, checked against its role and without repeats.
fn key_locations(role: Role, locations: Vec<LocationId>) -> Result<Vec<LocationId>, AccessError> {
    let mut unique: Vec<LocationId> = Vec::with_capacity(locations.len());
    for location in locations {
        if !unique.contains(&location) {
            unique.push(location);
        }
    }
    match role {
        Role::Manager if unique.is_empty() => Err(AccessError::InvalidLocations(
            "a manager key needs at least one location".to_owned(),
        )),
        Role::Manager if unique.len() > MAX_MANAGER_LOCATIONS => {
            Err(AccessError::InvalidLocations(format!(
                "a manager key covers at most {MAX_MANAGER_LOCATIONS} locations"
            )))
        }
        Role::Manager => Ok(unique),
        _ if unique.is_empty() => Ok(unique),
        other => Err(AccessError::InvalidLocations(format!(
            "only a manager key has locations; a {} key sees the whole brand",
            other.as_str()
        ))),
    }
}

fn clean_label(label: Option<String>) -> Result<Option<String>, AccessError> {
    match label.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()) {
        Some(l) if l.len() > MAX_LABEL_LEN || l.chars().any(char::is_control) => {
            Err(AccessError::InvalidLabel)
        }
        other => Ok(other),
    }
}

/// `rgk_<prefix>_<secret>` → `(prefix, secret)` when both parts have the right shape.
fn split_token(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix(KEY_TAG)?.strip_prefix('_')?;
    let (prefix, secret) = rest.split_once('_')?;
    let shaped = |part: &str, bytes: usize| {
        part.len() == (bytes * 8).div_ceil(5) && part.bytes().all(|b| ALPHABET.contains(&b))
    };
    (shaped(prefix, PREFIX_BYTES) && shaped(secret, SECRET_BYTES)).then_some((prefix, secret))
}

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Lowercase Crockford base32 without padding.
fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity((bytes.len() * 8).div_ceil(5));
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_has_the_expected_length_and_alphabet() {
        assert_eq!(base32(&[0u8; 8]).len(), 13);
        assert_eq!(base32(&[0xffu8; 32]).len(), 52);
        assert_eq!(base32(&[0xff]), "zw");
        assert!(
            base32(&[0x12, 0x34, 0x56])
                .bytes()
                .all(|b| ALPHABET.contains(&b))
        );
    }

    #[test]
    fn tokens_split_only_when_well_shaped() {
        let token = format!("rgk_{}_{}", base32(&[1; 8]), base32(&[2; 32]));
        assert!(split_token(&token).is_some());
        assert!(split_token(&token.to_uppercase()).is_none());
        assert!(split_token(&token[..token.len() - 1]).is_none());
        assert!(split_token("rgk__").is_none());
        assert!(split_token("Bearer x").is_none());
        assert!(split_token("rgk_é_é").is_none());
    }

    #[test]
    fn a_missing_server_key_is_a_refusal_that_names_the_variable() {
        let error = AccessError::NoSecretKey;
        assert_eq!(error.class(), ErrorClass::Refused);
        assert!(error.to_string().contains("REGULARS_SECRET_KEY"));
    }
}
