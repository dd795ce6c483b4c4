//! `customers`: profile and consent; the phone is unique within a brand. Phone, email
//! and Zalo id are sealed at rest (see `contact`), the phone found by its blind index.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub phone: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub name: Option<String>,
    /// `YYYY-MM-DD`.
    #[sea_orm(column_type = "Text", nullable)]
    pub birthday: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub email: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub zalo_user_id: Option<String>,
    pub consent_zalo: bool,
    pub consent_sms: bool,
    pub consent_email: bool,
    /// `never_asked`, `granted` or `withdrawn`; the booleans above say `granted`.
    #[sea_orm(column_type = "Text")]
    pub consent_state_zalo: String,
    #[sea_orm(column_type = "Text")]
    pub consent_state_sms: String,
    #[sea_orm(column_type = "Text")]
    pub consent_state_email: String,
    #[sea_orm(column_type = "Text")]
    pub consent_state_profiling: String,
    #[sea_orm(column_type = "Text")]
    pub consent_state_programme: String,
    pub created_at: i64,
    /// When the customer was erased (de-identified); `None` while they are a customer.
    pub erased_at: Option<i64>,
    /// Blind index of the phone (see `contact`); empty on rows not sealed yet.
    #[sea_orm(column_type = "Text", nullable)]
    pub phone_index: Option<String>,
    /// Blind index of the Zalo user id, as `phone_index`; empty without a Zalo id or on
    /// rows not sealed yet.
    #[sea_orm(column_type = "Text", nullable)]
    pub zalo_index: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
