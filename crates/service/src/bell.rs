//! The outbox bell: how a use case that wrote a message due now wakes the delivery
//! worker of the same process, instead of leaving it to the worker's next poll.
//!
//! A use case *arms* the bell inside its transaction; the bell *rings* once the
//! transaction has committed (a worker woken earlier would find nothing to claim). A
//! worker waiting for the bell wakes at once; a ring while no worker waits is kept, so
//! the next wait returns at once. Workers of other processes do not hear it: they find
//! the message at their next poll.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

/// Wakes the delivery worker. Cheap to clone; clones share one bell.
#[derive(Debug, Clone, Default)]
pub struct OutboxBell {
    notify: Arc<Notify>,
    armed: Arc<AtomicBool>,
}

impl OutboxBell {
    /// A bell nobody has rung.
    pub fn new() -> OutboxBell {
        OutboxBell::default()
    }

    /// Wakes the worker now.
    pub fn ring(&self) {
        self.notify.notify_one();
    }

    /// Waits until the bell rings (at once when it rang while nobody waited).
    pub async fn rung(&self) {
        self.notify.notified().await;
    }

    /// Asks for a ring after the current transaction commits.
    pub(crate) fn arm(&self) {
        self.armed.store(true, Ordering::Release);
    }

    /// Rings when armed (after a commit). A transaction of another use case may take the
    /// ring meant for this one's: the worker then wakes early, finds nothing, and the
    /// message waits for its next poll at worst.
    pub(crate) fn ring_if_armed(&self) {
        if self.armed.swap(false, Ordering::AcqRel) {
            self.ring();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OutboxBell;
    use std::time::Duration;

    #[tokio::test]
    async fn a_ring_while_nobody_waits_is_kept_and_an_unarmed_bell_is_silent() {
        let bell = OutboxBell::new();
        bell.ring_if_armed();
        let silent = tokio::time::timeout(Duration::from_millis(50), bell.rung()).await;
        assert!(silent.is_err(), "an unarmed bell rang");
        bell.arm();
        bell.clone().ring_if_armed();
        let rang = tokio::time::timeout(Duration::from_secs(5), bell.rung()).await;
        assert!(rang.is_ok(), "the ring was lost");
        // Rung once: armed again only by the next use case.
        bell.ring_if_armed();
        let again = tokio::time::timeout(Duration::from_millis(50), bell.rung()).await;
        assert!(again.is_err());
    }
}
