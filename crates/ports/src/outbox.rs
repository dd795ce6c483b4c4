//! The outbox: messages written in the same transaction as the decision to send them,
//! and delivered afterwards by a worker that claims them, calls the channel, and records
//! what happened.
//!
//! A message is `pending` until its `due_at`; a worker claims it (`sending`, with a lease)
//! and then records `sent` (the provider accepted it), a retry (`pending` again, later),
//! a fall-back to the next channel, or `dead` (given up). Delivery reports from the
//! provider move a sent message to `delivered` or `failed`. A worker that dies while
//! holding a claim loses the lease, and another claims the message again with the same
//! dedupe key, which the providers that support it treat as the same request.

use crate::{DeliveryStatus, StoreError};
use async_trait::async_trait;
use regulars_domain::sms::SmsOptions;
use regulars_domain::zns::ZnsParamType;
use regulars_domain::{BrandId, CampaignId, Channel, CustomerId, OrderId, Points};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// Where a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for `due_at`.
    Pending,
    /// Claimed by a worker until its lease ends.
    Sending,
    /// Accepted by the provider.
    Sent,
    /// The provider reported it delivered.
    Delivered,
    /// The provider accepted it but reported it undeliverable.
    Failed,
    /// Given up: permanent failures on every channel, or too many attempts.
    Dead,
    /// Withdrawn before it went out (its customer was erased, or the order that
    /// triggered its offer was refunded); never claimed again.
    Cancelled,
}

impl OutboxStatus {
    /// Every status, in life-cycle order.
    pub const ALL: [OutboxStatus; 7] = [
        OutboxStatus::Pending,
        OutboxStatus::Sending,
        OutboxStatus::Sent,
        OutboxStatus::Delivered,
        OutboxStatus::Failed,
        OutboxStatus::Dead,
        OutboxStatus::Cancelled,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Delivered => "delivered",
            OutboxStatus::Failed => "failed",
            OutboxStatus::Dead => "dead",
            OutboxStatus::Cancelled => "cancelled",
        }
    }

    /// The status of a stored name.
    pub fn parse(s: &str) -> Option<OutboxStatus> {
        OutboxStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// A channel and the address on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// The channel.
    pub channel: Channel,
    /// Phone (E.164) for Zalo and SMS, address for email.
    pub recipient: String,
}

/// The local hours a promotional message may go out in (the legal window); a message
/// due outside them waits for the next opening.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendWindow {
    /// The recipient's (the brand's) offset from UTC, in seconds.
    pub utc_offset_seconds: i32,
    /// First allowed local hour.
    pub start_hour: u8,
    /// First local hour no longer allowed (exclusive end).
    pub end_hour: u8,
}

impl SendWindow {
    /// `at` itself when it is inside the window, otherwise the next opening after it.
    ///
    /// ```
    /// use regulars_ports::SendWindow;
    /// use time::macros::datetime;
    /// let vn = SendWindow { utc_offset_seconds: 7 * 3600, start_hour: 7, end_hour: 22 };
    /// // 15:30 UTC is 22:30 in Hanoi: wait for 07:00 there (00:00 UTC).
    /// assert_eq!(vn.next_open(datetime!(2026-06-01 15:30 UTC)), datetime!(2026-06-02 00:00 UTC));
    /// assert_eq!(vn.next_open(datetime!(2026-06-01 03:00 UTC)), datetime!(2026-06-01 03:00 UTC));
    /// ```
    pub fn next_open(&self, at: OffsetDateTime) -> OffsetDateTime {
        let Ok(offset) = time::UtcOffset::from_whole_seconds(self.utc_offset_seconds) else {
            return at;
        };
        if self.start_hour >= self.end_hour || self.end_hour > 24 {
            return at;
        }
        let local = at.to_offset(offset);
        let hour = local.hour();
        if (self.start_hour..self.end_hour).contains(&hour) {
            return at;
        }
        let day = if hour < self.start_hour {
            local.date()
        } else {
            local.date().next_day().unwrap_or(local.date())
        };
        let Ok(start) = time::Time::from_hms(self.start_hour, 0, 0) else {
            return at;
        };
        day.with_time(start)
            .assume_offset(offset)
            .to_offset(time::UtcOffset::UTC)
    }
}

/// One message of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Its id.
    pub id: Uuid,
    /// The sending brand.
    pub brand_id: BrandId,
    /// The campaign that planned it, if any.
    pub campaign_id: Option<CampaignId>,
    /// The customer, if it goes to one.
    pub customer_id: Option<CustomerId>,
    /// The phone number the legal cap counts it against.
    pub phone: Option<String>,
    /// Unique within the brand; the provider's idempotency key where it has one.
    pub dedupe_key: String,
    /// The channel it goes out on now.
    pub route: Route,
    /// Channels to try, in order, if this one fails for good.
    pub fallbacks: Vec<Route>,
    /// Provider template id (Zalo ZNS).
    pub template: Option<String>,
    /// Subject line (email).
    pub subject: Option<String>,
    /// The text.
    pub body: String,
    /// Template variables.
    pub data: BTreeMap<String, String>,
    /// Promotional or transactional.
    pub promotional: bool,
    /// For promotional messages under a legal window: when they may go out.
    pub send_window: Option<SendWindow>,
    /// How the text goes out by SMS: folded or not, and the most segments it may take.
    pub sms: SmsOptions,
    /// The ZNS type of each parameter in `data` the template takes, when the campaign
    /// declared them: checked before a ZNS send. Empty: unchecked.
    pub zns_params: BTreeMap<String, ZnsParamType>,
    /// For a promotional message: the brand's opt-out instruction, put at the end of the
    /// text with the customer's own opt-out link for the channel it goes out on.
    pub opt_out: Option<String>,
    /// For a message of a campaign whose offer is bonus points: the points credited to
    /// the customer when it is sent (in the transaction that records it sent, once per
    /// message); nothing if it fails for good, is cancelled or expires.
    pub bonus_points: Option<Points>,
    /// Where it is.
    pub status: OutboxStatus,
    /// Claims so far on the current channel.
    pub attempts: u32,
    /// When it may go out (for `sending`: when the claim's lease ends).
    pub due_at: OffsetDateTime,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// When the provider accepted it.
    pub sent_at: Option<OffsetDateTime>,
    /// When the provider reported it delivered or failed.
    pub delivered_at: Option<OffsetDateTime>,
    /// The provider's id for it.
    pub provider_message_id: Option<String>,
    /// When it was written.
    pub created_at: OffsetDateTime,
}

/// A message counted against caps: who, when, promotional or not, and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRecord {
    /// The campaign, if any.
    pub campaign_id: Option<CampaignId>,
    /// The customer.
    pub customer_id: CustomerId,
    /// The phone counted.
    pub phone: Option<String>,
    /// When it goes (or went) out.
    pub at: OffsetDateTime,
    /// Promotional or transactional.
    pub promotional: bool,
    /// Its dedupe key.
    pub dedupe_key: String,
}

/// Storage of the outbox.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OutboxRepo: Send {
    /// Writes messages; one whose dedupe key the brand already has is skipped. Returns how
    /// many were written.
    async fn enqueue(&mut self, messages: &[OutboxMessage]) -> Result<u64, StoreError>;
    /// Claims up to `limit` messages of any brand that are due at `now` (pending with
    /// `due_at <= now`, or sending with an expired lease), oldest due first: they become
    /// `sending` with `due_at = lease_until` and one more attempt. On PostgreSQL rows
    /// claimed by a concurrent worker are skipped (`FOR UPDATE SKIP LOCKED`).
    async fn claim_due(
        &mut self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u64,
    ) -> Result<Vec<OutboxMessage>, StoreError>;
    /// Records many accepted sends at once (one statement per few hundred), each exactly
    /// as [`mark_sent`](Self::mark_sent) would, conditional on its own claim: one `bool`
    /// per entry, in order, `false` where the claim was lost.
    async fn mark_sent_many(
        &mut self,
        sent: &[(OutboxMessage, String)],
        at: OffsetDateTime,
    ) -> Result<Vec<bool>, StoreError>;
    /// The provider accepted a message this worker claimed (`attempts` as claimed, so a
    /// worker whose lease was taken over records nothing). `false` when the claim was lost.
    async fn mark_sent(
        &mut self,
        message: &OutboxMessage,
        provider_message_id: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Back to `pending` until `due_at`, with the error; `false` when the claim was lost.
    async fn reschedule(
        &mut self,
        message: &OutboxMessage,
        due_at: OffsetDateTime,
        error: &str,
    ) -> Result<bool, StoreError>;
    /// Back to `pending` until `due_at` without using up the attempt (the message was
    /// claimed outside its send window and not sent); `false` when the claim was lost.
    async fn defer(
        &mut self,
        message: &OutboxMessage,
        due_at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Moves to the next channel: the first fallback becomes the route, attempts start
    /// again, due at `due_at`; `false` when the claim was lost.
    async fn fall_back(
        &mut self,
        message: &OutboxMessage,
        due_at: OffsetDateTime,
        error: &str,
    ) -> Result<bool, StoreError>;
    /// Gives up on a message; `false` when the claim was lost.
    async fn mark_dead(
        &mut self,
        message: &OutboxMessage,
        error: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Cancels a claimed message that must not go out any more (its customer withdrew
    /// consent since it was planned): `cancelled`, as an erasure leaves the messages it
    /// stops, with `reason` kept as its error; `false` when the claim was lost.
    async fn mark_cancelled(
        &mut self,
        message: &OutboxMessage,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Records a provider's delivery report for the sent message with this provider id on
    /// this channel, or, when the provider echoed the key it was sent (`echoed_key`: eSMS
    /// `RequestId`, Zalo `tracking_id`), the message with that [`provider_key`]; returns
    /// the message's brand and id, or `None` when no sent message matches (unknown id, or
    /// already reported).
    ///
    /// [`provider_key`]: crate::provider_key
    async fn record_delivery(
        &mut self,
        channel: Channel,
        provider_message_id: &str,
        echoed_key: Option<String>,
        state: &DeliveryStatus,
        at: OffsetDateTime,
    ) -> Result<Option<(BrandId, Uuid)>, StoreError>;
    /// Messages to these customers counted against caps: those of `campaign` at any time
    /// (for dedupe) and every other one due at or after `since`, not dead.
    async fn history(
        &mut self,
        brand: BrandId,
        customers: &[CustomerId],
        campaign: Option<CampaignId>,
        since: OffsetDateTime,
    ) -> Result<Vec<SentRecord>, StoreError>;
    /// A page of the brand's messages (of one campaign, when given), newest first, after
    /// `after` (exclusive) in that order.
    async fn messages(
        &mut self,
        brand: BrandId,
        campaign: Option<CampaignId>,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<OutboxMessage>, StoreError>;
    /// How many messages per status (of one campaign, when given).
    async fn counts(
        &mut self,
        brand: BrandId,
        campaign: Option<CampaignId>,
    ) -> Result<BTreeMap<OutboxStatus, u64>, StoreError>;
    /// How many messages per status over every brand (for the operator's metrics).
    async fn depth(&mut self) -> Result<BTreeMap<OutboxStatus, u64>, StoreError>;
    /// Cancels the customer's promotional messages that an order triggered (their dedupe
    /// key's occasion is `order-{order}`) and that are still `pending`, with `reason`:
    /// the order was refunded before they went out. A message a worker has claimed is
    /// left to it. Returns how many were cancelled.
    async fn cancel_for_order(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        order: OrderId,
        reason: &str,
    ) -> Result<u64, StoreError>;
}
