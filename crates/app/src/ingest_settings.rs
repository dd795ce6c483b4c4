//! `[ingest]`: how concurrent orders share transactions and durable commits.
//!
//! | setting | file key | environment | default |
//! |---|---|---|---|
//! | group concurrent orders into one commit | `[ingest] group_commit` | `REGULARS_INGEST_GROUP_COMMIT` | on for SQLite, off for PostgreSQL |
//! | wait for more orders of a group (ms) | `[ingest] group_window_ms` | `REGULARS_INGEST_GROUP_WINDOW_MS` | 2 |
//! | most orders in one group | `[ingest] max_group` | `REGULARS_INGEST_MAX_GROUP` | 64 |
//! | groups committed in parallel (PostgreSQL; SQLite: 1) | `[ingest] group_writers` | `REGULARS_INGEST_GROUP_WRITERS` | 4 |

use regulars_service::GroupCommit;
use serde::Deserialize;
use std::time::Duration;

/// How orders are ingested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestSettings {
    /// Concurrent orders share one transaction and one commit; `false`: one each;
    /// `None`: as suits the database (see [`IngestSettings::group_commit`]).
    pub group_commit: Option<bool>,
    /// How long a writer waits for more orders while groups form.
    pub window: Duration,
    /// The most orders in one transaction.
    pub max_group: usize,
    /// Groups committed in parallel on PostgreSQL (SQLite has one writer).
    pub writers: usize,
}

impl Default for IngestSettings {
    fn default() -> Self {
        IngestSettings {
            group_commit: None,
            window: regulars_service::GROUP_WINDOW,
            max_group: regulars_service::MAX_GROUP,
            writers: 4,
        }
    }
}

/// `[ingest]` as written in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IngestFile {
    group_commit: Option<bool>,
    group_window_ms: Option<u64>,
    max_group: Option<usize>,
    group_writers: Option<usize>,
}

impl IngestSettings {
    /// Group commit as the service runs it on this database; `None` when off.
    ///
    /// Unless set, it is on for SQLite, whose one writer would otherwise wait for the
    /// disk once an order, and off for PostgreSQL, which already flushes the commits of
    /// concurrent transactions together: there, 16 clients' orders each in its own
    /// transaction on its own connection went twice as fast as the same orders run a
    /// group at a time by 4 writers, with a third of the p99 latency (`bench/RESULTS.md`).
    pub fn group_commit(&self, postgres: bool) -> Option<GroupCommit> {
        self.group_commit
            .unwrap_or(!postgres)
            .then_some(GroupCommit {
                window: self.window,
                max_group: self.max_group,
                writers: if postgres { self.writers } else { 1 },
            })
    }

    pub(crate) fn apply_file(&mut self, file: IngestFile) -> Result<(), String> {
        if let Some(v) = file.group_commit {
            self.group_commit = Some(v);
        }
        if let Some(v) = file.group_window_ms {
            self.window = window(v)?;
        }
        if let Some(v) = file.max_group {
            self.max_group = max_group(v)?;
        }
        if let Some(v) = file.group_writers {
            self.writers = writers(v)?;
        }
        Ok(())
    }

    /// Reads the `REGULARS_INGEST_*` variables; the error names the variable.
    pub(crate) fn apply_env(
        &mut self,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<(), (&'static str, String)> {
        let read = |name: &'static str| env(name).map(|v| (name, v.trim().to_owned()));
        let number = |name: &'static str, v: &str| {
            v.parse::<u64>()
                .map_err(|_| (name, "must be a whole number".to_owned()))
        };
        if let Some((name, v)) = read("REGULARS_INGEST_GROUP_COMMIT") {
            self.group_commit = match v.as_str() {
                "1" | "true" => Some(true),
                "0" | "false" => Some(false),
                _ => return Err((name, "must be true or false".to_owned())),
            };
        }
        if let Some((name, v)) = read("REGULARS_INGEST_GROUP_WINDOW_MS") {
            self.window = window(number(name, &v)?).map_err(|m| (name, m))?;
        }
        if let Some((name, v)) = read("REGULARS_INGEST_MAX_GROUP") {
            let n = usize::try_from(number(name, &v)?).unwrap_or(usize::MAX);
            self.max_group = max_group(n).map_err(|m| (name, m))?;
        }
        if let Some((name, v)) = read("REGULARS_INGEST_GROUP_WRITERS") {
            let n = usize::try_from(number(name, &v)?).unwrap_or(usize::MAX);
            self.writers = writers(n).map_err(|m| (name, m))?;
        }
        Ok(())
    }
}

fn window(ms: u64) -> Result<Duration, String> {
    if ms <= 100 {
        Ok(Duration::from_millis(ms))
    } else {
        Err("group_window_ms must be 0 to 100".to_owned())
    }
}

fn max_group(n: usize) -> Result<usize, String> {
    if (1..=1000).contains(&n) {
        Ok(n)
    } else {
        Err("max_group must be 1 to 1000".to_owned())
    }
}

fn writers(n: usize) -> Result<usize, String> {
    if (1..=64).contains(&n) {
        Ok(n)
    } else {
        Err("group_writers must be 1 to 64".to_owned())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defaults_group_on_sqlite_only_with_one_writer() {
        let settings = IngestSettings::default();
        assert_eq!(settings.group_commit(false).unwrap().writers, 1);
        assert_eq!(settings.group_commit(true), None);
        let on = IngestSettings {
            group_commit: Some(true),
            ..settings
        };
        assert_eq!(on.group_commit(true).unwrap().writers, 4);
        assert_eq!(on.group_commit(false).unwrap().writers, 1);
        let off = IngestSettings {
            group_commit: Some(false),
            ..settings
        };
        assert_eq!(off.group_commit(false), None);
    }

    #[test]
    fn the_file_and_the_environment_set_it_and_bad_values_are_named() {
        let mut settings = IngestSettings::default();
        let file: IngestFile =
            toml::from_str("group_commit = false\ngroup_window_ms = 5\nmax_group = 10").unwrap();
        settings.apply_file(file).unwrap();
        assert_eq!(settings.group_commit, Some(false));
        assert_eq!(settings.window, Duration::from_millis(5));
        assert_eq!(settings.max_group, 10);

        let env = |name: &str| (name == "REGULARS_INGEST_GROUP_COMMIT").then(|| "true".to_owned());
        settings.apply_env(&env).unwrap();
        assert_eq!(settings.group_commit, Some(true));

        let bad = |name: &str| (name == "REGULARS_INGEST_MAX_GROUP").then(|| "0".to_owned());
        let (name, message) = settings.apply_env(&bad).unwrap_err();
        assert_eq!(name, "REGULARS_INGEST_MAX_GROUP");
        assert!(message.contains("max_group"));
        let file: IngestFile = toml::from_str("group_window_ms = 1000").unwrap();
        assert!(
            settings
                .apply_file(file)
                .unwrap_err()
                .contains("group_window_ms")
        );
    }
}
