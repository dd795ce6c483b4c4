//! [`OrderRepo::write_order`](regulars_ports::OrderRepo::write_order): everything an
//! earning order writes, in one round trip.
//!
//! * **PostgreSQL**: one data-modifying statement — each table's rows in a `WITH` part of
//!   their own, the head's conditional `UPDATE` among them, answered by the number of
//!   heads it moved. Each table's rows are bound as one JSON array and read back with
//!   `jsonb_populate_recordset`, so the statement's text is the same whatever the number
//!   of lines, entries, tallies and lots: one prepared statement (parsed once per
//!   connection) serves every order, where text that grew with the rows would be parsed
//!   and planned anew for each new shape and crowd the connection's statement cache.
//! * **SQLite**, which has no data-modifying `WITH`: the same writes as statements run in
//!   turn, sent together in one query (one call to the connection's thread instead of
//!   one per table) and answered by the row the head's `UPDATE … RETURNING` gives when
//!   it moves.
//!
//! The parts of PostgreSQL's statement see the same snapshot and none sees another's
//! rows, so no two of them may touch the same row: a change of lots that replaces them
//! all (delete every lot, then write them again) or that deletes a lot it also writes is
//! written the sequential way there, as are writes of more rows than one statement
//! should carry (on both databases). Foreign keys are checked when the statement ends,
//! when every part has run; SQLite's statements run in an order that satisfies them.
//!
//! A head that did not move (the account was not locked, or moved meanwhile) is a
//! conflict, whatever the other parts wrote: the caller rolls its transaction (or
//! savepoint) back and runs the order again.
//!
//! The order row carries its link to the customer's previous counted order
//! (`order_chain`): taken from the stats when the order is the customer's latest, else
//! set by a relink of the customer's orders once the write is done (one more statement,
//! for an order older than the customer's latest).

use super::bulk_rows::json_cell;
use super::ledger::{checked_append, entry_row};
use super::order_chain::{Link, link_of};
use super::order_reads::Binds;
use super::{account_lots, account_state, customers, idempotency, orders};
use crate::convert::to_i64;
use crate::entity::{
    account_tally, customer_stats, idempotency as idem, ledger_entry, order as order_e, order_line,
};
use crate::error::in_ctx;
use crate::tx::StoreTransaction;
use regulars_domain::BrandId;
use regulars_loyalty::ledger::LotChanges;
use regulars_ports::{
    AccountAppend, AccountHead, CustomerRepo, IdempotencyRepo, LedgerRepo, OrderWrites, StoreError,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ConnectionTrait, EntityTrait, IdenStatic, IntoActiveModel,
    Iterable, Statement, Value,
};

/// Rows beyond which the writes go one table at a time (in chunks): SQLite binds at most
/// 32,766 values a statement, and an account folded from its entries writes every tally
/// it has once.
const MAX_ROWS: usize = 2_000;

/// What the write does, for its errors.
const WHAT: &str = "insert an order with its lines, entries, lots, stats and idempotency record";

/// Writes `writes` (see the module's comment for how).
pub(super) async fn write_order(
    tx: &mut StoreTransaction,
    writes: &OrderWrites,
) -> Result<Option<AccountHead>, StoreError> {
    let postgres = tx.is_postgres();
    let lots = writes.account.as_ref().map(|a| {
        let mut lots = a.state.lot_changes();
        // An account that had no entries has no stored lots to replace (the head's
        // conditional update below makes sure it still has none), so a new customer's
        // first order is one statement too.
        if a.head.next_seq == 0 {
            lots.replace_all = false;
        }
        lots
    });
    let rows = writes.order.order.lines.len()
        + writes
            .account
            .as_ref()
            .map_or(0, |a| a.entries.len() + a.tallies.len())
        + lots.as_ref().map_or(0, |l| l.write.len() + l.delete.len());
    let overlapping = postgres && lots.as_ref().is_some_and(|l| !one_statement(l));
    let link = link_of(&writes.order, writes.stats.as_ref());
    if rows > MAX_ROWS || overlapping {
        return one_by_one(tx, writes, link).await;
    }
    let brand = writes.order.order.brand_id;
    let mut w = Writer {
        b: Binds::new(postgres),
        parts: Vec::new(),
    };
    let (mut order, lines) = orders::order_rows(tx.keys(), &writes.order)?;
    if let Link::Known(prev) = link {
        order.prev_counted_at = ActiveValue::Set(prev);
    }
    w.insert::<order_e::Entity>(vec![order], "")?;
    w.insert::<order_line::Entity>(lines, "")?;
    let head = match (&writes.account, &lots) {
        (Some(append), Some(lots)) => Some(account_parts(&mut w, brand, append, lots)?),
        _ => None,
    };
    if let Some(stats) = &writes.stats {
        let row = customers::stats_to_row(brand, stats)?.into_active_model();
        let update = customer_stats::Column::iter()
            .filter(|c| {
                !matches!(
                    c,
                    customer_stats::Column::BrandId | customer_stats::Column::CustomerId
                )
            })
            .map(|c| format!("{0} = excluded.{0}", c.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let conflict = format!(" ON CONFLICT (brand_id, customer_id) DO UPDATE SET {update}");
        w.insert::<customer_stats::Entity>(vec![row], &conflict)?;
    }
    let mut records = vec![
        idempotency::record_row(tx.keys(), brand, &writes.order.order.key, &writes.record)?
            .into_active_model(),
    ];
    if let Some((key, record)) = &writes.also {
        records.push(idempotency::record_row(tx.keys(), brand, key, record)?.into_active_model());
    }
    w.insert::<idem::Entity>(records, "")?;

    let moved = if postgres {
        w.run_with(tx, head.is_some()).await?
    } else {
        w.run_in_turn(tx).await?
    };
    match (head, &writes.account) {
        (Some(_), Some(append)) if moved == 0 => Err(StoreError::Conflict(format!(
            "ledger of customer {} no longer has {} entries (or its account is not locked)",
            append.customer, append.head.next_seq
        ))),
        (head, _) => {
            tx.relink_after(&writes.order, link).await?;
            Ok(head)
        }
    }
}

/// Whether the lot changes can go in one statement (no row touched twice).
fn one_statement(lots: &LotChanges) -> bool {
    !lots.replace_all && !lots.write.iter().any(|lot| lots.delete.contains(&lot.seq))
}

/// The writes one statement after another, for more rows than one statement should
/// carry, and on PostgreSQL for lots its one statement cannot write.
async fn one_by_one(
    tx: &mut StoreTransaction,
    writes: &OrderWrites,
    link: Link,
) -> Result<Option<AccountHead>, StoreError> {
    let brand = writes.order.order.brand_id;
    tx.insert_linked(&writes.order, link).await?;
    let head = match &writes.account {
        Some(a) => Some(
            tx.append_with_state(brand, a.customer, a.head, &a.entries, &a.state, &a.tallies)
                .await?,
        ),
        None => None,
    };
    if let Some(stats) = &writes.stats {
        tx.save_stats(brand, stats).await?;
    }
    tx.remember(brand, &writes.order.order.key, &writes.record)
        .await?;
    if let Some((key, record)) = &writes.also {
        tx.remember(brand, key, record).await?;
    }
    Ok(head)
}

/// The account's parts: the head's conditional `UPDATE` (named `head`, so PostgreSQL's
/// statement can count what it moved), the entries, the tallies and the lots (deleted,
/// then written).
fn account_parts(
    w: &mut Writer,
    brand: BrandId,
    append: &AccountAppend,
    lots: &LotChanges,
) -> Result<AccountHead, StoreError> {
    let AccountAppend {
        customer,
        head,
        entries,
        state,
        tallies,
    } = append;
    let balance = state.balance();
    let (next_seq, state_json) = checked_append(*head, entries, balance, Some(state))?;
    let b = &mut w.b;
    let update = format!(
        "UPDATE balances SET balance = {}, next_seq = {}, state = {} \
         WHERE brand_id = {} AND customer_id = {} AND next_seq = {} RETURNING 1",
        b.bind(balance.value()),
        b.bind(to_i64("seq", next_seq)?),
        b.bind(state_json),
        b.bind(brand.as_uuid()),
        b.bind(customer.as_uuid()),
        b.bind(to_i64("seq", head.next_seq)?),
    );
    w.parts.push((Some("head"), update));
    let rows = entries
        .iter()
        .map(|e| entry_row(brand, *customer, e).map(|row| row.into_active_model()))
        .collect::<Result<Vec<_>, _>>()?;
    w.insert::<ledger_entry::Entity>(rows, "")?;
    let rows = tallies
        .iter()
        .map(|t| account_state::tally_row(brand, *customer, t))
        .collect::<Result<Vec<_>, _>>()?;
    w.insert::<account_tally::Entity>(
        rows,
        " ON CONFLICT (brand_id, customer_id, tally_key) DO UPDATE SET tally = excluded.tally",
    )?;
    w.lots(brand, *customer, lots)?;
    Ok(AccountHead { balance, next_seq })
}

/// The parts of the write and their bound values: on PostgreSQL the `WITH` parts of one
/// statement, each named `w0`, `w1`, … unless given a name; on SQLite statements run in
/// turn.
struct Writer {
    b: Binds,
    parts: Vec<(Option<&'static str>, String)>,
}

impl Writer {
    /// Inserts `rows` into `E`'s table, then `tail` (an `ON CONFLICT` clause, or
    /// nothing). On PostgreSQL the part is there with no rows too, so that the text stays
    /// the same; on SQLite no rows is no statement.
    fn insert<E: EntityTrait>(
        &mut self,
        rows: Vec<E::ActiveModel>,
        tail: &str,
    ) -> Result<(), StoreError> {
        if self.b.is_postgres() {
            let sql = insert_json::<E>(&mut self.b, &rows, tail)?;
            self.parts.push((None, sql));
        } else if !rows.is_empty() {
            let sql = insert_values::<E>(&mut self.b, rows, tail);
            self.parts.push((None, sql));
        }
        Ok(())
    }

    /// The lots' changes: those deleted (all of them when the change replaces them, on
    /// SQLite only: see the module's comment), then those written.
    fn lots(
        &mut self,
        brand: BrandId,
        customer: regulars_domain::CustomerId,
        lots: &LotChanges,
    ) -> Result<(), StoreError> {
        self.delete_lots(brand, customer, lots)?;
        self.write_lots(brand, customer, lots)
    }

    /// The lots deleted: all of them when the change replaces them, else those listed.
    fn delete_lots(
        &mut self,
        brand: BrandId,
        customer: regulars_domain::CustomerId,
        lots: &LotChanges,
    ) -> Result<(), StoreError> {
        let postgres = self.b.is_postgres();
        let b = &mut self.b;
        // Bound only where it is written: SQLite binds by position.
        let mut whose = || {
            format!(
                "brand_id = {} AND customer_id = {}",
                b.bind(brand.as_uuid()),
                b.bind(customer.as_uuid())
            )
        };
        if lots.replace_all {
            let whose = whose();
            self.parts
                .push((None, format!("DELETE FROM account_lots WHERE {whose}")));
        } else if postgres {
            let whose = whose();
            let seqs = lots
                .delete
                .iter()
                .map(|seq| to_i64("lot seq", *seq))
                .collect::<Result<Vec<_>, _>>()?;
            let seqs = serde_json::to_string(&seqs)
                .map_err(|e| StoreError::Other(format!("lot seqs as JSON: {e}")))?;
            let p = b.bind(seqs);
            self.parts.push((
                None,
                format!(
                    "DELETE FROM account_lots WHERE {whose} AND seq IN \
                     (SELECT CAST(value AS BIGINT) FROM jsonb_array_elements_text({p}::jsonb))"
                ),
            ));
        } else if !lots.delete.is_empty() {
            let whose = whose();
            let seqs = lots
                .delete
                .iter()
                .map(|seq| to_i64("lot seq", *seq).map(|seq| b.bind(seq)))
                .collect::<Result<Vec<_>, _>>()?
                .join(", ");
            self.parts.push((
                None,
                format!("DELETE FROM account_lots WHERE {whose} AND seq IN ({seqs})"),
            ));
        }
        Ok(())
    }

    /// The lots written: inserted, or their remaining points updated.
    fn write_lots(
        &mut self,
        brand: BrandId,
        customer: regulars_domain::CustomerId,
        lots: &LotChanges,
    ) -> Result<(), StoreError> {
        let postgres = self.b.is_postgres();
        let b = &mut self.b;
        const COLUMNS: &str = "brand_id, customer_id, seq, expires_at, expires_at_ns, remaining";
        const UPSERT: &str =
            "ON CONFLICT (brand_id, customer_id, seq) DO UPDATE SET remaining = excluded.remaining";
        if postgres {
            let mut json = String::from("[");
            for (i, lot) in lots.write.iter().enumerate() {
                let (micros, nanos) = account_lots::lot_instant(lot.expires_at);
                let cells = [
                    Value::from(brand.as_uuid()),
                    Value::from(customer.as_uuid()),
                    Value::from(to_i64("lot seq", lot.seq)?),
                    Value::from(micros),
                    Value::from(nanos),
                    Value::from(lot.remaining.value()),
                ];
                json.push_str(if i == 0 { "{" } else { ",{" });
                for (j, (name, value)) in COLUMNS.split(", ").zip(cells).enumerate() {
                    json_cell(&mut json, j, name, &value, "account_lots")?;
                }
                json.push('}');
            }
            json.push(']');
            let p = b.bind(json);
            self.parts.push((
                None,
                format!(
                    "INSERT INTO account_lots ({COLUMNS}) SELECT {COLUMNS} \
                     FROM jsonb_populate_recordset(NULL::account_lots, {p}::jsonb) {UPSERT}"
                ),
            ));
        } else if !lots.write.is_empty() {
            let mut rows = Vec::with_capacity(lots.write.len());
            for lot in &lots.write {
                let (micros, nanos) = account_lots::lot_instant(lot.expires_at);
                rows.push(format!(
                    "({}, {}, {}, {}, {}, {})",
                    b.bind(brand.as_uuid()),
                    b.bind(customer.as_uuid()),
                    b.bind(to_i64("lot seq", lot.seq)?),
                    b.bind(micros),
                    b.bind(nanos),
                    b.bind(lot.remaining.value()),
                ));
            }
            self.parts.push((
                None,
                format!(
                    "INSERT INTO account_lots ({COLUMNS}) VALUES {} {UPSERT}",
                    rows.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// PostgreSQL: the parts as one data-modifying `WITH` statement; the heads it moved.
    async fn run_with(self, tx: &StoreTransaction, has_head: bool) -> Result<i64, StoreError> {
        let with = self
            .parts
            .iter()
            .enumerate()
            .map(|(i, (name, sql))| match name {
                Some(name) => format!("{name} AS ({sql})"),
                None => format!("w{i} AS ({sql})"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let moved = if has_head {
            "(SELECT count(*) FROM head)"
        } else {
            "0"
        };
        let sql = format!("WITH {with} SELECT CAST({moved} AS BIGINT) AS moved");
        let row = tx
            .tx
            .query_one_raw(Statement::from_sql_and_values(
                tx.tx.get_database_backend(),
                sql,
                self.b.values,
            ))
            .await
            .map_err(in_ctx(WHAT))?
            .ok_or_else(|| StoreError::Other("a one-row select returned no row".into()))?;
        row.try_get("", "moved").map_err(in_ctx("moved heads"))
    }

    /// SQLite: the parts as statements run in turn, sent in one query; the heads moved
    /// (the rows the head's `UPDATE … RETURNING` gave: no other part returns any). Every
    /// row is fetched — a query stopped at the first would leave the statements after it
    /// unrun.
    async fn run_in_turn(self, tx: &StoreTransaction) -> Result<i64, StoreError> {
        let sql = self
            .parts
            .iter()
            .map(|(_, sql)| sql.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let rows = tx
            .tx
            .query_all_raw(Statement::from_sql_and_values(
                tx.tx.get_database_backend(),
                sql,
                self.b.values,
            ))
            .await
            .map_err(in_ctx(WHAT))?;
        Ok(i64::try_from(rows.len()).unwrap_or(i64::MAX))
    }
}

/// PostgreSQL: `INSERT INTO table (every column) SELECT every column FROM
/// jsonb_populate_recordset(NULL::table, $n)` with `rows` bound as one JSON array (the
/// table's own column types read it), then `tail`. Every column must be set: JSON has no
/// `DEFAULT`.
fn insert_json<E: EntityTrait>(
    b: &mut Binds,
    rows: &[E::ActiveModel],
    tail: &str,
) -> Result<String, StoreError> {
    let table = E::default().table_name();
    let columns: Vec<E::Column> = E::Column::iter().collect();
    let mut json = String::from("[");
    for (i, row) in rows.iter().enumerate() {
        json.push_str(if i == 0 { "{" } else { ",{" });
        for (j, column) in columns.iter().enumerate() {
            match row.get(*column) {
                ActiveValue::Set(value) | ActiveValue::Unchanged(value) => {
                    json_cell(&mut json, j, column.as_str(), &value, table)?;
                }
                ActiveValue::NotSet => {
                    return Err(StoreError::Other(format!(
                        "{table}.{}: a row written with the order leaves it unset",
                        column.as_str()
                    )));
                }
            }
        }
        json.push('}');
    }
    json.push(']');
    let names = columns
        .iter()
        .map(|c| format!("\"{}\"", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let p = b.bind(json);
    Ok(format!(
        "INSERT INTO {table} ({names}) SELECT {names} \
         FROM jsonb_populate_recordset(NULL::{table}, {p}::jsonb){tail}"
    ))
}

/// SQLite: `INSERT INTO table (columns) VALUES (…), (…)` of `rows`, then `tail`: every
/// column some row sets. SQLite has no `DEFAULT` among values, so rows that leave
/// different columns unset are written one statement each, naming only what they set.
fn insert_values<E: EntityTrait>(b: &mut Binds, rows: Vec<E::ActiveModel>, tail: &str) -> String {
    let set = |row: &E::ActiveModel, c: E::Column| !matches!(row.get(c), ActiveValue::NotSet);
    let columns: Vec<E::Column> = E::Column::iter()
        .filter(|c| rows.iter().any(|row| set(row, *c)))
        .collect();
    let mixed = rows.iter().any(|row| columns.iter().any(|c| !set(row, *c)));
    if mixed {
        return rows
            .into_iter()
            .map(|row| insert_values::<E>(b, vec![row], tail))
            .collect::<Vec<_>>()
            .join("; ");
    }
    let names = columns
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let values = rows
        .iter()
        .map(|row| {
            let cells = columns
                .iter()
                .filter_map(|c| match row.get(*c) {
                    ActiveValue::Set(v) | ActiveValue::Unchanged(v) => Some(b.bind(v)),
                    ActiveValue::NotSet => None,
                })
                .collect::<Vec<_>>()
                .join(", ");
            format!("({cells})")
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO {} ({names}) VALUES {values}{tail}",
        E::default().table_name()
    )
}
