//! What a POS integration knows about its customers: the phone number of each POS
//! customer code (KiotViet's `customer.update`), and the orders kept until that number
//! is known.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, text, uuid};

/// Creates `pos_customers` and `pos_waiting_orders`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_700001_pos_customers"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("pos_customers")
                    .col(uuid("brand_id"))
                    .col(uuid("integration_id"))
                    .col(text("customer_ref"))
                    // E.164.
                    .col(text("phone"))
                    .col(big_integer("updated_at"))
                    .primary_key(
                        Index::create()
                            .col("brand_id")
                            .col("integration_id")
                            .col("customer_ref")
                            .primary(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_pos_customers_integration")
                            .from_tbl("pos_customers")
                            .from_col("brand_id")
                            .from_col("integration_id")
                            .to_tbl("integrations")
                            .to_col("brand_id")
                            .to_col("id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("pos_waiting_orders")
                    .col(uuid("brand_id"))
                    .col(uuid("integration_id"))
                    .col(text("source"))
                    .col(text("external_id"))
                    .col(text("customer_ref"))
                    // The order as JSON, exactly as it will be ingested (plus the phone).
                    .col(text("order_json"))
                    .col(big_integer("received_at"))
                    .primary_key(
                        Index::create()
                            .col("brand_id")
                            .col("integration_id")
                            .col("source")
                            .col("external_id")
                            .primary(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_pos_waiting_orders_integration")
                            .from_tbl("pos_waiting_orders")
                            .from_col("brand_id")
                            .from_col("integration_id")
                            .to_tbl("integrations")
                            .to_col("brand_id")
                            .to_col("id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_pos_waiting_orders_customer")
                    .table("pos_waiting_orders")
                    .col("brand_id")
                    .col("integration_id")
                    .col("customer_ref")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["pos_waiting_orders", "pos_customers"] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
