//! Finding the PostgreSQL installation whose programs run the throwaway clusters.

use std::{
    env, fs,
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

use crate::{TestkitError, os};

/// Overrides the search with an explicit bin directory.
pub(crate) const BINDIR_ENV: &str = "REGULARS_PG_BINDIR";

/// Where Debian and Ubuntu install each major version side by side.
const DEBIAN_VERSIONS_DIR: &str = "/usr/lib/postgresql";

/// One place to look for a bin directory.
type Search = fn() -> Option<PathBuf>;

/// The programs a bin directory must hold to run a cluster.
const SERVER_PROGRAMS: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

/// The bin directory of the PostgreSQL installation to use, found once per process.
///
/// In order: `$REGULARS_PG_BINDIR` (and nothing else when it is set), `pg_config
/// --bindir`, the newest `/usr/lib/postgresql/*/bin`, then `initdb` on `PATH` with
/// symlinks resolved. `pg_config` alone is not trusted: on Debian it comes with the
/// client library and may name a version whose server is not installed.
pub(crate) fn bindir() -> Result<&'static Path, TestkitError> {
    static BINDIR: OnceLock<Result<PathBuf, TestkitError>> = OnceLock::new();
    BINDIR
        .get_or_init(locate)
        .as_ref()
        .map(PathBuf::as_path)
        .map_err(Clone::clone)
}

fn locate() -> Result<PathBuf, TestkitError> {
    if let Some(dir) = env::var_os(BINDIR_ENV) {
        let dir = PathBuf::from(dir);
        return if holds_server_programs(&dir) {
            Ok(dir)
        } else {
            Err(TestkitError::PgNotInstalled {
                searched: vec![format!("${BINDIR_ENV}={}", dir.display())],
            })
        };
    }
    let mut searched = Vec::new();
    let candidates: [(&str, Search); 3] = [
        ("pg_config --bindir", from_pg_config),
        ("newest /usr/lib/postgresql/*/bin", newest_debian_version),
        ("initdb on PATH", from_path),
    ];
    for (label, find) in candidates {
        match find() {
            Some(dir) if holds_server_programs(&dir) => return Ok(dir),
            Some(dir) => searched.push(format!("{label} ({})", dir.display())),
            None => searched.push(label.to_owned()),
        }
    }
    Err(TestkitError::PgNotInstalled { searched })
}

fn holds_server_programs(dir: &Path) -> bool {
    SERVER_PROGRAMS.iter().all(|name| dir.join(name).is_file())
}

fn from_pg_config() -> Option<PathBuf> {
    let out = Command::new("pg_config").arg("--bindir").output().ok()?;
    let dir = String::from_utf8(out.stdout).ok()?;
    let dir = dir.trim();
    (out.status.success() && !dir.is_empty()).then(|| PathBuf::from(dir))
}

fn newest_debian_version() -> Option<PathBuf> {
    let versions = fs::read_dir(DEBIAN_VERSIONS_DIR)
        .ok()?
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok());
    let newest = newest_version(versions)?;
    Some(Path::new(DEBIAN_VERSIONS_DIR).join(newest).join("bin"))
}

/// The highest of version-named directories ("9.6", "15", "17"), compared numerically.
pub(crate) fn newest_version(names: impl IntoIterator<Item = String>) -> Option<String> {
    names
        .into_iter()
        .filter_map(|name| {
            let key: Option<Vec<u32>> = name.split('.').map(|part| part.parse().ok()).collect();
            key.map(|key| (key, name))
        })
        .max()
        .map(|(_, name)| name)
}

fn from_path() -> Option<PathBuf> {
    // Distributions often link single programs into /usr/bin or /usr/local/bin; the
    // directory they point into holds the whole installation.
    let initdb = os::find_in_path("initdb")?;
    let initdb = fs::canonicalize(&initdb).unwrap_or(initdb);
    initdb.parent().map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_version_compares_numerically() {
        let names = ["9.6", "15", "10", "17", "lost+found"].map(String::from);
        assert_eq!(newest_version(names), Some("17".to_owned()));
        assert_eq!(
            newest_version(["9.6", "9.10"].map(String::from)),
            Some("9.10".into())
        );
        assert_eq!(newest_version(Vec::new()), None);
    }
}
