//! `location_signup`: each location's public sign-up secret, the part of its poster's
//! `/j/{token}` link that cannot be guessed. Kept in the clear (it is printed on the
//! poster) and replaced when an admin rotates it, which retires every printed poster.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, text, uuid};

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261209_100001_signup_posters"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("location_signup")
                    .col(uuid("brand_id"))
                    .col(uuid("location_id"))
                    .col(text("secret"))
                    .col(big_integer("created_at"))
                    .primary_key(Index::create().col("brand_id").col("location_id").primary())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_location_signup_brand_id")
                            .from_tbl("location_signup")
                            .from_col("brand_id")
                            .to_tbl("brands")
                            .to_col("id"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table("location_signup")
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
