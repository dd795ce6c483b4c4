//! Storage of a brand's menu: the items its till sells, one row per SKU.

use crate::StoreError;
use async_trait::async_trait;
use regulars_domain::{BrandId, MenuItem};
use time::OffsetDateTime;

/// A brand's menu items, keyed by `(brand, sku)`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MenuRepo: Send {
    /// Every item of the brand's menu, active or not, in no particular order.
    async fn menu_items(&mut self, brand: BrandId) -> Result<Vec<MenuItem>, StoreError>;
    /// Adds the item, or replaces the one with its SKU; true when it was added.
    async fn put_menu_item(
        &mut self,
        brand: BrandId,
        item: &MenuItem,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Removes the item with this SKU; false when there was none.
    async fn delete_menu_item(&mut self, brand: BrandId, sku: &str) -> Result<bool, StoreError>;
    /// Replaces the whole menu with `items` (SKUs unique).
    async fn replace_menu(
        &mut self,
        brand: BrandId,
        items: &[MenuItem],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
}
