//! The overview added up in SQL equals the overview folded from the raw orders: the same
//! brand's orders (customers and walk-ins, refunds partial and full, several shops, some
//! before the period, another brand's alongside) reported both ways, by day and by week,
//! for the whole brand and for a few shops.

use crate::support::{
    customer, keep_counted_times, on_postgres_url, on_sqlite_url, order, seed, stats_counting, vnd,
};
use crate::{Store, TestResult};
use regulars_domain::{BrandId, Currency, Customer, OrderId};
use regulars_ports::{Brand, CountedTimes, StoredOrder};
use regulars_ports::{Transaction, UnitOfWork};
use regulars_reports::{Interval, Overview, OverviewBuilder, Period};
use time::macros::{date, datetime, offset};
use time::{Duration, UtcOffset};

const OFFSET: UtcOffset = offset!(+7);

/// A fixed pseudo-random sequence (xorshift), so the data is the same on both databases.
struct Draw(u64);

impl Draw {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The overview folded from every raw order and every prior customer.
async fn raw(
    tx: &mut dyn Transaction,
    brand: BrandId,
    period: Period,
    interval: Interval,
    codes: Option<Vec<String>>,
) -> Result<Overview, Box<dyn std::error::Error + Send + Sync>> {
    let mut b = OverviewBuilder::new(period, OFFSET, interval, Currency::VND)?;
    let prior = tx
        .reports()
        .customers_before(brand, period.from, codes.clone(), None, 1_000)
        .await?;
    for c in prior {
        b.add_prior_customer(c);
    }
    let facts = tx.reports().order_facts(brand, period, None, 1_000).await?;
    for fact in facts {
        let at = |codes: &Vec<String>| fact.location.as_ref().is_some_and(|l| codes.contains(l));
        if codes.as_ref().is_none_or(at) {
            b.add_order(&fact)?;
        }
    }
    Ok(b.finish()?)
}

/// The overview folded from the rows storage added up.
async fn grouped(
    tx: &mut dyn Transaction,
    brand: BrandId,
    period: Period,
    interval: Interval,
    codes: Option<Vec<String>>,
) -> Result<Overview, Box<dyn std::error::Error + Send + Sync>> {
    let mut b = OverviewBuilder::new(period, OFFSET, interval, Currency::VND)?;
    let rows = tx
        .reports()
        .overview_buckets(brand, period, b.bucketing(), codes.clone())
        .await?;
    for row in &rows {
        b.add_bucket(row)?;
    }
    let customers = tx
        .reports()
        .overview_customers(brand, period, codes.clone())
        .await?;
    b.add_customer_totals(customers);
    let prior = tx
        .reports()
        .count_customers_before(brand, period.from, codes)
        .await?;
    b.set_prior_count(prior);
    Ok(b.finish()?)
}

/// Brand 1 seeded with its customer, and customers numbered `more` added (phones
/// `09012345nn`), committed: the brand and every one of its customers.
async fn brand_with_customers(
    store: &Store,
    more: std::ops::Range<u8>,
) -> Result<(Brand, Vec<Customer>), Box<dyn std::error::Error + Send + Sync>> {
    let (b, c1, _) = seed(store, 1).await?;
    let mut who = vec![c1];
    let mut tx = store.begin().await?;
    for n in more {
        let c = customer(b.id, n, &format!("09012345{n:02}"));
        tx.customers().insert_customer(&c).await?;
        who.push(c);
    }
    tx.commit().await?;
    Ok((b, who))
}

pub(crate) async fn overview_sums_equal_the_raw_fold(store: Store) -> TestResult {
    let (b, mut who) = brand_with_customers(&store, 21..26).await?;
    let (other, oc, _) = seed(&store, 2).await?;
    let mut tx = store.begin().await?;
    // 120 orders over 3 weeks around the period (local days 5–19 May at +7).
    let start = datetime!(2026-04-28 00:00 UTC);
    let mut draw = Draw(0x9e37_79b9_7f4a_7c15);
    for n in 1..=120u8 {
        let pick = draw.below(who.len() as u64 + 2) as usize;
        let mut o = order(b.id, n, &format!("G-{n}"), who.get(pick));
        o.order.placed_at = start + Duration::minutes(draw.below(24 * 60 * 24) as i64);
        o.order.location = match draw.below(4) {
            0 => None,
            1 => Some("q3".to_owned()),
            _ => Some("q1".to_owned()),
        };
        tx.orders().insert_order(&o).await?;
        let refunded = match draw.below(6) {
            0 => 129_000,
            1 => 1_000,
            _ => 0,
        };
        if refunded > 0 {
            tx.orders()
                .set_refunded(b.id, o.id, vnd(0), vnd(refunded))
                .await?;
        }
    }
    // A customer whose first orders are in the period: new, and a repeat customer.
    let newcomer = customer(b.id, 26, "0901234526");
    tx.customers().insert_customer(&newcomer).await?;
    for n in [121u8, 122] {
        let mut o = order(b.id, n, &format!("G-{n}"), Some(&newcomer));
        o.order.placed_at = datetime!(2026-05-12 04:00 UTC) + Duration::hours(i64::from(n));
        tx.orders().insert_order(&o).await?;
    }
    // A customer whose only order before the period was refunded in full: new in it.
    let second_start = customer(b.id, 27, "0901234527");
    tx.customers().insert_customer(&second_start).await?;
    for (n, at) in [
        (123u8, datetime!(2026-05-01 04:00 UTC)),
        (124, datetime!(2026-05-13 04:00 UTC)),
    ] {
        let mut o = order(b.id, n, &format!("G-{n}"), Some(&second_start));
        o.order.placed_at = at;
        tx.orders().insert_order(&o).await?;
        if n == 123 {
            tx.orders()
                .set_refunded(b.id, o.id, vnd(0), o.order.total)
                .await?;
        }
    }
    who.extend([newcomer, second_start]);
    let kept: Vec<&Customer> = who.iter().collect();
    keep_counted_times(tx.as_mut(), b.id, &kept).await?;
    let mut theirs = order(other.id, 250, "G-250", Some(&oc));
    theirs.order.placed_at = datetime!(2026-05-10 03:00 UTC);
    tx.orders().insert_order(&theirs).await?;
    tx.commit().await?;

    // One period that orders follow (customers' counts come from their orders) and one
    // that ends after every order (from their kept counted times).
    let periods = [
        Period::local_days(date!(2026 - 05 - 05), date!(2026 - 05 - 20), OFFSET)?,
        Period::local_days(date!(2026 - 05 - 09), date!(2026 - 05 - 25), OFFSET)?,
    ];
    let mut tx = store.begin().await?;
    let scopes = [
        None,
        Some(vec!["q1".to_owned()]),
        Some(vec!["q1".to_owned(), "q3".to_owned()]),
        Some(Vec::new()),
    ];
    for period in periods {
        for interval in [Interval::Day, Interval::Week] {
            for codes in &scopes {
                let expected = raw(tx.as_mut(), b.id, period, interval, codes.clone()).await?;
                let got = grouped(tx.as_mut(), b.id, period, interval, codes.clone()).await?;
                assert_eq!(got, expected, "{period:?} {interval:?} at {codes:?}");
            }
        }
        // The data exercises what it should: walk-ins, repeat, new and returning
        // customers.
        let all = grouped(tx.as_mut(), b.id, period, Interval::Day, None).await?;
        assert!(all.orders > 30 && all.repeat_customers > 0 && all.returning_customers > 0);
        assert!(all.new_customers > 0, "{period:?}");
    }
    Ok(())
}

/// Orders stored the way the use cases store them — with their customer's stats as they
/// are once the order is counted (linked without a read when it is the latest, relinked
/// when it is not), without stats, refunded in full — give the buckets' active customers
/// the raw fold gives.
pub(crate) async fn orders_linked_as_written_equal_the_raw_fold(store: Store) -> TestResult {
    let (b, who) = brand_with_customers(&store, 31..34).await?;
    let mut tx = store.begin().await?;
    let start = datetime!(2026-05-05 00:00 UTC);
    let mut draw = Draw(0x2545_f491_4f6c_dd1d);
    let mut counted: Vec<CountedTimes> = vec![CountedTimes::default(); who.len()];
    let mut stored: Vec<(usize, StoredOrder)> = Vec::new();
    for n in 1..=90u8 {
        let pick = draw.below(who.len() as u64) as usize;
        let mut o = order(b.id, n, &format!("L-{n}"), who.get(pick));
        // Mostly later than the customer's orders so far, sometimes earlier.
        let minutes = if draw.below(4) == 0 {
            draw.below(24 * 60 * 10)
        } else {
            u64::from(n) * 150 + draw.below(100)
        };
        o.order.placed_at = start + Duration::minutes(minutes as i64);
        match draw.below(5) {
            0 => tx.orders().insert_order(&o).await?,
            _ => {
                let mut kept = counted[pick];
                kept.add(o.order.placed_at);
                let stats = stats_counting(who[pick].id, kept);
                tx.orders().insert_counted_order(&o, &stats).await?;
            }
        }
        let c = who[pick].id;
        counted[pick] = tx
            .orders()
            .counted_times(b.id, c, OrderId::from_bytes([0; 16]))
            .await?;
        stored.push((pick, o));
        if draw.below(8) == 0 {
            let at = draw.below(stored.len() as u64) as usize;
            let (p, victim) = &mut stored[at];
            if victim.refunded.is_zero() {
                let total = victim.order.total;
                tx.orders()
                    .set_refunded(b.id, victim.id, vnd(0), total)
                    .await?;
                victim.refunded = total;
                let c = who[*p].id;
                counted[*p] = tx.orders().counted_times(b.id, c, victim.id).await?;
            }
        }
    }
    tx.commit().await?;
    brand_series_equal_the_raw_fold(&store, b.id).await
}

/// The brand-wide series of 5 to 19 May 2026, by day and by week, added up in SQL and
/// folded from the raw orders: equal.
async fn brand_series_equal_the_raw_fold(store: &Store, brand: BrandId) -> TestResult {
    let period = Period::local_days(date!(2026 - 05 - 05), date!(2026 - 05 - 20), OFFSET)?;
    let mut tx = store.begin().await?;
    for interval in [Interval::Day, Interval::Week] {
        let expected = raw(tx.as_mut(), brand, period, interval, None).await?;
        let got = grouped(tx.as_mut(), brand, period, interval, None).await?;
        assert_eq!(got.series, expected.series, "{interval:?}");
    }
    Ok(())
}

/// An import's chunks, as `regulars import orders` writes them: each customer's orders in
/// a chunk mostly after their stored ones (linked as written), sometimes earlier (their
/// chain relinked), some refunded in full at import, one customer never given counted
/// times (always relinked). After every chunk, every link equals the window over the
/// stored orders; at the end the overview equals the raw fold.
async fn orders_imported_in_chunks_equal_the_raw_fold(store: Store, url: String) -> TestResult {
    let (b, who) = brand_with_customers(&store, 41..44).await?;
    let start = datetime!(2026-05-05 00:00 UTC);
    let mut draw = Draw(0x9e37_79b9_7f4a_7c15);
    let mut n = 100u8;
    for chunk in 0..6u64 {
        let mut orders = Vec::new();
        for _ in 0..15 {
            let pick = draw.below(who.len() as u64) as usize;
            let mut o = order(b.id, n, &format!("I-{n}"), who.get(pick));
            n += 1;
            // Mostly in the chunk's two days; sometimes before them (before what is
            // stored for the customer, or not).
            let window = chunk * 24 * 60 * 2;
            let minutes = if draw.below(6) == 0 {
                draw.below(window + 1)
            } else {
                window + draw.below(24 * 60 * 2)
            };
            o.order.placed_at = start + Duration::minutes(minutes as i64);
            if draw.below(6) == 0 {
                o.refunded = o.order.total;
            }
            orders.push(o);
        }
        let mut tx = store.begin().await?;
        let mut counted_before = Vec::new();
        for c in &who[..who.len() - 1] {
            let kept = tx
                .orders()
                .counted_times(b.id, c.id, OrderId::from_bytes([0; 16]))
                .await?;
            counted_before.push((c.id, kept));
        }
        let write = regulars_ports::ImportWrite {
            orders,
            counted_before,
            ..regulars_ports::ImportWrite::default()
        };
        tx.bulk().write_import(b.id, &write).await?;
        tx.commit().await?;
        // After every chunk: a later relink would mend what an earlier chunk got wrong.
        let off = links_off_the_window(&url, b.id).await?;
        assert_eq!(off, Vec::<String>::new(), "after chunk {chunk}");
    }
    brand_series_equal_the_raw_fold(&store, b.id).await
}

/// The brand's orders whose stored link is not the time of their customer's counted order
/// before them (by time, then id), computed here by a window over every stored order.
async fn links_off_the_window(
    url: &str,
    brand: BrandId,
) -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let db = Database::connect(url).await?;
    let backend = db.get_database_backend();
    let counted = "(o.refunded_minor = 0 OR o.refunded_minor < o.total_minor)";
    let placeholder = if backend == sea_orm::DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let sql = format!(
        "SELECT o.external_id AS order_id, o.prev_counted_at AS got, CASE WHEN {counted} \
         THEN MAX(CASE WHEN {counted} THEN o.placed_at END) OVER (PARTITION BY o.customer_id \
         ORDER BY o.placed_at, o.id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) END \
         AS want FROM orders o WHERE o.brand_id = {placeholder} AND o.customer_id IS NOT NULL"
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [sea_orm::Value::from(brand.as_uuid())],
        ))
        .await?;
    let mut off = Vec::new();
    for row in rows {
        let got: Option<i64> = row.try_get("", "got")?;
        let want: Option<i64> = row.try_get("", "want")?;
        if got != want {
            let id: String = row.try_get("", "order_id")?;
            off.push(format!("{id}: {got:?}, not {want:?}"));
        }
    }
    db.close().await?;
    Ok(off)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_orders_imported_in_chunks_equal_the_raw_fold() -> TestResult {
    on_sqlite_url(orders_imported_in_chunks_equal_the_raw_fold).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_orders_imported_in_chunks_equal_the_raw_fold() -> TestResult {
    on_postgres_url("import_links", orders_imported_in_chunks_equal_the_raw_fold).await
}
