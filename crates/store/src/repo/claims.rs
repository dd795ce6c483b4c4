//! [`ClaimRepo`]: orders stored without a customer, open to one claim, and the brand's
//! claim window.

use crate::convert::{from_micros, from_micros_opt, money, to_micros, to_minor};
use crate::entity::{claim_setting, order, order_claim};
use crate::error::{corrupt, in_ctx};
use crate::repo::order_chain::relink;
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{BrandId, CustomerId, OrderId, Points};
use regulars_ports::{ClaimRepo, ClaimableOrder, OrderClaim, StoreError};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};
use time::OffsetDateTime;

#[async_trait]
impl ClaimRepo for StoreTransaction {
    async fn open_claim(
        &mut self,
        brand: BrandId,
        claimable: &ClaimableOrder,
    ) -> Result<(), StoreError> {
        let row = open_row(brand, claimable)?;
        order_claim::Entity::insert(row.into_active_model().reset_all())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("insert into order_claims (brand_id, code unique)"))?;
        Ok(())
    }

    async fn order_by_claim_code(
        &mut self,
        brand: BrandId,
        code: &str,
    ) -> Result<Option<OrderId>, StoreError> {
        let id: Option<uuid::Uuid> = order_claim::Entity::find()
            .select_only()
            .column(order_claim::Column::OrderId)
            .filter(order_claim::Column::BrandId.eq(brand.as_uuid()))
            .filter(order_claim::Column::Code.eq(code))
            .into_tuple()
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from order_claims"))?;
        Ok(id.map(OrderId::from_uuid))
    }

    async fn claim_code(
        &mut self,
        brand: BrandId,
        order: OrderId,
    ) -> Result<Option<String>, StoreError> {
        let code: Option<Option<String>> = order_claim::Entity::find()
            .select_only()
            .column(order_claim::Column::Code)
            .filter(order_claim::Column::BrandId.eq(brand.as_uuid()))
            .filter(order_claim::Column::OrderId.eq(order.as_uuid()))
            .into_tuple()
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from order_claims"))?;
        Ok(code.flatten())
    }

    async fn unclaimed_at(
        &mut self,
        brand: BrandId,
        location: &str,
        since: OffsetDateTime,
        limit: u64,
    ) -> Result<Vec<ClaimableOrder>, StoreError> {
        let rows = order_claim::Entity::find()
            .filter(order_claim::Column::BrandId.eq(brand.as_uuid()))
            .filter(order_claim::Column::Location.eq(location))
            .filter(order_claim::Column::PlacedAt.gte(to_micros(since)))
            .filter(order_claim::Column::CustomerId.is_null())
            .order_by_desc(order_claim::Column::PlacedAt)
            .limit(limit)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from order_claims"))?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        // Refunds are kept on the order: leave out the refunded ones.
        let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.order_id).collect();
        let refunded: Vec<uuid::Uuid> = order::Entity::find()
            .select_only()
            .column(order::Column::Id)
            .filter(order::Column::BrandId.eq(brand.as_uuid()))
            .filter(order::Column::Id.is_in(ids))
            .filter(order::Column::RefundedMinor.ne(0))
            .into_tuple()
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from orders"))?;
        rows.into_iter()
            .filter(|row| !refunded.contains(&row.order_id))
            .map(claimable_of)
            .collect()
    }

    async fn claim_order(
        &mut self,
        brand: BrandId,
        claimable: &ClaimableOrder,
        claim: &OrderClaim,
    ) -> Result<bool, StoreError> {
        // The one conditional update that decides who gets the order.
        let taken = order::Entity::update_many()
            .col_expr(
                order::Column::CustomerId,
                Expr::value(claim.customer.as_uuid()),
            )
            .filter(order::Column::BrandId.eq(brand.as_uuid()))
            .filter(order::Column::Id.eq(claim.order.as_uuid()))
            .filter(order::Column::CustomerId.is_null())
            .filter(order::Column::RefundedMinor.eq(0))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update orders (claim)"))?;
        if taken.rows_affected == 0 {
            return Ok(false);
        }
        // The order joins its customer's chain of counted orders.
        let placed = to_micros(claimable.placed_at);
        relink(self, brand, &[claim.customer.as_uuid()], Some(placed)).await?;
        let recorded = order_claim::Entity::update_many()
            .col_expr(
                order_claim::Column::CustomerId,
                Expr::value(claim.customer.as_uuid()),
            )
            .col_expr(order_claim::Column::Via, Expr::value(claim.via.clone()))
            .col_expr(order_claim::Column::Actor, Expr::value(claim.actor.clone()))
            .col_expr(
                order_claim::Column::ClaimedAt,
                Expr::value(to_micros(claim.claimed_at)),
            )
            .filter(order_claim::Column::BrandId.eq(brand.as_uuid()))
            .filter(order_claim::Column::OrderId.eq(claim.order.as_uuid()))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update order_claims"))?;
        if recorded.rows_affected == 0 {
            let mut row = open_row(brand, claimable)?;
            row.customer_id = Some(claim.customer.as_uuid());
            row.via = Some(claim.via.clone());
            row.actor = Some(claim.actor.clone());
            row.claimed_at = Some(to_micros(claim.claimed_at));
            order_claim::Entity::insert(row.into_active_model().reset_all())
                .exec_without_returning(&self.tx)
                .await
                .map_err(in_ctx("insert into order_claims"))?;
        }
        Ok(true)
    }

    async fn set_claimed_points(
        &mut self,
        brand: BrandId,
        order: OrderId,
        points: Points,
    ) -> Result<(), StoreError> {
        order::Entity::update_many()
            .col_expr(order::Column::PointsEarned, Expr::value(points.value()))
            .filter(order::Column::BrandId.eq(brand.as_uuid()))
            .filter(order::Column::Id.eq(order.as_uuid()))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update orders (claimed points)"))?;
        Ok(())
    }

    async fn claim_of(
        &mut self,
        brand: BrandId,
        order: OrderId,
    ) -> Result<Option<OrderClaim>, StoreError> {
        let row = order_claim::Entity::find_by_id((brand.as_uuid(), order.as_uuid()))
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from order_claims"))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let (Some(customer), Some(claimed_at)) = (row.customer_id, row.claimed_at) else {
            return Ok(None);
        };
        Ok(Some(OrderClaim {
            order,
            customer: CustomerId::from_uuid(customer),
            via: row.via.unwrap_or_default(),
            actor: row.actor.unwrap_or_default(),
            claimed_at: from_micros(claimed_at)?,
        }))
    }

    async fn claim_days(&mut self, brand: BrandId) -> Result<Option<u32>, StoreError> {
        let days: Option<i64> = claim_setting::Entity::find_by_id(brand.as_uuid())
            .select_only()
            .column(claim_setting::Column::ClaimDays)
            .into_tuple()
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from claim_settings"))?;
        days.map(|d| u32::try_from(d).map_err(|e| corrupt("claim_settings.claim_days", e)))
            .transpose()
    }

    async fn set_claim_days(&mut self, brand: BrandId, days: u32) -> Result<(), StoreError> {
        use claim_setting::Column as C;
        let row = claim_setting::Model {
            brand_id: brand.as_uuid(),
            claim_days: i64::from(days),
            updated_at: to_micros(OffsetDateTime::now_utc()),
        };
        claim_setting::Entity::insert(row.into_active_model())
            .on_conflict(
                OnConflict::column(C::BrandId)
                    .update_columns([C::ClaimDays, C::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("upsert into claim_settings"))?;
        Ok(())
    }
}

/// The row of an order open to a claim.
pub(super) fn open_row(
    brand: BrandId,
    claimable: &ClaimableOrder,
) -> Result<order_claim::Model, StoreError> {
    Ok(order_claim::Model {
        brand_id: brand.as_uuid(),
        order_id: claimable.order.as_uuid(),
        code: claimable.code.clone(),
        location: claimable.location.clone(),
        placed_at: to_micros(claimable.placed_at),
        total_minor: to_minor(&claimable.total)?,
        currency: claimable.total.currency().code().to_owned(),
        customer_id: None,
        via: None,
        actor: None,
        claimed_at: None,
    })
}

fn claimable_of(row: order_claim::Model) -> Result<ClaimableOrder, StoreError> {
    Ok(ClaimableOrder {
        order: OrderId::from_uuid(row.order_id),
        code: row.code,
        location: row.location,
        placed_at: from_micros_opt(Some(row.placed_at))?
            .ok_or_else(|| corrupt("order_claims.placed_at", "missing"))?,
        total: money(row.total_minor, &row.currency)?,
    })
}
