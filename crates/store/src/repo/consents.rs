//! The consent history of [`CustomerRepo`](regulars_ports::CustomerRepo): append-only,
//! numbered per customer.

use crate::convert::{from_micros, to_micros};
use crate::entity::consent_event;
use crate::error::{corrupt, in_ctx};
use crate::tx::StoreTransaction;
use regulars_domain::{BrandId, ChangeSource, ConsentEvent, ConsentState, CustomerId, Purpose};
use regulars_ports::StoreError;
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect};

pub(crate) async fn record(
    store: &mut StoreTransaction,
    events: &[ConsentEvent],
) -> Result<(), StoreError> {
    use consent_event::Column as C;
    let mut next: Option<((BrandId, CustomerId), i64)> = None;
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        let owner = (event.brand_id, event.customer_id);
        let seq = match next {
            Some((who, seq)) if who == owner => seq,
            _ => {
                let last: Option<i64> = consent_event::Entity::find()
                    .select_only()
                    .column(C::Seq)
                    .filter(C::BrandId.eq(event.brand_id.as_uuid()))
                    .filter(C::CustomerId.eq(event.customer_id.as_uuid()))
                    .order_by_desc(C::Seq)
                    .limit(1)
                    .into_tuple()
                    .one(&store.tx)
                    .await
                    .map_err(in_ctx("select from consent_events"))?;
                last.unwrap_or(0) + 1
            }
        };
        next = Some((owner, seq + 1));
        rows.push(
            consent_event::Model {
                brand_id: event.brand_id.as_uuid(),
                customer_id: event.customer_id.as_uuid(),
                seq,
                purpose: event.purpose.as_str().to_owned(),
                state: event.state.as_str().to_owned(),
                at: to_micros(event.at),
                source: event.source.as_str().to_owned(),
                actor: event.actor.clone(),
                notice_version: event
                    .notice_version
                    .map(|v| i32::try_from(v).unwrap_or(i32::MAX)),
            }
            .into_active_model(),
        );
    }
    if rows.is_empty() {
        return Ok(());
    }
    consent_event::Entity::insert_many(rows)
        .exec_without_returning(&store.tx)
        .await
        .map_err(in_ctx(
            "insert into consent_events (brand_id, customer_id, seq)",
        ))?;
    Ok(())
}

pub(crate) async fn history(
    store: &mut StoreTransaction,
    brand: BrandId,
    customer: CustomerId,
) -> Result<Vec<ConsentEvent>, StoreError> {
    use consent_event::Column as C;
    let rows = consent_event::Entity::find()
        .filter(C::BrandId.eq(brand.as_uuid()))
        .filter(C::CustomerId.eq(customer.as_uuid()))
        .order_by_asc(C::Seq)
        .all(&store.tx)
        .await
        .map_err(in_ctx("select from consent_events"))?;
    rows.into_iter().map(from_row).collect()
}

fn from_row(row: consent_event::Model) -> Result<ConsentEvent, StoreError> {
    Ok(ConsentEvent {
        brand_id: BrandId::from_uuid(row.brand_id),
        customer_id: CustomerId::from_uuid(row.customer_id),
        purpose: Purpose::parse(&row.purpose)
            .ok_or_else(|| corrupt("consent_events.purpose", &row.purpose))?,
        state: ConsentState::parse(&row.state)
            .ok_or_else(|| corrupt("consent_events.state", &row.state))?,
        at: from_micros(row.at)?,
        source: ChangeSource::parse(&row.source)
            .ok_or_else(|| corrupt("consent_events.source", &row.source))?,
        actor: row.actor,
        notice_version: row
            .notice_version
            .map(|v| u32::try_from(v).map_err(|e| corrupt("consent_events.notice_version", e)))
            .transpose()?,
    })
}
