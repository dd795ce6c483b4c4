//! Claiming due messages: one `UPDATE … RETURNING` over the rows a `LIMIT` subquery
//! picks.

use super::rows::message_from_row;
use crate::convert::to_micros;
use crate::entity::outbox;
use crate::error::in_ctx;
use crate::tx::StoreTransaction;
use regulars_ports::{OutboxMessage, OutboxStatus, StoreError};
use sea_orm::{ConnectionTrait, FromQueryResult, Statement, Value};
use time::OffsetDateTime;

/// The messages a claim may take, word for word the predicate of the partial index
/// `ix_outbox_open (due_at, id)` (migration `m20261217_100001_outbox_open_index`):
/// SQLite uses a partial index only for a `WHERE` that contains its terms as written.
/// Walking that index in due order, a claim reads its batch and stops, however long the
/// queue behind it.
macro_rules! open_messages {
    () => {
        "status IN ('pending', 'sending')"
    };
}

/// The claim on PostgreSQL: the due rows are picked oldest due first, skipping the rows
/// a concurrent worker holds, and taken in the same statement.
const CLAIM_POSTGRES: &str = concat!(
    "WITH picked AS MATERIALIZED (\
       SELECT brand_id, id, due_at FROM outbox \
       WHERE ",
    open_messages!(),
    " AND due_at <= $1 \
       ORDER BY due_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) \
     UPDATE outbox SET status = $3, attempts = outbox.attempts + 1, due_at = $4 \
     FROM picked WHERE outbox.brand_id = picked.brand_id AND outbox.id = picked.id \
     RETURNING outbox.*, picked.due_at AS picked_due_at"
);

/// The claim on SQLite, whose single writer needs no row locks (and whose `RETURNING`
/// may name only the updated table, hence the due time picked by a subquery).
const CLAIM_SQLITE: &str = concat!(
    "WITH picked AS MATERIALIZED (\
       SELECT brand_id, id, due_at FROM outbox \
       WHERE ",
    open_messages!(),
    " AND due_at <= ? \
       ORDER BY due_at, id LIMIT ?) \
     UPDATE outbox SET status = ?, attempts = attempts + 1, due_at = ? \
     WHERE (brand_id, id) IN (SELECT brand_id, id FROM picked) \
     RETURNING *, (SELECT picked.due_at FROM picked \
       WHERE picked.brand_id = outbox.brand_id AND picked.id = outbox.id) AS picked_due_at"
);

/// On PostgreSQL the claiming transaction's commit does not wait for the disk: a claim
/// changes nothing but the lease, and the first record of a send that follows, whose
/// commit does wait, flushes the claim with it (the log is written in order). A crash of
/// the database in the moment between undoes the claim, and its messages go again with
/// the same dedupe keys, as when a worker dies between a send and its record.
const CLAIM_WITHOUT_FLUSH: &str = "SET LOCAL synchronous_commit = off";

/// See [`regulars_ports::OutboxRepo::claim_due`]: one statement picks the due rows,
/// takes them and returns them with the due time they were picked by, so the batch
/// keeps its order.
pub(super) async fn claim_due(
    tx: &StoreTransaction,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
    limit: u64,
) -> Result<Vec<OutboxMessage>, StoreError> {
    let sql = if tx.is_postgres() {
        tx.tx
            .execute_unprepared(CLAIM_WITHOUT_FLUSH)
            .await
            .map_err(in_ctx("claim due rows of outbox (commit without flush)"))?;
        CLAIM_POSTGRES
    } else {
        CLAIM_SQLITE
    };
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let statement = Statement::from_sql_and_values(
        tx.tx.get_database_backend(),
        sql,
        [
            Value::from(to_micros(now)),
            Value::from(limit),
            Value::from(OutboxStatus::Sending.as_str()),
            Value::from(to_micros(lease_until)),
        ],
    );
    let rows = tx
        .tx
        .query_all_raw(statement)
        .await
        .map_err(in_ctx("claim due rows of outbox (update returning)"))?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        let picked_due: i64 = row
            .try_get("", "picked_due_at")
            .map_err(in_ctx("read claimed outbox row"))?;
        let model = outbox::Model::from_query_result(&row, "")
            .map_err(in_ctx("read claimed outbox row"))?;
        claimed.push((picked_due, model));
    }
    claimed.sort_by_key(|(due, row)| (*due, row.id));
    let keys = tx.keys();
    claimed
        .into_iter()
        .map(|(_, row)| message_from_row(keys, row))
        .collect()
}
