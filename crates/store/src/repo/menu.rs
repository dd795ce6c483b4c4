//! [`MenuRepo`]: a brand's menu items.

use crate::convert::{money, to_micros, to_minor};
use crate::entity::menu_item;
use crate::error::in_ctx;
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{BrandId, MenuItem};
use regulars_ports::{MenuRepo, StoreError};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
use time::OffsetDateTime;

fn row(
    brand: BrandId,
    item: &MenuItem,
    now: OffsetDateTime,
) -> Result<menu_item::Model, StoreError> {
    Ok(menu_item::Model {
        brand_id: brand.as_uuid(),
        sku: item.sku.clone(),
        name: item.name.clone(),
        category: item.category.clone(),
        price_minor: to_minor(&item.price)?,
        currency: item.price.currency().code().to_owned(),
        active: item.active,
        sort_order: item.sort_order,
        updated_at: to_micros(now),
    })
}

#[async_trait]
impl MenuRepo for StoreTransaction {
    async fn menu_items(&mut self, brand: BrandId) -> Result<Vec<MenuItem>, StoreError> {
        let rows = menu_item::Entity::find()
            .filter(menu_item::Column::BrandId.eq(brand.as_uuid()))
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from menu_items"))?;
        rows.into_iter()
            .map(|r| {
                Ok(MenuItem {
                    price: money(r.price_minor, &r.currency)?,
                    sku: r.sku,
                    name: r.name,
                    category: r.category,
                    active: r.active,
                    sort_order: r.sort_order,
                })
            })
            .collect()
    }

    async fn put_menu_item(
        &mut self,
        brand: BrandId,
        item: &MenuItem,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        use menu_item::Column as C;
        let existed = menu_item::Entity::find_by_id((brand.as_uuid(), item.sku.clone()))
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from menu_items"))?
            .is_some();
        menu_item::Entity::insert(row(brand, item, now)?.into_active_model())
            .on_conflict(
                OnConflict::columns([C::BrandId, C::Sku])
                    .update_columns([
                        C::Name,
                        C::Category,
                        C::PriceMinor,
                        C::Currency,
                        C::Active,
                        C::SortOrder,
                        C::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("upsert into menu_items"))?;
        Ok(!existed)
    }

    async fn delete_menu_item(&mut self, brand: BrandId, sku: &str) -> Result<bool, StoreError> {
        let result = menu_item::Entity::delete_many()
            .filter(menu_item::Column::BrandId.eq(brand.as_uuid()))
            .filter(menu_item::Column::Sku.eq(sku))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("delete from menu_items"))?;
        Ok(result.rows_affected > 0)
    }

    async fn replace_menu(
        &mut self,
        brand: BrandId,
        items: &[MenuItem],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        menu_item::Entity::delete_many()
            .filter(menu_item::Column::BrandId.eq(brand.as_uuid()))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("delete from menu_items"))?;
        let rows = items
            .iter()
            .map(|item| Ok(row(brand, item, now)?.into_active_model()))
            .collect::<Result<Vec<_>, StoreError>>()?;
        // Several statements keep each under the databases' bound-parameter limits.
        for chunk in rows.chunks(200) {
            menu_item::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&self.tx)
                .await
                .map_err(in_ctx("insert into menu_items"))?;
        }
        Ok(())
    }
}
