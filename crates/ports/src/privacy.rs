//! Customers' rights over their data: erasure by de-identification, the log of their
//! requests, and the retention sweeps.

use async_trait::async_trait;
use regulars_domain::{BrandId, CustomerId, Phone};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{OutboxMessage, StoreError};

/// What a customer (or someone on their behalf) asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrivacyRequestKind {
    /// A copy of everything held about them.
    Export,
    /// Erasure (de-identification).
    Erasure,
    /// De-identification by the brand's retention period, not asked for by anyone.
    Retention,
    /// A correction of their contact details.
    Correction,
    /// Consent withdrawn for one or more purposes.
    ConsentWithdrawal,
    /// A correction of their phone number (proved by a code sent to the new number, or
    /// made by an admin on their behalf).
    CorrectPhone,
}

impl PrivacyRequestKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PrivacyRequestKind::Export => "export",
            PrivacyRequestKind::Erasure => "erasure",
            PrivacyRequestKind::Retention => "retention",
            PrivacyRequestKind::Correction => "correction",
            PrivacyRequestKind::ConsentWithdrawal => "consent_withdrawal",
            PrivacyRequestKind::CorrectPhone => "correct_phone",
        }
    }
}

/// One logged request about a customer's data, with its outcome and legal deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivacyRequest {
    /// Its id.
    pub id: Uuid,
    /// The brand that holds the data.
    pub brand_id: BrandId,
    /// The customer it is about (their pseudonymous id once erased).
    pub customer_id: CustomerId,
    /// What was asked.
    pub kind: PrivacyRequestKind,
    /// Who asked or acted (`api-key:<id>`, `retention`).
    pub actor: String,
    /// When it was received.
    pub received_at: OffsetDateTime,
    /// When it must be answered by.
    pub deadline_at: OffsetDateTime,
    /// When it was answered, if it was.
    pub completed_at: Option<OffsetDateTime>,
    /// How it ended: `done`, `not_found`, ….
    pub outcome: String,
}

/// What became of a change of a customer's phone number
/// ([`CustomerRepo::change_phone`](crate::CustomerRepo::change_phone)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneChange {
    /// The row holds the new number (sealed, with its blind index) and the old one is
    /// gone from it; `readdressed` messages not yet sent that were addressed to the old
    /// number now go to the new one.
    Changed {
        /// The number the customer had.
        previous: Phone,
        /// Messages not yet sent moved from the old number to the new one.
        readdressed: u64,
    },
    /// The customer already has this number: nothing was written.
    Unchanged,
    /// Another customer of the brand has this number: nothing was written.
    Taken,
}

/// What an erasure removed or changed, row counts per kind of record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureCounts {
    /// Orders whose copy of the phone number was removed.
    pub orders: u64,
    /// Outbox messages whose recipient, phone and body were destroyed.
    pub messages: u64,
    /// Of those, messages not yet sent, now cancelled.
    pub messages_cancelled: u64,
    /// POS customer links (a POS's code for the phone) removed.
    pub pos_links: u64,
    /// Orders still waiting under those POS codes, removed.
    pub pos_waiting_orders: u64,
    /// Unredeemed vouchers voided (their amounts stay for the books).
    pub vouchers_voided: u64,
}

/// Storage of customers' rights and retention.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PrivacyRepo: Send {
    /// De-identifies the customer: destroys their phone (the unique slot is freed for a
    /// new customer), name, birthday, email and Zalo id and withdraws consent, marking
    /// the row erased at `at`; removes `phone` from their orders, from POS links (with
    /// the orders waiting under the linked codes), destroys recipients, phones and bodies
    /// of their outbox messages, cancelling those not yet sent, and voids their vouchers
    /// still issued. Amounts (ledger, orders, vouchers, scores) stay. `Ok(None)` when the
    /// customer does not exist or is already erased.
    async fn erase_customer(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        phone: &Phone,
        at: OffsetDateTime,
    ) -> Result<Option<ErasureCounts>, StoreError>;
    /// Logs a request.
    async fn record_request(&mut self, request: &PrivacyRequest) -> Result<(), StoreError>;
    /// The brand's logged requests about a customer, oldest first.
    async fn requests(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Vec<PrivacyRequest>, StoreError>;
    /// Every outbox message of the customer (by id or by their phone), oldest first.
    async fn messages_of(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        phone: &Phone,
    ) -> Result<Vec<OutboxMessage>, StoreError>;
    /// Up to `limit` customers (not erased) of the brand, after `after` in id order,
    /// whose last order (or, without one, their registration) is before `before`.
    async fn inactive_customers(
        &mut self,
        brand: BrandId,
        before: OffsetDateTime,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Vec<CustomerId>, StoreError>;
    /// The brand's retention periods, `None` until it sets them.
    async fn retention_policy(
        &mut self,
        brand: BrandId,
    ) -> Result<Option<RetentionPolicy>, StoreError>;
    /// Sets the brand's retention periods.
    async fn save_retention_policy(
        &mut self,
        brand: BrandId,
        policy: &RetentionPolicy,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Destroys the bodies (text, template data, error text) of the brand's messages
    /// written before `before` that went out or ended (sent, delivered, failed, dead,
    /// cancelled), keeping status, channel, recipient, times and cost; returns how many.
    async fn purge_message_bodies(
        &mut self,
        brand: BrandId,
        before: OffsetDateTime,
    ) -> Result<u64, StoreError>;
}

/// How long a brand keeps what it no longer needs; `None` keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    /// Customers with no order (or, without any, no registration) for this many months
    /// are de-identified like an erasure.
    pub inactive_customer_months: Option<u32>,
    /// Bodies of messages that went out or ended are destroyed this many days after
    /// they were written (status, channel, times and cost stay).
    pub message_body_days: Option<u32>,
}

impl Default for RetentionPolicy {
    /// Customers are kept until the brand sets a period (points may be valid for years);
    /// message bodies, which carry names and voucher codes, 90 days.
    fn default() -> Self {
        RetentionPolicy {
            inactive_customer_months: None,
            message_body_days: Some(90),
        }
    }
}
