//! The tokens of the click redirect (`/l/{token}`) and the email open pixel
//! (`/o/{token}.gif`): a message id and a link index, signed with HMAC-SHA256 under a
//! key derived from the server key for each purpose alone. The signed bytes also cover
//! the message's brand, which the token does not carry (it would double its length in
//! an SMS): the brand comes from the message the id names, and a token is authentic only
//! for that brand's message. Pure: keys come from the caller.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use regulars_domain::BrandId;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// The purpose the click-link key is derived for.
pub(crate) const CLICK_PURPOSE: &str = "click-link";
/// The purpose the open-pixel key is derived for.
pub(crate) const OPEN_PURPOSE: &str = "open-pixel";
/// The format's version byte.
const VERSION: u8 = 1;
/// Bytes of the MAC kept: 72 bits, past guessing for a link that gives no money.
const MAC_BYTES: usize = 9;
/// Version, message id, link index, MAC: 27 bytes, 36 characters.
const TOKEN_BYTES: usize = 1 + 16 + 1 + MAC_BYTES;
/// Characters of a token.
pub const TOKEN_CHARS: usize = TOKEN_BYTES * 4 / 3;
// The path `/l/<token>` stays under 40 characters, short for an SMS.
const _: () = assert!(TOKEN_CHARS <= 36);

/// What a token says before its signature is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unchecked {
    /// The outbox message.
    pub(crate) message: Uuid,
    /// The link's index among the message's links (0 for a pixel).
    pub(crate) link: u8,
    tag: [u8; MAC_BYTES],
}

fn mac(key: &[u8; 32], brand: BrandId, payload: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(brand.as_uuid().as_bytes());
    mac.update(payload);
    mac.finalize().into_bytes().into()
}

fn payload(message: Uuid, link: u8) -> [u8; 18] {
    let mut bytes = [0_u8; 18];
    bytes[0] = VERSION;
    bytes[1..17].copy_from_slice(message.as_bytes());
    bytes[17] = link;
    bytes
}

/// The token of link `link` of `message` of `brand` under `key`.
pub(crate) fn sign(key: &[u8; 32], brand: BrandId, message: Uuid, link: u8) -> String {
    let payload = payload(message, link);
    let tag = mac(key, brand, &payload);
    let mut bytes = Vec::with_capacity(TOKEN_BYTES);
    bytes.extend_from_slice(&payload);
    bytes.extend_from_slice(&tag[..MAC_BYTES]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Reads `token` without checking it: `None` when it is not of the format.
pub(crate) fn read(token: &str) -> Option<Unchecked> {
    let token = token.trim();
    if token.len() != TOKEN_CHARS {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    if bytes.len() != TOKEN_BYTES || bytes.first() != Some(&VERSION) {
        return None;
    }
    Some(Unchecked {
        message: Uuid::from_slice(bytes.get(1..17)?).ok()?,
        link: *bytes.get(17)?,
        tag: bytes.get(18..)?.try_into().ok()?,
    })
}

impl Unchecked {
    /// Whether one of `keys` signed this token for a message of `brand`.
    pub(crate) fn signed_for(
        &self,
        keys: impl IntoIterator<Item = [u8; 32]>,
        brand: BrandId,
    ) -> bool {
        let payload = payload(self.message, self.link);
        keys.into_iter()
            .any(|key| bool::from(mac(&key, brand, &payload)[..MAC_BYTES].ct_eq(&self.tag)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: [u8; 32] = [7; 32];
    const OTHER: [u8; 32] = [8; 32];

    #[test]
    fn a_token_is_short_and_opens_only_for_its_brand_and_key() {
        let brand = BrandId::from_bytes([1; 16]);
        let message = Uuid::from_bytes([2; 16]);
        let token = sign(&KEY, brand, message, 3);
        assert_eq!(token.len(), TOKEN_CHARS);
        let read = read(&token).unwrap();
        assert_eq!((read.message, read.link), (message, 3));
        assert!(read.signed_for([KEY], brand));
        assert!(
            read.signed_for([OTHER, KEY], brand),
            "a rotated key still opens"
        );
        assert!(!read.signed_for([OTHER], brand));
        assert!(
            !read.signed_for([KEY], BrandId::from_bytes([9; 16])),
            "another brand's message of the same id does not open it"
        );
    }

    #[test]
    fn rubbish_is_not_a_token() {
        for token in ["", "x", "%%%", &"A".repeat(36), &"A".repeat(10_000)] {
            assert!(read(token).is_none_or(|t| !t.signed_for([KEY], BrandId::from_bytes([0; 16]))));
        }
    }

    proptest! {
        /// Changing any character of a token makes it fail its signature or its format
        /// (never another message's valid token).
        #[test]
        fn any_tampering_is_refused(seed in any::<u8>(), link in any::<u8>(), at in 0usize..36, to in 0u8..64) {
            let brand = BrandId::from_bytes([seed; 16]);
            let token = sign(&KEY, brand, Uuid::from_bytes([seed.wrapping_add(1); 16]), link);
            let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let mut bytes = token.clone().into_bytes();
            bytes[at] = alphabet[usize::from(to)];
            let tampered = String::from_utf8(bytes).unwrap();
            prop_assume!(URL_SAFE_NO_PAD.decode(&tampered).ok() != URL_SAFE_NO_PAD.decode(&token).ok());
            prop_assert!(read(&tampered).is_none_or(|t| !t.signed_for([KEY], brand)));
        }
    }
}
