//! Campaigns, their members (treatment and hold-out), and the outbox in the shape the
//! delivery worker needs: the first release created `outbox` before anything wrote to it,
//! so it is replaced rather than altered.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, boolean, integer, text, text_null, uuid, uuid_null,
};

/// Creates `campaigns` and `campaign_members`, and recreates `outbox`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000001_campaigns"
    }
}

fn owned_by_brand(table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_brand_id"))
        .from_tbl(table)
        .from_col("brand_id")
        .to_tbl("brands")
        .to_col("id")
        .to_owned()
}

fn index(
    name: &str,
    table: &'static str,
    cols: &[&'static str],
    unique: bool,
) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(*col);
    }
    if unique {
        index.unique();
    }
    index
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("campaigns")
                    .col(uuid("brand_id"))
                    .col(uuid("id"))
                    .col(text("name"))
                    .col(text("definition"))
                    .col(text("status"))
                    .col(big_integer("budget_used_minor"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .col(big_integer_null("last_run_at"))
                    .primary_key(Index::create().col("brand_id").col("id").primary())
                    .foreign_key(&mut owned_by_brand("campaigns"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("campaign_members")
                    .col(uuid("brand_id"))
                    .col(uuid("campaign_id"))
                    .col(uuid("customer_id"))
                    .col(text("member_group"))
                    .col(big_integer("at"))
                    .primary_key(
                        Index::create()
                            .col("brand_id")
                            .col("campaign_id")
                            .col("customer_id")
                            .primary(),
                    )
                    .foreign_key(&mut owned_by_brand("campaign_members"))
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table("outbox").if_exists().to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("outbox")
                    .col(uuid("brand_id"))
                    .col(uuid("id"))
                    .col(uuid_null("campaign_id"))
                    .col(uuid_null("customer_id"))
                    .col(text_null("phone"))
                    .col(text("dedupe_key"))
                    .col(text("channel"))
                    .col(text("recipient"))
                    // Later channels to try, and what to send: JSON.
                    .col(text("fallbacks"))
                    .col(text("payload"))
                    .col(boolean("promotional"))
                    .col(text("status"))
                    .col(integer("attempts"))
                    .col(big_integer("due_at"))
                    .col(text_null("last_error"))
                    .col(big_integer_null("sent_at"))
                    .col(big_integer_null("delivered_at"))
                    .col(text_null("provider_message_id"))
                    .col(big_integer("created_at"))
                    .primary_key(Index::create().col("brand_id").col("id").primary())
                    .foreign_key(&mut owned_by_brand("outbox"))
                    .to_owned(),
            )
            .await?;
        for statement in [
            index(
                "ix_campaigns_created",
                "campaigns",
                &["brand_id", "created_at"],
                false,
            ),
            index(
                "ux_outbox_dedupe",
                "outbox",
                &["brand_id", "dedupe_key"],
                true,
            ),
            // Delivery workers scan due rows of every brand.
            index("ix_outbox_due", "outbox", &["status", "due_at"], false),
            // Delivery reports name the provider's id, not ours.
            index(
                "ix_outbox_provider",
                "outbox",
                &["channel", "provider_message_id"],
                false,
            ),
            // Caps look at a customer's recent messages.
            index(
                "ix_outbox_customer",
                "outbox",
                &["brand_id", "customer_id", "due_at"],
                false,
            ),
            index(
                "ix_outbox_campaign",
                "outbox",
                &["brand_id", "campaign_id", "created_at"],
                false,
            ),
        ] {
            manager.create_index(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["outbox", "campaign_members", "campaigns"] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
