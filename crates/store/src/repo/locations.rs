//! [`LocationRepo`]: a brand's shops.

use crate::convert::{from_micros, to_micros};
use crate::entity::{location, location_signup};
use crate::error::{corrupt, in_ctx};
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{BrandId, LocationId};
use regulars_ports::{Location, LocationRepo, StoreError};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use time::{OffsetDateTime, UtcOffset};

#[async_trait]
impl LocationRepo for StoreTransaction {
    async fn insert_location(&mut self, location: &Location) -> Result<(), StoreError> {
        location::Entity::insert(location_to_row(location).into_active_model())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("insert into locations (brand_id, code unique)"))?;
        Ok(())
    }

    async fn update_location(&mut self, location: &Location) -> Result<(), StoreError> {
        let row = location_to_row(location);
        let done = location::Entity::update_many()
            .col_expr(location::Column::Code, Expr::value(row.code))
            .col_expr(location::Column::Name, Expr::value(row.name))
            .col_expr(
                location::Column::UtcOffsetSeconds,
                Expr::value(row.utc_offset_seconds),
            )
            .filter(location::Column::BrandId.eq(row.brand_id))
            .filter(location::Column::Id.eq(row.id))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update locations (brand_id, code unique)"))?;
        if done.rows_affected == 0 {
            return Err(StoreError::NotFound(format!("location {}", location.id)));
        }
        Ok(())
    }

    async fn location(
        &mut self,
        brand: BrandId,
        id: LocationId,
    ) -> Result<Option<Location>, StoreError> {
        location::Entity::find_by_id((brand.as_uuid(), id.as_uuid()))
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from locations"))?
            .map(location_from_row)
            .transpose()
    }

    async fn locations(&mut self, brand: BrandId) -> Result<Vec<Location>, StoreError> {
        location::Entity::find()
            .filter(location::Column::BrandId.eq(brand.as_uuid()))
            .order_by_asc(location::Column::Code)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from locations"))?
            .into_iter()
            .map(location_from_row)
            .collect()
    }

    async fn signup_secret(
        &mut self,
        brand: BrandId,
        location: LocationId,
    ) -> Result<Option<String>, StoreError> {
        Ok(
            location_signup::Entity::find_by_id((brand.as_uuid(), location.as_uuid()))
                .one(&self.tx)
                .await
                .map_err(in_ctx("select from location_signup"))?
                .map(|row| row.secret),
        )
    }

    async fn set_signup_secret(
        &mut self,
        brand: BrandId,
        location: LocationId,
        secret: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let row = location_signup::Model {
            brand_id: brand.as_uuid(),
            location_id: location.as_uuid(),
            secret: secret.to_owned(),
            created_at: to_micros(at),
        };
        location_signup::Entity::insert(row.into_active_model().reset_all())
            .on_conflict(
                OnConflict::columns([
                    location_signup::Column::BrandId,
                    location_signup::Column::LocationId,
                ])
                .update_columns([
                    location_signup::Column::Secret,
                    location_signup::Column::CreatedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("upsert into location_signup"))?;
        Ok(())
    }
}

fn location_to_row(location: &Location) -> location::Model {
    location::Model {
        brand_id: location.brand_id.as_uuid(),
        id: location.id.as_uuid(),
        code: location.code.clone(),
        name: location.name.clone(),
        utc_offset_seconds: location.utc_offset.map(UtcOffset::whole_seconds),
        created_at: to_micros(location.created_at),
    }
}

fn location_from_row(row: location::Model) -> Result<Location, StoreError> {
    Ok(Location {
        id: LocationId::from_uuid(row.id),
        brand_id: BrandId::from_uuid(row.brand_id),
        code: row.code,
        name: row.name,
        utc_offset: row
            .utc_offset_seconds
            .map(UtcOffset::from_whole_seconds)
            .transpose()
            .map_err(|e| corrupt("locations.utc_offset_seconds", e))?,
        created_at: from_micros(row.created_at)?,
    })
}
