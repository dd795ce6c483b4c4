//! `access_log`: who read which customers' personal data, when and what of it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub at: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub key_id: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub channel: String,
    #[sea_orm(column_type = "Text")]
    pub route: String,
    /// Comma-separated parts of the data (`profile`, `contact`, …).
    #[sea_orm(column_type = "Text")]
    pub fields: String,
    /// Comma-separated customer ids.
    #[sea_orm(column_type = "Text")]
    pub customers: String,
    /// The staff member, for a till's reads and actions.
    pub staff_id: Option<Uuid>,
    /// The till's location.
    pub location_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
