//! The server's configuration: built-in defaults, then `regulars.toml`, then `REGULARS_*`
//! environment variables (and `DATABASE_URL`). Secrets come only from the environment.
//!
//! | setting | file key | environment | default |
//! |---|---|---|---|
//! | database | `database_url` | `REGULARS_DATABASE_URL`, `DATABASE_URL` | `sqlite://regulars.db?mode=rwc` |
//! | listen address | `listen` | `REGULARS_LISTEN` | `127.0.0.1:8080` |
//! | largest request body (bytes) | `body_limit_bytes` | `REGULARS_BODY_LIMIT_BYTES` | 262144 |
//! | webhook time window (s) | `webhook_tolerance_seconds` | `REGULARS_WEBHOOK_TOLERANCE_SECONDS` | 300 |
//! | log format | `log_format` | `REGULARS_LOG_FORMAT` | `text` (or `json`) |
//! | graceful shutdown (s) | `shutdown_timeout_seconds` | `REGULARS_SHUTDOWN_TIMEOUT_SECONDS` | 30 |
//! | scoring job every (h) | `scoring_interval_hours` | `REGULARS_SCORING_INTERVAL_HOURS` | 24 (0: off) |
//! | webhook-secret key | — | `REGULARS_SECRET_KEY` (64 hex digits) | none: integrations disabled |
//! | run the worker inside `serve` | `[worker] in_serve` | `REGULARS_WORKER_IN_SERVE` | `false` |
//! | plan active campaigns every (min) | `[worker] campaign_interval_minutes` | `REGULARS_CAMPAIGN_INTERVAL_MINUTES` | 15 (0: never) |
//! | poll KiotViet FnB invoices every (min) | `[worker] pos_poll_interval_minutes` | `REGULARS_POS_POLL_INTERVAL_MINUTES` | 5 (0: never) |
//! | delivery claim lease (s) | `[worker] lease_seconds` | `REGULARS_DELIVERY_LEASE_SECONDS` | 120 |
//! | attempts per channel | `[worker] max_attempts` | `REGULARS_DELIVERY_MAX_ATTEMPTS` | 8 |
//! | messages sent at once | `[worker] concurrency` | `REGULARS_DELIVERY_CONCURRENCY` | 16 |
//! | first retry after (s), doubling | `[worker] backoff_seconds` | `REGULARS_DELIVERY_BACKOFF_SECONDS` | 30 |
//! | longest wait between retries (s) | `[worker] max_backoff_seconds` | `REGULARS_DELIVERY_MAX_BACKOFF_SECONDS` | 3600 |
//! | access log kept (days) | `[worker] access_log_retention_days` | `REGULARS_ACCESS_LOG_RETENTION_DAYS` | 730 (0: for good) |
//! | requests a second per key or integration | `rate_limit_per_second` | `REGULARS_RATE_LIMIT_PER_SECOND` | 50 (0: no limit) |
//! | burst per key or integration | `rate_limit_burst` | `REGULARS_RATE_LIMIT_BURST` | 200 |
//! | metrics token | — | `REGULARS_METRICS_TOKEN` | none: `/metrics` is open |
//! | message channels | `[senders]` (see docs/senders.md) | secrets only: `REGULARS_ZALO_*`, `REGULARS_ESMS_*`, `REGULARS_TWILIO_AUTH_TOKEN`, `REGULARS_SMTP_PASSWORD` | none configured |
//! | delivery reports (`/callbacks/zalo`, `/callbacks/esms?token=`) | — | `REGULARS_ZALO_APP_ID` + `REGULARS_ZALO_OA_SECRET_KEY`; `REGULARS_ESMS_CALLBACK_TOKEN` | not taken |
//! | wait for a database connection (s) | `database_timeout_seconds` | `REGULARS_DATABASE_TIMEOUT_SECONDS` | 5 |
//! | public URL of customer links | `public_url` | `REGULARS_PUBLIC_URL` | the request's own host |
//! | `Secure` dashboard cookies | `secure_cookies` | `REGULARS_SECURE_COOKIES` | `false` |
//! | server key (webhook secrets, sessions, links) | — (refused in the file) | `REGULARS_SECRET_KEY` (64 hex digits) | none: no webhooks |
//! | POS APIs (Square orders, KiotViet customers) | `[pos_api]` `square_url`, `square_version`, `kiotviet_url`, `kiotviet_token_url`, `timeout_seconds` (see docs/pos.md) | — (credentials are per integration) | Square's and KiotViet's public endpoints, 3 s |
//! | group commit of concurrent orders | `[ingest]` (see `ingest_settings`) | `REGULARS_INGEST_*` | on |
//! | previous server keys, during a rotation | — | `REGULARS_PREVIOUS_SECRET_KEYS` (comma-separated) | none |

mod env;
mod file;
mod limits;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
mod worker;

pub use worker::WorkerSettings;

use regulars_service::{SecretKey, SecretKeys};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

/// The embedded default: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://regulars.db?mode=rwc";
/// Where the server listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The configuration file read from the working directory when none is named.
pub const DEFAULT_CONFIG_FILE: &str = "regulars.toml";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The database URL.
    pub database_url: String,
    /// `host:port` to listen on (port 0 picks a free one).
    pub listen: String,
    /// Largest request body accepted.
    pub body_limit: usize,
    /// How far a webhook's timestamp may be from now.
    pub webhook_tolerance: Duration,
    /// Log format.
    pub log_format: LogFormat,
    /// How long in-flight requests get to finish on shutdown.
    pub shutdown_timeout: Duration,
    /// The server's key: sealing webhook secrets, signing sessions and customer links
    /// (each through a key derived for that purpose).
    pub secret_key: Option<SecretKey>,
    /// During a key rotation, the keys used before `secret_key`: what they sealed or
    /// signed still opens until `regulars secrets rotate` has re-sealed it.
    pub previous_secret_keys: Vec<SecretKey>,
    /// How often `serve` runs the scoring job for every brand; `None`: never.
    pub scoring_interval: Option<Duration>,
    /// The campaign and delivery worker.
    pub worker: WorkerSettings,
    /// The message channels (`[senders]`, see docs/senders.md); secrets come from the
    /// environment when the worker builds them.
    pub senders: regulars_senders::SendersConfig,
    /// Where the POS APIs are (`[pos_api]`, see docs/pos.md).
    pub pos_api: regulars_pos::client::PosApiConfig,
    /// The rate limit of each API key and POS integration; `None`: no limit.
    pub rate_limit: Option<regulars_http::RateLimit>,
    /// When set, `/metrics` answers only `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
    /// How long a request waits for a database connection (or to open one) before it
    /// answers 503: during a database outage, callers get an answer, not a hang.
    pub database_timeout: Duration,
    /// Keys that delivery reports from the providers are checked with (environment only).
    pub report_keys: regulars_senders::ReportKeys,
    /// The public base URL customer links are made with (`https://…`).
    pub public_url: Option<String>,
    /// Whether dashboard cookies are marked `Secure` (served over HTTPS).
    pub secure_cookies: bool,
    /// How concurrent orders share commits (`[ingest]`).
    pub ingest: crate::ingest_settings::IngestSettings,
}

impl Settings {
    /// The server's keys (the current one and, during a rotation, the previous ones),
    /// when a current key is set.
    pub fn secret_keys(&self) -> Option<SecretKeys> {
        self.secret_key
            .clone()
            .map(|key| SecretKeys::new(key).with_previous(self.previous_secret_keys.clone()))
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            listen: DEFAULT_LISTEN.to_owned(),
            body_limit: regulars_http::DEFAULT_BODY_LIMIT,
            webhook_tolerance: Duration::from_secs(300),
            log_format: LogFormat::Text,
            shutdown_timeout: Duration::from_secs(30),
            secret_key: None,
            previous_secret_keys: Vec::new(),
            scoring_interval: Some(Duration::from_secs(24 * 3600)),
            worker: WorkerSettings::default(),
            senders: regulars_senders::SendersConfig::default(),
            pos_api: regulars_pos::client::PosApiConfig::default(),
            rate_limit: Some(regulars_http::RateLimit::DEFAULT),
            metrics_token: None,
            database_timeout: Duration::from_secs(5),
            report_keys: regulars_senders::ReportKeys::default(),
            public_url: None,
            secure_cookies: false,
            ingest: crate::ingest_settings::IngestSettings::default(),
        }
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, Error)]
pub enum SettingsError {
    /// The configuration file cannot be read.
    #[error("cannot read {path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The configuration file is not valid.
    #[error("{path} is not a valid configuration: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the key.
        message: String,
    },
    /// An environment variable is not valid.
    #[error("{name}: {message}")]
    Env {
        /// The variable.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl Settings {
    /// Loads the configuration: `file` when given (it must exist), otherwise
    /// `regulars.toml` in the working directory when there is one; then the environment
    /// as read by `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, SettingsError> {
        let mut settings = Settings::default();
        let path = match file {
            Some(path) => Some(path.to_path_buf()),
            None => {
                let default = PathBuf::from(DEFAULT_CONFIG_FILE);
                default.exists().then_some(default)
            }
        };
        if let Some(path) = path {
            let text = std::fs::read_to_string(&path).map_err(|error| SettingsError::Read {
                path: path.clone(),
                error,
            })?;
            settings.apply_file(&path, &text)?;
        }
        settings.apply_env(env)?;
        Ok(settings)
    }
}

fn hours(n: u64) -> Option<Duration> {
    (n > 0).then(|| Duration::from_secs(n.saturating_mul(3600)))
}
