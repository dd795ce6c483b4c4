//! `customer_stats`: running facts of a customer, kept current as orders arrive.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_stats")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: Uuid,
    pub visits: i64,
    pub spend_minor: i64,
    #[sea_orm(column_type = "Text")]
    pub spend_currency: String,
    pub first_visit_at: Option<i64>,
    /// The earliest order that counts in reports (not refunded in full).
    pub first_counted_at: Option<i64>,
    /// The latest order that counts in reports.
    pub last_counted_at: Option<i64>,
    /// The latest but one order that counts in reports.
    pub second_last_counted_at: Option<i64>,
    pub last_visit_at: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub tier_code: Option<String>,
    pub tier_since: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
