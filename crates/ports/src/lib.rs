//! Port traits of Regulars: everything the use cases need from the outside world.
//!
//! The service layer is written against these traits only; adapters implement them
//! (`regulars-store` with sea-orm on SQLite and PostgreSQL, `regulars-senders` for Zalo,
//! SMS and email). The crate holds traits and plain records, no implementations.
//!
//! * [`UnitOfWork`] begins a [`Transaction`]; every repository is reached through it, so
//!   a use case is one atomic database transaction.
//! * Repositories: [`BrandRepo`], [`CustomerRepo`], [`OrderRepo`], [`LedgerRepo`],
//!   [`VoucherRepo`], [`IdempotencyRepo`], [`AccessRepo`], [`LocationRepo`],
//!   [`IntelligenceRepo`], [`CampaignRepo`], [`OutboxRepo`], [`OtpRepo`], [`NoticeRepo`].
//! * [`Clock`] and [`IdGen`]: "now" and randomness, so use cases are reproducible in tests.
//! * [`MessageSender`]: one messaging channel (Zalo, SMS, email).
//!
//! With the `mocks` feature every port has a `mockall` mock (`MockClock`,
//! `MockCustomerRepo`, …) and [`mocks::MockTransaction`] bundles the repository mocks
//! into a transaction that records whether it was committed.
//!
//! ```
//! use regulars_ports::{Clock, StoreError};
//! use time::OffsetDateTime;
//!
//! /// A clock for a test or a replay: always the same instant.
//! struct Frozen(OffsetDateTime);
//! impl Clock for Frozen {
//!     fn now(&self) -> OffsetDateTime { self.0 }
//! }
//! let clock = Frozen(OffsetDateTime::UNIX_EPOCH);
//! assert_eq!(clock.now().unix_timestamp(), 0);
//! let err = StoreError::Conflict("orders (brand_id, source, external_id)".into());
//! assert!(err.is_conflict());
//! ```

mod audit;
mod bulk;
mod campaigns;
mod channel_accounts;
mod claims;
mod customer_list;
mod do_not_call;
mod engagement;
mod error;
mod goals;
mod intelligence;
mod ledger;
mod menu;
mod messaging;
#[cfg(any(test, feature = "mocks"))]
pub mod mocks;
mod notice;
mod order_writes;
mod otp;
mod outbox;
mod pos_api;
mod pos_poll;
mod privacy;
mod ratings;
mod records;
mod referrals;
mod reports;
mod repos;
mod stamps;
mod system;
mod till;
mod tokens;
mod uow;
mod webhooks;

pub use audit::{AccessChannel, AccessQuery, AccessRecord, AuditRepo, PersonalData};
pub use bulk::{AccountWrite, BulkRepo, ImportWrite};
pub use campaigns::{
    CampaignMember, CampaignRecord, CampaignRepo, CampaignStatus, MemberGroup, MemberRevenue,
    VariantVoucherCount,
};
pub use channel_accounts::{
    ChannelAccount, ChannelAccountStore, ChannelSenderFactory, EsmsAccount, SmtpAccount,
    StoredChannelAccount, TwilioAccount, ZaloAccount,
};
pub use claims::{ClaimRepo, ClaimableOrder, OrderClaim};
pub use customer_list::{CustomerListQuery, CustomerListRow, CustomerSort};
pub use do_not_call::{DoNotCallListed, DoNotCallRepo, DoNotCallStatus};
pub use engagement::{EngagementCounts, EngagementRepo, LinkedMessage};
pub use error::StoreError;
pub use goals::{Goal, GoalRepo};
pub use intelligence::{
    CustomerHistory, CustomerScores, IntelligenceRepo, ScoringRun, SegmentRecord, SegmentSendTime,
    Visit,
};
pub use ledger::LedgerRepo;
pub use menu::MenuRepo;
pub use messaging::{
    DeliveryReportDecoder, DeliveryStatus, DeliveryUpdate, InboundText, MessageSender,
    OutgoingMessage, PROVIDER_KEY_LEN, ProviderEvent, ReportRejection, SendError, SendReceipt,
    provider_key,
};
pub use notice::{Notice, NoticeRepo};
pub use order_writes::{AccountAppend, OrderWrites};
pub use otp::{CustomerSession, OtpRecord, OtpRepo};
pub use outbox::{OutboxMessage, OutboxRepo, OutboxStatus, Route, SendWindow, SentRecord};
pub use pos_api::{Pending, PosApi, PosApiAccess, PosApiError};
pub use pos_poll::{InvoicePage, PollCursor, PolledInvoice};
pub use privacy::{
    ErasureCounts, PhoneChange, PrivacyRepo, PrivacyRequest, PrivacyRequestKind, RetentionPolicy,
};
pub use ratings::RatingRepo;
pub use records::{
    AccountHead, ApiKeyRecord, Brand, BrandConfig, CampaignVoucherCount, CountedTimes,
    CustomerStats, ExpiringLots, IdempotentRecord, IntegrationKind, IntegrationRecord, Location,
    LockedAccount, LoyaltyProgram, RedeemOutcome, Role, StoredOrder, TierReview, TierState,
};
pub use referrals::{Referral, ReferralCounts, ReferralRepo};
pub use reports::{RedeemedVoucher, ReportRepo};
pub use repos::{
    AccessRepo, BrandRepo, CustomerRepo, IdempotencyRepo, LocationRepo, OrderRepo, VoucherRepo,
};
pub use stamps::StampRepo;
pub use system::{Clock, IdGen};
pub use till::{StaffMember, TillAction, TillActionKind, TillDevice, TillRepo};
pub use tokens::{StoredTokens, TokenAccount, TokenPair, TokenStore};
pub use uow::{Transaction, UnitOfWork};
pub use webhooks::{
    Decoded, Ignored, IgnoredReason, PosEvent, VerifiedEvent, WebhookDecoder, WebhookDelivery,
    WebhookError,
};

#[cfg(any(test, feature = "mocks"))]
pub use audit::MockAuditRepo;
#[cfg(any(test, feature = "mocks"))]
pub use bulk::MockBulkRepo;
#[cfg(any(test, feature = "mocks"))]
pub use campaigns::MockCampaignRepo;
#[cfg(any(test, feature = "mocks"))]
pub use claims::MockClaimRepo;
#[cfg(any(test, feature = "mocks"))]
pub use do_not_call::MockDoNotCallRepo;
#[cfg(any(test, feature = "mocks"))]
pub use engagement::MockEngagementRepo;
#[cfg(any(test, feature = "mocks"))]
pub use goals::MockGoalRepo;
#[cfg(any(test, feature = "mocks"))]
pub use intelligence::MockIntelligenceRepo;
#[cfg(any(test, feature = "mocks"))]
pub use ledger::MockLedgerRepo;
#[cfg(any(test, feature = "mocks"))]
pub use menu::MockMenuRepo;
#[cfg(any(test, feature = "mocks"))]
pub use messaging::MockMessageSender;
#[cfg(any(test, feature = "mocks"))]
pub use notice::MockNoticeRepo;
#[cfg(any(test, feature = "mocks"))]
pub use otp::MockOtpRepo;
#[cfg(any(test, feature = "mocks"))]
pub use outbox::MockOutboxRepo;
#[cfg(any(test, feature = "mocks"))]
pub use privacy::MockPrivacyRepo;
#[cfg(any(test, feature = "mocks"))]
pub use ratings::MockRatingRepo;
#[cfg(any(test, feature = "mocks"))]
pub use referrals::MockReferralRepo;
#[cfg(any(test, feature = "mocks"))]
pub use reports::MockReportRepo;
#[cfg(any(test, feature = "mocks"))]
pub use repos::{
    MockAccessRepo, MockBrandRepo, MockCustomerRepo, MockIdempotencyRepo, MockLocationRepo,
    MockOrderRepo, MockVoucherRepo,
};
#[cfg(any(test, feature = "mocks"))]
pub use stamps::MockStampRepo;
#[cfg(any(test, feature = "mocks"))]
pub use system::{MockClock, MockIdGen};
#[cfg(any(test, feature = "mocks"))]
pub use till::MockTillRepo;
#[cfg(any(test, feature = "mocks"))]
pub use uow::MockUnitOfWork;
