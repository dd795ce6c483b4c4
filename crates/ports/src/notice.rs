//! The brand's processing notice: what it tells customers about their data, one text per
//! language, published in numbered versions that are kept.

use crate::StoreError;
use async_trait::async_trait;
use regulars_domain::BrandId;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// One published version of a brand's processing notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The brand.
    pub brand_id: BrandId,
    /// Its number: 1 for the first, one more for each publication. Consent records the
    /// version the customer was shown.
    pub version: u32,
    /// The text per language code (`vi`, `en`).
    pub texts: BTreeMap<String, String>,
    /// When it was published.
    pub published_at: OffsetDateTime,
}

/// Storage of processing notices.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait NoticeRepo: Send {
    /// Stores a new version; a version the brand already has is a
    /// [`StoreError::Conflict`].
    async fn publish_notice(&mut self, notice: &Notice) -> Result<(), StoreError>;
    /// The given version of the brand's notice, or its latest when `version` is `None`;
    /// `None` when there is no such version (or none at all).
    async fn notice(
        &mut self,
        brand: BrandId,
        version: Option<u32>,
    ) -> Result<Option<Notice>, StoreError>;
}
