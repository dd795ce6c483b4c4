//! How database errors become [`StoreError`]s.
//!
//! The classification is what lets a use case react: a [`StoreError::Conflict`] means
//! "retry the whole transaction" (a unique key taken, a PostgreSQL serialization failure or
//! deadlock, a SQLite write lock lost to another process), [`StoreError::Unavailable`]
//! means "the database cannot be reached right now", [`StoreError::NotFound`] a row a
//! foreign key needs is missing, [`StoreError::Corrupt`] a stored value does not decode,
//! [`StoreError::Invalid`] the caller passed something the store refuses.

use regulars_ports::StoreError;
use sea_orm::{DbErr, RuntimeErr, sqlx};

/// PostgreSQL SQLSTATEs that mean "another transaction got in the way; try again".
const PG_RETRYABLE: &[&str] = &[
    "40001", // serialization_failure
    "40P01", // deadlock_detected
    "55P03", // lock_not_available
];

/// PostgreSQL SQLSTATE classes and codes that mean the server cannot serve us now.
const PG_UNAVAILABLE: &[&str] = &[
    "53300", // too_many_connections
    "57014", // query_canceled (statement_timeout)
    "57P01", // admin_shutdown
    "57P02", // crash_shutdown
    "57P03", // cannot_connect_now
];

/// SQLite extended result codes that mean "another writer got in the way".
const SQLITE_RETRYABLE: &[&str] = &[
    "517", // SQLITE_BUSY_SNAPSHOT: a read transaction cannot become a write transaction
];

/// SQLite result codes that mean the database is locked for longer than `busy_timeout`.
const SQLITE_UNAVAILABLE: &[&str] = &[
    "5",   // SQLITE_BUSY
    "6",   // SQLITE_LOCKED
    "261", // SQLITE_BUSY_RECOVERY
];

/// Classifies a database error; `context` says what was being done (it names the table
/// or the constraint, so a conflict explains itself).
pub(crate) fn db_error(context: &str, err: DbErr) -> StoreError {
    match &err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => {
            StoreError::Unavailable(format!("{context}: {err}"))
        }
        DbErr::Json(_) | DbErr::Type(_) | DbErr::TryIntoErr { .. } => {
            StoreError::Corrupt(format!("{context}: {err}"))
        }
        DbErr::Exec(RuntimeErr::SqlxError(sqlx_err))
        | DbErr::Query(RuntimeErr::SqlxError(sqlx_err)) => classify_sqlx(context, sqlx_err)
            .unwrap_or_else(|| StoreError::Other(format!("{context}: {err}"))),
        _ => StoreError::Other(format!("{context}: {err}")),
    }
}

fn classify_sqlx(context: &str, err: &sqlx::Error) -> Option<StoreError> {
    let message = || format!("{context}: {err}");
    match err {
        sqlx::Error::Database(db) => {
            let code = db.code();
            let code = code.as_deref().unwrap_or_default();
            if db.is_unique_violation()
                || PG_RETRYABLE.contains(&code)
                || SQLITE_RETRYABLE.contains(&code)
            {
                Some(StoreError::Conflict(message()))
            } else if db.is_foreign_key_violation() {
                Some(StoreError::NotFound(message()))
            } else if code.starts_with("08")
                || PG_UNAVAILABLE.contains(&code)
                || SQLITE_UNAVAILABLE.contains(&code)
            {
                Some(StoreError::Unavailable(message()))
            } else {
                None
            }
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => Some(StoreError::Unavailable(message())),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            Some(StoreError::Corrupt(message()))
        }
        _ => None,
    }
}

/// A stored document (JSON, a code, a date) that does not decode.
pub(crate) fn corrupt(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {err}"))
}

/// A value the caller passed that cannot be stored as given: [`StoreError::Invalid`] with
/// the reason.
pub(crate) fn unstorable(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(format!("cannot store {what}: {err}"))
}

/// Maps errors of sea-orm calls: `result.map_err(in_ctx("insert into orders"))`.
pub(crate) fn in_ctx(context: &'static str) -> impl Fn(DbErr) -> StoreError {
    move |err| db_error(context, err)
}
