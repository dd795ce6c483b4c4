//! `oauth_tokens`: OAuth token pairs every process shares (Zalo OA access and
//! single-use refresh tokens), sealed, changed only under compare-and-swap on
//! `version`. The deployment's own account (from `[senders]`) is stored under the nil
//! brand id.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null, text, uuid};

/// Creates `oauth_tokens`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_600001_oauth_tokens"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("oauth_tokens")
                    .col(uuid("brand_id"))
                    .col(text("provider"))
                    .col(text("account"))
                    // Sealed JSON `{access_token, refresh_token}`.
                    .col(text("sealed_tokens"))
                    .col(big_integer_null("expires_at"))
                    .col(big_integer("version"))
                    .col(big_integer_null("refreshing_until"))
                    // Fingerprint of the configured tokens the row was seeded from.
                    .col(text("seed"))
                    .col(big_integer("updated_at"))
                    .primary_key(
                        Index::create()
                            .col("brand_id")
                            .col("provider")
                            .col("account")
                            .primary(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("oauth_tokens").to_owned())
            .await
    }
}
