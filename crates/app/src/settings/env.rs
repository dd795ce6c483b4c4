//! Reading the `REGULARS_*` environment variables (and `DATABASE_URL`) over the
//! defaults and the file: one function per section, applied in the order the sections
//! are listed in the settings table.

use super::limits::check_body_limit;
use super::worker::{attempts, concurrency, lease, minutes, retention_days};
use super::{LogFormat, Settings, SettingsError, WorkerSettings, hours};
use regulars_service::SecretKey;
use std::time::Duration;

impl Settings {
    pub(super) fn apply_env(
        &mut self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(), SettingsError> {
        self.apply_server_env(&env)?;
        self.apply_link_env(&env)?;
        self.worker.apply_env(&env)?;
        self.apply_limit_env(&env)?;
        self.apply_key_env(&env)
    }

    /// The database, where and how `serve` runs, its logs and its scoring job.
    fn apply_server_env(
        &mut self,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<(), SettingsError> {
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
        Ok(())
    }

    /// Customer links and dashboard cookies.
    fn apply_link_env(
        &mut self,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<(), SettingsError> {
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
        Ok(())
    }

    /// Rate limits, the database wait, the metrics token and group commit.
    fn apply_limit_env(
        &mut self,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<(), SettingsError> {
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
        self.ingest
            .apply_env(env)
            .map_err(|(name, message)| SettingsError::Env { name, message })?;
        Ok(())
    }

    /// The providers' report keys and the server's keys (current and previous).
    fn apply_key_env(
        &mut self,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<(), SettingsError> {
        self.report_keys = regulars_senders::ReportKeys::from_env(env);
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

impl WorkerSettings {
    /// Campaign planning, POS polling, delivery and the access log's retention.
    fn apply_env(&mut self, env: &impl Fn(&str) -> Option<String>) -> Result<(), SettingsError> {
        let env_error =
            |name: &'static str| move |message: String| SettingsError::Env { name, message };
        if let Some(v) = env("REGULARS_CAMPAIGN_INTERVAL_MINUTES") {
            let n = number("REGULARS_CAMPAIGN_INTERVAL_MINUTES", &v)?;
            self.campaign_interval = minutes(n as u64);
        }
        if let Some(v) = env("REGULARS_POS_POLL_INTERVAL_MINUTES") {
            let n = number("REGULARS_POS_POLL_INTERVAL_MINUTES", &v)?;
            self.pos_poll_interval = minutes(n as u64);
        }
        if let Some(v) = env("REGULARS_DELIVERY_LEASE_SECONDS") {
            let n = number("REGULARS_DELIVERY_LEASE_SECONDS", &v)?;
            self.lease = lease(n as u64).map_err(env_error("REGULARS_DELIVERY_LEASE_SECONDS"))?;
        }
        if let Some(v) = env("REGULARS_DELIVERY_MAX_ATTEMPTS") {
            let n = number("REGULARS_DELIVERY_MAX_ATTEMPTS", &v)?;
            self.max_attempts = attempts(u32::try_from(n).unwrap_or(u32::MAX))
                .map_err(env_error("REGULARS_DELIVERY_MAX_ATTEMPTS"))?;
        }
        if let Some(v) = env("REGULARS_DELIVERY_CONCURRENCY") {
            let n = number("REGULARS_DELIVERY_CONCURRENCY", &v)?;
            self.concurrency =
                concurrency(n).map_err(env_error("REGULARS_DELIVERY_CONCURRENCY"))?;
        }
        if let Some(v) = env("REGULARS_DELIVERY_BACKOFF_SECONDS") {
            let n = number("REGULARS_DELIVERY_BACKOFF_SECONDS", &v)?;
            self.backoff = Duration::from_secs((n as u64).max(1));
        }
        if let Some(v) = env("REGULARS_DELIVERY_MAX_BACKOFF_SECONDS") {
            let n = number("REGULARS_DELIVERY_MAX_BACKOFF_SECONDS", &v)?;
            self.max_backoff = Duration::from_secs((n as u64).max(1));
        }
        if let Some(v) = env("REGULARS_ACCESS_LOG_RETENTION_DAYS") {
            let n = number("REGULARS_ACCESS_LOG_RETENTION_DAYS", &v)?;
            self.access_log_retention = retention_days(n as u64);
        }
        Ok(())
    }
}

fn small_number(name: &'static str, text: &str) -> Result<u32, SettingsError> {
    text.trim().parse().map_err(|_| SettingsError::Env {
        name,
        message: format!("{text:?} is not a whole number below 4294967296"),
    })
}

fn number(name: &'static str, text: &str) -> Result<usize, SettingsError> {
    text.trim().parse().map_err(|_| SettingsError::Env {
        name,
        message: format!("{text:?} is not a whole number"),
    })
}
