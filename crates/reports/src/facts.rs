//! The plain facts reports are folded from, the period they cover, and what can go wrong.

use regulars_domain::{Currency, CustomerId, Money, OrderId, Points, local_date};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;
use time::{Date, Month, OffsetDateTime, Time, UtcOffset};

/// One stored order as the reports see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFact {
    /// The order.
    pub id: OrderId,
    /// Its customer; `None` for an order nobody claimed (no phone given at the till).
    pub customer: Option<CustomerId>,
    /// The location code; `None` when the POS sent none.
    pub location: Option<String>,
    /// When it was paid.
    pub placed_at: OffsetDateTime,
    /// What was paid.
    pub total: Money,
    /// What was refunded of it so far (zero when nothing was).
    pub refunded: Money,
}

impl OrderFact {
    /// What the order is worth after its refunds: `total − refunded`.
    pub fn net(&self) -> Result<Money, ReportError> {
        self.total
            .checked_sub(&self.refunded)
            .map_err(|_| ReportError::Currency {
                expected: self.total.currency(),
                found: self.refunded.currency(),
            })
    }

    /// Whether the order counts in reports: every order does, except one refunded in full
    /// (something was refunded and nothing is left). A refunded sale is not a sale: it
    /// adds no revenue, no order and no visit. An order that was free from the start
    /// (total zero, nothing refunded) still counts as a visit.
    pub fn counts(&self) -> bool {
        order_counts(&self.total, &self.refunded)
    }
}

/// Whether an order of `total` of which `refunded` was refunded counts in reports
/// (see [`OrderFact::counts`]): for a caller holding an order rather than a fact.
pub fn order_counts(total: &Money, refunded: &Money) -> bool {
    refunded.is_zero() || refunded.amount() < total.amount()
}

/// A half-open interval of time `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    /// First instant inside.
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    /// First instant after.
    #[serde(with = "time::serde::rfc3339")]
    pub to: OffsetDateTime,
}

impl Period {
    /// `[from, to)`; an error unless `from < to`.
    pub fn new(from: OffsetDateTime, to: OffsetDateTime) -> Result<Self, ReportError> {
        if from < to {
            Ok(Period { from, to })
        } else {
            Err(ReportError::EmptyPeriod)
        }
    }

    /// The local days `[from, to)` at `offset`: from midnight of `from` to midnight of `to`,
    /// wall-clock time.
    ///
    /// ```
    /// use regulars_reports::Period;
    /// use time::macros::{date, datetime, offset};
    /// let p = Period::local_days(date!(2026 - 11 - 01), date!(2026 - 11 - 02), offset!(+7))?;
    /// assert_eq!(p.from, datetime!(2026-10-31 17:00 UTC));
    /// assert_eq!(p.to, datetime!(2026-11-01 17:00 UTC));
    /// # Ok::<(), regulars_reports::ReportError>(())
    /// ```
    pub fn local_days(from: Date, to: Date, offset: UtcOffset) -> Result<Self, ReportError> {
        Period::new(
            from.with_time(Time::MIDNIGHT).assume_offset(offset),
            to.with_time(Time::MIDNIGHT).assume_offset(offset),
        )
    }

    /// Whether `at` lies inside.
    pub fn contains(&self, at: OffsetDateTime) -> bool {
        self.from <= at && at < self.to
    }
}

/// A calendar month, `2026-11`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct YearMonth {
    /// The year.
    pub year: i32,
    /// The month.
    pub month: Month,
}

impl YearMonth {
    /// The month `date` falls in.
    pub fn of(date: Date) -> Self {
        YearMonth {
            year: date.year(),
            month: date.month(),
        }
    }

    /// Months since year 0, so months can be subtracted.
    pub fn index(&self) -> i64 {
        i64::from(self.year) * 12 + i64::from(u8::from(self.month)) - 1
    }

    /// The month with the given [`index`](Self::index); `None` outside the calendar.
    pub fn from_index(index: i64) -> Option<Self> {
        let year = i32::try_from(index.div_euclid(12)).ok()?;
        let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
        Date::from_calendar_date(year, month, 1).ok()?;
        Some(YearMonth { year, month })
    }

    /// The month `n` months later; `None` outside the calendar.
    pub fn plus(&self, n: u32) -> Option<Self> {
        YearMonth::from_index(self.index().checked_add(i64::from(n))?)
    }

    /// Its first day.
    pub fn first_day(&self) -> Option<Date> {
        Date::from_calendar_date(self.year, self.month, 1).ok()
    }
}

/// Serialised as `"2026-11"`.
impl Serialize for YearMonth {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, u8::from(self.month))
    }
}

/// How many vouchers were issued in a period and how many of those were redeemed (at any
/// time since).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoucherCounts {
    /// Vouchers issued in the period.
    pub issued: u64,
    /// Of those, how many have been redeemed.
    pub redeemed: u64,
}

/// Points that moved through the ledger in a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointsTotals {
    /// Points credited by orders (earn entries).
    pub earned: Points,
    /// Points spent on rewards (redeem entries), as a positive number.
    pub redeemed: Points,
}

/// Why a report could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReportError {
    /// A report period must not be empty.
    #[error("the period is empty: `from` must come before `to`")]
    EmptyPeriod,
    /// An amount in another currency than the brand's.
    #[error("an amount in {found} in a report in {expected}")]
    Currency {
        /// The report's currency.
        expected: Currency,
        /// The currency met.
        found: Currency,
    },
    /// A sum outgrew the number types.
    #[error("{0} overflowed")]
    Overflow(&'static str),
    /// A date outside the calendar (years beyond ±9999).
    #[error("a date outside the calendar")]
    OutOfRange,
    /// Too many buckets or months asked for.
    #[error("{what} asks for {asked}, at most {max}")]
    TooLong {
        /// What was asked for (`days`, `weeks`, `months`).
        what: &'static str,
        /// How many.
        asked: u64,
        /// The limit.
        max: u64,
    },
}

/// A sum of money in one currency, kept as a plain decimal while folding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sum {
    currency: Currency,
    amount: Decimal,
}

impl Sum {
    pub(crate) fn new(currency: Currency) -> Self {
        Sum {
            currency,
            amount: Decimal::ZERO,
        }
    }

    /// Adds an amount already checked to be in this sum's currency.
    pub(crate) fn add(&mut self, amount: Decimal) -> Result<(), ReportError> {
        self.amount = self
            .amount
            .checked_add(amount)
            .ok_or(ReportError::Overflow("revenue"))?;
        Ok(())
    }

    pub(crate) fn amount(&self) -> Decimal {
        self.amount
    }

    pub(crate) fn money(&self) -> Result<Money, ReportError> {
        money(self.amount, self.currency)
    }
}

pub(crate) fn money(amount: Decimal, currency: Currency) -> Result<Money, ReportError> {
    Money::new(amount, currency).map_err(|_| ReportError::Overflow("money"))
}

/// `part / whole`, `None` when `whole` is zero.
pub(crate) fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// `part / whole` of two decimals, `None` when `whole` is zero.
pub(crate) fn decimal_ratio(part: Decimal, whole: Decimal) -> Option<f64> {
    use rust_decimal::prelude::ToPrimitive;
    if whole.is_zero() {
        return None;
    }
    part.checked_div(whole)?.to_f64()
}

/// The wall-clock date of `at`.
pub(crate) fn local(at: OffsetDateTime, offset: UtcOffset) -> Result<Date, ReportError> {
    local_date(at, offset).ok_or(ReportError::OutOfRange)
}

/// Checks a fact's currency and returns its net amount (total − refunded) when the
/// order counts; the same rule as [`OrderFact::counts`], on the bare decimals.
pub(crate) fn counted_net(
    order: &OrderFact,
    currency: Currency,
) -> Result<Option<Decimal>, ReportError> {
    for found in [order.total.currency(), order.refunded.currency()] {
        if found != currency {
            return Err(ReportError::Currency {
                expected: currency,
                found,
            });
        }
    }
    let (total, refunded) = (order.total.amount(), order.refunded.amount());
    if !refunded.is_zero() && refunded >= total {
        return Ok(None);
    }
    total
        .checked_sub(refunded)
        .map(Some)
        .ok_or(ReportError::Overflow("order net"))
}

/// Hash maps keyed by ids. Ids are drawn by the server (random or time-ordered UUIDs),
/// not chosen by whoever sends orders, so a fast multiplicative hash is safe here, and a
/// report over a million orders spends most of its time hashing them otherwise.
pub(crate) type IdMap<K, V> = std::collections::HashMap<K, V, IdHash>;
/// A set of ids, hashed like [`IdMap`].
pub(crate) type IdSet<K> = std::collections::HashSet<K, IdHash>;

/// Builds [`IdHasher`]s.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct IdHash;

impl std::hash::BuildHasher for IdHash {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher(0)
    }
}

/// A multiply-rotate hash over 8-byte words (as in rustc's FxHash).
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl IdHasher {
    const K: u64 = 0x517c_c1b7_2722_0a95;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl std::hash::Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        // The multiply leaves the low bits, which pick the table slot, depending on the
        // low bits of the input only: mix the high bits down (MurmurHash3's finaliser).
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}
