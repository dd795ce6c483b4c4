//! Tests of the campaigns crate: one binary, a module per concern.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod attribution;
mod bonus;
mod json;
mod lifecycle;
mod planner;
mod properties;
mod render;
mod sms;
mod variants;

use regulars_campaigns::{Campaign, CustomerFacts};
use regulars_domain::{CampaignId, ConsentState, CustomerId, Phone};
use serde_json::json;

/// A customer with a Vietnamese mobile number derived from `n`, SMS consent given.
pub fn customer(n: u32) -> CustomerFacts {
    let mut b = [0u8; 16];
    b[..4].copy_from_slice(&n.to_be_bytes());
    b[15] = 1;
    let phone = Phone::parse(&format!("09{:08}", n % 100_000_000), Phone::VIETNAM).unwrap();
    let mut c = CustomerFacts::new(CustomerId::from_bytes(b), phone);
    c.consent.sms = ConsentState::Granted;
    c.profiling = true;
    c
}

/// A campaign from a JSON object merged over a minimal broadcast campaign.
pub fn campaign(overrides: serde_json::Value) -> Campaign {
    let mut base = json!({
        "id": CampaignId::from_bytes([9; 16]),
        "name": "Test",
        "shop": "Trà Sữa Mây",
        "currency": "VND",
        "trigger": {"type": "broadcast"},
        "holdout": 0,
        "frequency_cap": null,
    });
    for (k, v) in overrides.as_object().unwrap() {
        base[k] = v.clone();
    }
    Campaign::from_json(&base.to_string()).unwrap()
}

/// A reward giving one free `sku`, costing the shop `cost` đồng.
pub fn free_item(id: u8, sku: &str, cost: i64) -> serde_json::Value {
    json!({
        "reward": {
            "id": regulars_domain::RewardId::from_bytes([id; 16]),
            "name": format!("1 {sku} miễn phí"),
            "cost": 100,
            "kind": {"type": "free_item", "sku": sku},
            "validity_days": 14,
        },
        "cost": {"amount": cost.to_string(), "currency": "VND"},
    })
}
