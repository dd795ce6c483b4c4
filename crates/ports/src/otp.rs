//! One-time codes that prove a phone number, and the short customer sessions a proved
//! phone opens.
//!
//! Neither a code nor a session token is stored: only their keyed hashes. The phone a
//! code was sent to is kept as a keyed hash too; the phone a session proved is kept
//! sealed like every other contact field.

use crate::StoreError;
use async_trait::async_trait;
use regulars_domain::{BrandId, CustomerId, Phone};
use time::OffsetDateTime;

/// The code currently out for one phone and purpose of a brand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpRecord {
    /// The brand.
    pub brand_id: BrandId,
    /// What the code proves the phone for (`signup`, `card`, …).
    pub purpose: String,
    /// Keyed hash of the phone number (hex).
    pub phone_key: String,
    /// Keyed hash of the code (hex), bound to the brand, phone and purpose.
    pub code_hash: String,
    /// Wrong and right guesses made at this code so far.
    pub attempts: u32,
    /// Codes sent to this phone for this purpose since `window_started_at`.
    pub sends: u32,
    /// When the current counting window of sends began.
    pub window_started_at: OffsetDateTime,
    /// When the code stops being accepted.
    pub expires_at: OffsetDateTime,
    /// When the code was sent.
    pub created_at: OffsetDateTime,
}

/// A customer session: a phone proved by a one-time code, for a short while.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerSession {
    /// The brand.
    pub brand_id: BrandId,
    /// Keyed hash of the session token (hex); the token itself lives only in the
    /// customer's cookie.
    pub token_hash: String,
    /// What the code that opened it was for.
    pub purpose: String,
    /// The proved phone number.
    pub phone: Phone,
    /// The brand's customer with that phone, once known (signed up, or already one).
    pub customer_id: Option<CustomerId>,
    /// When it was opened.
    pub created_at: OffsetDateTime,
    /// When it ends.
    pub expires_at: OffsetDateTime,
}

/// Storage of one-time codes and customer sessions.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OtpRepo: Send {
    /// The code out for this phone and purpose, if any (expired or not).
    async fn otp(
        &mut self,
        brand: BrandId,
        purpose: &str,
        phone_key: &str,
    ) -> Result<Option<OtpRecord>, StoreError>;
    /// Writes a code: a new row when `previous` is `None` (a row already there is a
    /// [`StoreError::Conflict`]), otherwise in place of `previous`, only if the row is
    /// still as `previous` was read (`false` otherwise: a concurrent send came first).
    async fn save_otp(
        &mut self,
        record: &OtpRecord,
        previous: Option<OtpRecord>,
    ) -> Result<bool, StoreError>;
    /// Counts one more guess at the code unless it has had `max` already, in one
    /// statement (concurrent guesses each count): the guesses after this one, or `None`
    /// when there is no code or it had `max`.
    async fn count_attempt(
        &mut self,
        brand: BrandId,
        purpose: &str,
        phone_key: &str,
        max: u32,
    ) -> Result<Option<u32>, StoreError>;
    /// Forgets the code of this phone and purpose (it was used).
    async fn delete_otp(
        &mut self,
        brand: BrandId,
        purpose: &str,
        phone_key: &str,
    ) -> Result<(), StoreError>;
    /// Stores a new session.
    async fn insert_session(&mut self, session: &CustomerSession) -> Result<(), StoreError>;
    /// The session with this token hash, if any (expired or not).
    async fn session(
        &mut self,
        brand: BrandId,
        token_hash: &str,
    ) -> Result<Option<CustomerSession>, StoreError>;
    /// Binds a session to the customer its phone belongs to; `false` when there is no
    /// such session.
    async fn bind_session(
        &mut self,
        brand: BrandId,
        token_hash: &str,
        customer: CustomerId,
    ) -> Result<bool, StoreError>;
    /// Ends a session (signing out); nothing when there is none.
    async fn delete_session(&mut self, brand: BrandId, token_hash: &str) -> Result<(), StoreError>;
    /// Drops the brand's codes that expired before `now` and whose counting window of
    /// sends began before `window_before`, and its sessions that expired before `now`:
    /// how many codes and how many sessions.
    async fn drop_expired(
        &mut self,
        brand: BrandId,
        now: OffsetDateTime,
        window_before: OffsetDateTime,
    ) -> Result<(u64, u64), StoreError>;
}
