//! Reading the outbox: a brand's messages and their counts, the queue's depth, what
//! was sent to customers; and the providers' delivery reports, matched to the message
//! they report on.

use super::IN_CHUNK;
use super::rows::{channel_name, clip, message_from_row, places};
use crate::contact::open_opt;
use crate::convert::{from_micros, to_micros, to_u64};
use crate::entity::outbox;
use crate::error::{corrupt, in_ctx};
use crate::tx::StoreTransaction;
use regulars_domain::{BrandId, CampaignId, Channel, CustomerId};
use regulars_ports::{DeliveryStatus, OutboxMessage, OutboxStatus, SentRecord, StoreError};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// See [`regulars_ports::OutboxRepo::record_delivery`].
pub(super) async fn record_delivery(
    tx: &StoreTransaction,
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
        .one(&tx.tx)
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
        .exec(&tx.tx)
        .await
        .map_err(in_ctx("update outbox (delivery report)"))?;
    Ok((done.rows_affected == 1).then(|| (BrandId::from_uuid(row.brand_id), row.id)))
}

/// See [`regulars_ports::OutboxRepo::history`].
pub(super) async fn history(
    tx: &StoreTransaction,
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
            .all(&tx.tx)
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
                    tx.keys(),
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

/// See [`regulars_ports::OutboxRepo::messages`].
pub(super) async fn messages(
    tx: &StoreTransaction,
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
            .one(&tx.tx)
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
        .all(&tx.tx)
        .await
        .map_err(in_ctx("select from outbox"))?
        .into_iter()
        .map(|row| message_from_row(tx.keys(), row))
        .collect()
}

/// See [`regulars_ports::OutboxRepo::counts`].
pub(super) async fn counts(
    tx: &StoreTransaction,
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
        .all(&tx.tx)
        .await
        .map_err(in_ctx("count outbox"))?;
    tally(rows)
}

/// See [`regulars_ports::OutboxRepo::depth`].
pub(super) async fn depth(
    tx: &StoreTransaction,
) -> Result<BTreeMap<OutboxStatus, u64>, StoreError> {
    use outbox::Column as C;
    let rows: Vec<(String, i64)> = outbox::Entity::find()
        .select_only()
        .column(C::Status)
        .column_as(C::Id.count(), "n")
        .group_by(C::Status)
        .into_tuple()
        .all(&tx.tx)
        .await
        .map_err(in_ctx("count outbox"))?;
    tally(rows)
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
