//! `message_engagements`: every click on a message's tracked link and every open of an
//! HTML email, with the message, customer, campaign and channel it belongs to;
//! `engagement_settings`: what a brand tracks. And an index on `outbox (id)`: a link
//! token names its message by id alone, to stay short in an SMS.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, boolean, small_integer_null, text, uuid, uuid_null};

/// Creates `message_engagements`, `engagement_settings` and `ix_outbox_id`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261212_200001_engagement"
    }
}

fn to_brand(table: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_brand_id"))
        .from_tbl(Alias::new(table))
        .from_col("brand_id")
        .to_tbl("brands")
        .to_col("id")
        .to_owned()
}

fn index(name: &str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table("message_engagements");
    for col in cols {
        index.col(*col);
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("message_engagements")
                    .col(uuid("brand_id"))
                    .col(uuid("id"))
                    .col(uuid("message_id"))
                    .col(uuid_null("customer_id"))
                    .col(uuid_null("campaign_id"))
                    .col(text("channel"))
                    .col(text("kind"))
                    .col(small_integer_null("link"))
                    .col(big_integer("at"))
                    .col(boolean("counted"))
                    .primary_key(Index::create().col("brand_id").col("id").primary())
                    .foreign_key(&mut to_brand("message_engagements"))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_engagements_message",
                &["brand_id", "message_id", "kind", "at"][..],
            ),
            ("idx_engagements_customer", &["brand_id", "customer_id"][..]),
            ("idx_engagements_campaign", &["brand_id", "campaign_id"][..]),
        ] {
            manager.create_index(index(name, cols)).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("engagement_settings")
                    .col(uuid("brand_id"))
                    .col(boolean("track_links"))
                    .col(boolean("track_opens"))
                    .col(big_integer("updated_at"))
                    .primary_key(Index::create().col("brand_id").primary())
                    .foreign_key(&mut to_brand("engagement_settings"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_id")
                    .table("outbox")
                    .col("id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_outbox_id")
                    .table("outbox")
                    .to_owned(),
            )
            .await?;
        for table in ["engagement_settings", "message_engagements"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
