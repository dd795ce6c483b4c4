//! The overview added up in SQL: one row per series bucket and one row of customer
//! counts, so a period with millions of orders never crosses into this process. The
//! pure fold (`regulars_reports::OverviewBuilder`) turns the rows into the overview.
//!
//! Both backends run the same text: integer division of non-negative BIGINTs truncates
//! alike, `COUNT`/`SUM` are cast back to BIGINT (PostgreSQL sums BIGINTs as NUMERIC),
//! and every value is a bound parameter.

use crate::convert::{money, to_micros, to_u64};
use crate::error::{corrupt, in_ctx};
use crate::repo::customer_list::Sql;
use crate::tx::StoreTransaction;
use regulars_domain::BrandId;
use regulars_ports::StoreError;
use regulars_reports::{BucketTotals, Bucketing, CustomerTotals, Period};
use sea_orm::{ConnectionTrait, Statement};
use time::OffsetDateTime;

/// An order that counts in reports (`OrderFact::counts`): not refunded in full.
pub(crate) fn counted(alias: &str) -> String {
    format!("({alias}.refunded_minor = 0 OR {alias}.refunded_minor < {alias}.total_minor)")
}

/// The conditions "order `alias` of `brand`, placed in `[from, to)` (either bound
/// optional), at one of `locations`".
fn order_filter(
    sql: &mut Sql,
    alias: &str,
    brand: BrandId,
    from: Option<i64>,
    to: i64,
    locations: Option<&[String]>,
) -> String {
    let mut parts = vec![
        format!("{alias}.brand_id = {}", sql.bind(brand.as_uuid())),
        format!("{alias}.placed_at < {}", sql.bind(to)),
        counted(alias),
    ];
    if let Some(from) = from {
        parts.push(format!("{alias}.placed_at >= {}", sql.bind(from)));
    }
    if let Some(codes) = locations {
        if codes.is_empty() {
            parts.push("1 = 0".to_owned());
        } else {
            let list: Vec<String> = codes.iter().map(|c| sql.bind(c.clone())).collect();
            parts.push(format!("{alias}.location IN ({})", list.join(", ")));
        }
    }
    parts.join(" AND ")
}

fn new_sql(tx: &StoreTransaction) -> Sql {
    Sql {
        backend: tx.tx.get_database_backend(),
        values: Vec::new(),
    }
}

/// See `ReportRepo::overview_buckets`.
pub(crate) async fn overview_buckets(
    tx: &mut StoreTransaction,
    brand: BrandId,
    period: Period,
    bucketing: Bucketing,
    locations: Option<Vec<String>>,
) -> Result<Vec<BucketTotals>, StoreError> {
    let width = i64::try_from(bucketing.width.whole_microseconds())
        .ok()
        .filter(|w| *w > 0)
        .ok_or_else(|| corrupt("overview bucket width", "out of range"))?;
    // Placeholders bound in the order they appear (SQLite's are positional).
    let mut sql = new_sql(tx);
    let origin_at = to_micros(bucketing.origin);
    let origin = sql.bind(origin_at);
    let bucket_width = sql.bind(width);
    // Brand-wide, a customer is active in a bucket once: at the order whose link to
    // their previous counted order (`order_chain`) is before the bucket's start (the
    // period's start for a first bucket that begins before it).
    let active = if locations.is_none() {
        let (from, o1, o2, w1, w2) = (
            sql.bind(to_micros(period.from)),
            sql.bind(origin_at),
            sql.bind(origin_at),
            sql.bind(width),
            sql.bind(width),
        );
        format!(
            "SUM(CASE WHEN o.customer_id IS NOT NULL AND (o.prev_counted_at IS NULL \
             OR o.prev_counted_at < {from} \
             OR o.prev_counted_at < {o1} + ((o.placed_at - {o2}) / {w1}) * {w2}) \
             THEN 1 ELSE 0 END)"
        )
    } else {
        "COUNT(DISTINCT o.customer_id)".to_owned()
    };
    let filter = order_filter(
        &mut sql,
        "o",
        brand,
        Some(to_micros(period.from)),
        to_micros(period.to),
        locations.as_deref(),
    );
    let text = format!(
        "SELECT CAST((o.placed_at - {origin}) / {bucket_width} AS BIGINT) AS bucket, \
         o.currency, CAST(SUM(o.total_minor - o.refunded_minor) AS BIGINT) AS revenue, \
         CAST(COUNT(*) AS BIGINT) AS orders, CAST({active} AS BIGINT) AS active \
         FROM orders o WHERE {filter} GROUP BY 1, o.currency ORDER BY 1"
    );
    let rows = tx
        .tx
        .query_all_raw(Statement::from_sql_and_values(
            sql.backend,
            text,
            sql.values,
        ))
        .await
        .map_err(in_ctx("sum orders by bucket"))?;
    rows.iter()
        .map(|row| {
            let get = |col: &str| -> Result<i64, StoreError> {
                row.try_get("", col).map_err(in_ctx("read overview bucket"))
            };
            let currency: String = row
                .try_get("", "currency")
                .map_err(in_ctx("read overview bucket"))?;
            Ok(BucketTotals {
                bucket: u32::try_from(get("bucket")?)
                    .map_err(|_| corrupt("overview bucket", "out of range"))?,
                revenue: money(get("revenue")?, &currency)?,
                orders: to_u64("overview orders", get("orders")?)?,
                active_customers: to_u64("overview customers", get("active")?)?,
            })
        })
        .collect()
}

/// See `ReportRepo::overview_customers`. Brand-wide, from the customers' kept counted
/// times when no customer has a counted order from the period's end on (the usual
/// period, ending today): active customers are those whose latest counted order is in the
/// period, repeat those whose latest but one is too, returning the active ones whose
/// first is earlier. Otherwise, and at some locations, the period's orders are grouped
/// per customer, and whether each had a counted order (there) before is one probe of the
/// `(brand_id, customer_id, placed_at, …)` index; brand-wide, returning is still the
/// active less those whose first counted order is in the period.
pub(crate) async fn overview_customers(
    tx: &mut StoreTransaction,
    brand: BrandId,
    period: Period,
    locations: Option<Vec<String>>,
) -> Result<CustomerTotals, StoreError> {
    if locations.is_some() {
        return grouped_customers(tx, brand, period, locations).await;
    }
    let kept = kept_counts(tx, brand, period).await?;
    let (active, repeat) = if kept.later == 0 {
        (kept.active, kept.repeat)
    } else {
        let grouped = grouped_customers(tx, brand, period, None).await?;
        (grouped.active, grouped.repeat)
    };
    Ok(CustomerTotals {
        active,
        repeat,
        returning: active.saturating_sub(kept.new),
    })
}

/// The period's counted orders grouped per customer: active and repeat customers, and
/// at `locations` the returning ones (brand-wide, returning is left 0).
async fn grouped_customers(
    tx: &mut StoreTransaction,
    brand: BrandId,
    period: Period,
    locations: Option<Vec<String>>,
) -> Result<CustomerTotals, StoreError> {
    let mut sql = new_sql(tx);
    let (from, to) = (to_micros(period.from), to_micros(period.to));
    let returning = match locations.as_deref() {
        Some(codes) => {
            let before = order_filter(&mut sql, "p", brand, None, from, Some(codes));
            format!(
                "CAST(COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM orders p \
                 WHERE p.customer_id = a.customer_id AND {before}) THEN 1 ELSE 0 END), 0) \
                 AS BIGINT)"
            )
        }
        None => "CAST(0 AS BIGINT)".to_owned(),
    };
    let during = order_filter(&mut sql, "o", brand, Some(from), to, locations.as_deref());
    let text = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS active, \
         CAST(COALESCE(SUM(CASE WHEN a.n >= 2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS repeat_, \
         {returning} AS returning_ \
         FROM (SELECT o.customer_id, COUNT(*) AS n FROM orders o \
         WHERE o.customer_id IS NOT NULL AND {during} GROUP BY o.customer_id) a"
    );
    let row = one_row(tx, sql, text, "count overview customers").await?;
    Ok(CustomerTotals {
        active: count(&row, "active")?,
        repeat: count(&row, "repeat_")?,
        returning: count(&row, "returning_")?,
    })
}

/// What one pass over a brand's customer stats counts for a period.
struct KeptCounts {
    /// Customers with a counted order from the period's end on.
    later: u64,
    /// Customers whose latest counted order is in the period.
    active: u64,
    /// Customers whose latest but one counted order is in the period.
    repeat: u64,
    /// Customers whose first counted order is in the period.
    new: u64,
}

async fn kept_counts(
    tx: &mut StoreTransaction,
    brand: BrandId,
    period: Period,
) -> Result<KeptCounts, StoreError> {
    // Placeholders bound in the order they appear (SQLite's are positional).
    let mut sql = new_sql(tx);
    let (from, to) = (to_micros(period.from), to_micros(period.to));
    let later = sql.bind(to);
    let mut within = |column: &str| {
        let (from, to) = (sql.bind(from), sql.bind(to));
        format!(
            "CAST(COALESCE(SUM(CASE WHEN {column} >= {from} AND {column} < {to} \
             THEN 1 ELSE 0 END), 0) AS BIGINT)"
        )
    };
    let active = within("last_counted_at");
    let repeat = within("second_last_counted_at");
    let new = within("first_counted_at");
    let text = format!(
        "SELECT CAST(COALESCE(SUM(CASE WHEN last_counted_at >= {later} THEN 1 ELSE 0 END), 0) \
         AS BIGINT) AS later, {active} AS active, {repeat} AS repeat_, {new} AS new_ \
         FROM customer_stats WHERE brand_id = {} AND last_counted_at IS NOT NULL",
        sql.bind(brand.as_uuid()),
    );
    let row = one_row(tx, sql, text, "count customers by counted orders").await?;
    Ok(KeptCounts {
        later: count(&row, "later")?,
        active: count(&row, "active")?,
        repeat: count(&row, "repeat_")?,
        new: count(&row, "new_")?,
    })
}

/// How many of the brand's customers' first counted order was placed before `before`:
/// one pass over their stats.
pub(crate) async fn count_first_counted_before(
    tx: &mut StoreTransaction,
    brand: BrandId,
    before: OffsetDateTime,
) -> Result<u64, StoreError> {
    let mut sql = new_sql(tx);
    let text = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM customer_stats \
         WHERE brand_id = {} AND first_counted_at < {}",
        sql.bind(brand.as_uuid()),
        sql.bind(to_micros(before)),
    );
    let row = one_row(tx, sql, text, "count customers by first counted order").await?;
    count(&row, "n")
}

/// The one row an aggregate `text` answers.
async fn one_row(
    tx: &mut StoreTransaction,
    sql: Sql,
    text: String,
    what: &'static str,
) -> Result<sea_orm::QueryResult, StoreError> {
    tx.tx
        .query_one_raw(Statement::from_sql_and_values(
            sql.backend,
            text,
            sql.values,
        ))
        .await
        .map_err(in_ctx(what))?
        .ok_or_else(|| corrupt(what, "no row"))
}

/// A count in `row`'s `column`.
fn count(row: &sea_orm::QueryResult, column: &str) -> Result<u64, StoreError> {
    let n: i64 = row
        .try_get("", column)
        .map_err(in_ctx("read a report count"))?;
    to_u64("report count", n)
}
