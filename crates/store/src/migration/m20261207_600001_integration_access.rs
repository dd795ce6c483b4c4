//! `integrations.sealed_access`: the credentials of a POS's own API (Square's access
//! token and notification URL, KiotViet's retailer and OAuth client), sealed like the
//! webhook secret. Integrations made before this migration have none.

use sea_orm_migration::prelude::*;

/// Adds the column.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_600001_integration_access"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("integrations")
                    .add_column(ColumnDef::new("sealed_access").text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("integrations")
                    .drop_column("sealed_access")
                    .to_owned(),
            )
            .await
    }
}
