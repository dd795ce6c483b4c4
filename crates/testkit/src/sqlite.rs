//! Temporary SQLite database files.

use std::{
    fs,
    path::{Path, PathBuf},
    sync::Once,
};

use crate::{TestkitError, os};

/// A path for a fresh SQLite database, removed (with its `-wal`, `-shm` and `-journal`
/// companions) when dropped.
///
/// The file lives alone in a scratch directory `regulars-sqlite-<pid>-<n>` under
/// [`std::env::temp_dir`], and the whole directory is removed, so whatever files SQLite
/// adds next to the database go with it. Nothing is created inside: SQLite creates the
/// database on first connection through [`url`](Self::url).
///
/// ```
/// let db = regulars_testkit::SqliteFile::new()?;
/// assert!(db.url().starts_with("sqlite://"));
/// assert!(db.url().ends_with("?mode=rwc"));
/// # Ok::<(), regulars_testkit::TestkitError>(())
/// ```
#[derive(Debug)]
pub struct SqliteFile {
    dir: PathBuf,
    path: PathBuf,
}

impl SqliteFile {
    /// Reserves a fresh path. The first call in a process also removes leftovers of
    /// processes that are gone.
    pub fn new() -> Result<Self, TestkitError> {
        static PRUNED: Once = Once::new();
        PRUNED.call_once(|| os::prune_stale_scratch_dirs("sqlite", |_| {}));
        let dir = os::create_scratch_dir("sqlite")?;
        let path = dir.join("test.db");
        Ok(Self { dir, path })
    }

    /// The database file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `sqlite://{path}?mode=rwc`: read-write, created if missing (sqlx / SeaORM form).
    pub fn url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.path.display())
    }
}

impl Drop for SqliteFile {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}
