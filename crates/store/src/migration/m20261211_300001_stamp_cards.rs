//! Stamp cards: `stamp_cards` holds a brand's card definitions (one JSON document per
//! card, in the order given); `stamp_events` is each customer's append-only log per card,
//! the truth like the points ledger; `stamp_states` is its fold, written in the same
//! transaction, so an order reads a customer's stamps in one row per card.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null, text, text_null, uuid, uuid_null};

/// Creates `stamp_cards`, `stamp_states` and `stamp_events`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261211_300001_stamp_cards"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("stamp_cards")
                    .col(uuid("brand_id"))
                    .col(text("code"))
                    .col(big_integer("position"))
                    .col(text("definition"))
                    .col(big_integer("updated_at"))
                    .primary_key(Index::create().col("brand_id").col("code").primary())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_stamp_cards_brand_id")
                            .from_tbl("stamp_cards")
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
                    .table("stamp_states")
                    .col(uuid("brand_id"))
                    .col(uuid("customer_id"))
                    .col(text("card_code"))
                    .col(big_integer("stamps"))
                    // Microseconds since the epoch, like every stored time.
                    .col(big_integer_null("card_started_at"))
                    .col(big_integer("completed"))
                    .col(big_integer("reopened"))
                    .col(big_integer_null("expired_seq"))
                    .col(big_integer("next_seq"))
                    .col(big_integer_null("last_at"))
                    .primary_key(
                        Index::create()
                            .col("brand_id")
                            .col("customer_id")
                            .col("card_code")
                            .primary(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("stamp_events")
                    .col(uuid("brand_id"))
                    .col(uuid("customer_id"))
                    .col(text("card_code"))
                    .col(big_integer("seq"))
                    .col(text("kind"))
                    .col(big_integer("at"))
                    .col(text_null("order_source"))
                    .col(text_null("order_external_id"))
                    .col(big_integer("stamps"))
                    .col(big_integer("forgiven"))
                    .col(uuid_null("voucher_id"))
                    .primary_key(
                        Index::create()
                            .col("brand_id")
                            .col("customer_id")
                            .col("card_code")
                            .col("seq")
                            .primary(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_stamp_events_order")
                    .table("stamp_events")
                    .col("brand_id")
                    .col("customer_id")
                    .col("card_code")
                    .col("order_source")
                    .col("order_external_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["stamp_events", "stamp_states", "stamp_cards"] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
