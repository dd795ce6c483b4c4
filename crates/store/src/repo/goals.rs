//! [`GoalRepo`]: a brand's goals.

use crate::convert::{from_micros, to_micros};
use crate::entity::goal;
use crate::error::in_ctx;
use crate::tx::StoreTransaction;
use async_trait::async_trait;
use regulars_domain::{BrandId, GoalId, LocationId};
use regulars_ports::{Goal, GoalRepo, StoreError};
use regulars_reports::{GoalMetric, GoalPath};
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};

/// Millionths per unit of a stored value.
const SCALE: f64 = 1_000_000.0;

fn to_millionths(value: f64) -> Result<i64, StoreError> {
    let scaled = (value * SCALE).round();
    if scaled.is_finite() && scaled.abs() < 9.0e18 {
        // In range by the check above.
        #[allow(clippy::cast_possible_truncation)]
        Ok(scaled as i64)
    } else {
        Err(StoreError::Invalid(format!(
            "goal value {value} out of range"
        )))
    }
}

fn from_row(row: goal::Model) -> Result<Goal, StoreError> {
    let metric = GoalMetric::parse(&row.metric)
        .ok_or_else(|| StoreError::Corrupt(format!("goal metric {:?}", row.metric)))?;
    Ok(Goal {
        id: GoalId::from_uuid(row.id),
        brand_id: BrandId::from_uuid(row.brand_id),
        metric,
        path: GoalPath {
            start_value: row.start_millionths as f64 / SCALE,
            target_value: row.target_millionths as f64 / SCALE,
            starts_at: from_micros(row.starts_at)?,
            deadline: from_micros(row.deadline)?,
        },
        location: row.location_id.map(LocationId::from_uuid),
        created_at: from_micros(row.created_at)?,
    })
}

#[async_trait]
impl GoalRepo for StoreTransaction {
    async fn goals(&mut self, brand: BrandId) -> Result<Vec<Goal>, StoreError> {
        goal::Entity::find()
            .filter(goal::Column::BrandId.eq(brand.as_uuid()))
            .order_by_asc(goal::Column::CreatedAt)
            .order_by_asc(goal::Column::Id)
            .all(&self.tx)
            .await
            .map_err(in_ctx("select from goals"))?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn insert_goal(&mut self, g: &Goal) -> Result<(), StoreError> {
        let row = goal::Model {
            brand_id: g.brand_id.as_uuid(),
            id: g.id.as_uuid(),
            metric: g.metric.as_str().to_owned(),
            start_millionths: to_millionths(g.path.start_value)?,
            target_millionths: to_millionths(g.path.target_value)?,
            starts_at: to_micros(g.path.starts_at),
            deadline: to_micros(g.path.deadline),
            location_id: g.location.map(|l| l.as_uuid()),
            created_at: to_micros(g.created_at),
        };
        goal::Entity::insert(row.into_active_model())
            .exec_without_returning(&self.tx)
            .await
            .map_err(in_ctx("insert into goals"))?;
        Ok(())
    }

    async fn delete_goal(&mut self, brand: BrandId, id: GoalId) -> Result<bool, StoreError> {
        let done = goal::Entity::delete_many()
            .filter(goal::Column::BrandId.eq(brand.as_uuid()))
            .filter(goal::Column::Id.eq(id.as_uuid()))
            .exec(&self.tx)
            .await
            .map_err(in_ctx("delete from goals"))?;
        Ok(done.rows_affected > 0)
    }
}
