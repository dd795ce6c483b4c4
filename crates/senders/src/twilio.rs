//! Twilio-style SMS: the `Messages.json` resource of Twilio's 2010-04-01 API.

use crate::http::{client, status_error, transport_error};
use async_trait::async_trait;
use regulars_domain::Channel;
use regulars_ports::{MessageSender, OutgoingMessage, SendError, SendReceipt};
use serde::Deserialize;
use std::time::Duration;

const PROVIDER: &str = "Twilio";

/// The header that carries the dedupe key.
pub const TWILIO_IDEMPOTENCY_HEADER: &str = "I-Twilio-Idempotency-Token";

/// Where and how [`TwilioSms`] talks to a Twilio-compatible API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwilioSettings {
    /// API base (Twilio: `https://api.twilio.com`).
    pub base_url: String,
    /// The account SID (`AC…`), part of the path and the basic-auth user.
    pub account_sid: String,
    /// The sender: a phone number (`+1…`) or a messaging service SID (`MG…`).
    pub from: String,
    /// Where the provider should post status changes (`StatusCallback`), if anywhere.
    pub status_callback: Option<String>,
    /// Timeout of one HTTP request (connect included).
    pub timeout: Duration,
}

/// Sends [`Channel::Sms`] messages with a form `POST
/// {base_url}/2010-04-01/Accounts/{sid}/Messages.json` (`To`, `Body`, `From` or
/// `MessagingServiceSid`, `StatusCallback`), HTTP basic auth with the account SID and auth
/// token, and the dedupe key in `I-Twilio-Idempotency-Token`.
///
/// About that header: Twilio documents it on the webhooks it sends, not as a promise to
/// deduplicate API requests, so against Twilio itself a retried request may send a
/// second SMS; a Twilio-compatible provider that honours it gets real idempotency.
///
/// The receipt is the answer's `sid`. HTTP 429 and 5xx, timeouts and refused connections
/// are `Retryable`; other 4xx (invalid `To` 21211, missing `From` 21603, bad
/// credentials 20003, …) are `Permanent`, with Twilio's `code` and `message` in the
/// reason.
pub struct TwilioSms {
    client: reqwest::Client,
    settings: TwilioSettings,
    auth_token: String,
}

impl std::fmt::Debug for TwilioSms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioSms")
            .field("settings", &self.settings)
            .field("auth_token", &"<redacted>")
            .finish()
    }
}

#[derive(Deserialize)]
struct Created {
    sid: String,
}

#[derive(Deserialize)]
struct Refusal {
    code: Option<i64>,
    message: Option<String>,
}

impl TwilioSms {
    /// A sender with the given settings and auth token.
    ///
    /// # Errors
    ///
    /// When the HTTP client cannot be built (TLS initialisation).
    pub fn new(
        settings: TwilioSettings,
        auth_token: impl Into<String>,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            client: client(settings.timeout)?,
            settings,
            auth_token: auth_token.into(),
        })
    }
}

#[async_trait]
impl MessageSender for TwilioSms {
    fn channel(&self) -> Channel {
        Channel::Sms
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError> {
        if message.channel != Channel::Sms {
            return Err(SendError::Permanent {
                reason: format!("{PROVIDER} cannot send {:?} messages", message.channel),
            });
        }
        if let Some(reason) = vietnam_refusal(&self.settings.from, message) {
            return Err(SendError::Permanent { reason });
        }
        let from_field = if self.settings.from.starts_with("MG") {
            "MessagingServiceSid"
        } else {
            "From"
        };
        let mut form = vec![
            ("To", message.recipient.trim()),
            ("Body", message.body.as_str()),
            (from_field, self.settings.from.as_str()),
        ];
        if let Some(callback) = &self.settings.status_callback {
            form.push(("StatusCallback", callback));
        }
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.settings.base_url.trim_end_matches('/'),
            self.settings.account_sid
        );
        let response = self
            .client
            .post(url)
            .basic_auth(&self.settings.account_sid, Some(&self.auth_token))
            .header(TWILIO_IDEMPOTENCY_HEADER, &message.dedupe_key)
            .form(&form)
            .send()
            .await
            .map_err(|e| transport_error(PROVIDER, &e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .cloned();
        let body = response
            .text()
            .await
            .map_err(|e| transport_error(PROVIDER, &e))?;
        if status.is_success() {
            return serde_json::from_str::<Created>(&body)
                .map(|created| SendReceipt {
                    provider_message_id: created.sid,
                })
                .map_err(|e| SendError::Retryable {
                    reason: format!("{PROVIDER}: unreadable answer ({e})"),
                    retry_after: None,
                });
        }
        let detail = serde_json::from_str::<Refusal>(&body).map_or_else(
            |_| body.chars().take(200).collect(),
            |r| {
                format!(
                    "error {}: {}",
                    r.code.unwrap_or_default(),
                    r.message.unwrap_or_default()
                )
            },
        );
        Err(status_error(
            PROVIDER,
            status,
            retry_after.as_ref(),
            &detail,
        ))
    }
}

/// Why a message to a Vietnamese number may not go through Twilio, if it may not:
/// Vietnam takes SMS only from a pre-registered alphanumeric sender ID (Twilio, "Register
/// your alphanumeric sender ID in Vietnam"; `twilio.com/en/guidelines/vn/sms`), and
/// Decree 91/2020 bans advertising from phone numbers, so promotional SMS to +84 goes
/// through a Vietnamese brandname provider instead. A messaging service (`MG…`) is
/// taken on trust: its sender pool is configured at Twilio.
fn vietnam_refusal(from: &str, message: &OutgoingMessage) -> Option<String> {
    if !message.recipient.trim().starts_with("+84") {
        return None;
    }
    if message.promotional {
        return Some(format!(
            "{PROVIDER} does not carry promotional SMS to Vietnam (Decree 91/2020: advertising only from a registered brandname)"
        ));
    }
    let from = from.trim();
    let is_number =
        from.starts_with('+') || (!from.is_empty() && from.bytes().all(|b| b.is_ascii_digit()));
    is_number.then(|| {
        format!(
            "Vietnam takes SMS only from a registered alphanumeric sender ID; `from` is the number {from}"
        )
    })
}
