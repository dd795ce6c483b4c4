//! `api_keys.locations`: the locations a `manager` key covers, as a JSON array of
//! location ids (null for every other role, whose keys see the whole brand). Read with
//! the key in the same statement, so checking a manager's scope costs no second query.

use sea_orm_migration::prelude::*;

/// Adds `api_keys.locations` (nullable text).
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261210_400001_manager_locations"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("api_keys")
                    .add_column(ColumnDef::new("locations").text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("api_keys")
                    .drop_column("locations")
                    .to_owned(),
            )
            .await
    }
}
