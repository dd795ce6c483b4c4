//! Zalo Notification Service (ZNS): template messages by phone number.

use crate::http::{client, e164_digits, status_error, transport_error};
use crate::zalo_tokens::{Refresher, Tokens};
use async_trait::async_trait;
use regulars_domain::BrandId;
use regulars_domain::Channel;
use regulars_ports::{
    MessageSender, OutgoingMessage, SendError, SendReceipt, TokenPair, TokenStore, provider_key,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use time::{OffsetDateTime, Time, UtcOffset};
use tokio::sync::Mutex;

const PROVIDER: &str = "Zalo ZNS";

/// The ZNS answer code for an invalid (usually expired) access token.
pub const ZNS_INVALID_ACCESS_TOKEN: i64 = -124;

/// The answers after which the access token is refreshed and the send tried once more:
/// -124 (ZNS: access token invalid) and the OA API's -216 (access token invalid) and
/// -220 (access token expired). Zalo's pages are not consistent about which one an
/// expired token gets, so any of them counts.
pub const ZALO_TOKEN_REJECTED: [i64; 3] = [ZNS_INVALID_ACCESS_TOKEN, -216, -220];

/// Where and how [`ZaloZns`] talks to Zalo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZaloSettings {
    /// Base of the ZNS API; `POST {api_base}/message/template` sends.
    pub api_base: String,
    /// Base of the OAuth API; `POST {oauth_base}/v4/oa/access_token` refreshes tokens.
    pub oauth_base: String,
    /// Timeout of one HTTP request (connect included).
    pub timeout: Duration,
    /// Our template names (`OutgoingMessage::template`) to ZNS template ids. A name that
    /// is not listed is sent as the ZNS template id itself.
    pub templates: BTreeMap<String, String>,
}

impl Default for ZaloSettings {
    /// Zalo's production endpoints, a 10 s timeout, no template names.
    fn default() -> Self {
        Self {
            api_base: "https://business.openapi.zalo.me".to_owned(),
            oauth_base: "https://oauth.zaloapp.com".to_owned(),
            timeout: Duration::from_secs(10),
            templates: BTreeMap::new(),
        }
    }
}

/// The secrets of a Zalo Official Account's app.
#[derive(Clone, PartialEq, Eq)]
pub struct ZaloCredentials {
    /// The OA access token (header `access_token`); it expires after about a day.
    pub access_token: String,
    /// The refresh token that buys a new access token; without it an expired access
    /// token makes every send fail permanently.
    pub refresh_token: Option<String>,
    /// The app id (form field `app_id` of the refresh).
    pub app_id: Option<String>,
    /// The app's secret key (header `secret_key` of the refresh).
    pub secret_key: Option<String>,
}

impl std::fmt::Debug for ZaloCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZaloCredentials")
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("app_id", &self.app_id)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// The tokens a [`ZaloZns`] currently uses. Zalo refresh tokens are single-use: after a
/// refresh the old one is dead, so whoever wants to survive a restart without a new
/// grant must persist these (see [`ZaloZns::current_tokens`]).
#[derive(Clone, PartialEq, Eq)]
pub struct ZaloTokens {
    /// The access token in use.
    pub access_token: String,
    /// The refresh token that will be used next.
    pub refresh_token: Option<String>,
}

impl std::fmt::Debug for ZaloTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ZaloTokens { <redacted> }")
    }
}

/// Sends [`Channel::Zalo`] messages as ZNS template messages.
///
/// `POST {api_base}/message/template` with header `access_token` and JSON
/// `{phone, template_id, template_data, tracking_id}`: the phone is the E.164 recipient
/// without its `+`, the template id comes from `OutgoingMessage::template` (through
/// [`ZaloSettings::templates`]), the data from `OutgoingMessage::data` and the tracking id
/// is the message's [`provider_key`] (32 hex characters derived from its `dedupe_key`;
/// Zalo accepts at most 48). The receipt carries Zalo's `msg_id`.
///
/// When Zalo answers one of [`ZALO_TOKEN_REJECTED`] and a refresh token, app id and
/// secret key are configured, the access token is refreshed once (OAuth v4) and the send
/// retried once; concurrent sends that hit the same expired token refresh it only once.
///
/// By default the tokens live in this process's memory. With
/// [`ZaloZns::with_token_store`] they are shared through the database by every process:
/// refreshed ahead of their expiry (`expires_in`), by exactly one process per refresh
/// token, and read back after a restart.
/// Error answers are classified by [`classify_zns_error`].
#[derive(Debug)]
pub struct ZaloZns {
    client: reqwest::Client,
    settings: ZaloSettings,
    app_id: Option<String>,
    secret_key: Option<String>,
    tokens: Tokens,
}

#[derive(Serialize)]
struct TemplateRequest<'a> {
    phone: &'a str,
    template_id: &'a str,
    template_data: &'a BTreeMap<String, String>,
    tracking_id: &'a str,
}

#[derive(Deserialize)]
struct TemplateAnswer {
    error: i64,
    #[serde(default)]
    message: String,
    data: Option<TemplateData>,
}

#[derive(Deserialize)]
struct TemplateData {
    msg_id: String,
}

#[derive(Deserialize)]
struct RefreshAnswer {
    access_token: Option<String>,
    refresh_token: Option<String>,
    /// Seconds; Zalo sends it as a string (`"90000"`), some answers as a number.
    expires_in: Option<serde_json::Value>,
    error: Option<i64>,
    error_name: Option<String>,
    error_description: Option<String>,
}

enum Answer {
    Sent(SendReceipt),
    Refused { code: i64, message: String },
}

impl ZaloZns {
    /// A sender with the given endpoints and secrets.
    ///
    /// # Errors
    ///
    /// When the HTTP client cannot be built (TLS initialisation).
    pub fn new(
        settings: ZaloSettings,
        credentials: ZaloCredentials,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            client: client(settings.timeout)?,
            settings,
            app_id: credentials.app_id,
            secret_key: credentials.secret_key,
            tokens: Tokens::Memory(Mutex::new(TokenPair {
                access_token: credentials.access_token,
                refresh_token: credentials.refresh_token,
                expires_at: None,
            })),
        })
    }

    /// Keeps the tokens in `store`, shared with every process that sends for the same
    /// account (`brand`'s own OA, or `None` for the deployment's): the configured tokens
    /// are stored on first use, and from then on the stored ones are used and refreshed.
    /// A different configured pair (a new grant) replaces the stored one.
    #[must_use]
    pub fn with_token_store(mut self, store: Arc<dyn TokenStore>, brand: Option<BrandId>) -> Self {
        let configured = match &self.tokens {
            Tokens::Memory(pair) => pair.try_lock().map(|p| p.clone()).ok(),
            Tokens::Shared(_) => None,
        };
        if let Some(configured) = configured {
            let app_id = self.app_id.clone().unwrap_or_default();
            self.tokens = Tokens::shared(store, brand, &app_id, configured);
        }
        self
    }

    /// The tokens in use now (after any refresh), for whoever persists them.
    ///
    /// # Errors
    ///
    /// When shared tokens cannot be read from the store.
    pub async fn current_tokens(&self) -> Result<ZaloTokens, SendError> {
        let pair = self.tokens.current(self).await?;
        Ok(ZaloTokens {
            access_token: pair.access_token,
            refresh_token: pair.refresh_token,
        })
    }

    /// Refreshes the access token now, whether or not it has expired.
    ///
    /// # Errors
    ///
    /// [`SendError::Permanent`] when no refresh is configured or Zalo rejects it,
    /// [`SendError::Retryable`] when Zalo could not be reached.
    pub async fn refresh(&self) -> Result<(), SendError> {
        let used = self.tokens.current(self).await?;
        self.tokens
            .after_rejection(self, &used.access_token)
            .await
            .map(|_| ())
    }

    fn template_id<'a>(&'a self, message: &'a OutgoingMessage) -> Result<&'a str, SendError> {
        let name = message
            .template
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| SendError::Permanent {
                reason: "a ZNS message needs a template".to_owned(),
            })?;
        Ok(self
            .settings
            .templates
            .get(name)
            .map_or(name, String::as_str))
    }

    async fn post_template(
        &self,
        access_token: &str,
        request: &TemplateRequest<'_>,
    ) -> Result<Answer, SendError> {
        let url = format!(
            "{}/message/template",
            self.settings.api_base.trim_end_matches('/')
        );
        let response = self
            .client
            .post(url)
            .header("access_token", access_token)
            .json(request)
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
        let answer: TemplateAnswer =
            serde_json::from_str(&body).map_err(|e| SendError::Retryable {
                reason: format!("{PROVIDER}: unreadable answer ({e}): {}", snippet(&body)),
                retry_after: None,
            })?;
        match (answer.error, answer.data) {
            (0, Some(data)) => Ok(Answer::Sent(SendReceipt {
                provider_message_id: data.msg_id,
            })),
            (0, None) => Err(SendError::Retryable {
                reason: format!("{PROVIDER}: success without a msg_id: {}", snippet(&body)),
                retry_after: None,
            }),
            (code, _) => Ok(Answer::Refused {
                code,
                message: answer.message,
            }),
        }
    }
}

impl Refresher for ZaloZns {
    /// One OAuth v4 refresh: spends `refresh_token`, answers the new pair.
    async fn call_refresh(&self, refresh_token: &str) -> Result<TokenPair, SendError> {
        let (Some(refresh_token), Some(app_id), Some(secret_key)) = (
            Some(refresh_token).filter(|t| !t.is_empty()),
            self.app_id.as_deref(),
            self.secret_key.as_deref(),
        ) else {
            return Err(SendError::Permanent {
                reason: format!(
                    "{PROVIDER}: access token invalid and no refresh configured \
                     (refresh token, app id and secret key are all needed)"
                ),
            });
        };
        let url = format!(
            "{}/v4/oa/access_token",
            self.settings.oauth_base.trim_end_matches('/')
        );
        let response = self
            .client
            .post(url)
            .header("secret_key", secret_key)
            .form(&[
                ("refresh_token", refresh_token),
                ("app_id", app_id),
                ("grant_type", "refresh_token"),
            ])
            .send()
            .await
            .map_err(|e| transport_error("Zalo OAuth", &e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .cloned();
        let body = response
            .text()
            .await
            .map_err(|e| transport_error("Zalo OAuth", &e))?;
        if !status.is_success() {
            return Err(status_error(
                "Zalo OAuth",
                status,
                retry_after.as_ref(),
                &body,
            ));
        }
        let answer: RefreshAnswer =
            serde_json::from_str(&body).map_err(|e| SendError::Retryable {
                reason: format!("Zalo OAuth: unreadable answer ({e}): {}", snippet(&body)),
                retry_after: None,
            })?;
        match answer {
            RefreshAnswer {
                access_token: Some(access_token),
                refresh_token,
                expires_in,
                error: None | Some(0),
                ..
            } if !access_token.is_empty() => Ok(TokenPair {
                access_token,
                refresh_token: refresh_token.filter(|t| !t.is_empty()),
                expires_at: expires_in
                    .as_ref()
                    .and_then(seconds)
                    .map(|secs| OffsetDateTime::now_utc() + time::Duration::seconds(secs)),
            }),
            RefreshAnswer {
                error,
                error_name,
                error_description,
                ..
            } => Err(SendError::Permanent {
                reason: format!(
                    "Zalo OAuth refused the token refresh (error {}): {} {}",
                    error.unwrap_or_default(),
                    error_name.unwrap_or_default(),
                    error_description.unwrap_or_default()
                ),
            }),
        }
    }
}

/// `expires_in` as whole seconds, from a string or a number.
fn seconds(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::String(text) => text.trim().parse().ok(),
        other => other.as_i64(),
    }
    .filter(|secs| *secs > 0)
}

fn snippet(body: &str) -> String {
    body.chars().take(200).collect()
}

#[async_trait]
impl MessageSender for ZaloZns {
    fn channel(&self) -> Channel {
        Channel::Zalo
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError> {
        if message.channel != Channel::Zalo {
            return Err(SendError::Permanent {
                reason: format!("{PROVIDER} cannot send {:?} messages", message.channel),
            });
        }
        let phone = e164_digits(&message.recipient)?;
        let tracking_id = provider_key(&message.dedupe_key);
        let request = TemplateRequest {
            phone: &phone,
            template_id: self.template_id(message)?,
            template_data: &message.data,
            tracking_id: &tracking_id,
        };
        let used = self.tokens.current(self).await?.access_token;
        match self.post_template(&used, &request).await? {
            Answer::Sent(receipt) => return Ok(receipt),
            Answer::Refused { code, message } if !ZALO_TOKEN_REJECTED.contains(&code) => {
                return Err(classify_zns_error(code, &message));
            }
            Answer::Refused { .. } => {}
        }
        // Another send may have refreshed while this one was in flight.
        let fresh = self.tokens.after_rejection(self, &used).await?.access_token;
        match self.post_template(&fresh, &request).await? {
            Answer::Sent(receipt) => Ok(receipt),
            Answer::Refused { code, message } => Err(classify_zns_error(code, &message)),
        }
    }
}

/// Classifies a ZNS error answer (`error` ≠ 0) for the delivery worker.
///
/// The codes follow Zalo's published ZNS error table ("Cách xử lý mã lỗi"); `Retryable`
/// means the same message may succeed later on ZNS, `Permanent` means the worker should
/// fall back to the next channel.
///
/// | code | Zalo's meaning | class |
/// |------|----------------|-------|
/// | -100 | unknown error, try again later | Retryable |
/// | -101 … -107 | app invalid / not existing / not activated, app secret invalid, app not linked to an OA, method unsupported, message id invalid | Permanent (configuration) |
/// | -108 | phone number invalid | Permanent |
/// | -109 | template id invalid | Permanent |
/// | -110 | the user's Zalo version is unsupported | Permanent |
/// | -111, -112 | template data empty / invalid | Permanent |
/// | -113 | button invalid | Permanent |
/// | -114 | user inactive, refused the message or other internal reason | Permanent |
/// | -115 | out of quota (ZNS balance exhausted) | Permanent: retrying waits for a top-up, another channel delivers now |
/// | -116 | text invalid | Permanent |
/// | -117 | OA or app has no permission for this template | Permanent |
/// | -118 | Zalo account does not exist or is disabled | Permanent |
/// | -119 | the account cannot receive ZNS | Permanent |
/// | -120 | OA has no permission for this feature | Permanent |
/// | -121, -122 | body empty / malformed | Permanent |
/// | -124 | access token invalid (after the one refresh [`ZaloZns`] attempts) | Permanent |
/// | -125 | OA id invalid | Permanent |
/// | -133 | ZNS may not be sent at night (22:00–06:00 Vietnam time) | Retryable, retry after the next 06:00 Vietnam time |
/// | -139 | the user refused this kind of ZNS | Permanent |
/// | -144 | the OA's daily quota is used up | Retryable, retry after the next midnight Vietnam time |
/// | any other | not documented here | Permanent (the reason carries the code) |
///
/// Transport failures (timeouts, refused connections, HTTP 408/429/5xx) are
/// `Retryable`; they are classified before this function is reached.
///
/// ```
/// use regulars_senders::classify_zns_error;
/// use regulars_ports::SendError;
/// assert!(matches!(classify_zns_error(-100, "Unknown error"), SendError::Retryable { .. }));
/// assert!(matches!(classify_zns_error(-118, "Zalo account not existed"), SendError::Permanent { .. }));
/// ```
#[must_use]
pub fn classify_zns_error(code: i64, message: &str) -> SendError {
    classify_zns_error_at(code, message, OffsetDateTime::now_utc())
}

/// ZNS error -133: no ZNS between 22:00 and 06:00 Vietnam time.
pub const ZNS_NIGHT: i64 = -133;
/// ZNS error -144: the OA's daily quota is used up (it resets at midnight).
pub const ZNS_DAILY_QUOTA: i64 = -144;

/// [`classify_zns_error`] at a given time: -133 and -144 carry a `retry_after` up to the
/// next time Zalo accepts the message (the next 06:00, the next midnight, Vietnam time),
/// so the delivery worker waits for it instead of spending its attempts and falling
/// back to paid SMS.
///
/// ```
/// use regulars_senders::{classify_zns_error_at, ZNS_NIGHT};
/// use regulars_ports::SendError;
/// use time::macros::datetime;
/// // 23:00 in Vietnam: seven hours until 06:00.
/// let err = classify_zns_error_at(ZNS_NIGHT, "night", datetime!(2026-12-06 23:00 +07:00));
/// assert!(matches!(err, SendError::Retryable { retry_after: Some(d), .. }
///     if d == std::time::Duration::from_secs(7 * 3600)));
/// ```
#[must_use]
pub fn classify_zns_error_at(code: i64, message: &str, now: OffsetDateTime) -> SendError {
    let reason = format!("{PROVIDER} error {code}: {message}");
    match code {
        -100 => SendError::Retryable {
            reason,
            retry_after: None,
        },
        ZNS_NIGHT => SendError::Retryable {
            reason,
            retry_after: Some(until_vietnam_hour(now, 6)),
        },
        ZNS_DAILY_QUOTA => SendError::Retryable {
            reason,
            retry_after: Some(until_vietnam_hour(now, 0)),
        },
        _ => SendError::Permanent { reason },
    }
}

/// Time from `now` to the next `hour`:00 in Vietnam (UTC+7, no daylight saving); a whole
/// day when it is that time exactly.
fn until_vietnam_hour(now: OffsetDateTime, hour: u8) -> std::time::Duration {
    let local = now.to_offset(VIETNAM);
    let today = local.replace_time(Time::MIDNIGHT) + time::Duration::hours(i64::from(hour));
    let next = if today > local {
        today
    } else {
        today + time::Duration::days(1)
    };
    std::time::Duration::try_from(next - local).unwrap_or_default()
}

const VIETNAM: UtcOffset = time::macros::offset!(+7);

#[cfg(test)]
mod tests {
    use super::{ZNS_DAILY_QUOTA, ZNS_NIGHT, classify_zns_error_at};
    use proptest::prelude::*;
    use regulars_ports::SendError;
    use std::time::Duration;
    use time::OffsetDateTime;
    use time::macros::offset;

    fn retry_after(code: i64, now: OffsetDateTime) -> Duration {
        match classify_zns_error_at(code, "", now) {
            SendError::Retryable {
                retry_after: Some(d),
                ..
            } => d,
            other => panic!("{other:?}"),
        }
    }

    proptest! {
        /// -133 waits exactly until the next 06:00 and -144 until the next midnight,
        /// Vietnam time, never longer than a day.
        #[test]
        fn night_and_quota_wait_for_the_next_allowed_time(secs in 1_700_000_000i64..1_900_000_000) {
            let now = OffsetDateTime::from_unix_timestamp(secs).unwrap_or_else(|e| panic!("{e}"));
            for (code, hour) in [(ZNS_NIGHT, 6u8), (ZNS_DAILY_QUOTA, 0)] {
                let wait = retry_after(code, now);
                prop_assert!(wait > Duration::ZERO && wait <= Duration::from_secs(86_400));
                let then = (now + wait).to_offset(offset!(+7));
                prop_assert_eq!((then.hour(), then.minute(), then.second()), (hour, 0, 0));
            }
        }
    }
}
