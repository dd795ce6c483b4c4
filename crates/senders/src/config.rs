//! Configuration: what is in the config file, and the secrets from the environment.

use crate::email::{SmtpSender, SmtpSettings};
use crate::esms::{Esms, EsmsSettings};
use crate::file::FileSender;
use crate::twilio::{TwilioSettings, TwilioSms};
use crate::zalo::{ZaloCredentials, ZaloSettings, ZaloZns};
use regulars_domain::Channel;
use regulars_ports::{MessageSender, TokenStore};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// Environment variable: the Zalo OA access token (required for Zalo).
pub const ENV_ZALO_ACCESS_TOKEN: &str = "REGULARS_ZALO_ACCESS_TOKEN";
/// Environment variable: the Zalo refresh token (optional; with app id and secret key it
/// enables the automatic refresh).
pub const ENV_ZALO_REFRESH_TOKEN: &str = "REGULARS_ZALO_REFRESH_TOKEN";
/// Environment variable: the Zalo app id (needed with a refresh token).
pub const ENV_ZALO_APP_ID: &str = "REGULARS_ZALO_APP_ID";
/// Environment variable: the Zalo app secret key (needed with a refresh token).
pub const ENV_ZALO_SECRET_KEY: &str = "REGULARS_ZALO_SECRET_KEY";
/// Environment variable: the eSMS API key (required for SMS).
pub const ENV_ESMS_API_KEY: &str = "REGULARS_ESMS_API_KEY";
/// Environment variable: the eSMS secret key (required for SMS).
pub const ENV_ESMS_SECRET_KEY: &str = "REGULARS_ESMS_SECRET_KEY";
/// Environment variable: the Twilio auth token (required for `twilio`).
pub const ENV_TWILIO_AUTH_TOKEN: &str = "REGULARS_TWILIO_AUTH_TOKEN";
/// Environment variable: the SMTP password (required when `email.username` is set).
pub const ENV_SMTP_PASSWORD: &str = "REGULARS_SMTP_PASSWORD";

/// The non-secret configuration of the message senders. A channel that is absent is not
/// configured; secrets never appear here (see [`build`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendersConfig {
    /// Zalo ZNS.
    #[serde(default)]
    pub zalo: Option<ZaloConfig>,
    /// Brandname SMS through eSMS.
    #[serde(default)]
    pub sms: Option<EsmsConfig>,
    /// SMS through a Twilio-style API instead of eSMS (configure one of the two).
    #[serde(default)]
    pub twilio: Option<TwilioConfig>,
    /// Email over SMTP.
    #[serde(default)]
    pub email: Option<SmtpConfig>,
    /// Development channel: messages appended as JSON lines to a file, for the channels
    /// no provider above serves.
    #[serde(default)]
    pub file: Option<FileConfig>,
    /// Timeout of one provider request, in seconds (default 10).
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_timeout_secs() -> u64 {
    10
}

/// Zalo ZNS settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZaloConfig {
    /// ZNS API base (default `https://business.openapi.zalo.me`).
    #[serde(default = "default_zalo_api")]
    pub api_base: String,
    /// OAuth base for token refresh (default `https://oauth.zaloapp.com`).
    #[serde(default = "default_zalo_oauth")]
    pub oauth_base: String,
    /// Our template names to ZNS template ids.
    #[serde(default)]
    pub templates: BTreeMap<String, String>,
}

fn default_zalo_api() -> String {
    ZaloSettings::default().api_base
}

fn default_zalo_oauth() -> String {
    ZaloSettings::default().oauth_base
}

/// eSMS settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EsmsConfig {
    /// API base (default `https://rest.esms.vn`).
    #[serde(default = "default_esms_base")]
    pub base_url: String,
    /// The registered brandname.
    pub brandname: String,
    /// eSMS `SmsType` (default `"2"`, customer care; `"1"`, advertising, is refused:
    /// it needs eSMS's separate bulk endpoint).
    #[serde(default = "default_sms_type")]
    pub sms_type: String,
    /// Where eSMS reports delivery status.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// eSMS sandbox mode (validated, never sent).
    #[serde(default)]
    pub sandbox: bool,
}

fn default_esms_base() -> String {
    "https://rest.esms.vn".to_owned()
}

/// eSMS `SmsType` of advertising brandname SMS (`Quảng cáo`), refused on the
/// customer-care endpoint.
const ESMS_ADVERTISING_SMS_TYPE: &str = "1";

fn default_sms_type() -> String {
    "2".to_owned()
}

/// Twilio-style SMS settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwilioConfig {
    /// API base (default `https://api.twilio.com`).
    #[serde(default = "default_twilio_base")]
    pub base_url: String,
    /// Account SID (`AC…`); its auth token comes from `REGULARS_TWILIO_AUTH_TOKEN`.
    pub account_sid: String,
    /// Sender number (`+…`) or messaging service SID (`MG…`).
    pub from: String,
    /// `StatusCallback` URL, if any.
    #[serde(default)]
    pub status_callback: Option<String>,
}

fn default_twilio_base() -> String {
    "https://api.twilio.com".to_owned()
}

/// File sender settings (development only: nothing is delivered to anyone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// The JSON-lines file the messages are appended to (created if missing).
    pub path: String,
    /// The channels it stands in for (default: all three). A channel configured with a
    /// real provider as well is an error.
    #[serde(default = "all_channels")]
    pub channels: Vec<Channel>,
}

fn all_channels() -> Vec<Channel> {
    vec![Channel::Zalo, Channel::Sms, Channel::Email]
}

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain text; only for a relay on a trusted network or loopback.
    None,
    /// Plain connection upgraded with STARTTLS, which is required (default port 587).
    Starttls,
    /// TLS from the first byte (default port 465).
    Implicit,
}

/// SMTP settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Submission server host.
    pub host: String,
    /// Port (default by TLS mode: 25, 587, 465).
    #[serde(default)]
    pub port: Option<u16>,
    /// TLS mode.
    pub tls: SmtpTls,
    /// The `From` mailbox.
    pub from: String,
    /// Login name; its password comes from `REGULARS_SMTP_PASSWORD`.
    #[serde(default)]
    pub username: Option<String>,
}

/// Why the senders could not be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// A secret the configuration needs is not in the environment (or is empty).
    #[error("environment variable {var} is not set; {needed_for} needs it")]
    MissingEnv {
        /// The variable's name.
        var: &'static str,
        /// What needs it.
        needed_for: &'static str,
    },
    /// A configured value is unusable.
    #[error("{field}: {reason}")]
    Invalid {
        /// The configuration field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// The configured senders, keyed by channel.
#[derive(Clone, Default)]
pub struct Senders {
    by_channel: BTreeMap<Channel, Arc<dyn MessageSender>>,
}

impl std::fmt::Debug for Senders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Senders")
            .field("channels", &self.by_channel.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Senders {
    /// The sender for a channel, if it is configured.
    #[must_use]
    pub fn get(&self, channel: Channel) -> Option<Arc<dyn MessageSender>> {
        self.by_channel.get(&channel).cloned()
    }

    /// The configured channels, in order.
    #[must_use]
    pub fn channels(&self) -> Vec<Channel> {
        self.by_channel.keys().copied().collect()
    }

    /// The map itself.
    #[must_use]
    pub fn into_map(self) -> BTreeMap<Channel, Arc<dyn MessageSender>> {
        self.by_channel
    }
}

/// Builds the senders the configuration asks for, reading secrets through `env` (pass
/// `|name| std::env::var(name).ok()` in the server; tests pass a map). An empty variable
/// counts as missing.
///
/// | variable | needed when |
/// |----------|-------------|
/// | `REGULARS_ZALO_ACCESS_TOKEN` | `zalo` is configured |
/// | `REGULARS_ZALO_REFRESH_TOKEN` | optional; enables token refresh |
/// | `REGULARS_ZALO_APP_ID`, `REGULARS_ZALO_SECRET_KEY` | a refresh token is set |
/// | `REGULARS_ESMS_API_KEY`, `REGULARS_ESMS_SECRET_KEY` | `sms` is configured |
/// | `REGULARS_TWILIO_AUTH_TOKEN` | `twilio` is configured |
/// | `REGULARS_SMTP_PASSWORD` | `email.username` is set |
///
/// # Errors
///
/// [`ConfigError::MissingEnv`] naming the first missing variable, or
/// [`ConfigError::Invalid`] for an unusable value (bad `from` address, bad base URL, both
/// `sms` and `twilio` configured).
pub fn build<F>(config: &SendersConfig, env: F) -> Result<Senders, ConfigError>
where
    F: Fn(&str) -> Option<String>,
{
    build_with_tokens(config, env, None)
}

/// [`build`], with the Zalo tokens kept in `tokens` (the database) so that every process
/// of the deployment shares them and a restart keeps the refreshed ones (see
/// [`ZaloZns::with_token_store`]). The tokens in the environment are stored on first use
/// and again whenever they change (a new grant).
///
/// # Errors
///
/// As [`build`].
pub fn build_with_tokens<F>(
    config: &SendersConfig,
    env: F,
    tokens: Option<Arc<dyn TokenStore>>,
) -> Result<Senders, ConfigError>
where
    F: Fn(&str) -> Option<String>,
{
    let secrets = Secrets(env);
    let timeout = Duration::from_secs(config.timeout_secs.max(1));
    let mut by_channel: BTreeMap<Channel, Arc<dyn MessageSender>> = BTreeMap::new();

    if let Some(zalo) = &config.zalo {
        let sender = zalo_sender(zalo, &secrets, timeout)?;
        let sender = match &tokens {
            Some(store) => sender.with_token_store(store.clone(), None),
            None => sender,
        };
        by_channel.insert(Channel::Zalo, Arc::new(sender));
    }

    if let Some(sms) = &config.sms {
        by_channel.insert(Channel::Sms, Arc::new(esms_sender(sms, &secrets, timeout)?));
    }

    if let Some(twilio) = &config.twilio {
        if config.sms.is_some() {
            return Err(ConfigError::Invalid {
                field: "twilio",
                reason: "both sms (eSMS) and twilio are configured; choose one SMS provider"
                    .to_owned(),
            });
        }
        let sender = twilio_sender(twilio, &secrets, timeout)?;
        by_channel.insert(Channel::Sms, Arc::new(sender));
    }

    if let Some(email) = &config.email {
        let sender = smtp_sender(email, &secrets, timeout)?;
        by_channel.insert(Channel::Email, Arc::new(sender));
    }

    if let Some(file) = &config.file {
        for sender in file_senders(file, &by_channel)? {
            by_channel.insert(sender.channel(), Arc::new(sender));
        }
    }

    Ok(Senders { by_channel })
}

/// The environment's values, a blank one counting as unset.
struct Secrets<F>(F);

impl<F: Fn(&str) -> Option<String>> Secrets<F> {
    fn lookup(&self, var: &str) -> Option<String> {
        (self.0)(var).filter(|v| !v.trim().is_empty())
    }

    /// The variable's value, or the error naming it and what needs it.
    fn require(&self, var: &'static str, needed_for: &'static str) -> Result<String, ConfigError> {
        self.lookup(var)
            .ok_or(ConfigError::MissingEnv { var, needed_for })
    }
}

/// Zalo ZNS, with its tokens from the environment (the app id and secret key are
/// required only when a refresh token is given).
fn zalo_sender<F: Fn(&str) -> Option<String>>(
    zalo: &ZaloConfig,
    secrets: &Secrets<F>,
    timeout: Duration,
) -> Result<ZaloZns, ConfigError> {
    check_url("zalo.api_base", &zalo.api_base)?;
    check_url("zalo.oauth_base", &zalo.oauth_base)?;
    let access_token = secrets.require(ENV_ZALO_ACCESS_TOKEN, "Zalo ZNS")?;
    let refresh_token = secrets.lookup(ENV_ZALO_REFRESH_TOKEN);
    let (app_id, secret_key) = if refresh_token.is_some() {
        (
            Some(secrets.require(ENV_ZALO_APP_ID, "the Zalo token refresh")?),
            Some(secrets.require(ENV_ZALO_SECRET_KEY, "the Zalo token refresh")?),
        )
    } else {
        (
            secrets.lookup(ENV_ZALO_APP_ID),
            secrets.lookup(ENV_ZALO_SECRET_KEY),
        )
    };
    ZaloZns::new(
        ZaloSettings {
            api_base: zalo.api_base.clone(),
            oauth_base: zalo.oauth_base.clone(),
            timeout,
            templates: zalo.templates.clone(),
        },
        ZaloCredentials {
            access_token,
            refresh_token,
            app_id,
            secret_key,
        },
    )
    .map_err(|e| ConfigError::Invalid {
        field: "zalo",
        reason: e.to_string(),
    })
}

/// eSMS on its customer-care endpoint, with its keys from the environment.
fn esms_sender<F: Fn(&str) -> Option<String>>(
    sms: &EsmsConfig,
    secrets: &Secrets<F>,
    timeout: Duration,
) -> Result<Esms, ConfigError> {
    check_url("sms.base_url", &sms.base_url)?;
    if sms.brandname.trim().is_empty() {
        return Err(ConfigError::Invalid {
            field: "sms.brandname",
            reason: "must not be empty".to_owned(),
        });
    }
    if sms.sms_type.trim() == ESMS_ADVERTISING_SMS_TYPE {
        return Err(ConfigError::Invalid {
            field: "sms.sms_type",
            reason: "\"1\" is eSMS's advertising product, which has its own bulk endpoint \
                     (SendMultipleSMSBrandname_json, at least 30 numbers and one approved \
                     content per request); this sender uses the customer-care endpoint \
                     (SendMultipleMessage_V4_post_json): use \"2\""
                .to_owned(),
        });
    }
    let api_key = secrets.require(ENV_ESMS_API_KEY, "eSMS")?;
    let secret_key = secrets.require(ENV_ESMS_SECRET_KEY, "eSMS")?;
    Esms::new(
        EsmsSettings {
            base_url: sms.base_url.clone(),
            brandname: sms.brandname.clone(),
            sms_type: sms.sms_type.clone(),
            callback_url: sms.callback_url.clone(),
            sandbox: sms.sandbox,
            timeout,
        },
        api_key,
        secret_key,
    )
    .map_err(|e| ConfigError::Invalid {
        field: "sms",
        reason: e.to_string(),
    })
}

/// Twilio SMS, with its auth token from the environment.
fn twilio_sender<F: Fn(&str) -> Option<String>>(
    twilio: &TwilioConfig,
    secrets: &Secrets<F>,
    timeout: Duration,
) -> Result<TwilioSms, ConfigError> {
    check_url("twilio.base_url", &twilio.base_url)?;
    let auth_token = secrets.require(ENV_TWILIO_AUTH_TOKEN, "Twilio SMS")?;
    TwilioSms::new(
        TwilioSettings {
            base_url: twilio.base_url.clone(),
            account_sid: twilio.account_sid.clone(),
            from: twilio.from.clone(),
            status_callback: twilio.status_callback.clone(),
            timeout,
        },
        auth_token,
    )
    .map_err(|e| ConfigError::Invalid {
        field: "twilio",
        reason: e.to_string(),
    })
}

/// Email over SMTP, with the login's password from the environment when it logs in.
fn smtp_sender<F: Fn(&str) -> Option<String>>(
    email: &SmtpConfig,
    secrets: &Secrets<F>,
    timeout: Duration,
) -> Result<SmtpSender, ConfigError> {
    let password = match &email.username {
        Some(_) => Some(secrets.require(ENV_SMTP_PASSWORD, "SMTP login (email.username is set)")?),
        None => None,
    };
    SmtpSender::new(SmtpSettings {
        host: email.host.clone(),
        port: email.port,
        tls: email.tls,
        from: email.from.clone(),
        username: email.username.clone(),
        password,
        timeout,
    })
    .map_err(|reason| ConfigError::Invalid {
        field: "email",
        reason,
    })
}

/// The JSON-lines file senders, one per channel named that has no provider yet.
fn file_senders(
    file: &FileConfig,
    configured: &BTreeMap<Channel, Arc<dyn MessageSender>>,
) -> Result<Vec<FileSender>, ConfigError> {
    if file.path.trim().is_empty() {
        return Err(ConfigError::Invalid {
            field: "file.path",
            reason: "must not be empty".to_owned(),
        });
    }
    if file.channels.is_empty() {
        return Err(ConfigError::Invalid {
            field: "file.channels",
            reason: "must name at least one channel".to_owned(),
        });
    }
    let mut channels = file.channels.clone();
    channels.sort();
    channels.dedup();
    if let Some(taken) = channels.iter().find(|c| configured.contains_key(c)) {
        return Err(ConfigError::Invalid {
            field: "file.channels",
            reason: format!("{taken:?} already has a provider configured; choose one"),
        });
    }
    Ok(FileSender::for_channels(&file.path, &channels))
}

fn check_url(field: &'static str, url: &str) -> Result<(), ConfigError> {
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            field,
            reason: format!("{url:?} is not an http(s) URL"),
        })
    }
}
