//! Orders and refunds as they arrive from a point of sale.

use crate::{BrandId, Currency, DomainError, Money, Phone};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The identity of an external event: which system sent it and its id there.
///
/// Together with the brand this makes every POS delivery idempotent: the same key
/// delivered twice is applied once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EventKey {
    /// The sending system, e.g. `"pos:generic"`, `"pos:kiotviet"`, `"csv"`.
    pub source: String,
    /// The event's id in that system (order number, refund number, ...).
    pub external_id: String,
}

impl EventKey {
    /// Builds a key, rejecting empty or over-long parts.
    pub fn new(
        source: impl Into<String>,
        external_id: impl Into<String>,
    ) -> Result<Self, DomainError> {
        let key = EventKey {
            source: source.into(),
            external_id: external_id.into(),
        };
        key.validate()?;
        Ok(key)
    }

    /// Checks both parts are non-empty, at most 128 bytes and free of control characters
    /// (an id is printed on receipts and logs; PostgreSQL cannot even store a NUL).
    pub fn validate(&self) -> Result<(), DomainError> {
        for (field, value) in [("source", &self.source), ("external_id", &self.external_id)] {
            if value.trim().is_empty() {
                return Err(DomainError::Empty { field });
            }
            if value.len() > 128 {
                return Err(DomainError::OutOfRange {
                    field,
                    reason: "at most 128 bytes".into(),
                });
            }
            if value.chars().any(char::is_control) {
                return Err(DomainError::OutOfRange {
                    field,
                    reason: "no control characters".into(),
                });
            }
        }
        Ok(())
    }
}

/// A modifier on a line item: a topping, an extra shot, a size upgrade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Modifier {
    /// The modifier's product code.
    pub sku: String,
    /// Display name, e.g. "Trân châu đen".
    pub name: String,
    /// Price per unit of the line it modifies.
    pub unit_price: Money,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineItem {
    /// The product code.
    pub sku: String,
    /// Display name, e.g. "Trà sữa ô long".
    pub name: String,
    /// Menu category, e.g. "milk-tea".
    #[serde(default)]
    pub category: Option<String>,
    /// How many units.
    pub quantity: u32,
    /// Price of one unit, without modifiers.
    pub unit_price: Money,
    /// Toppings and other modifiers, priced per unit.
    #[serde(default)]
    pub modifiers: Vec<Modifier>,
}

impl LineItem {
    /// `(unit price + modifiers) × quantity`.
    pub fn total(&self) -> Result<Money, DomainError> {
        let mut unit = self.unit_price;
        for m in &self.modifiers {
            unit = unit.checked_add(&m.unit_price)?;
        }
        unit.checked_mul_qty(self.quantity)
    }
}

/// A paid order from a point of sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Order {
    /// The brand it belongs to.
    pub brand_id: BrandId,
    /// Its identity in the sending system.
    pub key: EventKey,
    /// The code of the location it was placed at.
    #[serde(default)]
    pub location: Option<String>,
    /// The customer's phone, when they gave one.
    #[serde(default)]
    pub customer_phone: Option<Phone>,
    /// When it was paid (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub placed_at: OffsetDateTime,
    /// The lines bought.
    pub lines: Vec<LineItem>,
    /// What the customer paid, after discounts. Points are earned on this.
    pub total: Money,
}

impl Order {
    /// Checks the order is coherent: at least one line, positive quantities, no negative
    /// prices, one currency throughout, a non-negative total.
    pub fn validate(&self) -> Result<(), DomainError> {
        self.key.validate()?;
        if self.lines.is_empty() {
            return Err(DomainError::Empty { field: "lines" });
        }
        if self.lines.len() > 500 {
            return Err(DomainError::OutOfRange {
                field: "lines",
                reason: "at most 500 lines".into(),
            });
        }
        let currency = self.total.currency();
        if self.total.is_negative() {
            return Err(DomainError::Negative { field: "total" });
        }
        if let Some(location) = &self.location {
            storable(location, "location")?;
        }
        for line in &self.lines {
            if line.sku.trim().is_empty() {
                return Err(DomainError::Empty { field: "lines.sku" });
            }
            storable(&line.sku, "lines.sku")?;
            storable(&line.name, "lines.name")?;
            if let Some(category) = &line.category {
                storable(category, "lines.category")?;
            }
            for m in &line.modifiers {
                storable(&m.sku, "lines.modifiers.sku")?;
                storable(&m.name, "lines.modifiers.name")?;
            }
            if line.quantity == 0 {
                return Err(DomainError::OutOfRange {
                    field: "lines.quantity",
                    reason: "must be at least 1".into(),
                });
            }
            check_price(&line.unit_price, currency, "lines.unit_price")?;
            for m in &line.modifiers {
                check_price(&m.unit_price, currency, "lines.modifiers.unit_price")?;
            }
            line.total()?;
        }
        Ok(())
    }

    /// The currency of the order.
    pub fn currency(&self) -> Currency {
        self.total.currency()
    }

    /// Sum of line totals before order-level discounts.
    pub fn subtotal(&self) -> Result<Money, DomainError> {
        self.lines
            .iter()
            .try_fold(Money::zero(self.currency()), |acc, l| {
                acc.checked_add(&l.total()?)
            })
    }
}

/// Refuses a text no database can store as text: one holding a NUL character.
fn storable(value: &str, field: &'static str) -> Result<(), DomainError> {
    if value.contains('\0') {
        return Err(DomainError::OutOfRange {
            field,
            reason: "must not contain a NUL character".into(),
        });
    }
    Ok(())
}

fn check_price(price: &Money, currency: Currency, field: &'static str) -> Result<(), DomainError> {
    if price.currency() != currency {
        return Err(DomainError::CurrencyMismatch {
            left: currency.code().to_owned(),
            right: price.currency().code().to_owned(),
        });
    }
    if price.is_negative() {
        return Err(DomainError::Negative { field });
    }
    Ok(())
}

/// How much of an order a refund gives back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RefundScope {
    /// The whole order.
    Full,
    /// Part of the paid total.
    Amount {
        /// The amount refunded.
        amount: Money,
    },
}

/// A refund of an earlier order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refund {
    /// The brand it belongs to.
    pub brand_id: BrandId,
    /// The refund's own identity (a refund delivered twice is applied once).
    pub key: EventKey,
    /// The order being refunded.
    pub order: EventKey,
    /// When it happened (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub refunded_at: OffsetDateTime,
    /// Full or partial.
    pub scope: RefundScope,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use time::macros::datetime;

    fn vnd(n: i64) -> Money {
        Money::from_minor_units(n, Currency::VND)
    }

    fn order() -> Order {
        Order {
            brand_id: BrandId::from_bytes([1; 16]),
            key: EventKey {
                source: "pos:generic".into(),
                external_id: "A-1".into(),
            },
            location: Some("q1".into()),
            customer_phone: None,
            placed_at: datetime!(2026-05-01 10:00 UTC),
            lines: vec![LineItem {
                sku: "TS-OOLONG".into(),
                name: "Trà sữa ô long".into(),
                category: Some("milk-tea".into()),
                quantity: 2,
                unit_price: vnd(45_000),
                modifiers: vec![Modifier {
                    sku: "TOP-PEARL".into(),
                    name: "Trân châu".into(),
                    unit_price: vnd(5_000),
                }],
            }],
            total: vnd(100_000),
        }
    }

    #[test]
    fn subtotal_includes_modifiers() {
        assert_eq!(order().subtotal(), Ok(vnd(100_000)));
        assert_eq!(order().validate(), Ok(()));
    }

    #[test]
    fn rejects_incoherent_orders() {
        let mut o = order();
        o.lines[0].quantity = 0;
        assert!(o.validate().is_err());
        let mut o = order();
        o.lines[0].unit_price = Money::from_minor_units(100, Currency::USD);
        assert!(matches!(
            o.validate(),
            Err(DomainError::CurrencyMismatch { .. })
        ));
        let mut o = order();
        o.total = Money::new(dec!(-1), Currency::VND).unwrap_or(vnd(0));
        assert_eq!(o.validate(), Err(DomainError::Negative { field: "total" }));
        let mut o = order();
        o.lines.clear();
        assert_eq!(o.validate(), Err(DomainError::Empty { field: "lines" }));
    }

    #[test]
    fn texts_a_database_cannot_store_are_refused() {
        let mut o = order();
        o.key.external_id = "HD\u{0}001".into();
        assert!(matches!(
            o.validate(),
            Err(DomainError::OutOfRange {
                field: "external_id",
                ..
            })
        ));
        let mut o = order();
        o.lines[0].name = "Trà\u{0}".into();
        assert!(matches!(
            o.validate(),
            Err(DomainError::OutOfRange {
                field: "lines.name",
                ..
            })
        ));
        assert!(EventKey::new("pos", "HD\n001").is_err());
    }

    #[test]
    fn unknown_json_fields_are_rejected() {
        let mut v = serde_json::to_value(order()).unwrap_or_default();
        v["surprise"] = serde_json::json!(1);
        assert!(serde_json::from_value::<Order>(v).is_err());
    }
}
