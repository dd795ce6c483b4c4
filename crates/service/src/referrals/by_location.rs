//! The referral figures of a scope: the referrals whose friend's first purchase was at
//! the scope's locations.

use crate::Services;
use crate::account::load_brand;
use crate::manage::ManageError;
use crate::scope::Scope;
use regulars_domain::BrandId;
use regulars_ports::ReferralCounts;

impl Services {
    /// The brand's referral figures for `scope`: the whole brand's as
    /// [`referral_counts`](Self::referral_counts), or, for some locations, the friends
    /// signed up (pending, rewarded, reversed) whose first order was placed at one of
    /// them. A friend without an order is at no location; invites and refusals are at
    /// none either (`invited` 0, `refused` empty). A location the brand does not have is
    /// [`ManageError::Invalid`] naming `location`.
    pub async fn referral_counts_in(
        &self,
        brand: BrandId,
        scope: &Scope,
    ) -> Result<ReferralCounts, ManageError> {
        let Scope::Locations(ids) = scope else {
            return self.referral_counts(brand).await;
        };
        self.manage("referral_counts_in", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            let known = tx.locations().locations(brand).await?;
            let mut codes = Vec::with_capacity(ids.len());
            for id in ids {
                let location =
                    known
                        .iter()
                        .find(|l| l.id == *id)
                        .ok_or_else(|| ManageError::Invalid {
                            field: "location",
                            message: format!("no location {id} in this brand"),
                        })?;
                codes.push(location.code.clone());
            }
            Ok(tx.referrals().counts(brand, Some(codes.as_slice())).await?)
        })
        .await
    }
}
