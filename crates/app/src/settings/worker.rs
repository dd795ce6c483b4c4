//! The worker's section (`[worker]`): planning campaigns, polling POS invoice lists and
//! delivering the outbox.

use serde::Deserialize;
use std::time::Duration;

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
pub(super) struct WorkerFile {
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
    pub(super) fn apply_file(&mut self, file: WorkerFile) -> Result<(), String> {
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
pub(super) fn retention_days(n: u64) -> Option<Duration> {
    (n > 0).then(|| Duration::from_secs(n.saturating_mul(24 * 3600)))
}

pub(super) fn minutes(n: u64) -> Option<Duration> {
    (n > 0).then(|| Duration::from_secs(n.saturating_mul(60)))
}

pub(super) fn lease(n: u64) -> Result<Duration, String> {
    if (1..=3600).contains(&n) {
        Ok(Duration::from_secs(n))
    } else {
        Err("lease_seconds must be 1 to 3600".to_owned())
    }
}

pub(super) fn attempts(n: u32) -> Result<u32, String> {
    if (1..=100).contains(&n) {
        Ok(n)
    } else {
        Err("max_attempts must be 1 to 100".to_owned())
    }
}

pub(super) fn concurrency(n: usize) -> Result<usize, String> {
    if (1..=1024).contains(&n) {
        Ok(n)
    } else {
        Err("concurrency must be 1 to 1024".to_owned())
    }
}
