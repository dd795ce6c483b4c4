//! Storage of customers' clicks and opens of messages, and of what a brand tracks.

use crate::StoreError;
use async_trait::async_trait;
use regulars_domain::{
    BrandId, CampaignId, Channel, CustomerId, Engagement, EngagementKind, EngagementSettings,
};
use time::OffsetDateTime;
use uuid::Uuid;

/// The message a link token names, with what a click on it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedMessage {
    /// The brand that sent it.
    pub brand_id: BrandId,
    /// The outbox message.
    pub id: Uuid,
    /// The customer it went to, if any.
    pub customer_id: Option<CustomerId>,
    /// The campaign that planned it, if any.
    pub campaign_id: Option<CampaignId>,
    /// The channel it went out on.
    pub channel: Channel,
    /// Its text as planned (the links as written, before the redirect).
    pub body: String,
}

/// A campaign's responses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngagementCounts {
    /// Every click logged.
    pub clicks: u64,
    /// Messages with at least one click.
    pub clicked_messages: u64,
    /// Every open logged.
    pub opens: u64,
    /// Messages opened at least once.
    pub opened_messages: u64,
}

/// Clicks and opens keyed by `(brand, id)`; a brand's tracking settings by `brand`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EngagementRepo: Send {
    /// The message a link or pixel token names, by its id alone: the token carries no
    /// brand to stay short, and the caller checks the token's signature, which covers
    /// the brand, against the message found.
    async fn linked_message(&mut self, id: Uuid) -> Result<Option<LinkedMessage>, StoreError>;
    /// Whether the message has a counted response of `kind` at or after `since`.
    async fn counted_since(
        &mut self,
        brand: BrandId,
        message: Uuid,
        kind: EngagementKind,
        since: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Logs one click or open.
    async fn insert_engagement(&mut self, engagement: &Engagement) -> Result<(), StoreError>;
    /// The counted responses of the customers `customers`, oldest first.
    async fn counted_of(
        &mut self,
        brand: BrandId,
        customers: &[CustomerId],
    ) -> Result<Vec<Engagement>, StoreError>;
    /// Every click and open of one customer, oldest first (their data export).
    async fn customer_engagements(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Vec<Engagement>, StoreError>;
    /// Deletes every click and open of the customer; how many.
    async fn erase_customer_engagements(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<u64, StoreError>;
    /// The campaign's clicks and opens.
    async fn campaign_engagement(
        &mut self,
        brand: BrandId,
        campaign: CampaignId,
    ) -> Result<EngagementCounts, StoreError>;
    /// The brand's tracking settings, if it set them.
    async fn engagement_settings(
        &mut self,
        brand: BrandId,
    ) -> Result<Option<EngagementSettings>, StoreError>;
    /// Sets the brand's tracking settings.
    async fn set_engagement_settings(
        &mut self,
        brand: BrandId,
        settings: EngagementSettings,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
}
