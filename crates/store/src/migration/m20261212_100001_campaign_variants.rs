//! `campaign_members.variant`: which offer variant a treated member got (the index in
//! the campaign's `variants`), so each variant's redemptions and revenue are set against
//! the shared hold-out. Empty for hold-out members, campaigns without variants, and rows
//! written before this migration.

use sea_orm_migration::prelude::*;

/// Adds the column.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261212_100001_campaign_variants"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("campaign_members")
                    .add_column(ColumnDef::new("variant").small_integer().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("campaign_members")
                    .drop_column("variant")
                    .to_owned(),
            )
            .await
    }
}
