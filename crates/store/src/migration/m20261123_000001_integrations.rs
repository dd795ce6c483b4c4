//! POS integrations: each brand's webhook endpoints and their sealed secrets.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null, text, text_null, uuid};

/// Creates `integrations`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000001_integrations"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("integrations")
                    .col(uuid("brand_id"))
                    .col(uuid("id"))
                    .col(text("kind"))
                    .col(text_null("label"))
                    // Nonce and ciphertext of the webhook secret, sealed with the server key.
                    .col(text("sealed_secret"))
                    .col(big_integer("created_at"))
                    .col(big_integer_null("revoked_at"))
                    .primary_key(Index::create().col("brand_id").col("id").primary())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_integrations_brand_id")
                            .from_tbl("integrations")
                            .from_col("brand_id")
                            .to_tbl("brands")
                            .to_col("id"),
                    )
                    .to_owned(),
            )
            .await?;
        // A webhook names its integration before its brand is known.
        manager
            .create_index(
                Index::create()
                    .name("ux_integrations_id")
                    .table("integrations")
                    .col("id")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("integrations").if_exists().to_owned())
            .await
    }
}
