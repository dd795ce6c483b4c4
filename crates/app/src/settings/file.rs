//! Reading `regulars.toml` over the defaults.

use super::limits::check_body_limit;
use super::worker::WorkerFile;
use super::{LogFormat, Settings, SettingsError, hours};
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

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
    pub(super) fn apply_file(&mut self, path: &Path, text: &str) -> Result<(), SettingsError> {
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
}
