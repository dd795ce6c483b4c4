//! Signed values: the dashboard's session cookie, its CSRF tokens and the customer
//! link tokens. Each purpose has its own HMAC-SHA256 key derived from the server's
//! secret, so nothing signed for one purpose is accepted for another.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use regulars_domain::{ApiKeyId, BrandId, CustomerId, DeviceId, StaffId};
use regulars_service::{SecretKey, SecretKeys};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use uuid::Uuid;

/// Bytes of a link token's MAC: 128 bits is past guessing and keeps the URL short.
const LINK_MAC_BYTES: usize = 16;
/// Bytes of a link token: brand, customer, expiry, MAC.
const LINK_BYTES: usize = 16 + 16 + 8 + LINK_MAC_BYTES;

/// The keys of the dashboard and the customer pages: the current server key's, which
/// sign, and during a key rotation the previous keys' session and link keys, which
/// still open what they signed (sessions and customer links survive the rotation).
#[derive(Clone)]
pub struct Keys {
    session: [u8; 32],
    csrf: [u8; 32],
    link: [u8; 32],
    till: [u8; 32],
    previous: Vec<PreviousKeys>,
}

/// What a previous server key still opens.
#[derive(Clone)]
struct PreviousKeys {
    session: [u8; 32],
    link: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

fn mac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// A signed-in dashboard session as its cookie holds it: the key's brand and id (never
/// the key) and when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionClaims {
    /// The brand of the key.
    pub brand: BrandId,
    /// The key signed in with.
    pub key: ApiKeyId,
    /// The key's session epoch when it signed in: signing out bumps the key's epoch,
    /// which voids the cookie even where it was copied.
    pub epoch: i64,
    /// When the session ends.
    pub expires_at: OffsetDateTime,
}

/// A staff member signed in at a till, as the till cookie holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TillClaims {
    /// The brand.
    pub brand: BrandId,
    /// The device signed in on.
    pub device: DeviceId,
    /// The staff member.
    pub staff: StaffId,
    /// When the till session ends.
    pub expires_at: OffsetDateTime,
}

/// What a customer link points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkClaims {
    /// The brand.
    pub brand: BrandId,
    /// The customer.
    pub customer: CustomerId,
    /// When the link stops working.
    pub expires_at: OffsetDateTime,
}

impl Keys {
    /// Keys derived from the server's secret.
    pub fn from_secret(secret: &SecretKey) -> Keys {
        Keys {
            session: secret.derive("dashboard-session"),
            csrf: secret.derive("dashboard-csrf"),
            link: secret.derive("customer-link"),
            till: secret.derive("till-session"),
            previous: Vec::new(),
        }
    }

    /// Keys derived from the server's current secret, also opening the sessions and
    /// links that its previous secrets signed.
    pub fn from_secrets(secrets: &SecretKeys) -> Keys {
        let mut keys = Keys::from_secret(secrets.current());
        keys.previous = secrets
            .all()
            .skip(1)
            .map(|old| PreviousKeys {
                session: old.derive("dashboard-session"),
                link: old.derive("customer-link"),
            })
            .collect();
        keys
    }

    fn session_keys(&self) -> impl Iterator<Item = &[u8; 32]> {
        std::iter::once(&self.session).chain(self.previous.iter().map(|p| &p.session))
    }

    fn link_keys(&self) -> impl Iterator<Item = &[u8; 32]> {
        std::iter::once(&self.link).chain(self.previous.iter().map(|p| &p.link))
    }

    /// The session cookie's value: `<brand>.<key>.<epoch>.<expiry>.<mac>`.
    pub fn session_cookie(&self, claims: &SessionClaims) -> String {
        let payload = format!(
            "{}.{}.{}.{}",
            claims.brand,
            claims.key,
            claims.epoch,
            claims.expires_at.unix_timestamp()
        );
        let tag = mac(&self.session, &[payload.as_bytes()]);
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// The claims of a session cookie that is authentic and not expired at `now`.
    pub fn open_session(&self, cookie: &str, now: OffsetDateTime) -> Option<SessionClaims> {
        let (payload, tag) = cookie.rsplit_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let signed = self.session_keys().any(|key| {
            let expected = mac(key, &[payload.as_bytes()]);
            bool::from(expected.as_slice().ct_eq(&tag))
        });
        if !signed {
            return None;
        }
        let mut parts = payload.split('.');
        let brand: BrandId = parts.next()?.parse().ok()?;
        let key: ApiKeyId = parts.next()?.parse().ok()?;
        let epoch: i64 = parts.next()?.parse().ok()?;
        let expiry: i64 = parts.next()?.parse().ok()?;
        let expires_at = OffsetDateTime::from_unix_timestamp(expiry).ok()?;
        (parts.next().is_none() && expires_at > now).then_some(SessionClaims {
            brand,
            key,
            epoch,
            expires_at,
        })
    }

    /// A till session's cookie: `<brand>.<device>.<staff>.<expiry>.<mac>` under the
    /// till's own key (a dashboard cookie is never a till cookie, nor the reverse).
    pub fn till_cookie(&self, claims: &TillClaims) -> String {
        let payload = format!(
            "{}.{}.{}.{}",
            claims.brand,
            claims.device,
            claims.staff,
            claims.expires_at.unix_timestamp()
        );
        let tag = mac(&self.till, &[payload.as_bytes()]);
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// The claims of a till cookie that is authentic and not expired at `now`.
    pub fn open_till(&self, cookie: &str, now: OffsetDateTime) -> Option<TillClaims> {
        let (payload, tag) = cookie.rsplit_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let expected = mac(&self.till, &[payload.as_bytes()]);
        if !bool::from(expected.as_slice().ct_eq(&tag)) {
            return None;
        }
        let mut parts = payload.split('.');
        let brand: BrandId = parts.next()?.parse().ok()?;
        let device: DeviceId = parts.next()?.parse().ok()?;
        let staff: StaffId = parts.next()?.parse().ok()?;
        let expiry: i64 = parts.next()?.parse().ok()?;
        let expires_at = OffsetDateTime::from_unix_timestamp(expiry).ok()?;
        (parts.next().is_none() && expires_at > now).then_some(TillClaims {
            brand,
            device,
            staff,
            expires_at,
        })
    }

    /// The CSRF token of a session: a MAC of its cookie, so it is good for that
    /// session only.
    pub fn csrf_token(&self, session_cookie: &str) -> String {
        URL_SAFE_NO_PAD.encode(mac(&self.csrf, &[session_cookie.as_bytes()]))
    }

    /// The CSRF token of the sign-in form shown with `nonce` (before there is a session,
    /// the form is bound to a nonce cookie instead).
    pub fn login_token(&self, nonce: &str) -> String {
        URL_SAFE_NO_PAD.encode(mac(&self.csrf, &[b"sign-in", nonce.as_bytes()]))
    }

    /// Whether `token` is the sign-in form's token for `nonce`.
    pub fn login_ok(&self, nonce: &str, token: &str) -> bool {
        let expected = self.login_token(nonce);
        !nonce.is_empty() && bool::from(expected.as_bytes().ct_eq(token.as_bytes()))
    }

    /// Whether `token` is the CSRF token of the session.
    pub fn csrf_ok(&self, session_cookie: &str, token: &str) -> bool {
        let expected = self.csrf_token(session_cookie);
        bool::from(expected.as_bytes().ct_eq(token.as_bytes()))
    }

    /// A URL-safe token for a customer's page.
    pub fn link_token(&self, claims: &LinkClaims) -> String {
        let mut bytes = Vec::with_capacity(LINK_BYTES);
        bytes.extend_from_slice(claims.brand.as_uuid().as_bytes());
        bytes.extend_from_slice(claims.customer.as_uuid().as_bytes());
        bytes.extend_from_slice(&claims.expires_at.unix_timestamp().to_be_bytes());
        let tag = mac(&self.link, &[&bytes]);
        bytes.extend_from_slice(&tag[..LINK_MAC_BYTES]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The claims of a link token that is authentic and not expired at `now`; any
    /// change to a token makes it fail.
    pub fn open_link(&self, token: &str, now: OffsetDateTime) -> Option<LinkClaims> {
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        if bytes.len() != LINK_BYTES {
            return None;
        }
        let (body, tag) = bytes.split_at(LINK_BYTES - LINK_MAC_BYTES);
        let signed = self.link_keys().any(|key| {
            let expected = mac(key, &[body]);
            bool::from(expected[..LINK_MAC_BYTES].ct_eq(tag))
        });
        if !signed {
            return None;
        }
        let brand = Uuid::from_slice(&body[..16]).ok()?;
        let customer = Uuid::from_slice(&body[16..32]).ok()?;
        let expiry = i64::from_be_bytes(body[32..40].try_into().ok()?);
        let expires_at = OffsetDateTime::from_unix_timestamp(expiry).ok()?;
        (expires_at > now).then_some(LinkClaims {
            brand: BrandId::from_uuid(brand),
            customer: CustomerId::from_uuid(customer),
            expires_at,
        })
    }
}

/// The customer's card-page session cookie: the brand and the session's secret token
/// (a random token the server keeps only a hash of), signed under the session key
/// with its own label, so no dashboard cookie is one and no altered one opens.
impl Keys {
    fn customer_tag(key: &[u8; 32], payload: &str) -> [u8; 32] {
        mac(key, &[b"customer-session", payload.as_bytes()])
    }

    /// The cookie's value: `<brand>.<token>.<mac>`.
    pub fn customer_cookie(&self, brand: BrandId, token: &str) -> String {
        let payload = format!("{brand}.{token}");
        let tag = Keys::customer_tag(&self.session, &payload);
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// The brand and token of an authentic customer cookie (whether the session is
    /// still live is the server's to say).
    pub fn open_customer_cookie(&self, cookie: &str) -> Option<(BrandId, String)> {
        let (payload, tag) = cookie.rsplit_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let signed = self
            .session_keys()
            .any(|key| bool::from(Keys::customer_tag(key, payload).as_slice().ct_eq(&tag)));
        if !signed {
            return None;
        }
        let (brand, token) = payload.split_once('.')?;
        let token_ok = !token.is_empty() && token.bytes().all(|b| b.is_ascii_hexdigit());
        token_ok.then(|| Some((brand.parse().ok()?, token.to_owned())))?
    }

    /// The CSRF token of a customer's form shown before they have a session, bound to
    /// the `nonce` cookie the form came with.
    pub fn card_form_token(&self, nonce: &str) -> String {
        URL_SAFE_NO_PAD.encode(mac(&self.csrf, &[b"card-sign-in", nonce.as_bytes()]))
    }

    /// Whether `token` is the card sign-in form's token for `nonce`.
    pub fn card_form_ok(&self, nonce: &str, token: &str) -> bool {
        let expected = self.card_form_token(nonce);
        !nonce.is_empty() && bool::from(expected.as_bytes().ct_eq(token.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use time::Duration;

    fn keys(byte: u8) -> Keys {
        Keys::from_secret(&SecretKey::from_bytes([byte; 32]))
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    fn session() -> SessionClaims {
        SessionClaims {
            brand: BrandId::from_bytes([1; 16]),
            key: ApiKeyId::from_bytes([2; 16]),
            epoch: 3,
            expires_at: now() + Duration::hours(8),
        }
    }

    fn link() -> LinkClaims {
        LinkClaims {
            brand: BrandId::from_bytes([1; 16]),
            customer: CustomerId::from_bytes([3; 16]),
            expires_at: now() + Duration::days(30),
        }
    }

    #[test]
    fn sessions_open_with_their_key_until_they_expire() {
        let cookie = keys(7).session_cookie(&session());
        assert_eq!(keys(7).open_session(&cookie, now()), Some(session()));
        assert_eq!(keys(8).open_session(&cookie, now()), None);
        assert_eq!(
            keys(7).open_session(&cookie, now() + Duration::hours(9)),
            None
        );
        let other_brand = cookie.replacen(
            &BrandId::from_bytes([1; 16]).to_string(),
            &BrandId::from_bytes([9; 16]).to_string(),
            1,
        );
        assert_ne!(other_brand, cookie);
        assert_eq!(keys(7).open_session(&other_brand, now()), None);
    }

    #[test]
    fn csrf_tokens_are_bound_to_their_session() {
        let k = keys(7);
        let a = k.session_cookie(&session());
        let b = k.session_cookie(&SessionClaims {
            expires_at: now() + Duration::hours(7),
            ..session()
        });
        let token = k.csrf_token(&a);
        assert!(k.csrf_ok(&a, &token));
        assert!(!k.csrf_ok(&b, &token));
        assert!(!k.csrf_ok(&a, ""));
        let login = k.login_token("nonce-1");
        assert!(k.login_ok("nonce-1", &login));
        assert!(!k.login_ok("nonce-2", &login));
        assert!(!k.login_ok("", &k.login_token("")));
        assert_ne!(login, k.csrf_token("nonce-1"));
    }

    #[test]
    fn links_open_until_they_expire_and_not_with_the_session_key() {
        let k = keys(7);
        let token = k.link_token(&link());
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(k.open_link(&token, now()), Some(link()));
        assert_eq!(k.open_link(&token, now() + Duration::days(31)), None);
        assert_eq!(keys(8).open_link(&token, now()), None);
        assert_ne!(k.session, k.link);
    }

    #[test]
    fn previous_keys_open_sessions_and_links_and_never_sign() {
        let old = SecretKey::from_bytes([7; 32]);
        let rotating = Keys::from_secrets(
            &SecretKeys::new(SecretKey::from_bytes([8; 32])).with_previous(vec![old]),
        );
        let cookie = keys(7).session_cookie(&session());
        let token = keys(7).link_token(&link());
        assert_eq!(rotating.open_session(&cookie, now()), Some(session()));
        assert_eq!(rotating.open_link(&token, now()), Some(link()));
        assert_eq!(
            rotating.session_cookie(&session()),
            keys(8).session_cookie(&session())
        );
        assert_eq!(rotating.link_token(&link()), keys(8).link_token(&link()));
        assert_eq!(keys(8).open_session(&cookie, now()), None);
        assert_eq!(keys(8).open_link(&token, now()), None);
    }

    #[test]
    fn every_single_byte_change_of_a_link_is_refused() {
        let k = keys(7);
        let token = k.link_token(&link());
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for i in 0..bytes.len() {
            for flip in [1u8, 0x80] {
                bytes[i] ^= flip;
                let altered = URL_SAFE_NO_PAD.encode(&bytes);
                assert_eq!(k.open_link(&altered, now()), None, "byte {i}");
                bytes[i] ^= flip;
            }
        }
        assert_eq!(k.open_link("not-a-token", now()), None);
        assert_eq!(k.open_link("", now()), None);
    }

    #[test]
    fn customer_cookies_open_with_their_key_only() {
        let k = keys(7);
        let brand = BrandId::from_bytes([1; 16]);
        let cookie = k.customer_cookie(brand, "ab12");
        assert_eq!(
            k.open_customer_cookie(&cookie),
            Some((brand, "ab12".to_owned()))
        );
        assert_eq!(keys(8).open_customer_cookie(&cookie), None);
        assert_eq!(
            k.open_customer_cookie(&cookie.replacen("ab12", "ab13", 1)),
            None
        );
        assert_eq!(k.open_session(&cookie, now()), None);
        let dashboard = k.session_cookie(&session());
        assert_eq!(k.open_customer_cookie(&dashboard), None);
        let form = k.card_form_token("n");
        assert!(k.card_form_ok("n", &form));
        assert!(!k.card_form_ok("m", &form));
        assert_ne!(form, k.login_token("n"));
    }
}
