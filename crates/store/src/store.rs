//! The store: a connection pool, its migrations, and the unit of work.

use crate::error::db_error;
use crate::migration::Migrator;
use crate::tx::StoreTransaction;
use crate::{StoreOptions, url};
use async_trait::async_trait;
use regulars_ports::{StoreError, Transaction, UnitOfWork};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

/// Key of the PostgreSQL advisory lock held while migrating, so that several processes
/// starting at once apply each migration once (the bytes of "regulars").
const MIGRATION_LOCK_KEY: i64 = 0x7265_6775_6c61_7273;

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
///   than failing halfway. The file is in WAL mode with `synchronous=NORMAL` and foreign
///   keys enforced. A consequence: a task must not begin a second transaction while it
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
    db: DatabaseConnection,
    backend: Backend,
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
                            .synchronous(SqliteSynchronous::Normal)
                            .foreign_keys(true)
                            .busy_timeout(busy_timeout)
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
        let store = Store { db, backend };
        if options.get_migrate() {
            store.migrate().await?;
        }
        Ok(store)
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

    async fn begin_raw(&self) -> Result<DatabaseTransaction, StoreError> {
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

#[async_trait]
impl UnitOfWork for Store {
    async fn begin(&self) -> Result<Box<dyn Transaction>, StoreError> {
        Ok(Box::new(StoreTransaction::new(self.begin_raw().await?)))
    }
}
