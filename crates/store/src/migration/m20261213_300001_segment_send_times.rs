//! `segment_send_times`: each RFM segment's send-time pattern as the last scoring run
//! learned it (its golden hour and weekday, how many members spoke for it, and the hour
//! distribution its members are pulled towards). Figures about a group, not a person.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, boolean, small_integer_null, text, uuid};

/// Creates `segment_send_times`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261213_300001_segment_send_times"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("segment_send_times")
                    .col(uuid("brand_id"))
                    .col(text("segment"))
                    .col(small_integer_null("golden_hour"))
                    .col(small_integer_null("golden_weekday"))
                    .col(big_integer("members"))
                    .col(boolean("own_pattern"))
                    .col(text("hours"))
                    .col(big_integer("scored_at"))
                    .primary_key(Index::create().col("brand_id").col("segment").primary())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_segment_send_times_brand_id")
                            .from_tbl("segment_send_times")
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
            .drop_table(Table::drop().table("segment_send_times").to_owned())
            .await
    }
}
