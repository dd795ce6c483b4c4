//! The customer list: one statement that joins a page of customers to their points
//! (`balances`), tier and visits (`customer_stats`) and last scoring (`customer_scores`),
//! filters by location (an order there) and segment, sorts and pages — so the database,
//! not this process, goes through a big brand's customers.

use crate::convert::{from_micros_opt, to_u64};
use crate::entity::customer;
use crate::error::in_ctx;
use crate::repo::customers::customer_from_row;
use crate::tx::StoreTransaction;
use regulars_domain::{BrandId, CustomerId, Points};
use regulars_ports::{CustomerListQuery, CustomerListRow, CustomerSort, StoreError};
use sea_orm::{ConnectionTrait, DatabaseBackend, FromQueryResult, QueryResult, Statement, Value};

/// A statement's text and values, numbering placeholders as the backend writes them.
pub(crate) struct Sql {
    pub(crate) backend: DatabaseBackend,
    pub(crate) values: Vec<Value>,
}

impl Sql {
    /// Adds `value` and returns its placeholder.
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DatabaseBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_owned(),
        }
    }

    fn postgres(&self) -> bool {
        self.backend == DatabaseBackend::Postgres
    }
}

/// The expression of the named segment of the last scoring run (the scoring job lists
/// it first in a score's `segments`).
fn segment_expr(sql: &Sql) -> &'static str {
    if sql.postgres() {
        "(CAST(sc.scores AS jsonb) -> 'segments' ->> 0)"
    } else {
        "json_extract(sc.scores, '$.segments[0]')"
    }
}

/// The condition "the last scoring run put the customer in `segment`".
fn in_segment(sql: &mut Sql, segment: &str) -> String {
    let p = sql.bind(segment.to_owned());
    if sql.postgres() {
        format!("(CAST(sc.scores AS jsonb) -> 'segments') @> jsonb_build_array(CAST({p} AS text))")
    } else {
        format!("EXISTS (SELECT 1 FROM json_each(sc.scores, '$.segments') j WHERE j.value = {p})")
    }
}

/// The condition "the customer has an order at one of `codes`" (through the
/// `(brand_id, customer_id)` index of orders).
fn ordered_at_any(sql: &mut Sql, codes: &[String]) -> String {
    if codes.is_empty() {
        return "1 = 0".to_owned();
    }
    let list: Vec<String> = codes.iter().map(|c| sql.bind(c.clone())).collect();
    format!(
        "EXISTS (SELECT 1 FROM orders o WHERE o.brand_id = c.brand_id \
         AND o.customer_id = c.id AND o.location IN ({}))",
        list.join(", ")
    )
}

/// `text` with the characters `LIKE` reads as wildcards (and its escape) escaped.
fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The expression a sort orders by.
fn sort_expr(sql: &Sql, sort: CustomerSort) -> &'static str {
    match sort {
        CustomerSort::Joined => "c.created_at",
        CustomerSort::Name => "LOWER(c.name)",
        CustomerSort::Points => "COALESCE(b.balance, 0)",
        CustomerSort::Tier => "LOWER(s.tier_code)",
        CustomerSort::Visits => "COALESCE(s.visits, 0)",
        CustomerSort::LastVisit => "s.last_visit_at",
        CustomerSort::Segment if sql.postgres() => {
            "LOWER(CAST(sc.scores AS jsonb) -> 'segments' ->> 0)"
        }
        CustomerSort::Segment => "LOWER(json_extract(sc.scores, '$.segments[0]'))",
        CustomerSort::Id => "c.id",
    }
}

/// The statement of a page of the list.
fn statement(backend: DatabaseBackend, brand: BrandId, query: &CustomerListQuery) -> Statement {
    let mut sql = Sql {
        backend,
        values: Vec::new(),
    };
    let brand_p = sql.bind(brand.as_uuid());
    let mut conditions = vec![
        format!("c.brand_id = {brand_p}"),
        "c.erased_at IS NULL".to_owned(),
    ];
    if let Some(codes) = &query.locations {
        conditions.push(ordered_at_any(&mut sql, codes));
    }
    if let Some(segment) = &query.segment {
        conditions.push(in_segment(&mut sql, segment));
    }
    if let Some(name) = &query.name {
        let p = sql.bind(format!("%{}%", like_escaped(&name.to_lowercase())));
        conditions.push(format!("LOWER(c.name) LIKE {p} ESCAPE '\\'"));
    }
    if let Some(after) = query.after {
        let p = sql.bind(after.as_uuid());
        conditions.push(format!("c.id > {p}"));
    }
    let key = sort_expr(&sql, query.sort);
    let dir = if query.descending { "DESC" } else { "ASC" };
    let text = format!(
        "SELECT c.*, CAST(COALESCE(b.balance, 0) AS BIGINT) AS x_points, s.tier_code AS x_tier, \
         CAST(COALESCE(s.visits, 0) AS BIGINT) AS x_visits, s.last_visit_at AS x_last_visit, \
         {segment} AS x_segment \
         FROM customers c \
         LEFT JOIN balances b ON b.brand_id = c.brand_id AND b.customer_id = c.id \
         LEFT JOIN customer_stats s ON s.brand_id = c.brand_id AND s.customer_id = c.id \
         LEFT JOIN customer_scores sc ON sc.brand_id = c.brand_id AND sc.customer_id = c.id \
         WHERE {where_} \
         ORDER BY ({key}) IS NULL, {key} {dir}, c.id {dir} \
         LIMIT {limit} OFFSET {offset}",
        segment = segment_expr(&sql),
        where_ = conditions.join(" AND "),
        limit = query.limit,
        offset = query.offset,
    );
    Statement::from_sql_and_values(backend, text, sql.values)
}

/// A row of the list.
fn list_row(tx: &StoreTransaction, row: &QueryResult) -> Result<CustomerListRow, StoreError> {
    let read = |what: &'static str| in_ctx(what);
    let model = customer::Model::from_query_result(row, "").map_err(read("read customer list"))?;
    let points: i64 = row.try_get("", "x_points").map_err(read("read x_points"))?;
    let tier: Option<String> = row.try_get("", "x_tier").map_err(read("read x_tier"))?;
    let visits: i64 = row.try_get("", "x_visits").map_err(read("read x_visits"))?;
    let last: Option<i64> = row
        .try_get("", "x_last_visit")
        .map_err(read("read x_last_visit"))?;
    let segment: Option<String> = row
        .try_get("", "x_segment")
        .map_err(read("read x_segment"))?;
    Ok(CustomerListRow {
        customer: customer_from_row(tx.keys(), model)?,
        points: Points::new(points),
        tier,
        visits: to_u64("customer_stats.visits", visits)?,
        last_visit_at: from_micros_opt(last)?,
        segment,
    })
}

/// A page of the customer list.
pub(crate) async fn customer_list(
    tx: &mut StoreTransaction,
    brand: BrandId,
    query: &CustomerListQuery,
) -> Result<Vec<CustomerListRow>, StoreError> {
    let statement = statement(tx.tx.get_database_backend(), brand, query);
    let rows = tx
        .tx
        .query_all_raw(statement)
        .await
        .map_err(in_ctx("select customer list"))?;
    rows.iter().map(|row| list_row(tx, row)).collect()
}

/// Whether the customer has an order at one of `codes`.
pub(crate) async fn ordered_at(
    tx: &mut StoreTransaction,
    brand: BrandId,
    customer: CustomerId,
    codes: &[String],
) -> Result<bool, StoreError> {
    if codes.is_empty() {
        return Ok(false);
    }
    let mut sql = Sql {
        backend: tx.tx.get_database_backend(),
        values: Vec::new(),
    };
    let brand_p = sql.bind(brand.as_uuid());
    let customer_p = sql.bind(customer.as_uuid());
    let list: Vec<String> = codes.iter().map(|c| sql.bind(c.clone())).collect();
    let text = format!(
        "SELECT o.id FROM orders o WHERE o.brand_id = {brand_p} AND o.customer_id = {customer_p} \
         AND o.location IN ({}) LIMIT 1",
        list.join(", ")
    );
    let statement = Statement::from_sql_and_values(sql.backend, text, sql.values);
    let found = tx
        .tx
        .query_one_raw(statement)
        .await
        .map_err(in_ctx("select orders at locations"))?;
    Ok(found.is_some())
}
