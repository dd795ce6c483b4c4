//! Who changed a customer's profile or consent, when and from where: one row per change
//! (registration included), so consent can be traced to the key that recorded it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, boolean, text, uuid};

/// Creates `customer_changes`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_300001_customer_changes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("customer_changes")
                    .col(uuid("brand_id"))
                    .col(uuid("customer_id"))
                    .col(uuid("id"))
                    .col(big_integer("at"))
                    .col(text("actor"))
                    .col(text("source"))
                    .col(text("fields"))
                    .col(boolean("consent_zalo"))
                    .col(boolean("consent_sms"))
                    .col(boolean("consent_email"))
                    .primary_key(
                        Index::create()
                            .col("brand_id")
                            .col("customer_id")
                            .col("id")
                            .primary(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_customer_changes_brand_id")
                            .from_tbl("customer_changes")
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
            .drop_table(Table::drop().table("customer_changes").to_owned())
            .await
    }
}
