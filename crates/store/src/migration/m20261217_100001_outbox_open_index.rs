//! The delivery workers' claim walks the messages still to send in due order: an index
//! on `outbox (due_at, id)` over the pending and sending rows alone.
//!
//! It replaces `ix_outbox_due (status, due_at)`, which a claim of two statuses in due
//! order could not read in order: PostgreSQL and SQLite both gathered every due row and
//! sorted them, so a claim of 200 messages cost as much as the whole backlog (about
//! 100 ms for 200,000 due rows on PostgreSQL, and a campaign queues a message per
//! customer at once). Read in order, a claim reads its batch and stops. The rows sent,
//! delivered or given up leave the index, so recording a send no longer writes to it.
//!
//! The claim's `WHERE` repeats the predicate word for word: SQLite uses a partial index
//! only for a query whose `WHERE` contains its terms as written.

use sea_orm_migration::prelude::*;

/// Creates `ix_outbox_open`, drops `ix_outbox_due`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261217_100001_outbox_open_index"
    }
}

/// The same text on both databases.
const CREATE: &str = "CREATE INDEX ix_outbox_open ON outbox (due_at, id) \
     WHERE status IN ('pending', 'sending')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(CREATE).await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_outbox_due")
                    .table("outbox")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_due")
                    .table("outbox")
                    .col("status")
                    .col("due_at")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_outbox_open")
                    .table("outbox")
                    .to_owned(),
            )
            .await
    }
}
