//! Claims of missed visits: one row per order stored without a customer (its receipt's
//! claim code, where and when it was placed, what was paid) that records who claimed it;
//! and each brand's claim window.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null, text, text_null, uuid, uuid_null};

/// Creates `order_claims` and `claim_settings`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261209_400001_order_claims"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("order_claims")
                    .col(uuid("brand_id"))
                    .col(uuid("order_id"))
                    // NULL for an order stored before claim codes were given.
                    .col(text_null("code"))
                    .col(text_null("location"))
                    // Microseconds since the epoch, like every stored time.
                    .col(big_integer("placed_at"))
                    .col(big_integer("total_minor"))
                    .col(text("currency"))
                    .col(uuid_null("customer_id"))
                    .col(text_null("via"))
                    .col(text_null("actor"))
                    .col(big_integer_null("claimed_at"))
                    .primary_key(Index::create().col("brand_id").col("order_id").primary())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_order_claims_code")
                    .table("order_claims")
                    .col("brand_id")
                    .col("code")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_order_claims_location")
                    .table("order_claims")
                    .col("brand_id")
                    .col("location")
                    .col("placed_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("claim_settings")
                    .col(uuid("brand_id").primary_key())
                    .col(big_integer("claim_days"))
                    .col(big_integer("updated_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("claim_settings").if_exists().to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("order_claims").if_exists().to_owned())
            .await
    }
}
