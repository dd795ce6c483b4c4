//! The scoring job's tables: customer scores, scoring runs with their segment sizes, and
//! custom segment definitions.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, text, uuid};

/// Creates `customer_scores`, `scoring_runs` and `segment_definitions`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000002_intelligence"
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("customer_scores")
                    .col(uuid("brand_id"))
                    .col(uuid("customer_id"))
                    .col(big_integer("scored_at"))
                    // The scores as JSON: the job's output evolves faster than a schema.
                    .col(text("scores"))
                    .primary_key(Index::create().col("brand_id").col("customer_id").primary())
                    .foreign_key(&mut owned_by_brand("customer_scores"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("scoring_runs")
                    .col(uuid("brand_id"))
                    .col(uuid("id"))
                    .col(big_integer("at"))
                    .col(big_integer("customers"))
                    .col(text("summary"))
                    .col(text("segment_sizes"))
                    .primary_key(Index::create().col("brand_id").col("id").primary())
                    .foreign_key(&mut owned_by_brand("scoring_runs"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_scoring_runs_at")
                    .table("scoring_runs")
                    .col("brand_id")
                    .col("at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("segment_definitions")
                    .col(uuid("brand_id"))
                    .col(uuid("id"))
                    .col(text("name"))
                    .col(text("rule"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .primary_key(Index::create().col("brand_id").col("id").primary())
                    .foreign_key(&mut owned_by_brand("segment_definitions"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_segment_definitions_name")
                    .table("segment_definitions")
                    .col("brand_id")
                    .col("name")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["segment_definitions", "scoring_runs", "customer_scores"] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
