//! [`OutboxRepo`]: messages to deliver, claimed by workers, and what became of them.
//!
//! A claim is one `UPDATE … RETURNING` of `status`, `attempts` and `due_at` (the lease's
//! end) over the due rows it picks (on PostgreSQL `FOR UPDATE SKIP LOCKED`); every
//! later record of the worker is conditional on the row still being `sending` with the
//! attempt number it claimed, so a worker whose lease ran out and was taken over by
//! another cannot overwrite what the other recorded.

use crate::contact::{ContactKeys, Place, open, open_opt, seal, seal_opt};
use crate::convert::{from_json, from_micros, from_micros_opt, to_json, to_micros, to_u64};
use crate::entity::outbox;
use crate::error::{corrupt, in_ctx, unstorable};
use crate::repo::inserted;
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::sms::SmsOptions;
use regulars_domain::zns::ZnsParamType;
use regulars_domain::{BrandId, CampaignId, Channel, CustomerId};
mod cancel;

use regulars_ports::{
    DeliveryStatus, OutboxMessage, OutboxRepo, OutboxStatus, Route, SendWindow, SentRecord,
    StoreError, provider_key,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, Statement, Value,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// Rows per insert statement: well under both databases' parameter limits.
const INSERT_CHUNK: usize = 500;
/// Messages per statement that marks sends: 4 parameters each, well under both
/// databases' limits.
const SENT_CHUNK: usize = 200;
/// Ids per `IN (...)` list.
const IN_CHUNK: usize = 5_000;
/// Longest error text kept.
const MAX_ERROR_BYTES: usize = 1_000;

/// What is sent, stored as JSON.
#[derive(Serialize, Deserialize)]
struct Payload {
    #[serde(default)]
    template: Option<String>,
    #[serde(default)]
    subject: Option<String>,
    body: String,
    #[serde(default)]
    data: BTreeMap<String, String>,
    #[serde(default)]
    window: Option<SendWindow>,
    #[serde(default, skip_serializing_if = "SmsOptions::is_default")]
    sms: SmsOptions,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    zns: BTreeMap<String, ZnsParamType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    opt_out: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bonus_points: Option<regulars_domain::Points>,
}

#[async_trait]
impl OutboxRepo for StoreTransaction {
    async fn enqueue(&mut self, messages: &[OutboxMessage]) -> Result<u64, StoreError> {
        use outbox::Column as C;
        let mut written = 0;
        for chunk in messages.chunks(INSERT_CHUNK) {
            let rows = chunk
                .iter()
                .map(|m| message_to_row(self.keys(), m).map(IntoActiveModel::into_active_model))
                .collect::<Result<Vec<_>, _>>()?;
            written += inserted(
                outbox::Entity::insert_many(rows)
                    .on_conflict_do_nothing_on([C::BrandId, C::DedupeKey])
                    .exec_without_returning(&self.tx)
                    .await
                    .map_err(in_ctx("insert into outbox (brand_id, dedupe_key unique)"))?,
            );
        }
        Ok(written)
    }

    async fn claim_due(
        &mut self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        // One statement: the due rows are picked (oldest due first; on PostgreSQL rows a
        // concurrent worker holds are skipped), taken, and returned with the due time they
        // were picked by, so the batch keeps its order.
        let postgres = self.is_postgres();
        let p = |n: usize| {
            if postgres {
                format!("${n}")
            } else {
                "?".to_owned()
            }
        };
        let lock = if postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "WITH picked AS MATERIALIZED (\
               SELECT brand_id, id, due_at FROM outbox \
               WHERE status IN ({}, {}) AND due_at <= {} \
               ORDER BY due_at, id LIMIT {}{lock}) \
             UPDATE outbox SET status = {}, attempts = attempts + 1, due_at = {} \
             WHERE (brand_id, id) IN (SELECT brand_id, id FROM picked) \
             RETURNING *, (SELECT picked.due_at FROM picked \
               WHERE picked.brand_id = outbox.brand_id AND picked.id = outbox.id) AS picked_due_at",
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(6)
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let statement = Statement::from_sql_and_values(
            self.tx.get_database_backend(),
            sql,
            [
                Value::from(OutboxStatus::Pending.as_str()),
                Value::from(OutboxStatus::Sending.as_str()),
                Value::from(to_micros(now)),
                Value::from(limit),
                Value::from(OutboxStatus::Sending.as_str()),
                Value::from(to_micros(lease_until)),
            ],
        );
        let rows = self
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
        let keys = self.keys();
        claimed
            .into_iter()
            .map(|(_, row)| message_from_row(keys, row))
            .collect()
    }

    async fn mark_sent(
        &mut self,
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
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update outbox (sent)"))?;
        Ok(done.rows_affected == 1)
    }

    async fn mark_sent_many(
        &mut self,
        sent: &[(OutboxMessage, String)],
        at: OffsetDateTime,
    ) -> Result<Vec<bool>, StoreError> {
        let mut kept = std::collections::BTreeSet::new();
        for chunk in sent.chunks(SENT_CHUNK) {
            for (brand, id) in self.mark_sent_chunk(chunk, at).await? {
                kept.insert((brand, id));
            }
        }
        Ok(sent
            .iter()
            .map(|(m, _)| kept.contains(&(m.brand_id.as_uuid(), m.id)))
            .collect())
    }

    async fn reschedule(
        &mut self,
        message: &OutboxMessage,
        due_at: OffsetDateTime,
        error: &str,
    ) -> Result<bool, StoreError> {
        use outbox::Column as C;
        let done = claimed_by(message)?
            .col_expr(C::Status, Expr::value(OutboxStatus::Pending.as_str()))
            .col_expr(C::DueAt, Expr::value(to_micros(due_at)))
            .col_expr(C::LastError, Expr::value(clip(error)))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update outbox (retry)"))?;
        Ok(done.rows_affected == 1)
    }

    async fn defer(
        &mut self,
        message: &OutboxMessage,
        due_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        use outbox::Column as C;
        let done = claimed_by(message)?
            .col_expr(C::Status, Expr::value(OutboxStatus::Pending.as_str()))
            .col_expr(C::DueAt, Expr::value(to_micros(due_at)))
            .col_expr(C::Attempts, Expr::col(C::Attempts).sub(Expr::value(1)))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update outbox (defer)"))?;
        Ok(done.rows_affected == 1)
    }

    async fn fall_back(
        &mut self,
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
                Expr::value(seal(self.keys(), &recipient, &next.recipient)),
            )
            .col_expr(
                C::Fallbacks,
                Expr::value(seal(
                    self.keys(),
                    &fallbacks,
                    &to_json("outbox fallbacks", rest)?,
                )),
            )
            .col_expr(C::Attempts, Expr::value(0))
            .col_expr(C::DueAt, Expr::value(to_micros(due_at)))
            .col_expr(C::LastError, Expr::value(clip(error)))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update outbox (fall back)"))?;
        Ok(done.rows_affected == 1)
    }

    async fn mark_dead(
        &mut self,
        message: &OutboxMessage,
        error: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.finish(message, OutboxStatus::Dead, error, at).await
    }

    async fn mark_cancelled(
        &mut self,
        message: &OutboxMessage,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.finish(message, OutboxStatus::Cancelled, reason, at)
            .await
    }

    async fn record_delivery(
        &mut self,
        channel: Channel,
        provider_message_id: &str,
        echoed_key: Option<String>,
        state: &DeliveryStatus,
        at: OffsetDateTime,
    ) -> Result<Option<(BrandId, Uuid)>, StoreError> {
        use outbox::Column as C;
        let mut matches = Condition::any().add(C::ProviderMessageId.eq(provider_message_id));
        if let Some(key) = echoed_key.filter(|k| !k.is_empty()) {
            let key = key.as_str();
            // The provider echoed the key it was sent: the hashed provider key, or on
            // rows older than that column the dedupe key itself.
            matches = matches
                .add(C::ProviderKey.eq(key))
                .add(C::ProviderKey.is_null().and(C::DedupeKey.eq(key)));
        }
        let Some(row) = outbox::Entity::find()
            .filter(C::Channel.eq(channel_name(channel)))
            .filter(matches)
            .filter(C::Status.eq(OutboxStatus::Sent.as_str()))
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from outbox by provider id"))?
        else {
            return Ok(None);
        };
        let (status, error) = match state {
            DeliveryStatus::Delivered => (OutboxStatus::Delivered, None),
            DeliveryStatus::Failed { reason } => (OutboxStatus::Failed, Some(clip(reason))),
        };
        let mut update = outbox::Entity::update_many()
            .col_expr(C::Status, Expr::value(status.as_str()))
            .col_expr(C::DeliveredAt, Expr::value(to_micros(at)))
            .filter(C::BrandId.eq(row.brand_id))
            .filter(C::Id.eq(row.id))
            .filter(C::Status.eq(OutboxStatus::Sent.as_str()));
        if let Some(error) = error {
            update = update.col_expr(C::LastError, Expr::value(error));
        }
        let done = update
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update outbox (delivery report)"))?;
        Ok((done.rows_affected == 1).then(|| (BrandId::from_uuid(row.brand_id), row.id)))
    }

    async fn history(
        &mut self,
        brand: BrandId,
        customers: &[CustomerId],
        campaign: Option<CampaignId>,
        since: OffsetDateTime,
    ) -> Result<Vec<SentRecord>, StoreError> {
        use outbox::Column as C;
        let mut out = Vec::new();
        let ids: Vec<Uuid> = customers.iter().map(|c| c.as_uuid()).collect();
        for chunk in ids.chunks(IN_CHUNK) {
            let mut wanted = Condition::any().add(C::DueAt.gte(to_micros(since)));
            if let Some(campaign) = campaign {
                wanted = wanted.add(C::CampaignId.eq(campaign.as_uuid()));
            }
            let rows = outbox::Entity::find()
                .filter(C::BrandId.eq(brand.as_uuid()))
                .filter(C::CustomerId.is_in(chunk.to_vec()))
                .filter(C::Status.ne(OutboxStatus::Dead.as_str()))
                .filter(wanted)
                .all(&self.tx)
                .await
                .map_err(in_ctx("select from outbox (history)"))?;
            for row in rows {
                let Some(customer) = row.customer_id else {
                    continue;
                };
                // A sending row's due_at is its lease; the send time is close enough.
                let at = match row.sent_at {
                    Some(sent) => from_micros(sent)?,
                    None => from_micros(row.due_at)?,
                };
                out.push(SentRecord {
                    campaign_id: row.campaign_id.map(CampaignId::from_uuid),
                    customer_id: CustomerId::from_uuid(customer),
                    phone: open_opt(
                        self.keys(),
                        &places(row.brand_id, row.id)[0],
                        row.phone.as_deref(),
                    )?,
                    at,
                    promotional: row.promotional,
                    dedupe_key: row.dedupe_key,
                });
            }
        }
        Ok(out)
    }

    async fn messages(
        &mut self,
        brand: BrandId,
        campaign: Option<CampaignId>,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        use outbox::Column as C;
        let b = brand.as_uuid();
        let mut query = outbox::Entity::find()
            .filter(C::BrandId.eq(b))
            .order_by_desc(C::CreatedAt)
            .order_by_desc(C::Id)
            .limit(limit);
        if let Some(campaign) = campaign {
            query = query.filter(C::CampaignId.eq(campaign.as_uuid()));
        }
        if let Some(after) = after {
            let Some(cursor) = outbox::Entity::find_by_id((b, after))
                .one(&self.tx)
                .await
                .map_err(in_ctx("select from outbox"))?
            else {
                return Ok(Vec::new());
            };
            query = query.filter(
                Condition::any()
                    .add(C::CreatedAt.lt(cursor.created_at))
                    .add(
                        Condition::all()
                            .add(C::CreatedAt.eq(cursor.created_at))
                            .add(C::Id.lt(cursor.id)),
                    ),
            );
        }
        query
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from outbox"))?
            .into_iter()
            .map(|row| message_from_row(self.keys(), row))
            .collect()
    }

    async fn counts(
        &mut self,
        brand: BrandId,
        campaign: Option<CampaignId>,
    ) -> Result<BTreeMap<OutboxStatus, u64>, StoreError> {
        use outbox::Column as C;
        let mut query = outbox::Entity::find()
            .select_only()
            .column(C::Status)
            .column_as(C::Id.count(), "n")
            .filter(C::BrandId.eq(brand.as_uuid()))
            .group_by(C::Status);
        if let Some(campaign) = campaign {
            query = query.filter(C::CampaignId.eq(campaign.as_uuid()));
        }
        let rows: Vec<(String, i64)> = query
            .into_tuple()
            .all(&self.tx)
            .await
            .map_err(in_ctx("count outbox"))?;
        tally(rows)
    }

    async fn depth(&mut self) -> Result<BTreeMap<OutboxStatus, u64>, StoreError> {
        use outbox::Column as C;
        let rows: Vec<(String, i64)> = outbox::Entity::find()
            .select_only()
            .column(C::Status)
            .column_as(C::Id.count(), "n")
            .group_by(C::Status)
            .into_tuple()
            .all(&self.tx)
            .await
            .map_err(in_ctx("count outbox"))?;
        tally(rows)
    }

    async fn cancel_for_order(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        order: regulars_domain::OrderId,
        reason: &str,
    ) -> Result<u64, StoreError> {
        cancel::cancel_for_order(self, brand, customer, order, reason).await
    }
}

impl StoreTransaction {
    /// One `UPDATE … FROM (VALUES …)` marking up to [`SENT_CHUNK`] messages sent, each
    /// only while it is still `sending` with the attempt it was claimed with; the
    /// (brand, id) of the rows it changed.
    async fn mark_sent_chunk(
        &mut self,
        chunk: &[(OutboxMessage, String)],
        at: OffsetDateTime,
    ) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
        if chunk.is_empty() {
            return Ok(Vec::new());
        }
        let postgres = self.is_postgres();
        let mut n = 0;
        let mut p = || {
            n += 1;
            if postgres {
                format!("${n}")
            } else {
                "?".to_owned()
            }
        };
        let mut values = Vec::with_capacity(chunk.len() * 4 + 3);
        let mut rows = Vec::with_capacity(chunk.len());
        for (message, provider_id) in chunk {
            let attempts =
                i32::try_from(message.attempts).map_err(|e| unstorable("outbox attempts", e))?;
            rows.push(format!("({}, {}, {}, {})", p(), p(), p(), p()));
            values.push(Value::from(message.brand_id.as_uuid()));
            values.push(Value::from(message.id));
            values.push(Value::from(attempts));
            values.push(Value::from(provider_id.clone()));
        }
        let sql = format!(
            "WITH sent (brand_id, id, attempts, provider_message_id) AS (VALUES {}) \
             UPDATE outbox SET status = {}, sent_at = {}, \
               provider_message_id = sent.provider_message_id \
             FROM sent WHERE outbox.brand_id = sent.brand_id AND outbox.id = sent.id \
               AND outbox.attempts = sent.attempts AND outbox.status = {} \
             RETURNING outbox.brand_id AS brand_id, outbox.id AS id",
            rows.join(", "),
            p(),
            p(),
            p()
        );
        values.push(Value::from(OutboxStatus::Sent.as_str()));
        values.push(Value::from(to_micros(at)));
        values.push(Value::from(OutboxStatus::Sending.as_str()));
        let statement = Statement::from_sql_and_values(self.tx.get_database_backend(), sql, values);
        let done = self
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
}

/// An update of the row as this worker claimed it (still `sending`, same attempt).
impl StoreTransaction {
    /// Ends a claimed message in `status` (dead or cancelled) with `error`; `false` when
    /// the claim was lost.
    async fn finish(
        &mut self,
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
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update outbox (dead or cancelled)"))?;
        Ok(done.rows_affected == 1)
    }
}

fn claimed_by(message: &OutboxMessage) -> Result<sea_orm::UpdateMany<outbox::Entity>, StoreError> {
    use outbox::Column as C;
    let attempts = i32::try_from(message.attempts).map_err(|e| unstorable("outbox attempts", e))?;
    Ok(outbox::Entity::update_many()
        .filter(C::BrandId.eq(message.brand_id.as_uuid()))
        .filter(C::Id.eq(message.id))
        .filter(C::Status.eq(OutboxStatus::Sending.as_str()))
        .filter(C::Attempts.eq(attempts)))
}

fn tally(rows: Vec<(String, i64)>) -> Result<BTreeMap<OutboxStatus, u64>, StoreError> {
    let mut out = BTreeMap::new();
    for (status, n) in rows {
        let status =
            OutboxStatus::parse(&status).ok_or_else(|| corrupt("outbox status", &status))?;
        out.insert(status, to_u64("outbox count", n)?);
    }
    Ok(out)
}

/// An error text as kept: without phone numbers or emails (see `redact_contacts`), at
/// most [`MAX_ERROR_BYTES`] long.
fn clip(text: &str) -> String {
    let text = &crate::contact::redact_contacts(text);
    if text.len() <= MAX_ERROR_BYTES {
        return text.to_owned();
    }
    let mut end = MAX_ERROR_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

pub(crate) fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Zalo => "zalo",
        Channel::Sms => "sms",
        Channel::Email => "email",
    }
}

pub(crate) fn parse_channel(name: &str) -> Result<Channel, StoreError> {
    match name {
        "zalo" => Ok(Channel::Zalo),
        "sms" => Ok(Channel::Sms),
        "email" => Ok(Channel::Email),
        other => Err(corrupt("outbox channel", other)),
    }
}

/// The payload of a message whose body was destroyed: valid, and empty.
pub(crate) fn empty_payload() -> Result<String, StoreError> {
    to_json(
        "outbox payload",
        &Payload {
            template: None,
            subject: None,
            body: String::new(),
            data: BTreeMap::new(),
            window: None,
            sms: Default::default(),
            zns: Default::default(),
            opt_out: None,
            bonus_points: None,
        },
    )
}

/// Where a message's sealed columns live: its phone, recipient and fallback routes.
pub(crate) fn places(brand: Uuid, id: Uuid) -> [Place; 3] {
    let row: &[&[u8]] = &[id.as_bytes()];
    [
        Place::new("outbox.phone", brand, row),
        Place::new("outbox.recipient", brand, row),
        Place::new("outbox.fallbacks", brand, row),
    ]
}

fn message_to_row(
    keys: Option<&ContactKeys>,
    m: &OutboxMessage,
) -> Result<outbox::Model, StoreError> {
    let [phone, recipient, fallbacks] = places(m.brand_id.as_uuid(), m.id);
    let payload = Payload {
        template: m.template.clone(),
        subject: m.subject.clone(),
        body: m.body.clone(),
        data: m.data.clone(),
        window: m.send_window,
        sms: m.sms,
        zns: m.zns_params.clone(),
        opt_out: m.opt_out.clone(),
        bonus_points: m.bonus_points,
    };
    Ok(outbox::Model {
        brand_id: m.brand_id.as_uuid(),
        id: m.id,
        campaign_id: m.campaign_id.map(|c| c.as_uuid()),
        customer_id: m.customer_id.map(|c| c.as_uuid()),
        phone: seal_opt(keys, &phone, m.phone.as_deref()),
        dedupe_key: m.dedupe_key.clone(),
        channel: channel_name(m.route.channel).to_owned(),
        recipient: seal(keys, &recipient, &m.route.recipient),
        fallbacks: seal(
            keys,
            &fallbacks,
            &to_json("outbox fallbacks", &m.fallbacks)?,
        ),
        payload: to_json("outbox payload", &payload)?,
        promotional: m.promotional,
        status: m.status.as_str().to_owned(),
        attempts: i32::try_from(m.attempts).map_err(|e| unstorable("outbox attempts", e))?,
        due_at: to_micros(m.due_at),
        last_error: m.last_error.as_deref().map(clip),
        sent_at: m.sent_at.map(to_micros),
        delivered_at: m.delivered_at.map(to_micros),
        provider_message_id: m.provider_message_id.clone(),
        provider_key: Some(provider_key(&m.dedupe_key)),
        created_at: to_micros(m.created_at),
    })
}

pub(crate) fn message_from_row(
    keys: Option<&ContactKeys>,
    row: outbox::Model,
) -> Result<OutboxMessage, StoreError> {
    let [phone, recipient, fallbacks] = places(row.brand_id, row.id);
    let payload: Payload = from_json("outbox payload", &row.payload)?;
    let fallbacks: Vec<Route> =
        from_json("outbox fallbacks", &open(keys, &fallbacks, &row.fallbacks)?)?;
    Ok(OutboxMessage {
        id: row.id,
        brand_id: BrandId::from_uuid(row.brand_id),
        campaign_id: row.campaign_id.map(CampaignId::from_uuid),
        customer_id: row.customer_id.map(CustomerId::from_uuid),
        phone: open_opt(keys, &phone, row.phone.as_deref())?,
        dedupe_key: row.dedupe_key,
        route: Route {
            channel: parse_channel(&row.channel)?,
            recipient: open(keys, &recipient, &row.recipient)?,
        },
        fallbacks,
        template: payload.template,
        subject: payload.subject,
        body: payload.body,
        data: payload.data,
        promotional: row.promotional,
        send_window: payload.window,
        sms: payload.sms,
        zns_params: payload.zns,
        opt_out: payload.opt_out,
        bonus_points: payload.bonus_points,
        status: OutboxStatus::parse(&row.status)
            .ok_or_else(|| corrupt("outbox status", &row.status))?,
        attempts: u32::try_from(row.attempts).map_err(|e| corrupt("outbox attempts", e))?,
        due_at: from_micros(row.due_at)?,
        last_error: row.last_error,
        sent_at: from_micros_opt(row.sent_at)?,
        delivered_at: from_micros_opt(row.delivered_at)?,
        provider_message_id: row.provider_message_id,
        created_at: from_micros(row.created_at)?,
    })
}
