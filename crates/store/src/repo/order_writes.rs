//! [`OrderRepo::write_order`](regulars_ports::OrderRepo::write_order): everything an
//! earning order writes. On PostgreSQL one data-modifying statement — each table's rows
//! in a `WITH` part of their own, the head's conditional `UPDATE` among them, answered
//! by the number of heads it moved — so the order costs one round trip to write
//! whatever it touches. On SQLite, which has no data-modifying `WITH`, the same writes
//! one after another.
//!
//! The parts of one statement see the same snapshot and none sees another's rows, so
//! no two of them may touch the same row: a change of lots that replaces them all
//! (delete every lot, then write them again) or that deletes a lot it also writes is
//! written the sequential way, on PostgreSQL too, as are writes of more rows than one
//! statement can bind. Foreign keys are checked when the
//! statement ends, when every part has run.

use super::ledger::{checked_append, entry_row};
use super::order_reads::Binds;
use super::{account_lots, account_state, customers, idempotency, orders};
use crate::convert::to_i64;
use crate::entity::{account_tally, customer_stats, idempotency as idem, ledger_entry};
use crate::error::in_ctx;
use crate::tx::StoreTransaction;
use regulars_domain::BrandId;
use regulars_loyalty::ledger::LotChanges;
use regulars_ports::{
    AccountAppend, AccountHead, CustomerRepo, IdempotencyRepo, LedgerRepo, OrderRepo, OrderWrites,
    StoreError,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ConnectionTrait, EntityTrait, IdenStatic, IntoActiveModel,
    Iterable, Statement,
};

/// Rows beyond which the writes go one table at a time (in chunks), well under
/// PostgreSQL's 65,535 bound values: an account folded from its entries writes every
/// tally it has once.
const MAX_ROWS: usize = 2_000;

/// Writes `writes` (see the module's comment for how).
pub(super) async fn write_order(
    tx: &mut StoreTransaction,
    writes: &OrderWrites,
) -> Result<Option<AccountHead>, StoreError> {
    let lots = writes.account.as_ref().map(|a| a.state.lot_changes());
    let rows = writes.order.order.lines.len()
        + writes
            .account
            .as_ref()
            .map_or(0, |a| a.entries.len() + a.tallies.len())
        + lots.as_ref().map_or(0, |l| l.write.len() + l.delete.len());
    if !tx.is_postgres() || rows > MAX_ROWS || lots.as_ref().is_some_and(|l| !one_statement(l)) {
        return one_by_one(tx, writes).await;
    }
    let brand = writes.order.order.brand_id;
    let mut b = Binds::new(true);
    let mut parts = Parts::default();

    let (order, lines) = orders::order_rows(tx.keys(), &writes.order)?;
    parts.push(insert::<crate::entity::order::Entity>(
        &mut b,
        vec![order],
        "",
    ));
    if !lines.is_empty() {
        parts.push(insert::<crate::entity::order_line::Entity>(
            &mut b, lines, "",
        ));
    }
    let head = match (&writes.account, &lots) {
        (Some(append), Some(lots)) => Some(account_parts(&mut b, &mut parts, brand, append, lots)?),
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
        parts.push(insert::<customer_stats::Entity>(
            &mut b,
            vec![row],
            &conflict,
        ));
    }
    let record =
        idempotency::record_row(tx.keys(), brand, &writes.order.order.key, &writes.record)?;
    parts.push(insert::<idem::Entity>(
        &mut b,
        vec![record.into_active_model()],
        "",
    ));

    let with = parts.with();
    let moved = if head.is_some() {
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
            b.values,
        ))
        .await
        .map_err(in_ctx(
            "insert an order with its lines, entries, lots, stats and idempotency record",
        ))?
        .ok_or_else(|| StoreError::Other("a one-row select returned no row".into()))?;
    let moved: i64 = row.try_get("", "moved").map_err(in_ctx("moved heads"))?;
    match (head, &writes.account) {
        (Some(_), Some(append)) if moved == 0 => Err(StoreError::Conflict(format!(
            "ledger of customer {} no longer has {} entries (or its account is not locked)",
            append.customer, append.head.next_seq
        ))),
        (head, _) => Ok(head),
    }
}

/// The `WITH` parts of the statement, each named `w0`, `w1`, … unless given a name.
#[derive(Default)]
struct Parts(Vec<(Option<&'static str>, String)>);

impl Parts {
    fn push(&mut self, sql: String) {
        self.0.push((None, sql));
    }

    fn push_named(&mut self, name: &'static str, sql: String) {
        self.0.push((Some(name), sql));
    }

    fn with(&self) -> String {
        self.0
            .iter()
            .enumerate()
            .map(|(i, (name, sql))| match name {
                Some(name) => format!("{name} AS ({sql})"),
                None => format!("w{i} AS ({sql})"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Whether the lot changes can go in one statement (no row touched twice).
fn one_statement(lots: &LotChanges) -> bool {
    !lots.replace_all && !lots.write.iter().any(|lot| lots.delete.contains(&lot.seq))
}

/// The sequential writes: SQLite's way, and PostgreSQL's when the lots need it.
async fn one_by_one(
    tx: &mut StoreTransaction,
    writes: &OrderWrites,
) -> Result<Option<AccountHead>, StoreError> {
    let brand = writes.order.order.brand_id;
    tx.insert_order(&writes.order).await?;
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
    Ok(head)
}

/// The account's parts: the head's conditional `UPDATE` (named `head`, so the
/// statement can count what it moved), the entries, the tallies and the lots.
fn account_parts(
    b: &mut Binds,
    parts: &mut Parts,
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
    parts.push_named("head", update);
    if !entries.is_empty() {
        let rows = entries
            .iter()
            .map(|e| entry_row(brand, *customer, e).map(|row| row.into_active_model()))
            .collect::<Result<Vec<_>, _>>()?;
        parts.push(insert::<ledger_entry::Entity>(b, rows, ""));
    }
    if !tallies.is_empty() {
        let rows = tallies
            .iter()
            .map(|t| account_state::tally_row(brand, *customer, t))
            .collect::<Result<Vec<_>, _>>()?;
        parts.push(insert::<account_tally::Entity>(
            b,
            rows,
            " ON CONFLICT (brand_id, customer_id, tally_key) DO UPDATE SET tally = excluded.tally",
        ));
    }
    if !lots.delete.is_empty() {
        let brand_p = b.bind(brand.as_uuid());
        let customer_p = b.bind(customer.as_uuid());
        let seqs = lots
            .delete
            .iter()
            .map(|seq| to_i64("lot seq", *seq).map(|seq| b.bind(seq)))
            .collect::<Result<Vec<_>, _>>()?
            .join(", ");
        parts.push(format!(
            "DELETE FROM account_lots WHERE brand_id = {brand_p} AND customer_id = {customer_p} \
             AND seq IN ({seqs})"
        ));
    }
    if !lots.write.is_empty() {
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
        parts.push(format!(
            "INSERT INTO account_lots \
             (brand_id, customer_id, seq, expires_at, expires_at_ns, remaining) VALUES {} \
             ON CONFLICT (brand_id, customer_id, seq) DO UPDATE SET remaining = excluded.remaining",
            rows.join(", ")
        ));
    }
    Ok(AccountHead { balance, next_seq })
}

/// `INSERT INTO table (every column) VALUES (…), (…)` of `rows`, then `tail` (an
/// `ON CONFLICT` clause, or nothing); a column a row leaves unset takes its default.
fn insert<E: EntityTrait>(b: &mut Binds, rows: Vec<E::ActiveModel>, tail: &str) -> String {
    let columns: Vec<E::Column> = E::Column::iter().collect();
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
                .map(|c| match row.get(*c) {
                    ActiveValue::Set(v) | ActiveValue::Unchanged(v) => b.bind(v),
                    ActiveValue::NotSet => "DEFAULT".to_owned(),
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
