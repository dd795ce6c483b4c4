//! `channel_accounts`: a brand's own channel accounts (Zalo OA, SMS brandname account,
//! SMTP sender), one per channel, the whole account sealed (it holds secrets) with the
//! brand and channel bound in as associated data. `version` moves forward with every
//! change so that senders built from an older one are rebuilt.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, text, uuid};

/// Creates `channel_accounts`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261209_500001_channel_accounts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("channel_accounts")
                    .col(uuid("brand_id"))
                    // `zalo`, `sms` or `email`.
                    .col(text("channel"))
                    // `zalo`, `esms`, `twilio` or `smtp` (not secret; for listings).
                    .col(text("provider"))
                    // Sealed JSON of the account, secrets included.
                    .col(text("sealed_account"))
                    .col(big_integer("version"))
                    .col(big_integer("updated_at"))
                    .primary_key(Index::create().col("brand_id").col("channel").primary())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("channel_accounts").to_owned())
            .await
    }
}
