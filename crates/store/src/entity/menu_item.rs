//! `menu_items`: one item of a brand's menu.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "menu_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub sku: String,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub category: Option<String>,
    pub price_minor: i64,
    #[sea_orm(column_type = "Text")]
    pub currency: String,
    pub active: bool,
    pub sort_order: Option<i32>,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
