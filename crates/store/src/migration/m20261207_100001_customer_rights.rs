//! Customers' rights: a customer row can be erased (de-identified: contact details
//! destroyed, the row kept under its id so the books stay whole), and every request
//! about a customer's data is logged with its outcome and legal deadline.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null, text, uuid};

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_100001_customer_rights"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("customers")
                    .add_column(big_integer_null("erased_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("privacy_requests")
                    .col(uuid("brand_id"))
                    .col(uuid("id"))
                    .col(uuid("customer_id"))
                    .col(text("kind"))
                    .col(text("actor"))
                    .col(big_integer("received_at"))
                    .col(big_integer("deadline_at"))
                    .col(big_integer_null("completed_at"))
                    .col(text("outcome"))
                    .primary_key(Index::create().col("brand_id").col("id").primary())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_privacy_requests_brand_id")
                            .from_tbl("privacy_requests")
                            .from_col("brand_id")
                            .to_tbl("brands")
                            .to_col("id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_privacy_requests_customer")
                    .table("privacy_requests")
                    .col("brand_id")
                    .col("customer_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table("privacy_requests")
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("customers")
                    .drop_column("erased_at")
                    .to_owned(),
            )
            .await
    }
}
