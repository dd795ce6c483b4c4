//! [`RatingRepo`]: ratings of visits, location managers' (sealed) emails and the brand's
//! low-rating threshold.

use crate::contact::{Place, open, seal};
use crate::convert::{from_micros, to_micros};
use crate::entity::{location_manager, outbox, rating, rating_setting};
use crate::error::{corrupt, in_ctx};
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{BrandId, CustomerId, LocationId, OrderId, Rating, Stars, rating_notice_key};
use regulars_ports::{RatingRepo, StoreError};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use time::OffsetDateTime;
use uuid::Uuid;

fn place(brand: Uuid, location: Uuid) -> Place {
    Place::new("location_managers.email", brand, &[location.as_bytes()])
}

fn stars(value: i16) -> Result<Stars, StoreError> {
    u8::try_from(value)
        .ok()
        .and_then(|v| Stars::new(v).ok())
        .ok_or_else(|| corrupt("ratings.stars", format_args!("{value} is not 1 to 5")))
}

fn from_row(r: rating::Model) -> Result<Rating, StoreError> {
    Ok(Rating {
        brand_id: BrandId::from_uuid(r.brand_id),
        order_id: OrderId::from_uuid(r.order_id),
        customer_id: CustomerId::from_uuid(r.customer_id),
        location: r.location,
        stars: stars(r.stars)?,
        comment: r.comment,
        created_at: from_micros(r.created_at)?,
    })
}

#[async_trait]
impl RatingRepo for StoreTransaction {
    async fn insert_rating(&mut self, r: &Rating) -> Result<bool, StoreError> {
        let row = rating::Model {
            brand_id: r.brand_id.as_uuid(),
            order_id: r.order_id.as_uuid(),
            customer_id: r.customer_id.as_uuid(),
            location: r.location.clone(),
            stars: i16::from(r.stars.value()),
            comment: r.comment.clone(),
            created_at: to_micros(r.created_at),
        };
        let inserted = rating::Entity::insert(row.into_active_model())
            .on_conflict(
                OnConflict::columns([rating::Column::BrandId, rating::Column::OrderId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("insert into ratings"))?;
        Ok(inserted > 0)
    }

    async fn rating_of_order(
        &mut self,
        brand: BrandId,
        order: OrderId,
    ) -> Result<Option<Rating>, StoreError> {
        rating::Entity::find_by_id((brand.as_uuid(), order.as_uuid()))
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from ratings"))?
            .map(from_row)
            .transpose()
    }

    async fn ratings_between(
        &mut self,
        brand: BrandId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        limit: u64,
    ) -> Result<Vec<Rating>, StoreError> {
        use rating::Column as C;
        rating::Entity::find()
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::CreatedAt.gte(to_micros(from)))
            .filter(C::CreatedAt.lt(to_micros(to)))
            .order_by_asc(C::CreatedAt)
            .order_by_asc(C::OrderId)
            .limit(limit)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from ratings"))?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn customer_ratings(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Vec<Rating>, StoreError> {
        use rating::Column as C;
        rating::Entity::find()
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::CustomerId.eq(customer.as_uuid()))
            .order_by_asc(C::CreatedAt)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from ratings"))?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn erase_rating_comments(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<u64, StoreError> {
        use rating::Column as C;
        // The notices low ratings sent to managers repeat the comment: scrub them too.
        let keys: Vec<String> = self
            .customer_ratings(brand, customer)
            .await?
            .iter()
            .filter(|r| r.comment.is_some())
            .map(|r| rating_notice_key(r.order_id))
            .collect();
        for chunk in keys.chunks(200) {
            let which = Condition::all()
                .add(outbox::Column::BrandId.eq(brand.as_uuid()))
                .add(outbox::Column::DedupeKey.is_in(chunk.to_vec()));
            self.scrub_messages(which, false).await?;
        }
        let result = rating::Entity::update_many()
            .col_expr(C::Comment, Expr::value(Option::<String>::None))
            .filter(C::BrandId.eq(brand.as_uuid()))
            .filter(C::CustomerId.eq(customer.as_uuid()))
            .filter(C::Comment.is_not_null())
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update ratings"))?;
        Ok(result.rows_affected)
    }

    async fn location_manager(
        &mut self,
        brand: BrandId,
        location: LocationId,
    ) -> Result<Option<String>, StoreError> {
        let row = location_manager::Entity::find_by_id((brand.as_uuid(), location.as_uuid()))
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from location_managers"))?;
        row.map(|r| open(self.keys(), &place(r.brand_id, r.location_id), &r.email))
            .transpose()
    }

    async fn location_managers(
        &mut self,
        brand: BrandId,
    ) -> Result<Vec<(LocationId, String)>, StoreError> {
        let rows = location_manager::Entity::find()
            .filter(location_manager::Column::BrandId.eq(brand.as_uuid()))
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from location_managers"))?;
        rows.into_iter()
            .map(|r| {
                let email = open(self.keys(), &place(r.brand_id, r.location_id), &r.email)?;
                Ok((LocationId::from_uuid(r.location_id), email))
            })
            .collect()
    }

    async fn set_location_manager(
        &mut self,
        brand: BrandId,
        location: LocationId,
        email: Option<String>,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        use location_manager::Column as C;
        let Some(email) = email else {
            location_manager::Entity::delete_many()
                .filter(C::BrandId.eq(brand.as_uuid()))
                .filter(C::LocationId.eq(location.as_uuid()))
                .exec(&self.tx)
                .await
                .map_err(in_ctx("delete from location_managers"))?;
            return Ok(());
        };
        let row = location_manager::Model {
            brand_id: brand.as_uuid(),
            location_id: location.as_uuid(),
            email: seal(
                self.keys(),
                &place(brand.as_uuid(), location.as_uuid()),
                &email,
            ),
            updated_at: to_micros(at),
        };
        location_manager::Entity::insert(row.into_active_model())
            .on_conflict(
                OnConflict::columns([C::BrandId, C::LocationId])
                    .update_columns([C::Email, C::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("upsert into location_managers"))?;
        Ok(())
    }

    async fn low_threshold(&mut self, brand: BrandId) -> Result<Option<Stars>, StoreError> {
        rating_setting::Entity::find_by_id(brand.as_uuid())
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from rating_settings"))?
            .map(|r| stars(r.low_threshold))
            .transpose()
    }

    async fn set_low_threshold(
        &mut self,
        brand: BrandId,
        threshold: Stars,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        use rating_setting::Column as C;
        let row = rating_setting::Model {
            brand_id: brand.as_uuid(),
            low_threshold: i16::from(threshold.value()),
            updated_at: to_micros(at),
        };
        rating_setting::Entity::insert(row.into_active_model())
            .on_conflict(
                OnConflict::column(C::BrandId)
                    .update_columns([C::LowThreshold, C::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("upsert into rating_settings"))?;
        Ok(())
    }
}
