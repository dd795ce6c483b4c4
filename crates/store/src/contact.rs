//! Contact data sealed at rest: customers' phone numbers, emails and Zalo ids, and every
//! other column that holds one (order phones, outbox recipients, POS links, waiting POS
//! orders, remembered responses).
//!
//! A value is sealed with ChaCha20-Poly1305 under a key derived for this purpose from the
//! server key, with associated data naming the column, the brand and the row, so a sealed
//! value copied onto another row or column does not open. It is stored as
//! `c1:<key id>:<base64 of nonce and ciphertext>`; the key id says which of the server's
//! keys opens it during a rotation. A value without the `c1:` tag was written before
//! sealing (or by a server given no key) and reads as it is, until
//! [`Store::seal_contacts`](crate::Store::seal_contacts) seals it.
//!
//! A customer is found by phone through a blind index: HMAC-SHA256 of the brand id and
//! the E.164 phone under a second derived key, unique per brand. Look-ups ask for the
//! index value under every key given, so customers not yet re-indexed after a rotation
//! are still found, in one indexed query.

use crate::error::corrupt;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use regulars_ports::StoreError;
use sha2::Sha256;
use std::fmt;
use uuid::Uuid;

/// The tag of a sealed value.
const TAG: &str = "c1:";
const NONCE_BYTES: usize = 12;

/// One server key's contact keys: the sealing key and the blind-index key, both derived
/// from the server key for these purposes alone, and the server key's public id.
///
/// The cipher and the keyed HMAC states (the blind index's, and the do-not-call list's
/// under its own key derived from the index key) are set up once, when the key is made:
/// a look-up or a seal only clones a ready state.
#[derive(Clone)]
pub struct ContactKey {
    id: String,
    cipher: ChaCha20Poly1305,
    index: Hmac<Sha256>,
    do_not_call: Hmac<Sha256>,
}

type Hmac<D> = hmac::Hmac<D>;

/// An HMAC-SHA256 state keyed with `key`.
fn keyed(key: &[u8]) -> Hmac<Sha256> {
    use hmac::KeyInit as _;
    <Hmac<Sha256>>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"))
}

/// The MAC of what `mac` was fed, in lower-case hex.
fn hex_digest(mac: Hmac<Sha256>) -> String {
    use hmac::Mac as _;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest: [u8; 32] = mac.finalize().into_bytes().into();
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

impl ContactKey {
    /// A key named `id` (the server key's public id: short, without `:`) that seals with
    /// `sealing` and indexes phones with `index`.
    pub fn new(id: impl Into<String>, sealing: [u8; 32], index: [u8; 32]) -> ContactKey {
        use hmac::Mac as _;
        // The do-not-call list's key: derived from the blind-index key for this purpose
        // alone, so a list hash never equals a customer's index value.
        let mut derive = keyed(&index);
        derive.update(b"regulars do-not-call list v1");
        let list_key: [u8; 32] = derive.finalize().into_bytes().into();
        ContactKey {
            id: id.into(),
            cipher: ChaCha20Poly1305::new(&Key::from(sealing)),
            index: keyed(&index),
            do_not_call: keyed(&list_key),
        }
    }

    /// The key's public id, stored with what it sealed.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn phone_index(&self, brand: Uuid, phone: &str) -> String {
        use hmac::Mac as _;
        let mut mac = self.index.clone();
        mac.update(brand.as_bytes());
        mac.update(phone.as_bytes());
        hex_digest(mac)
    }

    /// The do-not-call list's hash of `phone` (E.164): HMAC-SHA256 under a key derived
    /// from the blind-index key for this purpose alone, so a list hash never equals a
    /// customer's index value and neither can be computed without the server key.
    fn do_not_call_hash(&self, phone: &str) -> String {
        use hmac::Mac as _;
        let mut mac = self.do_not_call.clone();
        mac.update(phone.as_bytes());
        hex_digest(mac)
    }
}

impl fmt::Debug for ContactKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContactKey({})", self.id)
    }
}

/// The keys the store seals contact data with: the current one seals and indexes; the
/// previous ones (during a rotation) still open and find what was made under them.
#[derive(Clone, Debug)]
pub struct ContactKeys {
    current: ContactKey,
    previous: Vec<ContactKey>,
}

impl ContactKeys {
    /// Only `current`.
    pub fn new(current: ContactKey) -> ContactKeys {
        ContactKeys {
            current,
            previous: Vec::new(),
        }
    }

    /// Also opens and finds what `previous` keys made.
    pub fn with_previous(mut self, previous: Vec<ContactKey>) -> ContactKeys {
        self.previous = previous;
        self
    }

    /// The current key's id.
    pub fn current_id(&self) -> &str {
        self.current.id()
    }

    fn all(&self) -> impl Iterator<Item = &ContactKey> {
        std::iter::once(&self.current).chain(&self.previous)
    }

    /// The prefix of values sealed under the current key.
    pub(crate) fn current_prefix(&self) -> String {
        format!("{TAG}{}:", self.current.id)
    }

    /// The phone's blind index under the current key.
    pub(crate) fn phone_index(&self, brand: Uuid, phone: &str) -> String {
        self.current.phone_index(brand, phone)
    }

    /// The phone's blind index under every key, the current one first.
    pub(crate) fn phone_indexes(&self, brand: Uuid, phone: &str) -> Vec<String> {
        self.all()
            .map(|key| key.phone_index(brand, phone))
            .collect()
    }

    /// The Zalo user id's blind index under the current key: the phone index's HMAC
    /// over `zalo:` and the id (a phone in E.164 begins with `+`, so the two never meet).
    pub(crate) fn zalo_index(&self, brand: Uuid, zalo_user_id: &str) -> String {
        self.current
            .phone_index(brand, &format!("zalo:{zalo_user_id}"))
    }

    /// The Zalo user id's blind index under every key, the current one first.
    pub(crate) fn zalo_indexes(&self, brand: Uuid, zalo_user_id: &str) -> Vec<String> {
        let value = format!("zalo:{zalo_user_id}");
        self.all()
            .map(|key| key.phone_index(brand, &value))
            .collect()
    }

    /// The phone's do-not-call hash under every key, with the key's id, the current one
    /// first.
    pub(crate) fn do_not_call_hashes(&self, phone: &str) -> Vec<(&str, String)> {
        self.all()
            .map(|key| (key.id(), key.do_not_call_hash(phone)))
            .collect()
    }

    fn seal_with(&self, aad: &[u8], plain: &str, nonce: [u8; NONCE_BYTES]) -> String {
        let sealed = self
            .current
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad,
                },
            )
            .unwrap_or_else(|_| unreachable!("ChaCha20-Poly1305 seals any short message"));
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!(
            "{}{}",
            self.current_prefix(),
            STANDARD_NO_PAD.encode(&bytes)
        )
    }

    /// Opens `stored` (sealed under any of the keys); `None` when none of them opens it
    /// with this associated data.
    fn open_with(&self, aad: &[u8], sealed: &str) -> Option<String> {
        let (kid, text) = sealed.split_once(':')?;
        let bytes = STANDARD_NO_PAD.decode(text).ok()?;
        if bytes.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
        let plain = self.all().filter(|key| key.id == kid).find_map(|key| {
            key.cipher
                .decrypt(
                    &Nonce::from(nonce),
                    Payload {
                        msg: ciphertext,
                        aad,
                    },
                )
                .ok()
        })?;
        String::from_utf8(plain).ok()
    }
}

/// Where a sealed value lives: its column, brand and row. The associated data of its
/// seal, so that it opens nowhere else.
pub(crate) struct Place {
    column: &'static str,
    aad: Vec<u8>,
}

impl Place {
    /// `column` (as `table.column`) of the row of `brand` named by the parts of `row`.
    pub(crate) fn new(column: &'static str, brand: Uuid, row: &[&[u8]]) -> Place {
        let mut aad = Vec::with_capacity(64);
        for part in [column.as_bytes(), brand.as_bytes()]
            .into_iter()
            .chain(row.iter().copied())
        {
            aad.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
            aad.extend_from_slice(part);
        }
        Place { column, aad }
    }

    fn aad(&self) -> &[u8] {
        &self.aad
    }
}

/// Whether a stored value is sealed (under some key) rather than plain.
#[cfg(test)]
pub(crate) fn is_sealed(stored: &str) -> bool {
    stored.starts_with(TAG)
}

/// `plain` sealed for `place` under the current key; as it is when the store has no keys.
pub(crate) fn seal(keys: Option<&ContactKeys>, place: &Place, plain: &str) -> String {
    match keys {
        Some(keys) => {
            let mut nonce = [0u8; NONCE_BYTES];
            if let Err(e) = getrandom::fill(&mut nonce) {
                // Without randomness no nonce is safe to use: nothing sensible remains.
                panic!("the operating system's random number generator failed: {e}");
            }
            keys.seal_with(place.aad(), plain, nonce)
        }
        None => plain.to_owned(),
    }
}

/// [`seal`] of an optional value.
pub(crate) fn seal_opt(
    keys: Option<&ContactKeys>,
    place: &Place,
    plain: Option<&str>,
) -> Option<String> {
    plain.map(|plain| seal(keys, place, plain))
}

/// The plain value of `stored`: opened when sealed, as it is when written plain.
///
/// # Errors
///
/// [`StoreError::Corrupt`] when it is sealed and none of the keys given opens it for
/// this place (a key missing from `REGULARS_PREVIOUS_SECRET_KEYS`, or a value moved).
pub(crate) fn open(
    keys: Option<&ContactKeys>,
    place: &Place,
    stored: &str,
) -> Result<String, StoreError> {
    let Some(sealed) = stored.strip_prefix(TAG) else {
        return Ok(stored.to_owned());
    };
    let kid = sealed.split(':').next().unwrap_or_default();
    keys.and_then(|keys| keys.open_with(place.aad(), sealed))
        .ok_or_else(|| {
            corrupt(
                place.column,
                format_args!("sealed under key {kid}, which none of the server's keys opens"),
            )
        })
}

/// [`open`] of an optional value.
pub(crate) fn open_opt(
    keys: Option<&ContactKeys>,
    place: &Place,
    stored: Option<&str>,
) -> Result<Option<String>, StoreError> {
    stored.map(|stored| open(keys, place, stored)).transpose()
}

/// `text` with anything that may be a phone number (a run of 8 or more digits, with its
/// `+`) or an email address (a word with an `@`) replaced by `…`: for free texts that
/// providers send back, such as delivery errors, which are kept but not sealed.
pub(crate) fn redact_contacts(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if word.contains('@') {
            out.push('…');
            continue;
        }
        let mut digits = String::new();
        for c in word.chars() {
            if c.is_ascii_digit() || (c == '+' && digits.is_empty()) {
                digits.push(c);
                continue;
            }
            flush_digits(&mut out, &mut digits);
            out.push(c);
        }
        flush_digits(&mut out, &mut digits);
    }
    out
}

fn flush_digits(out: &mut String, digits: &mut String) {
    if digits.chars().filter(char::is_ascii_digit).count() >= 8 {
        out.push('…');
    } else {
        out.push_str(digits);
    }
    digits.clear();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn key(byte: u8) -> ContactKey {
        ContactKey::new(format!("k{byte:02x}"), [byte; 32], [byte ^ 0xff; 32])
    }

    fn keys(byte: u8) -> ContactKeys {
        ContactKeys::new(key(byte))
    }

    const BRAND: Uuid = Uuid::from_bytes([1; 16]);
    const ROW: &[&[u8]] = &[&[2; 16]];

    fn place() -> Place {
        Place::new("customers.phone", BRAND, ROW)
    }

    proptest! {
        #[test]
        fn sealed_values_open_to_themselves_and_show_nothing(
            plain in "\\PC{0,40}",
            nonce in any::<[u8; 12]>(),
        ) {
            let k = keys(7);
            let sealed = k.seal_with(place().aad(), &plain, nonce);
            prop_assert!(sealed.starts_with("c1:k07:"));
            prop_assert!(is_sealed(&sealed));
            if plain.len() >= 4 {
                prop_assert!(!sealed.contains(&plain));
            }
            prop_assert_eq!(open(Some(&k), &place(), &sealed).ok(), Some(plain.clone()));
            // A previous key still opens; a server with only another key does not.
            let rotated = keys(8).with_previous(vec![key(7)]);
            prop_assert_eq!(open(Some(&rotated), &place(), &sealed).ok(), Some(plain));
            prop_assert!(open(Some(&keys(8)), &place(), &sealed).is_err());
            prop_assert!(open(None, &place(), &sealed).is_err());
        }

        #[test]
        fn sealed_values_open_only_in_their_own_column_brand_and_row(
            plain in "\\+84[0-9]{9}",
            nonce in any::<[u8; 12]>(),
            other in any::<[u8; 16]>(),
        ) {
            prop_assume!(other != [1; 16] && other != [2; 16]);
            let k = keys(7);
            let sealed = k.seal_with(place().aad(), &plain, nonce);
            let other_column = Place::new("customers.email", BRAND, ROW);
            let other_brand = Place::new("customers.phone", Uuid::from_bytes(other), ROW);
            let row: &[&[u8]] = &[&other];
            let other_row = Place::new("customers.phone", BRAND, row);
            prop_assert!(open(Some(&k), &other_column, &sealed).is_err());
            prop_assert!(open(Some(&k), &other_brand, &sealed).is_err());
            prop_assert!(open(Some(&k), &other_row, &sealed).is_err());
            // A key that claims the same id but is another key does not open it either.
            let impostor = ContactKeys::new(ContactKey::new("k07", [9; 32], [9; 32]));
            prop_assert!(open(Some(&impostor), &place(), &sealed).is_err());
        }

        #[test]
        fn blind_indexes_are_per_key_and_per_brand(plain in "\\+84[0-9]{9}") {
            let k = keys(7);
            let index = k.phone_index(BRAND, &plain);
            prop_assert_eq!(index.len(), 64);
            prop_assert!(!index.contains(&plain[1..]));
            prop_assert_eq!(&index, &k.phone_index(BRAND, &plain));
            prop_assert_ne!(&index, &keys(8).phone_index(BRAND, &plain));
            prop_assert_ne!(&index, &k.phone_index(Uuid::from_bytes([3; 16]), &plain));
            let rotated = keys(8).with_previous(vec![key(7)]);
            let all = rotated.phone_indexes(BRAND, &plain);
            prop_assert_eq!(all.len(), 2);
            prop_assert_eq!(&all[1], &index);
        }

        #[test]
        fn do_not_call_hashes_are_per_key_and_not_blind_indexes(plain in "\\+84[0-9]{9}") {
            let rotated = keys(8).with_previous(vec![key(7)]);
            let hashes = rotated.do_not_call_hashes(&plain);
            prop_assert_eq!(hashes.len(), 2);
            prop_assert_eq!(hashes[0].0, "k08");
            let old = keys(7);
            prop_assert_eq!(&hashes[1].1, &old.do_not_call_hashes(&plain)[0].1);
            prop_assert_ne!(&hashes[0].1, &hashes[1].1);
            prop_assert_eq!(hashes[0].1.len(), 64);
            prop_assert!(!hashes[0].1.contains(&plain[1..]));
            prop_assert_ne!(&hashes[1].1, &keys(7).phone_index(Uuid::nil(), &plain));
        }
    }

    #[test]
    fn kept_hmac_states_give_the_values_stored_before() {
        use hmac::{KeyInit as _, Mac as _};
        fn hmac_hex(key: &[u8], parts: &[&[u8]]) -> String {
            let mut mac = <hmac::Hmac<Sha256>>::new_from_slice(key).unwrap();
            parts.iter().for_each(|part| mac.update(part));
            mac.finalize()
                .into_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        }
        let phone = "+84901234567";
        let index_key = [7 ^ 0xff; 32];
        let k = keys(7);
        assert_eq!(
            k.phone_index(BRAND, phone),
            hmac_hex(&index_key, &[BRAND.as_bytes(), phone.as_bytes()])
        );
        let mut derive = <hmac::Hmac<Sha256>>::new_from_slice(&index_key).unwrap();
        derive.update(b"regulars do-not-call list v1");
        let list_key: [u8; 32] = derive.finalize().into_bytes().into();
        assert_eq!(
            k.do_not_call_hashes(phone)[0].1,
            hmac_hex(&list_key, &[phone.as_bytes()])
        );
        // The same key twice: the kept states are not consumed by a use.
        assert_eq!(k.phone_index(BRAND, phone), k.phone_index(BRAND, phone));
    }

    #[test]
    fn free_texts_lose_their_phones_and_emails() {
        assert_eq!(
            redact_contacts("recipient \"+84901234567\" is not an E.164 phone number"),
            "recipient \"…\" is not an E.164 phone number"
        );
        assert_eq!(
            redact_contacts("HTTP 400: {\"phone\":\"0901234567\",\"to\":\"lan@example.vn\"}"),
            "HTTP 400: …"
        );
        assert_eq!(
            redact_contacts("error 429 after 3 tries, id 1234567"),
            "error 429 after 3 tries, id 1234567"
        );
        assert_eq!(redact_contacts("số 84901234567."), "số ….");
    }

    #[test]
    fn plain_values_read_as_they_are_and_stay_plain_without_keys() {
        assert_eq!(
            open(None, &place(), "+84901234567").unwrap(),
            "+84901234567"
        );
        assert_eq!(
            open(Some(&keys(7)), &place(), "+84901234567").unwrap(),
            "+84901234567"
        );
        assert_eq!(seal(None, &place(), "+84901234567"), "+84901234567");
        let sealed = seal(Some(&keys(7)), &place(), "+84901234567");
        assert!(sealed.starts_with("c1:k07:"));
        assert_ne!(sealed, seal(Some(&keys(7)), &place(), "+84901234567"));
        assert!(open(Some(&keys(7)), &place(), "c1:k07:!!").is_err());
        assert!(open(Some(&keys(7)), &place(), "c1:").is_err());
        assert_eq!(format!("{:?}", key(7)), "ContactKey(k07)");
    }
}
