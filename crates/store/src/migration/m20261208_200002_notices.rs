//! The brand's processing notice: one row per version and language, every version kept.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer, text, uuid};

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_200002_notices"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("brand_notices")
                    .col(uuid("brand_id"))
                    .col(integer("version"))
                    .col(text("language"))
                    .col(text("text"))
                    .col(big_integer("published_at"))
                    .primary_key(
                        Index::create()
                            .col("brand_id")
                            .col("version")
                            .col("language")
                            .primary(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_brand_notices_brand_id")
                            .from_tbl("brand_notices")
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
            .drop_table(Table::drop().table("brand_notices").if_exists().to_owned())
            .await
    }
}
