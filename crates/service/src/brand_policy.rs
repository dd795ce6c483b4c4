//! The brand's legal policy for promotional messages (Vietnam's Decree 91/2020 until the
//! brand sets another): allowed hours, the cap per phone number, the `[QC]` prefix. It
//! is a brand setting an admin changes; a campaign document may only tighten it, and
//! every campaign is planned under it, in the brand's UTC offset.

use crate::Services;
use crate::account::load_brand;
use crate::campaigns::CampaignError;
use regulars_campaigns::{Campaign, Policy};
use regulars_domain::BrandId;
use regulars_ports::{Brand, StoreError, Transaction};

/// The brand's policy: the stored one, or Decree 91 when the brand never set one.
pub(crate) async fn policy_of(
    tx: &mut dyn Transaction,
    brand: BrandId,
) -> Result<Policy, CampaignError> {
    match tx.campaigns().messaging_policy(brand).await? {
        None => Ok(Policy::default()),
        Some(text) => serde_json::from_str(&text).map_err(|e| {
            CampaignError::Store(StoreError::Corrupt(format!(
                "brand_policies.policy of {brand}: {e}"
            )))
        }),
    }
}

/// Puts `campaign` under its brand: the brand's policy (which the campaign's own limits
/// only tighten) and the brand's UTC offset, whatever its document says.
pub(crate) fn under_brand(campaign: &mut Campaign, brand: &Brand, policy: Policy) {
    campaign.brand_policy = policy;
    campaign.utc_offset = brand.utc_offset;
}

impl Services {
    /// The brand's legal policy for promotional messages.
    pub async fn messaging_policy(&self, brand: BrandId) -> Result<Policy, CampaignError> {
        self.transact("messaging_policy", |mut tx| async move {
            let result = async {
                load_brand::<CampaignError>(tx.as_mut(), brand).await?;
                policy_of(tx.as_mut(), brand).await
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// Sets the brand's legal policy for promotional messages; campaigns are planned
    /// under it from their next run. Out-of-range values are
    /// [`CampaignError::Invalid`] naming the field.
    pub async fn set_messaging_policy(
        &self,
        brand: BrandId,
        policy: Policy,
    ) -> Result<Policy, CampaignError> {
        policy
            .validate()
            .map_err(|(field, message)| CampaignError::Invalid {
                path: field.to_owned(),
                message: message.to_owned(),
            })?;
        let text = serde_json::to_string(&policy).map_err(|e| CampaignError::Invalid {
            path: String::new(),
            message: e.to_string(),
        })?;
        let text = &text;
        self.transact("set_messaging_policy", |mut tx| async move {
            let result: Result<(), CampaignError> = async {
                load_brand::<CampaignError>(tx.as_mut(), brand).await?;
                tx.campaigns()
                    .save_messaging_policy(brand, text, self.clock.now())
                    .await?;
                Ok(())
            }
            .await;
            (tx, result)
        })
        .await?;
        Ok(policy)
    }
}
