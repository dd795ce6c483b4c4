//! Errors a storage adapter reports.

use thiserror::Error;

/// A storage failure, classified so use cases can react: retry a conflict, report a
/// missing row, give up on an unavailable database.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    /// A uniqueness or concurrency conflict (duplicate key, a row changed underneath).
    /// Retrying the whole transaction is the right reaction.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A row the operation needs does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The database cannot be reached or timed out; the operation may be retried later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be decoded (a bug or a hand-edited row).
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// The caller passed something the store refuses: entries that do not continue the
    /// head, a balance that does not add up, a bad key. A bug in the caller; retrying the
    /// same call fails the same way.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Other(String),
}

impl StoreError {
    /// True for [`StoreError::Conflict`].
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict(_))
    }
}
