//! `outbox.provider_key`: the fixed-length key a provider gets for a message (eSMS
//! `RequestId`, Zalo ZNS `tracking_id`), kept so a delivery report carrying only that key
//! can be matched. Rows written before this migration keep it empty; their provider saw
//! the dedupe key itself, and reports for them are matched by that.

use sea_orm_migration::prelude::*;

/// Adds the column and its lookup index.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_800001_outbox_provider_key"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("outbox")
                    .add_column(ColumnDef::new("provider_key").text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_provider_key")
                    .table("outbox")
                    .col("channel")
                    .col("provider_key")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_outbox_provider_key")
                    .table("outbox")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("outbox")
                    .drop_column("provider_key")
                    .to_owned(),
            )
            .await
    }
}
