//! Messaging channels.

use async_trait::async_trait;
use regulars_domain::{BrandId, Channel};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::Duration;
use thiserror::Error;
use time::OffsetDateTime;

/// Length of a [`provider_key`]: 32 lowercase hex characters (128 bits of SHA-256).
pub const PROVIDER_KEY_LEN: usize = 32;

/// The idempotency / tracking key a provider gets for a message: 32 lowercase hex
/// characters of SHA-256 over its dedupe key.
///
/// Dedupe keys (`{campaign}:{customer}:{occasion}`) run to 120 characters, longer than
/// providers accept (eSMS `RequestId` at most 50, Zalo ZNS `tracking_id` at most 48), and
/// cutting them would make different customers share a key. The hash has a fixed length,
/// is the same for every attempt of a message, and is stored with it so a delivery
/// report that carries only this key can still be matched.
///
/// ```
/// use regulars_ports::{provider_key, PROVIDER_KEY_LEN};
/// let key = provider_key("0190c1a8-campaign:0190c1a8-customer:birthday-2026");
/// assert_eq!(key.len(), PROVIDER_KEY_LEN);
/// assert_eq!(key, provider_key("0190c1a8-campaign:0190c1a8-customer:birthday-2026"));
/// ```
#[must_use]
pub fn provider_key(dedupe_key: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    Sha256::digest(dedupe_key.as_bytes())
        .iter()
        .take(PROVIDER_KEY_LEN / 2)
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]])
        .map(char::from)
        .collect()
}

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
    /// The recipient's one-click opt-out address for this channel, on promotional
    /// messages when the deployment has a public address (email's `List-Unsubscribe`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe_url: Option<String>,
    /// For email: the address of an open pixel, put as a 1×1 image in an HTML part
    /// beside the text (only to a customer who consented to marketing email, from a
    /// brand that tracks opens; `docs/engagement.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_pixel: Option<String>,
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

/// A text a person sent to a brand's channel, as its provider relayed it: a follower's
/// message to the Zalo Official Account (`user_send_text`). Read for opt-out keywords.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundText {
    /// The channel it came in on.
    pub channel: Channel,
    /// The sender as the channel names them (Zalo: the user id at the Official Account).
    pub sender: String,
    /// The text, as typed.
    pub text: String,
    /// The provider's id of the event (Zalo: `message.msg_id`, else the signed
    /// `timestamp`): a replay of the same event carries the same id.
    pub event_id: String,
    /// When the provider says it was sent.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// What a provider's signed callback turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderEvent {
    /// The outcome of a message sent.
    Report(DeliveryUpdate),
    /// A text sent to the brand's channel.
    Text(InboundText),
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

    /// As [`decode`](Self::decode), also taking the providers' events that are not
    /// delivery reports but texts sent to the brand's channel. By default, reports only.
    fn decode_event(
        &self,
        provider: &str,
        headers: &[(String, String)],
        query: &str,
        body: &[u8],
        received_at: OffsetDateTime,
    ) -> Result<ProviderEvent, ReportRejection> {
        self.decode(provider, headers, query, body, received_at)
            .map(ProviderEvent::Report)
    }
}

#[cfg(test)]
mod tests {
    use super::{PROVIDER_KEY_LEN, provider_key};
    use proptest::prelude::*;

    /// eSMS `RequestId` accepts at most 50 characters, Zalo ZNS `tracking_id` 48.
    const SMALLEST_PROVIDER_LIMIT: usize = 48;

    proptest! {
        #[test]
        fn provider_keys_fit_every_provider_and_are_stable(dedupe in ".{0,400}") {
            let key = provider_key(&dedupe);
            prop_assert_eq!(key.len(), PROVIDER_KEY_LEN);
            prop_assert!(key.chars().count() <= SMALLEST_PROVIDER_LIMIT);
            prop_assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
            prop_assert_eq!(key, provider_key(&dedupe));
        }

        #[test]
        fn different_dedupe_keys_get_different_provider_keys(a in ".{1,200}", b in ".{1,200}") {
            prop_assume!(a != b);
            prop_assert_ne!(provider_key(&a), provider_key(&b));
        }
    }
}
