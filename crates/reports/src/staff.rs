//! The figures of a period by staff member at the till: per staff member and location,
//! the orders they rang up and their revenue, the customers they signed up and the
//! vouchers they redeemed, adding up to the period's totals.

use crate::facts::{OrderFact, ReportError, Sum, counted_net};
use regulars_domain::{Currency, Money, StaffId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One staff member's figures at one location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffRow {
    /// The staff member; `None` in the total row.
    pub staff: Option<StaffId>,
    /// The location code; `None` in the total row.
    pub location: Option<String>,
    /// Counted orders rung up.
    pub orders: u64,
    /// Their revenue, net of refunds.
    pub revenue: Money,
    /// Customers signed up.
    pub sign_ups: u64,
    /// Vouchers redeemed.
    pub vouchers_redeemed: u64,
}

/// A period's figures by staff member: the rows add up to the total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffReport {
    /// One row per staff member and location with anything in the period, highest
    /// revenue first (ties by orders, then by staff id and location).
    pub rows: Vec<StaffRow>,
    /// The sum of the rows.
    pub total: StaffRow,
}

#[derive(Debug, Clone)]
struct Slot {
    orders: u64,
    revenue: Sum,
    sign_ups: u64,
    vouchers: u64,
}

/// Folds till actions into a [`StaffReport`], in any order.
///
/// ```
/// use regulars_domain::{Currency, Money, OrderId, StaffId};
/// use regulars_reports::{OrderFact, StaffBuilder};
/// use time::macros::datetime;
///
/// let vnd = |n| Money::from_minor_units(n, Currency::VND);
/// let lan = StaffId::from_bytes([1; 16]);
/// let mut report = StaffBuilder::new(Currency::VND);
/// report.add_order(lan, "Q1", &OrderFact {
///     id: OrderId::from_bytes([7; 16]),
///     customer: None,
///     location: Some("Q1".into()),
///     placed_at: datetime!(2026-12-01 09:00 +7),
///     total: vnd(45_000),
///     refunded: vnd(0),
/// })?;
/// report.add_sign_up(lan, "Q1");
/// report.add_voucher(lan, "Q1");
/// let report = report.finish()?;
/// assert_eq!(report.rows.len(), 1);
/// assert_eq!((report.total.orders, report.total.sign_ups, report.total.vouchers_redeemed), (1, 1, 1));
/// assert_eq!(report.total.revenue, vnd(45_000));
/// # Ok::<(), regulars_reports::ReportError>(())
/// ```
#[derive(Debug, Clone)]
pub struct StaffBuilder {
    currency: Currency,
    slots: BTreeMap<(StaffId, String), Slot>,
}

impl StaffBuilder {
    /// An empty report in `currency`.
    pub fn new(currency: Currency) -> Self {
        StaffBuilder {
            currency,
            slots: BTreeMap::new(),
        }
    }

    fn slot(&mut self, staff: StaffId, location: &str) -> &mut Slot {
        let currency = self.currency;
        self.slots
            .entry((staff, location.to_owned()))
            .or_insert_with(|| Slot {
                orders: 0,
                revenue: Sum::new(currency),
                sign_ups: 0,
                vouchers: 0,
            })
    }

    /// Adds an order `staff` rang up at `location`; one that does not count
    /// ([`OrderFact::counts`]) adds nothing.
    pub fn add_order(
        &mut self,
        staff: StaffId,
        location: &str,
        order: &OrderFact,
    ) -> Result<(), ReportError> {
        let Some(net) = counted_net(order, self.currency)? else {
            return Ok(());
        };
        let slot = self.slot(staff, location);
        slot.revenue.add(net)?;
        slot.orders += 1;
        Ok(())
    }

    /// Adds a customer `staff` signed up at `location`.
    pub fn add_sign_up(&mut self, staff: StaffId, location: &str) {
        self.slot(staff, location).sign_ups += 1;
    }

    /// Adds a voucher `staff` redeemed at `location`.
    pub fn add_voucher(&mut self, staff: StaffId, location: &str) {
        self.slot(staff, location).vouchers += 1;
    }

    /// The report.
    pub fn finish(self) -> Result<StaffReport, ReportError> {
        let mut total = Sum::new(self.currency);
        let (mut orders, mut sign_ups, mut vouchers) = (0u64, 0u64, 0u64);
        let mut rows = Vec::with_capacity(self.slots.len());
        for ((staff, location), slot) in self.slots {
            total.add(slot.revenue.amount())?;
            orders += slot.orders;
            sign_ups += slot.sign_ups;
            vouchers += slot.vouchers;
            rows.push(StaffRow {
                staff: Some(staff),
                location: Some(location),
                orders: slot.orders,
                revenue: slot.revenue.money()?,
                sign_ups: slot.sign_ups,
                vouchers_redeemed: slot.vouchers,
            });
        }
        rows.sort_by(|a, b| {
            b.revenue
                .amount()
                .cmp(&a.revenue.amount())
                .then(b.orders.cmp(&a.orders))
                .then(a.staff.cmp(&b.staff))
                .then(a.location.cmp(&b.location))
        });
        Ok(StaffReport {
            rows,
            total: StaffRow {
                staff: None,
                location: None,
                orders,
                revenue: total.money()?,
                sign_ups,
                vouchers_redeemed: vouchers,
            },
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use regulars_domain::OrderId;
    use rust_decimal::Decimal;
    use time::macros::datetime;

    fn vnd(n: i64) -> Money {
        Money::from_minor_units(n, Currency::VND)
    }

    #[derive(Debug, Clone)]
    enum Action {
        Order(u8, u8, i64, i64),
        SignUp(u8, u8),
        Voucher(u8, u8),
    }

    fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            (0u8..4, 0u8..3, 0i64..1_000_000, 0i64..1_000_000)
                .prop_map(|(s, l, t, r)| Action::Order(s, l, t, r.min(t))),
            (0u8..4, 0u8..3).prop_map(|(s, l)| Action::SignUp(s, l)),
            (0u8..4, 0u8..3).prop_map(|(s, l)| Action::Voucher(s, l)),
        ]
    }

    fn fold(actions: &[Action]) -> StaffReport {
        let mut builder = StaffBuilder::new(Currency::VND);
        for (n, a) in actions.iter().enumerate() {
            match *a {
                Action::Order(s, l, total, refunded) => builder
                    .add_order(
                        StaffId::from_bytes([s; 16]),
                        &format!("L{l}"),
                        &OrderFact {
                            id: OrderId::from_bytes([(n % 250) as u8; 16]),
                            customer: None,
                            location: Some(format!("L{l}")),
                            placed_at: datetime!(2026-12-01 09:00 UTC),
                            total: vnd(total),
                            refunded: vnd(refunded),
                        },
                    )
                    .unwrap(),
                Action::SignUp(s, l) => {
                    builder.add_sign_up(StaffId::from_bytes([s; 16]), &format!("L{l}"))
                }
                Action::Voucher(s, l) => {
                    builder.add_voucher(StaffId::from_bytes([s; 16]), &format!("L{l}"))
                }
            }
        }
        builder.finish().unwrap()
    }

    proptest! {
        /// The rows add up to the total, the total is what the actions add up to, and
        /// the order the actions come in changes nothing.
        #[test]
        fn rows_add_up_to_the_total(actions in proptest::collection::vec(action(), 0..60)) {
            let report = fold(&actions);
            let sum = |f: fn(&StaffRow) -> u64| report.rows.iter().map(f).sum::<u64>();
            prop_assert_eq!(sum(|r| r.orders), report.total.orders);
            prop_assert_eq!(sum(|r| r.sign_ups), report.total.sign_ups);
            prop_assert_eq!(sum(|r| r.vouchers_redeemed), report.total.vouchers_redeemed);
            let revenue: Decimal = report.rows.iter().map(|r| r.revenue.amount()).sum();
            prop_assert_eq!(revenue, report.total.revenue.amount());

            let counted: Vec<(i64, i64)> = actions.iter().filter_map(|a| match *a {
                Action::Order(_, _, t, r) if !(r > 0 && r == t) => Some((t, r)),
                _ => None,
            }).collect();
            prop_assert_eq!(report.total.orders, counted.len() as u64);
            prop_assert_eq!(report.total.revenue, vnd(counted.iter().map(|(t, r)| t - r).sum()));
            let signed = actions.iter().filter(|a| matches!(a, Action::SignUp(..))).count() as u64;
            prop_assert_eq!(report.total.sign_ups, signed);

            let mut reversed = actions.clone();
            reversed.reverse();
            prop_assert_eq!(fold(&reversed), report);
        }
    }
}
