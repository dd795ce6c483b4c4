//! A customer's open expiry lots as rows of their own (`account_lots`), beside the
//! figures of the account state: read by the rule of what a command can touch
//! ([`LotsWanted`]) and written by what it changed ([`LotChanges`]).
//!
//! Rows are ordered as debits consume them: dated lots by their expiry (microseconds,
//! then the nanoseconds within), never-expiring ones last, ties by seq.

use crate::convert::{to_i64, to_micros, to_u64};
use crate::error::{corrupt, in_ctx};
use crate::tx::StoreTransaction;
use regulars_domain::{BrandId, CustomerId, Points};
use regulars_loyalty::ledger::Lot;
use regulars_loyalty::ledger::{LotChanges, LotsFound, LotsWanted};
use regulars_ports::StoreError;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Value};
use time::OffsetDateTime;

/// Rows per statement: well under SQLite's limit of bound variables.
const CHUNK: usize = 100;

/// The consumption order of the rows.
pub(super) const ORDER: &str =
    "CASE WHEN expires_at IS NULL THEN 1 ELSE 0 END, expires_at, expires_at_ns, seq";

/// A lot's expiry as stored: microseconds and the nanoseconds within the microsecond.
pub(crate) fn lot_instant(expires_at: Option<OffsetDateTime>) -> (Option<i64>, i32) {
    match expires_at {
        None => (None, 0),
        Some(at) => {
            let nanos = at.unix_timestamp_nanos().rem_euclid(1_000);
            (Some(to_micros(at)), i32::try_from(nanos).unwrap_or(0))
        }
    }
}

pub(super) fn placeholders(backend: DbBackend, from: usize, count: usize) -> String {
    (from..from + count)
        .map(|n| match backend {
            DbBackend::Postgres => format!("${n}"),
            _ => "?".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn lot_of(row: &QueryResult) -> Result<Lot, StoreError> {
    let read = |column: &'static str| in_ctx(column);
    let seq: i64 = row.try_get("", "seq").map_err(read("account_lots.seq"))?;
    let micros: Option<i64> = row
        .try_get("", "expires_at")
        .map_err(read("account_lots.expires_at"))?;
    let nanos: i32 = row
        .try_get("", "expires_at_ns")
        .map_err(read("account_lots.expires_at_ns"))?;
    let remaining: i64 = row
        .try_get("", "remaining")
        .map_err(read("account_lots.remaining"))?;
    let expires_at = micros
        .map(|micros| {
            let nanos = i128::from(micros) * 1_000 + i128::from(nanos);
            OffsetDateTime::from_unix_timestamp_nanos(nanos)
                .map_err(|e| corrupt("account_lots.expires_at", e))
        })
        .transpose()?;
    Ok(Lot {
        seq: to_u64("account_lots.seq", seq)?,
        expires_at,
        remaining: Points::new(remaining),
    })
}

/// The lots `wanted` asks for, in one statement: when it asks only for the due lots, an
/// indexed range of them; otherwise the account's lots with the running sum of the
/// not-due ones before each, cut where the sum reaches the debit. The database's cut is
/// on whole microseconds and may return a little more; [`LotsWanted::select`] makes the
/// exact one.
pub(crate) async fn lots(
    tx: &mut StoreTransaction,
    brand: BrandId,
    customer: CustomerId,
    wanted: &LotsWanted,
) -> Result<LotsFound, StoreError> {
    let backend = tx.tx.get_database_backend();
    let due = wanted.due_at.map_or(i64::MIN, to_micros);
    let mut values: Vec<Value> = vec![
        brand.as_uuid().into(),
        customer.as_uuid().into(),
        due.into(),
    ];
    let sql = if !wanted.debit.is_positive() && wanted.seqs.is_empty() {
        format!(
            "SELECT seq, expires_at, expires_at_ns, remaining FROM account_lots \
             WHERE brand_id = {} AND customer_id = {} AND expires_at <= {} ORDER BY {ORDER}",
            placeholders(backend, 1, 1),
            placeholders(backend, 2, 1),
            placeholders(backend, 3, 1),
        )
    } else {
        values.push(wanted.debit.value().into());
        let mut seqs = String::new();
        if !wanted.seqs.is_empty() {
            seqs = format!(
                " OR seq IN ({})",
                placeholders(backend, 5, wanted.seqs.len())
            );
            for seq in &wanted.seqs {
                values.push(to_i64("lot seq", *seq)?.into());
            }
        }
        let not_due = format!(
            "CASE WHEN expires_at IS NOT NULL AND expires_at <= {} THEN 0 ELSE remaining END",
            placeholders(backend, 3, 1)
        );
        format!(
            "SELECT seq, expires_at, expires_at_ns, remaining FROM (\
             SELECT seq, expires_at, expires_at_ns, remaining, \
             COALESCE(SUM({not_due}) OVER (ORDER BY {ORDER} \
             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before \
             FROM account_lots WHERE brand_id = {} AND customer_id = {}) lots \
             WHERE (expires_at IS NOT NULL AND expires_at <= {}) OR before < {}{seqs} \
             ORDER BY {ORDER}",
            placeholders(backend, 1, 1),
            placeholders(backend, 2, 1),
            placeholders(backend, 3, 1),
            placeholders(backend, 4, 1),
        )
    };
    let values = match backend {
        // SQLite binds `?` in the order they appear: the CASE's comes first.
        DbBackend::Postgres => values,
        _ => sqlite_order(values, wanted),
    };
    let rows = tx
        .tx
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .map_err(in_ctx("select from account_lots"))?;
    let lots = rows.iter().map(lot_of).collect::<Result<Vec<_>, _>>()?;
    Ok(wanted.select(lots))
}

/// The values of [`lots`]' statement in the order its `?` appear on SQLite.
fn sqlite_order(values: Vec<Value>, wanted: &LotsWanted) -> Vec<Value> {
    if !wanted.debit.is_positive() && wanted.seqs.is_empty() {
        return values;
    }
    let mut it = values.into_iter();
    let (brand, customer, due) = (it.next(), it.next(), it.next());
    let debit = it.next();
    let seqs: Vec<Value> = it.collect();
    // CASE (due), brand, customer, due, debit, seqs…
    [due.clone(), brand, customer, due, debit]
        .into_iter()
        .flatten()
        .chain(seqs)
        .collect()
}

/// Every lot of the account, in consumption order (for the ledger check).
pub(crate) async fn all_lots(
    tx: &mut StoreTransaction,
    brand: BrandId,
    customer: CustomerId,
) -> Result<Vec<Lot>, StoreError> {
    let backend = tx.tx.get_database_backend();
    let sql = format!(
        "SELECT seq, expires_at, expires_at_ns, remaining FROM account_lots \
         WHERE brand_id = {} AND customer_id = {} ORDER BY {ORDER}",
        placeholders(backend, 1, 1),
        placeholders(backend, 2, 1),
    );
    let rows = tx
        .tx
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [brand.as_uuid().into(), customer.as_uuid().into()],
        ))
        .await
        .map_err(in_ctx("select from account_lots"))?;
    rows.iter().map(lot_of).collect()
}

/// Deletes every lot of the account.
pub(crate) async fn delete_all(
    tx: &mut StoreTransaction,
    brand: BrandId,
    customer: CustomerId,
) -> Result<(), StoreError> {
    let backend = tx.tx.get_database_backend();
    let sql = format!(
        "DELETE FROM account_lots WHERE brand_id = {} AND customer_id = {}",
        placeholders(backend, 1, 1),
        placeholders(backend, 2, 1),
    );
    tx.tx
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [brand.as_uuid().into(), customer.as_uuid().into()],
        ))
        .await
        .map_err(in_ctx("delete from account_lots"))?;
    Ok(())
}

/// Writes what a command changed: deletes the closed lots, upserts the opened and
/// changed ones (a lot's expiry never changes, only what remains).
pub(crate) async fn write_lots(
    tx: &mut StoreTransaction,
    brand: BrandId,
    customer: CustomerId,
    changes: &LotChanges,
) -> Result<(), StoreError> {
    let backend = tx.tx.get_database_backend();
    if changes.replace_all {
        delete_all(tx, brand, customer).await?;
    } else {
        for chunk in changes.delete.chunks(CHUNK) {
            let sql = format!(
                "DELETE FROM account_lots WHERE brand_id = {} AND customer_id = {} \
                 AND seq IN ({})",
                placeholders(backend, 1, 1),
                placeholders(backend, 2, 1),
                placeholders(backend, 3, chunk.len()),
            );
            let mut values: Vec<Value> = vec![brand.as_uuid().into(), customer.as_uuid().into()];
            for seq in chunk {
                values.push(to_i64("lot seq", *seq)?.into());
            }
            tx.tx
                .execute_raw(Statement::from_sql_and_values(backend, sql, values))
                .await
                .map_err(in_ctx("delete from account_lots"))?;
        }
    }
    for chunk in changes.write.chunks(CHUNK) {
        let mut rows = Vec::with_capacity(chunk.len());
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 6);
        for (i, lot) in chunk.iter().enumerate() {
            rows.push(format!("({})", placeholders(backend, i * 6 + 1, 6)));
            let (micros, nanos) = lot_instant(lot.expires_at);
            values.extend([
                brand.as_uuid().into(),
                customer.as_uuid().into(),
                to_i64("lot seq", lot.seq)?.into(),
                micros.into(),
                nanos.into(),
                lot.remaining.value().into(),
            ]);
        }
        let sql = format!(
            "INSERT INTO account_lots \
             (brand_id, customer_id, seq, expires_at, expires_at_ns, remaining) VALUES {} \
             ON CONFLICT (brand_id, customer_id, seq) DO UPDATE SET remaining = excluded.remaining",
            rows.join(", ")
        );
        tx.tx
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
            .map_err(in_ctx("upsert into account_lots"))?;
    }
    Ok(())
}
