//! `access_log`: who read which customers' personal data, when, which parts of it and
//! through which route. One row per request; the customers it showed are a
//! comma-separated list of ids, so a page of a hundred customers is one insert. No
//! personal data beyond ids is kept here.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, text, uuid, uuid_null};

/// Creates `access_log` and its indexes.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_400001_access_log"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("access_log")
                    .col(uuid("brand_id"))
                    .col(big_integer("at"))
                    .col(uuid("id"))
                    .col(uuid_null("key_id"))
                    .col(text("channel"))
                    .col(text("route"))
                    .col(text("fields"))
                    .col(text("customers"))
                    .primary_key(
                        Index::create()
                            .col("brand_id")
                            .col("at")
                            .col("id")
                            .primary(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_access_log_brand_id")
                            .from_tbl("access_log")
                            .from_col("brand_id")
                            .to_tbl("brands")
                            .to_col("id"),
                    )
                    .to_owned(),
            )
            .await?;
        // What one key read, in time order: the breach response's query.
        manager
            .create_index(
                Index::create()
                    .name("ix_access_log_key")
                    .table("access_log")
                    .col("brand_id")
                    .col("key_id")
                    .col("at")
                    .to_owned(),
            )
            .await?;
        // The retention prune deletes by time across brands.
        manager
            .create_index(
                Index::create()
                    .name("ix_access_log_at")
                    .table("access_log")
                    .col("at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("access_log").to_owned())
            .await
    }
}
