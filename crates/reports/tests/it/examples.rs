//! Hand-computed examples of the edges: time zones, week buckets, limits, currencies.

use regulars_domain::{Currency, CustomerId, Money, OrderId};
use regulars_reports::{
    Breakdown, CohortBuilder, Interval, OrderFact, OverviewBuilder, Period, ReportError,
    RevenueBuilder, YearMonth,
};
use time::Month;
use time::macros::{date, datetime, offset};

fn fact(n: u8, who: Option<u8>, at: time::OffsetDateTime, total: i64) -> OrderFact {
    OrderFact {
        id: OrderId::from_bytes([n; 16]),
        customer: who.map(|w| CustomerId::from_bytes([w; 16])),
        location: None,
        placed_at: at,
        total: Money::from_minor_units(total, Currency::VND),
        refunded: Money::zero(Currency::VND),
    }
}

#[test]
fn a_day_is_the_brands_local_day() {
    let period =
        Period::local_days(date!(2026 - 11 - 01), date!(2026 - 11 - 03), offset!(+7)).unwrap();
    let mut b = OverviewBuilder::new(period, offset!(+7), Interval::Day, Currency::VND).unwrap();
    // 16:59 UTC on 1 November is 23:59 local: still the 1st. 17:00 UTC is the 2nd.
    b.add_order(&fact(1, Some(1), datetime!(2026-11-01 16:59 UTC), 10))
        .unwrap();
    b.add_order(&fact(2, Some(1), datetime!(2026-11-01 17:00 UTC), 20))
        .unwrap();
    // Before the period (local 31 October) and at its end (local 3 November 00:00).
    b.add_order(&fact(3, Some(2), datetime!(2026-10-31 16:59 UTC), 40))
        .unwrap();
    b.add_order(&fact(4, Some(2), datetime!(2026-11-02 17:00 UTC), 80))
        .unwrap();
    let o = b.finish().unwrap();
    assert_eq!(o.revenue, Money::from_minor_units(30, Currency::VND));
    assert_eq!(o.series.len(), 2);
    assert_eq!(
        o.series[0].revenue,
        Money::from_minor_units(10, Currency::VND)
    );
    assert_eq!(
        o.series[1].revenue,
        Money::from_minor_units(20, Currency::VND)
    );
    assert_eq!(o.repeat_rate, Some(1.0));
    assert_eq!(o.comeback_rate, None, "no prior customers were given");
}

#[test]
fn weeks_start_on_monday_and_the_first_starts_with_the_period() {
    // Wednesday 4 to Wednesday 18 November: Wed 4, Mon 9, Mon 16.
    let period =
        Period::local_days(date!(2026 - 11 - 04), date!(2026 - 11 - 18), offset!(+7)).unwrap();
    let b = OverviewBuilder::new(period, offset!(+7), Interval::Week, Currency::VND).unwrap();
    let starts: Vec<_> = b.finish().unwrap().series.iter().map(|p| p.start).collect();
    assert_eq!(
        starts,
        vec![
            date!(2026 - 11 - 04),
            date!(2026 - 11 - 09),
            date!(2026 - 11 - 16)
        ]
    );
}

#[test]
fn average_order_value_rounds_to_the_minor_unit() {
    let period =
        Period::local_days(date!(2026 - 11 - 01), date!(2026 - 11 - 02), offset!(+7)).unwrap();
    let mut b = OverviewBuilder::new(period, offset!(+7), Interval::Day, Currency::VND).unwrap();
    for (n, total) in [(1, 10_000), (2, 10_000), (3, 10_001)] {
        b.add_order(&fact(n, None, datetime!(2026-11-01 09:00 +7), total))
            .unwrap();
    }
    let o = b.finish().unwrap();
    // 30,001 / 3 = 10,000.33… đồng, and VND has no minor unit.
    assert_eq!(
        o.average_order_value,
        Some(Money::from_minor_units(10_000, Currency::VND))
    );
}

#[test]
fn limits_and_currencies_are_errors() {
    let long =
        Period::local_days(date!(2020 - 01 - 01), date!(2026 - 01 - 01), offset!(+7)).unwrap();
    assert!(matches!(
        OverviewBuilder::new(long, offset!(+7), Interval::Day, Currency::VND),
        Err(ReportError::TooLong { what: "days", .. })
    ));
    assert!(OverviewBuilder::new(long, offset!(+7), Interval::Week, Currency::VND).is_ok());
    assert!(Period::local_days(date!(2026 - 01 - 02), date!(2026 - 01 - 02), offset!(+7)).is_err());
    let jan = YearMonth {
        year: 2026,
        month: Month::January,
    };
    let now = datetime!(2026-06-01 00:00 UTC);
    assert!(CohortBuilder::new(jan, 0, offset!(+7), now, Currency::VND).is_err());
    assert!(CohortBuilder::new(jan, 61, offset!(+7), now, Currency::VND).is_err());

    let period =
        Period::local_days(date!(2026 - 11 - 01), date!(2026 - 11 - 02), offset!(+7)).unwrap();
    let mut b = RevenueBuilder::new(period, Breakdown::Location, Currency::VND);
    let mut usd = fact(1, None, datetime!(2026-11-01 09:00 +7), 100);
    usd.total = Money::from_minor_units(100, Currency::USD);
    usd.refunded = Money::zero(Currency::USD);
    assert!(matches!(
        b.add_order(&usd),
        Err(ReportError::Currency { .. })
    ));
}

#[test]
fn cohorts_stop_at_the_current_month() {
    let nov = YearMonth {
        year: 2026,
        month: Month::November,
    };
    let mut b = CohortBuilder::new(
        nov,
        6,
        offset!(+7),
        datetime!(2026-12-10 00:00 +7),
        Currency::VND,
    )
    .unwrap();
    b.add_order(&fact(1, Some(1), datetime!(2026-11-10 09:00 +7), 10))
        .unwrap();
    b.add_order(&fact(2, Some(1), datetime!(2026-12-01 09:00 +7), 10))
        .unwrap();
    b.add_order(&fact(3, Some(2), datetime!(2026-12-01 09:00 +7), 10))
        .unwrap();
    // A customer who ordered before November is nobody's cohort.
    b.add_order(&fact(4, Some(3), datetime!(2026-12-01 09:00 +7), 10))
        .unwrap();
    b.add_prior_customer(CustomerId::from_bytes([3; 16]));
    let table = b.finish().unwrap();
    assert_eq!(table.cohorts.len(), 2, "November and December have begun");
    assert_eq!(table.customers, 2);
    assert_eq!(
        table.cohorts[0]
            .retention
            .iter()
            .map(|c| c.share)
            .collect::<Vec<_>>(),
        vec![1.0, 1.0]
    );
    assert_eq!(table.cohorts[1].month.to_string(), "2026-12");
    assert_eq!(table.cohorts[1].retention.len(), 1);
}
