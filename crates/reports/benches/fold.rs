//! Benchmark of the overview fold.
//!
//! `reports/overview_1m_orders` folds 1,000,000 orders of 50,000 customers at 5
//! locations over a 90-day period into the overview with a daily series (a tenth are
//! walk-ins, one in fifty partly refunded, one in a hundred refunded in full), in the
//! `(placed_at, id)` order storage hands them to the service. The peer,
//! `baseline/sum_1m_amounts`, is the least any revenue report does: one pass adding the
//! same orders' net amounts as decimals.

#![allow(clippy::expect_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use regulars_domain::{Currency, CustomerId, Money, OrderId};
use regulars_reports::{Interval, OrderFact, OverviewBuilder, Period};
use rust_decimal::Decimal;
use std::hint::black_box;
use time::Duration;
use time::macros::{date, offset};

const ORDERS: u64 = 1_000_000;
const CUSTOMERS: u64 = 50_000;

fn orders(period: Period) -> Vec<OrderFact> {
    let mut state = 0x5eed_u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    };
    let span = (period.to - period.from).whole_seconds() as u64;
    let locations = ["Q1", "Q3", "TD", "BT", "PN"];
    (0..ORDERS)
        .map(|i| {
            let who = next() % CUSTOMERS;
            let total = 20_000 + (next() % 200) as i64 * 1_000;
            let refunded = match next() % 100 {
                0 => total,
                1 | 2 => total / 2,
                _ => 0,
            };
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&i.to_be_bytes());
            let mut customer = [0u8; 16];
            customer[..8].copy_from_slice(&who.to_be_bytes());
            OrderFact {
                id: OrderId::from_bytes(id),
                customer: (!who.is_multiple_of(10)).then(|| CustomerId::from_bytes(customer)),
                location: Some(locations[(next() % 5) as usize].to_owned()),
                placed_at: period.from + Duration::seconds((next() % span) as i64),
                total: Money::from_minor_units(total, Currency::VND),
                refunded: Money::from_minor_units(refunded, Currency::VND),
            }
        })
        .collect()
}

fn fold(c: &mut Criterion) {
    let period = Period::local_days(date!(2026 - 08 - 01), date!(2026 - 10 - 30), offset!(+7))
        .expect("a period");
    let mut orders = orders(period);
    orders.sort_by_key(|o| (o.placed_at, o.id));
    let mut group = c.benchmark_group("reports");
    group.sample_size(10);
    group.bench_function("overview_1m_orders", |b| {
        b.iter(|| {
            let mut overview =
                OverviewBuilder::new(period, offset!(+7), Interval::Day, Currency::VND)
                    .expect("a builder");
            for order in black_box(&orders) {
                overview.add_order(order).expect("same currency");
            }
            overview.finish().expect("an overview")
        })
    });
    group.finish();
    let mut group = c.benchmark_group("baseline");
    group.sample_size(10);
    group.bench_function("sum_1m_amounts", |b| {
        b.iter(|| {
            let mut sum = Decimal::ZERO;
            for order in black_box(&orders) {
                sum += order.total.amount() - order.refunded.amount();
            }
            sum
        })
    });
    group.finish();
}

criterion_group!(benches, fold);
criterion_main!(benches);
