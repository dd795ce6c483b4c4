//! [`IdempotencyRepo`]: remembered results of external events.

use crate::contact::{ContactKeys, Place, open, seal};
use crate::convert::{from_json, to_json, to_micros};
use crate::entity::idempotency;
use crate::error::in_ctx;
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{BrandId, Customer, CustomerId, EventKey, Phone};
use regulars_ports::{CustomerStats, IdempotencyRepo, IdempotentRecord, StoreError};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter,
};
use std::collections::HashMap;
use time::OffsetDateTime;

#[async_trait]
impl IdempotencyRepo for StoreTransaction {
    async fn seen(
        &mut self,
        brand: BrandId,
        key: &EventKey,
    ) -> Result<Option<IdempotentRecord>, StoreError> {
        let Some(row) = idempotency::Entity::find_by_id((
            brand.as_uuid(),
            key.source.clone(),
            key.external_id.clone(),
        ))
        .one(&self.tx)
        .await
        .map_err(in_ctx("select from idempotency"))?
        else {
            return Ok(None);
        };
        Ok(Some(IdempotentRecord {
            kind: row.kind,
            result: from_json(
                "idempotency.result",
                &open(
                    self.keys(),
                    &result_place(brand.as_uuid(), key),
                    &row.result,
                )?,
            )?,
            fingerprint: row.fingerprint,
        }))
    }

    /// One `SELECT … WHERE brand_id = $1 AND ((source, external_id) = … OR …)`.
    async fn seen_each(
        &mut self,
        brand: BrandId,
        keys: &[EventKey],
    ) -> Result<Vec<Option<IdempotentRecord>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let any = keys.iter().fold(Condition::any(), |any, key| {
            any.add(
                Condition::all()
                    .add(idempotency::Column::Source.eq(key.source.as_str()))
                    .add(idempotency::Column::ExternalId.eq(key.external_id.as_str())),
            )
        });
        let rows = idempotency::Entity::find()
            .filter(idempotency::Column::BrandId.eq(brand.as_uuid()))
            .filter(any)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from idempotency"))?;
        let mut found = HashMap::with_capacity(rows.len());
        for row in rows {
            let (key, record) = record_from_row(self.keys(), row)?;
            found.insert(key, record);
        }
        Ok(keys.iter().map(|key| found.get(key).cloned()).collect())
    }

    async fn seen_with_stats(
        &mut self,
        brand: BrandId,
        key: &EventKey,
        customer: CustomerId,
    ) -> Result<(Option<IdempotentRecord>, Option<CustomerStats>), StoreError> {
        super::order_reads::seen_with_stats(self, brand, key, customer).await
    }

    async fn seen_with_customer(
        &mut self,
        brand: BrandId,
        key: &EventKey,
        phone: &Phone,
    ) -> Result<(Option<IdempotentRecord>, Option<Customer>), StoreError> {
        super::order_reads::seen_with_customer(self, brand, key, phone).await
    }

    async fn seen_each_with_customer(
        &mut self,
        brand: BrandId,
        keys: &[EventKey],
        phone: &Phone,
    ) -> Result<(Vec<Option<IdempotentRecord>>, Option<Customer>), StoreError> {
        super::order_reads::seen_each_with_customer(self, brand, keys, phone).await
    }

    /// Inserts the record; `created_at` is the time of this call.
    async fn remember(
        &mut self,
        brand: BrandId,
        key: &EventKey,
        record: &IdempotentRecord,
    ) -> Result<(), StoreError> {
        let row = record_row(self.keys(), brand, key, record)?;
        idempotency::Entity::insert(row.into_active_model().reset_all())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx(
                "insert into idempotency (brand_id, source, external_id)",
            ))?;
        Ok(())
    }

    /// One `DELETE … WHERE kind IN (…) AND created_at < before`, over every brand (the
    /// worker's housekeeping, like the outbox claim), served by the `(kind, created_at)`
    /// index.
    async fn prune(
        &mut self,
        kinds: &[&'static str],
        before: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        if kinds.is_empty() {
            return Ok(0);
        }
        let done = idempotency::Entity::delete_many()
            .filter(idempotency::Column::Kind.is_in(kinds.iter().copied()))
            .filter(idempotency::Column::CreatedAt.lt(to_micros(before)))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("delete from idempotency"))?;
        Ok(done.rows_affected)
    }
}

/// The row remembering `record` under `key` (its result sealed under `keys`), created now.
pub(crate) fn record_row(
    keys: Option<&ContactKeys>,
    brand: BrandId,
    key: &EventKey,
    record: &IdempotentRecord,
) -> Result<idempotency::Model, StoreError> {
    Ok(idempotency::Model {
        brand_id: brand.as_uuid(),
        source: key.source.clone(),
        external_id: key.external_id.clone(),
        kind: record.kind.clone(),
        result: seal(
            keys,
            &result_place(brand.as_uuid(), key),
            &to_json("idempotent result", &record.result)?,
        ),
        created_at: to_micros(OffsetDateTime::now_utc()),
        fingerprint: record.fingerprint.clone(),
    })
}

/// The remembered result of a row, opened.
pub(crate) fn record_from_row(
    keys: Option<&ContactKeys>,
    row: idempotency::Model,
) -> Result<(EventKey, IdempotentRecord), StoreError> {
    let key = EventKey {
        source: row.source,
        external_id: row.external_id,
    };
    let result = from_json(
        "idempotency.result",
        &open(keys, &result_place(row.brand_id, &key), &row.result)?,
    )?;
    Ok((
        key,
        IdempotentRecord {
            kind: row.kind,
            result,
            fingerprint: row.fingerprint,
        },
    ))
}

/// Where a remembered result lives (sealed: a receipt of a customer's creation holds
/// their phone).
pub(crate) fn result_place(brand: uuid::Uuid, key: &EventKey) -> Place {
    Place::new(
        "idempotency.result",
        brand,
        &[key.source.as_bytes(), key.external_id.as_bytes()],
    )
}
