//! The points ledger and manual adjustments.

use super::{json, rfc3339};
use regulars_loyalty::ledger::LedgerEntry;
use regulars_service::AdjustmentReceipt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

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
