//! Where each polled POS integration stands (KiotViet FnB has no invoice webhook, so
//! its invoices are listed by modification time): the cursor up to which everything was
//! counted, the back-off after errors, why polling stopped, and the lease one poll holds
//! so that two workers never poll one integration at once.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null, text_null, uuid};

/// Creates `pos_poll_cursors`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261209_600001_pos_poll_cursors"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("pos_poll_cursors")
                    .col(uuid("brand_id"))
                    .col(uuid("integration_id"))
                    // Microseconds since the epoch, like every stored time.
                    .col(big_integer_null("cursor_at"))
                    .col(big_integer("failures"))
                    .col(big_integer_null("retry_at"))
                    .col(text_null("disabled"))
                    .col(text_null("last_error"))
                    .col(big_integer_null("polled_at"))
                    .col(text_null("lease_owner"))
                    .col(big_integer_null("lease_until"))
                    .primary_key(
                        Index::create()
                            .col("brand_id")
                            .col("integration_id")
                            .primary(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table("pos_poll_cursors")
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
