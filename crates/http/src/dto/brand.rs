//! A brand's settings, its locations and its API keys.

use super::{name_of, rfc3339};
use regulars_ports::{Brand, Location};
use regulars_service::ApiKeyInfo;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

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
