//! The real clock and the operating system's secure random numbers, behind the ports.

use regulars_ports::{Clock, IdGen};
use time::OffsetDateTime;
use uuid::Uuid;

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Ids and random bytes from the operating system's CSPRNG (`getrandom`).
///
/// Ids are UUID v7: time-ordered, so new rows land at the end of primary-key indexes.
pub struct OsIdGen;

impl IdGen for OsIdGen {
    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }

    fn fill_bytes(&self, dest: &mut [u8]) {
        if let Err(e) = getrandom::fill(dest) {
            // Without the OS generator nothing unguessable can be made; continuing with
            // predictable voucher codes would be worse than stopping.
            panic!("the operating system's random number generator failed: {e}");
        }
    }
}
