//! Reading campaigns and moving them through their life cycle.

use super::{CampaignAction, CampaignError, find, find_locked};
use crate::Services;
use crate::account::load_brand;
use regulars_domain::{BrandId, CampaignId};
use regulars_ports::{CampaignRecord, CampaignStatus, OutboxMessage};

impl Services {
    /// One campaign.
    pub async fn campaign(
        &self,
        brand: BrandId,
        id: CampaignId,
    ) -> Result<CampaignRecord, CampaignError> {
        self.transact("campaign", |mut tx| async move {
            let result = async {
                load_brand::<CampaignError>(tx.as_mut(), brand).await?;
                find(tx.as_mut(), brand, id).await
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// The brand's campaigns, newest first, a page after `after`.
    pub async fn campaigns(
        &self,
        brand: BrandId,
        after: Option<CampaignId>,
        limit: u64,
    ) -> Result<Vec<CampaignRecord>, CampaignError> {
        self.transact("campaigns", |mut tx| async move {
            let result = async {
                load_brand::<CampaignError>(tx.as_mut(), brand).await?;
                Ok(tx.campaigns().campaigns(brand, after, limit).await?)
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// Moves a campaign through its life cycle.
    pub async fn set_campaign_status(
        &self,
        brand: BrandId,
        id: CampaignId,
        action: CampaignAction,
    ) -> Result<CampaignRecord, CampaignError> {
        self.transact("set_campaign_status", |mut tx| async move {
            let result = async {
                load_brand::<CampaignError>(tx.as_mut(), brand).await?;
                let mut record = find_locked(tx.as_mut(), brand, id).await?;
                let (allowed, to, action_text) = match action {
                    CampaignAction::Launch => (
                        matches!(
                            record.status,
                            CampaignStatus::Draft | CampaignStatus::Paused
                        ),
                        CampaignStatus::Active,
                        "only draft or paused campaigns can be launched",
                    ),
                    CampaignAction::Pause => (
                        record.status == CampaignStatus::Active,
                        CampaignStatus::Paused,
                        "only active campaigns can be paused",
                    ),
                    CampaignAction::End => (
                        record.status != CampaignStatus::Ended,
                        CampaignStatus::Ended,
                        "the campaign has already ended",
                    ),
                };
                if !allowed {
                    return Err(CampaignError::WrongStatus {
                        campaign: id,
                        status: record.status,
                        action: action_text,
                    });
                }
                record.status = to;
                record.updated_at = self.clock.now();
                tx.campaigns().update_campaign(&record).await?;
                tx.campaigns().campaign_changed(record.brand_id).await?;
                Ok(record)
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// Every brand's id, for a worker that runs each brand's campaigns on its own
    /// (so one brand's failure cannot stop another's run).
    pub async fn campaign_brands(&self) -> Result<Vec<BrandId>, CampaignError> {
        self.transact("brand_ids", |mut tx| async move {
            let result: Result<_, CampaignError> =
                tx.brands().brand_ids().await.map_err(Into::into);
            (tx, result)
        })
        .await
    }

    /// A campaign's messages, newest first, a page after `after`.
    pub async fn campaign_messages(
        &self,
        brand: BrandId,
        id: CampaignId,
        after: Option<uuid::Uuid>,
        limit: u64,
    ) -> Result<Vec<OutboxMessage>, CampaignError> {
        self.transact("campaign_messages", |mut tx| async move {
            let result = async {
                load_brand::<CampaignError>(tx.as_mut(), brand).await?;
                find(tx.as_mut(), brand, id).await?;
                Ok(tx.outbox().messages(brand, Some(id), after, limit).await?)
            }
            .await;
            (tx, result)
        })
        .await
    }
}
