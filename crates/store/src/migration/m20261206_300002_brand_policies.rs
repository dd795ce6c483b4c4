//! The legal policy for promotional messages (allowed hours, cap per phone, prefix) as
//! a brand setting; campaigns may only tighten it. One row per brand that set one.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, text, uuid};

/// Creates `brand_policies`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_300002_brand_policies"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("brand_policies")
                    .col(uuid("brand_id"))
                    .col(text("policy"))
                    .col(big_integer("updated_at"))
                    .primary_key(Index::create().col("brand_id").primary())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_brand_policies_brand_id")
                            .from_tbl("brand_policies")
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
            .drop_table(Table::drop().table("brand_policies").to_owned())
            .await
    }
}
