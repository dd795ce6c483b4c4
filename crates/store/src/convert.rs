//! How domain values are written to columns and read back.
//!
//! * **Timestamps** are `BIGINT` microseconds since the Unix epoch, UTC. An integer compares,
//!   sorts and round-trips identically on SQLite and PostgreSQL (SQLite has no timestamp
//!   type, and PostgreSQL's own resolution is also the microsecond), so a condition such as
//!   `expires_at > $now` means the same on both. Finer parts of an instant are dropped,
//!   rounding towards the past; values read back are in UTC.
//! * **Money** is integer minor units (`BIGINT`, see [`Money::to_minor_units`]) next to a
//!   currency code column, never a floating or SQLite `DECIMAL` column, so 19.99 USD stays
//!   exactly 1999 cents.
//! * **Points** are `BIGINT`; unsigned counters (`u64`) are checked into `i64`.
//! * **Documents** (rules, tiers, rewards, ledger entries, modifiers) are JSON text written
//!   and read with the types' own serde implementations.

use crate::error::{corrupt, unstorable};
use regulars_domain::{Currency, Money};
use regulars_ports::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

/// `YYYY-MM-DD`, how birthdays are stored.
pub(crate) const DATE_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]");

/// An instant as microseconds since the Unix epoch.
pub(crate) fn to_micros(at: OffsetDateTime) -> i64 {
    let micros = at.unix_timestamp_nanos().div_euclid(1_000);
    // Always in range: `OffsetDateTime` spans ±9999 years, i64 microseconds ±292,000.
    i64::try_from(micros).unwrap_or(if micros < 0 { i64::MIN } else { i64::MAX })
}

/// Microseconds since the Unix epoch as an instant in UTC.
pub(crate) fn from_micros(micros: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .map_err(|e| corrupt("timestamp", e))
}

/// An optional instant as microseconds.
pub(crate) fn to_micros_opt(at: Option<OffsetDateTime>) -> Option<i64> {
    at.map(to_micros)
}

/// Optional microseconds as an instant.
pub(crate) fn from_micros_opt(micros: Option<i64>) -> Result<Option<OffsetDateTime>, StoreError> {
    micros.map(from_micros).transpose()
}

/// An amount as integer minor units; fails only for amounts beyond ±9.2e18 minor units.
pub(crate) fn to_minor(money: &Money) -> Result<i64, StoreError> {
    money
        .to_minor_units()
        .map_err(|e| unstorable("an amount of money", e))
}

/// A currency code column.
pub(crate) fn currency(code: &str) -> Result<Currency, StoreError> {
    code.parse().map_err(|e| corrupt("currency", e))
}

/// Minor units and a currency code column as money.
pub(crate) fn money(minor: i64, code: &str) -> Result<Money, StoreError> {
    Ok(Money::from_minor_units(minor, currency(code)?))
}

/// A `u64` counter as a `BIGINT`.
pub(crate) fn to_i64(what: &str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| unstorable(what, format!("{value} exceeds {}", i64::MAX)))
}

/// A `BIGINT` that must hold a non-negative counter.
pub(crate) fn to_u64(what: &str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| corrupt(what, format!("negative value {value}")))
}

/// A value as JSON text.
pub(crate) fn to_json<T: Serialize + ?Sized>(what: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| unstorable(what, e))
}

/// JSON text as a value; a document that does not decode is [`StoreError::Corrupt`].
pub(crate) fn from_json<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

/// A unit-variant enum (`RefundPolicy`, ...) as its serde name, e.g. `"debt"`.
pub(crate) fn to_name<T: Serialize>(what: &str, value: &T) -> Result<String, StoreError> {
    match serde_json::to_value(value).map_err(|e| unstorable(what, e))? {
        serde_json::Value::String(name) => Ok(name),
        other => Err(unstorable(what, format!("{other} is not a name"))),
    }
}

/// A serde name column as a unit-variant enum.
pub(crate) fn from_name<T: DeserializeOwned>(what: &str, name: &str) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).map_err(|e| corrupt(what, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn micros_round_trip_and_truncate_towards_the_past() -> Result<(), StoreError> {
        let at = datetime!(2026-06-01 12:34:56.123456 +07:00);
        assert_eq!(from_micros(to_micros(at))?, at);
        let before_epoch = datetime!(1969-12-31 23:59:59.999999 UTC);
        assert_eq!(to_micros(before_epoch), -1);
        assert_eq!(from_micros(-1)?, before_epoch);
        let nanos = datetime!(2026-06-01 00:00:00.000000999 UTC);
        assert_eq!(
            from_micros(to_micros(nanos))?,
            datetime!(2026-06-01 00:00 UTC)
        );
        let before_epoch_nanos = datetime!(1969-12-31 23:59:59.9999995 UTC);
        assert_eq!(to_micros(before_epoch_nanos), -1);
        Ok(())
    }

    #[test]
    fn counters_out_of_range_are_errors() {
        assert!(to_i64("seq", u64::MAX).is_err());
        assert!(to_u64("seq", -1).is_err());
        assert_eq!(to_u64("seq", 7), Ok(7));
    }

    #[test]
    fn enum_names() -> Result<(), StoreError> {
        use regulars_loyalty::ledger::RefundPolicy;
        let name = to_name("refund policy", &RefundPolicy::Clamp)?;
        assert_eq!(name, "clamp");
        assert_eq!(
            from_name::<RefundPolicy>("refund policy", &name)?,
            RefundPolicy::Clamp
        );
        assert!(from_name::<RefundPolicy>("refund policy", "nope").is_err());
        Ok(())
    }
}
