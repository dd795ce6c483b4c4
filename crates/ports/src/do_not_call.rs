//! The deployment's do-not-call list: phone numbers (from the national registry's
//! export) that no promotional SMS or call may reach. Storage keeps only keyed hashes of
//! the numbers, so the list answers "is this number listed?" and never lists one.

use crate::StoreError;
use async_trait::async_trait;
use regulars_domain::Phone;
use std::collections::HashSet;
use time::OffsetDateTime;

/// What listing a batch of numbers did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DoNotCallListed {
    /// Numbers that were not listed before.
    pub added: u64,
    /// Numbers already listed (now marked as seen by this import).
    pub already: u64,
}

/// The list's size, for operators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DoNotCallStatus {
    /// Numbers listed.
    pub numbers: u64,
    /// Of those, the numbers hashed under a previous server key: still found while that
    /// key is configured, lost once it is retired unless imported again.
    pub under_previous_keys: u64,
    /// When the latest number was added or confirmed.
    pub last_import_at: Option<OffsetDateTime>,
}

/// Storage of the do-not-call list. It belongs to the deployment, not to a brand.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait DoNotCallRepo: Send {
    /// Lists `phones` for the import `import`: numbers not yet listed are added, listed
    /// ones are marked as seen by `import` (and hashed again under the current key).
    /// Refused ([`StoreError::Invalid`]) when the store has no key to hash numbers with.
    async fn list_do_not_call(
        &mut self,
        phones: &[Phone],
        import: &str,
        now: OffsetDateTime,
    ) -> Result<DoNotCallListed, StoreError>;
    /// Removes every number the import `import` did not list; returns how many.
    async fn unlist_do_not_call_except(&mut self, import: &str) -> Result<u64, StoreError>;
    /// Which of `phones` are listed.
    async fn do_not_call_listed(&mut self, phones: &[Phone]) -> Result<HashSet<Phone>, StoreError>;
    /// How many numbers are listed.
    async fn do_not_call_status(&mut self) -> Result<DoNotCallStatus, StoreError>;
}
