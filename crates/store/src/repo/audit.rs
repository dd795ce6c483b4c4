//! The access log: one row per read of personal data, ids only.

use crate::convert::{from_micros, to_micros};
use crate::entity::access_log;
use crate::error::{corrupt, in_ctx};
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{ApiKeyId, BrandId, CustomerId, LocationId, StaffId};
use regulars_ports::{
    AccessChannel, AccessQuery, AccessRecord, AuditRepo, PersonalData, StoreError,
};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};

#[async_trait]
impl AuditRepo for StoreTransaction {
    async fn record_accesses(&mut self, records: &[AccessRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let rows = records.iter().map(|record| {
            access_log::Model {
                brand_id: record.brand_id.as_uuid(),
                at: to_micros(record.at),
                id: record.id,
                key_id: record.key_id.map(|k| k.as_uuid()),
                channel: record.channel.as_str().to_owned(),
                route: record.route.clone(),
                fields: joined(record.fields.iter().map(|f| f.as_str().to_owned())),
                customers: joined(record.customers.iter().map(ToString::to_string)),
                staff_id: record.staff_id.map(|s| s.as_uuid()),
                location_id: record.location_id.map(|l| l.as_uuid()),
            }
            .into_active_model()
        });
        access_log::Entity::insert_many(rows)
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("insert into access_log"))?;
        Ok(())
    }

    async fn accesses(
        &mut self,
        brand: BrandId,
        query: &AccessQuery,
    ) -> Result<Vec<AccessRecord>, StoreError> {
        use access_log::Column as C;
        let mut select = access_log::Entity::find().filter(C::BrandId.eq(brand.as_uuid()));
        if let Some(since) = query.since {
            select = select.filter(C::At.gte(to_micros(since)));
        }
        if let Some(until) = query.until {
            select = select.filter(C::At.lt(to_micros(until)));
        }
        if let Some(key) = query.key {
            select = select.filter(C::KeyId.eq(key.as_uuid()));
        }
        if let Some(customer) = query.customer {
            // A hyphenated id cannot occur inside another one, so a substring match is
            // exact; it scans the brand's records in the time range, which `since` bounds.
            select = select.filter(C::Customers.contains(customer.to_string()));
        }
        if let Some((at, id)) = query.after {
            let at = to_micros(at);
            select = select.filter(
                Condition::any()
                    .add(C::At.gt(at))
                    .add(Condition::all().add(C::At.eq(at)).add(C::Id.gt(id))),
            );
        }
        let rows = select
            .order_by_asc(C::At)
            .order_by_asc(C::Id)
            .limit(query.limit)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from access_log"))?;
        rows.into_iter().map(record_from_row).collect()
    }

    async fn prune_accesses(&mut self, before: time::OffsetDateTime) -> Result<u64, StoreError> {
        let done = access_log::Entity::delete_many()
            .filter(access_log::Column::At.lt(to_micros(before)))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("delete from access_log"))?;
        Ok(done.rows_affected)
    }
}

fn joined(parts: impl Iterator<Item = String>) -> String {
    parts.collect::<Vec<_>>().join(",")
}

fn record_from_row(row: access_log::Model) -> Result<AccessRecord, StoreError> {
    let fields = row
        .fields
        .split(',')
        .filter(|f| !f.is_empty())
        .map(|f| PersonalData::parse(f).ok_or_else(|| corrupt("access_log.fields", f)))
        .collect::<Result<Vec<_>, _>>()?;
    let customers = row
        .customers
        .split(',')
        .filter(|c| !c.is_empty())
        .map(|c| {
            c.parse::<CustomerId>()
                .map_err(|_| corrupt("access_log.customers", c))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AccessRecord {
        id: row.id,
        brand_id: BrandId::from_uuid(row.brand_id),
        at: from_micros(row.at)?,
        key_id: row.key_id.map(ApiKeyId::from_uuid),
        channel: AccessChannel::parse(&row.channel)
            .ok_or_else(|| corrupt("access_log.channel", &row.channel))?,
        route: row.route,
        fields,
        customers,
        staff_id: row.staff_id.map(StaffId::from_uuid),
        location_id: row.location_id.map(LocationId::from_uuid),
    })
}
