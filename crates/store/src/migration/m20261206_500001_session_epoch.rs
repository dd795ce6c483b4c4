//! `api_keys.session_epoch`: the generation of a key's dashboard sessions. A session
//! cookie carries the epoch it was signed at; signing out bumps the epoch, so every
//! cookie of that key, copied or not, stops opening a session.

use sea_orm_migration::prelude::*;

/// Adds the session epoch to API keys.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_500001_session_epoch"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("api_keys")
                    .add_column(
                        ColumnDef::new("session_epoch")
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
                    .table("api_keys")
                    .drop_column("session_epoch")
                    .to_owned(),
            )
            .await
    }
}
