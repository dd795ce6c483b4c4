//! Revenue of a period broken down by customer segment or by location.

use crate::facts::{IdMap, OrderFact, Period, ReportError, Sum, counted_net, decimal_ratio};
use regulars_domain::{Currency, CustomerId, Money};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The label of customers with no segment: never scored, or orders without a customer.
pub const UNSCORED: &str = "Unscored";
/// The label of orders the POS sent without a location.
pub const NO_LOCATION: &str = "No location";

/// What revenue is broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Breakdown {
    /// The customer's segment at the latest scoring run (the named RFM segment).
    Segment,
    /// The order's location code.
    Location,
}

/// One group's share of the revenue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevenueRow {
    /// The segment name or location code; `None` for [`UNSCORED`] / [`NO_LOCATION`].
    pub key: Option<String>,
    /// Revenue of the group's counted orders, net of refunds.
    pub revenue: Money,
    /// The group's counted orders.
    pub orders: u64,
    /// `revenue / total revenue`; `None` when the total is zero.
    pub share: Option<f64>,
}

impl RevenueRow {
    /// What to call the group: its key, or [`UNSCORED`] / [`NO_LOCATION`].
    pub fn label(&self, by: Breakdown) -> &str {
        match (&self.key, by) {
            (Some(key), _) => key,
            (None, Breakdown::Segment) => UNSCORED,
            (None, Breakdown::Location) => NO_LOCATION,
        }
    }
}

/// Revenue of a period by group. The rows' revenues and orders add up to the totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevenueReport {
    /// The period.
    pub period: Period,
    /// What the rows are.
    pub by: Breakdown,
    /// Revenue of the period (counted orders, net of refunds).
    pub total: Money,
    /// Counted orders of the period.
    pub orders: u64,
    /// One row per group with at least one counted order, highest revenue first (ties by
    /// key, the keyless group last).
    pub rows: Vec<RevenueRow>,
}

/// Folds orders (and, by segment, customers' segments) into a [`RevenueReport`]. Facts
/// may come in any order: a segment given after its customer's orders still applies.
///
/// ```
/// use regulars_domain::{Currency, CustomerId, Money, OrderId};
/// use regulars_reports::{Breakdown, OrderFact, Period, RevenueBuilder};
/// use time::macros::{date, datetime, offset};
///
/// let vnd = |n| Money::from_minor_units(n, Currency::VND);
/// let an = CustomerId::from_bytes([1; 16]);
/// let period = Period::local_days(date!(2026 - 11 - 01), date!(2026 - 12 - 01), offset!(+7))?;
/// let mut report = RevenueBuilder::new(period, Breakdown::Segment, Currency::VND);
/// report.add_order(&OrderFact {
///     id: OrderId::from_bytes([1; 16]),
///     customer: Some(an),
///     location: Some("Q1".into()),
///     placed_at: datetime!(2026-11-02 08:00 +7),
///     total: vnd(75_000),
///     refunded: vnd(0),
/// })?;
/// report.add_order(&OrderFact {
///     id: OrderId::from_bytes([2; 16]),
///     customer: None,
///     location: None,
///     placed_at: datetime!(2026-11-03 08:00 +7),
///     total: vnd(25_000),
///     refunded: vnd(0),
/// })?;
/// report.add_segment(an, "Champions".into());
/// let revenue = report.finish()?;
/// assert_eq!(revenue.total, vnd(100_000));
/// assert_eq!(revenue.rows[0].key.as_deref(), Some("Champions"));
/// assert_eq!(revenue.rows[0].share, Some(0.75));
/// assert_eq!(revenue.rows[1].label(Breakdown::Segment), "Unscored");
/// # Ok::<(), regulars_reports::ReportError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RevenueBuilder {
    period: Period,
    by: Breakdown,
    currency: Currency,
    total: Sum,
    orders: u64,
    /// By segment: per customer (`None`: no customer); by location: per location.
    groups: HashMap<Option<String>, (Sum, u64)>,
    per_customer: IdMap<Option<CustomerId>, (Sum, u64)>,
    segments: IdMap<CustomerId, String>,
}

impl RevenueBuilder {
    /// A builder for `period`, grouped `by`, money in `currency`.
    pub fn new(period: Period, by: Breakdown, currency: Currency) -> Self {
        RevenueBuilder {
            period,
            by,
            currency,
            total: Sum::new(currency),
            orders: 0,
            groups: HashMap::new(),
            per_customer: IdMap::default(),
            segments: IdMap::default(),
        }
    }

    /// Adds an order; orders outside the period or that do not count are ignored.
    pub fn add_order(&mut self, order: &OrderFact) -> Result<(), ReportError> {
        let Some(net) = counted_net(order, self.currency)? else {
            return Ok(());
        };
        if !self.period.contains(order.placed_at) {
            return Ok(());
        }
        self.total.add(net)?;
        self.orders += 1;
        let currency = self.currency;
        let slot = match self.by {
            Breakdown::Segment => self
                .per_customer
                .entry(order.customer)
                .or_insert_with(|| (Sum::new(currency), 0)),
            Breakdown::Location => {
                // Look up before inserting, so a known location is not cloned per order.
                if !self.groups.contains_key(&order.location) {
                    self.groups
                        .insert(order.location.clone(), (Sum::new(currency), 0));
                }
                self.groups
                    .get_mut(&order.location)
                    .ok_or(ReportError::OutOfRange)?
            }
        };
        slot.0.add(net)?;
        slot.1 += 1;
        Ok(())
    }

    /// Says which segment a customer is in (the latest scoring run's). Customers never
    /// given one are [`UNSCORED`]. Ignored when grouping by location.
    pub fn add_segment(&mut self, customer: CustomerId, segment: String) {
        if self.by == Breakdown::Segment {
            self.segments.insert(customer, segment);
        }
    }

    /// The report.
    pub fn finish(mut self) -> Result<RevenueReport, ReportError> {
        for (customer, (sum, orders)) in std::mem::take(&mut self.per_customer) {
            let key = customer.and_then(|c| self.segments.get(&c).cloned());
            let slot = self
                .groups
                .entry(key)
                .or_insert_with(|| (Sum::new(self.currency), 0));
            slot.0.add(sum.amount())?;
            slot.1 += orders;
        }
        let total = self.total.amount();
        let mut rows = self
            .groups
            .into_iter()
            .map(|(key, (sum, orders))| {
                Ok(RevenueRow {
                    key,
                    revenue: sum.money()?,
                    orders,
                    share: decimal_ratio(sum.amount(), total),
                })
            })
            .collect::<Result<Vec<_>, ReportError>>()?;
        rows.sort_by(|a, b| {
            b.revenue
                .amount()
                .cmp(&a.revenue.amount())
                .then_with(|| match (&a.key, &b.key) {
                    (Some(x), Some(y)) => x.cmp(y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                })
        });
        Ok(RevenueReport {
            period: self.period,
            by: self.by,
            total: self.total.money()?,
            orders: self.orders,
            rows,
        })
    }
}
