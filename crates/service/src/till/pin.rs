//! Staff PINs: their shape (4 to 6 digits) and their slow, salted hash.
//!
//! A PIN has at most a million values, so no hash keeps a stolen table safe for long;
//! what protects a PIN is that guesses are counted at the till (see
//! [`PIN_ATTEMPTS`](super::PIN_ATTEMPTS)). The hash (PBKDF2-HMAC-SHA256, a random salt
//! per member) makes a stolen table cost seconds per PIN instead of nothing, and keeps
//! two members with the same PIN from looking alike.

use crate::secrets::{from_hex, to_hex};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// PBKDF2 rounds for new hashes; stored with each hash so it can be raised later.
pub(crate) const ROUNDS: u32 = 20_000;
const TAG: &str = "pbkdf2-sha256";

/// Whether `pin` is 4 to 6 ASCII digits.
pub fn pin_shaped(pin: &str) -> bool {
    (4..=6).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// PBKDF2-HMAC-SHA256 with one output block (32 bytes).
fn pbkdf2(pin: &[u8], salt: &[u8], rounds: u32) -> [u8; 32] {
    let mut out = [0; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(pin, salt, rounds, &mut out);
    out
}

/// The stored form of `pin` with `salt`: `pbkdf2-sha256$<rounds>$<salt hex>$<hash hex>`.
pub(crate) fn hash_pin(pin: &str, salt: &[u8; 16]) -> String {
    let digest = pbkdf2(pin.as_bytes(), salt, ROUNDS);
    format!("{TAG}${ROUNDS}${}${}", to_hex(salt), to_hex(&digest))
}

/// Whether `pin` matches the stored hash, compared in constant time. A hash that cannot
/// be read matches nothing.
pub(crate) fn pin_matches(pin: &str, stored: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some(TAG), Some(rounds), Some(salt), Some(hash), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let (Ok(rounds), Some(salt), Some(hash)) =
        (rounds.parse::<u32>(), from_hex(salt), from_hex(hash))
    else {
        return false;
    };
    if rounds == 0 || rounds > 10_000_000 {
        return false;
    }
    pbkdf2(pin.as_bytes(), &salt, rounds)
        .ct_eq(hash.as_slice())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_four_to_six_digits_are_pins() {
        for good in ["0000", "12345", "987654"] {
            assert!(pin_shaped(good), "{good}");
        }
        for bad in ["", "123", "1234567", "12a4", "１２３４", " 1234", "12 34"] {
            assert!(!pin_shaped(bad), "{bad}");
        }
    }

    #[test]
    fn a_hash_matches_its_pin_only() {
        let stored = hash_pin("2468", &[7; 16]);
        assert!(stored.starts_with("pbkdf2-sha256$20000$"));
        assert!(pin_matches("2468", &stored));
        assert!(!pin_matches("2469", &stored));
        assert!(!pin_matches("2468", "garbage"));
        // Another salt, another hash: equal PINs do not look alike.
        assert_ne!(stored, hash_pin("2468", &[8; 16]));
    }

    #[test]
    fn pbkdf2_matches_the_rfc_7914_vector() {
        // RFC 7914 §11: P = "passwd", S = "salt", c = 1, first 32 bytes.
        let out = pbkdf2(b"passwd", b"salt", 1);
        assert_eq!(
            to_hex(&out),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
    }
}
