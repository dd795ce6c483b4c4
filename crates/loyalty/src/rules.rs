//! Earning rules as data: how many points an order earns, and why.
//!
//! A brand writes its earning rules as a JSON document ([`EarningRules`]); the document is
//! checked when it is loaded ([`EarningRules::from_json`], [`EarningRules::validate`]), with
//! unknown fields refused so that a typo is an error rather than a rule silently ignored.
//! [`EarningRules::evaluate`] then turns one paid [`Order`](regulars_domain::Order) and the
//! facts about its customer ([`EarningContext`]) into an [`Earning`]: whole points and an
//! explanation whose lines add up to exactly those points.
//!
//! Evaluation order, each step described in `docs/rules.md`:
//!
//! 1. minimum spend: an order paying less than it earns nothing at all;
//! 2. base rate on the paid total, rounded to whole points by the rule's rounding policy;
//! 3. product and category bonuses, per unit (toppings and other modifiers count);
//! 4. multipliers on base + product bonuses, stacked by the document's stacking policy and
//!    rounded once;
//! 5. first-visit and Nth-visit bonuses, never multiplied;
//! 6. the per-order cap, then the per-day cap, clipping the total.
//!
//! All arithmetic is exact (decimals and 128-bit integers, never floating point) and
//! checked: an overflow is an error, never a wrapped or saturated number.
//!
//! ```
//! use regulars_domain::{BrandId, Currency, EventKey, LineItem, Money, Order, Points};
//! use regulars_loyalty::rules::{EarningContext, EarningRules};
//! use time::macros::{datetime, offset};
//!
//! let rules = EarningRules::from_json(r#"{
//!     "currency": "VND",
//!     "base": {"per_amount": "10000", "points": 1, "rounding": "floor"},
//!     "multipliers": [
//!         {"label": "Happy hour", "factor": "2",
//!          "when": {"weekdays": ["mon", "tue", "wed", "thu", "fri"],
//!                   "hours": {"from": "14:00", "to": "17:00"}}}
//!     ],
//!     "visit_bonuses": [{"kind": "first_visit", "label": "Welcome", "points": 20}]
//! }"#)?;
//!
//! let order = Order {
//!     brand_id: BrandId::from_bytes([7; 16]),
//!     key: EventKey::new("pos:generic", "A-1001")?,
//!     location: Some("q1".into()),
//!     customer_phone: None,
//!     // Wednesday 15:30 in Ho Chi Minh City.
//!     placed_at: datetime!(2026-05-06 08:30 UTC),
//!     lines: vec![LineItem {
//!         sku: "TS-OOLONG".into(),
//!         name: "Trà sữa ô long".into(),
//!         category: Some("milk-tea".into()),
//!         quantity: 2,
//!         unit_price: Money::from_minor_units(45_000, Currency::VND),
//!         modifiers: vec![],
//!     }],
//!     total: Money::from_minor_units(90_000, Currency::VND),
//! };
//! let context = EarningContext::new(offset!(+7), 1);
//!
//! let earning = rules.evaluate(&order, &context)?;
//! // 9 base points, doubled in happy hour, plus the welcome bonus.
//! assert_eq!(earning.points, Points::new(9 + 9 + 20));
//! let lines: Vec<String> = earning.explanation.iter().map(|l| l.to_string()).collect();
//! assert_eq!(lines, [
//!     "Base rate: +9 (90000 VND at 1 per 10000 VND, floor)",
//!     "Happy hour: +9 (×2 on 9)",
//!     "Welcome: +20 (visit 1)",
//! ]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod evaluate;
mod json;
mod model;
mod validate;

#[cfg(test)]
mod tests;

pub use evaluate::{Earning, EarningContext, ExplanationLine, LineSource};
pub use model::{
    BaseRate, Cap, Conditions, EarningRules, LocalTime, MinimumSpend, Multiplier, ProductBonus,
    Rounding, Stacking, TimeWindow, VisitBonus, Weekday,
};

use regulars_domain::Currency;
use rust_decimal::Decimal;
use thiserror::Error;

/// Largest factor a single multiplier may have.
pub const MAX_FACTOR: Decimal = Decimal::ONE_HUNDRED;
/// Most decimal places a multiplier's factor may have (`"1.25"` has two).
pub const MAX_FACTOR_DECIMALS: u32 = 4;
/// With `"multiply"` stacking, the largest product of all factors above 1: a bound on
/// what any combination of multipliers can do to an order.
pub const MAX_COMBINED_FACTOR: Decimal = Decimal::ONE_THOUSAND;
/// With `"multiply"` stacking, the most decimal places all factors may have together, so
/// that every combination is computed exactly.
pub const MAX_COMBINED_FACTOR_DECIMALS: u32 = 16;
/// Largest number of points a single rule may give: base points per amount, bonus per
/// unit, visit bonus.
pub const MAX_RULE_POINTS: i64 = 1_000_000;
/// Largest per-order or per-day cap.
pub const MAX_CAP: i64 = 1_000_000_000_000;
/// Largest amount of money a rule may name (`per_amount`, minimum spend), in currency
/// units.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0); // 10^15
/// Most rules of one kind (product bonuses, multipliers, visit bonuses) in a document.
pub const MAX_RULES_PER_KIND: usize = 100;
/// Most codes (tiers, locations, weekdays) in one condition.
pub const MAX_CODES_PER_CONDITION: usize = 100;
/// Longest product, category, tier or location code, in bytes.
pub const MAX_CODE_BYTES: usize = 64;
/// Longest label, in characters.
pub const MAX_LABEL_CHARS: usize = 120;
/// Largest JSON document [`EarningRules::from_json`] reads, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// Why rules could not be loaded, or an order could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RulesError {
    /// The document is not well-formed JSON.
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line of the offending character.
        line: usize,
        /// 1-based column (in characters) of the offending character.
        column: usize,
        /// What was expected.
        message: String,
    },
    /// The document is JSON but not of the rules' shape: an unknown or missing field, a
    /// value of the wrong type.
    #[error("{}{message}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
    Shape {
        /// Where in the document, e.g. `multipliers[2].when.weekdays[0]`; empty for the
        /// document itself.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A field holds a value the rules do not allow.
    #[error("{path} {reason}")]
    Invalid {
        /// The field, e.g. `multipliers[2].factor`.
        path: String,
        /// What is wrong, e.g. `must be >= 0`.
        reason: String,
    },
    /// The order is not in the rules' currency.
    #[error("the order is in {order} but the earning rules are in {rules}")]
    CurrencyMismatch {
        /// The rules' currency.
        rules: Currency,
        /// The order's currency.
        order: Currency,
    },
    /// The order cannot be evaluated as given.
    #[error("order.{field} {reason}")]
    InvalidOrder {
        /// The offending field.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// The earning context cannot be used as given.
    #[error("context.{field} {reason}")]
    InvalidContext {
        /// The offending field.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A result does not fit the number types: points beyond `i64`, for example.
    #[error("arithmetic overflow computing {0}")]
    Overflow(&'static str),
}

impl RulesError {
    /// The path of the offending field in the rules document, for load errors that have
    /// one.
    pub fn path(&self) -> Option<&str> {
        match self {
            RulesError::Shape { path, .. } | RulesError::Invalid { path, .. } => Some(path),
            _ => None,
        }
    }

    fn invalid(path: impl Into<String>, reason: impl Into<String>) -> Self {
        RulesError::Invalid {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl EarningRules {
    /// Reads a rules document from JSON and validates it.
    ///
    /// Errors name the offending place: `Syntax` with a line and column, `Shape` and
    /// `Invalid` with a path such as `multipliers[2].factor`.
    pub fn from_json(json: &str) -> Result<Self, RulesError> {
        let rules: EarningRules = json::from_str(json)?;
        rules.validate()?;
        Ok(rules)
    }
}
