//! A campaign document planned before it is saved: what the campaign form's preview
//! shows (reach, skips by reason, the most its offers would cost, and one message as a
//! customer would get it). The document is read exactly as saving reads it; nothing is
//! written.

use crate::Services;
use crate::account::load_brand;
use crate::campaigns::{CampaignError, CampaignRunReport, resolve};
use regulars_campaigns::Campaign;
use regulars_domain::{BrandId, CampaignId};
use serde_json::Value;

/// What a campaign document would do if it ran now.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftPreview {
    /// The document as saving would store it (rewards copied from the catalogue, the
    /// brand's shop, currency and offset filled in).
    pub campaign: Campaign,
    /// What a run now would do: customers messaged and skipped by reason.
    pub run: CampaignRunReport,
    /// What the campaign had spent before (zero for one not saved yet), minor units.
    pub budget_before_minor: i64,
    /// The first message the run would send, as an SMS would carry it (a voucher code
    /// and links as long as real ones, the opt-out line), before folding; `None` when
    /// nobody would be messaged.
    pub first_message: Option<String>,
}

impl DraftPreview {
    /// The most the offers of the messages planned would cost, minor units: the offers'
    /// cost, within what is left of the budget.
    pub fn max_cost_minor(&self) -> i64 {
        self.run
            .budget_used_minor
            .saturating_sub(self.budget_before_minor)
            .max(0)
    }
}

impl Services {
    /// Plans `document` (a campaign document as `create_campaign` takes it) as campaign
    /// `id` — an existing campaign being edited, whose budget spent and messages sent
    /// count, or a new id — over the brand's customers now, and writes nothing. An
    /// invalid document is refused as saving refuses it, naming the field.
    pub async fn preview_campaign_document(
        &self,
        brand: BrandId,
        id: Option<CampaignId>,
        document: &Value,
    ) -> Result<DraftPreview, CampaignError> {
        let id = id.unwrap_or_else(|| CampaignId::from_uuid(self.ids.new_id()));
        let (campaign, budget_before_minor) = self
            .transact("preview_campaign_document", |mut tx| async move {
                let result: Result<_, CampaignError> = async {
                    let b = load_brand::<CampaignError>(tx.as_mut(), brand).await?;
                    let campaign = resolve(tx.as_mut(), &b, id, document).await?;
                    let spent = tx
                        .campaigns()
                        .campaign(brand, id)
                        .await?
                        .map_or(0, |r| r.budget_used_minor);
                    Ok((campaign, spent))
                }
                .await;
                (tx, result)
            })
            .await?;
        let (run, first_message) = self.plan_pages(brand, id, false, Some(&campaign)).await?;
        Ok(DraftPreview {
            campaign,
            run,
            budget_before_minor,
            first_message,
        })
    }
}
