//! The API's JSON shapes. Only this crate knows them; they are built from the use
//! cases' results and documented in the OpenAPI document.
//!
//! Money is `{"amount": "45000", "currency": "VND"}` with the amount a decimal string;
//! points are integers; times are RFC 3339 in UTC; ids are UUIDs.

use regulars_domain::{Customer, Money};
use regulars_loyalty::ledger::LedgerEntry;
use regulars_loyalty::rewards::Reward;
use regulars_loyalty::vouchers::{Voucher, VoucherStatus};
use regulars_ports::{Brand, Location, StoredOrder};
use regulars_service::{
    AdjustmentReceipt, ApiKeyInfo, CustomerView, IntegrationInfo, OrderReceipt, RefundReceipt,
    VoucherCheck,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

fn json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A unit-variant enum's serde name, e.g. `"void_unredeemed"`.
fn name_of<T: Serialize>(value: &T) -> String {
    match json(value) {
        Value::String(name) => name,
        other => other.to_string(),
    }
}

/// An amount of money.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MoneyDto {
    /// Decimal amount in major units, e.g. `"45000"` (VND) or `"4.50"` (USD).
    #[schema(example = "45000")]
    pub amount: String,
    /// ISO 4217 code.
    #[schema(example = "VND")]
    pub currency: String,
}

impl From<&Money> for MoneyDto {
    fn from(money: &Money) -> Self {
        MoneyDto {
            amount: money.amount().to_string(),
            currency: money.currency().code().to_owned(),
        }
    }
}

/// A brand's settings.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BrandDto {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// The country calling code national phone numbers are read with.
    pub calling_code: u16,
    /// UTC offset in seconds (Vietnam: 25200).
    pub utc_offset_seconds: i32,
    /// Days points stay valid, if they expire.
    pub points_validity_days: Option<u32>,
    /// What a refund does with points the customer already spent: `debt` (the balance
    /// goes negative; later earnings repay it first), `void_unredeemed` (unused vouchers
    /// bought with points are voided first, newest first, then debt) or `clamp` (the
    /// spent points are recorded as unrecovered and the customer keeps them).
    #[schema(example = "debt")]
    pub refund_overdraw: String,
    /// When it was created.
    pub created_at: String,
}

/// The values `refund_overdraw` takes.
pub const REFUND_OVERDRAW_VALUES: &str = "debt, void_unredeemed or clamp";

/// A JSON merge patch (RFC 7396) of the brand's settings: a field given replaces that
/// setting, a field left out keeps it. Settings that cannot be removed refuse `null`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BrandPatchIn {
    /// `debt`, `void_unredeemed` or `clamp`: what a refund does with points already spent.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, pattern = "^(debt|void_unredeemed|clamp)$", example = "void_unredeemed")]
    pub refund_overdraw: Option<Value>,
}

/// A field that is present, `null` included (merge-patch "remove"), as `Some`; a
/// missing field stays `None` through `#[serde(default)]`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl From<&Brand> for BrandDto {
    fn from(brand: &Brand) -> Self {
        BrandDto {
            id: brand.id.as_uuid(),
            name: brand.name.clone(),
            currency: brand.currency.code().to_owned(),
            calling_code: brand.calling_code.0,
            utc_offset_seconds: brand.utc_offset.whole_seconds(),
            points_validity_days: brand.points_validity_days,
            refund_overdraw: name_of(&brand.refund_policy),
            created_at: rfc3339(brand.created_at),
        }
    }
}

/// A location to create or replace.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationIn {
    /// The code POS orders carry, e.g. `"q1"`: 1 to 64 of `a-z A-Z 0-9 - _ .`.
    #[schema(example = "q1", pattern = r"^[A-Za-z0-9._-]{1,64}$")]
    pub code: String,
    /// Display name: not blank, at most 200 bytes, no control characters (documented up
    /// to 40 characters).
    #[schema(
        example = "Quận 1",
        pattern = r"^[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]{0,39}$"
    )]
    pub name: String,
    /// Its own UTC offset in seconds (within ±25:59:59), when it differs from the brand's.
    #[schema(minimum = -93599, maximum = 93599, example = 25200)]
    pub utc_offset_seconds: Option<i32>,
}

/// A location.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LocationDto {
    /// Its id.
    pub id: Uuid,
    /// The code POS orders carry.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Its own UTC offset in seconds, if any.
    pub utc_offset_seconds: Option<i32>,
    /// When it was created.
    pub created_at: String,
}

impl From<&Location> for LocationDto {
    fn from(l: &Location) -> Self {
        LocationDto {
            id: l.id.as_uuid(),
            code: l.code.clone(),
            name: l.name.clone(),
            utc_offset_seconds: l.utc_offset.map(|o| o.whole_seconds()),
            created_at: rfc3339(l.created_at),
        }
    }
}

/// A key to create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyIn {
    /// `admin`, `pos`, `viewer` or `manager`.
    #[schema(example = "pos", pattern = "^(admin|pos|viewer|manager)$")]
    pub role: String,
    /// A note for people: at most 200 bytes, no control characters (documented up to 50
    /// characters).
    #[schema(pattern = r"^[^\x00-\x1f\x7f-\x9f]*$", max_length = 50)]
    pub label: Option<String>,
    /// The location ids a `manager` key covers: required (1 to 100) for a manager,
    /// refused for every other role.
    #[serde(default)]
    pub locations: Option<Vec<String>>,
}

/// An API key (never its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyDto {
    /// Its id.
    pub id: Uuid,
    /// The public prefix.
    pub prefix: String,
    /// `admin`, `pos`, `viewer` or `manager`.
    pub role: String,
    /// A note for people.
    pub label: Option<String>,
    /// When it was made.
    pub created_at: String,
    /// When it was revoked.
    pub revoked_at: Option<String>,
    /// The location ids a manager key covers; empty for other roles.
    pub locations: Vec<Uuid>,
}

impl From<&ApiKeyInfo> for KeyDto {
    fn from(k: &ApiKeyInfo) -> Self {
        KeyDto {
            id: k.id.as_uuid(),
            prefix: k.prefix.clone(),
            role: k.role.as_str().to_owned(),
            label: k.label.clone(),
            created_at: rfc3339(k.created_at),
            revoked_at: k.revoked_at.map(rfc3339),
            locations: k.locations.iter().map(|l| l.as_uuid()).collect(),
        }
    }
}

/// A key just made, with its secret token: shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedKeyDto {
    /// The key.
    pub key: KeyDto,
    /// The full key for `Authorization: Bearer …`. Not retrievable later.
    pub token: String,
}

/// An integration to create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationIn {
    /// `generic`, `kiotviet`, `kiotviet_fnb` or `square`.
    #[schema(
        example = "generic",
        pattern = "^(generic|kiotviet|kiotviet_fnb|square)$"
    )]
    pub kind: String,
    /// A note for people: at most 200 bytes, no control characters (documented up to 50
    /// characters).
    #[schema(pattern = r"^[^\x00-\x1f\x7f-\x9f]*$", max_length = 50)]
    pub label: Option<String>,
    /// The webhook secret, when the POS lets the brand choose it; drawn when absent.
    /// 16 to 256 printable ASCII characters.
    #[schema(pattern = r"^[!-~]{16,256}$")]
    pub secret: Option<String>,
    /// The POS's own API credentials, kept sealed and never shown again (see
    /// docs/pos.md): `{"kind": "square", "access_token", "notification_url"}` (required
    /// for `square`) or `{"kind": "kiotviet", "retailer", "client_id", "client_secret"}`
    /// (required for `kiotviet_fnb`, whose invoices are polled with them).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub api_access: Option<regulars_ports::PosApiAccess>,
}

/// New POS API credentials for an integration (`null` removes them).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationAccessIn {
    /// As in [`IntegrationIn::api_access`].
    #[schema(value_type = Option<Object>)]
    pub api_access: Option<regulars_ports::PosApiAccess>,
}

/// A POS integration (never its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IntegrationDto {
    /// Its id.
    pub id: Uuid,
    /// `generic` or `kiotviet`.
    pub kind: String,
    /// A note for people.
    pub label: Option<String>,
    /// Where the POS posts its webhooks (path; prefix it with the server's URL).
    pub webhook_path: String,
    /// Whether it holds credentials for the POS's own API.
    pub api_access: bool,
    /// When it was made.
    pub created_at: String,
    /// When it was revoked.
    pub revoked_at: Option<String>,
    /// For an integration whose invoices are polled (`kiotviet_fnb`): where polling
    /// stands; `null` for other kinds and before the first poll.
    pub poll: Option<PollStatusDto>,
}

impl From<&IntegrationInfo> for IntegrationDto {
    fn from(i: &IntegrationInfo) -> Self {
        IntegrationDto {
            id: i.id.as_uuid(),
            kind: i.kind.as_str().to_owned(),
            label: i.label.clone(),
            webhook_path: format!("/webhooks/{}", i.id),
            api_access: i.api_access,
            created_at: rfc3339(i.created_at),
            revoked_at: i.revoked_at.map(rfc3339),
            poll: None,
        }
    }
}

/// Where polling an integration's invoice list stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PollStatusDto {
    /// `active`, `backing_off` (after an error, until `retry_at`) or `disabled` (the POS
    /// refused the credentials: give new ones with `PUT /v1/integrations/{id}/access`).
    #[schema(pattern = "^(active|backing_off|disabled)$")]
    pub status: String,
    /// Every invoice the POS changed up to this time was counted.
    pub cursor: Option<String>,
    /// When a poll last finished.
    pub polled_at: Option<String>,
    /// Failed polls in a row.
    pub failures: u32,
    /// No poll before this time.
    pub retry_at: Option<String>,
    /// The last error (or why polling is disabled).
    pub last_error: Option<String>,
}

impl From<&regulars_ports::PollCursor> for PollStatusDto {
    fn from(c: &regulars_ports::PollCursor) -> Self {
        let status = if c.disabled.is_some() {
            "disabled"
        } else if c.retry_at.is_some() {
            "backing_off"
        } else {
            "active"
        };
        PollStatusDto {
            status: status.to_owned(),
            cursor: c.cursor.map(rfc3339),
            polled_at: c.polled_at.map(rfc3339),
            failures: c.failures,
            retry_at: c.retry_at.map(rfc3339),
            last_error: c.disabled.clone().or_else(|| c.last_error.clone()),
        }
    }
}

/// An integration just made, with its webhook secret: shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedIntegrationDto {
    /// The integration.
    pub integration: IntegrationDto,
    /// The secret the POS signs webhooks with.
    pub secret: String,
}

/// Consent per purpose: promotional messages per channel, and optionally profiling and
/// the programme itself. In a request, `true` grants and `false` withdraws consent that
/// was given (a purpose never asked stays so); `profiling` and `programme` left out keep
/// their state. In a response each says whether consent is granted now.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentDto {
    /// Promotional Zalo messages.
    #[serde(default)]
    pub zalo: bool,
    /// Promotional SMS.
    #[serde(default)]
    pub sms: bool,
    /// Promotional email.
    #[serde(default)]
    pub email: bool,
    /// Personalised offers and segment-targeted campaigns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profiling: Option<bool>,
    /// The loyalty programme itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub programme: Option<bool>,
    /// Request only: the version of the brand's processing notice the customer was shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub notice_version: Option<u32>,
    /// Request only: where the answers were given when not through this key itself
    /// (`till`, `signup`, `import`, `api`, `pos`, `admin`, `dashboard`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "signup")]
    pub source: Option<String>,
}

impl From<&regulars_domain::ChannelConsent> for ConsentDto {
    fn from(c: &regulars_domain::ChannelConsent) -> Self {
        ConsentDto {
            zalo: c.zalo.granted(),
            sms: c.sms.granted(),
            email: c.email.granted(),
            profiling: Some(c.profiling.granted()),
            programme: Some(c.programme.granted()),
            notice_version: None,
            source: None,
        }
    }
}

/// The state of each purpose: `never_asked`, `granted` or `withdrawn`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsentStatesDto {
    /// The loyalty programme itself.
    pub programme: String,
    /// Promotional Zalo messages.
    pub marketing_zalo: String,
    /// Promotional SMS.
    pub marketing_sms: String,
    /// Promotional email.
    pub marketing_email: String,
    /// Personalised offers and segment targeting.
    pub profiling: String,
}

/// One change of consent to one purpose.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsentEventDto {
    /// `programme`, `marketing_zalo`, `marketing_sms`, `marketing_email` or `profiling`.
    pub purpose: String,
    /// The state it left: `never_asked`, `granted` or `withdrawn`.
    pub state: String,
    /// When.
    pub at: String,
    /// Where it came from: `till`, `signup`, `import`, `api`, `pos`, `admin`,
    /// `dashboard`, `unsubscribe_link`, `provider_keyword` or `legacy`.
    pub source: String,
    /// Who recorded it.
    pub actor: String,
    /// The notice version shown, if known.
    pub notice_version: Option<u32>,
}

/// A customer's consent now and how it came to be.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsentHistoryDto {
    /// The state of each purpose now.
    pub current: ConsentStatesDto,
    /// Every change, oldest first.
    pub history: Vec<ConsentEventDto>,
}

impl ConsentHistoryDto {
    /// The customer's consent and its history.
    pub fn new(
        c: &regulars_domain::ChannelConsent,
        history: &[regulars_domain::ConsentEvent],
    ) -> ConsentHistoryDto {
        let state = |s: regulars_domain::ConsentState| s.as_str().to_owned();
        ConsentHistoryDto {
            current: ConsentStatesDto {
                programme: state(c.programme),
                marketing_zalo: state(c.zalo),
                marketing_sms: state(c.sms),
                marketing_email: state(c.email),
                profiling: state(c.profiling),
            },
            history: history
                .iter()
                .map(|e| ConsentEventDto {
                    purpose: e.purpose.as_str().to_owned(),
                    state: e.state.as_str().to_owned(),
                    at: rfc3339(e.at),
                    source: e.source.as_str().to_owned(),
                    actor: e.actor.clone(),
                    notice_version: e.notice_version,
                })
                .collect(),
        }
    }
}

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

/// One ledger entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LedgerEntryDto {
    /// Position in the customer's ledger, from 0.
    pub seq: u64,
    /// When it was recorded.
    pub at: String,
    /// Points added (positive) or taken (negative).
    pub amount: i64,
    /// What it was (`earn`, `redeem`, `expire`, `reverse`, `adjust`) and its details.
    #[schema(value_type = Object)]
    pub kind: Value,
}

impl From<&LedgerEntry> for LedgerEntryDto {
    fn from(e: &LedgerEntry) -> Self {
        LedgerEntryDto {
            seq: e.seq,
            at: rfc3339(e.at),
            amount: e.amount.value(),
            kind: json(&e.kind),
        }
    }
}

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

/// A manual points adjustment.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentIn {
    /// Points to add (positive) or take (negative); not zero.
    #[schema(minimum = -1_000_000_000, maximum = 1_000_000_000, example = 50)]
    pub points: i64,
    /// Why, for the audit trail (required, not blank).
    #[schema(pattern = r"\S", example = "Goodwill: late order")]
    pub reason: String,
}

/// The result of an adjustment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdjustmentDto {
    /// The customer.
    pub customer_id: Uuid,
    /// Points added or taken.
    pub delta: i64,
    /// Points that expired on the way.
    pub expired: i64,
    /// Balance after.
    pub balance: i64,
}

impl From<&AdjustmentReceipt> for AdjustmentDto {
    fn from(r: &AdjustmentReceipt) -> Self {
        AdjustmentDto {
            customer_id: r.customer_id.as_uuid(),
            delta: r.delta.value(),
            expired: r.expired.value(),
            balance: r.balance.value(),
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

/// What became of one event of a webhook delivery.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookEventAck {
    /// The sender's event id.
    pub event_id: String,
    /// `counted`, `duplicate` (the order or refund was counted before under another
    /// event id), `replayed` (this event id was received before; nothing changed) or,
    /// for KiotViet only: `skipped` (the invoice cannot be counted, e.g. the
    /// cancellation of an order never received; the delivery's other invoices are),
    /// `waiting` (an order of a KiotViet customer whose phone is not known yet: kept
    /// until a `customer.update` gives it), `dropped` (the cancellation of such an
    /// order) or `linked` (a `customer.update`: the customer's code is linked to its
    /// phone, and the orders that waited for it are in `credited`).
    pub outcome: String,
    /// The order's receipt, for an order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderReceiptDto>,
    /// The refund's receipt, for a refund.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund: Option<RefundReceiptDto>,
    /// For `linked`: the receipts of the orders credited now. Absent when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub credited: Vec<OrderReceiptDto>,
}

/// A webhook delivery's outcome: one entry per event it carried (none for an event
/// type with nothing to count).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookAck {
    /// The events, in delivery order.
    pub events: Vec<WebhookEventAck>,
    /// What the delivery carried that was acknowledged without being counted (KiotViet
    /// only: its deliveries are refused only for a bad signature). Absent when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<WebhookIgnoredAck>,
}

/// A part of an authentic delivery that was acknowledged without being counted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookIgnoredAck {
    /// `malformed`, `unknown_action`, `removal`, `not_final`, `unusable` or
    /// `out_of_window`.
    #[schema(example = "not_final")]
    pub reason: String,
    /// Where in the payload.
    #[schema(example = "Notifications[0].Data[2].Status")]
    pub path: String,
    /// What was found there.
    pub detail: String,
}

/// A custom segment to create or replace. The rule language is in `docs/segments.md`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentIn {
    /// Its name, unique in the brand: 1 to 100 bytes without control characters.
    #[schema(
        example = "Lapsing regulars",
        pattern = r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,59}$"
    )]
    pub name: String,
    /// Its rule. The pattern documents a few simple rules; the language has more.
    #[schema(
        example = "recency_days > 21 and frequency >= 5 and p_alive < 0.5",
        pattern = r"^(recency_days|frequency) (>|<|>=|<=) [0-9]{1,3}( and p_alive < 0\.[0-9])?$"
    )]
    pub rule: String,
}

/// A custom segment with its live count.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SegmentDto {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Rule.
    pub rule: String,
    /// Customers matching now (on the last run's features, day counts moved to today).
    pub live_count: u64,
    /// When it was made.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

impl From<&regulars_service::SegmentView> for SegmentDto {
    fn from(v: &regulars_service::SegmentView) -> Self {
        SegmentDto {
            id: v.segment.id.as_uuid(),
            name: v.segment.name.clone(),
            rule: v.segment.rule.clone(),
            live_count: v.live_count,
            created_at: rfc3339(v.segment.created_at),
            updated_at: rfc3339(v.segment.updated_at),
        }
    }
}

/// One scoring run: when, how many customers, the model fits and the segment sizes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScoringRunDto {
    /// Id.
    pub id: Uuid,
    /// When it ran.
    pub at: String,
    /// Customers scored.
    pub customers: u64,
    /// Customers per segment (named RFM segments and custom ones).
    #[schema(value_type = Object)]
    pub segment_sizes: Value,
    /// Model fits (parameters, log-likelihood, standard errors) and counts.
    #[schema(value_type = Object)]
    pub summary: Value,
}

impl From<&regulars_ports::ScoringRun> for ScoringRunDto {
    fn from(r: &regulars_ports::ScoringRun) -> Self {
        ScoringRunDto {
            id: r.id,
            at: rfc3339(r.at),
            customers: r.customers,
            segment_sizes: json(&r.segment_sizes),
            summary: r.summary.clone(),
        }
    }
}

/// What the last scoring run concluded about a customer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScoresDto {
    /// The customer.
    pub customer_id: Uuid,
    /// When.
    pub scored_at: String,
    /// Probability the customer is still active (BG/NBD).
    pub p_alive: Option<f64>,
    /// Expected visits in the next 30 days.
    pub expected_visits_30d: Option<f64>,
    /// Expected spend per visit (Gamma-Gamma).
    pub expected_spend: Option<MoneyDto>,
    /// Discounted 12-month customer lifetime value.
    pub clv: Option<MoneyDto>,
    /// Typical days between visits.
    pub typical_gap_days: Option<f64>,
    /// Regularity, 0 (erratic) to 1 (clockwork).
    pub regularity: Option<f64>,
    /// When the next visit is expected.
    pub next_visit_at: Option<String>,
    /// Preferred local hour (0–23).
    pub preferred_hour: Option<u8>,
    /// Preferred local weekday (0 = Monday).
    pub preferred_weekday: Option<u8>,
    /// Most bought item.
    pub favourite_item: Option<String>,
    /// The item to offer next.
    pub next_best_item: Option<String>,
    /// RFM scores `[R, F, M]`, 1–5.
    pub rfm: Option<Vec<u8>>,
    /// Segments now.
    pub segments: Vec<String>,
    /// Segments at the run before.
    pub previous_segments: Vec<String>,
}

impl ScoresDto {
    /// Builds the DTO; amounts are minor units of `currency`.
    pub fn new(s: &regulars_ports::CustomerScores, currency: regulars_domain::Currency) -> Self {
        let money = |minor: i64| MoneyDto::from(&Money::from_minor_units(minor, currency));
        ScoresDto {
            customer_id: s.customer_id.as_uuid(),
            scored_at: rfc3339(s.scored_at),
            p_alive: s.p_alive,
            expected_visits_30d: s.expected_visits_30d,
            expected_spend: s.expected_spend_minor.map(money),
            clv: s.clv_minor.map(money),
            typical_gap_days: s.typical_gap_days,
            regularity: s.regularity,
            next_visit_at: s.next_visit_at.map(rfc3339),
            preferred_hour: s.preferred_hour,
            preferred_weekday: s.preferred_weekday,
            favourite_item: s.favourite_item.clone(),
            next_best_item: s.next_best_item.clone(),
            rfm: s.rfm.map(|r| r.to_vec()),
            segments: s.segments.clone(),
            previous_segments: s.previous_segments.clone(),
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
