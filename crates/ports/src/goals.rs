//! Storage of the owner's goals: targets for the programme's figures, each on a straight
//! path from its start value to its target by its deadline.

use crate::StoreError;
use async_trait::async_trait;
use regulars_domain::{BrandId, GoalId, LocationId};
use regulars_reports::{GoalMetric, GoalPath};
use time::OffsetDateTime;

/// A goal of a brand.
#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    /// Its id.
    pub id: GoalId,
    /// The brand.
    pub brand_id: BrandId,
    /// The figure it is set on.
    pub metric: GoalMetric,
    /// From where to where, by when.
    pub path: GoalPath,
    /// The location whose figure it is; `None`: the whole brand's.
    pub location: Option<LocationId>,
    /// When it was set.
    pub created_at: OffsetDateTime,
}

/// A brand's goals, keyed by `(brand, id)`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait GoalRepo: Send {
    /// The brand's goals, oldest first.
    async fn goals(&mut self, brand: BrandId) -> Result<Vec<Goal>, StoreError>;
    /// Stores a new goal.
    async fn insert_goal(&mut self, goal: &Goal) -> Result<(), StoreError>;
    /// Removes a goal; false when the brand has none with that id.
    async fn delete_goal(&mut self, brand: BrandId, id: GoalId) -> Result<bool, StoreError>;
}
