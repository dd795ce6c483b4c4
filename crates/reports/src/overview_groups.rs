//! The overview's figures as storage adds them up: one row per series bucket and one row
//! of customer counts, so a period with millions of orders reaches this process as a few
//! hundred rows. [`OverviewBuilder`](crate::OverviewBuilder) folds these rows — and
//! groups raw orders into the same rows itself — so both paths share one definition.

use crate::facts::{IdMap, IdSet, ReportError};
use regulars_domain::{CustomerId, Money};
use time::{Duration, OffsetDateTime};

/// How an order's time picks its series bucket: bucket `n` holds the orders placed in
/// `[origin + n·width, origin + (n+1)·width)` (the first bucket starts with the period,
/// which is never before `origin`). Storage groups by
/// `(placed_at − origin) div width`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucketing {
    /// The first bucket's local midnight (a Monday for weeks).
    pub origin: OffsetDateTime,
    /// A bucket's width: one day or seven.
    pub width: Duration,
}

/// One series bucket's counted orders, added up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketTotals {
    /// The bucket's number (see [`Bucketing`]).
    pub bucket: u32,
    /// Net revenue of the bucket's counted orders (total less refunds), in the order's
    /// currency: rows in another currency than the report's are an error.
    pub revenue: Money,
    /// Counted orders, with or without a customer.
    pub orders: u64,
    /// Distinct customers with a counted order in the bucket.
    pub active_customers: u64,
}

/// The period's customers, counted: those with a counted order in the period (*active*),
/// those of them with two or more (*repeat*), and those of them with a counted order
/// before the period too (*returning*).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CustomerTotals {
    /// Customers with a counted order in the period.
    pub active: u64,
    /// Active customers with at least two counted orders in the period.
    pub repeat: u64,
    /// Active customers with a counted order before the period.
    pub returning: u64,
}

impl CustomerTotals {
    /// Adds `other`'s counts (they add up over disjoint sets of customers).
    pub(crate) fn add(&mut self, other: CustomerTotals) {
        self.active += other.active;
        self.repeat += other.repeat;
        self.returning += other.returning;
    }
}

/// Raw orders' customers, remembered only to count them distinctly per bucket and per
/// period when the builder finishes — what storage does with `COUNT(DISTINCT …)`.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawCustomers {
    /// Per customer: counted orders in the period, and the buckets they fell in.
    customers: IdMap<CustomerId, Activity>,
    /// `(bucket << 32) | customer number` for every visit to a bucket, duplicates allowed;
    /// sorted and deduplicated at the end to count each bucket's distinct customers.
    /// Appending keeps the per-order work to one hash look-up.
    visits: Vec<u64>,
    /// Customers added as having ordered before the period.
    prior: IdSet<CustomerId>,
}

/// A customer's orders in the period.
#[derive(Debug, Clone, Copy)]
struct Activity {
    /// Counted orders.
    orders: u32,
    /// The customer's number in [`RawCustomers::visits`].
    index: u32,
    /// The bucket of the customer's latest visit recorded.
    last: u32,
}

impl RawCustomers {
    /// Records a counted order of `customer` in bucket `slot`.
    pub(crate) fn visit(&mut self, customer: CustomerId, slot: u32) -> Result<(), ReportError> {
        let next =
            u32::try_from(self.customers.len()).map_err(|_| ReportError::Overflow("customers"))?;
        let activity = self.customers.entry(customer).or_insert(Activity {
            orders: 0,
            index: next,
            last: u32::MAX,
        });
        activity.orders = activity.orders.saturating_add(1);
        // Orders come from storage in time order, so a customer's next order is mostly
        // in the bucket of the one before.
        if activity.last != slot {
            activity.last = slot;
            self.visits
                .push((u64::from(slot) << 32) | u64::from(activity.index));
        }
        Ok(())
    }

    /// Records a customer with a counted order before the period.
    pub(crate) fn add_prior(&mut self, customer: CustomerId) {
        self.prior.insert(customer);
    }

    /// How many prior customers were added.
    pub(crate) fn prior_len(&self) -> u64 {
        self.prior.len() as u64
    }

    /// The distinct customers per bucket, `(bucket, count)` by bucket, and the period's
    /// customer counts.
    pub(crate) fn group(mut self) -> (Vec<(u32, u64)>, CustomerTotals) {
        self.visits.sort_unstable();
        self.visits.dedup();
        let mut per_bucket: Vec<(u32, u64)> = Vec::new();
        for visit in &self.visits {
            let slot = (visit >> 32) as u32;
            match per_bucket.last_mut() {
                Some((last, n)) if *last == slot => *n += 1,
                _ => per_bucket.push((slot, 1)),
            }
        }
        let totals = CustomerTotals {
            active: self.customers.len() as u64,
            repeat: self.customers.values().filter(|a| a.orders >= 2).count() as u64,
            returning: self
                .customers
                .keys()
                .filter(|c| self.prior.contains(c))
                .count() as u64,
        };
        (per_bucket, totals)
    }
}
