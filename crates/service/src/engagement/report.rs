//! A campaign's responses: clicks and opens against the messages it sent.

use crate::Services;
use crate::account::load_brand;
use crate::manage::ManageError;
use regulars_domain::{BrandId, CampaignId};
use regulars_ports::{EngagementCounts, OutboxStatus};

/// A campaign's clicks and opens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CampaignEngagement {
    /// Messages a provider accepted (sent, delivered, or reported failed after).
    pub sent: u64,
    /// Clicks, opens and the messages that had them.
    pub counts: EngagementCounts,
}

impl CampaignEngagement {
    /// Clicked messages over messages sent; `None` before any was sent.
    pub fn click_rate(&self) -> Option<f64> {
        rate(self.counts.clicked_messages, self.sent)
    }

    /// Opened messages over messages sent; `None` before any was sent. Opens are a
    /// lower bound at best and inflated at worst (see `docs/engagement.md`).
    pub fn open_rate(&self) -> Option<f64> {
        rate(self.counts.opened_messages, self.sent)
    }
}

fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl Services {
    /// The campaign's clicks and opens against the messages it sent.
    pub async fn campaign_engagement(
        &self,
        brand: BrandId,
        campaign: CampaignId,
    ) -> Result<CampaignEngagement, ManageError> {
        self.manage("campaign_engagement", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            if tx.campaigns().campaign(brand, campaign).await?.is_none() {
                return Err(crate::manage::not_found("campaign", campaign));
            }
            let messages = tx.outbox().counts(brand, Some(campaign)).await?;
            let sent = [
                OutboxStatus::Sent,
                OutboxStatus::Delivered,
                OutboxStatus::Failed,
            ]
            .iter()
            .filter_map(|s| messages.get(s))
            .sum();
            let counts = tx.engagement().campaign_engagement(brand, campaign).await?;
            Ok(CampaignEngagement { sent, counts })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_click_rate_is_clicked_messages_over_sent() {
        let e = CampaignEngagement {
            sent: 4,
            counts: EngagementCounts {
                clicks: 9,
                clicked_messages: 1,
                opens: 0,
                opened_messages: 0,
            },
        };
        assert_eq!(e.click_rate(), Some(0.25));
        assert_eq!(e.open_rate(), Some(0.0));
        let none = CampaignEngagement {
            sent: 0,
            counts: EngagementCounts::default(),
        };
        assert_eq!(none.click_rate(), None);
    }
}
