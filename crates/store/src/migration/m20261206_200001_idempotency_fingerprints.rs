//! Idempotency records remember a fingerprint of the request they answered, and can be
//! pruned by kind and age.
//!
//! `fingerprint` (nullable: records written before it was kept have none) lets a key
//! that comes back with another payload be refused instead of answered with another
//! request's result. The `(kind, created_at)` index serves the worker's pruning of the
//! kinds that are kept for a while only (webhook event ids, `Idempotency-Key` requests).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::text_null;

/// Adds `idempotency.fingerprint` and the pruning index.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_200001_idempotency_fingerprints"
    }
}

const INDEX: &str = "ix_idempotency_kind_created";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("idempotency")
                    .add_column(text_null("fingerprint"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table("idempotency")
                    .col("kind")
                    .col("created_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table("idempotency").to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("idempotency")
                    .drop_column("fingerprint")
                    .to_owned(),
            )
            .await
    }
}
