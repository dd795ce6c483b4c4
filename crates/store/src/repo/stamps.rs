//! [`StampRepo`]: a brand's stamp cards and customers' stamps on them.

use crate::convert::{from_json, from_micros, from_micros_opt, to_json, to_micros, to_micros_opt};
use crate::entity::{stamp_card, stamp_event, stamp_state};
use crate::error::in_ctx;
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{BrandId, CustomerId, EventKey, VoucherId};
use regulars_loyalty::stamps::{StampCard, StampEvent, StampEventKind, StampState};
use regulars_ports::{StampRepo, StoreError};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use time::OffsetDateTime;

fn count(what: &str, value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value} out of range")))
}

fn seq(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("stamp seq {value} negative")))
}

fn seq_i64(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Other(format!("stamp seq {value} too large")))
}

fn state_from_row(row: &stamp_state::Model) -> Result<StampState, StoreError> {
    Ok(StampState {
        stamps: count("stamps", row.stamps)?,
        card_started_at: from_micros_opt(row.card_started_at)?,
        completed: count("completed cards", row.completed)?,
        reopened: count("reopened cards", row.reopened)?,
        expired_seq: row.expired_seq.map(seq).transpose()?,
        next_seq: seq(row.next_seq)?,
        last_at: from_micros_opt(row.last_at)?,
    })
}

fn event_row(
    brand: BrandId,
    customer: CustomerId,
    card: &str,
    event: &StampEvent,
) -> Result<stamp_event::Model, StoreError> {
    let (kind, order, stamps, forgiven, voucher): (_, Option<&EventKey>, u32, u32, _) =
        match &event.kind {
            StampEventKind::Earned { order, stamps } => ("earned", Some(order), *stamps, 0, None),
            StampEventKind::Completed { voucher, stamps } => {
                ("completed", None, *stamps, 0, Some(*voucher))
            }
            StampEventKind::Removed {
                order,
                stamps,
                forgiven,
            } => ("removed", Some(order), *stamps, *forgiven, None),
            StampEventKind::Reopened { voucher, stamps } => {
                ("reopened", None, *stamps, 0, Some(*voucher))
            }
            StampEventKind::Expired { stamps } => ("expired", None, *stamps, 0, None),
        };
    Ok(stamp_event::Model {
        brand_id: brand.as_uuid(),
        customer_id: customer.as_uuid(),
        card_code: card.to_owned(),
        seq: seq_i64(event.seq)?,
        kind: kind.to_owned(),
        at: to_micros(event.at),
        order_source: order.map(|k| k.source.clone()),
        order_external_id: order.map(|k| k.external_id.clone()),
        stamps: i64::from(stamps),
        forgiven: i64::from(forgiven),
        voucher_id: voucher.map(|v: VoucherId| v.as_uuid()),
    })
}

fn event_from_row(row: stamp_event::Model) -> Result<StampEvent, StoreError> {
    let corrupt = |what: &str| {
        StoreError::Corrupt(format!(
            "stamp event {} of card {}: {what}",
            row.seq, row.card_code
        ))
    };
    let order = || match (&row.order_source, &row.order_external_id) {
        (Some(source), Some(id)) => {
            EventKey::new(source.clone(), id.clone()).map_err(|_| corrupt("bad order key"))
        }
        _ => Err(corrupt("no order")),
    };
    let voucher = || {
        row.voucher_id
            .map(VoucherId::from_uuid)
            .ok_or_else(|| corrupt("no voucher"))
    };
    let stamps = count("stamps", row.stamps)?;
    let kind = match row.kind.as_str() {
        "earned" => StampEventKind::Earned {
            order: order()?,
            stamps,
        },
        "completed" => StampEventKind::Completed {
            voucher: voucher()?,
            stamps,
        },
        "removed" => StampEventKind::Removed {
            order: order()?,
            stamps,
            forgiven: count("forgiven stamps", row.forgiven)?,
        },
        "reopened" => StampEventKind::Reopened {
            voucher: voucher()?,
            stamps,
        },
        "expired" => StampEventKind::Expired { stamps },
        _ => return Err(corrupt("unknown kind")),
    };
    Ok(StampEvent {
        seq: seq(row.seq)?,
        at: from_micros(row.at)?,
        kind,
    })
}

/// The brand's cards, in the order they were given.
pub(super) async fn cards_of(
    tx: &StoreTransaction,
    brand: BrandId,
) -> Result<Vec<StampCard>, StoreError> {
    let rows = stamp_card::Entity::find()
        .filter(stamp_card::Column::BrandId.eq(brand.as_uuid()))
        .order_by_asc(stamp_card::Column::Position)
        .all(&tx.tx)
        .await
        .map_err(in_ctx("select from stamp_cards"))?;
    rows.iter()
        .map(|r| from_json("stamp card", &r.definition))
        .collect()
}

#[async_trait]
impl StampRepo for StoreTransaction {
    async fn stamp_cards(&mut self, brand: BrandId) -> Result<Vec<StampCard>, StoreError> {
        cards_of(self, brand).await
    }

    async fn replace_stamp_cards(
        &mut self,
        brand: BrandId,
        cards: &[StampCard],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        // The cards are part of the brand's configuration kept in memory by servers.
        super::brands::bump_config_version(self, brand).await?;
        stamp_card::Entity::delete_many()
            .filter(stamp_card::Column::BrandId.eq(brand.as_uuid()))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("delete from stamp_cards"))?;
        if cards.is_empty() {
            return Ok(());
        }
        let mut rows = Vec::with_capacity(cards.len());
        for (position, card) in (0_i64..).zip(cards) {
            rows.push(
                stamp_card::Model {
                    brand_id: brand.as_uuid(),
                    code: card.code.clone(),
                    position,
                    definition: to_json("stamp card", card)?,
                    updated_at: to_micros(now),
                }
                .into_active_model(),
            );
        }
        stamp_card::Entity::insert_many(rows)
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("insert into stamp_cards"))?;
        Ok(())
    }

    async fn stamp_states(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Vec<(String, StampState)>, StoreError> {
        let rows = stamp_state::Entity::find()
            .filter(stamp_state::Column::BrandId.eq(brand.as_uuid()))
            .filter(stamp_state::Column::CustomerId.eq(customer.as_uuid()))
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from stamp_states"))?;
        rows.iter()
            .map(|r| Ok((r.card_code.clone(), state_from_row(r)?)))
            .collect()
    }

    async fn order_stamp_events(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        card: &str,
        order: &EventKey,
    ) -> Result<Vec<StampEvent>, StoreError> {
        use stamp_event::Column as C;
        let rows = stamp_event::Entity::find()
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::CustomerId.eq(customer.as_uuid()))
            .filter(C::CardCode.eq(card))
            .filter(C::OrderSource.eq(order.source.as_str()))
            .filter(C::OrderExternalId.eq(order.external_id.as_str()))
            .order_by_asc(C::Seq)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from stamp_events"))?;
        rows.into_iter().map(event_from_row).collect()
    }

    async fn append_stamps(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        card: &str,
        state: &StampState,
        events: &[StampEvent],
    ) -> Result<(), StoreError> {
        use stamp_state::Column as C;
        if events.is_empty() {
            return Ok(());
        }
        let rows = events
            .iter()
            .map(|e| Ok(event_row(brand, customer, card, e)?.into_active_model()))
            .collect::<Result<Vec<_>, StoreError>>()?;
        stamp_event::Entity::insert_many(rows)
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("insert into stamp_events"))?;
        let row = stamp_state::Model {
            brand_id: brand.as_uuid(),
            customer_id: customer.as_uuid(),
            card_code: card.to_owned(),
            stamps: i64::from(state.stamps),
            card_started_at: to_micros_opt(state.card_started_at),
            completed: i64::from(state.completed),
            reopened: i64::from(state.reopened),
            expired_seq: state.expired_seq.map(seq_i64).transpose()?,
            next_seq: seq_i64(state.next_seq)?,
            last_at: to_micros_opt(state.last_at),
        };
        stamp_state::Entity::insert(row.into_active_model())
            .on_conflict(
                OnConflict::columns([C::BrandId, C::CustomerId, C::CardCode])
                    .update_columns([
                        C::Stamps,
                        C::CardStartedAt,
                        C::Completed,
                        C::Reopened,
                        C::ExpiredSeq,
                        C::NextSeq,
                        C::LastAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("upsert into stamp_states"))?;
        Ok(())
    }
}
