//! A customer's orders and visits as a caller of a [`Scope`] sees them.
//!
//! Points, tier and vouchers are the customer's, whichever shop they were earned at, so
//! every caller who may open the customer sees them whole. Orders are the shops': a
//! manager reads only the orders placed at its locations, and the visits and spend it is
//! shown are counted over those orders alone, exactly as the brand-wide figures are
//! counted over every order (an order is a visit, refunded or not; spend is what was
//! paid less what was refunded, never below nothing).

use crate::Services;
use crate::account::load_brand;
use crate::customer_list::scope_codes;
use crate::ingest::{fresh_stats, record_visit};
use crate::manage::{MAX_PAGE, ManageError, invalid, not_found, page_size};
use crate::scope::Scope;
use regulars_domain::{BrandId, CustomerId, Money, OrderId};
use regulars_ports::{CustomerStats, StoredOrder};
use regulars_reports::order_counts;

/// Adds `orders` to `stats` as visits: each order a visit at its time, its total less
/// what was refunded as spend (a spend never below nothing).
pub(crate) fn add_visits(
    stats: &mut CustomerStats,
    orders: &[StoredOrder],
) -> Result<(), ManageError> {
    let overflow = |e: regulars_domain::DomainError| invalid("orders", e.to_string());
    for stored in orders {
        let counted_before = stats.counted;
        record_visit(stats, &stored.order).map_err(overflow)?;
        if !order_counts(&stored.order.total, &stored.refunded) {
            stats.counted = counted_before;
        }
        let spend = stats
            .spend
            .checked_sub(&stored.refunded)
            .map_err(overflow)?;
        stats.spend = if spend.is_negative() {
            Money::zero(spend.currency())
        } else {
            spend
        };
    }
    Ok(())
}

impl Services {
    /// A page of the customer's orders by id after `after`: all of them for the whole
    /// brand, only those placed at the scope's locations otherwise. A customer of another
    /// brand, or of none, is [`ManageError::NotFound`].
    pub async fn customer_orders_in(
        &self,
        brand: BrandId,
        scope: &Scope,
        customer: CustomerId,
        after: Option<OrderId>,
        limit: u64,
    ) -> Result<Vec<StoredOrder>, ManageError> {
        let limit = page_size(limit)?;
        self.manage("customer_orders_in", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            if tx.customers().customer(brand, customer).await?.is_none() {
                return Err(not_found("customer", customer));
            }
            match scope_codes(tx, brand, scope).await? {
                None => Ok(tx
                    .orders()
                    .orders(brand, Some(customer), after, limit)
                    .await?),
                Some(codes) if codes.is_empty() => Ok(Vec::new()),
                Some(codes) => Ok(tx
                    .orders()
                    .orders_at(brand, &codes, Some(customer), after, limit)
                    .await?),
            }
        })
        .await
    }

    /// The customer's visits and spend as a caller of `scope` is shown them: `stats`
    /// (the brand-wide figures) unchanged for the whole brand; otherwise counted over the
    /// orders placed at the scope's locations, page by page, with the tier kept.
    pub async fn customer_stats_in(
        &self,
        brand: BrandId,
        scope: &Scope,
        stats: CustomerStats,
    ) -> Result<CustomerStats, ManageError> {
        if scope.is_brand() {
            return Ok(stats);
        }
        let mut shown = fresh_stats(stats.customer_id, stats.spend.currency());
        shown.tier = stats.tier;
        let mut after = None;
        loop {
            let page = self
                .customer_orders_in(brand, scope, stats.customer_id, after, MAX_PAGE)
                .await?;
            add_visits(&mut shown, &page)?;
            match page.last() {
                Some(last) if page.len() as u64 == MAX_PAGE => after = Some(last.id),
                _ => return Ok(shown),
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use regulars_domain::{Currency, EventKey, Order, Points};
    use time::OffsetDateTime;

    fn order(n: u8, location: u8, total: i64, refunded: i64) -> StoredOrder {
        let at = OffsetDateTime::UNIX_EPOCH + time::Duration::hours(i64::from(n));
        StoredOrder {
            id: OrderId::from_bytes([n; 16]),
            order: Order {
                brand_id: BrandId::from_bytes([2; 16]),
                key: EventKey::new("pos", format!("o{n}")).unwrap(),
                placed_at: at,
                location: Some(format!("l{location}")),
                customer_phone: None,
                lines: Vec::new(),
                total: Money::from_minor_units(total, Currency::VND),
            },
            customer_id: None,
            points_earned: Points::ZERO,
            refunded: Money::from_minor_units(refunded, Currency::VND),
        }
    }

    fn stats() -> CustomerStats {
        fresh_stats(CustomerId::from_bytes([1; 16]), Currency::VND)
    }

    proptest! {
        /// Counted location by location, the visits and spend add up to the figures of
        /// all the orders together; the first and last visits are the earliest and
        /// latest of any location.
        #[test]
        fn visits_by_location_add_up_to_the_whole(
            orders in proptest::collection::vec((0u8..3, 0i64..1_000_000, 0i64..1_200_000), 0..20),
        ) {
            let orders: Vec<StoredOrder> = orders
                .into_iter()
                .enumerate()
                .map(|(i, (l, total, refunded))| order(i as u8, l, total, refunded.min(total)))
                .collect();
            let mut whole = stats();
            add_visits(&mut whole, &orders).unwrap();
            let mut visits = 0;
            let mut spend = Money::zero(Currency::VND);
            let mut first = Vec::new();
            for location in 0u8..3 {
                let here: Vec<StoredOrder> = orders
                    .iter()
                    .filter(|o| o.order.location.as_deref() == Some(&format!("l{location}")))
                    .cloned()
                    .collect();
                let mut part = stats();
                add_visits(&mut part, &here).unwrap();
                visits += part.visits;
                spend = spend.checked_add(&part.spend).unwrap();
                first.extend(part.first_visit_at);
            }
            prop_assert_eq!(visits, whole.visits);
            prop_assert_eq!(spend, whole.spend);
            prop_assert_eq!(first.into_iter().min(), whole.first_visit_at);
        }
    }
}
