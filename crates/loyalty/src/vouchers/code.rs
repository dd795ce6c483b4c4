//! Voucher codes: short enough to read aloud at the till, unguessable, and self-checking.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// Crockford's base32 alphabet: digits and upper-case letters without I, L, O and U, so
/// no two symbols look alike and no accidental words are spelled.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Random symbols in a code: 12 × 5 bits = 60 random bits.
const DATA_SYMBOLS: usize = 12;

/// Symbols in a code: the random ones and the check symbol.
const CODE_SYMBOLS: usize = DATA_SYMBOLS + 1;

/// The path segment the QR payload puts before the code.
const QR_PATH: &str = "/v/";

/// A voucher code such as `K3ZP-7QWX-M2RA9`.
///
/// Twelve symbols of [Crockford base32](https://www.crockford.com/base32.html) carry
/// 60 random bits; a thirteenth symbol is a check symbol, so a mistyped code is rejected
/// at the till instead of being looked up (and instead of helping someone guess codes).
///
/// # Check symbol
///
/// The 13 symbol values `s₀ … s₁₂` are read as the coefficients of a polynomial over the
/// field GF(32) (modulus `x⁵ + x² + 1`), and the check symbol is chosen so that the
/// polynomial vanishes at the primitive element `α`:
/// `α¹²·s₀ + α¹¹·s₁ + … + α·s₁₁ + s₁₂ = 0`. Because GF(32) has no zero divisors this
/// detects **every** single-symbol substitution (the sum changes by `αᵏ·e ≠ 0`) and
/// **every** adjacent transposition (it changes by `αᵏ·(α+1)·(a−b) ≠ 0`), including
/// transpositions with the check symbol itself. The Luhn mod 32 scheme misses the
/// transposition of `0` and `Z` (`…0Z…` ↔ `…Z0…`), which is why it is not used here.
///
/// # Reading codes
///
/// [`VoucherCode::parse`] accepts lower case, spaces and hyphens anywhere, and reads the
/// Crockford look-alikes `O` as `0` and `I`/`L` as `1`. The canonical form
/// ([`VoucherCode::as_str`]) is the 13 upper-case symbols without separators; it is what
/// storage keeps and what the QR payload carries. [`Display`](fmt::Display) groups the
/// symbols as `XXXX-XXXX-XXXXX` for people.
///
/// ```
/// use regulars_loyalty::vouchers::{VoucherCode, VoucherCodeError};
///
/// // The bytes must come from a CSPRNG (the caller's `getrandom`/`OsRng`).
/// let code = VoucherCode::from_random_bytes([0x1f, 0x2e, 0x3d, 0x4c, 0x5b, 0x6a, 0x79, 0x88]);
/// assert_eq!(code.as_str().len(), 13);
///
/// // What a cashier types is forgiving about case, spaces and hyphens...
/// let typed = code.to_string().to_lowercase().replace('-', " ");
/// assert_eq!(VoucherCode::parse(&typed)?, code);
///
/// // ...but a mistyped symbol is caught by the check symbol.
/// let mut wrong = code.as_str().to_owned();
/// let replacement = if wrong.starts_with('7') { "8" } else { "7" };
/// wrong.replace_range(0..1, replacement);
/// assert_eq!(VoucherCode::parse(&wrong), Err(VoucherCodeError::CheckSymbolMismatch));
///
/// assert_eq!(
///     code.qr_payload("https://regulars.example/brand"),
///     format!("https://regulars.example/brand/v/{}", code.as_str()),
/// );
/// # Ok::<(), VoucherCodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VoucherCode(String);

/// Why a string is not a voucher code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VoucherCodeError {
    /// A character that is neither a code symbol nor a separator.
    #[error("{symbol:?} is not a voucher code symbol")]
    InvalidSymbol {
        /// The offending character.
        symbol: char,
    },
    /// Not exactly 13 symbols once separators are removed.
    #[error("a voucher code has {expected} symbols, found {found}")]
    WrongLength {
        /// Symbols a code has (13).
        expected: usize,
        /// Symbols found in the input.
        found: usize,
    },
    /// The check symbol does not match: a symbol was mistyped or two were swapped.
    #[error("voucher code check symbol does not match: a symbol is mistyped or two are swapped")]
    CheckSymbolMismatch,
    /// A QR payload that is not a voucher address under the expected base URL.
    #[error("not a voucher address under {base_url}")]
    NotAVoucherUrl {
        /// The base URL that was expected.
        base_url: String,
    },
}

/// A voucher code as shown where it is not redeemed (read-only keys, message lists):
/// the first two and the last two symbols of whatever `text` holds, never enough to
/// redeem or to guess (nine hidden symbols are 45 bits).
///
/// ```
/// use regulars_loyalty::vouchers::masked_code;
/// assert_eq!(masked_code("K3ZP-7QWX-M2RA9"), "K3…A9");
/// assert_eq!(masked_code("K3"), "…");
/// ```
pub fn masked_code(text: &str) -> String {
    let symbols: Vec<char> = text.chars().filter(char::is_ascii_alphanumeric).collect();
    if symbols.len() < 8 {
        return "…".to_owned();
    }
    let head: String = symbols[..2].iter().collect();
    let tail: String = symbols[symbols.len() - 2..].iter().collect();
    format!("{head}…{tail}")
}

impl VoucherCode {
    /// Builds a fresh code from 8 random bytes.
    ///
    /// **The bytes must come from a cryptographically secure random number generator**
    /// (for example the operating system's, through `getrandom`): the code's only
    /// protection against guessing is its 60 bits of entropy. The crate has no
    /// randomness of its own, so it cannot check this.
    ///
    /// The low 60 bits of the bytes read as a big-endian integer become the 12 data
    /// symbols; the top 4 bits of the first byte are ignored.
    pub fn from_random_bytes(bytes: [u8; 8]) -> VoucherCode {
        let bits = u64::from_be_bytes(bytes);
        let mut values = [0u8; CODE_SYMBOLS];
        for (i, value) in values.iter_mut().take(DATA_SYMBOLS).enumerate() {
            let shift = 5 * (DATA_SYMBOLS - 1 - i);
            // Masked to 5 bits, so the cast cannot truncate.
            *value = ((bits >> shift) & 0x1f) as u8;
        }
        values[DATA_SYMBOLS] = check_symbol(&values[..DATA_SYMBOLS]);
        VoucherCode::from_values(&values)
    }

    /// Reads a code as typed or scanned.
    ///
    /// Accepts lower case, ASCII spaces, other whitespace and hyphens, and the Crockford
    /// look-alikes (`O` → `0`, `I`/`L` → `1`). Rejects any other character, a wrong
    /// number of symbols, and a check symbol that does not match. Never panics.
    pub fn parse(input: &str) -> Result<VoucherCode, VoucherCodeError> {
        let mut values = [0u8; CODE_SYMBOLS];
        let mut found = 0usize;
        for c in input.chars() {
            if c == '-' || c.is_whitespace() {
                continue;
            }
            let value = symbol_value(c).ok_or(VoucherCodeError::InvalidSymbol { symbol: c })?;
            if let Some(slot) = values.get_mut(found) {
                *slot = value;
            }
            found += 1;
        }
        if found != CODE_SYMBOLS {
            return Err(VoucherCodeError::WrongLength {
                expected: CODE_SYMBOLS,
                found,
            });
        }
        if syndrome(&values) != 0 {
            return Err(VoucherCodeError::CheckSymbolMismatch);
        }
        Ok(VoucherCode::from_values(&values))
    }

    /// Reads the code out of a scanned QR payload made by [`VoucherCode::qr_payload`]
    /// with the same `base_url`.
    pub fn parse_qr_payload(
        payload: &str,
        base_url: &str,
    ) -> Result<VoucherCode, VoucherCodeError> {
        let base = base_url.trim_end_matches('/');
        payload
            .strip_prefix(base)
            .and_then(|rest| rest.strip_prefix(QR_PATH))
            .ok_or_else(|| VoucherCodeError::NotAVoucherUrl {
                base_url: base.to_owned(),
            })
            .and_then(VoucherCode::parse)
    }

    /// The canonical form: 13 upper-case symbols, no separators.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text a QR code for this voucher encodes: `{base_url}/v/{code}`, with the
    /// canonical code (a trailing `/` on `base_url` is not doubled). The page at that
    /// address shows the voucher; a till scanning it reads the code back with
    /// [`VoucherCode::parse_qr_payload`].
    pub fn qr_payload(&self, base_url: &str) -> String {
        format!("{}{}{}", base_url.trim_end_matches('/'), QR_PATH, self.0)
    }

    fn from_values(values: &[u8; CODE_SYMBOLS]) -> VoucherCode {
        VoucherCode(
            values
                .iter()
                .map(|&v| char::from(ALPHABET[usize::from(v & 0x1f)]))
                .collect(),
        )
    }
}

/// The value of a symbol, case-insensitively, with Crockford's look-alikes.
fn symbol_value(c: char) -> Option<u8> {
    match c.to_ascii_uppercase() {
        'O' => Some(0),
        'I' | 'L' => Some(1),
        upper => ALPHABET
            .iter()
            .position(|&a| char::from(a) == upper)
            .and_then(|p| u8::try_from(p).ok()),
    }
}

/// Multiplication by the primitive element `α` of GF(32) = GF(2)[x] / (x⁵ + x² + 1).
fn times_alpha(x: u8) -> u8 {
    let shifted = x << 1;
    if shifted & 0x20 == 0 {
        shifted
    } else {
        shifted ^ 0x25
    }
}

/// Horner evaluation at `α` of the polynomial whose coefficients are `values`.
fn syndrome(values: &[u8]) -> u8 {
    values.iter().fold(0, |acc, &v| times_alpha(acc) ^ v)
}

/// The symbol that makes the syndrome of `data` followed by it zero.
fn check_symbol(data: &[u8]) -> u8 {
    times_alpha(syndrome(data))
}

impl fmt::Display for VoucherCode {
    /// Groups the canonical symbols as `XXXX-XXXX-XXXXX`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.as_str();
        match (s.get(..4), s.get(4..8), s.get(8..)) {
            (Some(a), Some(b), Some(c)) => write!(f, "{a}-{b}-{c}"),
            _ => f.write_str(s),
        }
    }
}

impl FromStr for VoucherCode {
    type Err = VoucherCodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VoucherCode::parse(s)
    }
}

impl Serialize for VoucherCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for VoucherCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        VoucherCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_generates_the_whole_multiplicative_group() {
        // α must be primitive (order 31) for the weights α⁰…α¹² to be distinct.
        let mut x = 1u8;
        for k in 1..=31 {
            x = times_alpha(x);
            assert_eq!(x == 1, k == 31, "α^{k} = {x}");
        }
    }

    #[test]
    fn known_code_and_its_display_form() {
        let code = VoucherCode::from_random_bytes([0; 8]);
        assert_eq!(code.as_str(), "0000000000000");
        assert_eq!(code.to_string(), "0000-0000-00000");

        let code = VoucherCode::from_random_bytes([0xff; 8]);
        assert_eq!(&code.as_str()[..12], "ZZZZZZZZZZZZ");
        assert_eq!(VoucherCode::parse(&code.to_string()), Ok(code));
    }

    #[test]
    fn the_luhn_blind_spot_is_caught() {
        // Luhn mod 32 accepts both "…0Z…" and "…Z0…" with the same check symbol.
        let data: Vec<u8> = "ABCD0ZEFGHJK".chars().filter_map(symbol_value).collect();
        let check = char::from(ALPHABET[usize::from(check_symbol(&data))]);
        assert!(VoucherCode::parse(&format!("ABCD0ZEFGHJK{check}")).is_ok());
        assert_eq!(
            VoucherCode::parse(&format!("ABCDZ0EFGHJK{check}")),
            Err(VoucherCodeError::CheckSymbolMismatch)
        );
    }

    #[test]
    fn look_alikes_and_separators_are_forgiven() {
        let code = VoucherCode::from_random_bytes([0; 8]);
        assert_eq!(VoucherCode::parse("oooo-OOOO 0000 0"), Ok(code));
        assert_eq!(
            VoucherCode::parse("0000-0000-0000U"),
            Err(VoucherCodeError::InvalidSymbol { symbol: 'U' })
        );
        assert_eq!(
            VoucherCode::parse("0000-0000-0000"),
            Err(VoucherCodeError::WrongLength {
                expected: 13,
                found: 12
            })
        );
    }

    #[test]
    fn qr_payload_round_trips() {
        let code = VoucherCode::from_random_bytes([7; 8]);
        let payload = code.qr_payload("https://q.example/");
        assert_eq!(payload, format!("https://q.example/v/{}", code.as_str()));
        assert_eq!(
            VoucherCode::parse_qr_payload(&payload, "https://q.example"),
            Ok(code)
        );
        assert!(matches!(
            VoucherCode::parse_qr_payload(&payload, "https://evil.example"),
            Err(VoucherCodeError::NotAVoucherUrl { .. })
        ));
    }
}
