//! `api_keys`: hashed API keys; `prefix` is unique within a brand (random across brands).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub prefix: String,
    #[sea_orm(column_type = "Text")]
    pub secret_hash: String,
    #[sea_orm(column_type = "Text")]
    pub role: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub label: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// The generation of the key's dashboard sessions, bumped at sign-out.
    pub session_epoch: i64,
    /// A manager key's locations, a JSON array of ids; null for other roles.
    #[sea_orm(column_type = "Text", nullable)]
    pub locations: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
