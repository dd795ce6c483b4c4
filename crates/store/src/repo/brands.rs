//! [`BrandRepo`]: brands, their loyalty programmes and reward catalogues.

use super::config;
use crate::convert::{currency, from_json, from_micros, from_name, to_json, to_micros, to_name};
use crate::entity::{brand, program, reward};
use crate::error::{corrupt, in_ctx};
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{BrandId, CallingCode, RewardId};
use regulars_loyalty::rewards::Reward;
use regulars_ports::{Brand, BrandConfig, BrandRepo, LoyaltyProgram, StoreError};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};
use time::UtcOffset;

/// Moves the brand's config version up: its programme (or its stamp cards) changed.
pub(super) async fn bump_config_version(
    tx: &StoreTransaction,
    brand: BrandId,
) -> Result<(), StoreError> {
    use brand::Column as C;
    brand::Entity::update_many()
        .col_expr(C::ConfigVersion, Expr::col(C::ConfigVersion).add(1))
        .filter(C::Id.eq(brand.as_uuid()))
        .exec(&tx.tx)
        .await
        .map_err(in_ctx("update brands config_version"))?;
    Ok(())
}

#[async_trait]
impl BrandRepo for StoreTransaction {
    async fn insert_brand(&mut self, brand: &Brand) -> Result<(), StoreError> {
        let row = brand::Model {
            id: brand.id.as_uuid(),
            name: brand.name.clone(),
            currency: brand.currency.code().to_owned(),
            calling_code: i32::from(brand.calling_code.0),
            utc_offset_seconds: brand.utc_offset.whole_seconds(),
            refund_policy: to_name("refund policy", &brand.refund_policy)?,
            points_validity_days: brand.points_validity_days.map(i64::from),
            created_at: to_micros(brand.created_at),
            config_version: 0,
        };
        brand::Entity::insert(row.into_active_model().reset_all())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("insert into brands"))?;
        Ok(())
    }

    async fn brand(&mut self, brand: BrandId) -> Result<Option<Brand>, StoreError> {
        brand::Entity::find_by_id(brand.as_uuid())
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from brands"))?
            .map(brand_from_row)
            .transpose()
    }

    async fn update_brand(&mut self, brand: &Brand) -> Result<(), StoreError> {
        use brand::Column as C;
        let updated = brand::Entity::update_many()
            .col_expr(C::Name, Expr::value(brand.name.clone()))
            .col_expr(C::CallingCode, Expr::value(i32::from(brand.calling_code.0)))
            .col_expr(
                C::UtcOffsetSeconds,
                Expr::value(brand.utc_offset.whole_seconds()),
            )
            .col_expr(
                C::RefundPolicy,
                Expr::value(to_name("refund policy", &brand.refund_policy)?),
            )
            .col_expr(
                C::PointsValidityDays,
                Expr::value(brand.points_validity_days.map(i64::from)),
            )
            .col_expr(C::ConfigVersion, Expr::col(C::ConfigVersion).add(1))
            .filter(C::Id.eq(brand.id.as_uuid()))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("update brands"))?;
        if updated.rows_affected == 0 {
            return Err(StoreError::NotFound(format!("brand {}", brand.id)));
        }
        Ok(())
    }

    async fn brand_ids(&mut self) -> Result<Vec<BrandId>, StoreError> {
        let ids: Vec<uuid::Uuid> = brand::Entity::find()
            .select_only()
            .column(brand::Column::Id)
            .order_by_asc(brand::Column::Id)
            .into_tuple()
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from brands"))?;
        Ok(ids.into_iter().map(BrandId::from_uuid).collect())
    }

    async fn program(&mut self, brand: BrandId) -> Result<Option<LoyaltyProgram>, StoreError> {
        let Some(row) = program::Entity::find_by_id(brand.as_uuid())
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from programs"))?
        else {
            return Ok(None);
        };
        program_from_columns(&row.earning_rules, row.tiers.as_deref()).map(Some)
    }

    async fn save_program(
        &mut self,
        brand: BrandId,
        program: &LoyaltyProgram,
    ) -> Result<(), StoreError> {
        let row = program::Model {
            brand_id: brand.as_uuid(),
            earning_rules: to_json("earning rules", &program.earning_rules)?,
            tiers: program
                .tiers
                .as_ref()
                .map(|tiers| to_json("tier programme", tiers))
                .transpose()?,
        };
        program::Entity::insert(row.into_active_model().reset_all())
            .on_conflict(
                OnConflict::column(program::Column::BrandId)
                    .update_columns([program::Column::EarningRules, program::Column::Tiers])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("upsert into programs"))?;
        bump_config_version(self, brand).await
    }

    async fn brand_config(&mut self, brand: BrandId) -> Result<Option<BrandConfig>, StoreError> {
        config::brand_config(self, brand).await
    }

    async fn save_reward(&mut self, brand: BrandId, reward: &Reward) -> Result<(), StoreError> {
        let row = reward::Model {
            brand_id: brand.as_uuid(),
            id: reward.id.as_uuid(),
            name: reward.name.clone(),
            cost: reward.cost.value(),
            active: reward.active,
            reward: to_json("reward", reward)?,
        };
        reward::Entity::insert(row.into_active_model().reset_all())
            .on_conflict(
                OnConflict::columns([reward::Column::BrandId, reward::Column::Id])
                    .update_columns([
                        reward::Column::Name,
                        reward::Column::Cost,
                        reward::Column::Active,
                        reward::Column::Reward,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("upsert into rewards"))?;
        Ok(())
    }

    async fn reward(&mut self, brand: BrandId, id: RewardId) -> Result<Option<Reward>, StoreError> {
        reward::Entity::find_by_id((brand.as_uuid(), id.as_uuid()))
            .one(&self.tx)
            .await
            .map_err(in_ctx("select from rewards"))?
            .map(|row| from_json("rewards.reward", &row.reward))
            .transpose()
    }

    /// The catalogue ordered by name (then id), as a till shows it.
    async fn rewards(&mut self, brand: BrandId) -> Result<Vec<Reward>, StoreError> {
        reward::Entity::find()
            .filter(reward::Column::BrandId.eq(brand.as_uuid()))
            .order_by_asc(reward::Column::Name)
            .order_by_asc(reward::Column::Id)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from rewards"))?
            .iter()
            .map(|row| from_json("rewards.reward", &row.reward))
            .collect()
    }
}

/// A programme from its stored columns.
pub(super) fn program_from_columns(
    earning_rules: &str,
    tiers: Option<&str>,
) -> Result<LoyaltyProgram, StoreError> {
    Ok(LoyaltyProgram {
        earning_rules: from_json("programs.earning_rules", earning_rules)?,
        tiers: tiers
            .map(|text| from_json("programs.tiers", text))
            .transpose()?,
    })
}

pub(super) fn brand_from_row(row: brand::Model) -> Result<Brand, StoreError> {
    Ok(Brand {
        id: BrandId::from_uuid(row.id),
        name: row.name,
        currency: currency(&row.currency)?,
        calling_code: CallingCode(
            u16::try_from(row.calling_code).map_err(|e| corrupt("brands.calling_code", e))?,
        ),
        utc_offset: UtcOffset::from_whole_seconds(row.utc_offset_seconds)
            .map_err(|e| corrupt("brands.utc_offset_seconds", e))?,
        refund_policy: from_name("brands.refund_policy", &row.refund_policy)?,
        points_validity_days: row
            .points_validity_days
            .map(u32::try_from)
            .transpose()
            .map_err(|e| corrupt("brands.points_validity_days", e))?,
        created_at: from_micros(row.created_at)?,
    })
}
