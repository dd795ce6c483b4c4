//! The store: a connection pool, its migrations, and the unit of work.

use crate::contact::ContactKeys;
use crate::error::db_error;
use crate::migration::Migrator;
use crate::tx::StoreTransaction;
use crate::{SqliteSync, StoreOptions, url};
use async_trait::async_trait;
use regulars_ports::{StoreError, Transaction, UnitOfWork};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Key of the PostgreSQL advisory lock held while migrating, so that several processes
/// starting at once apply each migration once (the bytes of "regulars").
const MIGRATION_LOCK_KEY: i64 = 0x7265_6775_6c61_7273;

/// SQLite's page cache on the store's one connection, in KiB (a negative `cache_size`):
/// 64 MiB instead of SQLite's 2 MiB. The connection lives as long as the process, so
/// pages read once stay at hand instead of being read again from the file for every
/// statement that passes them (an import of 20,000 to 100,000 orders ran 7-13 % faster).
/// It grows only as pages are read.
const SQLITE_CACHE: &str = "-65536";

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// An embedded SQLite file (or in-memory database).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A connection pool to the Regulars database; begins the transactions use cases run in.
///
/// Cheap to clone: clones share the pool.
///
/// # Concurrency
///
/// * **SQLite** has a single writer per file. The pool holds exactly **one** connection,
///   and a transaction keeps it from `begin` to `commit`/`rollback`, so transactions of
///   this process run one after another; [`StoreOptions::acquire_timeout`] bounds the wait.
///   Transactions begin with `BEGIN IMMEDIATE`, so they take the file's write lock at once
///   and wait (up to [`StoreOptions::busy_timeout`]) for another process holding it, rather
///   than failing halfway. The file is in WAL mode with `synchronous=FULL` (every
///   acknowledged commit is on the disk; `NORMAL` only when asked for, see
///   [`StoreOptions::sqlite_sync`]) and foreign keys enforced. A consequence: a task must not begin a second transaction while it
///   holds one; it would wait for itself until the acquire timeout.
/// * **PostgreSQL** runs up to [`StoreOptions::max_connections`] transactions at once at
///   `READ COMMITTED`. Repositories serialise what must be serialised with row locks:
///   [`LedgerRepo::lock_account`](regulars_ports::LedgerRepo::lock_account) takes
///   `SELECT … FOR UPDATE` on the account's balance row,
///   [`OrderRepo::lock_order_by_key`](regulars_ports::OrderRepo::lock_order_by_key) on the
///   refunded order's row, and voucher redemption is one conditional `UPDATE` that a
///   concurrent attempt re-checks after waiting for the row.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) db: DatabaseConnection,
    backend: Backend,
    contact_keys: Option<Arc<ContactKeys>>,
    /// Whether this keyless store has cleared the deployment's "all sealed" marker
    /// (once, before its first transaction): see [`Store::seal_plain_contacts`].
    plain_noted: Arc<AtomicBool>,
}

impl Store {
    /// Connects to `url` and, unless [`StoreOptions::migrate`] is off, applies pending
    /// migrations.
    ///
    /// `url` is `sqlite://path/to/file.db?mode=rwc` (`mode=rwc` creates the file),
    /// `sqlite::memory:`, or `postgres://user:password@host:port/database`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] for a URL of another kind, or a database that cannot be
    /// opened or reached; the message shows the URL without its password. Migration
    /// failures are reported as by [`Store::migrate`].
    pub async fn connect(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        let shown = url::redact(url);
        let backend = url::backend_of(url).ok_or_else(|| {
            StoreError::Unavailable(format!(
                "unsupported database URL {shown}: expected sqlite://… or postgres://…"
            ))
        })?;
        let (url, sync) = match backend {
            Backend::Sqlite => sqlite_sync(url, &shown, options.get_sqlite_sync())?,
            Backend::Postgres => (url.to_owned(), options.get_sqlite_sync()),
        };
        let url = url.as_str();
        let mut connect = ConnectOptions::new(url);
        connect
            .connect_timeout(options.get_connect_timeout())
            .acquire_timeout(options.get_acquire_timeout())
            .sqlx_logging(false);
        match backend {
            Backend::Sqlite => {
                let busy_timeout = options.get_busy_timeout();
                // One connection, never closed for idleness: SQLite has a single writer,
                // and an in-memory database lives exactly as long as its connection.
                connect
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .map_sqlx_sqlite_opts(move |sqlite| {
                        sqlite
                            .journal_mode(SqliteJournalMode::Wal)
                            .synchronous(match sync {
                                SqliteSync::Full => SqliteSynchronous::Full,
                                SqliteSync::Normal => SqliteSynchronous::Normal,
                            })
                            .foreign_keys(true)
                            .busy_timeout(busy_timeout)
                            .pragma("cache_size", SQLITE_CACHE)
                    });
            }
            Backend::Postgres => {
                connect.max_connections(options.get_max_connections());
            }
        }
        let db = Database::connect(connect).await.map_err(|e| {
            let mut message = e.to_string().replace(url, &shown);
            if let Some(password) = url::password(url) {
                message = message.replace(password, "***");
            }
            StoreError::Unavailable(format!("cannot connect to {shown}: {message}"))
        })?;
        let store = Store {
            db,
            backend,
            contact_keys: None,
            plain_noted: Arc::new(AtomicBool::new(false)),
        };
        if options.get_migrate() {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// Calls `observe` with the SQL of every statement this handle (and its clones made
    /// from now on) sends, transactions included, except `BEGIN` and `COMMIT`: how tests
    /// and benchmarks count the round trips of a use case.
    pub fn observe_statements(&mut self, observe: impl Fn(&str) + Send + Sync + 'static) {
        self.db
            .set_metric_callback(move |info| observe(&info.statement.sql));
    }

    /// Applies pending migrations; a no-op when the schema is current.
    ///
    /// All pending migrations apply in one transaction. On PostgreSQL it first takes an
    /// advisory lock, so processes starting together migrate one after another (and the
    /// later ones find nothing to do); on SQLite the write lock does the same.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the database cannot be reached, otherwise
    /// [`StoreError::Other`] with the failing migration's error.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let tx = self.begin_raw().await?;
        if self.backend == Backend::Postgres {
            tx.execute_unprepared(&format!(
                "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
            ))
            .await
            .map_err(|e| db_error("migration lock", e))?;
        }
        Migrator::up(&tx, None)
            .await
            .map_err(|e| db_error("migrate", e))?;
        tx.commit()
            .await
            .map_err(|e| db_error("commit migrations", e))
    }

    /// This store (sharing its pool) sealing contact data under `keys`: phones, emails
    /// and Zalo ids are written sealed and found through their blind index, and values
    /// sealed under any of the keys open (see [`ContactKeys`]). Without keys they are
    /// written plain; sealed values then do not open.
    #[must_use]
    pub fn with_contact_keys(&self, keys: ContactKeys) -> Store {
        Store {
            db: self.db.clone(),
            backend: self.backend,
            contact_keys: Some(Arc::new(keys)),
            plain_noted: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The keys contact data is sealed under, if any.
    pub(crate) fn contact_keys(&self) -> Option<&ContactKeys> {
        self.contact_keys.as_deref()
    }

    /// Which database this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks the database answers (for health checks).
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when it does not.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db
            .ping()
            .await
            .map_err(|e| StoreError::Unavailable(format!("ping: {e}")))
    }

    /// Closes the pool, waiting for connections in use to be returned.
    ///
    /// # Errors
    ///
    /// When the driver fails to close a connection cleanly.
    pub async fn close(self) -> Result<(), StoreError> {
        self.db.close().await.map_err(|e| db_error("close", e))
    }

    pub(crate) async fn begin_raw(&self) -> Result<DatabaseTransaction, StoreError> {
        let begun: Result<DatabaseTransaction, DbErr> = match self.backend {
            Backend::Sqlite => {
                self.db
                    .begin_with_options(TransactionOptions {
                        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                        ..TransactionOptions::default()
                    })
                    .await
            }
            Backend::Postgres => self.db.begin().await,
        };
        begun.map_err(|e| db_error("begin transaction", e))
    }
}

impl Store {
    /// A store without contact keys writes contact data plain: before its first
    /// transaction it clears the deployment's "all sealed" marker and counts itself, so
    /// that the next start with the key sweeps again (and a sweep running meanwhile does
    /// not set the marker). Once per store; a failure is retried by the next `begin`.
    async fn note_plain_writer(&self) -> Result<(), StoreError> {
        if self.plain_noted.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let noted = self
            .db
            .execute_unprepared(
                "UPDATE contact_sealing SET sealed = FALSE, plain_opens = plain_opens + 1 \
                 WHERE scope = 'contacts'",
            )
            .await;
        if let Err(e) = noted {
            self.plain_noted.store(false, Ordering::SeqCst);
            return Err(db_error("update contact_sealing (plain writer)", e));
        }
        Ok(())
    }
}

#[async_trait]
impl UnitOfWork for Store {
    async fn begin(&self) -> Result<Box<dyn Transaction>, StoreError> {
        if self.contact_keys.is_none() {
            self.note_plain_writer().await?;
        }
        Ok(Box::new(StoreTransaction::new(
            self.begin_raw().await?,
            self.contact_keys.clone(),
        )))
    }
}

/// The SQLite URL without the store's own `synchronous=` parameter, and the setting in
/// force: the URL's when it has one, otherwise `default`.
fn sqlite_sync(
    url: &str,
    shown: &str,
    default: SqliteSync,
) -> Result<(String, SqliteSync), StoreError> {
    let (url, given) = url::take_param(url, "synchronous");
    match given {
        None => Ok((url, default)),
        Some(text) => match SqliteSync::parse(&text) {
            Some(sync) => Ok((url, sync)),
            None => Err(StoreError::Unavailable(format!(
                "database URL {shown}: synchronous must be full or normal, not {text:?}"
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use regulars_testkit::SqliteFile;
    use sea_orm::Statement;

    /// `PRAGMA synchronous` on the store's own connection: 1 is NORMAL, 2 is FULL.
    async fn synchronous(store: &Store) -> i64 {
        let row = store
            .db
            .query_one_raw(Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "PRAGMA synchronous",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<i64>(0).unwrap()
    }

    #[tokio::test]
    async fn sqlite_flushes_every_commit_unless_told_otherwise() {
        let file = SqliteFile::new().unwrap();
        let store = Store::connect(&file.url(), StoreOptions::default())
            .await
            .unwrap();
        assert_eq!(synchronous(&store).await, 2, "FULL by default");
        store.close().await.unwrap();

        let normal = format!("{}&synchronous=normal", file.url());
        let store = Store::connect(&normal, StoreOptions::default())
            .await
            .unwrap();
        assert_eq!(synchronous(&store).await, 1, "NORMAL from the URL");
        store.close().await.unwrap();

        let options = StoreOptions::default().sqlite_sync(SqliteSync::Normal);
        let store = Store::connect(&file.url(), options.clone()).await.unwrap();
        assert_eq!(synchronous(&store).await, 1, "NORMAL from the options");
        store.close().await.unwrap();
        let full = format!("{}&synchronous=FULL", file.url());
        let store = Store::connect(&full, options).await.unwrap();
        assert_eq!(synchronous(&store).await, 2, "the URL wins");
        store.close().await.unwrap();

        let bad = format!("{}&synchronous=off", file.url());
        let error = Store::connect(&bad, StoreOptions::default())
            .await
            .unwrap_err();
        assert!(error.to_string().contains("synchronous"), "{error}");
    }
}
