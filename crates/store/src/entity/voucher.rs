//! `vouchers`: one row per voucher; the status lives in columns so that redemption is one
//! conditional `UPDATE`, and the voucher is rebuilt from the columns when read.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vouchers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub code: String,
    pub customer_id: Uuid,
    pub reward_id: Uuid,
    /// `issued`, `redeemed`, `expired` or `voided`.
    #[sea_orm(column_type = "Text")]
    pub status: String,
    pub issued_at: i64,
    pub expires_at: i64,
    /// The voucher's source (redemption, campaign, manual) as JSON.
    #[sea_orm(column_type = "Text")]
    pub source: String,
    pub campaign_id: Option<Uuid>,
    pub issued_by_order_id: Option<Uuid>,
    pub redeemed_at: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub redeemed_order_source: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub redeemed_order_external_id: Option<String>,
    /// The code of the location it was redeemed at: the one the till named, else the
    /// redeeming order's when that order had reached the server.
    #[sea_orm(column_type = "Text", nullable)]
    pub redeemed_location: Option<String>,
    pub voided_at: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub void_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
