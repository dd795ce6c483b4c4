//! Reads of a customer's points that do not walk the whole ledger: a page of entries, the
//! entries of a window, and what the stored state and its lots answer (what can be spent
//! now, each customer's next expiring points) for one account or a page of them.
//!
//! A stored state (`balances.state`) is always at its head: it is written only with the
//! head it folds to (`append_with_state`, an import's head rows) and cleared with its
//! lots by a plain `append`. So an account with a stored state has its open lots in
//! `account_lots`, exactly the fold of its entries; one without is answered `None` and
//! the caller folds the entries.

use super::account_lots::{lot_instant, lot_of, placeholders};
use crate::convert::{from_json, to_micros};
use crate::entity::ledger_entry;
use crate::error::{corrupt, in_ctx};
use crate::tx::StoreTransaction;
use regulars_domain::{BrandId, CustomerId, Points};
use regulars_loyalty::ledger::{LedgerEntry, Lot};
use regulars_ports::{ExpiringLots, StoreError};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QueryResult,
    QuerySelect, Select, Statement, Value,
};
use std::collections::{HashMap, HashSet};
use time::OffsetDateTime;
use uuid::Uuid;

/// Customers per statement of [`next_expiring_lots`]: a campaign page (500) is one.
const CUSTOMERS: usize = 1000;

/// The customer's entries `select` narrows, in sequence order, each checked against its
/// row's seq.
pub(super) async fn entries_where(
    tx: &StoreTransaction,
    brand: BrandId,
    customer: CustomerId,
    narrow: impl FnOnce(Select<ledger_entry::Entity>) -> Select<ledger_entry::Entity>,
) -> Result<Vec<LedgerEntry>, StoreError> {
    let select = ledger_entry::Entity::find()
        .select_only()
        .column(ledger_entry::Column::Seq)
        .column(ledger_entry::Column::Entry)
        .filter(ledger_entry::Column::BrandId.eq(brand.as_uuid()))
        .filter(ledger_entry::Column::CustomerId.eq(customer.as_uuid()));
    let rows: Vec<(i64, String)> = narrow(select)
        .order_by_asc(ledger_entry::Column::Seq)
        .into_tuple()
        .all(&tx.tx)
        .await
        .map_err(in_ctx("select from ledger_entries"))?;
    rows.iter()
        .map(|(seq, text)| {
            let entry: LedgerEntry = from_json("ledger_entries.entry", text)?;
            if i64::try_from(entry.seq).ok() != Some(*seq) {
                return Err(corrupt(
                    "ledger_entries.entry",
                    format!("entry says seq {} in row {seq}", entry.seq),
                ));
            }
            Ok(entry)
        })
        .collect()
}

/// Entries `from` onwards, at most `limit`: a range of the primary key.
pub(super) async fn entries_page(
    tx: &StoreTransaction,
    brand: BrandId,
    customer: CustomerId,
    from: u64,
    limit: u64,
) -> Result<Vec<LedgerEntry>, StoreError> {
    // A start beyond any stored seq reads nothing.
    let Ok(from) = i64::try_from(from) else {
        return Ok(Vec::new());
    };
    entries_where(tx, brand, customer, |select| {
        select
            .filter(ledger_entry::Column::Seq.gte(from))
            .limit(limit)
    })
    .await
}

/// Entries whose stored instant (whole microseconds, rounded down) is at or after
/// `since`'s: every entry at or after `since`, and any within its microsecond before.
pub(super) async fn entries_since(
    tx: &StoreTransaction,
    brand: BrandId,
    customer: CustomerId,
    since: OffsetDateTime,
) -> Result<Vec<LedgerEntry>, StoreError> {
    let since = to_micros(since);
    entries_where(tx, brand, customer, |select| {
        select.filter(ledger_entry::Column::At.gte(since))
    })
    .await
}

/// `(expires_at > at)` to the nanosecond, on the stored microseconds and the nanoseconds
/// within, taking three placeholders from `from` (microseconds twice, then nanoseconds).
fn expires_after(backend: DbBackend, column: &str, from: usize) -> String {
    format!(
        "({column}expires_at > {} OR ({column}expires_at = {} AND {column}expires_at_ns > {}))",
        placeholders(backend, from, 1),
        placeholders(backend, from + 1, 1),
        placeholders(backend, from + 2, 1),
    )
}

/// The three values of [`expires_after`].
fn instant_values(at: OffsetDateTime) -> [Value; 3] {
    let (micros, nanos) = lot_instant(Some(at));
    let micros = micros.unwrap_or(i64::MIN);
    [micros.into(), micros.into(), nanos.into()]
}

fn stored_of(row: &QueryResult) -> Result<bool, StoreError> {
    let stored: i32 = row
        .try_get("", "stored")
        .map_err(in_ctx("balances.state"))?;
    Ok(stored != 0)
}

/// The sum of the account's lots not due at `at`, beside whether a state is stored: one
/// statement on the head row.
pub(super) async fn available_points(
    tx: &StoreTransaction,
    brand: BrandId,
    customer: CustomerId,
    at: OffsetDateTime,
) -> Result<Option<Points>, StoreError> {
    let backend = tx.tx.get_database_backend();
    // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back.
    let sql = format!(
        "SELECT CASE WHEN b.state IS NULL THEN 0 ELSE 1 END AS stored, \
         CAST(COALESCE((SELECT SUM(l.remaining) FROM account_lots l \
         WHERE l.brand_id = b.brand_id AND l.customer_id = b.customer_id \
         AND (l.expires_at IS NULL OR {})), 0) AS BIGINT) AS available \
         FROM balances b WHERE b.brand_id = {} AND b.customer_id = {}",
        expires_after(backend, "l.", 1),
        placeholders(backend, 4, 1),
        placeholders(backend, 5, 1),
    );
    let mut values: Vec<Value> = instant_values(at).into();
    values.extend([brand.as_uuid().into(), customer.as_uuid().into()]);
    let row = tx
        .tx
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .map_err(in_ctx("select from balances with account_lots"))?;
    let Some(row) = row else {
        // Never locked: no entries, nothing to spend.
        return Ok(Some(Points::ZERO));
    };
    if !stored_of(&row)? {
        return Ok(None);
    }
    let available: i64 = row
        .try_get("", "available")
        .map_err(in_ctx("account_lots.remaining"))?;
    Ok(Some(Points::new(available)))
}

/// Each account's lots with points left that expire first after `after`, and whether a
/// state is stored: one statement per thousand customers, ranking each account's lots
/// by expiry and keeping the first rank (every lot of that instant).
pub(super) async fn next_expiring_lots(
    tx: &StoreTransaction,
    brand: BrandId,
    customers: &[CustomerId],
    after: OffsetDateTime,
) -> Result<Vec<ExpiringLots>, StoreError> {
    let backend = tx.tx.get_database_backend();
    let mut found: HashMap<CustomerId, Option<Vec<Lot>>> = HashMap::new();
    for chunk in customers.chunks(CUSTOMERS) {
        let n = chunk.len();
        // Placeholders in the order they appear (SQLite binds `?` so): the lots' brand,
        // customers and instant, then the heads' brand and customers.
        let sql = format!(
            "SELECT b.customer_id, CASE WHEN b.state IS NULL THEN 0 ELSE 1 END AS stored, \
             n.seq, n.expires_at, n.expires_at_ns, n.remaining FROM balances b LEFT JOIN (\
             SELECT customer_id, seq, expires_at, expires_at_ns, remaining, \
             RANK() OVER (PARTITION BY customer_id ORDER BY expires_at, expires_at_ns) AS r \
             FROM account_lots WHERE brand_id = {} AND customer_id IN ({}) \
             AND remaining > 0 AND expires_at IS NOT NULL AND {}) n \
             ON n.customer_id = b.customer_id AND n.r = 1 \
             WHERE b.brand_id = {} AND b.customer_id IN ({})",
            placeholders(backend, 1, 1),
            placeholders(backend, 2, n),
            expires_after(backend, "", n + 2),
            placeholders(backend, n + 5, 1),
            placeholders(backend, n + 6, n),
        );
        let ids = || chunk.iter().map(|c| Value::from(c.as_uuid()));
        let values: Vec<Value> = std::iter::once(brand.as_uuid().into())
            .chain(ids())
            .chain(instant_values(after))
            .chain(std::iter::once(brand.as_uuid().into()))
            .chain(ids())
            .collect();
        let rows = tx
            .tx
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
            .map_err(in_ctx("select from balances with account_lots"))?;
        for row in &rows {
            let id: Uuid = row
                .try_get("", "customer_id")
                .map_err(in_ctx("balances.customer_id"))?;
            let customer = CustomerId::from_uuid(id);
            if !stored_of(row)? {
                found.insert(customer, None);
                continue;
            }
            let lots = found.entry(customer).or_insert_with(|| Some(Vec::new()));
            let seq: Option<i64> = row.try_get("", "seq").map_err(in_ctx("account_lots.seq"))?;
            if let (Some(lots), Some(_)) = (lots, seq) {
                lots.push(lot_of(row)?);
            }
        }
    }
    let mut asked = HashSet::with_capacity(customers.len());
    Ok(customers
        .iter()
        .filter(|c| asked.insert(**c))
        .map(|&customer| ExpiringLots {
            customer,
            // An account never locked has no entries: nothing expires.
            lots: found.remove(&customer).unwrap_or_else(|| Some(Vec::new())),
        })
        .collect())
}
