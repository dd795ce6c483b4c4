//! Referrals: each brand's referral programme, members' invite codes, and the
//! referrals recorded when friends sign up through them.

use async_trait::async_trait;
use regulars_domain::{BrandId, CustomerId};
use regulars_loyalty::referrals::{ReferralProgramme, ReferralState, RefusalReason};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::StoreError;

/// A referral as stored: who invited whom, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    /// Its id.
    pub id: Uuid,
    /// The member whose invite it was.
    pub referrer: CustomerId,
    /// The customer who signed up through it (for a refusal: the customer the proved
    /// phone belongs to).
    pub friend: CustomerId,
    /// Where it stands.
    pub state: ReferralState,
    /// When the friend signed up.
    pub created_at: OffsetDateTime,
    /// When it was last decided (rewarded, reversed or refused after sign-up).
    pub decided_at: Option<OffsetDateTime>,
}

impl Referral {
    /// True for a referral that counts as the friend's one referral (not refused).
    pub fn accepted(&self) -> bool {
        !matches!(self.state, ReferralState::Refused { .. })
    }
}

/// A brand's referral figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralCounts {
    /// Members who have an invite link.
    pub invited: u64,
    /// Friends who signed up through one (pending, rewarded or reversed).
    pub signed_up: u64,
    /// Of those, waiting for their first order.
    pub pending: u64,
    /// Of those, rewarded and not reversed.
    pub rewarded: u64,
    /// Of those, rewarded and then reversed by a full refund.
    pub reversed: u64,
    /// Refusals by reason (reasons with none left out).
    pub refused: Vec<(RefusalReason, u64)>,
}

/// The referral programme, invites and referrals.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ReferralRepo: Send {
    /// The brand's programme, `None` when it never set one.
    async fn programme(&mut self, brand: BrandId) -> Result<Option<ReferralProgramme>, StoreError>;
    /// Stores the brand's programme.
    async fn save_programme(
        &mut self,
        brand: BrandId,
        programme: &ReferralProgramme,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// The member's invite code, if one was made.
    async fn invite_code(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Option<String>, StoreError>;
    /// Gives the member their invite code; [`StoreError::Conflict`] when they (or the
    /// code) have one already.
    async fn insert_invite(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// The member an invite code belongs to.
    async fn invite_owner(
        &mut self,
        brand: BrandId,
        code: &str,
    ) -> Result<Option<CustomerId>, StoreError>;
    /// Records a referral; [`StoreError::Conflict`] when it is accepted and the friend
    /// already has an accepted one.
    async fn insert_referral(
        &mut self,
        brand: BrandId,
        referral: &Referral,
    ) -> Result<(), StoreError>;
    /// The friend's accepted referral (pending, rewarded or reversed), if any.
    async fn referral_of_friend(
        &mut self,
        brand: BrandId,
        friend: CustomerId,
    ) -> Result<Option<Referral>, StoreError>;
    /// Moves the referral to `next` only while its stored status is `from` (one
    /// conditional update: of two transactions deciding it at once, one does and the
    /// other finds it decided). Answers whether this one did.
    async fn decide(
        &mut self,
        brand: BrandId,
        next: &Referral,
        from: &str,
    ) -> Result<bool, StoreError>;
    /// How many referrals of `referrer` were rewarded (the referrer credited, not
    /// reversed) with a decision time in `[from, to)`.
    async fn rewarded_between(
        &mut self,
        brand: BrandId,
        referrer: CustomerId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<u64, StoreError>;
    /// The brand's latest referrals, newest first, at most `limit`.
    async fn referrals(&mut self, brand: BrandId, limit: u64) -> Result<Vec<Referral>, StoreError>;
    /// The brand's referral figures. With `codes`, only the accepted referrals (pending,
    /// rewarded, reversed) whose friend's first order was placed at one of those
    /// location codes; invites and refusals belong to no location and count nothing.
    async fn counts<'a>(
        &mut self,
        brand: BrandId,
        codes: Option<&'a [String]>,
    ) -> Result<ReferralCounts, StoreError>;
    /// Deletes the customer's invite and every referral naming them on either side
    /// (erasure); answers how many rows went.
    async fn erase_customer(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<u64, StoreError>;
}
