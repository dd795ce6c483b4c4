//! The API's JSON shapes. Only this crate knows them; they are built from the use
//! cases' results and documented in the OpenAPI document.
//!
//! Money is `{"amount": "45000", "currency": "VND"}` with the amount a decimal string;
//! points are integers; times are RFC 3339 in UTC; ids are UUIDs.

mod brand;
mod consent;
mod customers;
mod integrations;
mod ledger;
mod orders;
mod rewards;
mod segments;

pub use brand::*;
pub use consent::*;
pub use customers::*;
pub use integrations::*;
pub use ledger::*;
pub use orders::*;
pub use rewards::*;
pub use segments::*;

use regulars_domain::Money;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::ToSchema;

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
