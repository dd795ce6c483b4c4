//! `ratings`: one customer rating per order (stars, an optional comment, the order's
//! location code); `location_managers`: the sealed email of a location's manager, where
//! low ratings are sent; `rating_settings`: a brand's low-rating threshold.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, small_integer, text, text_null, uuid};

/// Creates `ratings`, `location_managers` and `rating_settings`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261211_500001_ratings"
    }
}

fn to_brand(table: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_brand_id"))
        .from_tbl(Alias::new(table))
        .from_col("brand_id")
        .to_tbl("brands")
        .to_col("id")
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("ratings")
                    .col(uuid("brand_id"))
                    .col(uuid("order_id"))
                    .col(uuid("customer_id"))
                    .col(text_null("location"))
                    .col(small_integer("stars"))
                    .col(text_null("comment"))
                    .col(big_integer("created_at"))
                    .primary_key(Index::create().col("brand_id").col("order_id").primary())
                    .foreign_key(&mut to_brand("ratings"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ratings_brand_created")
                    .table("ratings")
                    .col("brand_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ratings_brand_customer")
                    .table("ratings")
                    .col("brand_id")
                    .col("customer_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("location_managers")
                    .col(uuid("brand_id"))
                    .col(uuid("location_id"))
                    .col(text("email"))
                    .col(big_integer("updated_at"))
                    .primary_key(Index::create().col("brand_id").col("location_id").primary())
                    .foreign_key(&mut to_brand("location_managers"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("rating_settings")
                    .col(uuid("brand_id"))
                    .col(small_integer("low_threshold"))
                    .col(big_integer("updated_at"))
                    .primary_key(Index::create().col("brand_id").primary())
                    .foreign_key(&mut to_brand("rating_settings"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["rating_settings", "location_managers", "ratings"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
