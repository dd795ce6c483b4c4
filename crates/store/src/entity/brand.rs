//! `brands`: one row per tenant.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "brands")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub currency: String,
    pub calling_code: i32,
    pub utc_offset_seconds: i32,
    #[sea_orm(column_type = "Text")]
    pub refund_policy: String,
    pub points_validity_days: Option<i64>,
    pub created_at: i64,
    /// Moved up by every change to the row or the brand's programme.
    pub config_version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
