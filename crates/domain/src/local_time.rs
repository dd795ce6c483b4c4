//! Local time of a brand or location.
//!
//! Storage keeps UTC; rules such as "happy hour 14:00–17:00" or "birthday" are about the
//! shop's wall clock. Each brand and location has a fixed UTC offset (Vietnam is +07:00
//! all year), so conversion is a pure function.

use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// The wall-clock date and time at `offset` for the instant `at`.
///
/// ```
/// use regulars_domain::local_datetime;
/// use time::macros::{datetime, offset};
/// // 18:30 UTC is 01:30 the next day in Ho Chi Minh City.
/// let local = local_datetime(datetime!(2026-03-01 18:30 UTC), offset!(+7));
/// assert_eq!(local, Some(datetime!(2026-03-02 01:30)));
/// ```
///
/// `None` only at the edges of the representable range (years ±9999), where the shifted
/// instant does not exist.
pub fn local_datetime(at: OffsetDateTime, offset: UtcOffset) -> Option<PrimitiveDateTime> {
    let local = at.checked_to_offset(offset)?;
    Some(PrimitiveDateTime::new(local.date(), local.time()))
}

/// The wall-clock date at `offset` for the instant `at`; `None` only at the edges of the
/// representable range.
pub fn local_date(at: OffsetDateTime, offset: UtcOffset) -> Option<Date> {
    at.checked_to_offset(offset).map(|local| local.date())
}
