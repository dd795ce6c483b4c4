//! The brand's learned segment send-time patterns (`segment_send_times`), replaced as a
//! whole by each scoring run.

use crate::convert::{from_json, from_micros, to_json, to_micros};
use crate::entity::segment_send_time;
use crate::error::in_ctx;
use crate::tx::StoreTransaction;
use regulars_domain::BrandId;
use regulars_ports::{SegmentSendTime, StoreError};
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};

pub(crate) async fn save(
    tx: &mut StoreTransaction,
    brand: BrandId,
    patterns: &[SegmentSendTime],
) -> Result<(), StoreError> {
    segment_send_time::Entity::delete_many()
        .filter(segment_send_time::Column::BrandId.eq(brand.as_uuid()))
        .exec(&tx.tx)
        .await
        .map_err(in_ctx("delete from segment_send_times"))?;
    let rows = patterns
        .iter()
        .map(|p| {
            Ok(segment_send_time::Model {
                brand_id: brand.as_uuid(),
                segment: p.segment.clone(),
                golden_hour: p.golden_hour.map(i16::from),
                golden_weekday: p.golden_weekday.map(i16::from),
                members: i64::try_from(p.members).unwrap_or(i64::MAX),
                own_pattern: p.own_pattern,
                hours: to_json("segment_send_times.hours", &p.hours)?,
                scored_at: to_micros(p.scored_at),
            }
            .into_active_model())
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    if !rows.is_empty() {
        segment_send_time::Entity::insert_many(rows)
            .exec_without_returning(&tx.tx)
            .await
            .map_err(in_ctx("insert into segment_send_times"))?;
    }
    Ok(())
}

/// A stored small integer as an hour or weekday below `limit`; anything else is absent.
fn small(value: Option<i16>, limit: u8) -> Option<u8> {
    value
        .and_then(|v| u8::try_from(v).ok())
        .filter(|v| *v < limit)
}

pub(crate) async fn load(
    tx: &mut StoreTransaction,
    brand: BrandId,
) -> Result<Vec<SegmentSendTime>, StoreError> {
    segment_send_time::Entity::find()
        .filter(segment_send_time::Column::BrandId.eq(brand.as_uuid()))
        .order_by_asc(segment_send_time::Column::Segment)
        .all(&tx.tx)
        .await
        .map_err(in_ctx("select from segment_send_times"))?
        .into_iter()
        .map(|row| {
            Ok(SegmentSendTime {
                golden_hour: small(row.golden_hour, 24),
                golden_weekday: small(row.golden_weekday, 7),
                members: u64::try_from(row.members).unwrap_or(0),
                own_pattern: row.own_pattern,
                hours: from_json("segment_send_times.hours", &row.hours)?,
                scored_at: from_micros(row.scored_at)?,
                segment: row.segment,
            })
        })
        .collect()
}
