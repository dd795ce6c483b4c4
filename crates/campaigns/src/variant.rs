//! Offer variants: two or more offers tested against each other in one campaign.
//!
//! A campaign with variants gives each customer it messages one of them; the variant
//! takes the place of the campaign's own `offer` (and of its `template` when the variant
//! has one). Every variant is measured against the campaign's one shared hold-out.

use serde::{Deserialize, Serialize};

use crate::campaign::Offer;

/// One arm of an offer test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfferVariant {
    /// Its name in reports ("A", "20 % off"); unique within the campaign.
    pub name: String,
    /// What this variant gives; nothing when absent (a message-only arm).
    #[serde(default)]
    pub offer: Option<Offer>,
    /// Its own message text; the campaign's template when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}
