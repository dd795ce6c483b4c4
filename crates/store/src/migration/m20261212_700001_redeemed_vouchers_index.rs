//! The programme's cost in a period reads the vouchers redeemed in it: an index by
//! brand and redemption time, as the reports' other time indexes.

use sea_orm_migration::prelude::*;

/// Creates `ix_vouchers_redeemed`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261212_700001_redeemed_vouchers_index"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let index = Index::create()
            .name("ix_vouchers_redeemed")
            .table("vouchers")
            .col("brand_id")
            .col("redeemed_at")
            .to_owned();
        manager.create_index(index).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let index = Index::drop()
            .name("ix_vouchers_redeemed")
            .table("vouchers")
            .to_owned();
        manager.drop_index(index).await
    }
}
