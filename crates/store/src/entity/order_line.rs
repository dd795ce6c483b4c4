//! `order_lines`: the lines of an order, numbered from 1 in the order the POS sent them.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub line_no: i32,
    #[sea_orm(column_type = "Text")]
    pub sku: String,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub category: Option<String>,
    pub quantity: i64,
    pub unit_price_minor: i64,
    #[sea_orm(column_type = "Text")]
    pub currency: String,
    /// JSON array of modifiers, each with its own price.
    #[sea_orm(column_type = "Text")]
    pub modifiers: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
