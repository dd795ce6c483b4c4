//! `segment_send_times`: each RFM segment's learned send-time pattern.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "segment_send_times")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub segment: String,
    pub golden_hour: Option<i16>,
    pub golden_weekday: Option<i16>,
    pub members: i64,
    pub own_pattern: bool,
    #[sea_orm(column_type = "Text")]
    pub hours: String,
    pub scored_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
