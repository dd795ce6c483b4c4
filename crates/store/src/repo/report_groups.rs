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

/// An order that counts in reports (`OrderFact::counts`): not refunded in full.
fn counted(alias: &str) -> String {
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
    let mut sql = new_sql(tx);
    let origin = sql.bind(to_micros(bucketing.origin));
    let width = sql.bind(width);
    let filter = order_filter(
        &mut sql,
        "o",
        brand,
        Some(to_micros(period.from)),
        to_micros(period.to),
        locations.as_deref(),
    );
    let text = format!(
        "SELECT CAST((o.placed_at - {origin}) / {width} AS BIGINT) AS bucket, o.currency, \
         CAST(SUM(o.total_minor - o.refunded_minor) AS BIGINT) AS revenue, \
         CAST(COUNT(*) AS BIGINT) AS orders, \
         CAST(COUNT(DISTINCT o.customer_id) AS BIGINT) AS active \
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

/// See `ReportRepo::overview_customers`. The period's orders are grouped per customer;
/// whether each had a counted order before is one probe of the
/// `(brand_id, customer_id, placed_at, …)` index.
pub(crate) async fn overview_customers(
    tx: &mut StoreTransaction,
    brand: BrandId,
    period: Period,
    locations: Option<Vec<String>>,
) -> Result<CustomerTotals, StoreError> {
    let mut sql = new_sql(tx);
    let from = to_micros(period.from);
    let before = order_filter(&mut sql, "p", brand, None, from, locations.as_deref());
    let during = order_filter(
        &mut sql,
        "o",
        brand,
        Some(from),
        to_micros(period.to),
        locations.as_deref(),
    );
    let text = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS active, \
         CAST(COALESCE(SUM(CASE WHEN a.n >= 2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS repeat_, \
         CAST(COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM orders p \
         WHERE p.customer_id = a.customer_id AND {before}) THEN 1 ELSE 0 END), 0) AS BIGINT) \
         AS returning_ \
         FROM (SELECT o.customer_id, COUNT(*) AS n FROM orders o \
         WHERE o.customer_id IS NOT NULL AND {during} GROUP BY o.customer_id) a"
    );
    let row = tx
        .tx
        .query_one_raw(Statement::from_sql_and_values(
            sql.backend,
            text,
            sql.values,
        ))
        .await
        .map_err(in_ctx("count overview customers"))?;
    let Some(row) = row else {
        return Ok(CustomerTotals::default());
    };
    let get = |col: &str| -> Result<u64, StoreError> {
        let n: i64 = row
            .try_get("", col)
            .map_err(in_ctx("read overview customers"))?;
        to_u64("overview customers", n)
    };
    Ok(CustomerTotals {
        active: get("active")?,
        repeat: get("repeat_")?,
        returning: get("returning_")?,
    })
}
