//! The accounts of an import, set-wise: the existing accounts of a chunk locked and their
//! open lots read, and every account's head, lots and entries written, a few statements
//! per thousand accounts instead of several per account. Each statement is the set-wise
//! form of the one-account statement beside it (`lock_balance_row`, `append_entries`,
//! `write_lots`), with the same checks.
//!
//! On PostgreSQL each statement takes its accounts as one bound value (an array of ids,
//! or a JSON array of rows read back with `jsonb_to_recordset`), so its text is the same
//! whatever the number of accounts: prepared once per connection, where a list of
//! placeholders made a new statement to parse and plan for every count. SQLite, which
//! has neither, takes lists of placeholders.

use super::account_lots::{ORDER, lot_instant, lot_of, placeholders};
use super::bulk_rows::{Rows, json_cell};
use crate::convert::{from_json, from_micros_opt, to_i64, to_json, to_u64};
use crate::error::{in_ctx, unstorable};
use crate::tx::StoreTransaction;
use regulars_domain::{BrandId, CustomerId, Points};
use regulars_loyalty::ledger::{AccountState, Lot, LotChanges, LotsFound, LotsWanted};
use regulars_ports::{AccountHead, AccountWrite, LockedAccount, StoreError};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Value};
use std::collections::HashMap;
use uuid::Uuid;

/// Accounts per statement: at most 6 bound values a row keeps every statement here far
/// under SQLite's limit of bound values (32,766) and PostgreSQL's (65,535).
const ACCOUNTS: usize = 1000;

/// The ids in a fixed order (rows are locked in it: two imports never wait on each
/// other in a circle), each once.
fn sorted(customers: &[CustomerId]) -> Vec<CustomerId> {
    let mut ids = customers.to_vec();
    ids.sort_unstable_by_key(|c| c.as_uuid());
    ids.dedup();
    ids
}

fn customer_of(row: &QueryResult, table: &'static str) -> Result<CustomerId, StoreError> {
    let id: Uuid = row.try_get("", "customer_id").map_err(in_ctx(table))?;
    Ok(CustomerId::from_uuid(id))
}

async fn query(
    tx: &StoreTransaction,
    sql: String,
    values: Vec<Value>,
    context: &'static str,
) -> Result<Vec<QueryResult>, StoreError> {
    let backend = tx.tx.get_database_backend();
    tx.tx
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .map_err(in_ctx(context))
}

async fn execute(
    tx: &StoreTransaction,
    sql: String,
    values: Vec<Value>,
    context: &'static str,
) -> Result<u64, StoreError> {
    let backend = tx.tx.get_database_backend();
    tx.tx
        .execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .map(|done| done.rows_affected())
        .map_err(in_ctx(context))
}

/// `(p, p, …), (p, p, …)`: `rows` groups of `width` placeholders numbered from `from`.
fn tuples(backend: DbBackend, from: usize, rows: usize, width: usize) -> String {
    (0..rows)
        .map(|i| format!("({})", placeholders(backend, from + i * width, width)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows to read as a table `v` of columns `column1`, `column2`, … (`FROM {source} AS v`),
/// the values bound from placeholder `from` on: on PostgreSQL one JSON array read by
/// `jsonb_to_recordset` as the `types`, elsewhere `VALUES` of a placeholder a value.
/// `values` holds `types.len()` values a row.
fn rows_source(
    backend: DbBackend,
    from: usize,
    types: &[&str],
    values: Vec<Value>,
) -> Result<(String, Vec<Value>), StoreError> {
    let width = types.len().max(1);
    if backend != DbBackend::Postgres {
        let rows = values.len() / width;
        return Ok((
            format!("(VALUES {})", tuples(backend, from, rows, width)),
            values,
        ));
    }
    let names: Vec<String> = (1..=width).map(|n| format!("column{n}")).collect();
    let mut json = String::from("[");
    for (i, row) in values.chunks(width).enumerate() {
        json.push_str(if i == 0 { "{" } else { ",{" });
        for (j, (name, value)) in names.iter().zip(row).enumerate() {
            json_cell(&mut json, j, name, value, "bound rows")?;
        }
        json.push('}');
    }
    json.push(']');
    let columns = names
        .iter()
        .zip(types)
        .map(|(name, ty)| format!("{name} {ty}"))
        .collect::<Vec<_>>()
        .join(", ");
    Ok((
        format!("(SELECT * FROM jsonb_to_recordset(${from}::jsonb) AS r({columns}))"),
        vec![json.into()],
    ))
}

/// PostgreSQL: `{id,id,…}`, the ids as one array value (read with `CAST(… AS uuid[])`).
fn id_array(chunk: &[CustomerId]) -> Value {
    let ids: Vec<String> = chunk.iter().map(|c| c.as_uuid().to_string()).collect();
    format!("{{{}}}", ids.join(",")).into()
}

/// `customer_id IN (…)` of `chunk`, its placeholders numbered from 2 (the brand is 1),
/// and the values to bind after the brand.
fn among(backend: DbBackend, chunk: &[CustomerId]) -> (String, Vec<Value>) {
    match backend {
        DbBackend::Postgres => (
            // A subquery: the array is read once, where `= ANY(CAST(…))` would cast the
            // text again for every row a scan filters.
            "customer_id IN (SELECT unnest(CAST($2 AS uuid[])))".to_owned(),
            vec![id_array(chunk)],
        ),
        _ => (
            format!("customer_id IN ({})", placeholders(backend, 2, chunk.len())),
            chunk.iter().map(|c| c.as_uuid().into()).collect(),
        ),
    }
}

/// Locks the accounts (creating missing head rows), as `lock_account_state` does for
/// one: one upsert per thousand accounts, and one read of their earliest expiries.
pub(super) async fn lock_accounts(
    tx: &mut StoreTransaction,
    brand: BrandId,
    customers: &[CustomerId],
) -> Result<Vec<(CustomerId, LockedAccount)>, StoreError> {
    let backend = tx.tx.get_database_backend();
    let mut locked = Vec::with_capacity(customers.len());
    for chunk in sorted(customers).chunks(ACCOUNTS) {
        // The rows are locked in the order given (the ids' order): `unnest` keeps it.
        let (rows, brand_at, values): (String, String, Vec<Value>) = match backend {
            DbBackend::Postgres => (
                "SELECT $1, u, 0, 0, NULL FROM unnest(CAST($2 AS uuid[])) AS u".to_owned(),
                "$1".to_owned(),
                vec![brand.as_uuid().into(), id_array(chunk)],
            ),
            _ => {
                let rows = (0..chunk.len())
                    .map(|i| format!("({}, 0, 0, NULL)", placeholders(backend, i * 2 + 1, 2)))
                    .collect::<Vec<_>>()
                    .join(", ");
                let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 2 + 1);
                for customer in chunk {
                    values.push(brand.as_uuid().into());
                    values.push(customer.as_uuid().into());
                }
                values.push(brand.as_uuid().into());
                let at = placeholders(backend, chunk.len() * 2 + 1, 1);
                (format!("VALUES {rows}"), at, values)
            }
        };
        let sql = format!(
            "INSERT INTO balances (brand_id, customer_id, balance, next_seq, state) \
             {rows} \
             ON CONFLICT (brand_id, customer_id) DO UPDATE SET next_seq = balances.next_seq \
             RETURNING customer_id, balance, next_seq, state, referral_pending, \
             (SELECT config_version FROM brands WHERE id = {brand_at}) AS config_version"
        );
        let heads = query(tx, sql, values, "upsert into balances returning").await?;
        let firsts = first_expiries(tx, brand, chunk).await?;
        for row in &heads {
            let customer = customer_of(row, "balances.customer_id")?;
            let first = firsts.get(&customer).copied().flatten();
            locked.push((customer, locked_account(row, first)?));
        }
    }
    Ok(locked)
}

/// The earliest expiry (microseconds) among each account's lots.
async fn first_expiries(
    tx: &StoreTransaction,
    brand: BrandId,
    chunk: &[CustomerId],
) -> Result<HashMap<CustomerId, Option<i64>>, StoreError> {
    let backend = tx.tx.get_database_backend();
    let (among, values) = among_of(backend, brand, chunk);
    let sql = format!(
        "SELECT customer_id, MIN(expires_at) AS first_expiry FROM account_lots \
         WHERE brand_id = {} AND {among} GROUP BY customer_id",
        placeholders(backend, 1, 1),
    );
    let rows = query(tx, sql, values, "select from account_lots").await?;
    let mut firsts = HashMap::with_capacity(rows.len());
    for row in &rows {
        let first: Option<i64> = row
            .try_get("", "first_expiry")
            .map_err(in_ctx("account_lots.expires_at"))?;
        firsts.insert(customer_of(row, "account_lots.customer_id")?, first);
    }
    Ok(firsts)
}

/// [`among`], with the brand bound first.
fn among_of(backend: DbBackend, brand: BrandId, chunk: &[CustomerId]) -> (String, Vec<Value>) {
    let (clause, ids) = among(backend, chunk);
    let values = std::iter::once(brand.as_uuid().into()).chain(ids).collect();
    (clause, values)
}

/// The locked account a lock statement's row holds (balance, next seq, state,
/// referral mark, config version), `first` the earliest lot expiry read beside it.
pub(super) fn locked_account(
    row: &QueryResult,
    first: Option<i64>,
) -> Result<LockedAccount, StoreError> {
    let read = |column: &'static str| in_ctx(column);
    let balance: i64 = row
        .try_get("", "balance")
        .map_err(read("balances.balance"))?;
    let next_seq: i64 = row
        .try_get("", "next_seq")
        .map_err(read("balances.next_seq"))?;
    let state: Option<String> = row.try_get("", "state").map_err(read("balances.state"))?;
    let config_version: Option<i64> = row
        .try_get("", "config_version")
        .map_err(read("brands.config_version"))?;
    let referral_pending: bool = row
        .try_get("", "referral_pending")
        .map_err(read("balances.referral_pending"))?;
    let mut state = state
        .as_deref()
        .map(|text| from_json::<AccountState>("balances.state", text))
        .transpose()?;
    if let Some(state) = &mut state {
        // Floored to the microsecond: no lot expires before it.
        state.no_lot_expires_before(from_micros_opt(first)?);
    }
    Ok(LockedAccount {
        head: AccountHead {
            balance: Points::new(balance),
            next_seq: to_u64("balances.next_seq", next_seq)?,
        },
        state,
        config_version,
        referral_pending,
    })
}

/// Every open lot of each account, as `LedgerRepo::lots` finds them for
/// [`LotsWanted::all`]: one statement per thousand accounts. Every account asked for
/// is in the answer (with nothing found when it has no lot).
pub(super) async fn all_lots_of(
    tx: &mut StoreTransaction,
    brand: BrandId,
    customers: &[CustomerId],
) -> Result<Vec<(CustomerId, LotsFound)>, StoreError> {
    let backend = tx.tx.get_database_backend();
    let every = LotsWanted::all();
    let mut found = Vec::with_capacity(customers.len());
    for chunk in sorted(customers).chunks(ACCOUNTS) {
        let (among, values) = among_of(backend, brand, chunk);
        let sql = format!(
            "SELECT customer_id, seq, expires_at, expires_at_ns, remaining FROM account_lots \
             WHERE brand_id = {} AND {among} ORDER BY customer_id, {ORDER}",
            placeholders(backend, 1, 1),
        );
        let rows = query(tx, sql, values, "select from account_lots").await?;
        let mut lots: HashMap<CustomerId, Vec<Lot>> = HashMap::new();
        for row in &rows {
            let customer = customer_of(row, "account_lots.customer_id")?;
            lots.entry(customer).or_default().push(lot_of(row)?);
        }
        for customer in chunk {
            let theirs = lots.remove(customer).unwrap_or_default();
            found.push((*customer, every.select(theirs)));
        }
    }
    Ok(found)
}

/// Moves the heads of accounts locked before, each by the same check as
/// `append_entries`: the entries continue the head, add up to the new balance, and the
/// state is at the entry they end on; the head must not have moved since it was locked.
pub(super) async fn move_heads(
    tx: &mut StoreTransaction,
    brand: BrandId,
    accounts: &[(&AccountWrite, AccountHead)],
) -> Result<(), StoreError> {
    let backend = tx.tx.get_database_backend();
    for chunk in accounts.chunks(ACCOUNTS) {
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 5 + 1);
        for (account, head) in chunk {
            let next_seq = checked_head(account, *head)?;
            values.extend([
                account.customer.as_uuid().into(),
                to_i64("seq", head.next_seq)?.into(),
                account.state.balance().value().into(),
                to_i64("seq", next_seq)?.into(),
                // The figures alone: the lots are rows of their own.
                Some(to_json("account state", &account.state.without_lots())?).into(),
            ]);
        }
        let types = ["uuid", "bigint", "bigint", "bigint", "text"];
        let (source, mut values) = rows_source(backend, 1, &types, values)?;
        let brand_at = placeholders(backend, values.len() + 1, 1);
        values.push(brand.as_uuid().into());
        let sql = format!(
            "UPDATE balances SET balance = v.column3, next_seq = v.column4, state = v.column5 \
             FROM {source} AS v \
             WHERE balances.brand_id = {brand_at} AND balances.customer_id = v.column1 \
             AND balances.next_seq = v.column2"
        );
        let moved = execute(tx, sql, values, "update balances").await?;
        if moved != chunk.len() as u64 {
            return Err(StoreError::Conflict(format!(
                "{} of {} ledgers no longer have the entries they were locked with (or their \
                 accounts are not locked)",
                chunk.len() as u64 - moved.min(chunk.len() as u64),
                chunk.len()
            )));
        }
    }
    Ok(())
}

/// The head the account's entries end on, after checking them as `append_entries` does.
fn checked_head(account: &AccountWrite, head: AccountHead) -> Result<u64, StoreError> {
    let mut next_seq = head.next_seq;
    let mut sum = head.balance;
    for entry in &account.entries {
        if entry.seq != next_seq {
            return Err(unstorable(
                "ledger entries",
                format!("entry seq {} where {next_seq} comes next", entry.seq),
            ));
        }
        next_seq = next_seq
            .checked_add(1)
            .ok_or_else(|| unstorable("ledger entries", "sequence number overflow"))?;
        sum = sum
            .checked_add(entry.amount)
            .ok_or_else(|| unstorable("ledger entries", "balance overflow"))?;
    }
    if account.state.next_seq() != next_seq {
        return Err(unstorable(
            "account state",
            format!(
                "the state is at entry {} where the head is at {next_seq}",
                account.state.next_seq()
            ),
        ));
    }
    if sum != account.state.balance() {
        return Err(unstorable(
            "ledger entries",
            format!(
                "the new balance {} is not the head's plus the entries' ({sum})",
                account.state.balance()
            ),
        ));
    }
    Ok(next_seq)
}

/// Writes what the accounts' folds changed in their lots, as `write_lots` does for one:
/// the lots of accounts replaced whole deleted, then the closed ones, then the opened
/// and changed ones upserted — each a statement per thousand rows.
pub(super) async fn write_lot_changes(
    tx: &mut StoreTransaction,
    brand: BrandId,
    changes: &[(CustomerId, LotChanges)],
) -> Result<(), StoreError> {
    let backend = tx.tx.get_database_backend();
    let replaced: Vec<CustomerId> = changes
        .iter()
        .filter(|(_, c)| c.replace_all)
        .map(|(customer, _)| *customer)
        .collect();
    for chunk in replaced.chunks(ACCOUNTS) {
        let (among, values) = among_of(backend, brand, chunk);
        let sql = format!(
            "DELETE FROM account_lots WHERE brand_id = {} AND {among}",
            placeholders(backend, 1, 1),
        );
        execute(tx, sql, values, "delete from account_lots").await?;
    }
    let mut closed: Vec<(CustomerId, i64)> = Vec::new();
    for (customer, change) in changes.iter().filter(|(_, c)| !c.replace_all) {
        for seq in &change.delete {
            closed.push((*customer, to_i64("lot seq", *seq)?));
        }
    }
    for chunk in closed.chunks(ACCOUNTS) {
        let mut pairs: Vec<Value> = Vec::with_capacity(chunk.len() * 2);
        for (customer, seq) in chunk {
            pairs.push(customer.as_uuid().into());
            pairs.push((*seq).into());
        }
        let (source, pairs) = rows_source(backend, 2, &["uuid", "bigint"], pairs)?;
        let sql = format!(
            "DELETE FROM account_lots WHERE brand_id = {} AND (customer_id, seq) IN \
             (SELECT column1, column2 FROM {source} AS v)",
            placeholders(backend, 1, 1),
        );
        let values: Vec<Value> = std::iter::once(brand.as_uuid().into())
            .chain(pairs)
            .collect();
        execute(tx, sql, values, "delete from account_lots").await?;
    }
    let written: Vec<(CustomerId, &Lot)> = changes
        .iter()
        .flat_map(|(customer, change)| change.write.iter().map(move |lot| (*customer, lot)))
        .collect();
    let mut rows = Rows::new(
        "account_lots",
        &[
            "brand_id",
            "customer_id",
            "seq",
            "expires_at",
            "expires_at_ns",
            "remaining",
        ],
    )
    .upsert(&["brand_id", "customer_id", "seq"], &["remaining"]);
    for (customer, lot) in written {
        let (micros, nanos) = lot_instant(lot.expires_at);
        rows.push([
            brand.as_uuid().into(),
            customer.as_uuid().into(),
            to_i64("lot seq", lot.seq)?.into(),
            micros.into(),
            nanos.into(),
            lot.remaining.value().into(),
        ]);
    }
    rows.insert(tx, "upsert into account_lots").await?;
    Ok(())
}
