//! The use cases of Regulars: what happens when an order comes in, a refund follows, a
//! customer spends points or a cashier checks a voucher.
//!
//! Each use case is a method of [`Services`] and runs as **one database transaction**
//! through the [`UnitOfWork`] port: begin, work, commit. Any error rolls the transaction
//! back, so nothing is ever half-written. A storage conflict (two deliveries of the same
//! order racing, two tills creating the same customer, a voucher code drawn twice) runs
//! the whole use case again, up to [`DEFAULT_MAX_ATTEMPTS`] times.
//!
//! The rules themselves live in the pure crates (`regulars-loyalty`); this crate only
//! gathers their inputs through the ports and writes their outputs back:
//!
//! | use case | what it does |
//! |---|---|
//! | [`Services::create_brand`] | a brand with its programme and reward catalogue |
//! | [`Services::ingest_order`] | idempotent order in: customer by phone, points, visit, tier |
//! | [`Services::refund_order`] | idempotent refund: reverses the order's points, voids its vouchers |
//! | [`Services::adjust_points`] | audited manual correction |
//! | [`Services::redeem_reward`] | spends points on a catalogue reward, issues its voucher |
//! | [`Services::issue_voucher`] | a voucher from a campaign or staff, no points spent |
//! | [`Services::validate_voucher`], [`Services::redeem_voucher`] | at the till, exactly once |
//! | [`Services::expire_points`], [`Services::expire_customer_points`] | sweeps expired lots |
//! | [`Services::customer_lookup`], [`Services::customer_view`] | balance, tier, vouchers and what can be redeemed |
//! | [`Services::check_ledger`] | recomputes every balance and reports mismatches |
//! | [`Services::erase_customer`] | de-identifies a customer on their request, logged with its deadline |
//! | [`Services::export_customer`] | everything held about a customer, on their request |
//! | [`Services::issue_otp`], [`Services::verify_otp`], [`Services::customer_session`] | one-time codes proving a phone, and the customer session they open |
//! | [`Services::apply_retention`] | de-identifies inactive customers, purges old message bodies |
//! | [`Services::report_overview`], [`Services::report_cohorts`], [`Services::report_revenue`] | brand reports, folded page by page |
//!
//! Every use case has its own error enum; all implement [`UseCaseError`], which names the
//! offending input field and classifies the error ([`ErrorClass`]) for the HTTP layer.
//!
//! The crate knows no database, web framework or message channel: adapters implement the
//! ports and the application wires them in.
//!
//! # Idempotency and retries
//!
//! Every POS event carries an [`EventKey`](regulars_domain::EventKey). The first delivery
//! of an order remembers its receipt through the `IdempotencyRepo` in the same
//! transaction as its effects; a later delivery finds it and returns it with
//! `duplicate: true`, writing nothing. Two deliveries racing both miss the record; the
//! second to write hits a unique key (order, idempotency record), its transaction rolls
//! back and the retry finds the first one's receipt. Refunds are remembered under their
//! key with the source prefixed by `refund:`, so a POS that numbers a refund like its
//! order does not collide with it.
//!
//! # Time order
//!
//! The points ledger is append-only in time order. A command is recorded at its own time
//! or at the account's last entry time, whichever is later: an order delivered late
//! (after entries dated after it) is recorded at the last entry's time, while its lot
//! still expires counting from the order's own time. Same for the clock of a server
//! slightly behind another. An order or refund dated more than [`MAX_CLOCK_SKEW`] in
//! the future is refused: it would drag every later entry of the account forward.
//!
//! # Tier qualification
//!
//! Upgrades happen as orders come in; downgrades only at the period-end review (not
//! part of these use cases yet). The qualifying value comes from what storage keeps:
//!
//! * **Points metric** — exact: the earn entries of the customer's ledger inside the
//!   window, less what their reversals took back (recovered or not). Manual adjustments
//!   do not count: they are corrections, not activity.
//! * **Spend metric** — storage keeps only the customer's total net spend, not spend per
//!   order over a window. When the customer's first visit falls inside the window, the
//!   total *is* the window's spend (exact). Otherwise only a lower bound is known: the
//!   order being ingested. An upgrade decided on a lower bound is never wrong, but one
//!   may be missed until a later order or the review; the customer view then shows no
//!   progress figure rather than a wrong one.
//!
//! The held tier's earning multiplier (`TierBenefits::earn_multiplier`) is added to the
//! brand's earning rules as one more multiplier conditioned on that tier, so it stacks,
//! is capped and is explained like any other rule.
//!
//! # Points earned today
//!
//! The per-day cap needs the points the customer already earned on the brand's local day
//! of the order: the sum of the ledger's earn entries dated that local day.
//!
//! ```
//! use regulars_domain::{BrandId, Order};
//! use regulars_service::{IngestError, Services, UseCaseError};
//!
//! /// What a POS webhook handler does with a verified, parsed order.
//! async fn order_in(services: &Services, brand: BrandId, order: Order) -> String {
//!     match services.ingest_order(brand, order).await {
//!         Ok(receipt) if receipt.duplicate => "already counted".to_owned(),
//!         Ok(receipt) => format!(
//!             "+{} points, balance {:?}",
//!             receipt.points_earned.value(),
//!             receipt.balance.map(|b| b.value()),
//!         ),
//!         Err(error) => format!("{:?} in {:?}: {error}", error.class(), error.field()),
//!     }
//! }
//! ```

mod access;
mod account;
mod admin;
mod audit;
mod bell;
mod bonus;
mod brand_policy;
mod brand_settings;
mod campaign_draft;
mod campaign_variants;
mod campaigns;
mod channel_accounts;
mod channel_rules;
mod claim;
mod config_cache;
mod credit;
mod customer_list;
mod customer_orders;
mod delivery;
mod delivery_routes;
mod do_not_call;
mod engagement;
mod error;
mod fingerprint;
mod goals;
mod group;
pub mod guard;
mod import;
mod import_fold;
mod ingest;
mod ingest_error;
mod jobs;
mod keyword_optout;
mod ledger_ops;
mod lookup;
mod manage;
mod menu;
mod notice;
mod optout;
mod otp;
mod pos_access;
mod pos_poll;
mod privacy;
mod profile;
mod programme_cost;
pub mod ratelimit;
mod ratings;
mod realtime;
mod referrals;
mod refund;
mod reports;
mod requests;
mod rewards;
mod scope;
mod scoring;
mod secrets;
mod segment_export;
mod segment_send_times;
mod segment_visits;
mod segments;
mod sessions;
mod signup;
mod staff_report;
mod stamps;
mod tier_review;
mod tiering;
pub mod till;
mod transact;
mod vouchers;
mod webhooks;
mod zns_data;

#[cfg(test)]
mod tests;

pub use access::{
    AccessError, ApiKeyInfo, AuthError, CreatedApiKey, CreatedIntegration, IntegrationInfo,
    MAX_LABEL_LEN, Principal, WEBHOOK_SECRET_LEN, WebhookEndpoint,
};
pub use admin::{BrandSetup, SetupError};
pub use audit::{ACCESS_FLUSH_INTERVAL, ACCESS_LOG_RETENTION, MAX_PENDING_ACCESSES, Reader};
pub use bell::OutboxBell;
pub use brand_settings::BrandPatch;
pub use campaign_draft::DraftPreview;
pub use campaign_variants::VariantReport;
pub use campaigns::{
    CAMPAIGN_PAGE, CampaignAction, CampaignError, CampaignReport, CampaignRunReport,
    DEFAULT_ATTRIBUTION_DAYS,
};
pub use channel_accounts::{
    ChannelAccountError, ChannelAccountPatch, ChannelAccountView, SecretState, channel_key,
    parse_channel,
};
pub use claim::{
    CLAIM_CODE_LEN, ClaimBy, ClaimError, ClaimVia, Claimant, DEFAULT_CLAIM_DAYS, MAX_CLAIM_DAYS,
    OrderRef, TILL_CLAIM_LIST, normalize_claim_code,
};
pub use customer_list::{CustomerListRequest, MAX_LIST_OFFSET};
pub use delivery::{ChannelSenders, DeliveryError, DeliveryOptions, DeliveryRound};
pub use do_not_call::{
    BadLine, DO_NOT_CALL_BATCH, DoNotCallError, DoNotCallFile, DoNotCallImport, parse_do_not_call,
};
pub use engagement::{CampaignEngagement, LinkError, TOKEN_CHARS as LINK_TOKEN_CHARS};
pub use error::{CorruptLedger, ErrorClass, UnknownBrand, UseCaseError};
pub use goals::{
    GOAL_WINDOW_DAYS, GoalError, GoalInput, GoalView, MAX_GOAL_DAYS, MAX_GOALS, TREND_WEEKS,
    TrendPoint,
};
pub use group::{GROUP_WINDOW, GroupCommit, MAX_GROUP};
pub use import::{IMPORT_CHUNK, ImportResults, group_by_phone};
pub use ingest::{IMPORT_BATCH, IngestError, MAX_CLOCK_SKEW, ORDER_EVENT, OrderReceipt};
pub use jobs::{Exclusive, Job, JobKind, JobState, KEEP_FINISHED, MAX_JOBS};
pub use keyword_optout::{KEYWORD_ACTOR, KeywordOutcome};
pub use ledger_ops::{
    AdjustError, AdjustmentReceipt, BalanceMismatch, CheckLedgerError, ExpireError, ExpiryReport,
    InvalidLedger, LedgerReport, StateMismatch,
};
pub use lookup::{CustomerView, LookupError};
pub use manage::{LocationInput, MAX_PAGE, ManageError};
pub use menu::MenuUseCaseError;
pub use notice::{MAX_NOTICE_LEN, NOTICE_LANGUAGES};
pub use optout::{OptOutClaims, OptOutError, OptOutView, UNSUBSCRIBE_ACTOR};
pub use otp::{
    CUSTOMER_SESSION_TTL, OTP_DIGITS, OTP_FAILURES_PER_ADDRESS, OTP_MAX_ATTEMPTS, OTP_RESEND_AFTER,
    OTP_SEND_WINDOW, OTP_SENDS_PER_ADDRESS, OTP_SENDS_PER_WINDOW, OTP_VALIDITY, OpenedSession,
    OtpError, OtpPurpose, OtpSent,
};
pub use pos_access::MAX_ACCESS_FIELD;
pub use pos_poll::{PollOptions, PollOutcome, PollReport, advance_cursor, backoff};
pub use privacy::{
    ANSWER_PERIOD, CUSTOMER_ACTOR, CustomerExport, ErasureReport, OwnCorrection, OwnRequestError,
    PhoneChangeError, PhoneChanged, RETENTION_ACTOR, RetentionReport, export_csv, inactive_since,
};
pub use profile::{ChangeAuthor, ConsentPatch, CustomerInput, CustomerPatch};
pub use ratelimit::{RateLimit, RateLimiter};
pub use ratings::{
    LowRating, RATING_LINK_VALIDITY, RATINGS_READ_LIMIT, RatingClaims, RatingError, RatingPage,
    RatingReceipt, RatingsView,
};
pub use referrals::{
    InvitePage, MAX_REFERRALS_LISTED, REFERRAL_ACTOR, REFERRAL_SIGNUPS_PER_ADDRESS,
};
pub use refund::{REFUND_EVENT, RefundError, RefundReceipt, VOID_REASON, VOID_SPENT_REASON};
pub use reports::{DEFAULT_DAYS, LocalDays, REPORT_PAGE, ReportsError};
pub use requests::{
    MAX_REQUEST_KEY, OtherRequest, REQUEST_EVENT, REQUEST_RETENTION, RequestKey,
    WEBHOOK_EVENT_RETENTION,
};
pub use rewards::{IssueVoucherError, RedeemRewardError, VoucherGrant};
pub use scope::{MAX_MANAGER_LOCATIONS, OutOfScope, Scope};
pub use scoring::{ScoreError, ScoringOptions};
pub use secrets::{ResealReport, SecretKey, SecretKeys};
pub use segment_export::{
    MAX_EXPORT_PAGE, MembersPage, SEGMENT_CSV_HEADER, SegmentMember, csv_cell, national_phone,
    segment_csv_line,
};
pub use segment_send_times::SegmentSendTimes;
pub use segments::{LIVE_COUNT_TTL, MAX_SEGMENT_NAME, SegmentError, SegmentView};
pub use signup::{SignupDetails, SignupPage};
pub use staff_report::StaffReportView;
pub use stamps::{STAMP_VOID_REASON, StampCardsError, StampProgress};
pub use tier_review::TierReviewReport;
pub use till::{
    DEVICE_PIN_ATTEMPTS, DeviceInfo, EnrolledDevice, PIN_ATTEMPTS, StaffInfo, TillDeviceView,
    TillError, TillStaff,
};
pub use transact::DEFAULT_MAX_ATTEMPTS;
pub use vouchers::{RedeemVoucherError, ValidateVoucherError, VoucherCheck};
pub use webhooks::{WEBHOOK_EVENT, WebhookError, WebhookOutcome, WebhookReceipt};

use regulars_ports::{Clock, IdGen, UnitOfWork};
use std::fmt;
use std::sync::Arc;

/// The use cases, over the ports they need. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Services {
    uow: Arc<dyn UnitOfWork>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGen>,
    max_attempts: u32,
    secret_keys: Option<SecretKeys>,
    guard: Arc<guard::AuthGuard>,
    jobs: Arc<jobs::Jobs>,
    live: Arc<segments::LiveCounts>,
    access: Arc<audit::AccessBuffer>,
    bell: OutboxBell,
    public_url: Option<String>,
    customer_care_sms: bool,
    otp: Arc<otp::OtpState>,
    channel_accounts: Option<Arc<dyn regulars_ports::ChannelAccountStore>>,
    config: Arc<config_cache::ConfigCache>,
    endpoints: Arc<access::endpoints::EndpointCache>,
    groups: Option<Arc<group::Groups>>,
}

impl Services {
    /// Use cases over a unit of work (storage), a clock and an id/randomness source.
    pub fn new(uow: Arc<dyn UnitOfWork>, clock: Arc<dyn Clock>, ids: Arc<dyn IdGen>) -> Self {
        Services {
            uow,
            clock,
            ids,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            secret_keys: None,
            guard: Arc::new(guard::AuthGuard::default()),
            jobs: Arc::new(jobs::Jobs::default()),
            live: Arc::new(segments::LiveCounts::default()),
            access: Arc::new(audit::AccessBuffer::default()),
            bell: OutboxBell::new(),
            public_url: None,
            customer_care_sms: false,
            otp: Arc::new(otp::OtpState::default()),
            channel_accounts: None,
            config: Arc::new(config_cache::ConfigCache::default()),
            endpoints: Arc::default(),
            groups: None,
        }
    }

    /// Keeps brands' own channel accounts in `store` (without it, the channel account
    /// use cases answer that they are not available).
    pub fn with_channel_accounts(
        mut self,
        store: Arc<dyn regulars_ports::ChannelAccountStore>,
    ) -> Self {
        self.channel_accounts = Some(store);
        self
    }

    /// Sets the server's key for sealing and opening webhook secrets; without one,
    /// integrations cannot be made or checked.
    pub fn with_secret_key(mut self, key: SecretKey) -> Self {
        self.secret_keys = Some(SecretKeys::new(key));
        self
    }

    /// Sets the server's keys during a rotation: the current key seals, and webhook
    /// secrets sealed under the previous ones still open until
    /// [`Services::reseal_secrets`] has re-sealed them.
    pub fn with_secret_keys(mut self, keys: SecretKeys) -> Self {
        self.secret_keys = Some(keys);
        self
    }

    /// Sets the budget of failed API key checks per client address
    /// ([`guard::AUTH_FAILURES`] by default); `None`: no budget (the refused-key cache
    /// still answers repeats from memory).
    pub fn with_auth_failure_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.guard = Arc::new(guard::AuthGuard::with_failure_limit(limit));
        self
    }

    /// Sends one-time codes by Zalo ZNS with this OTP template (its `otp` parameter
    /// takes the code), falling back to SMS; without one (or with an empty one) codes go
    /// by SMS alone.
    pub fn with_otp_zns_template(mut self, template: Option<String>) -> Self {
        self.otp = Arc::new(otp::OtpState::with_zns_template(template));
        self
    }

    /// Sets how many times a use case runs before a storage conflict is returned (at
    /// least once).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// How many times a use case runs before a storage conflict is returned.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Sets the bell rung when a use case writes a message due now (each `Services`
    /// has its own otherwise; clones share it).
    pub fn with_outbox_bell(mut self, bell: OutboxBell) -> Self {
        self.bell = bell;
        self
    }

    /// The bell a delivery worker in this process waits on besides its poll.
    pub fn outbox_bell(&self) -> OutboxBell {
        self.bell.clone()
    }

    /// Says the SMS channel is a customer-care product (eSMS brandname CSKH,
    /// `SmsType` 2), which must not carry advertising: campaigns with promotional
    /// messages are then refused an SMS channel when they are saved.
    pub fn with_customer_care_sms(mut self, customer_care: bool) -> Self {
        self.customer_care_sms = customer_care;
        self
    }
}

impl fmt::Debug for Services {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Services")
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}
