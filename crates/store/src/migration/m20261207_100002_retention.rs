//! A brand's retention periods: how long inactive customers and message bodies are kept.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null, uuid};

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_100002_retention"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("brand_retention")
                    .col(uuid("brand_id"))
                    .col(big_integer_null("inactive_customer_months"))
                    .col(big_integer_null("message_body_days"))
                    .col(big_integer("updated_at"))
                    .primary_key(Index::create().col("brand_id").primary())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_brand_retention_brand_id")
                            .from_tbl("brand_retention")
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
            .drop_table(
                Table::drop()
                    .table("brand_retention")
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
