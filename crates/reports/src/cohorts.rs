//! Retention by monthly cohort: customers grouped by the month of their first order, and
//! the share of each group that ordered again one, two, … months later.

use crate::facts::{IdMap, IdSet, OrderFact, ReportError, YearMonth, counted_net, local, ratio};
use regulars_domain::{Currency, CustomerId};
use serde::Serialize;
use time::{OffsetDateTime, Time, UtcOffset};

/// Most months a cohort table may span.
pub const MAX_MONTHS: u32 = 60;

/// One cell of the triangle: of a cohort, who ordered in its month + `offset`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetentionCell {
    /// Months after the cohort's month (0 is the cohort's own month).
    pub offset: u32,
    /// Customers of the cohort with a counted order in that month.
    pub customers: u64,
    /// `customers / size` of the cohort.
    pub share: f64,
}

/// Customers whose first counted order fell in one month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cohort {
    /// The month of their first counted order (local time).
    pub month: YearMonth,
    /// How many customers.
    pub size: u64,
    /// Offsets 0, 1, 2 … up to the last month of the table or the month of `as_of`,
    /// whichever is earlier; offset 0 is always 1.0.
    pub retention: Vec<RetentionCell>,
}

/// The cohort table (the classic triangle). Cohorts of size zero are listed with no
/// cells, so every month of the table has its row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cohorts {
    /// The first cohort's month.
    pub first: YearMonth,
    /// Months the table spans.
    pub months: u32,
    /// Customers in the listed cohorts: those whose first counted order is in the table
    /// (up to `as_of`).
    pub customers: u64,
    /// One per month of the table up to `as_of`, oldest first.
    pub cohorts: Vec<Cohort>,
}

/// Folds orders into [`Cohorts`]. A customer belongs to the cohort of the month (brand's
/// local time) of their first counted order ([`OrderFact::counts`]); customers whose
/// first counted order is before the table are left out, and
/// [`add_prior_customer`](Self::add_prior_customer) says who they are. Facts may come in
/// any order.
///
/// ```
/// use regulars_domain::{Currency, CustomerId, Money, OrderId};
/// use regulars_reports::{CohortBuilder, OrderFact, YearMonth};
/// use time::Month;
/// use time::macros::{datetime, offset};
///
/// let order = |n: u8, who: u8, at| OrderFact {
///     id: OrderId::from_bytes([n; 16]),
///     customer: Some(CustomerId::from_bytes([who; 16])),
///     location: None,
///     placed_at: at,
///     total: Money::from_minor_units(10_000, Currency::VND),
///     refunded: Money::zero(Currency::VND),
/// };
/// let january = YearMonth { year: 2026, month: Month::January };
/// let mut table = CohortBuilder::new(january, 3, offset!(+7), datetime!(2026-03-15 12:00 +7), Currency::VND)?;
/// table.add_order(&order(1, 1, datetime!(2026-01-05 08:00 +7)))?; // 1: Jan, Mar
/// table.add_order(&order(2, 1, datetime!(2026-03-05 08:00 +7)))?;
/// table.add_order(&order(3, 2, datetime!(2026-01-31 23:30 +7)))?; // 2: Jan only
/// table.add_order(&order(4, 3, datetime!(2026-02-01 00:30 +7)))?; // 3: Feb, Mar
/// table.add_order(&order(5, 3, datetime!(2026-03-01 09:00 +7)))?;
/// let cohorts = table.finish()?;
///
/// assert_eq!(cohorts.customers, 3);
/// let jan = &cohorts.cohorts[0];
/// assert_eq!(jan.size, 2);
/// let shares: Vec<f64> = jan.retention.iter().map(|c| c.share).collect();
/// assert_eq!(shares, vec![1.0, 0.0, 0.5]);
/// assert_eq!(cohorts.cohorts[1].retention.len(), 2); // February: +0, +1
/// assert_eq!(cohorts.cohorts[2].size, 0); // nobody started in March
/// # Ok::<(), regulars_reports::ReportError>(())
/// ```
#[derive(Debug, Clone)]
pub struct CohortBuilder {
    first: YearMonth,
    months: u32,
    offset: UtcOffset,
    currency: Currency,
    /// Months of the table that have begun by `as_of`.
    visible: u32,
    window_start: OffsetDateTime,
    window_end: OffsetDateTime,
    /// Bit `m` set: the customer had a counted order in month `first + m`.
    active: IdMap<CustomerId, u64>,
    prior: IdSet<CustomerId>,
}

impl CohortBuilder {
    /// A table of `months` cohorts from `first`, in local time at `offset`, as known at
    /// `as_of` (months after it are left out). At most [`MAX_MONTHS`] months.
    pub fn new(
        first: YearMonth,
        months: u32,
        offset: UtcOffset,
        as_of: OffsetDateTime,
        currency: Currency,
    ) -> Result<Self, ReportError> {
        if months == 0 || months > MAX_MONTHS {
            return Err(ReportError::TooLong {
                what: "months",
                asked: u64::from(months),
                max: u64::from(MAX_MONTHS),
            });
        }
        let start_of = |m: YearMonth| -> Result<OffsetDateTime, ReportError> {
            let day = m.first_day().ok_or(ReportError::OutOfRange)?;
            Ok(day.with_time(Time::MIDNIGHT).assume_offset(offset))
        };
        let last = first.plus(months).ok_or(ReportError::OutOfRange)?;
        let now = YearMonth::of(local(as_of, offset)?);
        let visible = (now.index() - first.index() + 1).clamp(0, i64::from(months));
        Ok(CohortBuilder {
            first,
            months,
            offset,
            currency,
            visible: u32::try_from(visible).map_err(|_| ReportError::OutOfRange)?,
            window_start: start_of(first)?,
            window_end: start_of(last)?,
            active: IdMap::default(),
            prior: IdSet::default(),
        })
    }

    /// When the table's first month begins: customers with a counted order before this
    /// instant are prior customers.
    pub fn window_start(&self) -> OffsetDateTime {
        self.window_start
    }

    /// When the table's last month ends.
    pub fn window_end(&self) -> OffsetDateTime {
        self.window_end
    }

    /// Adds an order. Orders outside the table's months, without a customer, or that
    /// do not count are ignored.
    pub fn add_order(&mut self, order: &OrderFact) -> Result<(), ReportError> {
        if counted_net(order, self.currency)?.is_none() {
            return Ok(());
        }
        let Some(customer) = order.customer else {
            return Ok(());
        };
        if order.placed_at < self.window_start || order.placed_at >= self.window_end {
            return Ok(());
        }
        let month = YearMonth::of(local(order.placed_at, self.offset)?);
        let m = month.index() - self.first.index();
        if !(0..i64::from(self.months)).contains(&m) {
            return Ok(());
        }
        *self.active.entry(customer).or_default() |= 1 << m;
        Ok(())
    }

    /// Adds a customer whose first counted order was before the table.
    pub fn add_prior_customer(&mut self, customer: CustomerId) {
        self.prior.insert(customer);
    }

    /// The table.
    pub fn finish(self) -> Result<Cohorts, ReportError> {
        let months = self.months as usize;
        let mut sizes = vec![0u64; months];
        // cells[c][k]: customers of cohort c active in month c + k.
        let mut cells = vec![vec![0u64; months]; months];
        for (customer, mask) in &self.active {
            if self.prior.contains(customer) || *mask == 0 {
                continue;
            }
            let c = mask.trailing_zeros() as usize;
            sizes[c] += 1;
            for (m, cell) in cells[c].iter_mut().enumerate().take(months - c) {
                if mask & (1 << (c + m)) != 0 {
                    *cell += 1;
                }
            }
        }
        let visible = self.visible as usize;
        let mut cohorts = Vec::with_capacity(visible);
        for (c, size) in sizes.iter().copied().enumerate().take(visible) {
            let month = self
                .first
                .plus(u32::try_from(c).map_err(|_| ReportError::OutOfRange)?)
                .ok_or(ReportError::OutOfRange)?;
            let retention = if size == 0 {
                Vec::new()
            } else {
                cells[c]
                    .iter()
                    .take(visible - c)
                    .enumerate()
                    .map(|(k, &customers)| RetentionCell {
                        offset: k as u32,
                        customers,
                        share: ratio(customers, size).unwrap_or(0.0),
                    })
                    .collect()
            };
            cohorts.push(Cohort {
                month,
                size,
                retention,
            });
        }
        Ok(Cohorts {
            first: self.first,
            months: self.months,
            customers: sizes.iter().take(visible).sum(),
            cohorts,
        })
    }
}
