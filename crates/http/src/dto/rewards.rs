//! Vouchers, catalogue rewards and redeeming them.

use super::{MoneyDto, json, rfc3339};
use regulars_loyalty::rewards::Reward;
use regulars_loyalty::vouchers::{Voucher, VoucherStatus};
use regulars_service::VoucherCheck;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// A voucher.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VoucherDto {
    /// Id.
    pub id: Uuid,
    /// The code the customer shows.
    pub code: String,
    /// The customer.
    pub customer_id: Uuid,
    /// The reward it gives.
    pub reward_id: Uuid,
    /// `issued`, `redeemed`, `expired` or `voided`.
    pub status: String,
    /// Status details (when, which order, why).
    #[schema(value_type = Object)]
    pub status_detail: Value,
    /// How it was obtained.
    #[schema(value_type = Object)]
    pub source: Value,
    /// Valid from.
    pub issued_at: String,
    /// Valid until.
    pub expires_at: String,
}

impl From<&Voucher> for VoucherDto {
    fn from(v: &Voucher) -> Self {
        let status = match v.status() {
            VoucherStatus::Issued => "issued",
            VoucherStatus::Redeemed { .. } => "redeemed",
            VoucherStatus::Expired { .. } => "expired",
            VoucherStatus::Voided { .. } => "voided",
        };
        VoucherDto {
            id: v.id().as_uuid(),
            code: v.code().to_string(),
            customer_id: v.customer().as_uuid(),
            reward_id: v.reward().as_uuid(),
            status: status.to_owned(),
            status_detail: json(v.status()),
            source: json(v.source()),
            issued_at: rfc3339(v.issued_at()),
            expires_at: rfc3339(v.expires_at()),
        }
    }
}

/// A catalogue reward. `kind` is one of `{"type": "free_item", "sku"}`,
/// `{"type": "free_modifier", "sku"}`, `{"type": "fixed_discount", "amount"}`,
/// `{"type": "percent_discount", "percent", "cap"?}`; see `docs/rules.md`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RewardDto {
    /// Id (ignored on input).
    #[serde(default)]
    pub id: Option<Uuid>,
    /// Display name: not blank, at most 100 characters.
    #[schema(pattern = r"\S", max_length = 100, example = "Free oolong milk tea")]
    pub name: String,
    /// Price in points, at least 1.
    #[schema(minimum = 1, example = 300)]
    pub cost: i64,
    /// What it gives (see `RewardKind`).
    #[schema(schema_with = crate::openapi::reward_kind_ref)]
    pub kind: Value,
    /// Whether it can be bought now.
    #[serde(default = "yes")]
    pub active: bool,
    /// Days a voucher for it stays valid, 1 to 3650.
    #[schema(minimum = 1, maximum = 3650, example = 14)]
    pub validity_days: u32,
    /// Order total needed for it to apply.
    #[serde(default)]
    pub min_order_total: Option<MoneyDto>,
}

fn yes() -> bool {
    true
}

impl From<&Reward> for RewardDto {
    fn from(r: &Reward) -> Self {
        RewardDto {
            id: Some(r.id.as_uuid()),
            name: r.name.clone(),
            cost: r.cost.value(),
            kind: json(&r.kind),
            active: r.active,
            validity_days: r.validity_days,
            min_order_total: r.min_order_total.as_ref().map(MoneyDto::from),
        }
    }
}

/// A reward to buy with points.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedemptionIn {
    /// The catalogue reward.
    pub reward_id: Uuid,
}

/// A voucher to redeem at the till.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoucherRedeemIn {
    /// The POS order it is used on, if known: not blank, at most 128 bytes.
    #[schema(pattern = r"^[A-Za-z0-9._:-]{1,64}$", example = "Q1-20260506-0042")]
    pub order_external_id: Option<String>,
    /// The POS that sends the order (default `pos:generic`): not blank, at most 128 bytes.
    #[schema(pattern = r"^pos:[a-z]{1,20}$", example = "pos:generic")]
    pub order_source: Option<String>,
    /// The location of the till it is redeemed at (one of the brand's location ids): the
    /// redemption counts there in the reports by location. Without it, the order's
    /// location when that order has reached the server.
    pub location_id: Option<String>,
}

/// Whether a voucher can be used now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VoucherCheckDto {
    /// The voucher.
    pub voucher: VoucherDto,
    /// Its reward, if still in the catalogue.
    pub reward: Option<RewardDto>,
    /// Whether it can be redeemed now.
    pub redeemable: bool,
    /// Why not, when not.
    pub refusal: Option<String>,
}

impl From<&VoucherCheck> for VoucherCheckDto {
    fn from(c: &VoucherCheck) -> Self {
        VoucherCheckDto {
            voucher: VoucherDto::from(&c.voucher),
            reward: c.reward.as_ref().map(RewardDto::from),
            redeemable: c.redeemable,
            refusal: c.refusal.as_ref().map(ToString::to_string),
        }
    }
}
