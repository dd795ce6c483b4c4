//! One-time codes that prove a phone number, and the short customer sessions they open.
//!
//! Three use cases, for every page a customer reaches without an app (the sign-up page,
//! the card page's own requests):
//!
//! * [`Services::issue_otp`] sends a 6-digit code to a phone for a purpose, through the
//!   outbox as a transactional message: Zalo ZNS with the OTP template when one is set
//!   ([`Services::with_otp_zns_template`]), falling back to SMS; SMS alone otherwise.
//! * [`Services::verify_otp`] checks a code; the right one opens a customer session
//!   and gives its token (for a cookie), valid [`CUSTOMER_SESSION_TTL`].
//! * [`Services::customer_session`] tells a page who a session token proves.
//!
//! Rules: a code is valid [`OTP_VALIDITY`]; [`OTP_MAX_ATTEMPTS`] guesses (right or
//! wrong) and it is locked; a phone gets at most [`OTP_SENDS_PER_WINDOW`] codes per
//! [`OTP_SEND_WINDOW`] and one per [`OTP_RESEND_AFTER`]; a client address may ask for
//! [`OTP_SENDS_PER_ADDRESS`] codes and make [`OTP_FAILURES_PER_ADDRESS`] wrong guesses
//! per [`OTP_SEND_WINDOW`] (counted in this process's memory). Neither the code, the
//! token nor the phone of a code is stored: only keyed hashes (HMAC-SHA256 under a key
//! derived from the server key for `otp`; a fixed key when the server has none).
//!
//! Nothing here tells whether a phone belongs to a customer: issuing never looks, and
//! verifying answers the same way for members and strangers (the session knows the
//! customer, the caller does not learn it).

use crate::Services;
use crate::account::load_brand;
use crate::error::{ErrorClass, UseCaseError, common_variants, store_class};
use crate::secrets::to_hex;
use hmac::{KeyInit as _, Mac};
use regulars_domain::sms::SmsOptions;
use regulars_domain::{BrandId, Channel, CustomerId, Phone};
use regulars_ports::{
    CustomerSession, OtpRecord, OutboxMessage, OutboxStatus, Route, StoreError, Transaction,
};
use sha2::Sha256;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use subtle::ConstantTimeEq;
use thiserror::Error;
use time::{Duration, OffsetDateTime};

mod session;

/// How long a code is accepted.
pub const OTP_VALIDITY: Duration = Duration::minutes(5);
/// Guesses at one code before it is locked.
pub const OTP_MAX_ATTEMPTS: u32 = 5;
/// Codes one phone may be sent per window, per purpose.
pub const OTP_SENDS_PER_WINDOW: u32 = 3;
/// The window sends are counted in (per phone and per client address).
pub const OTP_SEND_WINDOW: Duration = Duration::hours(1);
/// The shortest time between two codes to the same phone.
pub const OTP_RESEND_AFTER: Duration = Duration::seconds(60);
/// Codes one client address may ask for per window.
pub const OTP_SENDS_PER_ADDRESS: u32 = 10;
/// Wrong codes one client address may give per window.
pub const OTP_FAILURES_PER_ADDRESS: u32 = 20;
/// How long a customer session lasts.
pub const CUSTOMER_SESSION_TTL: Duration = Duration::minutes(30);
/// Digits of a code.
pub const OTP_DIGITS: usize = 6;

/// The purpose keys are derived for.
const OTP_KEY_PURPOSE: &str = "otp";
/// The key without a server key: hashes still hide the codes from a reader of the
/// database who does not know this source, but not from one who does.
const UNKEYED: &[u8] = b"regulars/otp-unkeyed";
/// Above this many addresses, finished windows are dropped.
const PRUNE_AT: usize = 4096;

/// What a code proves the phone for: a code for one purpose opens nothing for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OtpPurpose {
    /// Joining the programme from a location's poster.
    SignUp,
    /// The customer's own requests from their card page.
    Card,
    /// A new phone number for a customer signed in on their card page: the code goes to
    /// the new number, proving the customer holds it.
    PhoneChange,
}

impl OtpPurpose {
    /// Every purpose.
    pub const ALL: [OtpPurpose; 3] = [
        OtpPurpose::SignUp,
        OtpPurpose::Card,
        OtpPurpose::PhoneChange,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OtpPurpose::SignUp => "signup",
            OtpPurpose::Card => "card",
            OtpPurpose::PhoneChange => "phone_change",
        }
    }

    /// The purpose of a stored name.
    pub fn parse(s: &str) -> Option<OtpPurpose> {
        OtpPurpose::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A code went out (or, for a phone no channel reaches, would have: the answer is the
/// same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtpSent {
    /// When the code stops being accepted.
    pub expires_at: OffsetDateTime,
    /// The earliest time another code may be asked for this phone.
    pub resend_after: OffsetDateTime,
}

/// A customer session just opened: the token goes into the customer's cookie and is
/// never shown again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedSession {
    /// The secret token (64 hexadecimal digits).
    pub token: String,
    /// When the session ends.
    pub expires_at: OffsetDateTime,
}

/// Why a one-time code use case failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum OtpError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// The code is not [`OTP_DIGITS`] digits.
    #[error("the code must be {OTP_DIGITS} digits")]
    MalformedCode,
    /// Too many codes for this phone, or from this client address, lately.
    #[error("too many codes were asked for; try again in {} seconds", retry_after.whole_seconds())]
    TooManyCodes {
        /// When to try again.
        retry_after: Duration,
    },
    /// Too many wrong codes from this client address lately.
    #[error("too many wrong codes; try again in {} seconds", retry_after.whole_seconds())]
    TooManyGuesses {
        /// When to try again.
        retry_after: Duration,
    },
    /// The code is wrong, expired, or was never sent.
    #[error("the code is wrong or has expired ({attempts_left} tries left)")]
    WrongCode {
        /// Guesses left at this code (0 when there is none out).
        attempts_left: u32,
    },
    /// Too many guesses at this code: it no longer opens anything; ask for a new one.
    #[error("too many wrong tries: ask for a new code")]
    Locked,
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(OtpError, brand);

impl UseCaseError for OtpError {
    fn class(&self) -> ErrorClass {
        match self {
            OtpError::UnknownBrand(_) => ErrorClass::NotFound,
            OtpError::MalformedCode => ErrorClass::Invalid,
            OtpError::TooManyCodes { .. }
            | OtpError::TooManyGuesses { .. }
            | OtpError::WrongCode { .. }
            | OtpError::Locked => ErrorClass::Refused,
            OtpError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            OtpError::UnknownBrand(_) => Some("brand"),
            OtpError::TooManyCodes { .. } => Some("phone"),
            OtpError::MalformedCode
            | OtpError::TooManyGuesses { .. }
            | OtpError::WrongCode { .. }
            | OtpError::Locked => Some("code"),
            OtpError::Store(_) => None,
        }
    }

    fn code(&self) -> Option<&'static str> {
        match self {
            OtpError::TooManyCodes { .. } | OtpError::TooManyGuesses { .. } => Some("rate_limited"),
            OtpError::WrongCode { .. } => Some("wrong_code"),
            OtpError::Locked => Some("code_locked"),
            _ => None,
        }
    }
}

impl OtpError {
    /// When to try again, for the rate limits (`Retry-After`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            OtpError::TooManyCodes { retry_after } | OtpError::TooManyGuesses { retry_after } => {
                Some(*retry_after)
            }
            _ => None,
        }
    }
}

/// Counts per client address in fixed windows, in this process's memory.
#[derive(Debug, Default)]
pub(crate) struct AddressCounts {
    windows: Mutex<HashMap<String, (OffsetDateTime, u32)>>,
}

impl AddressCounts {
    /// How long until `address` may go on, when it has used up `limit` this window.
    pub(crate) fn exhausted(
        &self,
        address: &str,
        limit: u32,
        now: OffsetDateTime,
    ) -> Option<Duration> {
        let windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let &(start, used) = windows.get(address)?;
        let ends = start + OTP_SEND_WINDOW;
        (ends > now && used >= limit).then(|| whole_seconds(ends - now))
    }

    /// Counts one more for `address`.
    pub(crate) fn count(&self, address: &str, now: OffsetDateTime) {
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() >= PRUNE_AT && !windows.contains_key(address) {
            windows.retain(|_, (start, _)| *start + OTP_SEND_WINDOW > now);
        }
        let entry = windows.entry(address.to_owned()).or_insert((now, 0));
        if entry.0 + OTP_SEND_WINDOW <= now {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

/// The process-wide state of one-time codes: the per-address counts and how codes go out.
#[derive(Debug, Default)]
pub(crate) struct OtpState {
    sends: AddressCounts,
    failures: AddressCounts,
    /// Sign-ups through an invite, per client address.
    pub(crate) referral_signups: AddressCounts,
    zns_template: Option<String>,
}

impl OtpState {
    pub(crate) fn with_zns_template(template: Option<String>) -> OtpState {
        OtpState {
            zns_template: template.filter(|t| !t.trim().is_empty()),
            ..OtpState::default()
        }
    }
}

/// A keyed hash of the parts, each length-prefixed, as hex.
fn keyed_hash(key: &[u8], parts: &[&[u8]]) -> String {
    let mut mac = <hmac::Hmac<Sha256>>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    for part in parts {
        mac.update(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
        mac.update(part);
    }
    to_hex(&mac.finalize().into_bytes())
}

/// `wait` rounded up to whole seconds, at least one (a `Retry-After`; stored times
/// keep microseconds only).
fn whole_seconds(wait: Duration) -> Duration {
    let seconds = wait.whole_seconds();
    let up = if wait > Duration::seconds(seconds) {
        seconds + 1
    } else {
        seconds
    };
    Duration::seconds(up.max(1))
}

/// Whether `code` looks like a code: exactly [`OTP_DIGITS`] ASCII digits.
fn well_formed(code: &str) -> bool {
    code.len() == OTP_DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

/// What a verification decided inside its transaction.
enum Verdict {
    Opened(OpenedSession),
    Refused(OtpError),
}

impl Services {
    /// The hashing key: derived from the current server key, or the fixed one.
    fn otp_key(&self) -> Vec<u8> {
        match &self.secret_keys {
            Some(keys) => keys.current().derive(OTP_KEY_PURPOSE).to_vec(),
            None => UNKEYED.to_vec(),
        }
    }

    fn phone_key(&self, brand: BrandId, phone: &Phone) -> String {
        keyed_hash(
            &self.otp_key(),
            &[
                b"phone",
                brand.as_uuid().as_bytes(),
                phone.as_str().as_bytes(),
            ],
        )
    }

    fn code_hash(&self, brand: BrandId, purpose: OtpPurpose, phone: &Phone, code: &str) -> String {
        keyed_hash(
            &self.otp_key(),
            &[
                b"code",
                brand.as_uuid().as_bytes(),
                purpose.as_str().as_bytes(),
                phone.as_str().as_bytes(),
                code.as_bytes(),
            ],
        )
    }

    pub(crate) fn token_hash(&self, brand: BrandId, token: &str) -> String {
        keyed_hash(
            &self.otp_key(),
            &[b"session", brand.as_uuid().as_bytes(), token.as_bytes()],
        )
    }

    /// A uniformly drawn code of [`OTP_DIGITS`] digits.
    fn draw_code(&self) -> String {
        // 4_000_000_000 is a multiple of 1_000_000: below it, every code is as likely.
        loop {
            let mut bytes = [0_u8; 4];
            self.ids.fill_bytes(&mut bytes);
            let n = u32::from_le_bytes(bytes);
            if n < 4_000_000_000 {
                return format!("{:06}", n % 1_000_000);
            }
        }
    }

    /// Sends a code proving `phone` for `purpose` to it, asked from client address
    /// `client`. The answer never depends on whether the phone belongs to a customer.
    ///
    /// # Errors
    ///
    /// [`OtpError::TooManyCodes`] when the phone or the address asked too often lately;
    /// [`OtpError::UnknownBrand`], [`OtpError::Store`].
    pub async fn issue_otp(
        &self,
        brand: BrandId,
        phone: &Phone,
        purpose: OtpPurpose,
        client: &str,
    ) -> Result<OtpSent, OtpError> {
        let now = self.clock.now();
        if let Some(retry_after) = self.otp.sends.exhausted(client, OTP_SENDS_PER_ADDRESS, now) {
            return Err(OtpError::TooManyCodes { retry_after });
        }
        let phone_key = &self.phone_key(brand, phone);
        let sent = self
            .transact("issue_otp", |mut tx| async move {
                let code = self.draw_code();
                let result = self
                    .issue_in(tx.as_mut(), brand, phone, purpose, phone_key, &code, now)
                    .await;
                (tx, result)
            })
            .await?;
        self.otp.sends.count(client, now);
        Ok(sent)
    }

    #[allow(clippy::too_many_arguments)]
    async fn issue_in(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        phone: &Phone,
        purpose: OtpPurpose,
        phone_key: &str,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<OtpSent, OtpError> {
        let found = load_brand::<OtpError>(tx, brand).await?;
        let previous = tx.otp().otp(brand, purpose.as_str(), phone_key).await?;
        let (window_started_at, sends) = match &previous {
            Some(p) if p.window_started_at + OTP_SEND_WINDOW > now => {
                let next = p.created_at + OTP_RESEND_AFTER;
                if next > now {
                    return Err(OtpError::TooManyCodes {
                        retry_after: whole_seconds(next - now),
                    });
                }
                if p.sends >= OTP_SENDS_PER_WINDOW {
                    return Err(OtpError::TooManyCodes {
                        retry_after: whole_seconds(p.window_started_at + OTP_SEND_WINDOW - now),
                    });
                }
                (p.window_started_at, p.sends + 1)
            }
            _ => (now, 1),
        };
        let record = OtpRecord {
            brand_id: brand,
            purpose: purpose.as_str().to_owned(),
            phone_key: phone_key.to_owned(),
            code_hash: self.code_hash(brand, purpose, phone, code),
            attempts: 0,
            sends,
            window_started_at,
            expires_at: now + OTP_VALIDITY,
            created_at: now,
        };
        if !tx.otp().save_otp(&record, previous.clone()).await? {
            return Err(StoreError::Conflict("otp_codes: a concurrent send".into()).into());
        }
        let message = self.otp_message(&found.name, brand, phone, purpose, code, &record);
        tx.outbox().enqueue(&[message]).await?;
        // The code is due now: the worker of this process sends it without waiting to poll.
        self.bell.arm();
        Ok(OtpSent {
            expires_at: record.expires_at,
            resend_after: if sends >= OTP_SENDS_PER_WINDOW {
                window_started_at + OTP_SEND_WINDOW
            } else {
                now + OTP_RESEND_AFTER
            },
        })
    }

    /// The transactional message carrying a code.
    fn otp_message(
        &self,
        brand_name: &str,
        brand: BrandId,
        phone: &Phone,
        purpose: OtpPurpose,
        code: &str,
        record: &OtpRecord,
    ) -> OutboxMessage {
        let sms = Route {
            channel: Channel::Sms,
            recipient: phone.as_str().to_owned(),
        };
        let (route, fallbacks, template) = match &self.otp.zns_template {
            Some(template) => (
                Route {
                    channel: Channel::Zalo,
                    recipient: phone.as_str().to_owned(),
                },
                vec![sms],
                Some(template.clone()),
            ),
            None => (sms, Vec::new(), None),
        };
        let mut data = BTreeMap::new();
        data.insert("otp".to_owned(), code.to_owned());
        let now = record.created_at;
        OutboxMessage {
            id: self.ids.new_id(),
            brand_id: brand,
            campaign_id: None,
            customer_id: None,
            phone: Some(phone.as_str().to_owned()),
            dedupe_key: format!(
                "otp:{}:{}:{}",
                purpose.as_str(),
                &record.phone_key[..16],
                now.unix_timestamp_nanos() / 1000
            ),
            route,
            fallbacks,
            template,
            subject: None,
            body: format!(
                "{code} là mã xác nhận {brand_name} của bạn, có hiệu lực 5 phút. Không chia sẻ mã này cho ai."
            ),
            data,
            promotional: false,
            send_window: None,
            // Unaccented: one GSM-7 segment, and the form brandname routes register.
            sms: SmsOptions {
                fold_accents: true,
                max_segments: None,
            },
            zns_params: BTreeMap::new(),
            opt_out: None,
            bonus_points: None,
            status: OutboxStatus::Pending,
            attempts: 0,
            due_at: now,
            last_error: None,
            sent_at: None,
            delivered_at: None,
            provider_message_id: None,
            created_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn purposes_round_trip() {
        for p in OtpPurpose::ALL {
            assert_eq!(OtpPurpose::parse(p.as_str()), Some(p));
        }
        assert_eq!(OtpPurpose::parse("other"), None);
    }

    #[test]
    fn an_address_is_stopped_at_its_limit_until_its_window_ends() {
        let counts = AddressCounts::default();
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        for _ in 0..3 {
            assert_eq!(counts.exhausted("a", 3, t0), None);
            counts.count("a", t0);
        }
        assert_eq!(counts.exhausted("a", 3, t0), Some(OTP_SEND_WINDOW));
        assert_eq!(counts.exhausted("b", 3, t0), None);
        let later = t0 + OTP_SEND_WINDOW;
        assert_eq!(counts.exhausted("a", 3, later), None);
        counts.count("a", later);
        assert_eq!(counts.exhausted("a", 1, later), Some(OTP_SEND_WINDOW));
    }

    proptest! {
        #[test]
        fn only_six_digits_are_codes(s in "\\PC{0,10}") {
            let digits = s.len() == 6 && s.chars().all(|c| c.is_ascii_digit());
            prop_assert_eq!(well_formed(&s), digits);
        }

        #[test]
        fn hashes_bind_every_part(a in "[0-9]{6}", b in "[0-9]{6}") {
            prop_assume!(a != b);
            let key = b"k";
            prop_assert_ne!(keyed_hash(key, &[a.as_bytes()]), keyed_hash(key, &[b.as_bytes()]));
            // Length prefixes keep ("ab","c") apart from ("a","bc").
            prop_assert_ne!(
                keyed_hash(key, &[&a.as_bytes()[..2], &a.as_bytes()[2..]]),
                keyed_hash(key, &[&a.as_bytes()[..3], &a.as_bytes()[3..]])
            );
        }
    }
}
