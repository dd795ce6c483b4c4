//! A mock [`Transaction`] made of the repository mocks, for tests of use cases.
//!
//! ```
//! use regulars_domain::BrandId;
//! use regulars_ports::mocks::{MockTransaction, TxOutcome};
//! use regulars_ports::{StoreError, Transaction};
//!
//! let rt = tokio::runtime::Builder::new_current_thread().build()?;
//! rt.block_on(async {
//!     let mut tx = MockTransaction::default();
//!     tx.brands
//!         .expect_brand()
//!         .returning(|_| Err(StoreError::Unavailable("down".into())));
//!     let outcome = tx.outcome();
//!     let mut tx: Box<dyn Transaction> = Box::new(tx);
//!     assert!(tx.brands().brand(BrandId::from_bytes([0; 16])).await.is_err());
//!     drop(tx); // a use case that fails must not commit
//!     assert_eq!(outcome.get(), TxOutcome::Dropped);
//! });
//! # Ok::<(), std::io::Error>(())
//! ```

use crate::{
    AccessRepo, AuditRepo, BrandRepo, CampaignRepo, CustomerRepo, IdempotencyRepo,
    IntelligenceRepo, LedgerRepo, LocationRepo, MockAccessRepo, MockAuditRepo, MockBrandRepo,
    MockCampaignRepo, MockCustomerRepo, MockIdempotencyRepo, MockIntelligenceRepo, MockLedgerRepo,
    MockLocationRepo, MockOrderRepo, MockOutboxRepo, MockPrivacyRepo, MockReportRepo,
    MockVoucherRepo, OrderRepo, OutboxRepo, PrivacyRepo, ReportRepo, StoreError, Transaction,
    VoucherRepo,
};
use crate::{MockTillRepo, TillRepo};
use async_trait::async_trait;
use std::sync::{Arc, Mutex};

/// How a mock transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxOutcome {
    /// Still open, or dropped without an explicit end (a rollback).
    Dropped,
    /// `commit` was called.
    Committed,
    /// `rollback` was called.
    RolledBack,
}

/// A shared view of a mock transaction's outcome, readable after the transaction is gone.
#[derive(Debug, Clone)]
pub struct OutcomeHandle(Arc<Mutex<TxOutcome>>);

impl OutcomeHandle {
    /// The outcome so far.
    pub fn get(&self) -> TxOutcome {
        self.0.lock().map(|g| *g).unwrap_or(TxOutcome::Dropped)
    }

    fn set(&self, outcome: TxOutcome) {
        if let Ok(mut g) = self.0.lock() {
            *g = outcome;
        }
    }
}

/// A [`Transaction`] whose repositories are `mockall` mocks. Set expectations on the
/// public fields, hand it out through a `MockUnitOfWork`, then check [`Self::outcome`].
pub struct MockTransaction {
    /// Brand repository mock.
    pub brands: MockBrandRepo,
    /// Customer repository mock.
    pub customers: MockCustomerRepo,
    /// Order repository mock.
    pub orders: MockOrderRepo,
    /// Ledger repository mock.
    pub ledger: MockLedgerRepo,
    /// Voucher repository mock.
    pub vouchers: MockVoucherRepo,
    /// Idempotency repository mock.
    pub idempotency: MockIdempotencyRepo,
    /// Access (keys, integrations) repository mock.
    pub access: MockAccessRepo,
    /// Location repository mock.
    pub locations: MockLocationRepo,
    /// Intelligence repository mock.
    pub intelligence: MockIntelligenceRepo,
    /// Campaign repository mock.
    pub campaigns: MockCampaignRepo,
    /// Outbox repository mock.
    pub outbox: MockOutboxRepo,
    /// Report repository mock.
    pub reports: MockReportRepo,
    /// Access log repository mock.
    pub audit: MockAuditRepo,
    /// Privacy repository mock.
    pub privacy: MockPrivacyRepo,
    /// Staff members and till devices.
    pub till: MockTillRepo,
    /// One-time code repository mock.
    pub otp: crate::MockOtpRepo,
    /// Notice repository mock.
    pub notices: crate::MockNoticeRepo,
    /// The do-not-call list.
    pub do_not_call: crate::MockDoNotCallRepo,
    /// Claim repository mock.
    pub claims: crate::MockClaimRepo,
    /// Menu repository mock.
    pub menu: crate::MockMenuRepo,
    /// Rating repository mock.
    pub ratings: crate::MockRatingRepo,
    /// Engagement repository mock; by default it knows no settings and no response.
    pub engagement: crate::MockEngagementRepo,
    /// Goal repository mock.
    pub goals: crate::MockGoalRepo,
    /// Stamp repository mock.
    pub stamps: crate::MockStampRepo,
    /// Import repository mock.
    pub bulk: crate::MockBulkRepo,
    /// Referral repository mock; by default it knows no referral of any friend, so the
    /// order and refund paths find nothing to reward.
    pub referrals: crate::MockReferralRepo,
    /// What `commit` returns.
    pub commit_result: Result<(), StoreError>,
    /// Called on each savepoint operation; `None`: savepoints succeed and do nothing.
    pub on_savepoint: Option<SavepointHook>,
    outcome: OutcomeHandle,
}

impl Default for MockTransaction {
    fn default() -> Self {
        MockTransaction {
            brands: MockBrandRepo::new(),
            customers: MockCustomerRepo::new(),
            orders: MockOrderRepo::new(),
            ledger: MockLedgerRepo::new(),
            vouchers: MockVoucherRepo::new(),
            idempotency: MockIdempotencyRepo::new(),
            access: MockAccessRepo::new(),
            locations: MockLocationRepo::new(),
            intelligence: MockIntelligenceRepo::new(),
            campaigns: MockCampaignRepo::new(),
            outbox: MockOutboxRepo::new(),
            reports: MockReportRepo::new(),
            audit: MockAuditRepo::new(),
            privacy: MockPrivacyRepo::new(),
            till: MockTillRepo::new(),
            otp: crate::MockOtpRepo::new(),
            notices: crate::MockNoticeRepo::new(),
            do_not_call: crate::MockDoNotCallRepo::new(),
            claims: crate::MockClaimRepo::new(),
            menu: crate::MockMenuRepo::new(),
            ratings: crate::MockRatingRepo::new(),
            engagement: no_engagement(),
            goals: crate::MockGoalRepo::new(),
            stamps: crate::MockStampRepo::new(),
            bulk: crate::MockBulkRepo::new(),
            referrals: no_referrals(),
            commit_result: Ok(()),
            on_savepoint: None,
            outcome: OutcomeHandle(Arc::new(Mutex::new(TxOutcome::Dropped))),
        }
    }
}

/// A referral repository that knows no friend's referral (what the order and refund
/// paths ask) and erases nothing; every other call is unexpected.
fn no_referrals() -> crate::MockReferralRepo {
    let mut referrals = crate::MockReferralRepo::new();
    referrals
        .expect_referral_of_friend()
        .returning(|_, _| Ok(None));
    referrals.expect_erase_customer().returning(|_, _| Ok(0));
    referrals
}

/// What a [`MockTransaction`] calls on each savepoint operation.
pub type SavepointHook = Box<dyn FnMut(SavepointOp) -> Result<(), StoreError> + Send>;

/// By default a brand tracks as the defaults say and nobody clicked anything, so the
/// delivery, scoring and erasure paths find nothing to track or erase.
fn no_engagement() -> crate::MockEngagementRepo {
    let mut engagement = crate::MockEngagementRepo::new();
    engagement
        .expect_engagement_settings()
        .returning(|_| Ok(None));
    engagement
        .expect_counted_of()
        .returning(|_, _| Ok(Vec::new()));
    engagement
        .expect_erase_customer_engagements()
        .returning(|_, _| Ok(0));
    engagement
        .expect_customer_engagements()
        .returning(|_, _| Ok(Vec::new()));
    engagement
}

/// A savepoint operation on a [`MockTransaction`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SavepointOp {
    /// `savepoint`.
    Mark,
    /// `release_savepoint`.
    Release,
    /// `rollback_to_savepoint`.
    RollBack,
}

impl MockTransaction {
    fn savepoint_op(&mut self, op: SavepointOp) -> Result<(), StoreError> {
        match &mut self.on_savepoint {
            Some(hook) => hook(op),
            None => Ok(()),
        }
    }

    /// A handle that tells, later, whether this transaction was committed.
    pub fn outcome(&self) -> OutcomeHandle {
        self.outcome.clone()
    }
}

#[async_trait]
impl Transaction for MockTransaction {
    fn brands(&mut self) -> &mut dyn BrandRepo {
        &mut self.brands
    }
    fn customers(&mut self) -> &mut dyn CustomerRepo {
        &mut self.customers
    }
    fn orders(&mut self) -> &mut dyn OrderRepo {
        &mut self.orders
    }
    fn ledger(&mut self) -> &mut dyn LedgerRepo {
        &mut self.ledger
    }
    fn vouchers(&mut self) -> &mut dyn VoucherRepo {
        &mut self.vouchers
    }
    fn idempotency(&mut self) -> &mut dyn IdempotencyRepo {
        &mut self.idempotency
    }
    fn access(&mut self) -> &mut dyn AccessRepo {
        &mut self.access
    }
    fn locations(&mut self) -> &mut dyn LocationRepo {
        &mut self.locations
    }
    fn intelligence(&mut self) -> &mut dyn IntelligenceRepo {
        &mut self.intelligence
    }
    fn campaigns(&mut self) -> &mut dyn CampaignRepo {
        &mut self.campaigns
    }
    fn outbox(&mut self) -> &mut dyn OutboxRepo {
        &mut self.outbox
    }
    fn reports(&mut self) -> &mut dyn ReportRepo {
        &mut self.reports
    }
    fn audit(&mut self) -> &mut dyn AuditRepo {
        &mut self.audit
    }
    fn privacy(&mut self) -> &mut dyn PrivacyRepo {
        &mut self.privacy
    }
    fn till(&mut self) -> &mut dyn TillRepo {
        &mut self.till
    }
    fn otp(&mut self) -> &mut dyn crate::OtpRepo {
        &mut self.otp
    }
    fn notices(&mut self) -> &mut dyn crate::NoticeRepo {
        &mut self.notices
    }
    fn do_not_call(&mut self) -> &mut dyn crate::DoNotCallRepo {
        &mut self.do_not_call
    }
    fn claims(&mut self) -> &mut dyn crate::ClaimRepo {
        &mut self.claims
    }
    fn referrals(&mut self) -> &mut dyn crate::ReferralRepo {
        &mut self.referrals
    }
    async fn savepoint(&mut self) -> Result<(), StoreError> {
        self.savepoint_op(SavepointOp::Mark)
    }
    async fn release_savepoint(&mut self) -> Result<(), StoreError> {
        self.savepoint_op(SavepointOp::Release)
    }
    async fn rollback_to_savepoint(&mut self) -> Result<(), StoreError> {
        self.savepoint_op(SavepointOp::RollBack)
    }
    fn menu(&mut self) -> &mut dyn crate::MenuRepo {
        &mut self.menu
    }
    fn ratings(&mut self) -> &mut dyn crate::RatingRepo {
        &mut self.ratings
    }
    fn engagement(&mut self) -> &mut dyn crate::EngagementRepo {
        &mut self.engagement
    }
    fn goals(&mut self) -> &mut dyn crate::GoalRepo {
        &mut self.goals
    }
    fn stamps(&mut self) -> &mut dyn crate::StampRepo {
        &mut self.stamps
    }
    fn bulk(&mut self) -> &mut dyn crate::BulkRepo {
        &mut self.bulk
    }
    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        if self.commit_result.is_ok() {
            self.outcome.set(TxOutcome::Committed);
        }
        self.commit_result.clone()
    }
    async fn rollback(self: Box<Self>) -> Result<(), StoreError> {
        self.outcome.set(TxOutcome::RolledBack);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> Result<F::Output, std::io::Error> {
        Ok(tokio::runtime::Builder::new_current_thread()
            .build()?
            .block_on(f))
    }

    #[test]
    fn records_commit_rollback_and_failed_commit() -> Result<(), std::io::Error> {
        let tx = MockTransaction::default();
        let committed = tx.outcome();
        assert_eq!(block_on(Box::new(tx).commit())?, Ok(()));
        assert_eq!(committed.get(), TxOutcome::Committed);

        let tx = MockTransaction::default();
        let rolled_back = tx.outcome();
        assert_eq!(block_on(Box::new(tx).rollback())?, Ok(()));
        assert_eq!(rolled_back.get(), TxOutcome::RolledBack);

        let tx = MockTransaction {
            commit_result: Err(StoreError::Unavailable("gone".into())),
            ..MockTransaction::default()
        };
        let failed = tx.outcome();
        assert!(block_on(Box::new(tx).commit())?.is_err());
        assert_eq!(failed.get(), TxOutcome::Dropped);
        Ok(())
    }
}
