//! The period-end tier reviews: one row per customer and period end reviewed, so a
//! re-run or a second worker never moves a customer twice.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, boolean, text, text_null, uuid};

/// Creates `tier_reviews`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_500001_tier_reviews"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("tier_reviews")
                    .col(uuid("brand_id"))
                    .col(uuid("customer_id"))
                    // Microseconds since the epoch, like every stored time.
                    .col(big_integer("period_end"))
                    .col(text("from_tier"))
                    .col(text_null("to_tier"))
                    .col(boolean("moved_down"))
                    .col(big_integer("reviewed_at"))
                    .primary_key(
                        Index::create()
                            .col("brand_id")
                            .col("customer_id")
                            .col("period_end")
                            .primary(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("tier_reviews").if_exists().to_owned())
            .await
    }
}
