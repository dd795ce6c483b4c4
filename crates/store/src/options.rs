//! Connection settings.

use std::time::Duration;

/// How [`Store::connect`](crate::Store::connect) sets up its connection pool.
///
/// The defaults suit a small production deployment and tests alike:
///
/// ```
/// use regulars_store::StoreOptions;
/// use std::time::Duration;
///
/// let options = StoreOptions::default()
///     .max_connections(32)
///     .acquire_timeout(Duration::from_secs(5));
/// assert_eq!(options.get_max_connections(), 32);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    max_connections: u32,
    acquire_timeout: Duration,
    connect_timeout: Duration,
    busy_timeout: Duration,
    migrate: bool,
    sqlite_sync: SqliteSync,
}

/// SQLite only: when a commit reaches the disk (`PRAGMA synchronous`, in WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqliteSync {
    /// Every commit is flushed to the disk before it is acknowledged: a power cut loses
    /// nothing the POS was told is stored. The default.
    #[default]
    Full,
    /// Commits are flushed at checkpoints only: faster, and a process crash loses
    /// nothing, but a power cut or an operating-system crash may roll back the last
    /// acknowledged commits. Only by explicit choice.
    Normal,
}

impl SqliteSync {
    /// Reads `full` or `normal` (any case), the values of the URL's `synchronous=`.
    pub fn parse(text: &str) -> Option<SqliteSync> {
        match text.to_ascii_lowercase().as_str() {
            "full" => Some(SqliteSync::Full),
            "normal" => Some(SqliteSync::Normal),
            _ => None,
        }
    }
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            busy_timeout: Duration::from_secs(5),
            migrate: true,
            sqlite_sync: SqliteSync::Full,
        }
    }
}

impl StoreOptions {
    /// Connections in the PostgreSQL pool (default 16): the number of transactions that
    /// can run at once. SQLite always uses one connection (see [`crate::Store`]).
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// How long [`UnitOfWork::begin`](regulars_ports::UnitOfWork::begin) waits for a free
    /// connection before failing with `StoreError::Unavailable` (default 30 s). On SQLite
    /// this is how long a transaction waits for the one before it to finish.
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// How long opening a connection may take (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// SQLite only: how long a statement waits for another process's write lock on the
    /// file before failing (`PRAGMA busy_timeout`, default 5 s).
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// SQLite only: `PRAGMA synchronous` (default [`SqliteSync::Full`]). A database URL's
    /// own `synchronous=full|normal` parameter wins over this.
    pub fn sqlite_sync(mut self, sync: SqliteSync) -> Self {
        self.sqlite_sync = sync;
        self
    }

    /// Whether [`Store::connect`](crate::Store::connect) applies pending migrations
    /// (default `true`).
    pub fn migrate(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }

    /// The PostgreSQL pool size.
    pub fn get_max_connections(&self) -> u32 {
        self.max_connections
    }

    /// The pool acquire timeout.
    pub fn get_acquire_timeout(&self) -> Duration {
        self.acquire_timeout
    }

    /// The connect timeout.
    pub fn get_connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The SQLite busy timeout.
    pub fn get_busy_timeout(&self) -> Duration {
        self.busy_timeout
    }

    /// The SQLite `synchronous` setting.
    pub fn get_sqlite_sync(&self) -> SqliteSync {
        self.sqlite_sync
    }

    /// Whether connecting migrates.
    pub fn get_migrate(&self) -> bool {
        self.migrate
    }
}
