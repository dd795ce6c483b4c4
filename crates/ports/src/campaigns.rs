//! Campaigns as stored: the definition, its life cycle, the budget it spent, and who
//! was put in its treatment or hold-out group (what attribution compares).

use crate::StoreError;
use async_trait::async_trait;
use regulars_domain::{BrandId, CampaignId, CustomerId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Where a campaign is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    /// Being written: never planned by the scheduler, may be edited.
    Draft,
    /// Planned on every campaign run.
    Active,
    /// Not planned; messages already in the outbox still go out.
    Paused,
    /// Finished for good: not planned, not editable, still reported.
    Ended,
}

impl CampaignStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Draft => "draft",
            CampaignStatus::Active => "active",
            CampaignStatus::Paused => "paused",
            CampaignStatus::Ended => "ended",
        }
    }

    /// The status of a stored name.
    pub fn parse(s: &str) -> Option<CampaignStatus> {
        Some(match s {
            "draft" => CampaignStatus::Draft,
            "active" => CampaignStatus::Active,
            "paused" => CampaignStatus::Paused,
            "ended" => CampaignStatus::Ended,
            _ => return None,
        })
    }
}

/// A brand's campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignRecord {
    /// Its id (also the `id` inside the definition).
    pub id: CampaignId,
    /// The brand.
    pub brand_id: BrandId,
    /// Its name (also inside the definition), for lists.
    pub name: String,
    /// The campaign document (`regulars_campaigns::Campaign` as JSON), complete: every
    /// offer's reward is the catalogue's definition at the time it was saved.
    pub definition: String,
    /// Where it is in its life.
    pub status: CampaignStatus,
    /// Money its issued offers cost so far, in minor units of the brand currency.
    pub budget_used_minor: i64,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
    /// When it was last planned.
    pub last_run_at: Option<OffsetDateTime>,
}

/// Which group a customer was put in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberGroup {
    /// Got the message.
    Treatment,
    /// Eligible, held out on purpose: the control group.
    Holdout,
}

impl MemberGroup {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberGroup::Treatment => "treatment",
            MemberGroup::Holdout => "holdout",
        }
    }

    /// The group of a stored name.
    pub fn parse(s: &str) -> Option<MemberGroup> {
        match s {
            "treatment" => Some(MemberGroup::Treatment),
            "holdout" => Some(MemberGroup::Holdout),
            _ => None,
        }
    }
}

/// A customer's place in a campaign: the first assignment is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CampaignMember {
    /// The campaign.
    pub campaign_id: CampaignId,
    /// The customer.
    pub customer_id: CustomerId,
    /// Treatment or hold-out.
    pub group: MemberGroup,
    /// When the attribution window opens: the planned send time for the treated, the
    /// planning time for the held out (when they would have been messaged).
    pub at: OffsetDateTime,
    /// For a treated member of a campaign with offer variants, the index of the variant
    /// they got.
    pub variant: Option<u8>,
}

/// A member's revenue in the attribution window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberRevenue {
    /// The customer.
    pub customer_id: CustomerId,
    /// Their group.
    pub group: MemberGroup,
    /// Their offer variant, for a treated member of a campaign with variants.
    pub variant: Option<u8>,
    /// Net revenue (paid less refunded) of their orders in `[at, at + window)`, minor units.
    pub net_minor: i64,
    /// How many such orders.
    pub orders: u64,
}

/// Vouchers of one reward a campaign issued to the members of one offer variant, and how
/// many of them were redeemed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantVoucherCount {
    /// The variant of the members they went to; `None` for members without one.
    pub variant: Option<u8>,
    /// The reward.
    pub reward: regulars_domain::RewardId,
    /// Vouchers issued.
    pub issued: u64,
    /// Of which redeemed.
    pub redeemed: u64,
}

/// Storage of campaigns.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CampaignRepo: Send {
    /// Stores a new campaign; an id taken is a [`StoreError::Conflict`].
    async fn insert_campaign(&mut self, campaign: &CampaignRecord) -> Result<(), StoreError>;
    /// Replaces a campaign's name, definition, status, budget used and times; `false`
    /// when the brand has no campaign with that id.
    async fn update_campaign(&mut self, campaign: &CampaignRecord) -> Result<bool, StoreError>;
    /// Moves the brand's config version: one of its campaigns changed status or
    /// definition (servers keep, under that version, the word that the brand has no
    /// campaign its orders fire). A new campaign moves it by itself.
    async fn campaign_changed(&mut self, brand: BrandId) -> Result<(), StoreError>;
    /// Locks a campaign's row until the transaction ends, changing nothing (an update
    /// of no value), so what is read next is not changed by another transaction;
    /// `false` when the brand has no campaign with that id.
    async fn lock_campaign(&mut self, brand: BrandId, id: CampaignId) -> Result<bool, StoreError>;
    /// One campaign of the brand.
    async fn campaign(
        &mut self,
        brand: BrandId,
        id: CampaignId,
    ) -> Result<Option<CampaignRecord>, StoreError>;
    /// The brand's campaigns, newest first, after `after` (exclusive) in that order.
    async fn campaigns(
        &mut self,
        brand: BrandId,
        after: Option<CampaignId>,
        limit: u64,
    ) -> Result<Vec<CampaignRecord>, StoreError>;
    /// The brand's campaigns with this status.
    async fn campaigns_with_status(
        &mut self,
        brand: BrandId,
        status: CampaignStatus,
    ) -> Result<Vec<CampaignRecord>, StoreError>;
    /// Adds members; a customer already in the campaign keeps their first assignment.
    /// Returns how many were new.
    async fn add_members(
        &mut self,
        brand: BrandId,
        members: &[CampaignMember],
    ) -> Result<u64, StoreError>;
    /// Members per group: (treatment, hold-out).
    async fn member_counts(
        &mut self,
        brand: BrandId,
        campaign: CampaignId,
    ) -> Result<(u64, u64), StoreError>;
    /// The brand's legal policy for promotional messages (`regulars_campaigns::Policy`
    /// as JSON); `None` until the brand sets one.
    async fn messaging_policy(&mut self, brand: BrandId) -> Result<Option<String>, StoreError>;
    /// Sets the brand's legal policy for promotional messages.
    async fn save_messaging_policy(
        &mut self,
        brand: BrandId,
        policy: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Every member with their revenue in `[at, at + window_days)`, members without
    /// orders included with zero. With `codes`, only the orders placed at one of those
    /// location codes count (every member is still listed).
    async fn member_revenue<'a>(
        &mut self,
        brand: BrandId,
        campaign: CampaignId,
        window_days: u32,
        codes: Option<&'a [String]>,
    ) -> Result<Vec<MemberRevenue>, StoreError>;
    /// The campaign's vouchers issued and redeemed, by the offer variant of the member
    /// each went to and by reward. With `codes`, `redeemed` counts only the vouchers
    /// redeemed on an order placed at one of those location codes; `issued` stays all.
    async fn variant_vouchers<'a>(
        &mut self,
        brand: BrandId,
        campaign: CampaignId,
        codes: Option<&'a [String]>,
    ) -> Result<Vec<VariantVoucherCount>, StoreError>;
}
