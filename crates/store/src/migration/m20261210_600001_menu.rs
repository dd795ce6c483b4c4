//! `menu_items`: a brand's menu, the items its till sells; one row per `(brand_id, sku)`.
//! Prices are integer minor units with their currency, as in `order_lines`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, boolean, integer_null, text, text_null, uuid};

/// Creates `menu_items`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261210_600001_menu"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("menu_items")
                    .col(uuid("brand_id"))
                    .col(text("sku"))
                    .col(text("name"))
                    .col(text_null("category"))
                    .col(big_integer("price_minor"))
                    .col(text("currency"))
                    .col(boolean("active"))
                    .col(integer_null("sort_order"))
                    .col(big_integer("updated_at"))
                    .primary_key(Index::create().col("brand_id").col("sku").primary())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_menu_items_brand_id")
                            .from_tbl("menu_items")
                            .from_col("brand_id")
                            .to_tbl("brands")
                            .to_col("id"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("menu_items").to_owned())
            .await
    }
}
