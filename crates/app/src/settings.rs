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

/// How the worker (`regulars work`, or `serve` with `in_serve`) runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerSettings {
    /// `serve` also runs the worker (one process for small shops and the demo).
    pub in_serve: bool,
    /// How often active campaigns are planned; `None`: never.
    pub campaign_interval: Option<Duration>,
    /// How long a delivery claim lasts before another worker may take the message.
    pub lease: Duration,
    /// Attempts per channel before a temporary failure counts as permanent.
    pub max_attempts: u32,
    /// Messages sent at once.
    pub concurrency: usize,
    /// Delay before the first retry (doubled each time, with jitter).
    pub backoff: Duration,
    /// The longest delay between retries.
    pub max_backoff: Duration,
    /// How long the access log is kept before the worker prunes it; `None`: for good.
    pub access_log_retention: Option<Duration>,
    /// How often POS invoice lists (KiotViet FnB) are polled; `None`: never.
    pub pos_poll_interval: Option<Duration>,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            in_serve: false,
            campaign_interval: Some(Duration::from_secs(15 * 60)),
            lease: Duration::from_secs(120),
            max_attempts: 8,
            concurrency: 16,
            backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(3600),
            access_log_retention: retention_days(730),
            pos_poll_interval: Some(Duration::from_secs(5 * 60)),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkerFile {
    in_serve: Option<bool>,
    campaign_interval_minutes: Option<u64>,
    lease_seconds: Option<u64>,
    max_attempts: Option<u32>,
    concurrency: Option<usize>,
    backoff_seconds: Option<u64>,
    max_backoff_seconds: Option<u64>,
    access_log_retention_days: Option<u64>,
    pos_poll_interval_minutes: Option<u64>,
}

impl WorkerSettings {
    fn apply_file(&mut self, file: WorkerFile) -> Result<(), String> {
        if let Some(v) = file.in_serve {
            self.in_serve = v;
        }
        if let Some(v) = file.campaign_interval_minutes {
            self.campaign_interval = minutes(v);
        }
        if let Some(v) = file.lease_seconds {
            self.lease = lease(v)?;
        }
        if let Some(v) = file.max_attempts {
            self.max_attempts = attempts(v)?;
        }
        if let Some(v) = file.concurrency {
            self.concurrency = concurrency(v)?;
        }
        if let Some(v) = file.backoff_seconds {
            self.backoff = Duration::from_secs(v.max(1));
        }
        if let Some(v) = file.max_backoff_seconds {
            self.max_backoff = Duration::from_secs(v.max(1));
        }
        if let Some(v) = file.access_log_retention_days {
            self.access_log_retention = retention_days(v);
        }
        if let Some(v) = file.pos_poll_interval_minutes {
            self.pos_poll_interval = minutes(v);
        }
        Ok(())
    }
}

/// `n` days; `None` for 0 (kept for good).
fn retention_days(n: u64) -> Option<Duration> {
    (n > 0).then(|| Duration::from_secs(n.saturating_mul(24 * 3600)))
}

fn minutes(n: u64) -> Option<Duration> {
    (n > 0).then(|| Duration::from_secs(n.saturating_mul(60)))
}

fn lease(n: u64) -> Result<Duration, String> {
    if (1..=3600).contains(&n) {
        Ok(Duration::from_secs(n))
    } else {
        Err("lease_seconds must be 1 to 3600".to_owned())
    }
}

fn attempts(n: u32) -> Result<u32, String> {
    if (1..=100).contains(&n) {
        Ok(n)
    } else {
        Err("max_attempts must be 1 to 100".to_owned())
    }
}

fn concurrency(n: usize) -> Result<usize, String> {
    if (1..=1024).contains(&n) {
        Ok(n)
    } else {
        Err("concurrency must be 1 to 1024".to_owned())
    }
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<String>,
    listen: Option<String>,
    body_limit_bytes: Option<usize>,
    webhook_tolerance_seconds: Option<u64>,
    log_format: Option<LogFormat>,
    shutdown_timeout_seconds: Option<u64>,
    scoring_interval_hours: Option<u64>,
    worker: Option<WorkerFile>,
    senders: Option<regulars_senders::SendersConfig>,
    pos_api: Option<regulars_pos::client::PosApiConfig>,
    rate_limit_per_second: Option<u32>,
    rate_limit_burst: Option<u32>,
    database_timeout_seconds: Option<u64>,
    public_url: Option<String>,
    secure_cookies: Option<bool>,
    ingest: Option<crate::ingest_settings::IngestFile>,
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

    fn apply_file(&mut self, path: &Path, text: &str) -> Result<(), SettingsError> {
        let file_error = |message: String| SettingsError::File {
            path: path.to_path_buf(),
            message,
        };
        if let Ok(table) = text.parse::<toml::Table>()
            && table.contains_key("secret_key")
        {
            return Err(file_error(
                "secret_key must not be written in a file; set REGULARS_SECRET_KEY".to_owned(),
            ));
        }
        let file: FileSettings = toml::from_str(text).map_err(|e| file_error(e.to_string()))?;
        if let Some(v) = file.database_url {
            self.database_url = v;
        }
        if let Some(v) = file.listen {
            self.listen = v;
        }
        if let Some(v) = file.body_limit_bytes {
            self.body_limit = check_body_limit(v).map_err(file_error)?;
        }
        if let Some(v) = file.webhook_tolerance_seconds {
            self.webhook_tolerance = Duration::from_secs(v);
        }
        if let Some(v) = file.log_format {
            self.log_format = v;
        }
        if let Some(v) = file.shutdown_timeout_seconds {
            self.shutdown_timeout = Duration::from_secs(v);
        }
        if let Some(v) = file.scoring_interval_hours {
            self.scoring_interval = hours(v);
        }
        if let Some(senders) = file.senders {
            self.senders = senders;
        }
        if let Some(pos_api) = file.pos_api {
            self.pos_api = pos_api;
        }
        if let Some(worker) = file.worker {
            self.worker
                .apply_file(worker)
                .map_err(|m| file_error(format!("[worker] {m}")))?;
        }
        self.set_rate_limit(file.rate_limit_per_second, file.rate_limit_burst);
        if let Some(v) = file.database_timeout_seconds {
            self.database_timeout = Duration::from_secs(v.max(1));
        }
        if let Some(v) = file.public_url {
            self.public_url = Some(v);
        }
        if let Some(v) = file.secure_cookies {
            self.secure_cookies = v;
        }
        if let Some(ingest) = file.ingest {
            self.ingest
                .apply_file(ingest)
                .map_err(|m| file_error(format!("[ingest] {m}")))?;
        }
        Ok(())
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), SettingsError> {
        if let Some(v) = env("DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = env("REGULARS_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = env("REGULARS_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = env("REGULARS_BODY_LIMIT_BYTES") {
            let n = number("REGULARS_BODY_LIMIT_BYTES", &v)?;
            self.body_limit = check_body_limit(n).map_err(|message| SettingsError::Env {
                name: "REGULARS_BODY_LIMIT_BYTES",
                message,
            })?;
        }
        if let Some(v) = env("REGULARS_WEBHOOK_TOLERANCE_SECONDS") {
            let n = number("REGULARS_WEBHOOK_TOLERANCE_SECONDS", &v)?;
            self.webhook_tolerance = Duration::from_secs(n as u64);
        }
        if let Some(v) = env("REGULARS_LOG_FORMAT") {
            self.log_format = match v.as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => {
                    return Err(SettingsError::Env {
                        name: "REGULARS_LOG_FORMAT",
                        message: "must be text or json".to_owned(),
                    });
                }
            };
        }
        if let Some(v) = env("REGULARS_SHUTDOWN_TIMEOUT_SECONDS") {
            let n = number("REGULARS_SHUTDOWN_TIMEOUT_SECONDS", &v)?;
            self.shutdown_timeout = Duration::from_secs(n as u64);
        }
        if let Some(v) = env("REGULARS_SCORING_INTERVAL_HOURS") {
            let n = number("REGULARS_SCORING_INTERVAL_HOURS", &v)?;
            self.scoring_interval = hours(n as u64);
        }
        let env_error =
            |name: &'static str| move |message: String| SettingsError::Env { name, message };
        if let Some(v) = env("REGULARS_WORKER_IN_SERVE") {
            self.worker.in_serve = match v.trim() {
                "1" | "true" => true,
                "0" | "false" => false,
                _ => {
                    return Err(SettingsError::Env {
                        name: "REGULARS_WORKER_IN_SERVE",
                        message: "must be true or false".to_owned(),
                    });
                }
            };
        }
        if let Some(v) = env("REGULARS_PUBLIC_URL") {
            self.public_url = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = env("REGULARS_SECURE_COOKIES") {
            self.secure_cookies = match v.trim() {
                "1" | "true" => true,
                "0" | "false" | "" => false,
                _ => {
                    return Err(SettingsError::Env {
                        name: "REGULARS_SECURE_COOKIES",
                        message: "must be true or false".to_owned(),
                    });
                }
            };
        }
        if let Some(v) = env("REGULARS_CAMPAIGN_INTERVAL_MINUTES") {
            let n = number("REGULARS_CAMPAIGN_INTERVAL_MINUTES", &v)?;
            self.worker.campaign_interval = minutes(n as u64);
        }
        if let Some(v) = env("REGULARS_POS_POLL_INTERVAL_MINUTES") {
            let n = number("REGULARS_POS_POLL_INTERVAL_MINUTES", &v)?;
            self.worker.pos_poll_interval = minutes(n as u64);
        }
        if let Some(v) = env("REGULARS_DELIVERY_LEASE_SECONDS") {
            let n = number("REGULARS_DELIVERY_LEASE_SECONDS", &v)?;
            self.worker.lease =
                lease(n as u64).map_err(env_error("REGULARS_DELIVERY_LEASE_SECONDS"))?;
        }
        if let Some(v) = env("REGULARS_DELIVERY_MAX_ATTEMPTS") {
            let n = number("REGULARS_DELIVERY_MAX_ATTEMPTS", &v)?;
            self.worker.max_attempts = attempts(u32::try_from(n).unwrap_or(u32::MAX))
                .map_err(env_error("REGULARS_DELIVERY_MAX_ATTEMPTS"))?;
        }
        if let Some(v) = env("REGULARS_DELIVERY_CONCURRENCY") {
            let n = number("REGULARS_DELIVERY_CONCURRENCY", &v)?;
            self.worker.concurrency =
                concurrency(n).map_err(env_error("REGULARS_DELIVERY_CONCURRENCY"))?;
        }
        if let Some(v) = env("REGULARS_DELIVERY_BACKOFF_SECONDS") {
            let n = number("REGULARS_DELIVERY_BACKOFF_SECONDS", &v)?;
            self.worker.backoff = Duration::from_secs((n as u64).max(1));
        }
        if let Some(v) = env("REGULARS_DELIVERY_MAX_BACKOFF_SECONDS") {
            let n = number("REGULARS_DELIVERY_MAX_BACKOFF_SECONDS", &v)?;
            self.worker.max_backoff = Duration::from_secs((n as u64).max(1));
        }
        if let Some(v) = env("REGULARS_ACCESS_LOG_RETENTION_DAYS") {
            let n = number("REGULARS_ACCESS_LOG_RETENTION_DAYS", &v)?;
            self.worker.access_log_retention = retention_days(n as u64);
        }
        let per_second = match env("REGULARS_RATE_LIMIT_PER_SECOND") {
            Some(v) => Some(small_number("REGULARS_RATE_LIMIT_PER_SECOND", &v)?),
            None => None,
        };
        let burst = match env("REGULARS_RATE_LIMIT_BURST") {
            Some(v) => Some(small_number("REGULARS_RATE_LIMIT_BURST", &v)?),
            None => None,
        };
        self.set_rate_limit(per_second, burst);
        if let Some(v) = env("REGULARS_DATABASE_TIMEOUT_SECONDS") {
            let n = number("REGULARS_DATABASE_TIMEOUT_SECONDS", &v)?;
            self.database_timeout = Duration::from_secs((n as u64).max(1));
        }
        if let Some(v) = env("REGULARS_METRICS_TOKEN") {
            let v = v.trim().to_owned();
            self.metrics_token = (!v.is_empty()).then_some(v);
        }
        self.report_keys = regulars_senders::ReportKeys::from_env(&env);
        self.ingest
            .apply_env(&env)
            .map_err(|(name, message)| SettingsError::Env { name, message })?;
        if let Some(v) = env("REGULARS_SECRET_KEY") {
            self.secret_key =
                Some(
                    SecretKey::from_hex(&v).map_err(|message| SettingsError::Env {
                        name: "REGULARS_SECRET_KEY",
                        message,
                    })?,
                );
        }
        if let Some(v) = env("REGULARS_PREVIOUS_SECRET_KEYS") {
            let name = "REGULARS_PREVIOUS_SECRET_KEYS";
            self.previous_secret_keys = v
                .split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(|k| {
                    SecretKey::from_hex(k).map_err(|message| SettingsError::Env {
                        name,
                        message: format!("each comma-separated key {message}"),
                    })
                })
                .collect::<Result<_, _>>()?;
            if self.secret_key.is_none() && !self.previous_secret_keys.is_empty() {
                return Err(SettingsError::Env {
                    name,
                    message: "previous keys need the current one in REGULARS_SECRET_KEY".into(),
                });
            }
        }
        Ok(())
    }
}

impl Settings {
    /// Applies a rate given as requests a second (0: off) and a burst (0: the default
    /// burst, or the rate when that is larger); either may be left as it was.
    fn set_rate_limit(&mut self, per_second: Option<u32>, burst: Option<u32>) {
        if per_second.is_none() && burst.is_none() {
            return;
        }
        let current = self.rate_limit;
        let per_second = match per_second {
            Some(n) => n,
            None => current.map_or(regulars_http::RateLimit::DEFAULT.per_second, |l| {
                l.per_second
            }),
        };
        if per_second == 0 {
            self.rate_limit = None;
            return;
        }
        let burst = match burst {
            Some(n) if n > 0 => n,
            _ => current
                .map_or(regulars_http::RateLimit::DEFAULT.burst, |l| l.burst)
                .max(per_second),
        };
        self.rate_limit = Some(regulars_http::RateLimit { per_second, burst });
    }
}

fn small_number(name: &'static str, text: &str) -> Result<u32, SettingsError> {
    text.trim().parse().map_err(|_| SettingsError::Env {
        name,
        message: format!("{text:?} is not a whole number below 4294967296"),
    })
}

fn hours(n: u64) -> Option<Duration> {
    (n > 0).then(|| Duration::from_secs(n.saturating_mul(3600)))
}

fn number(name: &'static str, text: &str) -> Result<usize, SettingsError> {
    text.trim().parse().map_err(|_| SettingsError::Env {
        name,
        message: format!("{text:?} is not a whole number"),
    })
}

fn check_body_limit(n: usize) -> Result<usize, String> {
    if (1024..=64 * 1024 * 1024).contains(&n) {
        Ok(n)
    } else {
        Err("body_limit_bytes must be between 1024 and 67108864".to_owned())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn defaults_then_file_then_environment() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("regulars-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("regulars.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:9000\"\nbody_limit_bytes = 4096\n",
        )?;
        let s = Settings::load(Some(&path), env_of(&[]))?;
        assert_eq!(s.listen, "0.0.0.0:9000");
        assert_eq!(s.body_limit, 4096);
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        let s = Settings::load(
            Some(&path),
            env_of(&[
                ("REGULARS_LISTEN", "127.0.0.1:0"),
                ("DATABASE_URL", "postgres://a@b/c"),
                ("REGULARS_LOG_FORMAT", "json"),
            ]),
        )?;
        assert_eq!(s.listen, "127.0.0.1:0");
        assert_eq!(s.database_url, "postgres://a@b/c");
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(s.rate_limit, Some(regulars_http::RateLimit::DEFAULT));
        assert_eq!(s.metrics_token, None);
        std::fs::write(&path, "rate_limit_per_second = 5\nrate_limit_burst = 20\n")?;
        let s = Settings::load(Some(&path), env_of(&[]))?;
        let limit = regulars_http::RateLimit {
            per_second: 5,
            burst: 20,
        };
        assert_eq!(s.rate_limit, Some(limit));
        let s = Settings::load(
            Some(&path),
            env_of(&[
                ("REGULARS_RATE_LIMIT_BURST", "30"),
                ("REGULARS_METRICS_TOKEN", "scrape-me"),
            ]),
        )?;
        assert_eq!(
            s.rate_limit,
            Some(regulars_http::RateLimit {
                per_second: 5,
                burst: 30
            })
        );
        assert_eq!(s.metrics_token.as_deref(), Some("scrape-me"));
        let s = Settings::load(
            Some(&path),
            env_of(&[("REGULARS_RATE_LIMIT_PER_SECOND", "0")]),
        )?;
        assert_eq!(s.rate_limit, None, "0 turns the limit off");
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn link_host_and_cookie_security_come_from_file_or_environment()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("regulars-web-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("regulars.toml");
        std::fs::write(
            &path,
            "public_url = \"https://a.example\"\nsecure_cookies = true\n",
        )?;
        let s = Settings::load(Some(&path), env_of(&[]))?;
        assert_eq!(s.public_url.as_deref(), Some("https://a.example"));
        assert!(s.secure_cookies);
        let s = Settings::load(
            Some(&path),
            env_of(&[
                ("REGULARS_PUBLIC_URL", "https://b.example"),
                ("REGULARS_SECURE_COOKIES", "false"),
            ]),
        )?;
        assert_eq!(s.public_url.as_deref(), Some("https://b.example"));
        assert!(!s.secure_cookies);
        let e = Settings::load(Some(&path), env_of(&[("REGULARS_SECURE_COOKIES", "maybe")]))
            .map(|_| ())
            .unwrap_err();
        assert!(e.to_string().contains("REGULARS_SECURE_COOKIES"), "{e}");
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn bad_settings_are_named() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("regulars-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("regulars.toml");
        std::fs::write(&path, "listn = \"x\"\n")?;
        let e = Settings::load(Some(&path), env_of(&[]))
            .map(|_| ())
            .unwrap_err();
        assert!(e.to_string().contains("listn"), "{e}");
        std::fs::write(&path, format!("secret_key = \"{}\"\n", "ab".repeat(32)))?;
        let e = Settings::load(Some(&path), env_of(&[]))
            .map(|_| ())
            .unwrap_err();
        assert!(e.to_string().contains("REGULARS_SECRET_KEY"), "{e}");
        let e = Settings::load(None, env_of(&[("REGULARS_SECRET_KEY", "abc")]))
            .map(|_| ())
            .unwrap_err();
        assert!(e.to_string().starts_with("REGULARS_SECRET_KEY"), "{e}");
        let e = Settings::load(None, env_of(&[("REGULARS_BODY_LIMIT_BYTES", "ten")]))
            .map(|_| ())
            .unwrap_err();
        assert!(e.to_string().contains("ten"), "{e}");
        let missing = dir.join("absent.toml");
        assert!(Settings::load(Some(&missing), env_of(&[])).is_err());
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn previous_secret_keys_come_from_the_environment_beside_the_current_one() {
        const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
        const BOTH: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb, cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
        let s = Settings::load(
            None,
            env_of(&[
                ("REGULARS_SECRET_KEY", A),
                ("REGULARS_PREVIOUS_SECRET_KEYS", BOTH),
            ]),
        )
        .map_err(|e| e.to_string());
        let s = s.as_ref().map_err(String::as_str);
        assert_eq!(s.map(|s| s.previous_secret_keys.len()), Ok(2));
        let s = s.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.secret_keys().map(|k| k.all().count()), Some(3));
        let e = Settings::load(None, env_of(&[("REGULARS_PREVIOUS_SECRET_KEYS", B)]))
            .map(|_| ())
            .unwrap_err();
        assert!(e.to_string().contains("REGULARS_SECRET_KEY"), "{e}");
        let e = Settings::load(
            None,
            env_of(&[
                ("REGULARS_SECRET_KEY", A),
                ("REGULARS_PREVIOUS_SECRET_KEYS", "xyz"),
            ]),
        )
        .map(|_| ())
        .unwrap_err();
        assert!(
            e.to_string().starts_with("REGULARS_PREVIOUS_SECRET_KEYS"),
            "{e}"
        );
    }

    #[test]
    fn the_pos_poll_interval_comes_from_file_or_environment()
    -> Result<(), Box<dyn std::error::Error>> {
        assert_eq!(
            Settings::default().worker.pos_poll_interval,
            Some(Duration::from_secs(300))
        );
        let dir = std::env::temp_dir().join(format!("regulars-poll-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("regulars.toml");
        std::fs::write(&path, "[worker]\npos_poll_interval_minutes = 2\n")?;
        let s = Settings::load(Some(&path), env_of(&[]))?;
        assert_eq!(s.worker.pos_poll_interval, Some(Duration::from_secs(120)));
        let env = env_of(&[("REGULARS_POS_POLL_INTERVAL_MINUTES", "0")]);
        assert_eq!(
            Settings::load(Some(&path), env)?.worker.pos_poll_interval,
            None
        );
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
