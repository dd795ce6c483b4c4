//! [`AccessRepo`]: API keys and POS integrations.

use super::{pos_customers, pos_polls};
use crate::convert::{from_micros, from_micros_opt, to_micros, to_micros_opt};
use crate::entity::{api_key, integration};
use crate::error::{corrupt, in_ctx};
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{ApiKeyId, BrandId, EventKey, IntegrationId, LocationId, Order, Phone};
use regulars_ports::{
    AccessRepo, ApiKeyRecord, IntegrationKind, IntegrationRecord, Role, StoreError,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect};
use time::OffsetDateTime;
use uuid::Uuid;

#[async_trait]
impl AccessRepo for StoreTransaction {
    async fn insert_api_key(&mut self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let row = api_key::Model {
            brand_id: key.brand_id.as_uuid(),
            id: key.id.as_uuid(),
            prefix: key.prefix.clone(),
            secret_hash: key.secret_hash.clone(),
            role: key.role.as_str().to_owned(),
            label: key.label.clone(),
            created_at: to_micros(key.created_at),
            revoked_at: to_micros_opt(key.revoked_at),
            session_epoch: 0,
            locations: locations_json(&key.locations)?,
        };
        api_key::Entity::insert(row.into_active_model())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("insert into api_keys (brand_id, prefix unique)"))?;
        Ok(())
    }

    async fn api_key_by_prefix(
        &mut self,
        prefix: &str,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        // Unique per brand only; a prefix two brands share (64 random bits: never in
        // practice) finds no key rather than the wrong one.
        let rows = api_key::Entity::find()
            .filter(api_key::Column::Prefix.eq(prefix))
            .limit(2)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from api_keys"))?;
        only(rows).map(key_from_row).transpose()
    }

    async fn api_keys(&mut self, brand: BrandId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.brand_keys(brand, false).await
    }

    async fn lock_api_keys(&mut self, brand: BrandId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.brand_keys(brand, true).await
    }

    async fn revoke_api_key(
        &mut self,
        brand: BrandId,
        id: ApiKeyId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = api_key::Entity::update_many()
            .col_expr(api_key::Column::RevokedAt, Expr::value(to_micros(now)))
            .filter(api_key::Column::BrandId.eq(brand.as_uuid()))
            .filter(api_key::Column::Id.eq(id.as_uuid()))
            .filter(api_key::Column::RevokedAt.is_null())
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update api_keys"))?;
        Ok(done.rows_affected == 1)
    }

    async fn session_epoch(
        &mut self,
        brand: BrandId,
        id: ApiKeyId,
    ) -> Result<Option<i64>, StoreError> {
        Ok(api_key::Entity::find()
            .filter(api_key::Column::BrandId.eq(brand.as_uuid()))
            .filter(api_key::Column::Id.eq(id.as_uuid()))
            .filter(api_key::Column::RevokedAt.is_null())
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from api_keys"))?
            .map(|row| row.session_epoch))
    }

    async fn end_sessions(&mut self, brand: BrandId, id: ApiKeyId) -> Result<bool, StoreError> {
        let done = api_key::Entity::update_many()
            .col_expr(
                api_key::Column::SessionEpoch,
                Expr::col(api_key::Column::SessionEpoch).add(Expr::value(1)),
            )
            .filter(api_key::Column::BrandId.eq(brand.as_uuid()))
            .filter(api_key::Column::Id.eq(id.as_uuid()))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update api_keys"))?;
        Ok(done.rows_affected == 1)
    }

    async fn insert_integration(
        &mut self,
        integration: &IntegrationRecord,
    ) -> Result<(), StoreError> {
        let row = integration::Model {
            brand_id: integration.brand_id.as_uuid(),
            id: integration.id.as_uuid(),
            kind: integration.kind.as_str().to_owned(),
            label: integration.label.clone(),
            sealed_secret: integration.sealed_secret.clone(),
            sealed_access: integration.sealed_access.clone(),
            created_at: to_micros(integration.created_at),
            revoked_at: to_micros_opt(integration.revoked_at),
        };
        integration::Entity::insert(row.into_active_model())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("insert into integrations (brand_id, id unique)"))?;
        Ok(())
    }

    async fn integration(
        &mut self,
        id: IntegrationId,
    ) -> Result<Option<IntegrationRecord>, StoreError> {
        // Unique per brand only; an id two brands share (a random UUID: never in
        // practice) finds no integration rather than the wrong one.
        let rows = integration::Entity::find()
            .filter(integration::Column::Id.eq(id.as_uuid()))
            .limit(2)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from integrations"))?;
        only(rows).map(integration_from_row).transpose()
    }

    async fn integrations(&mut self, brand: BrandId) -> Result<Vec<IntegrationRecord>, StoreError> {
        integration::Entity::find()
            .filter(integration::Column::BrandId.eq(brand.as_uuid()))
            .order_by_asc(integration::Column::CreatedAt)
            .order_by_asc(integration::Column::Id)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from integrations"))?
            .into_iter()
            .map(integration_from_row)
            .collect()
    }

    async fn reseal_integration(
        &mut self,
        brand: BrandId,
        id: IntegrationId,
        expected: &str,
        sealed: &str,
    ) -> Result<bool, StoreError> {
        let done = integration::Entity::update_many()
            .col_expr(integration::Column::SealedSecret, Expr::value(sealed))
            .filter(integration::Column::BrandId.eq(brand.as_uuid()))
            .filter(integration::Column::Id.eq(id.as_uuid()))
            .filter(integration::Column::SealedSecret.eq(expected))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update integrations"))?;
        Ok(done.rows_affected == 1)
    }

    async fn replace_integration_access(
        &mut self,
        brand: BrandId,
        id: IntegrationId,
        expected: Option<String>,
        sealed: Option<String>,
    ) -> Result<bool, StoreError> {
        let mut update = integration::Entity::update_many()
            .col_expr(integration::Column::SealedAccess, Expr::value(sealed))
            .filter(integration::Column::BrandId.eq(brand.as_uuid()))
            .filter(integration::Column::Id.eq(id.as_uuid()));
        if let Some(expected) = expected {
            update = update.filter(integration::Column::SealedAccess.eq(expected));
        }
        let done = update
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update integrations"))?;
        Ok(done.rows_affected == 1)
    }

    async fn revoke_integration(
        &mut self,
        brand: BrandId,
        id: IntegrationId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = integration::Entity::update_many()
            .col_expr(integration::Column::RevokedAt, Expr::value(to_micros(now)))
            .filter(integration::Column::BrandId.eq(brand.as_uuid()))
            .filter(integration::Column::Id.eq(id.as_uuid()))
            .filter(integration::Column::RevokedAt.is_null())
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update integrations"))?;
        Ok(done.rows_affected == 1)
    }

    async fn link_pos_customer(
        &mut self,
        brand: BrandId,
        integration: IntegrationId,
        customer_ref: &str,
        phone: &Phone,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        pos_customers::link(self, brand, integration, customer_ref, phone, now).await
    }

    async fn pos_customer_phone(
        &mut self,
        brand: BrandId,
        integration: IntegrationId,
        customer_ref: &str,
    ) -> Result<Option<Phone>, StoreError> {
        pos_customers::phone(self, brand, integration, customer_ref).await
    }

    async fn keep_waiting_order(
        &mut self,
        brand: BrandId,
        integration: IntegrationId,
        customer_ref: &str,
        order: &Order,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        pos_customers::keep_waiting(self, brand, integration, customer_ref, order, now).await
    }

    async fn take_waiting_orders(
        &mut self,
        brand: BrandId,
        integration: IntegrationId,
        customer_ref: &str,
    ) -> Result<Vec<Order>, StoreError> {
        pos_customers::take_waiting(self, brand, integration, customer_ref).await
    }

    async fn drop_waiting_order(
        &mut self,
        brand: BrandId,
        integration: IntegrationId,
        order: &EventKey,
    ) -> Result<bool, StoreError> {
        pos_customers::drop_waiting(self, brand, integration, order).await
    }

    async fn integrations_of_kind(
        &mut self,
        kind: IntegrationKind,
    ) -> Result<Vec<IntegrationRecord>, StoreError> {
        integration::Entity::find()
            .filter(integration::Column::Kind.eq(kind.as_str()))
            .filter(integration::Column::RevokedAt.is_null())
            .order_by_asc(integration::Column::BrandId)
            .order_by_asc(integration::Column::Id)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from integrations (of kind)"))?
            .into_iter()
            .map(integration_from_row)
            .collect()
    }

    async fn lease_poll(
        &mut self,
        brand: BrandId,
        integration: IntegrationId,
        owner: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Option<regulars_ports::PollCursor>, StoreError> {
        pos_polls::lease(self, brand, integration, owner, now, until).await
    }

    async fn finish_poll(
        &mut self,
        owner: &str,
        cursor: &regulars_ports::PollCursor,
    ) -> Result<bool, StoreError> {
        pos_polls::finish(self, owner, cursor).await
    }

    async fn poll_cursor(
        &mut self,
        brand: BrandId,
        integration: IntegrationId,
    ) -> Result<Option<regulars_ports::PollCursor>, StoreError> {
        pos_polls::cursor(self, brand, integration).await
    }

    async fn resume_poll(
        &mut self,
        brand: BrandId,
        integration: IntegrationId,
    ) -> Result<(), StoreError> {
        pos_polls::resume(self, brand, integration).await
    }
}

fn key_from_row(row: api_key::Model) -> Result<ApiKeyRecord, StoreError> {
    Ok(ApiKeyRecord {
        id: ApiKeyId::from_uuid(row.id),
        brand_id: BrandId::from_uuid(row.brand_id),
        prefix: row.prefix,
        secret_hash: row.secret_hash,
        role: Role::parse(&row.role)
            .ok_or_else(|| corrupt("api_keys.role", format!("unknown role {:?}", row.role)))?,
        label: row.label,
        created_at: from_micros(row.created_at)?,
        revoked_at: from_micros_opt(row.revoked_at)?,
        locations: match row.locations.as_deref() {
            None => Vec::new(),
            Some(json) => serde_json::from_str::<Vec<Uuid>>(json)
                .map_err(|e| corrupt("api_keys.locations", e))?
                .into_iter()
                .map(LocationId::from_uuid)
                .collect(),
        },
    })
}

/// A manager key's locations as stored: a JSON array of ids, or null when there are none.
fn locations_json(locations: &[LocationId]) -> Result<Option<String>, StoreError> {
    if locations.is_empty() {
        return Ok(None);
    }
    let ids: Vec<Uuid> = locations.iter().map(|l| l.as_uuid()).collect();
    serde_json::to_string(&ids)
        .map(Some)
        .map_err(|e| corrupt("api_keys.locations", e))
}

fn integration_from_row(row: integration::Model) -> Result<IntegrationRecord, StoreError> {
    Ok(IntegrationRecord {
        id: IntegrationId::from_uuid(row.id),
        brand_id: BrandId::from_uuid(row.brand_id),
        kind: IntegrationKind::parse(&row.kind)
            .ok_or_else(|| corrupt("integrations.kind", format!("unknown kind {:?}", row.kind)))?,
        label: row.label,
        sealed_secret: row.sealed_secret,
        sealed_access: row.sealed_access,
        created_at: from_micros(row.created_at)?,
        revoked_at: from_micros_opt(row.revoked_at)?,
    })
}

impl StoreTransaction {
    /// The brand's keys oldest first; with `lock`, locked for the rest of the transaction
    /// (PostgreSQL only; rows are locked in that same order, so two lockers never
    /// deadlock).
    async fn brand_keys(
        &mut self,
        brand: BrandId,
        lock: bool,
    ) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let mut select = api_key::Entity::find()
            .filter(api_key::Column::BrandId.eq(brand.as_uuid()))
            .order_by_asc(api_key::Column::CreatedAt)
            .order_by_asc(api_key::Column::Id);
        if lock && self.is_postgres() {
            select = select.lock_exclusive();
        }
        select
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from api_keys"))?
            .into_iter()
            .map(key_from_row)
            .collect()
    }
}

/// The row when there is exactly one.
fn only<T>(mut rows: Vec<T>) -> Option<T> {
    if rows.len() == 1 { rows.pop() } else { None }
}
