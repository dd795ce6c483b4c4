//! Recording what became of claimed messages: each record conditional on the row still
//! being `sending` with the attempt number it was claimed with, so a worker whose lease
//! ran out and was taken over cannot overwrite what the other worker recorded.

use super::rows::{channel_name, clip, places};
use crate::contact::seal;
use crate::convert::{to_json, to_micros};
use crate::entity::outbox;
use crate::error::{in_ctx, unstorable};
use crate::tx::StoreTransaction;
use regulars_ports::{OutboxMessage, OutboxStatus, StoreError};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement, Value};
use serde::Serialize;
use std::collections::BTreeSet;
use time::OffsetDateTime;
use uuid::Uuid;

/// Sends recorded per statement, at most (the list goes as one JSON parameter, so the
/// statement's text is the same whatever the count).
const SENT_CHUNK: usize = 1_000;

/// Marks the sends of a JSON list (`b` brand, `i` id, `a` attempt as claimed, `p`
/// provider id) on PostgreSQL.
const SENT_POSTGRES: &str = "UPDATE outbox SET status = $1, sent_at = $2, \
       provider_message_id = sent.p \
     FROM json_to_recordset($3::json) AS sent(b uuid, i uuid, a int4, p text) \
     WHERE outbox.brand_id = sent.b AND outbox.id = sent.i \
       AND outbox.attempts = sent.a AND outbox.status = $4 \
     RETURNING outbox.brand_id AS brand_id, outbox.id AS id";

/// The same on SQLite, where ids are 16-byte blobs. The unary `+` keeps the planner off
/// the status index: it then walks the list and finds each row by its primary key,
/// instead of reading the list again for every row being sent.
const SENT_SQLITE: &str = "WITH sent AS (SELECT \
       unhex(json_extract(value, '$.b')) AS b, unhex(json_extract(value, '$.i')) AS i, \
       json_extract(value, '$.a') AS a, json_extract(value, '$.p') AS p \
       FROM json_each(?)) \
     UPDATE outbox SET status = ?, sent_at = ?, provider_message_id = sent.p \
     FROM sent WHERE outbox.brand_id = sent.b AND outbox.id = sent.i \
       AND outbox.attempts = sent.a AND +outbox.status = ? \
     RETURNING brand_id, id";

/// One accepted send in the JSON list of [`SENT_POSTGRES`] and [`SENT_SQLITE`].
#[derive(Serialize)]
struct SentEntry<'a> {
    b: String,
    i: String,
    a: i32,
    p: &'a str,
}

/// See [`regulars_ports::OutboxRepo::mark_sent`].
pub(super) async fn mark_sent(
    tx: &StoreTransaction,
    message: &OutboxMessage,
    provider_message_id: &str,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    use outbox::Column as C;
    let done = claimed_by(message)?
        .col_expr(C::Status, Expr::value(OutboxStatus::Sent.as_str()))
        .col_expr(C::SentAt, Expr::value(to_micros(at)))
        .col_expr(
            C::ProviderMessageId,
            Expr::value(provider_message_id.to_owned()),
        )
        .exec(&tx.tx)
        .await
        .map_err(in_ctx("update outbox (sent)"))?;
    Ok(done.rows_affected == 1)
}

/// See [`regulars_ports::OutboxRepo::mark_sent_many`]: one statement per
/// [`SENT_CHUNK`] sends.
pub(super) async fn mark_sent_many(
    tx: &StoreTransaction,
    sent: &[(OutboxMessage, String)],
    at: OffsetDateTime,
) -> Result<Vec<bool>, StoreError> {
    let mut kept = BTreeSet::new();
    for chunk in sent.chunks(SENT_CHUNK) {
        kept.extend(mark_sent_chunk(tx, chunk, at).await?);
    }
    Ok(sent
        .iter()
        .map(|(m, _)| kept.contains(&(m.brand_id.as_uuid(), m.id)))
        .collect())
}

/// Marks a chunk of sends in one statement of constant text; the (brand, id) of the
/// rows it changed.
async fn mark_sent_chunk(
    tx: &StoreTransaction,
    chunk: &[(OutboxMessage, String)],
    at: OffsetDateTime,
) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
    if chunk.is_empty() {
        return Ok(Vec::new());
    }
    let entries = chunk
        .iter()
        .map(|(message, provider_id)| {
            Ok(SentEntry {
                b: message.brand_id.as_uuid().simple().to_string(),
                i: message.id.simple().to_string(),
                a: i32::try_from(message.attempts).map_err(|e| unstorable("outbox attempts", e))?,
                p: provider_id,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let list = Value::from(to_json("outbox sends", &entries)?);
    let sent = Value::from(OutboxStatus::Sent.as_str());
    let sending = Value::from(OutboxStatus::Sending.as_str());
    let at = Value::from(to_micros(at));
    let (sql, values) = if tx.is_postgres() {
        (SENT_POSTGRES, [sent, at, list, sending])
    } else {
        (SENT_SQLITE, [list, sent, at, sending])
    };
    let statement = Statement::from_sql_and_values(tx.tx.get_database_backend(), sql, values);
    let done = tx
        .tx
        .query_all_raw(statement)
        .await
        .map_err(in_ctx("update outbox (sent, many)"))?;
    done.into_iter()
        .map(|row| {
            let brand: Uuid = row
                .try_get("", "brand_id")
                .map_err(in_ctx("read sent outbox row"))?;
            let id: Uuid = row
                .try_get("", "id")
                .map_err(in_ctx("read sent outbox row"))?;
            Ok((brand, id))
        })
        .collect()
}

/// See [`regulars_ports::OutboxRepo::reschedule`].
pub(super) async fn reschedule(
    tx: &StoreTransaction,
    message: &OutboxMessage,
    due_at: OffsetDateTime,
    error: &str,
) -> Result<bool, StoreError> {
    use outbox::Column as C;
    let done = claimed_by(message)?
        .col_expr(C::Status, Expr::value(OutboxStatus::Pending.as_str()))
        .col_expr(C::DueAt, Expr::value(to_micros(due_at)))
        .col_expr(C::LastError, Expr::value(clip(error)))
        .exec(&tx.tx)
        .await
        .map_err(in_ctx("update outbox (retry)"))?;
    Ok(done.rows_affected == 1)
}

/// See [`regulars_ports::OutboxRepo::defer`].
pub(super) async fn defer(
    tx: &StoreTransaction,
    message: &OutboxMessage,
    due_at: OffsetDateTime,
) -> Result<bool, StoreError> {
    use outbox::Column as C;
    let done = claimed_by(message)?
        .col_expr(C::Status, Expr::value(OutboxStatus::Pending.as_str()))
        .col_expr(C::DueAt, Expr::value(to_micros(due_at)))
        .col_expr(C::Attempts, Expr::col(C::Attempts).sub(Expr::value(1)))
        .exec(&tx.tx)
        .await
        .map_err(in_ctx("update outbox (defer)"))?;
    Ok(done.rows_affected == 1)
}

/// See [`regulars_ports::OutboxRepo::fall_back`].
pub(super) async fn fall_back(
    tx: &StoreTransaction,
    message: &OutboxMessage,
    due_at: OffsetDateTime,
    error: &str,
) -> Result<bool, StoreError> {
    use outbox::Column as C;
    let Some((next, rest)) = message.fallbacks.split_first() else {
        return Err(StoreError::Invalid(format!(
            "outbox message {} has no channel to fall back to",
            message.id
        )));
    };
    let [_, recipient, fallbacks] = places(message.brand_id.as_uuid(), message.id);
    let done = claimed_by(message)?
        .col_expr(C::Status, Expr::value(OutboxStatus::Pending.as_str()))
        .col_expr(C::Channel, Expr::value(channel_name(next.channel)))
        .col_expr(
            C::Recipient,
            Expr::value(seal(tx.keys(), &recipient, &next.recipient)),
        )
        .col_expr(
            C::Fallbacks,
            Expr::value(seal(
                tx.keys(),
                &fallbacks,
                &to_json("outbox fallbacks", rest)?,
            )),
        )
        .col_expr(C::Attempts, Expr::value(0))
        .col_expr(C::DueAt, Expr::value(to_micros(due_at)))
        .col_expr(C::LastError, Expr::value(clip(error)))
        .exec(&tx.tx)
        .await
        .map_err(in_ctx("update outbox (fall back)"))?;
    Ok(done.rows_affected == 1)
}

/// Ends a claimed message in `status` (dead or cancelled) with `error`; `false` when
/// the claim was lost.
pub(super) async fn finish(
    tx: &StoreTransaction,
    message: &OutboxMessage,
    status: OutboxStatus,
    error: &str,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    use outbox::Column as C;
    let done = claimed_by(message)?
        .col_expr(C::Status, Expr::value(status.as_str()))
        .col_expr(C::DueAt, Expr::value(to_micros(at)))
        .col_expr(C::LastError, Expr::value(clip(error)))
        .exec(&tx.tx)
        .await
        .map_err(in_ctx("update outbox (dead or cancelled)"))?;
    Ok(done.rows_affected == 1)
}

/// An update of the row as this worker claimed it (still `sending`, same attempt).
fn claimed_by(message: &OutboxMessage) -> Result<sea_orm::UpdateMany<outbox::Entity>, StoreError> {
    use outbox::Column as C;
    let attempts = i32::try_from(message.attempts).map_err(|e| unstorable("outbox attempts", e))?;
    Ok(outbox::Entity::update_many()
        .filter(C::BrandId.eq(message.brand_id.as_uuid()))
        .filter(C::Id.eq(message.id))
        .filter(C::Status.eq(OutboxStatus::Sending.as_str()))
        .filter(C::Attempts.eq(attempts)))
}
