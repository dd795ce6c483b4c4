//! How the programme did over a period: revenue, orders, customers, repeat and
//! redemption rates, and a daily or weekly series for charts.

use crate::facts::{
    OrderFact, Period, PointsTotals, ReportError, Sum, VoucherCounts, counted_net, decimal_ratio,
    local, money, ratio,
};
use crate::overview_groups::{BucketTotals, Bucketing, CustomerTotals, RawCustomers};
use crate::programme_cost::{ProgrammeCost, ProgrammeCostBuilder};
use regulars_domain::{Currency, CustomerId, Money};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::{Date, Duration, UtcOffset};

/// Most buckets a series may have (about two and a half years of days).
pub const MAX_BUCKETS: u64 = 1_000;

/// The width of a series bucket, in the brand's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    /// One local calendar day.
    Day,
    /// One ISO week, Monday to Sunday.
    Week,
}

/// One bucket of the series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// The bucket's first local day (a Monday for weeks, except that the first bucket
    /// starts where the period does).
    pub start: Date,
    /// Revenue of the counted orders placed in the bucket.
    pub revenue: Money,
    /// Counted orders placed in the bucket.
    pub orders: u64,
    /// Distinct customers with a counted order in the bucket.
    pub active_customers: u64,
}

/// The overview of a period. Only *counted* orders enter it (see [`OrderFact::counts`]:
/// an order refunded in full does not).
///
/// Definitions, for the period `[from, to)`:
/// * **revenue** — the sum of counted orders' net amounts (total less refunds, as known
///   when the report is made), orders without a customer included;
/// * **orders** — counted orders, with or without a customer;
/// * **active customers** — customers with at least one counted order in the period;
/// * **new customers** — active customers with no counted order before the period (their
///   first order is in it); **returning customers** are the other active ones;
/// * **repeat rate** — repeat customers (active customers with at least two counted
///   orders in the period) divided by active customers;
/// * **comeback rate** — of the customers whose first counted order was before the
///   period (*prior customers*), the share with a counted order in the period:
///   returning customers ÷ prior customers;
/// * **average order value** — revenue ÷ orders, rounded half away from zero to the
///   currency's minor unit;
/// * **voucher redemption rate** — of the vouchers issued in the period, the share
///   redeemed by the time the report is made;
/// * **points redeemed per earned** — points spent on rewards in the period ÷ points
///   earned in the period; a ratio of flows, not a share, so it can exceed 1 when older
///   points are spent.
///
/// Every rate is `None` when its denominator is zero.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    /// The period.
    pub period: Period,
    /// The series interval.
    pub interval: Interval,
    /// Revenue, net of refunds.
    pub revenue: Money,
    /// Counted orders.
    pub orders: u64,
    /// Customers with at least one counted order in the period.
    pub active_customers: u64,
    /// Active customers whose first counted order is in the period.
    pub new_customers: u64,
    /// Active customers who had ordered before the period.
    pub returning_customers: u64,
    /// Active customers with at least two counted orders in the period.
    pub repeat_customers: u64,
    /// `repeat_customers / active_customers`.
    pub repeat_rate: Option<f64>,
    /// Customers with a counted order before the period.
    pub prior_customers: u64,
    /// `returning_customers / prior_customers`.
    pub comeback_rate: Option<f64>,
    /// `revenue / orders`, rounded to the currency's minor unit.
    pub average_order_value: Option<Money>,
    /// Vouchers issued in the period and how many of them were redeemed.
    pub vouchers: VoucherCounts,
    /// `vouchers.redeemed / vouchers.issued`.
    pub voucher_redemption_rate: Option<f64>,
    /// Points earned and redeemed in the period.
    pub points: PointsTotals,
    /// `points.redeemed / points.earned` (may exceed 1).
    pub points_redeemed_per_earned: Option<f64>,
    /// What the vouchers redeemed in the period took off their orders (none for a
    /// scope narrower than the brand, like vouchers and points).
    pub programme_cost: ProgrammeCost,
    /// Revenue, orders and active customers per bucket, every bucket of the period
    /// present (empty ones too), oldest first.
    pub series: Vec<SeriesPoint>,
}

/// Folds facts into an [`Overview`]. Facts may come in any order and in any number of
/// pages; the result is the same.
///
/// The orders come either raw ([`add_order`](Self::add_order) and
/// [`add_prior_customer`](Self::add_prior_customer)) or added up by storage
/// ([`add_bucket`](Self::add_bucket), [`add_customer_totals`](Self::add_customer_totals)
/// and [`set_prior_count`](Self::set_prior_count), grouped by [`bucketing`](Self::bucketing)),
/// never both for the same orders. Raw orders are grouped into the same rows when the
/// builder finishes, so every figure is folded from rows one way.
///
/// ```
/// use regulars_domain::{Currency, CustomerId, Money, OrderId, Points};
/// use regulars_reports::{Interval, OrderFact, OverviewBuilder, Period, PointsTotals, VoucherCounts};
/// use time::macros::{date, datetime, offset};
///
/// let vnd = |n| Money::from_minor_units(n, Currency::VND);
/// let (an, binh) = (CustomerId::from_bytes([1; 16]), CustomerId::from_bytes([2; 16]));
/// let order = |n: u8, who, at, total, refunded| OrderFact {
///     id: regulars_domain::OrderId::from_bytes([n; 16]),
///     customer: who,
///     location: Some("Q1".to_owned()),
///     placed_at: at,
///     total: vnd(total),
///     refunded: vnd(refunded),
/// };
/// // November 2026 in Ho Chi Minh City.
/// let period = Period::local_days(date!(2026 - 11 - 01), date!(2026 - 12 - 01), offset!(+7))?;
/// let mut report = OverviewBuilder::new(period, offset!(+7), Interval::Week, Currency::VND)?;
/// // An came in October and twice in November; Binh is new; a walk-in paid 20,000;
/// // a fourth order was refunded in full and does not count.
/// report.add_prior_customer(an);
/// report.add_order(&order(1, Some(an), datetime!(2026-11-02 08:00 +7), 50_000, 0))?;
/// report.add_order(&order(2, Some(an), datetime!(2026-11-20 08:00 +7), 40_000, 10_000))?;
/// report.add_order(&order(3, Some(binh), datetime!(2026-11-03 09:00 +7), 30_000, 0))?;
/// report.add_order(&order(4, None, datetime!(2026-11-03 10:00 +7), 20_000, 0))?;
/// report.add_order(&order(5, Some(binh), datetime!(2026-11-04 10:00 +7), 99_000, 99_000))?;
/// report.add_vouchers(VoucherCounts { issued: 4, redeemed: 1 });
/// report.add_points(PointsTotals { earned: Points::new(100), redeemed: Points::new(50) })?;
/// let overview = report.finish()?;
///
/// assert_eq!(overview.revenue, vnd(130_000)); // 50,000 + 30,000 + 30,000 + 20,000
/// assert_eq!(overview.orders, 4);
/// assert_eq!((overview.active_customers, overview.new_customers), (2, 1));
/// assert_eq!(overview.repeat_rate, Some(0.5)); // An ordered twice, Binh once
/// assert_eq!(overview.comeback_rate, Some(1.0)); // the one prior customer came back
/// assert_eq!(overview.average_order_value, Some(vnd(32_500)));
/// assert_eq!(overview.voucher_redemption_rate, Some(0.25));
/// assert_eq!(overview.points_redeemed_per_earned, Some(0.5));
/// // Weeks: Sun 1 Nov (partial), then Mondays 2, 9, 16, 23 and 30 November.
/// assert_eq!(overview.series.len(), 6);
/// assert_eq!(overview.series[1].start, date!(2026 - 11 - 02));
/// assert_eq!(overview.series[1].revenue, vnd(100_000));
/// assert_eq!(overview.series[1].active_customers, 2);
/// # Ok::<(), regulars_reports::ReportError>(())
/// ```
#[derive(Debug, Clone)]
pub struct OverviewBuilder {
    period: Period,
    interval: Interval,
    currency: Currency,
    /// The first bucket's local midnight, in Unix seconds.
    origin: i64,
    buckets: Vec<Bucket>,
    revenue: Sum,
    orders: u64,
    /// The period's customers as added up (by storage, or from `raw` at the end).
    customers: CustomerTotals,
    /// Raw orders' customers, grouped when the builder finishes.
    raw: RawCustomers,
    /// How many prior customers storage counted, when it did (then raw prior customers,
    /// if any, are only those active in the period).
    prior_count: Option<u64>,
    vouchers: VoucherCounts,
    points: PointsTotals,
    programme_cost: ProgrammeCostBuilder,
}

#[derive(Debug, Clone)]
struct Bucket {
    start: Date,
    revenue: Sum,
    orders: u64,
    active: u64,
}

impl OverviewBuilder {
    /// A builder for `period`, local time at `offset`, money in `currency`. An error when
    /// the series would have more than [`MAX_BUCKETS`] buckets.
    pub fn new(
        period: Period,
        offset: UtcOffset,
        interval: Interval,
        currency: Currency,
    ) -> Result<Self, ReportError> {
        let first_day = local(period.from, offset)?;
        let last_day = local(period.to - Duration::nanoseconds(1), offset)?;
        let first_bucket = bucket_start(first_day, interval);
        let last_bucket = bucket_start(last_day, interval);
        let step = step_days(interval);
        let count = ((last_bucket - first_bucket).whole_days() / step + 1).unsigned_abs();
        if count > MAX_BUCKETS {
            return Err(ReportError::TooLong {
                what: match interval {
                    Interval::Day => "days",
                    Interval::Week => "weeks",
                },
                asked: count,
                max: MAX_BUCKETS,
            });
        }
        let mut buckets = Vec::new();
        let mut start = first_bucket;
        while start <= last_bucket {
            buckets.push(Bucket {
                // The first bucket starts with the period even mid-week.
                start: start.max(first_day),
                revenue: Sum::new(currency),
                orders: 0,
                active: 0,
            });
            start = start
                .checked_add(Duration::days(step))
                .ok_or(ReportError::OutOfRange)?;
        }
        Ok(OverviewBuilder {
            period,
            interval,
            currency,
            origin: first_bucket
                .with_time(time::Time::MIDNIGHT)
                .assume_offset(offset)
                .unix_timestamp(),
            buckets,
            revenue: Sum::new(currency),
            orders: 0,
            customers: CustomerTotals::default(),
            raw: RawCustomers::default(),
            prior_count: None,
            vouchers: VoucherCounts::default(),
            points: PointsTotals::default(),
            programme_cost: ProgrammeCostBuilder::new(currency),
        })
    }

    /// Adds an order. Orders outside the period and orders that do not count are
    /// ignored; an order in another currency is an error.
    pub fn add_order(&mut self, order: &OrderFact) -> Result<(), ReportError> {
        let Some(net) = counted_net(order, self.currency)? else {
            return Ok(());
        };
        if !self.period.contains(order.placed_at) {
            return Ok(());
        }
        // A fixed offset makes every local day 86,400 seconds long, so the bucket is
        // plain arithmetic on the instant (no calendar per order).
        let days = (order.placed_at.unix_timestamp() - self.origin).div_euclid(86_400);
        let index = days / step_days(self.interval);
        let slot = u32::try_from(index).map_err(|_| ReportError::OutOfRange)?;
        self.fold_bucket(slot, net, 1, 0)?;
        if let Some(customer) = order.customer {
            self.raw.visit(customer, slot)?;
        }
        Ok(())
    }

    /// How storage numbers the buckets of [`BucketTotals`].
    pub fn bucketing(&self) -> Bucketing {
        Bucketing {
            origin: OffsetDateTime::from_unix_timestamp(self.origin).unwrap_or(self.period.from),
            width: Duration::days(step_days(self.interval)),
        }
    }

    /// Adds one bucket's counted orders as storage added them up. A row in another
    /// currency, or of a bucket the period does not have, is an error.
    pub fn add_bucket(&mut self, totals: &BucketTotals) -> Result<(), ReportError> {
        if totals.revenue.currency() != self.currency {
            return Err(ReportError::Currency {
                expected: self.currency,
                found: totals.revenue.currency(),
            });
        }
        self.fold_bucket(
            totals.bucket,
            totals.revenue.amount(),
            totals.orders,
            totals.active_customers,
        )
    }

    /// Adds the period's customer counts as storage counted them (they add up over
    /// disjoint sets of customers).
    pub fn add_customer_totals(&mut self, totals: CustomerTotals) {
        self.customers.add(totals);
    }

    /// The one fold of a bucket's figures, whichever way they came.
    fn fold_bucket(
        &mut self,
        slot: u32,
        revenue: Decimal,
        orders: u64,
        active: u64,
    ) -> Result<(), ReportError> {
        let bucket = self
            .buckets
            .get_mut(slot as usize)
            .ok_or(ReportError::OutOfRange)?;
        bucket.revenue.add(revenue)?;
        bucket.orders += orders;
        bucket.active += active;
        self.revenue.add(revenue)?;
        self.orders += orders;
        Ok(())
    }

    /// Adds a customer who had a counted order before the period. Adding one twice
    /// counts once.
    pub fn add_prior_customer(&mut self, customer: CustomerId) {
        self.raw.add_prior(customer);
    }

    /// Sets how many prior customers there are, counted by storage, so a brand with
    /// millions of past customers is never held in memory: with raw orders, only the
    /// prior customers among the period's active ones then need adding with
    /// [`add_prior_customer`](Self::add_prior_customer).
    pub fn set_prior_count(&mut self, count: u64) {
        self.prior_count = Some(count);
    }

    /// Adds voucher counts (they add up, so they may come in parts).
    pub fn add_vouchers(&mut self, counts: VoucherCounts) {
        self.vouchers.issued += counts.issued;
        self.vouchers.redeemed += counts.redeemed;
    }

    /// Adds one redeemed voucher's cost, `None` when it cannot be valued (see
    /// [`ProgrammeCostBuilder::add`]).
    pub fn add_redeemed_voucher(&mut self, cost: Option<Money>) -> Result<(), ReportError> {
        self.programme_cost.add(cost)
    }

    /// Adds points totals (they add up, so they may come in parts).
    pub fn add_points(&mut self, totals: PointsTotals) -> Result<(), ReportError> {
        self.points.earned = self
            .points
            .earned
            .checked_add(totals.earned)
            .ok_or(ReportError::Overflow("points earned"))?;
        self.points.redeemed = self
            .points
            .redeemed
            .checked_add(totals.redeemed)
            .ok_or(ReportError::Overflow("points redeemed"))?;
        Ok(())
    }

    /// The overview.
    pub fn finish(mut self) -> Result<Overview, ReportError> {
        let raw_prior = self.raw.prior_len();
        let (per_bucket, raw_totals) = std::mem::take(&mut self.raw).group();
        for (slot, active) in per_bucket {
            self.fold_bucket(slot, Decimal::ZERO, 0, active)?;
        }
        self.customers.add(raw_totals);
        let CustomerTotals {
            active,
            repeat,
            returning,
        } = self.customers;
        let returning = returning.min(active);
        let prior = self.prior_count.unwrap_or(raw_prior).max(returning);
        let average_order_value = if self.orders == 0 {
            None
        } else {
            let average = (self.revenue.amount() / Decimal::from(self.orders))
                .round_dp_with_strategy(
                    self.currency.minor_units(),
                    RoundingStrategy::MidpointAwayFromZero,
                );
            Some(money(average, self.currency)?)
        };
        let series = self
            .buckets
            .iter()
            .map(|b| {
                Ok(SeriesPoint {
                    start: b.start,
                    revenue: b.revenue.money()?,
                    orders: b.orders,
                    active_customers: b.active,
                })
            })
            .collect::<Result<Vec<_>, ReportError>>()?;
        Ok(Overview {
            period: self.period,
            interval: self.interval,
            revenue: self.revenue.money()?,
            orders: self.orders,
            active_customers: active,
            new_customers: active - returning,
            returning_customers: returning,
            repeat_customers: repeat,
            repeat_rate: ratio(repeat, active),
            prior_customers: prior,
            comeback_rate: ratio(returning, prior),
            average_order_value,
            vouchers: self.vouchers,
            voucher_redemption_rate: ratio(self.vouchers.redeemed, self.vouchers.issued),
            points: self.points,
            points_redeemed_per_earned: decimal_ratio(
                Decimal::from(self.points.redeemed.value()),
                Decimal::from(self.points.earned.value()),
            ),
            programme_cost: self.programme_cost.finish()?,
            series,
        })
    }
}

fn step_days(interval: Interval) -> i64 {
    match interval {
        Interval::Day => 1,
        Interval::Week => 7,
    }
}

fn bucket_start(day: Date, interval: Interval) -> Date {
    match interval {
        Interval::Day => day,
        Interval::Week => {
            let back = i64::from(day.weekday().number_days_from_monday());
            day.checked_sub(Duration::days(back)).unwrap_or(Date::MIN)
        }
    }
}
