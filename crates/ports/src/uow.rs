//! The unit of work: one database transaction per use case.

use crate::GoalRepo;
use crate::MenuRepo;
use crate::StampRepo;
use crate::{
    AccessRepo, AuditRepo, BrandRepo, CampaignRepo, CustomerRepo, IdempotencyRepo,
    IntelligenceRepo, LedgerRepo, LocationRepo, OrderRepo, OutboxRepo, PrivacyRepo, ReportRepo,
    StoreError, TillRepo, VoucherRepo,
};
use crate::{ClaimRepo, DoNotCallRepo, NoticeRepo, OtpRepo, ReferralRepo};
use async_trait::async_trait;

/// Begins transactions.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UnitOfWork: Send + Sync {
    /// Begins a transaction. Everything done through it is applied by
    /// [`Transaction::commit`] or not at all.
    ///
    /// A task must not call `begin` while it holds a transaction: a store may have a
    /// single connection (SQLite does), and the second `begin` would wait for the first
    /// transaction, held by the same task, until the store's acquire timeout.
    async fn begin(&self) -> Result<Box<dyn Transaction>, StoreError>;
}

/// An open transaction and the repositories that work inside it. Dropping it without
/// committing rolls it back.
///
/// After any error from one of its repositories the transaction must be rolled back
/// (or dropped), not used further or committed: PostgreSQL aborts the transaction on an
/// error and refuses every later statement until it ends, while SQLite keeps it open, so
/// what a later statement or a commit would do differs from one database to the other.
#[async_trait]
pub trait Transaction: Send {
    /// Brands, programmes, rewards.
    fn brands(&mut self) -> &mut dyn BrandRepo;
    /// Customers.
    fn customers(&mut self) -> &mut dyn CustomerRepo;
    /// Orders.
    fn orders(&mut self) -> &mut dyn OrderRepo;
    /// The points ledger.
    fn ledger(&mut self) -> &mut dyn LedgerRepo;
    /// Vouchers.
    fn vouchers(&mut self) -> &mut dyn VoucherRepo;
    /// Idempotency records.
    fn idempotency(&mut self) -> &mut dyn IdempotencyRepo;
    /// API keys and POS integrations.
    fn access(&mut self) -> &mut dyn AccessRepo;
    /// Locations.
    fn locations(&mut self) -> &mut dyn LocationRepo;
    /// Scores, segments and scoring runs.
    fn intelligence(&mut self) -> &mut dyn IntelligenceRepo;
    /// Campaigns and their members.
    fn campaigns(&mut self) -> &mut dyn CampaignRepo;
    /// The message outbox.
    fn outbox(&mut self) -> &mut dyn OutboxRepo;
    /// What the brand reports read.
    fn reports(&mut self) -> &mut dyn ReportRepo;
    /// The access log of reads of personal data.
    fn audit(&mut self) -> &mut dyn AuditRepo;
    /// Customers' rights and retention.
    fn privacy(&mut self) -> &mut dyn PrivacyRepo;
    /// Staff members and till devices.
    fn till(&mut self) -> &mut dyn TillRepo;
    /// One-time codes and customer sessions.
    fn otp(&mut self) -> &mut dyn OtpRepo;
    /// The brand's processing notices.
    fn notices(&mut self) -> &mut dyn NoticeRepo;
    /// The deployment's do-not-call list.
    fn do_not_call(&mut self) -> &mut dyn DoNotCallRepo;
    /// Orders open to a claim and the claims made.
    fn claims(&mut self) -> &mut dyn ClaimRepo;
    /// The referral programme, invites and referrals.
    fn referrals(&mut self) -> &mut dyn ReferralRepo;
    /// Marks the point [`Transaction::rollback_to_savepoint`] returns to, so one part of
    /// the transaction (one order of a group) can be undone without the rest. One
    /// savepoint at a time: it ends with `release_savepoint` or `rollback_to_savepoint`.
    async fn savepoint(&mut self) -> Result<(), StoreError>;
    /// Keeps what was done since the savepoint and ends it. A store may end it in the
    /// database only with the next savepoint or the commit; work done in between is
    /// kept or lost with the transaction either way.
    async fn release_savepoint(&mut self) -> Result<(), StoreError>;
    /// Undoes what was done since the savepoint (row locks taken since are released)
    /// and ends it. Unlike after other errors, the transaction may be used again after a
    /// repository error once this succeeded: PostgreSQL's aborted state ends with it too.
    /// When this fails, the transaction is broken and must be rolled back.
    async fn rollback_to_savepoint(&mut self) -> Result<(), StoreError>;
    /// The brand's menu.
    fn menu(&mut self) -> &mut dyn MenuRepo;
    /// Ratings of visits and location managers' contacts.
    fn ratings(&mut self) -> &mut dyn crate::RatingRepo;
    /// Clicks and opens of messages, and what each brand tracks.
    fn engagement(&mut self) -> &mut dyn crate::EngagementRepo;
    /// The brand's goals.
    fn goals(&mut self) -> &mut dyn GoalRepo;
    /// Stamp cards and customers' stamps.
    fn stamps(&mut self) -> &mut dyn StampRepo;
    /// Set-wise reads and writes of an import.
    fn bulk(&mut self) -> &mut dyn crate::BulkRepo;
    /// Applies everything done in the transaction.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
    /// Discards everything done in the transaction.
    async fn rollback(self: Box<Self>) -> Result<(), StoreError>;
}
