//! eSMS.vn brandname SMS.

use crate::http::{client, e164_digits, status_error, transport_error};
use async_trait::async_trait;
use regulars_domain::Channel;
use regulars_ports::{MessageSender, OutgoingMessage, SendError, SendReceipt, provider_key};
use serde::{Deserialize, Serialize};
use std::time::Duration;

const PROVIDER: &str = "eSMS";

/// The path of eSMS's JSON send function under its base URL.
pub const ESMS_SEND_PATH: &str = "/MainService.svc/json/SendMultipleMessage_V4_post_json/";

/// Where and how [`Esms`] talks to eSMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsmsSettings {
    /// Base URL; the send goes to `{base_url}`[`ESMS_SEND_PATH`].
    pub base_url: String,
    /// The registered brandname shown as the sender.
    pub brandname: String,
    /// eSMS `SmsType`: `"2"` is customer care (brandname) messages.
    pub sms_type: String,
    /// Where eSMS should report the delivery status (`CallbackUrl`), if anywhere.
    pub callback_url: Option<String>,
    /// eSMS sandbox: requests are validated but nothing is sent or charged.
    pub sandbox: bool,
    /// Timeout of one HTTP request (connect included).
    pub timeout: Duration,
}

impl EsmsSettings {
    /// eSMS's production endpoint for a brandname, customer-care type, no callback.
    #[must_use]
    pub fn new(brandname: impl Into<String>) -> Self {
        Self {
            base_url: "https://rest.esms.vn".to_owned(),
            brandname: brandname.into(),
            sms_type: "2".to_owned(),
            callback_url: None,
            sandbox: false,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Sends [`Channel::Sms`] messages through eSMS's `SendMultipleMessage_V4_post_json`.
///
/// JSON `{ApiKey, SecretKey, Phone, Content, Brandname, SmsType, IsUnicode, Sandbox,
/// RequestId, CallbackUrl}`: the phone is the E.164 recipient without its `+` (eSMS's
/// documentation does not say which phone formats it accepts; Vietnamese numbers in
/// international form are what its own samples show for Zalo, and `0…` for SMS),
/// `IsUnicode` is `1` exactly when the body is not ASCII (Vietnamese with diacritics),
/// and `RequestId` is the message's [`provider_key`] (32 hex characters derived from its
/// `dedupe_key`, the same on every attempt): eSMS documents `RequestId` as the guard
/// against duplicated requests, at most 50 characters, blocking duplicates for that day
/// only, and answers code 124 for a repeated one.
///
/// Answer `CodeResult` `"100"` is acceptance (not delivery) and its `SMSID` becomes the
/// receipt. A 124 (duplicate `RequestId`) means an earlier attempt of the same message
/// was accepted; eSMS's 124 answer carries no `SMSID`, so the receipt carries the
/// provider key, and the delivery report (which carries `RequestId`) is matched by it.
/// Other codes are classified by [`classify_esms_code`].
pub struct Esms {
    client: reqwest::Client,
    settings: EsmsSettings,
    api_key: String,
    secret_key: String,
}

impl std::fmt::Debug for Esms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Esms")
            .field("settings", &self.settings)
            .field("api_key", &"<redacted>")
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SendRequest<'a> {
    api_key: &'a str,
    secret_key: &'a str,
    phone: &'a str,
    content: &'a str,
    brandname: &'a str,
    sms_type: &'a str,
    is_unicode: &'a str,
    sandbox: &'a str,
    request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    callback_url: Option<&'a str>,
}

#[derive(Deserialize)]
struct SendAnswer {
    #[serde(rename = "CodeResult")]
    code_result: Option<String>,
    #[serde(rename = "SMSID")]
    smsid: Option<String>,
    #[serde(rename = "ErrorMessage")]
    error_message: Option<String>,
}

impl Esms {
    /// A sender with the given settings and account keys.
    ///
    /// # Errors
    ///
    /// When the HTTP client cannot be built (TLS initialisation).
    pub fn new(
        settings: EsmsSettings,
        api_key: impl Into<String>,
        secret_key: impl Into<String>,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            client: client(settings.timeout)?,
            settings,
            api_key: api_key.into(),
            secret_key: secret_key.into(),
        })
    }
}

#[async_trait]
impl MessageSender for Esms {
    fn channel(&self) -> Channel {
        Channel::Sms
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError> {
        if message.channel != Channel::Sms {
            return Err(SendError::Permanent {
                reason: format!("{PROVIDER} cannot send {:?} messages", message.channel),
            });
        }
        let phone = e164_digits(&message.recipient)?;
        let request_id = provider_key(&message.dedupe_key);
        let request = SendRequest {
            api_key: &self.api_key,
            secret_key: &self.secret_key,
            phone: &phone,
            content: &message.body,
            brandname: &self.settings.brandname,
            sms_type: &self.settings.sms_type,
            is_unicode: if message.body.is_ascii() { "0" } else { "1" },
            sandbox: if self.settings.sandbox { "1" } else { "0" },
            request_id: &request_id,
            callback_url: self.settings.callback_url.as_deref(),
        };
        let url = format!(
            "{}{ESMS_SEND_PATH}",
            self.settings.base_url.trim_end_matches('/')
        );
        let response = self
            .client
            .post(url)
            .json(&request)
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
        if !status.is_success() {
            return Err(status_error(PROVIDER, status, retry_after.as_ref(), &body));
        }
        let snippet: String = body.chars().take(200).collect();
        let answer: SendAnswer = serde_json::from_str(&body).map_err(|e| SendError::Retryable {
            reason: format!("{PROVIDER}: unreadable answer ({e}): {snippet}"),
            retry_after: None,
        })?;
        let Some(code) = answer.code_result else {
            // eSMS documents `{"error": "Invalid request"}` for a broken connection on
            // its side; the RequestId makes a retry safe.
            return Err(SendError::Retryable {
                reason: format!("{PROVIDER}: answer without CodeResult: {snippet}"),
                retry_after: None,
            });
        };
        match code.trim() {
            "100" => answer
                .smsid
                .filter(|id| !id.is_empty())
                .map(|provider_message_id| SendReceipt {
                    provider_message_id,
                })
                .ok_or_else(|| SendError::Retryable {
                    reason: format!("{PROVIDER}: accepted without an SMSID: {snippet}"),
                    retry_after: None,
                }),
            "124" => Ok(SendReceipt {
                provider_message_id: answer
                    .smsid
                    .filter(|id| !id.is_empty())
                    .unwrap_or(request_id),
            }),
            other => Err(classify_esms_code(
                other,
                answer.error_message.as_deref().unwrap_or_default(),
            )),
        }
    }
}

/// Classifies an eSMS `CodeResult` other than 100 (accepted) and 124 (duplicate
/// `RequestId`, which [`Esms`] treats as already accepted).
///
/// From eSMS's table of error codes:
///
/// | code | eSMS's meaning | class |
/// |------|----------------|-------|
/// | 99 | the phone number is blocked | Permanent |
/// | 101 | wrong ApiKey or SecretKey | Permanent |
/// | 102 | no price list | Permanent |
/// | 103 | balance too low | Permanent: retrying waits for a top-up, another channel delivers now |
/// | 104 | brandname does not exist | Permanent |
/// | 108 | phone number in a wrong format | Permanent |
/// | 118 | unsupported message type | Permanent |
/// | 140 | caller IP not whitelisted | Permanent |
/// | 146 | wrong customer-care template (content not registered) | Permanent |
/// | 177 | the recipient's network is not registered for the brandname | Permanent |
/// | 300 | message type missing | Permanent |
/// | any other | not documented for sending | Permanent (the reason carries the code) |
///
/// eSMS documents no transient answer code: its outages show up as HTTP errors,
/// timeouts or an answer without `CodeResult`, which [`Esms`] treats as `Retryable`.
///
/// ```
/// use regulars_senders::classify_esms_code;
/// use regulars_ports::SendError;
/// let err = classify_esms_code("108", "Phone number is not in correct format");
/// assert!(matches!(err, SendError::Permanent { .. }));
/// ```
#[must_use]
pub fn classify_esms_code(code: &str, message: &str) -> SendError {
    SendError::Permanent {
        reason: format!("{PROVIDER} error {code}: {message}"),
    }
}
