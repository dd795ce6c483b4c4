//! The two reads an order makes once its customer's account is locked — whether a
//! delivery of the same order committed while this one waited for the lock, and the
//! customer's running stats — in one statement: both rows left-joined to a one-row
//! select, each absent as NULLs.

use super::customers::stats_from_row;
use super::idempotency::record_from_row;
use crate::entity::{customer_stats, idempotency};
use crate::error::in_ctx;
use crate::tx::StoreTransaction;
use regulars_domain::{BrandId, CustomerId, EventKey};
use regulars_ports::{CustomerStats, IdempotentRecord, StoreError};
use sea_orm::{
    ConnectionTrait, FromQueryResult, IdenStatic, Iterable, QueryResult, Statement, Value,
};

/// `alias.column AS prefixcolumn, …` for every column of an entity.
fn columns<C: Iterable + IdenStatic>(alias: &str, prefix: &str) -> String {
    C::iter()
        .map(|c| format!("{alias}.{0} AS {prefix}{0}", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The record remembered under `key`, if any, and the customer's stats, if any.
pub(super) async fn seen_with_stats(
    tx: &StoreTransaction,
    brand: BrandId,
    key: &EventKey,
    customer: CustomerId,
) -> Result<(Option<IdempotentRecord>, Option<CustomerStats>), StoreError> {
    let p = |n: usize| {
        if tx.is_postgres() {
            format!("${n}")
        } else {
            "?".to_owned()
        }
    };
    let sql = format!(
        "SELECT {}, {} FROM (SELECT 1 AS one) one \
         LEFT JOIN idempotency i \
         ON i.brand_id = {} AND i.source = {} AND i.external_id = {} \
         LEFT JOIN customer_stats s ON s.brand_id = {} AND s.customer_id = {}",
        columns::<idempotency::Column>("i", "i_"),
        columns::<customer_stats::Column>("s", "s_"),
        p(1),
        p(2),
        p(3),
        p(4),
        p(5),
    );
    let statement = Statement::from_sql_and_values(
        tx.tx.get_database_backend(),
        sql,
        [
            Value::from(brand.as_uuid()),
            Value::from(key.source.clone()),
            Value::from(key.external_id.clone()),
            Value::from(brand.as_uuid()),
            Value::from(customer.as_uuid()),
        ],
    );
    let row = tx
        .tx
        .query_one_raw(statement)
        .await
        .map_err(in_ctx("select from idempotency and customer_stats"))?
        .ok_or_else(|| StoreError::Other("a one-row select returned no row".into()))?;
    let seen = present::<idempotency::Model>(&row, "i_", "kind")?
        .map(|model| record_from_row(tx.keys(), model).map(|(_, record)| record))
        .transpose()?;
    let stats = present::<customer_stats::Model>(&row, "s_", "spend_currency")?
        .map(stats_from_row)
        .transpose()?;
    Ok((seen, stats))
}

/// The joined row under `prefix`, or `None` when its NOT NULL column `probe` is NULL
/// (no such row). A row that is there but does not decode is an error, never `None`.
fn present<M: FromQueryResult>(
    row: &QueryResult,
    prefix: &'static str,
    probe: &'static str,
) -> Result<Option<M>, StoreError> {
    let probed: Option<String> = row.try_get(prefix, probe).map_err(in_ctx(probe))?;
    if probed.is_none() {
        return Ok(None);
    }
    M::from_query_result(row, prefix)
        .map(Some)
        .map_err(in_ctx(prefix))
}
