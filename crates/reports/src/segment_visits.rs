//! Who of each segment came in during a period: per segment, the members with at least
//! one counted order, their orders and the revenue of those orders.
//!
//! Read at one location, or at a manager's locations, it says which of the brand's
//! segments that shop serves. The orders and revenue of the rows add up to the period's
//! totals, and across locations to the brand's; a member is counted once per row, so a
//! customer who came to two shops is a visitor of each shop but one visitor of the
//! brand (the brand's visitors are at most the sum over its shops).

use crate::facts::{IdMap, OrderFact, Period, ReportError, Sum, counted_net};
use crate::revenue::UNSCORED;
use regulars_domain::{Currency, CustomerId, Money};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One segment's visitors in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentVisitsRow {
    /// The segment (the latest scoring run's named segment); `None` for customers never
    /// scored ([`UNSCORED`]).
    pub segment: Option<String>,
    /// Members with at least one counted order in the period.
    pub visitors: u64,
    /// Their counted orders.
    pub orders: u64,
    /// Their revenue, net of refunds.
    pub revenue: Money,
}

impl SegmentVisitsRow {
    /// What to call the row: its segment, or [`UNSCORED`].
    pub fn label(&self) -> &str {
        self.segment.as_deref().unwrap_or(UNSCORED)
    }
}

/// The period's visitors by segment. Orders without a customer are no one's visit and
/// are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentVisits {
    /// The period.
    pub period: Period,
    /// Customers with at least one counted order (the sum of the rows' visitors).
    pub visitors: u64,
    /// Their counted orders (the sum of the rows').
    pub orders: u64,
    /// Their revenue (the sum of the rows').
    pub revenue: Money,
    /// One row per segment with a visitor, most visitors first (ties by name, the
    /// unscored last).
    pub rows: Vec<SegmentVisitsRow>,
}

/// Folds orders and customers' segments into [`SegmentVisits`], in any order.
///
/// ```
/// use regulars_domain::{Currency, CustomerId, Money, OrderId};
/// use regulars_reports::{OrderFact, Period, SegmentVisitsBuilder};
/// use time::macros::{date, datetime, offset};
///
/// let vnd = |n| Money::from_minor_units(n, Currency::VND);
/// let an = CustomerId::from_bytes([1; 16]);
/// let period = Period::local_days(date!(2026 - 11 - 01), date!(2026 - 12 - 01), offset!(+7))?;
/// let mut visits = SegmentVisitsBuilder::new(period, Currency::VND);
/// for n in 1..=2 {
///     visits.add_order(&OrderFact {
///         id: OrderId::from_bytes([n; 16]),
///         customer: Some(an),
///         location: Some("Q1".into()),
///         placed_at: datetime!(2026-11-02 08:00 +7),
///         total: vnd(30_000),
///         refunded: vnd(0),
///     })?;
/// }
/// visits.add_segment(an, "Loyal".into());
/// let visits = visits.finish()?;
/// assert_eq!((visits.visitors, visits.orders), (1, 2));
/// assert_eq!(visits.rows[0].label(), "Loyal");
/// assert_eq!(visits.rows[0].revenue, vnd(60_000));
/// # Ok::<(), regulars_reports::ReportError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SegmentVisitsBuilder {
    period: Period,
    currency: Currency,
    per_customer: IdMap<CustomerId, (Sum, u64)>,
    segments: IdMap<CustomerId, String>,
}

impl SegmentVisitsBuilder {
    /// A builder for `period`, money in `currency`.
    pub fn new(period: Period, currency: Currency) -> Self {
        SegmentVisitsBuilder {
            period,
            currency,
            per_customer: IdMap::default(),
            segments: IdMap::default(),
        }
    }

    /// Adds an order; one outside the period, refunded in full or without a customer is
    /// ignored.
    pub fn add_order(&mut self, order: &OrderFact) -> Result<(), ReportError> {
        let Some(net) = counted_net(order, self.currency)? else {
            return Ok(());
        };
        let Some(customer) = order.customer else {
            return Ok(());
        };
        if !self.period.contains(order.placed_at) {
            return Ok(());
        }
        let currency = self.currency;
        let slot = self
            .per_customer
            .entry(customer)
            .or_insert_with(|| (Sum::new(currency), 0));
        slot.0.add(net)?;
        slot.1 += 1;
        Ok(())
    }

    /// Says which segment a customer is in (the latest scoring run's).
    pub fn add_segment(&mut self, customer: CustomerId, segment: String) {
        self.segments.insert(customer, segment);
    }

    /// The report.
    pub fn finish(self) -> Result<SegmentVisits, ReportError> {
        let mut groups: HashMap<Option<String>, (u64, u64, Sum)> = HashMap::new();
        let mut total = Sum::new(self.currency);
        let mut orders = 0;
        for (customer, (sum, count)) in &self.per_customer {
            let key = self.segments.get(customer).cloned();
            let slot = groups
                .entry(key)
                .or_insert_with(|| (0, 0, Sum::new(self.currency)));
            slot.0 += 1;
            slot.1 += count;
            slot.2.add(sum.amount())?;
            total.add(sum.amount())?;
            orders += count;
        }
        let mut rows = groups
            .into_iter()
            .map(|(segment, (visitors, orders, sum))| {
                Ok(SegmentVisitsRow {
                    segment,
                    visitors,
                    orders,
                    revenue: sum.money()?,
                })
            })
            .collect::<Result<Vec<_>, ReportError>>()?;
        rows.sort_by(|a, b| {
            b.visitors
                .cmp(&a.visitors)
                .then_with(|| match (&a.segment, &b.segment) {
                    (Some(x), Some(y)) => x.cmp(y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                })
        });
        Ok(SegmentVisits {
            period: self.period,
            visitors: self.per_customer.len() as u64,
            orders,
            revenue: total.money()?,
            rows,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use regulars_domain::OrderId;
    use time::macros::{date, datetime, offset};

    fn period() -> Period {
        Period::local_days(date!(2026 - 11 - 01), date!(2026 - 12 - 01), offset!(+7)).unwrap()
    }

    /// (customer, location, day of November (0: October), total, refunded in full).
    type Raw = (u8, u8, u8, i64, bool);

    fn fact(n: usize, (customer, location, day, total, refunded): Raw) -> OrderFact {
        let vnd = |n| Money::from_minor_units(n, Currency::VND);
        let at = datetime!(2026-10-31 12:00 +7) + time::Duration::days(i64::from(day));
        OrderFact {
            id: OrderId::from_bytes([n as u8; 16]),
            customer: (customer > 0).then(|| CustomerId::from_bytes([customer; 16])),
            location: Some(format!("l{location}")),
            placed_at: at,
            total: vnd(total),
            refunded: vnd(if refunded { total } else { 0 }),
        }
    }

    fn build(orders: &[OrderFact], scored: u8) -> SegmentVisits {
        let mut builder = SegmentVisitsBuilder::new(period(), Currency::VND);
        for o in orders {
            builder.add_order(o).unwrap();
        }
        for c in 1..=scored {
            let name = if c % 2 == 0 { "Even" } else { "Odd" };
            builder.add_segment(CustomerId::from_bytes([c; 16]), name.to_owned());
        }
        builder.finish().unwrap()
    }

    fn raw() -> impl Strategy<Value = Vec<Raw>> {
        proptest::collection::vec(
            (0u8..6, 0u8..3, 0u8..32, 1i64..500_000, any::<bool>()),
            0..30,
        )
    }

    proptest! {
        /// The rows add up to the totals; by location, orders and revenue add up to the
        /// whole's and visitors to at least the whole's, at most the sum; the facts' order
        /// does not matter.
        #[test]
        fn locations_add_up_to_the_whole(raw in raw(), scored in 0u8..6) {
            let orders: Vec<OrderFact> = raw.into_iter().enumerate().map(|(n, r)| fact(n, r)).collect();
            let whole = build(&orders, scored);
            let visitors: u64 = whole.rows.iter().map(|r| r.visitors).sum();
            let row_orders: u64 = whole.rows.iter().map(|r| r.orders).sum();
            prop_assert_eq!(visitors, whole.visitors);
            prop_assert_eq!(row_orders, whole.orders);
            let mut reversed = orders.clone();
            reversed.reverse();
            prop_assert_eq!(&build(&reversed, scored), &whole);
            let (mut orders_sum, mut visitors_sum, mut most) = (0, 0, 0);
            let mut revenue = Money::zero(Currency::VND);
            for location in 0u8..3 {
                let here: Vec<OrderFact> = orders
                    .iter()
                    .filter(|o| o.location.as_deref() == Some(&format!("l{location}")))
                    .cloned()
                    .collect();
                let part = build(&here, scored);
                orders_sum += part.orders;
                visitors_sum += part.visitors;
                most = most.max(part.visitors);
                revenue = revenue.checked_add(&part.revenue).unwrap();
            }
            prop_assert_eq!(orders_sum, whole.orders);
            prop_assert_eq!(revenue, whole.revenue);
            prop_assert!(most <= whole.visitors && whole.visitors <= visitors_sum);
        }
    }
}
