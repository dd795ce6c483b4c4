//! Orders, what they earned or reversed, and claiming them.

use super::{MoneyDto, json, rfc3339};
use regulars_ports::StoredOrder;
use regulars_service::{OrderReceipt, RefundReceipt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// A line of an order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LineDto {
    /// Product code.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Category.
    pub category: Option<String>,
    /// Units.
    pub quantity: u32,
    /// Price per unit.
    pub unit_price: MoneyDto,
    /// Modifiers (`sku`, `name`, `unit_price`).
    #[schema(value_type = Vec<Object>)]
    pub modifiers: Vec<Value>,
}

/// A stored order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderDto {
    /// Id.
    pub id: Uuid,
    /// Sending system, e.g. `pos:generic`.
    pub source: String,
    /// Id in that system.
    pub external_id: String,
    /// Location code.
    pub location: Option<String>,
    /// The customer, when they gave a phone.
    pub customer_id: Option<Uuid>,
    /// When it was paid.
    pub placed_at: String,
    /// Lines.
    pub lines: Vec<LineDto>,
    /// Paid total.
    pub total: MoneyDto,
    /// Points it earned.
    pub points_earned: i64,
    /// Refunded so far.
    pub refunded: MoneyDto,
    /// For an order without a customer, the code that claims it (`POST /v1/claims`);
    /// absent once it has a customer or when the brand's claims are off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_code: Option<String>,
}

impl From<&StoredOrder> for OrderDto {
    fn from(s: &StoredOrder) -> Self {
        let o = &s.order;
        OrderDto {
            id: s.id.as_uuid(),
            source: o.key.source.clone(),
            external_id: o.key.external_id.clone(),
            location: o.location.clone(),
            customer_id: s.customer_id.map(|c| c.as_uuid()),
            placed_at: rfc3339(o.placed_at),
            lines: o
                .lines
                .iter()
                .map(|l| LineDto {
                    sku: l.sku.clone(),
                    name: l.name.clone(),
                    category: l.category.clone(),
                    quantity: l.quantity,
                    unit_price: MoneyDto::from(&l.unit_price),
                    modifiers: l.modifiers.iter().map(json).collect(),
                })
                .collect(),
            total: MoneyDto::from(&o.total),
            points_earned: s.points_earned.value(),
            refunded: MoneyDto::from(&s.refunded),
            claim_code: None,
        }
    }
}

/// What an order earned.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderReceiptDto {
    /// The stored order.
    pub order_id: Uuid,
    /// The customer credited.
    pub customer_id: Option<Uuid>,
    /// Points earned.
    pub points_earned: i64,
    /// Balance after.
    pub balance: Option<i64>,
    /// Tier after.
    pub tier: Option<String>,
    /// Whether the order moved the customer up a tier.
    pub upgraded: bool,
    /// True when this delivery repeats one already counted (nothing was written).
    pub duplicate: bool,
    /// How the points were computed, line by line.
    #[schema(value_type = Vec<Object>)]
    pub explanation: Vec<Value>,
    /// For an order without a customer, the code its receipt prints so the customer can
    /// claim it later (`POST /v1/claims`); absent when the brand's claims are off.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "7KQ4MXP2RD")]
    pub claim_code: Option<String>,
}

impl From<&OrderReceipt> for OrderReceiptDto {
    fn from(r: &OrderReceipt) -> Self {
        OrderReceiptDto {
            order_id: r.order_id.as_uuid(),
            customer_id: r.customer_id.map(|c| c.as_uuid()),
            points_earned: r.points_earned.value(),
            balance: r.balance.map(|b| b.value()),
            tier: r.tier.clone(),
            upgraded: r.upgraded,
            duplicate: r.duplicate,
            explanation: r.explanation.iter().map(json).collect(),
            claim_code: r.claim_code.clone(),
        }
    }
}

/// What a refund reversed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefundReceiptDto {
    /// The order refunded.
    pub order_id: Uuid,
    /// Its customer.
    pub customer_id: Option<Uuid>,
    /// Refunded so far in all.
    pub refunded_total: MoneyDto,
    /// Whether the order is now fully refunded.
    pub fully_refunded: bool,
    /// Points taken back.
    pub points_reversed: i64,
    /// Points that could not be taken back (already spent, under the brand's `clamp`
    /// policy).
    pub points_unrecovered: i64,
    /// Points given back by voiding unused vouchers bought with them, so that the refund
    /// could take them (`void_unredeemed` policy).
    pub points_restored: i64,
    /// Vouchers this refund voided: unused vouchers the order earned (full refund) and
    /// unused vouchers bought with the points it took back.
    pub vouchers_voided: u64,
    /// Balance after; negative while the customer owes points (`debt` policy).
    pub balance: Option<i64>,
    /// True when this delivery repeats one already counted.
    pub duplicate: bool,
}

impl From<&RefundReceipt> for RefundReceiptDto {
    fn from(r: &RefundReceipt) -> Self {
        RefundReceiptDto {
            order_id: r.order_id.as_uuid(),
            customer_id: r.customer_id.map(|c| c.as_uuid()),
            refunded_total: MoneyDto::from(&r.refunded_total),
            fully_refunded: r.fully_refunded,
            points_reversed: r.points_reversed.value(),
            points_unrecovered: r.points_unrecovered.value(),
            points_restored: r.points_restored.value(),
            vouchers_voided: r.vouchers_voided,
            balance: r.balance.map(|b| b.value()),
            duplicate: r.duplicate,
        }
    }
}

/// Who claims an order stored without a customer: `customer_id` or `customer_phone`,
/// exactly one.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimIn {
    /// The code the order's receipt prints (`POST /v1/claims` only).
    #[schema(example = "7KQ4M-XP2RD")]
    pub code: Option<String>,
    /// A customer of the brand.
    pub customer_id: Option<Uuid>,
    /// A phone number (national or E.164); its customer, created if new.
    #[schema(example = "0901234567")]
    pub customer_phone: Option<String>,
}

/// How long after an order it may be claimed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimSettingsDto {
    /// Days after an order that it may be claimed, 0 to 90; 0 turns claims off.
    #[schema(example = 7, minimum = 0, maximum = 90)]
    pub claim_days: u32,
}
