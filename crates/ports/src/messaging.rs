//! Messaging channels.

use async_trait::async_trait;
use regulars_domain::{BrandId, Channel};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use thiserror::Error;
use time::OffsetDateTime;

/// A message ready for a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMessage {
    /// The sending brand.
    pub brand_id: BrandId,
    /// The channel it goes out on.
    pub channel: Channel,
    /// Phone (E.164), Zalo user id or email address, as the channel needs.
    pub recipient: String,
    /// Provider template id, for channels that send templates (Zalo ZNS).
    pub template: Option<String>,
    /// Subject line, for email.
    pub subject: Option<String>,
    /// The rendered text.
    pub body: String,
    /// Template variables.
    pub data: BTreeMap<String, String>,
    /// Unique per intended delivery; providers that support it get it as their
    /// idempotency/tracking id, so a retry after a crash never sends twice.
    pub dedupe_key: String,
    /// Promotional (subject to consent, caps and quiet hours) or transactional.
    pub promotional: bool,
}

/// What a provider answered for an accepted message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendReceipt {
    /// The provider's id for the message, used to match delivery-status callbacks.
    pub provider_message_id: String,
}

/// Why a send failed, classified for the delivery worker.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SendError {
    /// Worth retrying later (timeouts, rate limits, provider outages).
    #[error("temporary failure: {reason}")]
    Retryable {
        /// The provider's explanation.
        reason: String,
        /// When the provider asked to retry, if it said.
        retry_after: Option<Duration>,
    },
    /// Retrying cannot help (invalid recipient, template rejected, no consent).
    #[error("permanent failure: {reason}")]
    Permanent {
        /// The provider's explanation.
        reason: String,
    },
}

/// One messaging channel.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MessageSender: Send + Sync {
    /// The channel this sender serves.
    fn channel(&self) -> Channel;
    /// Sends one message.
    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError>;
}

/// What a provider reported, after the send, about one message it had accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryUpdate {
    /// The channel the message went out on.
    pub channel: Channel,
    /// The provider's id for the message, as in [`SendReceipt::provider_message_id`].
    pub provider_message_id: String,
    /// The message's dedupe key, when the provider echoes it back (eSMS `RequestId`,
    /// Zalo `tracking_id`); lets a message be matched even when its receipt was lost.
    pub dedupe_key: Option<String>,
    /// What happened to it.
    pub status: DeliveryStatus,
    /// When the provider says it happened, or when the report arrived if it did not say.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// The outcome a provider reports for a message it had accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// It reached the recipient's device or mailbox.
    Delivered,
    /// The provider gave up on it.
    Failed {
        /// The provider's explanation.
        reason: String,
    },
}

/// Why a provider's delivery report was not taken.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReportRejection {
    /// No reports are taken from this provider (unknown, or not configured).
    #[error("no delivery reports are taken from {0}")]
    UnknownProvider(String),
    /// The signature or token does not match: the report is not trusted.
    #[error("{0}")]
    Unauthenticated(String),
    /// The request is not a report this provider sends.
    #[error("{0}")]
    Malformed(String),
    /// A genuine report with nothing to record (another event, a non-final status); the
    /// provider should still get a success answer.
    #[error("{0}")]
    Ignored(String),
}

/// Turns a provider's delivery-report request into a [`DeliveryUpdate`], checking its
/// signature or token. Implemented over the providers' documented formats outside the
/// HTTP adapter, which only hands the request over.
pub trait DeliveryReportDecoder: Send + Sync {
    /// `provider` is the path segment (`zalo`, `esms`); `headers` have lower-case names;
    /// `query` is the raw query string without `?`.
    fn decode(
        &self,
        provider: &str,
        headers: &[(String, String)],
        query: &str,
        body: &[u8],
        received_at: OffsetDateTime,
    ) -> Result<DeliveryUpdate, ReportRejection>;
}
