//! `do_not_call`: one listed number, as a keyed hash (the nil brand id: the deployment's).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "do_not_call")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub phone_hash: String,
    pub key_id: String,
    pub import_id: String,
    pub added_at: i64,
    pub seen_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
