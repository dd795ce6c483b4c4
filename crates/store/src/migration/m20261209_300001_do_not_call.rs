//! `do_not_call`: the deployment's do-not-call list (the national registry's numbers),
//! each number only as a keyed hash with the id of the server key it was hashed under.
//! The list belongs to the deployment, not to a brand: every row carries the nil
//! brand id, so the key still starts with `brand_id` (on a database distributed by
//! brand the list lives on one shard).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, text, uuid};

/// Creates `do_not_call`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261209_300001_do_not_call"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("do_not_call")
                    .col(uuid("brand_id"))
                    // HMAC-SHA256 of the E.164 number, hex, under `key_id`'s list key.
                    .col(text("phone_hash"))
                    .col(text("key_id"))
                    // The import that last listed the number (`--replace` drops the rest).
                    .col(text("import_id"))
                    .col(big_integer("added_at"))
                    .col(big_integer("seen_at"))
                    .primary_key(Index::create().col("brand_id").col("phone_hash").primary())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("do_not_call").to_owned())
            .await
    }
}
