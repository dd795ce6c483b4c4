//! The server's secret keys, and the webhook secrets sealed under them.
//!
//! Each purpose gets its own key derived from `REGULARS_SECRET_KEY` ([`SecretKey::derive`]):
//! dashboard sessions, CSRF tokens, customer links and sealed webhook secrets, so a value
//! made for one purpose is never accepted for another.
//!
//! A webhook secret is sealed with ChaCha20-Poly1305 under the key derived for
//! `webhook-secret`, with the brand and integration ids as associated data (a sealed
//! secret copied onto another row does not open), and stored as
//! `v1:<key id>:<hex nonce and ciphertext>`. The key id names the server key it was
//! sealed under, so that during a rotation the server knows which of its keys opens it:
//! [`SecretKeys`] holds the current key, which seals, and the previous ones, which still
//! open. Values sealed before key ids existed (bare hex, under the server key itself)
//! still open; `regulars secrets rotate` ([`Services::reseal_secrets`]) re-seals
//! everything under the current key.

use crate::Services;
use crate::access::AccessError;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use regulars_domain::{BrandId, IntegrationId};
use serde::Serialize;
use sha2::Sha256;
use std::fmt;

pub(crate) const NONCE_BYTES: usize = 12;
/// The tag of the sealed format with a key id.
const SEALED_V1: &str = "v1";
/// The purpose the sealing key is derived for.
const WEBHOOK_SECRET_PURPOSE: &str = "webhook-secret";

/// One server key: 32 bytes from the environment, never stored.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl SecretKey {
    /// Reads 64 hexadecimal digits.
    pub fn from_hex(hex: &str) -> Result<SecretKey, String> {
        let bytes = from_hex(hex.trim()).ok_or("must be hexadecimal")?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "must be 32 bytes (64 hexadecimal digits)".to_owned())?;
        Ok(SecretKey(key))
    }

    /// Uses `bytes` as the key.
    pub fn from_bytes(bytes: [u8; 32]) -> SecretKey {
        SecretKey(bytes)
    }

    /// A key for one purpose, derived from this one (HMAC-SHA256 of the purpose's
    /// name): sessions, links and sealed secrets each get their own, so a value signed
    /// for one purpose is never accepted for another.
    ///
    /// ```
    /// use regulars_service::SecretKey;
    /// let key = SecretKey::from_bytes([7; 32]);
    /// assert_ne!(key.derive("dashboard-session"), key.derive("customer-link"));
    /// assert_eq!(key.derive("x"), key.derive("x"));
    /// ```
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        use hmac::{KeyInit as _, Mac};
        let mut mac = <hmac::Hmac<Sha256>>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"regulars/");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The key's public id: 8 hexadecimal digits derived from it (not the key, and
    /// nothing to learn the key from), stored beside what it sealed.
    pub fn id(&self) -> String {
        to_hex(&self.derive("key-id")[..4])
    }

    /// The cipher of sealed webhook secrets: under the derived key.
    fn sealing_cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(&Key::from(self.derive(WEBHOOK_SECRET_PURPOSE)))
    }

    /// The cipher of values sealed before key ids: the server key itself.
    fn legacy_cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(&Key::from(self.0))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// The server's keys: the current one seals and signs; the previous ones (during a
/// rotation) still open and verify what was made under them.
#[derive(Clone)]
pub struct SecretKeys {
    current: SecretKey,
    previous: Vec<SecretKey>,
}

impl SecretKeys {
    /// Only `current`.
    pub fn new(current: SecretKey) -> SecretKeys {
        SecretKeys {
            current,
            previous: Vec::new(),
        }
    }

    /// Also accepts what `previous` keys made.
    pub fn with_previous(mut self, previous: Vec<SecretKey>) -> SecretKeys {
        self.previous = previous;
        self
    }

    /// The key that seals and signs.
    pub fn current(&self) -> &SecretKey {
        &self.current
    }

    /// Every key that opens, the current one first.
    pub fn all(&self) -> impl Iterator<Item = &SecretKey> {
        std::iter::once(&self.current).chain(&self.previous)
    }
}

impl fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SecretKeys(current and {} previous)",
            self.previous.len()
        )
    }
}

fn associated_data(brand: BrandId, id: IntegrationId) -> [u8; 32] {
    let mut aad = [0u8; 32];
    aad[..16].copy_from_slice(brand.as_uuid().as_bytes());
    aad[16..].copy_from_slice(id.as_uuid().as_bytes());
    aad
}

/// Seals a webhook secret under the current key: `v1:<key id>:<hex>`.
pub(crate) fn seal(
    keys: &SecretKeys,
    brand: BrandId,
    id: IntegrationId,
    nonce: &[u8; NONCE_BYTES],
    secret: &[u8],
) -> Option<String> {
    seal_with(keys, &associated_data(brand, id), nonce, secret)
}

/// What distinguishes a POS API's sealed credentials from the webhook secret of the
/// same integration: neither opens as the other.
const ACCESS_LABEL: &[u8] = b"pos-api-access";

fn access_data(brand: BrandId, id: IntegrationId) -> Vec<u8> {
    let mut aad = associated_data(brand, id).to_vec();
    aad.extend_from_slice(ACCESS_LABEL);
    aad
}

/// Seals an integration's POS API credentials, as [`seal`] does its webhook secret.
pub(crate) fn seal_access(
    keys: &SecretKeys,
    brand: BrandId,
    id: IntegrationId,
    nonce: &[u8; NONCE_BYTES],
    access: &[u8],
) -> Option<String> {
    seal_with(keys, &access_data(brand, id), nonce, access)
}

/// Opens what [`seal_access`] sealed.
pub(crate) fn open_access(
    keys: &SecretKeys,
    brand: BrandId,
    id: IntegrationId,
    sealed: &str,
) -> Option<Vec<u8>> {
    let rest = sealed.strip_prefix(SEALED_V1)?.strip_prefix(':')?;
    let (kid, hex) = rest.split_once(':')?;
    let aad = access_data(brand, id);
    keys.all()
        .filter(|key| key.id() == kid)
        .find_map(|key| decrypt(&key.sealing_cipher(), hex, &aad))
}

fn seal_with(
    keys: &SecretKeys,
    aad: &[u8],
    nonce: &[u8; NONCE_BYTES],
    secret: &[u8],
) -> Option<String> {
    let key = keys.current();
    let sealed = key
        .sealing_cipher()
        .encrypt(&Nonce::from(*nonce), Payload { msg: secret, aad })
        .ok()?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Some(format!("{SEALED_V1}:{}:{}", key.id(), to_hex(&out)))
}

/// Whether a stored value is sealed under the current key, in the current format.
pub(crate) fn sealed_under_current(keys: &SecretKeys, sealed: &str) -> bool {
    sealed
        .strip_prefix(SEALED_V1)
        .and_then(|rest| rest.strip_prefix(':'))
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(kid, _)| kid == keys.current().id())
}

/// Opens a sealed webhook secret with whichever of the keys sealed it.
pub(crate) fn open(
    keys: &SecretKeys,
    brand: BrandId,
    id: IntegrationId,
    sealed: &str,
) -> Option<Vec<u8>> {
    let aad = associated_data(brand, id);
    let tagged = sealed
        .strip_prefix(SEALED_V1)
        .and_then(|rest| rest.strip_prefix(':'));
    match tagged {
        Some(rest) => {
            let (kid, hex) = rest.split_once(':')?;
            keys.all()
                .filter(|key| key.id() == kid)
                .find_map(|key| decrypt(&key.sealing_cipher(), hex, &aad))
        }
        None => keys
            .all()
            .find_map(|key| decrypt(&key.legacy_cipher(), sealed, &aad)),
    }
}

fn decrypt(cipher: &ChaCha20Poly1305, hex: &str, aad: &[u8]) -> Option<Vec<u8>> {
    let bytes = from_hex(hex)?;
    if bytes.len() < NONCE_BYTES {
        return None;
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
    let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
    cipher
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .ok()
}

/// What re-sealing did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResealReport {
    /// Secrets now sealed under the current key that were not before.
    pub resealed: usize,
    /// Secrets that were sealed under the current key already.
    pub current: usize,
    /// Integrations whose secret none of the keys opens (sealed under a key that is no
    /// longer given): they stay as they are and their webhooks are refused.
    pub unopenable: Vec<IntegrationId>,
}

impl Services {
    /// Re-seals every integration's webhook secret (revoked ones too) under the current
    /// key, opening each with whichever key sealed it: after this, the previous keys
    /// can be dropped. One transaction per brand; running it again changes nothing.
    pub async fn reseal_secrets(&self) -> Result<ResealReport, AccessError> {
        let keys = self.secret_keys.as_ref().ok_or(AccessError::NoSecretKey)?;
        let brands = self
            .transact("reseal_brands", |mut tx| async move {
                let result = tx.brands().brand_ids().await.map_err(AccessError::from);
                (tx, result)
            })
            .await?;
        let mut report = ResealReport::default();
        for brand in brands {
            let part = self.reseal_brand(keys, brand).await?;
            report.resealed += part.resealed;
            report.current += part.current;
            report.unopenable.extend(part.unopenable);
        }
        Ok(report)
    }

    async fn reseal_brand(
        &self,
        keys: &SecretKeys,
        brand: BrandId,
    ) -> Result<ResealReport, AccessError> {
        self.transact("reseal_secrets", |mut tx| async move {
            let result = async {
                let mut report = ResealReport::default();
                for record in tx.access().integrations(brand).await? {
                    let access =
                        crate::pos_access::reseal(self, tx.as_mut(), keys, &record).await?;
                    if access.is_err() {
                        report.unopenable.push(record.id);
                    }
                    if sealed_under_current(keys, &record.sealed_secret) {
                        report.current += 1;
                        continue;
                    }
                    let Some(secret) = open(keys, brand, record.id, &record.sealed_secret) else {
                        if access.is_ok() {
                            report.unopenable.push(record.id);
                        }
                        continue;
                    };
                    let mut nonce = [0u8; NONCE_BYTES];
                    self.ids.fill_bytes(&mut nonce);
                    let sealed = seal(keys, brand, record.id, &nonce, &secret)
                        .ok_or(AccessError::NoSecretKey)?;
                    if tx
                        .access()
                        .reseal_integration(brand, record.id, &record.sealed_secret, &sealed)
                        .await?
                    {
                        report.resealed += 1;
                    }
                }
                Ok(report)
            }
            .await;
            (tx, result)
        })
        .await
    }
}

pub(crate) fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brand() -> BrandId {
        BrandId::from_bytes([1; 16])
    }

    fn integration() -> IntegrationId {
        IntegrationId::from_bytes([2; 16])
    }

    fn keys(byte: u8) -> SecretKeys {
        SecretKeys::new(SecretKey::from_bytes([byte; 32]))
    }

    /// A value as it was sealed before key ids: bare hex, under the server key itself.
    fn legacy_seal(key: &SecretKey, secret: &[u8]) -> String {
        let nonce = [4u8; NONCE_BYTES];
        let aad = associated_data(brand(), integration());
        let sealed = key
            .legacy_cipher()
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: secret,
                    aad: &aad,
                },
            )
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        to_hex(&out)
    }

    #[test]
    fn sealed_secrets_open_only_with_the_same_key_brand_and_integration() {
        let (b, i) = (brand(), integration());
        let sealed = seal(&keys(7), b, i, &[3; 12], b"whsec_abc").unwrap_or_default();
        assert!(sealed.starts_with(&format!("v1:{}:", keys(7).current().id())));
        assert_eq!(
            open(&keys(7), b, i, &sealed).as_deref(),
            Some(&b"whsec_abc"[..])
        );
        assert_eq!(open(&keys(8), b, i, &sealed), None);
        assert_eq!(
            open(&keys(7), BrandId::from_bytes([9; 16]), i, &sealed),
            None
        );
        assert_eq!(
            open(&keys(7), b, IntegrationId::from_bytes([9; 16]), &sealed),
            None
        );
        assert_eq!(open(&keys(7), b, i, "zz"), None);
        assert_eq!(open(&keys(7), b, i, "v1:zz"), None);
    }

    #[test]
    fn the_sealing_key_is_derived_not_the_server_key() {
        let key = SecretKey::from_bytes([7; 32]);
        assert_ne!(key.derive(WEBHOOK_SECRET_PURPOSE), key.0);
        let sealed = seal(&keys(7), brand(), integration(), &[3; 12], b"s").unwrap_or_default();
        let hex = sealed.rsplit(':').next().unwrap_or_default();
        let aad = associated_data(brand(), integration());
        assert_eq!(decrypt(&key.legacy_cipher(), hex, &aad), None);
        assert!(decrypt(&key.sealing_cipher(), hex, &aad).is_some());
    }

    #[test]
    fn values_sealed_before_key_ids_still_open() {
        let old = SecretKey::from_bytes([7; 32]);
        let legacy = legacy_seal(&old, b"whsec_legacy");
        assert_eq!(
            open(&keys(7), brand(), integration(), &legacy).as_deref(),
            Some(&b"whsec_legacy"[..])
        );
        assert!(!sealed_under_current(&keys(7), &legacy));
        let rotating = keys(8).with_previous(vec![old]);
        assert_eq!(
            open(&rotating, brand(), integration(), &legacy).as_deref(),
            Some(&b"whsec_legacy"[..])
        );
        assert_eq!(open(&keys(8), brand(), integration(), &legacy), None);
    }

    #[test]
    fn previous_keys_open_what_they_sealed_and_never_seal() {
        let (b, i) = (brand(), integration());
        let sealed_old = seal(&keys(7), b, i, &[3; 12], b"whsec_x").unwrap_or_default();
        let rotating = keys(8).with_previous(vec![SecretKey::from_bytes([7; 32])]);
        assert_eq!(
            open(&rotating, b, i, &sealed_old).as_deref(),
            Some(&b"whsec_x"[..])
        );
        assert!(!sealed_under_current(&rotating, &sealed_old));
        let sealed_new = seal(&rotating, b, i, &[5; 12], b"whsec_x").unwrap_or_default();
        assert!(sealed_under_current(&rotating, &sealed_new));
        assert!(sealed_under_current(&keys(8), &sealed_new));
        assert_eq!(open(&keys(7), b, i, &sealed_new), None);
        assert_eq!(
            open(&keys(8), b, i, &sealed_new).as_deref(),
            Some(&b"whsec_x"[..])
        );
    }

    #[test]
    fn key_ids_differ_and_show_nothing_of_the_key() {
        let a = SecretKey::from_bytes([7; 32]);
        let b = SecretKey::from_bytes([8; 32]);
        assert_ne!(a.id(), b.id());
        assert_eq!(a.id().len(), 8);
    }

    #[test]
    fn secret_keys_read_from_hex() {
        assert!(SecretKey::from_hex(&"ab".repeat(32)).is_ok());
        assert!(SecretKey::from_hex("abc").is_err());
        assert!(SecretKey::from_hex(&"ab".repeat(16)).is_err());
        assert!(SecretKey::from_hex(&"zz".repeat(32)).is_err());
        assert_eq!(
            format!("{:?}", SecretKey::from_bytes([1; 32])),
            "SecretKey(..)"
        );
    }
}
