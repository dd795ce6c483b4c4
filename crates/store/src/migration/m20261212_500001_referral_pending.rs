//! `balances.referral_pending`: whether a referral waits for the customer's first order
//! (see `repo::referral_mark`). Accounts of friends whose referral is pending when this
//! runs are marked, their head row created if they have none yet.

use sea_orm_migration::prelude::*;

/// Adds `balances.referral_pending` (false) and marks the pending referrals' friends.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261212_500001_referral_pending"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("balances")
                    .add_column(
                        ColumnDef::new("referral_pending")
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        // The SELECT has a WHERE: SQLite reads `ON CONFLICT` after a bare `FROM t` as a
        // join constraint.
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO balances (brand_id, customer_id, balance, next_seq, state, \
                 referral_pending) \
                 SELECT brand_id, friend_id, 0, 0, NULL, TRUE FROM referrals \
                 WHERE status = 'pending' \
                 ON CONFLICT (brand_id, customer_id) DO UPDATE SET referral_pending = TRUE",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("balances")
                    .drop_column("referral_pending")
                    .to_owned(),
            )
            .await
    }
}
