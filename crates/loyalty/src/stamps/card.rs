//! A stamp card's definition and what an order earns on it.

use regulars_domain::{Currency, Money, Order, RewardId};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeSet;
use thiserror::Error;

/// Most cards a brand may run at once.
pub const MAX_CARDS: usize = 10;
/// Most stamps one order can earn on one card, whatever its cap says: a typo'd quantity
/// at the till does not fill a card many times over.
pub const MAX_STAMPS_PER_ORDER: u32 = 100;
const MIN_NEEDED: u32 = 2;
const MAX_NEEDED: u32 = 50;
const MAX_CODE_BYTES: usize = 32;
const MAX_NAME_CHARS: usize = 100;
const MAX_MATCHES: usize = 50;
const MAX_SKU_BYTES: usize = 64;
const MAX_EXPIRY_DAYS: u32 = 3_650;

/// A stamp card, as a brand defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StampCard {
    /// Its code, unique in the brand: 1 to 32 of `a-z`, `0-9`, `-`, `_`.
    pub code: String,
    /// What customers see, e.g. "Coffee card" (1 to 100 characters).
    pub name: String,
    /// Stamps that fill the card, 2 to 50.
    pub stamps_needed: u32,
    /// What earns a stamp.
    pub earn: StampEarning,
    /// Most stamps one order earns (1 to 100); at most 100 when absent.
    #[serde(default)]
    pub max_per_order: Option<u32>,
    /// The catalogue reward a full card gives as a voucher (a free item is a reward of
    /// kind `free_item`).
    pub reward: RewardId,
    /// Stamps expire this many days (1 to 3650) after the first stamp of the current
    /// card; never when absent.
    #[serde(default)]
    pub expiry_days: Option<u32>,
    /// Whether orders earn stamps now. Stamps already earned stay.
    #[serde(default = "active_by_default")]
    pub active: bool,
}

fn active_by_default() -> bool {
    true
}

/// What earns a stamp.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "per", rename_all = "snake_case", deny_unknown_fields)]
pub enum StampEarning {
    /// One stamp per unit of each line whose SKU or category is listed.
    Item {
        /// SKUs that earn.
        #[serde(default)]
        skus: Vec<String>,
        /// Menu categories that earn.
        #[serde(default)]
        categories: Vec<String>,
    },
    /// One stamp per order, when its total reaches `min_total` (if given).
    Visit {
        /// The smallest total that earns the stamp.
        #[serde(default)]
        min_total: Option<Money>,
    },
}

/// Why a card definition is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}{field}: {reason}", index.map(|i| format!("cards[{i}].")).unwrap_or_default())]
pub struct StampCardError {
    /// The position of the card at fault in the list given, when the input was a list.
    pub index: Option<usize>,
    /// The field at fault (`code`, `name`, `stamps_needed`, `skus` (what earns),
    /// `min_total`, `max_per_order`, `reward`, `expiry_days`, `cards`).
    pub field: &'static str,
    /// What is wrong.
    pub reason: String,
}

impl StampCardError {
    fn new(field: &'static str, reason: impl Into<String>) -> Self {
        StampCardError {
            index: None,
            field,
            reason: reason.into(),
        }
    }
}

impl StampCard {
    /// Checks every field; `currency` is the brand's, which a minimum total must use.
    pub fn validate(&self, currency: Currency) -> Result<(), StampCardError> {
        let code_ok = !self.code.is_empty()
            && self.code.len() <= MAX_CODE_BYTES
            && self
                .code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !code_ok {
            return Err(StampCardError::new(
                "code",
                "must be 1 to 32 of a-z, 0-9, '-' and '_'",
            ));
        }
        let name = self.name.trim();
        if name.is_empty() || self.name.chars().count() > MAX_NAME_CHARS {
            return Err(StampCardError::new(
                "name",
                "must be 1 to 100 characters and not blank",
            ));
        }
        if !(MIN_NEEDED..=MAX_NEEDED).contains(&self.stamps_needed) {
            return Err(StampCardError::new("stamps_needed", "must be 2 to 50"));
        }
        if self
            .max_per_order
            .is_some_and(|m| !(1..=MAX_STAMPS_PER_ORDER).contains(&m))
        {
            return Err(StampCardError::new("max_per_order", "must be 1 to 100"));
        }
        if self
            .expiry_days
            .is_some_and(|d| !(1..=MAX_EXPIRY_DAYS).contains(&d))
        {
            return Err(StampCardError::new("expiry_days", "must be 1 to 3650"));
        }
        self.validate_earning(currency)
    }

    fn validate_earning(&self, currency: Currency) -> Result<(), StampCardError> {
        match &self.earn {
            StampEarning::Item { skus, categories } => {
                if skus.is_empty() && categories.is_empty() {
                    return Err(StampCardError::new(
                        "skus",
                        "name at least one SKU or category that earns a stamp",
                    ));
                }
                if skus.len() + categories.len() > MAX_MATCHES {
                    return Err(StampCardError::new(
                        "skus",
                        "at most 50 SKUs and categories in all",
                    ));
                }
                let bad = skus
                    .iter()
                    .chain(categories)
                    .any(|s| s.trim().is_empty() || s.len() > MAX_SKU_BYTES);
                if bad {
                    return Err(StampCardError::new(
                        "skus",
                        "each SKU or category must be 1 to 64 bytes and not blank",
                    ));
                }
            }
            StampEarning::Visit { min_total } => {
                if let Some(min) = min_total {
                    if min.currency() != currency {
                        return Err(StampCardError::new(
                            "min_total",
                            format!("the minimum total must be in {currency}"),
                        ));
                    }
                    if min.is_negative() {
                        return Err(StampCardError::new(
                            "min_total",
                            "the minimum total must not be negative",
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Most stamps one order earns on this card.
    pub fn cap(&self) -> u32 {
        self.max_per_order
            .unwrap_or(MAX_STAMPS_PER_ORDER)
            .min(MAX_STAMPS_PER_ORDER)
    }

    /// The stamps `order` earns on this card, cap applied; none when the card is not
    /// active.
    pub fn stamps_for(&self, order: &Order) -> u32 {
        if !self.active {
            return 0;
        }
        let raw = match &self.earn {
            StampEarning::Item { skus, categories } => order
                .lines
                .iter()
                .filter(|line| {
                    skus.contains(&line.sku)
                        || line
                            .category
                            .as_ref()
                            .is_some_and(|c| categories.iter().any(|k| k == c))
                })
                .fold(0_u32, |sum, line| sum.saturating_add(line.quantity)),
            StampEarning::Visit { min_total } => {
                let reaches = min_total.as_ref().is_none_or(|min| {
                    matches!(
                        order.total.cmp_amount(min),
                        Ok(Ordering::Greater | Ordering::Equal)
                    )
                });
                u32::from(reaches)
            }
        };
        raw.min(self.cap())
    }
}

/// Checks a brand's whole set of cards: each card, at most [`MAX_CARDS`], codes unique.
pub fn validate_cards(cards: &[StampCard], currency: Currency) -> Result<(), StampCardError> {
    if cards.len() > MAX_CARDS {
        return Err(StampCardError::new("cards", "at most 10 stamp cards"));
    }
    let mut codes = BTreeSet::new();
    for (i, card) in cards.iter().enumerate() {
        card.validate(currency).map_err(|mut e| {
            e.index = Some(i);
            e
        })?;
        if !codes.insert(card.code.as_str()) {
            return Err(StampCardError {
                index: Some(i),
                field: "code",
                reason: format!("code {:?} is used by another card", card.code),
            });
        }
    }
    Ok(())
}
