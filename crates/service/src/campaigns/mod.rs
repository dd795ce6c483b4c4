//! Campaigns run by the server: definitions checked against the brand and its reward
//! catalogue, a life cycle (draft → active ⇄ paused → ended), and campaign runs that plan
//! every active campaign over the brand's customers and write, in one transaction per
//! page of customers, the vouchers its offers give, the outbox messages and the treatment
//! and hold-out members that attribution later compares.
//!
//! Planning itself is `regulars_campaigns::plan` (pure); this module gathers its facts
//! (profiles, consent, stored scores and features, balances, tiers, expiring points) and
//! its history (the outbox), and writes its decisions.

mod edit;
mod facts;
mod figures;
mod message;
mod page;
mod report;
mod run;
mod status;

pub(crate) use edit::resolve;
pub(crate) use facts::facts_of;

use crate::error::{ErrorClass, UseCaseError, common_variants, store_class};
use regulars_campaigns::attribution::{Attribution, AttributionError};
use regulars_campaigns::plan::SkipReason;
use regulars_campaigns::{Campaign, Offer, PricedReward};
use regulars_domain::{BrandId, CampaignId, LocationId, Points, RewardId};
use regulars_ports::{CampaignRecord, CampaignStatus, OutboxStatus, StoreError, Transaction};
use std::collections::{BTreeMap, HashMap};
use thiserror::Error;
use time::Duration;

/// Customers planned per transaction.
pub const CAMPAIGN_PAGE: u64 = 500;
/// Days after a member's start in which their orders count, unless the campaign says.
pub const DEFAULT_ATTRIBUTION_DAYS: u32 = 14;

/// Why a campaign use case failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CampaignError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// No such campaign in the brand.
    #[error("campaign {0} does not exist")]
    UnknownCampaign(CampaignId),
    /// The document is not a valid campaign; `path` names the field.
    #[error("{path}: {message}")]
    Invalid {
        /// JSON path of the field at fault (empty for the whole document).
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The campaign's status does not allow this.
    #[error("campaign {campaign} is {status:?}: {action}")]
    WrongStatus {
        /// The campaign.
        campaign: CampaignId,
        /// Its status.
        status: CampaignStatus,
        /// What cannot be done.
        action: &'static str,
    },
    /// The stored definition no longer parses (a bug or a manual edit).
    #[error("stored campaign {campaign} is invalid: {message}")]
    CorruptDefinition {
        /// The campaign.
        campaign: CampaignId,
        /// Why.
        message: String,
    },
    /// A report asked for a location the brand does not have.
    #[error("no location {0} in this brand")]
    UnknownLocation(LocationId),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(CampaignError, brand);

impl UseCaseError for CampaignError {
    fn class(&self) -> ErrorClass {
        match self {
            CampaignError::UnknownBrand(_) | CampaignError::UnknownCampaign(_) => {
                ErrorClass::NotFound
            }
            CampaignError::Invalid { .. } | CampaignError::UnknownLocation(_) => {
                ErrorClass::Invalid
            }
            CampaignError::WrongStatus { .. } => ErrorClass::Refused,
            CampaignError::CorruptDefinition { .. } => ErrorClass::Internal,
            CampaignError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            CampaignError::UnknownBrand(_) => Some("brand"),
            CampaignError::UnknownCampaign(_) => Some("campaign"),
            CampaignError::Invalid { .. } => Some("definition"),
            CampaignError::UnknownLocation(_) => Some("location"),
            CampaignError::WrongStatus { .. } => Some("status"),
            CampaignError::CorruptDefinition { .. } | CampaignError::Store(_) => None,
        }
    }
}

fn invalid(path: impl Into<String>, message: impl Into<String>) -> CampaignError {
    CampaignError::Invalid {
        path: path.into(),
        message: message.into(),
    }
}

/// What can be done to a campaign's life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignAction {
    /// Draft or paused → active.
    Launch,
    /// Active → paused.
    Pause,
    /// Anything but ended → ended.
    End,
}

/// What one run of one campaign did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignRunReport {
    /// The campaign.
    pub campaign_id: CampaignId,
    /// Customers looked at.
    pub customers: u64,
    /// Messages written to the outbox.
    pub messages: u64,
    /// Vouchers issued with them.
    pub vouchers: u64,
    /// Customers newly put in the hold-out group.
    pub held_out: u64,
    /// Customers skipped, by reason (hold-out included).
    pub skipped: BTreeMap<SkipReason, u64>,
    /// Money the campaign's offers have cost so far, minor units.
    pub budget_used_minor: i64,
    /// For a campaign that sends SMS: its messages by the segments each would take as
    /// SMS (after the campaign's folding, with a voucher code as long as a real one).
    pub sms_segments: BTreeMap<u32, u64>,
    /// Of those, the messages over the campaign's `sms.max_segments`: SMS refuses them
    /// when they go out, and they fall back to the next channel.
    pub sms_over_cap: u64,
}

/// A campaign's results against its hold-out group.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignReport {
    /// The campaign.
    pub campaign: CampaignRecord,
    /// Customers treated (messaged).
    pub treated: u64,
    /// Customers held out.
    pub held_out: u64,
    /// Messages by status.
    pub messages: BTreeMap<OutboxStatus, u64>,
    /// Vouchers the campaign issued.
    pub vouchers_issued: u64,
    /// Of which redeemed.
    pub vouchers_redeemed: u64,
    /// Days after each member's start in which their orders count.
    pub window_days: u32,
    /// Net revenue of the treated members in their windows, minor units.
    pub treated_revenue_minor: i64,
    /// Net revenue of the held-out members in their windows, minor units.
    pub holdout_revenue_minor: i64,
    /// What the offers cost the shop, minor units: the redeemed vouchers, and the bonus
    /// points credited at the programme's point value.
    pub offer_cost_minor: i64,
    /// Messages that credited bonus points (a `bonus_points` offer, once each when sent).
    pub bonus_credits: u64,
    /// The bonus points they credited.
    pub bonus_points: Points,
    /// What those points cost the shop, minor units (part of `offer_cost_minor`).
    pub bonus_cost_minor: i64,
    /// The gross margin rate used.
    pub gross_margin: f64,
    /// Incremental revenue with its confidence interval and ROI; `None` with the reason
    /// while a group is too small to compare.
    pub attribution: Result<Attribution, AttributionError>,
    /// Each offer variant's results against the shared hold-out; empty without variants.
    pub variants: Vec<crate::campaign_variants::VariantReport>,
    /// Which variant did better and how sure; `None` without variants or while a
    /// variant has fewer than two customers.
    pub verdict: Option<regulars_campaigns::compare::Verdict>,
    /// The locations the report reads. For [`Scope::Locations`], revenue counts only the
    /// members' orders placed there, `vouchers_redeemed` and the offer cost only the
    /// redemptions on orders placed there (bonus points, credited at no location, are
    /// not charged: `bonus_cost_minor` is 0); the members, messages, vouchers issued and
    /// bonus credits stay the whole campaign's.
    pub scope: crate::scope::Scope,
}

pub(crate) async fn find(
    tx: &mut dyn Transaction,
    brand: BrandId,
    id: CampaignId,
) -> Result<CampaignRecord, CampaignError> {
    tx.campaigns()
        .campaign(brand, id)
        .await?
        .ok_or(CampaignError::UnknownCampaign(id))
}

/// The campaign, read after its row is locked: what a write-back then saves cannot undo
/// a change (a budget spent by an order's real-time message, an end, an edit) that
/// committed between a plain read and the write.
async fn find_locked(
    tx: &mut dyn Transaction,
    brand: BrandId,
    id: CampaignId,
) -> Result<CampaignRecord, CampaignError> {
    tx.campaigns().lock_campaign(brand, id).await?;
    find(tx, brand, id).await
}

pub(crate) fn parse_definition(record: &CampaignRecord) -> Result<Campaign, CampaignError> {
    Campaign::from_json(&record.definition).map_err(|e| CampaignError::CorruptDefinition {
        campaign: record.id,
        message: e.to_string(),
    })
}

fn definition_json(campaign: &Campaign) -> Result<String, CampaignError> {
    serde_json::to_string(campaign).map_err(|e| invalid("", e.to_string()))
}

/// How far back messages count: the longer of the legal window and the frequency cap.
pub(crate) fn history_window(campaign: &Campaign) -> Duration {
    let legal = Duration::hours(i64::from(campaign.policy_in_force().cap_window_hours));
    let cap = campaign
        .frequency_cap
        .map(|c| Duration::days(i64::from(c.days)))
        .unwrap_or(Duration::ZERO);
    legal.max(cap)
}

/// Every reward the campaign may give, with what it costs the shop.
fn priced_offers(campaign: &Campaign) -> Vec<&PricedReward> {
    campaign
        .offers()
        .flat_map(|offer| match offer {
            Offer::Fixed { reward } => std::slice::from_ref(reward),
            Offer::Personalised { candidates, .. } => candidates.as_slice(),
            Offer::BonusPoints { .. } => &[],
        })
        .collect()
}

/// What each offered reward costs the shop, minor units.
fn offer_costs(campaign: &Campaign) -> HashMap<RewardId, i64> {
    priced_offers(campaign)
        .into_iter()
        .filter_map(|p| Some((p.reward.id, p.cost.to_minor_units().ok()?)))
        .collect()
}
