//! The rating link's token: brand, order, customer and expiry, signed with HMAC-SHA256
//! under a key derived from the server key for this purpose alone. Pure: keys and "now"
//! come from the caller.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use regulars_domain::{BrandId, CustomerId, OrderId};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// The purpose the link key is derived for.
pub(crate) const PURPOSE: &str = "rating-link";
/// How long a rating link stays open after its message was written.
pub const RATING_LINK_VALIDITY: Duration = Duration::days(14);
/// The format's version byte, so a later format can be told apart.
const VERSION: u8 = 1;
/// Bytes of the MAC kept: 96 bits is past guessing and keeps the link short.
const MAC_BYTES: usize = 12;
/// Version, brand, order, customer, expiry (unix seconds, u32), MAC: 87 characters.
const TOKEN_BYTES: usize = 1 + 16 + 16 + 16 + 4 + MAC_BYTES;

/// What a rating link names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatingClaims {
    /// The brand.
    pub brand: BrandId,
    /// The order rated.
    pub order: OrderId,
    /// The customer the order was credited to.
    pub customer: CustomerId,
    /// When the link stops working (whole seconds).
    pub expires_at: OffsetDateTime,
}

/// Why a token opens nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// Not a token, altered, or signed under a key the server does not have.
    Invalid,
    /// Authentic but past its expiry.
    Expired,
}

fn mac(key: &[u8; 32], payload: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(payload);
    mac.finalize().into_bytes().into()
}

/// The token of `claims` under `key`; `None` when the expiry does not fit the format
/// (before 1970 or after 2106).
pub(crate) fn sign(key: &[u8; 32], claims: &RatingClaims) -> Option<String> {
    let expires = u32::try_from(claims.expires_at.unix_timestamp()).ok()?;
    let mut bytes = Vec::with_capacity(TOKEN_BYTES);
    bytes.push(VERSION);
    bytes.extend_from_slice(claims.brand.as_uuid().as_bytes());
    bytes.extend_from_slice(claims.order.as_uuid().as_bytes());
    bytes.extend_from_slice(claims.customer.as_uuid().as_bytes());
    bytes.extend_from_slice(&expires.to_be_bytes());
    let tag = mac(key, &bytes);
    bytes.extend_from_slice(&tag[..MAC_BYTES]);
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

/// What `token` names, if one of `keys` signed it and it has not expired at `now`.
pub(crate) fn open(
    keys: impl IntoIterator<Item = [u8; 32]>,
    token: &str,
    now: OffsetDateTime,
) -> Result<RatingClaims, TokenProblem> {
    let token = token.trim();
    if token.len() > 2 * TOKEN_BYTES {
        return Err(TokenProblem::Invalid);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| TokenProblem::Invalid)?;
    if bytes.len() != TOKEN_BYTES || bytes.first() != Some(&VERSION) {
        return Err(TokenProblem::Invalid);
    }
    let (payload, tag) = bytes.split_at(TOKEN_BYTES - MAC_BYTES);
    let signed = keys
        .into_iter()
        .any(|key| bool::from(mac(&key, payload)[..MAC_BYTES].ct_eq(tag)));
    if !signed {
        return Err(TokenProblem::Invalid);
    }
    let uuid = |range: std::ops::Range<usize>| {
        payload
            .get(range)
            .and_then(|b| Uuid::from_slice(b).ok())
            .ok_or(TokenProblem::Invalid)
    };
    let expires: [u8; 4] = payload
        .get(49..53)
        .and_then(|b| b.try_into().ok())
        .ok_or(TokenProblem::Invalid)?;
    let expires_at = OffsetDateTime::from_unix_timestamp(i64::from(u32::from_be_bytes(expires)))
        .map_err(|_| TokenProblem::Invalid)?;
    if now >= expires_at {
        return Err(TokenProblem::Expired);
    }
    Ok(RatingClaims {
        brand: BrandId::from_uuid(uuid(1..17)?),
        order: OrderId::from_uuid(uuid(17..33)?),
        customer: CustomerId::from_uuid(uuid(33..49)?),
        expires_at,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    const KEY: [u8; 32] = [7; 32];
    const OTHER: [u8; 32] = [8; 32];

    fn claims(seed: u8, expires_at: OffsetDateTime) -> RatingClaims {
        RatingClaims {
            brand: BrandId::from_bytes([seed; 16]),
            order: OrderId::from_bytes([seed.wrapping_add(1); 16]),
            customer: CustomerId::from_bytes([seed.wrapping_add(2); 16]),
            expires_at,
        }
    }

    #[test]
    fn a_signed_token_opens_until_it_expires() {
        let now = datetime!(2026-12-07 08:00 UTC);
        let c = claims(1, now + RATING_LINK_VALIDITY);
        let token = sign(&KEY, &c).unwrap();
        assert_eq!(token.len(), 87);
        assert_eq!(open([KEY], &token, now), Ok(c));
        // A rotated server key still opens links made under the previous one.
        assert_eq!(open([OTHER, KEY], &token, now), Ok(c));
        assert_eq!(
            open([KEY], &token, now + RATING_LINK_VALIDITY),
            Err(TokenProblem::Expired)
        );
        assert_eq!(open([OTHER], &token, now), Err(TokenProblem::Invalid));
    }

    #[test]
    fn rubbish_is_invalid_not_a_panic() {
        let now = datetime!(2026-12-07 08:00 UTC);
        for token in ["", "x", "%%%", &"A".repeat(87), &"A".repeat(10_000)] {
            assert_eq!(open([KEY], token, now), Err(TokenProblem::Invalid));
        }
    }

    proptest! {
        /// Changing any character of a token makes it invalid (never another valid
        /// token, never expired-but-authentic).
        #[test]
        fn any_tampering_is_refused(seed in any::<u8>(), at in 0usize..87, to in 0u8..64) {
            let now = datetime!(2026-12-07 08:00 UTC);
            let token = sign(&KEY, &claims(seed, now + RATING_LINK_VALIDITY)).unwrap();
            let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let mut bytes = token.clone().into_bytes();
            bytes[at] = alphabet[usize::from(to)];
            let tampered = String::from_utf8(bytes).unwrap();
            prop_assume!(tampered != token);
            // The last character carries 2 spare bits base64 decoders may ignore; an
            // ignored change is the same token.
            let same = URL_SAFE_NO_PAD.decode(&tampered).ok() == URL_SAFE_NO_PAD.decode(&token).ok();
            prop_assume!(!same);
            prop_assert_eq!(open([KEY], &tampered, now), Err(TokenProblem::Invalid));
        }

        /// Every claim survives the round trip.
        #[test]
        fn claims_round_trip(seed in any::<u8>(), secs in 0i64..4_000_000_000) {
            let expires_at = OffsetDateTime::from_unix_timestamp(secs).unwrap();
            let c = claims(seed, expires_at);
            let token = sign(&KEY, &c).unwrap();
            let before = expires_at - Duration::seconds(1);
            prop_assert_eq!(open([KEY], &token, before), Ok(c));
        }
    }
}
