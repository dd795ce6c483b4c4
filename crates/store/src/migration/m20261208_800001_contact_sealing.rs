//! Whether the deployment's contact data is known to be all sealed, so that `serve` does
//! not scan every sealed column for plain values on every start.
//!
//! One row per database (`scope = 'contacts'`): `sealed` is set by a sweep that found
//! nothing plain left; every process that opens the database without a key (and so may
//! write plain values) clears it and counts itself in `plain_opens` before its first
//! transaction. A sweep only sets `sealed` if no such process opened meanwhile.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, boolean, text};

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_800001_contact_sealing"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("contact_sealing")
                    .col(text("scope"))
                    .col(boolean("sealed"))
                    .col(big_integer("plain_opens"))
                    .primary_key(Index::create().col("scope").primary())
                    .to_owned(),
            )
            .await?;
        // Unknown until a sweep with the key has run: rows from before may be plain.
        let mut insert = Query::insert();
        insert
            .into_table("contact_sealing")
            .columns(["scope", "sealed", "plain_opens"])
            .values(["contacts".into(), false.into(), 0i64.into()])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table("contact_sealing")
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
