//! An index for a brand with millions of orders: each customer's orders by time, with
//! the amounts that decide whether an order counts in reports. Whether a page of
//! customers had a counted order before a day, and how many customers did, are then
//! answered from the index alone; the scoring job's and campaigns' reads of a page of
//! customers' orders find them by it too.

use sea_orm_migration::prelude::*;

/// Creates the index.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261212_600001_scale_indexes"
    }
}

const NAME: &str = "ix_orders_customer_placed";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table("orders")
                    .col("brand_id")
                    .col("customer_id")
                    .col("placed_at")
                    .col("total_minor")
                    .col("refunded_minor")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(NAME).table("orders").to_owned())
            .await
    }
}
