//! The figures of a period by location: one row per shop, adding up to the brand's.

use crate::facts::{OrderFact, Period, ReportError, Sum, counted_net, ratio};
use regulars_domain::{Currency, Money, Points};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One location's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocationRow {
    /// The location code; `None` for orders the POS sent without one.
    pub location: Option<String>,
    /// Counted orders.
    pub orders: u64,
    /// Revenue of the counted orders, net of refunds.
    pub revenue: Money,
    /// Counted orders credited to a member (a customer of the programme).
    pub member_orders: u64,
    /// `member_orders / orders`: how much of the shop's trade the programme sees.
    pub members_share: Option<f64>,
    /// Points the location's orders of the period earned when they were credited
    /// (reversals by refunds are the customer's account's, not the shop's).
    pub points_earned: Points,
}

/// A period's figures by location: the rows add up to the totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocationReport {
    /// The period.
    pub period: Period,
    /// One row per location with an order or points in the period, highest revenue
    /// first (ties by code, orders without a location last).
    pub rows: Vec<LocationRow>,
    /// The sum of the rows.
    pub total: LocationRow,
}

#[derive(Debug, Clone)]
struct Slot {
    orders: u64,
    revenue: Sum,
    member_orders: u64,
    points: i64,
}

/// Folds orders and points per location into a [`LocationReport`], in any order.
///
/// ```
/// use regulars_domain::{Currency, CustomerId, Money, OrderId, Points};
/// use regulars_reports::{LocationBuilder, OrderFact, Period};
/// use time::macros::{date, datetime, offset};
///
/// let vnd = |n| Money::from_minor_units(n, Currency::VND);
/// let period = Period::local_days(date!(2026 - 11 - 01), date!(2026 - 12 - 01), offset!(+7))?;
/// let mut report = LocationBuilder::new(period, Currency::VND);
/// for (n, at, who) in [(1, "Q1", Some(CustomerId::from_bytes([1; 16]))), (2, "Q1", None), (3, "Q3", None)] {
///     report.add_order(&OrderFact {
///         id: OrderId::from_bytes([n; 16]),
///         customer: who,
///         location: Some(at.into()),
///         placed_at: datetime!(2026-11-10 09:00 +7),
///         total: vnd(50_000),
///         refunded: vnd(0),
///     })?;
/// }
/// report.add_points(Some("Q1".into()), Points::new(50))?;
/// let report = report.finish()?;
/// assert_eq!(report.rows[0].location.as_deref(), Some("Q1"));
/// assert_eq!(report.rows[0].members_share, Some(0.5));
/// assert_eq!(report.total.orders, 3);
/// assert_eq!(report.total.revenue, vnd(150_000));
/// # Ok::<(), regulars_reports::ReportError>(())
/// ```
#[derive(Debug, Clone)]
pub struct LocationBuilder {
    period: Period,
    currency: Currency,
    slots: BTreeMap<Option<String>, Slot>,
}

impl LocationBuilder {
    /// A builder for `period`, money in `currency`.
    pub fn new(period: Period, currency: Currency) -> Self {
        LocationBuilder {
            period,
            currency,
            slots: BTreeMap::new(),
        }
    }

    fn slot(&mut self, location: &Option<String>) -> &mut Slot {
        let currency = self.currency;
        self.slots.entry(location.clone()).or_insert_with(|| Slot {
            orders: 0,
            revenue: Sum::new(currency),
            member_orders: 0,
            points: 0,
        })
    }

    /// Adds an order; orders outside the period or that do not count are ignored.
    pub fn add_order(&mut self, order: &OrderFact) -> Result<(), ReportError> {
        let Some(net) = counted_net(order, self.currency)? else {
            return Ok(());
        };
        if !self.period.contains(order.placed_at) {
            return Ok(());
        }
        let slot = self.slot(&order.location);
        slot.revenue.add(net)?;
        slot.orders += 1;
        if order.customer.is_some() {
            slot.member_orders += 1;
        }
        Ok(())
    }

    /// Adds points earned by the period's orders at `location`.
    pub fn add_points(
        &mut self,
        location: Option<String>,
        points: Points,
    ) -> Result<(), ReportError> {
        let slot = self.slot(&location);
        slot.points = slot
            .points
            .checked_add(points.value())
            .ok_or(ReportError::Overflow("points"))?;
        Ok(())
    }

    /// The report.
    pub fn finish(self) -> Result<LocationReport, ReportError> {
        let mut total = Slot {
            orders: 0,
            revenue: Sum::new(self.currency),
            member_orders: 0,
            points: 0,
        };
        let mut rows = Vec::with_capacity(self.slots.len());
        for (location, slot) in self.slots {
            total.orders += slot.orders;
            total.member_orders += slot.member_orders;
            total.revenue.add(slot.revenue.amount())?;
            total.points = total
                .points
                .checked_add(slot.points)
                .ok_or(ReportError::Overflow("points"))?;
            rows.push(row(location, &slot)?);
        }
        rows.sort_by(|a, b| {
            b.revenue.amount().cmp(&a.revenue.amount()).then_with(|| {
                match (&a.location, &b.location) {
                    (Some(x), Some(y)) => x.cmp(y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                }
            })
        });
        Ok(LocationReport {
            period: self.period,
            rows,
            total: row(None, &total)?,
        })
    }
}

fn row(location: Option<String>, slot: &Slot) -> Result<LocationRow, ReportError> {
    Ok(LocationRow {
        location,
        orders: slot.orders,
        revenue: slot.revenue.money()?,
        member_orders: slot.member_orders,
        members_share: ratio(slot.member_orders, slot.orders),
        points_earned: Points::new(slot.points),
    })
}
