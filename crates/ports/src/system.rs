//! Time and randomness as ports, so use cases are reproducible.

use time::OffsetDateTime;
use uuid::Uuid;

/// The current time. Production uses the system clock; tests freeze or step it.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// Identifiers and random bytes. Implementations must draw from a cryptographically secure
/// generator: voucher codes are built from these bytes and must be unguessable.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait IdGen: Send + Sync {
    /// A fresh unique id.
    fn new_id(&self) -> Uuid;
    /// Fills `dest` with secure random bytes.
    fn fill_bytes(&self, dest: &mut [u8]);
}
