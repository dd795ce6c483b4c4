//! The stored account state: `balances.state`, the fold of a customer's ledger entries
//! without the per-order tallies (JSON of `AccountState`), and `account_tallies`, one row
//! per order that earned and per redemption reference, each the JSON of its `Tally`. Both
//! are written in the transaction that appends the entries they summarise; the entries
//! stay the truth. A `NULL` state (every account before this migration) is built from the
//! entries, with its tallies, the first time the account is locked.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{text, uuid};

/// Adds `balances.state` and creates `account_tallies`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_700001_account_state"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("balances")
                    .add_column(ColumnDef::new("state").text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("account_tallies")
                    .col(uuid("brand_id"))
                    .col(uuid("customer_id"))
                    // `order:<source>:<external id>` or `redemption:<reference>`.
                    .col(text("tally_key"))
                    .col(text("tally"))
                    .primary_key(
                        Index::create()
                            .col("brand_id")
                            .col("customer_id")
                            .col("tally_key")
                            .primary(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_account_tallies_customer")
                            .from_tbl("account_tallies")
                            .from_col("brand_id")
                            .from_col("customer_id")
                            .to_tbl("customers")
                            .to_col("brand_id")
                            .to_col("id"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("account_tallies").to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("balances")
                    .drop_column("state")
                    .to_owned(),
            )
            .await
    }
}
