//! One open database transaction, and every repository working inside it.

use crate::contact::ContactKeys;
use crate::error::db_error;
use async_trait::async_trait;
use regulars_ports::{
    AccessRepo, AuditRepo, BrandRepo, CampaignRepo, CustomerRepo, IdempotencyRepo,
    IntelligenceRepo, LedgerRepo, LocationRepo, OrderRepo, OutboxRepo, PrivacyRepo, ReportRepo,
    StoreError, TillRepo, Transaction, VoucherRepo,
};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement};
use std::sync::Arc;

/// A sea-orm transaction that implements every repository port; the `Transaction`
/// accessors hand out the same object as each repository. Dropping it rolls back.
pub(crate) struct StoreTransaction {
    pub(crate) tx: DatabaseTransaction,
    /// The keys contact data is sealed under; `None` stores it plain.
    keys: Option<Arc<ContactKeys>>,
    /// The savepoint was ended by the caller and not yet by the database: its `RELEASE`
    /// goes in one round trip with the next savepoint, or not at all when the commit
    /// (which ends every savepoint) or the rollback comes first.
    release_owed: bool,
    /// PostgreSQL plans each of this transaction's statements for its own values (see
    /// [`StoreTransaction::plan_for_values`]).
    plans_for_values: bool,
}

impl StoreTransaction {
    pub(crate) fn new(tx: DatabaseTransaction, keys: Option<Arc<ContactKeys>>) -> Self {
        Self {
            tx,
            keys,
            release_owed: false,
            plans_for_values: false,
        }
    }

    /// The keys contact data is sealed under, if the store was given any.
    pub(crate) fn keys(&self) -> Option<&ContactKeys> {
        self.keys.as_deref()
    }

    /// Runs one statement of transaction control (the savepoints: sea-orm's nested
    /// transactions would borrow this one, while the repositories need it whole).
    async fn run(&self, sql: &str) -> Result<(), StoreError> {
        self.tx
            .execute_unprepared(sql)
            .await
            .map(|_| ())
            .map_err(|e| db_error(sql, e))
    }

    /// PostgreSQL: the rest of this transaction plans every statement for the values it
    /// is given (`SET LOCAL plan_cache_mode = force_custom_plan`), once per transaction.
    ///
    /// A prepared statement run a few times gets a generic plan, kept for the life of the
    /// connection until the table's statistics change. For an import's reads of a
    /// thousand keys at a time that plan was made while the tables were small: a
    /// sequential scan testing every row against the list, kept while the import grew
    /// the tables, so each chunk cost more than the last (a 100,000-order import ran at a
    /// third of the rate of a 20,000-order one). Planning a chunk's statement for its
    /// values costs little beside the chunk. A no-op on SQLite, which plans each time.
    pub(crate) async fn plan_for_values(&mut self) -> Result<(), StoreError> {
        if self.plans_for_values || !self.is_postgres() {
            return Ok(());
        }
        // A statement of its own (not transaction control): one more round trip, seen by
        // `Store::observe_statements` like the reads it serves.
        let setting = "SET LOCAL plan_cache_mode = force_custom_plan";
        self.tx
            .execute_raw(Statement::from_string(DbBackend::Postgres, setting))
            .await
            .map_err(|e| db_error(setting, e))?;
        self.plans_for_values = true;
        Ok(())
    }

    /// Whether the transaction runs on PostgreSQL (where row locks are spelled out).
    pub(crate) fn is_postgres(&self) -> bool {
        self.tx.get_database_backend() == DbBackend::Postgres
    }
}

#[async_trait]
impl Transaction for StoreTransaction {
    fn brands(&mut self) -> &mut dyn BrandRepo {
        self
    }

    fn customers(&mut self) -> &mut dyn CustomerRepo {
        self
    }

    fn orders(&mut self) -> &mut dyn OrderRepo {
        self
    }

    fn ledger(&mut self) -> &mut dyn LedgerRepo {
        self
    }

    fn vouchers(&mut self) -> &mut dyn VoucherRepo {
        self
    }

    fn idempotency(&mut self) -> &mut dyn IdempotencyRepo {
        self
    }

    fn access(&mut self) -> &mut dyn AccessRepo {
        self
    }

    fn locations(&mut self) -> &mut dyn LocationRepo {
        self
    }

    fn intelligence(&mut self) -> &mut dyn IntelligenceRepo {
        self
    }

    fn campaigns(&mut self) -> &mut dyn CampaignRepo {
        self
    }

    fn till(&mut self) -> &mut dyn TillRepo {
        self
    }

    fn outbox(&mut self) -> &mut dyn OutboxRepo {
        self
    }

    fn reports(&mut self) -> &mut dyn ReportRepo {
        self
    }

    fn audit(&mut self) -> &mut dyn AuditRepo {
        self
    }
    fn privacy(&mut self) -> &mut dyn PrivacyRepo {
        self
    }

    fn otp(&mut self) -> &mut dyn regulars_ports::OtpRepo {
        self
    }

    fn notices(&mut self) -> &mut dyn regulars_ports::NoticeRepo {
        self
    }

    fn do_not_call(&mut self) -> &mut dyn regulars_ports::DoNotCallRepo {
        self
    }

    fn claims(&mut self) -> &mut dyn regulars_ports::ClaimRepo {
        self
    }

    fn referrals(&mut self) -> &mut dyn regulars_ports::ReferralRepo {
        self
    }

    /// `SAVEPOINT`, after the `RELEASE` owed for the last one in the same round trip (a
    /// group commits up to dozens of orders, each between a savepoint and its end).
    async fn savepoint(&mut self) -> Result<(), StoreError> {
        if std::mem::take(&mut self.release_owed) {
            self.run("RELEASE SAVEPOINT regulars_part; SAVEPOINT regulars_part")
                .await
        } else {
            self.run("SAVEPOINT regulars_part").await
        }
    }

    /// Owes the `RELEASE` (see [`StoreTransaction::savepoint`]): what runs until the
    /// next savepoint or the commit runs inside the ended savepoint, which keeps it the
    /// same.
    async fn release_savepoint(&mut self) -> Result<(), StoreError> {
        self.release_owed = true;
        Ok(())
    }

    async fn rollback_to_savepoint(&mut self) -> Result<(), StoreError> {
        self.run("ROLLBACK TO SAVEPOINT regulars_part").await?;
        self.release_owed = true;
        Ok(())
    }

    fn menu(&mut self) -> &mut dyn regulars_ports::MenuRepo {
        self
    }

    fn ratings(&mut self) -> &mut dyn regulars_ports::RatingRepo {
        self
    }

    fn engagement(&mut self) -> &mut dyn regulars_ports::EngagementRepo {
        self
    }

    fn goals(&mut self) -> &mut dyn regulars_ports::GoalRepo {
        self
    }

    fn stamps(&mut self) -> &mut dyn regulars_ports::StampRepo {
        self
    }

    fn bulk(&mut self) -> &mut dyn regulars_ports::BulkRepo {
        self
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(|e| db_error("commit", e))
    }

    async fn rollback(self: Box<Self>) -> Result<(), StoreError> {
        self.tx
            .rollback()
            .await
            .map_err(|e| db_error("rollback", e))
    }
}
