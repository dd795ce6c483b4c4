//! What the owner's reports keep beside the orders:
//!
//! * `goals`: the owner's targets for the programme's figures; one row per
//!   `(brand_id, id)`. Values are BIGINT millionths of the metric's unit (a rate of 0.4 is
//!   400000; money is in major units of the brand's currency).
//! * `till_actions`: what each staff member did at the till (an order rung up, a
//!   customer signed up, a voucher redeemed), for the report by staff member; one row per
//!   `(brand_id, id)`, read by `(brand_id, at)`.
//!
//! Times are BIGINT microseconds.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, text, uuid, uuid_null};

/// Creates `goals` and `till_actions`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261211_800001_owner_reports"
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
                    .table("goals")
                    .col(uuid("brand_id"))
                    .col(uuid("id"))
                    .col(text("metric"))
                    .col(big_integer("start_millionths"))
                    .col(big_integer("target_millionths"))
                    .col(big_integer("starts_at"))
                    .col(big_integer("deadline"))
                    .col(uuid_null("location_id"))
                    .col(big_integer("created_at"))
                    .primary_key(Index::create().col("brand_id").col("id").primary())
                    .foreign_key(&mut brand_fk("goals"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("till_actions")
                    .col(uuid("brand_id"))
                    .col(uuid("id"))
                    .col(big_integer("at"))
                    .col(uuid("staff_id"))
                    .col(uuid("location_id"))
                    .col(text("kind"))
                    .col(uuid_null("order_id"))
                    .primary_key(Index::create().col("brand_id").col("id").primary())
                    .foreign_key(&mut brand_fk("till_actions"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_till_actions_brand_at")
                    .table("till_actions")
                    .col("brand_id")
                    .col("at")
                    .col("id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("till_actions").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("goals").to_owned())
            .await
    }
}
