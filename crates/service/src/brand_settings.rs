//! A brand's own settings, changed by its admin.

use crate::Services;
use crate::account::load_brand;
use crate::manage::ManageError;
use regulars_domain::BrandId;
use regulars_loyalty::ledger::RefundPolicy;
use regulars_ports::Brand;

/// A change to a brand's settings, as a JSON merge patch gives it: each `Some` replaces
/// that setting, each `None` leaves it as it is. New settings join as new fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrandPatch {
    /// What a refund does with points already spent (`refund_overdraw`).
    pub refund_overdraw: Option<RefundPolicy>,
}

impl BrandPatch {
    /// True when the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self == &BrandPatch::default()
    }

    fn apply(&self, brand: &mut Brand) {
        if let Some(policy) = self.refund_overdraw {
            brand.refund_policy = policy;
        }
    }
}

impl Services {
    /// Changes the brand's settings named by `patch`, in one transaction, and returns the
    /// brand as it is afterwards. An empty patch changes nothing and returns the brand.
    pub async fn patch_brand(
        &self,
        brand: BrandId,
        patch: BrandPatch,
    ) -> Result<Brand, ManageError> {
        let patch = &patch;
        let patched = self
            .transact::<_, ManageError, _, _>("patch_brand", |mut tx| async move {
                let result = async {
                    let mut current = load_brand::<ManageError>(tx.as_mut(), brand).await?;
                    if !patch.is_empty() {
                        patch.apply(&mut current);
                        tx.brands().update_brand(&current).await?;
                    }
                    Ok(current)
                }
                .await;
                (tx, result)
            })
            .await?;
        // Webhooks read the brand's settings with their endpoint.
        self.endpoints.forget_brand(brand);
        Ok(patched)
    }
}
