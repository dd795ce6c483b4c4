//! The brand's menu: the items a till without an integrated POS sells. Admins keep it
//! item by item or replace it whole; every role reads it. A whole menu is checked
//! before anything is written, so a bad item leaves the stored menu as it was.

use crate::account::load_brand;
use crate::error::{common_variants, store_class};
use crate::{ErrorClass, Services, UseCaseError};
use regulars_domain::{BrandId, MenuError, MenuItem, sort_menu, validate_menu};
use regulars_ports::{StoreError, Transaction};
use thiserror::Error;

/// Why a menu use case failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MenuUseCaseError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// An item, or the menu as a whole, is invalid; the error names the item and field.
    #[error(transparent)]
    Invalid(MenuError),
    /// The menu has no item with this SKU.
    #[error("the menu has no item {0:?}")]
    UnknownItem(String),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(MenuUseCaseError, brand);

impl UseCaseError for MenuUseCaseError {
    fn class(&self) -> ErrorClass {
        match self {
            MenuUseCaseError::UnknownBrand(_) | MenuUseCaseError::UnknownItem(_) => {
                ErrorClass::NotFound
            }
            MenuUseCaseError::Invalid(_) => ErrorClass::Invalid,
            MenuUseCaseError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            MenuUseCaseError::UnknownBrand(_) => Some("brand"),
            MenuUseCaseError::Invalid(e) => Some(e.field),
            MenuUseCaseError::UnknownItem(_) => Some("sku"),
            MenuUseCaseError::Store(_) => None,
        }
    }
}

impl Services {
    async fn menu_tx<T>(
        &self,
        use_case: &'static str,
        work: impl AsyncFn(&mut dyn Transaction) -> Result<T, MenuUseCaseError>,
    ) -> Result<T, MenuUseCaseError> {
        let work = &work;
        self.transact(use_case, |mut tx| async move {
            let result = work(tx.as_mut()).await;
            (tx, result)
        })
        .await
    }

    /// The brand's whole menu, active or not, in the order it is shown.
    pub async fn menu(&self, brand: BrandId) -> Result<Vec<MenuItem>, MenuUseCaseError> {
        self.menu_tx("menu", async |tx| {
            load_brand::<MenuUseCaseError>(tx, brand).await?;
            let mut items = tx.menu().menu_items(brand).await?;
            sort_menu(&mut items);
            Ok(items)
        })
        .await
    }

    /// Adds an item, or replaces the item with its SKU; true when it was added.
    pub async fn put_menu_item(
        &self,
        brand: BrandId,
        item: &MenuItem,
    ) -> Result<bool, MenuUseCaseError> {
        self.menu_tx("put_menu_item", async |tx| {
            let found = load_brand::<MenuUseCaseError>(tx, brand).await?;
            item.validate(found.currency)
                .map_err(MenuUseCaseError::Invalid)?;
            let now = self.clock.now();
            Ok(tx.menu().put_menu_item(brand, item, now).await?)
        })
        .await
    }

    /// Removes the item with this SKU (orders that sold it keep their lines).
    pub async fn delete_menu_item(
        &self,
        brand: BrandId,
        sku: &str,
    ) -> Result<(), MenuUseCaseError> {
        self.menu_tx("delete_menu_item", async |tx| {
            load_brand::<MenuUseCaseError>(tx, brand).await?;
            if tx.menu().delete_menu_item(brand, sku).await? {
                Ok(())
            } else {
                Err(MenuUseCaseError::UnknownItem(sku.to_owned()))
            }
        })
        .await
    }

    /// Replaces the whole menu with `items`, checked as a whole first: on any error
    /// (which names the item's index and field) nothing is written.
    pub async fn replace_menu(
        &self,
        brand: BrandId,
        items: Vec<MenuItem>,
    ) -> Result<Vec<MenuItem>, MenuUseCaseError> {
        let items = &items;
        self.menu_tx("replace_menu", async |tx| {
            let found = load_brand::<MenuUseCaseError>(tx, brand).await?;
            validate_menu(items, found.currency).map_err(MenuUseCaseError::Invalid)?;
            let now = self.clock.now();
            tx.menu().replace_menu(brand, items, now).await?;
            let mut sorted = items.clone();
            sort_menu(&mut sorted);
            Ok(sorted)
        })
        .await
    }

    /// The items the till offers: the active ones, in the order they are shown.
    pub async fn active_menu(&self, brand: BrandId) -> Result<Vec<MenuItem>, MenuUseCaseError> {
        let mut items = self.menu(brand).await?;
        items.retain(|i| i.active);
        Ok(items)
    }
}
