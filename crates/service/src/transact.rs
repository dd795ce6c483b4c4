//! One database transaction per use case, retried as a whole on a storage conflict.

use crate::Services;
use crate::error::UseCaseError;
use regulars_ports::{StoreError, Transaction};
use std::future::Future;

/// How many times a use case runs before a conflict is given back to the caller.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

impl Services {
    /// Runs `work` in a fresh transaction, commits it when `work` succeeds and rolls it
    /// back when it fails. A conflict (from `work` or from the commit) starts the whole
    /// use case again in a new transaction, up to `max_attempts` times in all.
    ///
    /// `work` takes the transaction and gives it back with its result, so its future may
    /// borrow the use case's inputs without boxing.
    pub(crate) async fn transact<T, E, F, Fut>(
        &self,
        use_case: &'static str,
        mut work: F,
    ) -> Result<T, E>
    where
        E: UseCaseError + From<StoreError>,
        F: FnMut(Box<dyn Transaction>) -> Fut,
        Fut: Future<Output = (Box<dyn Transaction>, Result<T, E>)>,
    {
        let mut attempt = 1;
        loop {
            match self.attempt(&mut work).await {
                Err(error) if error.is_conflict() && attempt < self.max_attempts => {
                    tracing::debug!(use_case, attempt, %error, "conflict, running the use case again");
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    async fn attempt<T, E, F, Fut>(&self, work: &mut F) -> Result<T, E>
    where
        E: UseCaseError + From<StoreError>,
        F: FnMut(Box<dyn Transaction>) -> Fut,
        Fut: Future<Output = (Box<dyn Transaction>, Result<T, E>)>,
    {
        let tx = self.uow.begin().await?;
        let (tx, result) = work(tx).await;
        match result {
            Ok(value) => {
                tx.commit().await?;
                self.bell.ring_if_armed();
                Ok(value)
            }
            Err(error) => {
                if let Err(rollback) = tx.rollback().await {
                    // The transaction is gone either way; the use case's error is the news.
                    tracing::warn!(%rollback, "rollback failed");
                }
                Err(error)
            }
        }
    }
}
