//! Reports over mocked storage: facts are read page after page, each page asking for
//! what follows the last fact of the one before, and a failure anywhere fails the report.

use super::*;
use crate::{ErrorClass, REPORT_PAGE, ReportsError, UseCaseError};
use regulars_domain::OrderId;
use regulars_ports::mocks::MockTransaction;
use regulars_ports::{MockClock, MockIdGen, MockUnitOfWork, StoreError, Transaction};
use regulars_reports::{Breakdown, OrderFact, Period};
use std::sync::atomic::{AtomicUsize, Ordering};
use time::macros::date;

/// `n` facts of 1,000 VND each, all placed at the same instant `at` (so only the id
/// orders them), ids counting up from `first`.
fn facts(first: u64, n: u64, at: OffsetDateTime) -> Vec<OrderFact> {
    (first..first + n)
        .map(|i| {
            let mut id = [0u8; 16];
            id[8..].copy_from_slice(&i.to_be_bytes());
            OrderFact {
                id: OrderId::from_bytes(id),
                customer: None,
                location: Some(if i % 2 == 0 { "q1" } else { "q3" }.into()),
                placed_at: at,
                total: vnd(1_000),
                refunded: vnd(0),
            }
        })
        .collect()
}

/// Services whose every transaction reads the brand and serves order pages from
/// `pages`: the first when asked from the start, the second when asked after the first
/// page's last fact; anything else fails the test.
fn paged(second_page: Result<Vec<OrderFact>, StoreError>) -> (Services, Arc<AtomicUsize>) {
    let at = datetime!(2026-05-06 03:00 UTC);
    let first = facts(0, REPORT_PAGE, at);
    let last = first.last().map(|f| (f.placed_at, f.id)).unwrap();
    let begun = Arc::new(AtomicUsize::new(0));
    let counter = begun.clone();
    let mut uow = MockUnitOfWork::new();
    uow.expect_begin().returning(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        let mut tx = MockTransaction::default();
        tx.brands.expect_brand().returning(|id| Ok(Some(brand(id))));
        let first = first.clone();
        let second = second_page.clone();
        tx.reports
            .expect_order_facts()
            .returning(move |b, _, after, limit| {
                assert_eq!((b, limit), (BRAND, REPORT_PAGE));
                match after {
                    None => Ok(first.clone()),
                    Some(key) if key == last => second.clone(),
                    Some(other) => panic!("asked after {other:?}"),
                }
            });
        let tx: Box<dyn Transaction> = Box::new(tx);
        Ok(tx)
    });
    let mut clock = MockClock::new();
    clock.expect_now().returning(t0);
    let services = Services::new(Arc::new(uow), Arc::new(clock), Arc::new(MockIdGen::new()));
    (services, begun)
}

#[tokio::test]
async fn orders_are_read_page_after_page_until_a_short_one() {
    let at = datetime!(2026-05-06 03:00 UTC);
    let (services, begun) = paged(Ok(facts(REPORT_PAGE, 3, at)));
    let (days, report) = services
        .report_revenue(
            BRAND,
            Some(date!(2026 - 05 - 01)),
            Some(date!(2026 - 06 - 01)),
            Breakdown::Location,
        )
        .await
        .unwrap();
    assert_eq!(
        (days.from, days.to),
        (date!(2026 - 05 - 01), date!(2026 - 06 - 01))
    );
    let n = REPORT_PAGE + 3;
    assert_eq!(report.orders, n);
    assert_eq!(report.total, vnd(1_000 * n as i64));
    let q1 = report.rows.iter().find(|r| r.key.as_deref() == Some("q1"));
    assert_eq!(q1.map(|r| r.orders), Some(n.div_ceil(2)));
    assert_eq!(
        report.period,
        Period::local_days(date!(2026 - 05 - 01), date!(2026 - 06 - 01), offset!(+7)).unwrap()
    );
    // The brand, then two pages: each read in its own transaction.
    assert_eq!(begun.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_failing_page_fails_the_report() {
    let (services, _) = paged(Err(StoreError::Unavailable("gone".into())));
    let error = services
        .report_revenue(
            BRAND,
            Some(date!(2026 - 05 - 01)),
            Some(date!(2026 - 06 - 01)),
            Breakdown::Location,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, ReportsError::Store(_)), "{error:?}");
    assert_eq!(error.class(), ErrorClass::Unavailable);
}

#[tokio::test]
async fn parameters_the_report_cannot_use_name_themselves() {
    let (services, _) = paged(Ok(Vec::new()));
    let same_day = services
        .report_overview(
            BRAND,
            Some(date!(2026 - 05 - 01)),
            Some(date!(2026 - 05 - 01)),
            regulars_reports::Interval::Day,
        )
        .await
        .unwrap_err();
    assert_eq!(
        (same_day.class(), same_day.field()),
        (ErrorClass::Invalid, Some("to"))
    );
    let too_many = services.report_cohorts(BRAND, None, 61).await.unwrap_err();
    assert_eq!(
        (too_many.class(), too_many.field()),
        (ErrorClass::Invalid, Some("months"))
    );
}

#[tokio::test]
async fn the_default_period_is_the_last_thirty_local_days_with_today() {
    let (services, _) = paged(Ok(Vec::new()));
    // t0 is 10:00 on 6 May in Ho Chi Minh City.
    let (days, _) = services
        .report_revenue(BRAND, None, None, Breakdown::Location)
        .await
        .unwrap();
    assert_eq!(
        (days.from, days.to),
        (date!(2026 - 04 - 07), date!(2026 - 05 - 07))
    );
}
