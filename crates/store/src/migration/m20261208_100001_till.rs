//! The till: `staff_members` (who signs in with a PIN, bound to one location) and
//! `till_devices` (a location's enrolled tablets and phones, their secret kept hashed),
//! and the staff member and location of each till action in `access_log`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null, text, text_null, uuid, uuid_null};

/// Creates the till's tables and adds the till columns to the access log.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_100001_till"
    }
}

fn brand_fk(table: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_brand_id"))
        .from_tbl(table.to_owned())
        .from_col("brand_id")
        .to_tbl("brands")
        .to_col("id")
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("staff_members")
                    .col(uuid("brand_id"))
                    .col(uuid("id"))
                    .col(uuid("location_id"))
                    .col(text("name"))
                    .col(text("pin_hash"))
                    .col(big_integer("failed_pins").default(0))
                    .col(big_integer("created_at"))
                    .col(big_integer_null("revoked_at"))
                    .primary_key(Index::create().col("brand_id").col("id").primary())
                    .foreign_key(&mut brand_fk("staff_members"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("till_devices")
                    .col(uuid("brand_id"))
                    .col(uuid("id"))
                    .col(uuid("location_id"))
                    .col(text_null("label"))
                    .col(text("secret_hash"))
                    .col(big_integer("failed_pins").default(0))
                    .col(big_integer("created_at"))
                    .col(big_integer_null("revoked_at"))
                    .primary_key(Index::create().col("brand_id").col("id").primary())
                    .foreign_key(&mut brand_fk("till_devices"))
                    .to_owned(),
            )
            .await?;
        // One alteration per statement: SQLite takes no more.
        for column in ["staff_id", "location_id"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("access_log")
                        .add_column(uuid_null(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["location_id", "staff_id"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("access_log")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table("till_devices").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("staff_members").to_owned())
            .await
    }
}
