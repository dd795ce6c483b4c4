//! `brands.config_version`: a number every change to the brand's row or its loyalty
//! programme moves up, in the transaction that makes the change. A server keeps the brand
//! and its programme in memory between orders and reads this number in the statement
//! that locks the customer's account: a different number means the copy is stale, and it
//! is read again before any rule is applied.

use sea_orm_migration::prelude::*;

/// Adds `brands.config_version` (starting at 0).
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261209_700001_config_version"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("brands")
                    .add_column(
                        ColumnDef::new("config_version")
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("brands")
                    .drop_column("config_version")
                    .to_owned(),
            )
            .await
    }
}
