//! Customers, and a customer as the till sees them.

use super::consent::ConsentDto;
use super::rewards::{RewardDto, VoucherDto};
use super::segments::ScoresDto;
use super::{MoneyDto, json, rfc3339};
use regulars_domain::Customer;
use regulars_service::CustomerView;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// A customer to register.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerIn {
    /// Phone in any common form (`0912345678`, `84912345678`, `+84912345678`); a
    /// national number is read with the brand's calling code. Documented here in the
    /// Vietnamese national form.
    #[schema(example = "0912345678", pattern = "^0[35789][0-9]{8}$")]
    pub phone: String,
    /// Name: not blank, at most 200 bytes, no control characters (documented up to 40
    /// characters).
    #[schema(pattern = r"^[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]{0,39}$")]
    pub name: Option<String>,
    /// Birthday, `YYYY-MM-DD`.
    #[schema(format = Date, example = "1996-04-30")]
    pub birthday: Option<String>,
    /// Email: `local@domain.tld`, no spaces, at most 254 bytes.
    #[schema(
        pattern = r"^[a-z0-9._-]{1,30}@[a-z0-9-]{1,30}\.[a-z]{2,10}$",
        example = "lan@example.com"
    )]
    pub email: Option<String>,
    /// Zalo follower id: not blank, at most 64 bytes, no control characters.
    #[schema(pattern = r"^[0-9A-Za-z_-]{1,64}$")]
    pub zalo_user_id: Option<String>,
    /// Consent per channel (all false when absent).
    #[serde(default)]
    pub consent: ConsentDto,
}

/// A customer's whole profile, to replace the stored one (the phone stays). Every field
/// is required; `null` clears it. To change some fields only, use `PATCH`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerUpdate {
    /// Name: not blank, at most 200 bytes, no control characters (documented up to 40
    /// characters).
    #[schema(
        required = true,
        pattern = r"^[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]{0,39}$"
    )]
    pub name: Option<String>,
    /// Birthday, `YYYY-MM-DD`.
    #[schema(required = true, format = Date, example = "1996-04-30")]
    pub birthday: Option<String>,
    /// Email: `local@domain.tld`, no spaces, at most 254 bytes.
    #[schema(
        required = true,
        pattern = r"^[a-z0-9._-]{1,30}@[a-z0-9-]{1,30}\.[a-z]{2,10}$",
        example = "lan@example.com"
    )]
    pub email: Option<String>,
    /// Zalo follower id: not blank, at most 64 bytes, no control characters.
    #[schema(required = true, pattern = r"^[0-9A-Za-z_-]{1,64}$")]
    pub zalo_user_id: Option<String>,
    /// Consent per channel.
    pub consent: ConsentDto,
}

impl CustomerUpdate {
    /// The fields every whole profile names.
    pub const FIELDS: [&'static str; 5] = ["name", "birthday", "email", "zalo_user_id", "consent"];
}

/// A customer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerDto {
    /// Id.
    pub id: Uuid,
    /// Phone, E.164.
    pub phone: String,
    /// Name.
    pub name: Option<String>,
    /// Birthday.
    pub birthday: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Zalo follower id.
    pub zalo_user_id: Option<String>,
    /// Consent per channel.
    pub consent: ConsentDto,
    /// When they were first seen.
    pub created_at: String,
}

impl From<&Customer> for CustomerDto {
    fn from(c: &Customer) -> Self {
        CustomerDto {
            id: c.id.as_uuid(),
            phone: c.phone.as_str().to_owned(),
            name: c.name.clone(),
            birthday: c.birthday.map(|d| d.to_string()),
            email: c.email.clone(),
            zalo_user_id: c.zalo_user_id.clone(),
            consent: ConsentDto::from(&c.consent),
            created_at: rfc3339(c.created_at),
        }
    }
}

/// A customer as the till sees them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProfileDto {
    /// The profile.
    pub customer: CustomerDto,
    /// Points spendable now.
    pub balance: i64,
    /// Visits counted.
    pub visits: u64,
    /// Net spend.
    pub spend: MoneyDto,
    /// First visit.
    pub first_visit_at: Option<String>,
    /// Last visit.
    pub last_visit_at: Option<String>,
    /// Tier held.
    pub tier: Option<String>,
    /// Progress to the next tier, when known exactly.
    #[schema(value_type = Option<Object>)]
    pub tier_progress: Option<Value>,
    /// Vouchers usable now.
    pub vouchers: Vec<VoucherDto>,
    /// Rewards the balance can buy now.
    pub redeemable_rewards: Vec<RewardDto>,
    /// What the last scoring run concluded (P(alive), CLV, next visit, segments, ...);
    /// absent until the customer is scored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scores: Option<ScoresDto>,
    /// Progress on each of the brand's stamp cards ("7 of 10").
    pub stamps: Vec<StampProgressDto>,
}

/// A customer's progress on one stamp card.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StampProgressDto {
    /// The card's code.
    pub code: String,
    /// The card's name.
    pub name: String,
    /// Stamps on the current card now.
    pub stamps: u32,
    /// Stamps that fill the card.
    pub needed: u32,
    /// Cards completed (each gave a voucher) and not undone by a refund.
    pub completed: u32,
    /// When the current card's stamps expire, if they do.
    pub expires_at: Option<String>,
}

impl From<&regulars_service::StampProgress> for StampProgressDto {
    fn from(p: &regulars_service::StampProgress) -> Self {
        StampProgressDto {
            code: p.code.clone(),
            name: p.name.clone(),
            stamps: p.stamps,
            needed: p.needed,
            completed: p.completed,
            expires_at: p.expires_at.map(rfc3339),
        }
    }
}

impl From<&CustomerView> for ProfileDto {
    fn from(v: &CustomerView) -> Self {
        ProfileDto {
            customer: CustomerDto::from(&v.customer),
            balance: v.balance.value(),
            visits: v.stats.visits,
            spend: MoneyDto::from(&v.stats.spend),
            first_visit_at: v.stats.first_visit_at.map(rfc3339),
            last_visit_at: v.stats.last_visit_at.map(rfc3339),
            tier: v.tier.as_ref().map(|t| t.code.clone()),
            tier_progress: v.tier_progress.as_ref().map(json),
            vouchers: v.vouchers.iter().map(VoucherDto::from).collect(),
            redeemable_rewards: v.redeemable_rewards.iter().map(RewardDto::from).collect(),
            scores: None,
            stamps: v.stamps.iter().map(StampProgressDto::from).collect(),
        }
    }
}
