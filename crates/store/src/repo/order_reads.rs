//! The two reads an order makes once its customer's account is locked — whether a
//! delivery of the same order committed while this one waited for the lock, and the
//! customer's running stats — in one statement: both rows left-joined to a one-row
//! select, each absent as NULLs.

use super::customers::{customer_from_row, stats_from_row};
use super::idempotency::record_from_row;
use crate::entity::{customer, customer_stats, idempotency};
use crate::error::{db_error, in_ctx};
use crate::tx::StoreTransaction;
use regulars_domain::{BrandId, Customer, CustomerId, EventKey, Phone};
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
    prefix: &str,
    probe: &'static str,
) -> Result<Option<M>, StoreError> {
    let probed: Option<String> = row.try_get(prefix, probe).map_err(in_ctx(probe))?;
    if probed.is_none() {
        return Ok(None);
    }
    M::from_query_result(row, prefix)
        .map(Some)
        .map_err(|e| db_error(&format!("columns {prefix}*"), e))
}

/// Binds values in the order the statement names them: `$n` on PostgreSQL, `?` on
/// SQLite (which binds by position, so a value named twice is bound twice).
pub(super) struct Binds {
    postgres: bool,
    pub(super) values: Vec<Value>,
}

impl Binds {
    pub(super) fn new(postgres: bool) -> Binds {
        Binds {
            postgres,
            values: Vec::new(),
        }
    }

    /// Whether the placeholders are PostgreSQL's.
    pub(super) fn is_postgres(&self) -> bool {
        self.postgres
    }

    /// The placeholder of `value`, bound next.
    pub(super) fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        if self.postgres {
            format!("${}", self.values.len())
        } else {
            "?".to_owned()
        }
    }
}

/// The record remembered under `key`, if any, and the brand's customer with `phone`, if
/// any, in one statement: the two reads an order makes before it locks anything (see
/// [`seen_each_with_customer`]).
pub(super) async fn seen_with_customer(
    tx: &StoreTransaction,
    brand: BrandId,
    key: &EventKey,
    phone: &Phone,
) -> Result<(Option<IdempotentRecord>, Option<Customer>), StoreError> {
    let (mut seen, customer) =
        seen_each_with_customer(tx, brand, std::slice::from_ref(key), phone).await?;
    Ok((seen.pop().flatten(), customer))
}

/// The records remembered under `keys` (in their order), and the brand's customer with
/// `phone`, if any, in one statement. The customer is looked for as
/// [`CustomerRepo::customer_by_phone`] does — by the blind index first, by the phone
/// itself only when that finds nothing (`COALESCE` evaluates its second subquery only
/// then).
///
/// [`CustomerRepo::customer_by_phone`]: regulars_ports::CustomerRepo::customer_by_phone
pub(super) async fn seen_each_with_customer(
    tx: &StoreTransaction,
    brand: BrandId,
    keys: &[EventKey],
    phone: &Phone,
) -> Result<(Vec<Option<IdempotentRecord>>, Option<Customer>), StoreError> {
    let mut b = Binds::new(tx.is_postgres());
    let mut joins = String::new();
    let mut selected = Vec::with_capacity(keys.len() + 1);
    for (n, key) in keys.iter().enumerate() {
        joins.push_str(&format!(
            " LEFT JOIN idempotency i{n} ON i{n}.brand_id = {} AND i{n}.source = {} \
             AND i{n}.external_id = {}",
            b.bind(brand.as_uuid()),
            b.bind(key.source.clone()),
            b.bind(key.external_id.clone()),
        ));
        selected.push(columns::<idempotency::Column>(
            &format!("i{n}"),
            &format!("i{n}_"),
        ));
    }
    let brand_c = b.bind(brand.as_uuid());
    let by_index = match tx.keys() {
        Some(keys) => {
            let indexes = keys.phone_indexes(brand.as_uuid(), phone.as_str());
            let brand_p = b.bind(brand.as_uuid());
            let list = indexes
                .into_iter()
                .map(|index| b.bind(index))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "(SELECT id FROM customers WHERE brand_id = {brand_p} AND erased_at IS NULL \
                 AND phone_index IN ({list}) LIMIT 1), "
            )
        }
        None => String::new(),
    };
    let by_phone = format!(
        "(SELECT id FROM customers WHERE brand_id = {} AND erased_at IS NULL \
         AND phone = {} LIMIT 1)",
        b.bind(brand.as_uuid()),
        b.bind(phone.as_str().to_owned()),
    );
    selected.push(columns::<customer::Column>("c", "c_"));
    // SQLite's COALESCE takes two arguments at least: a NULL closes the list.
    let sql = format!(
        "SELECT {} FROM (SELECT 1 AS one) one{joins} \
         LEFT JOIN customers c ON c.brand_id = {brand_c} \
         AND c.id = COALESCE({by_index}{by_phone}, NULL)",
        selected.join(", "),
    );
    let statement = Statement::from_sql_and_values(tx.tx.get_database_backend(), sql, b.values);
    let row = tx
        .tx
        .query_one_raw(statement)
        .await
        .map_err(in_ctx("select from idempotency and customers"))?
        .ok_or_else(|| StoreError::Other("a one-row select returned no row".into()))?;
    let seen = (0..keys.len())
        .map(|n| {
            present::<idempotency::Model>(&row, &format!("i{n}_"), "kind")?
                .map(|model| record_from_row(tx.keys(), model).map(|(_, record)| record))
                .transpose()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let customer = present::<customer::Model>(&row, "c_", "phone")?
        .map(|model| customer_from_row(tx.keys(), model))
        .transpose()?;
    Ok((seen, customer))
}
