//! One-time codes that prove a phone number, and the customer sessions they open.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer, text, uuid, uuid_null};

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_200001_otp"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("otp_codes")
                    .col(uuid("brand_id"))
                    .col(text("purpose"))
                    .col(text("phone_key"))
                    .col(text("code_hash"))
                    .col(integer("attempts"))
                    .col(integer("sends"))
                    .col(big_integer("window_started_at"))
                    .col(big_integer("expires_at"))
                    .col(big_integer("created_at"))
                    .primary_key(
                        Index::create()
                            .col("brand_id")
                            .col("purpose")
                            .col("phone_key")
                            .primary(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_otp_codes_brand_id")
                            .from_tbl("otp_codes")
                            .from_col("brand_id")
                            .to_tbl("brands")
                            .to_col("id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("customer_sessions")
                    .col(uuid("brand_id"))
                    .col(text("token_hash"))
                    .col(text("purpose"))
                    .col(text("phone"))
                    .col(uuid_null("customer_id"))
                    .col(big_integer("created_at"))
                    .col(big_integer("expires_at"))
                    .primary_key(Index::create().col("brand_id").col("token_hash").primary())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_customer_sessions_brand_id")
                            .from_tbl("customer_sessions")
                            .from_col("brand_id")
                            .to_tbl("brands")
                            .to_col("id"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["customer_sessions", "otp_codes"] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
