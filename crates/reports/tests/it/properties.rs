//! Invariants of the folds over random orders.

use proptest::prelude::*;
use regulars_domain::{Currency, CustomerId, Money, OrderId};
use regulars_reports::{
    Breakdown, BucketTotals, Bucketing, CohortBuilder, CustomerTotals, Interval, OrderFact,
    Overview, OverviewBuilder, Period, RevenueBuilder, RevenueReport, YearMonth,
};
use std::collections::{BTreeMap, BTreeSet};
use time::macros::{datetime, offset};
use time::{Duration, Month, OffsetDateTime, UtcOffset};

const OFFSET: UtcOffset = offset!(+7);
/// Orders fall in the three months before and the three months of the period.
const START: OffsetDateTime = datetime!(2026-01-01 00:00 +7);
const SPAN_MINUTES: i64 = 181 * 24 * 60;

fn vnd(n: i64) -> Money {
    Money::from_minor_units(n, Currency::VND)
}

fn customer(n: u8) -> CustomerId {
    CustomerId::from_bytes([n; 16])
}

fn period() -> Period {
    Period::new(
        datetime!(2026-04-01 00:00 +7),
        datetime!(2026-07-01 00:00 +7),
    )
    .unwrap()
}

prop_compose! {
    fn order_fact()(
        id in any::<[u8; 16]>(),
        who in prop::option::weighted(0.85, 0u8..8),
        location in prop::option::weighted(0.8, prop::sample::select(vec!["Q1", "Q3", "TD"])),
        minute in 0..SPAN_MINUTES,
        total in 0i64..200_000,
        refund in prop_oneof![3 => Just(0.0), 1 => Just(1.0), 1 => 0.0f64..1.0],
    ) -> OrderFact {
        let refunded = (total as f64 * refund).round() as i64;
        OrderFact {
            id: OrderId::from_bytes(id),
            customer: who.map(customer),
            location: location.map(str::to_owned),
            placed_at: START + Duration::minutes(minute),
            total: vnd(total),
            refunded: vnd(refunded.min(total)),
        }
    }
}

fn orders() -> impl Strategy<Value = Vec<OrderFact>> {
    prop::collection::vec(order_fact(), 0..60)
}

fn segments() -> impl Strategy<Value = BTreeMap<u8, String>> {
    prop::collection::btree_map(
        0u8..8,
        prop::sample::select(vec!["Champions".to_owned(), "At Risk".to_owned()]),
        0..8,
    )
}

/// Customers with a counted order before `at` — computed here, not by the crate.
fn prior_customers(orders: &[OrderFact], at: OffsetDateTime) -> BTreeSet<CustomerId> {
    orders
        .iter()
        .filter(|o| o.placed_at < at && counted(o))
        .filter_map(|o| o.customer)
        .collect()
}

/// The counting rule, restated: not refunded in full.
fn counted(o: &OrderFact) -> bool {
    let total = o.total.to_minor_units().unwrap();
    let refunded = o.refunded.to_minor_units().unwrap();
    refunded == 0 || refunded < total
}

fn overview(orders: &[OrderFact], interval: Interval) -> Overview {
    let mut b = OverviewBuilder::new(period(), OFFSET, interval, Currency::VND).unwrap();
    for c in prior_customers(orders, period().from) {
        b.add_prior_customer(c);
    }
    for o in orders {
        b.add_order(o).unwrap();
    }
    b.finish().unwrap()
}

/// The counted orders of the period per bucket, as storage groups them:
/// `(placed_at − origin) div width`, net revenue summed, orders and distinct customers
/// counted.
fn grouped(orders: &[OrderFact], bucketing: Bucketing) -> Vec<BucketTotals> {
    let mut rows: BTreeMap<i64, (i64, u64, BTreeSet<CustomerId>)> = BTreeMap::new();
    for o in orders
        .iter()
        .filter(|o| period().contains(o.placed_at) && counted(o))
    {
        let bucket = (o.placed_at - bucketing.origin).whole_microseconds()
            / bucketing.width.whole_microseconds();
        let row = rows.entry(i64::try_from(bucket).unwrap()).or_default();
        row.0 += o.total.to_minor_units().unwrap() - o.refunded.to_minor_units().unwrap();
        row.1 += 1;
        row.2.extend(o.customer);
    }
    rows.into_iter()
        .map(|(bucket, (net, n, customers))| BucketTotals {
            bucket: u32::try_from(bucket).unwrap(),
            revenue: vnd(net),
            orders: n,
            active_customers: customers.len() as u64,
        })
        .collect()
}

/// The period's active, repeat and returning customers, counted from the raw orders.
fn customer_totals(orders: &[OrderFact]) -> CustomerTotals {
    let mut per: BTreeMap<CustomerId, u64> = BTreeMap::new();
    for o in orders
        .iter()
        .filter(|o| period().contains(o.placed_at) && counted(o))
    {
        if let Some(c) = o.customer {
            *per.entry(c).or_default() += 1;
        }
    }
    let prior = prior_customers(orders, period().from);
    CustomerTotals {
        active: per.len() as u64,
        repeat: per.values().filter(|n| **n >= 2).count() as u64,
        returning: per.keys().filter(|c| prior.contains(c)).count() as u64,
    }
}

fn revenue(orders: &[OrderFact], by: Breakdown, segments: &BTreeMap<u8, String>) -> RevenueReport {
    let mut b = RevenueBuilder::new(period(), by, Currency::VND);
    for o in orders {
        b.add_order(o).unwrap();
    }
    for (c, s) in segments {
        b.add_segment(customer(*c), s.clone());
    }
    b.finish().unwrap()
}

fn in_unit(rate: Option<f64>) -> bool {
    rate.is_none_or(|r| (0.0..=1.0).contains(&r))
}

proptest! {
    #[test]
    fn revenue_matches_a_plain_sum_of_counted_orders(orders in orders()) {
        let expected: i64 = orders
            .iter()
            .filter(|o| period().contains(o.placed_at) && counted(o))
            .map(|o| o.total.to_minor_units().unwrap() - o.refunded.to_minor_units().unwrap())
            .sum();
        let count = orders.iter().filter(|o| period().contains(o.placed_at) && counted(o)).count();
        let daily = overview(&orders, Interval::Day);
        prop_assert_eq!(daily.revenue, vnd(expected));
        prop_assert_eq!(daily.orders, count as u64);
        let series: i64 = daily.series.iter().map(|p| p.revenue.to_minor_units().unwrap()).sum();
        prop_assert_eq!(series, expected);
        prop_assert_eq!(daily.series.iter().map(|p| p.orders).sum::<u64>(), count as u64);
        prop_assert_eq!(daily.series.len(), 91); // April, May, June
        // Distinct customers per local day, worked out with the calendar.
        let mut per_day: BTreeMap<time::Date, BTreeSet<CustomerId>> = BTreeMap::new();
        for o in orders.iter().filter(|o| period().contains(o.placed_at) && counted(o)) {
            if let Some(c) = o.customer {
                per_day.entry(o.placed_at.to_offset(OFFSET).date()).or_default().insert(c);
            }
        }
        for point in &daily.series {
            let expected = per_day.get(&point.start).map_or(0, BTreeSet::len);
            prop_assert_eq!(point.active_customers, expected as u64, "{}", point.start);
        }
        let weekly = overview(&orders, Interval::Week);
        let active: BTreeSet<CustomerId> = per_day.values().flatten().copied().collect();
        prop_assert_eq!(weekly.active_customers, active.len() as u64);
    }

    #[test]
    fn revenue_by_segment_and_by_location_sum_to_the_total(
        orders in orders(),
        segments in segments(),
    ) {
        let total = overview(&orders, Interval::Week);
        for by in [Breakdown::Segment, Breakdown::Location] {
            let report = revenue(&orders, by, &segments);
            prop_assert_eq!(report.total, total.revenue);
            prop_assert_eq!(report.orders, total.orders);
            let sum: i64 = report.rows.iter().map(|r| r.revenue.to_minor_units().unwrap()).sum();
            prop_assert_eq!(vnd(sum), total.revenue);
            prop_assert_eq!(report.rows.iter().map(|r| r.orders).sum::<u64>(), total.orders);
            for row in &report.rows {
                prop_assert!(in_unit(row.share));
            }
            let keys: BTreeSet<_> = report.rows.iter().map(|r| r.key.clone()).collect();
            prop_assert_eq!(keys.len(), report.rows.len());
        }
    }

    /// Storage may count the prior customers itself and name only those active in the
    /// period: the overview is the same as with every prior customer added.
    #[test]
    fn counted_prior_customers_give_the_same_overview(orders in orders()) {
        let all = overview(&orders, Interval::Week);
        let mut b = OverviewBuilder::new(period(), OFFSET, Interval::Week, Currency::VND).unwrap();
        for o in &orders {
            b.add_order(o).unwrap();
        }
        let prior = prior_customers(&orders, period().from);
        b.set_prior_count(prior.len() as u64);
        let active: BTreeSet<CustomerId> = orders
            .iter()
            .filter(|o| period().contains(o.placed_at) && counted(o))
            .filter_map(|o| o.customer)
            .collect();
        for c in active.into_iter().filter(|c| prior.contains(c)) {
            b.add_prior_customer(c);
        }
        prop_assert_eq!(b.finish().unwrap(), all);
    }

    /// Storage adds the orders up per bucket and counts the customers itself (grouped
    /// sums and `COUNT(DISTINCT …)`, restated here over the raw orders): folding those
    /// rows, in any order, gives the overview of the raw orders.
    #[test]
    fn grouped_rows_give_the_overview_of_the_raw_orders(orders in orders(), reverse in any::<bool>()) {
        for interval in [Interval::Day, Interval::Week] {
            let raw = overview(&orders, interval);
            let mut b = OverviewBuilder::new(period(), OFFSET, interval, Currency::VND).unwrap();
            let mut rows = grouped(&orders, b.bucketing());
            if reverse {
                rows.reverse();
            }
            for row in &rows {
                b.add_bucket(row).unwrap();
            }
            b.add_customer_totals(customer_totals(&orders));
            b.set_prior_count(prior_customers(&orders, period().from).len() as u64);
            prop_assert_eq!(b.finish().unwrap(), raw);
        }
    }

    #[test]
    fn rates_are_shares(orders in orders(), issued in 0u64..50, redeemed in 0u64..50) {
        let mut b = OverviewBuilder::new(period(), OFFSET, Interval::Day, Currency::VND).unwrap();
        for c in prior_customers(&orders, period().from) {
            b.add_prior_customer(c);
        }
        for o in &orders {
            b.add_order(o).unwrap();
        }
        b.add_vouchers(regulars_reports::VoucherCounts { issued, redeemed: redeemed.min(issued) });
        let o = b.finish().unwrap();
        prop_assert!(in_unit(o.repeat_rate));
        prop_assert!(in_unit(o.comeback_rate));
        prop_assert!(in_unit(o.voucher_redemption_rate));
        prop_assert_eq!(o.new_customers + o.returning_customers, o.active_customers);
        prop_assert!(o.repeat_customers <= o.active_customers);
        prop_assert!(o.returning_customers <= o.prior_customers);
        for p in &o.series {
            prop_assert!(p.active_customers <= o.active_customers);
        }
    }

    #[test]
    fn a_full_refund_removes_the_order(orders in orders(), extra in order_fact()) {
        let mut refunded = extra.clone();
        refunded.refunded = refunded.total;
        // A refund of zero is no refund: give it something to refund.
        refunded.total = refunded.total.checked_add(&vnd(1)).unwrap();
        refunded.refunded = refunded.total;
        let mut with = orders.clone();
        with.push(refunded);
        prop_assert_eq!(overview(&with, Interval::Day), overview(&orders, Interval::Day));
        let segments = BTreeMap::new();
        prop_assert_eq!(
            revenue(&with, Breakdown::Location, &segments),
            revenue(&orders, Breakdown::Location, &segments)
        );
        prop_assert_eq!(cohorts(&with), cohorts(&orders));
    }

    #[test]
    fn results_do_not_depend_on_input_order(
        orders in orders(),
        segments in segments(),
        seed in any::<u64>(),
    ) {
        let mut shuffled = orders.clone();
        // A Fisher–Yates shuffle driven by the seed.
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        for interval in [Interval::Day, Interval::Week] {
            prop_assert_eq!(overview(&shuffled, interval), overview(&orders, interval));
        }
        for by in [Breakdown::Segment, Breakdown::Location] {
            prop_assert_eq!(revenue(&shuffled, by, &segments), revenue(&orders, by, &segments));
        }
        prop_assert_eq!(cohorts(&shuffled), cohorts(&orders));
    }

    #[test]
    fn cohort_sizes_sum_to_new_customers_of_the_table(orders in orders()) {
        let table = cohorts(&orders);
        let start = datetime!(2026-02-01 00:00 +7);
        let prior = prior_customers(&orders, start);
        let in_table: BTreeSet<CustomerId> = orders
            .iter()
            .filter(|o| o.placed_at >= start && counted(o))
            .filter_map(|o| o.customer)
            .filter(|c| !prior.contains(c))
            .collect();
        prop_assert_eq!(table.customers, in_table.len() as u64);
        prop_assert_eq!(table.cohorts.iter().map(|c| c.size).sum::<u64>(), in_table.len() as u64);
        for (i, cohort) in table.cohorts.iter().enumerate() {
            if cohort.size > 0 {
                prop_assert_eq!(cohort.retention.len(), 5 - i);
                prop_assert_eq!(cohort.retention[0].customers, cohort.size);
            }
            for cell in &cohort.retention {
                prop_assert!((0.0..=1.0).contains(&cell.share));
                prop_assert!(cell.customers <= cohort.size);
            }
        }
    }
}

/// February to June 2026, as known in mid-June.
fn cohorts(orders: &[OrderFact]) -> regulars_reports::Cohorts {
    let first = YearMonth {
        year: 2026,
        month: Month::February,
    };
    let mut b = CohortBuilder::new(
        first,
        5,
        OFFSET,
        datetime!(2026-06-15 12:00 +7),
        Currency::VND,
    )
    .unwrap();
    for c in prior_customers(orders, b.window_start()) {
        b.add_prior_customer(c);
    }
    for o in orders {
        b.add_order(o).unwrap();
    }
    b.finish().unwrap()
}

fn by_location(orders: &[OrderFact]) -> regulars_reports::LocationReport {
    let mut b = regulars_reports::LocationBuilder::new(period(), Currency::VND);
    for o in orders {
        b.add_order(o).unwrap();
    }
    b.finish().unwrap()
}

proptest! {
    /// The rows by location add up to the totals, the totals are the overview's, and
    /// each row is the report of that location's orders alone (so a report limited to
    /// some locations is the sum of their rows).
    #[test]
    fn locations_add_up_to_the_brand(orders in orders()) {
        let report = by_location(&orders);
        let brand = overview(&orders, Interval::Day);
        prop_assert_eq!(report.total.orders, brand.orders);
        prop_assert_eq!(report.total.revenue, brand.revenue);
        let orders_sum: u64 = report.rows.iter().map(|r| r.orders).sum();
        let members_sum: u64 = report.rows.iter().map(|r| r.member_orders).sum();
        let revenue_sum = report
            .rows
            .iter()
            .fold(vnd(0), |acc, r| acc.checked_add(&r.revenue).unwrap());
        prop_assert_eq!(orders_sum, report.total.orders);
        prop_assert_eq!(members_sum, report.total.member_orders);
        prop_assert_eq!(revenue_sum, report.total.revenue);
        for row in &report.rows {
            prop_assert!(in_unit(row.members_share));
            let alone: Vec<OrderFact> = orders
                .iter()
                .filter(|o| o.location == row.location)
                .cloned()
                .collect();
            let only = by_location(&alone);
            prop_assert_eq!(only.rows.len(), 1);
            prop_assert_eq!(&only.rows[0], row);
            let scoped = overview(&alone, Interval::Day);
            prop_assert_eq!(scoped.orders, row.orders);
            prop_assert_eq!(&scoped.revenue, &row.revenue);
        }
        let mut reversed = orders.clone();
        reversed.reverse();
        prop_assert_eq!(by_location(&reversed), report);
    }
}
