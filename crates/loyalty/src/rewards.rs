//! The rewards catalogue: what customers can buy with points, and what each reward is
//! worth on a basket.
//!
//! A [`Reward`] is bought with points (or given by a campaign) as a voucher; at the till
//! [`Reward::discount_for`] says how much it takes off the basket. The discount is never
//! negative and never more than the order total.
//!
//! ```
//! use regulars_domain::{Currency, LineItem, Money, Points, RewardId};
//! use regulars_loyalty::rewards::{Reward, RewardError, RewardKind};
//! use rust_decimal::Decimal;
//!
//! let vnd = |n| Money::from_minor_units(n, Currency::VND);
//! let ten_percent = Reward {
//!     id: RewardId::from_bytes([1; 16]),
//!     name: "10% off, up to 20,000₫".into(),
//!     cost: Points::new(300),
//!     kind: RewardKind::PercentDiscount { percent: Decimal::from(10), cap: Some(vnd(20_000)) },
//!     active: true,
//!     validity_days: 30,
//!     min_order_total: Some(vnd(50_000)),
//! };
//! let basket = [LineItem {
//!     sku: "TS-OOLONG".into(),
//!     name: "Trà sữa ô long".into(),
//!     category: Some("milk-tea".into()),
//!     quantity: 3,
//!     unit_price: vnd(45_005),
//!     modifiers: vec![],
//! }];
//! // 10% of 135,015₫ is 13,501.5₫, rounded half up to whole đồng.
//! assert_eq!(ten_percent.discount_for(&basket, vnd(135_015))?, vnd(13_502));
//! // Capped on a big order.
//! assert_eq!(ten_percent.discount_for(&basket, vnd(900_000))?, vnd(20_000));
//! // Below the minimum order, the reward does not apply.
//! assert!(matches!(
//!     ten_percent.discount_for(&basket, vnd(40_000)),
//!     Err(RewardError::BelowMinimumOrder { .. })
//! ));
//! # Ok::<(), RewardError>(())
//! ```

use regulars_domain::{Currency, DomainError, LineItem, Money, Points, RewardId};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use thiserror::Error;
use time::{Duration, OffsetDateTime};

/// Longest accepted reward name, in characters.
const MAX_NAME_CHARS: usize = 100;
/// Longest accepted product code, in bytes.
const MAX_SKU_BYTES: usize = 64;
/// Longest accepted voucher validity, in days (ten years).
const MAX_VALIDITY_DAYS: u32 = 3_650;

/// An item of the rewards catalogue.
///
/// Fields are plain data (catalogue editing sets them directly); [`Reward::validate`]
/// checks them, and every operation below validates first, so an invalid reward never
/// produces a discount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reward {
    /// Its id.
    pub id: RewardId,
    /// Display name, e.g. "Free pearl topping".
    pub name: String,
    /// Price in points; positive.
    pub cost: Points,
    /// What the customer gets.
    pub kind: RewardKind,
    /// Whether it can be bought now. Vouchers already issued stay usable when a reward is
    /// deactivated.
    #[serde(default = "active_by_default")]
    pub active: bool,
    /// How many days a voucher for it stays valid after issue (1 to 3650).
    pub validity_days: u32,
    /// The order total needed for it to apply, if any.
    #[serde(default)]
    pub min_order_total: Option<Money>,
}

fn active_by_default() -> bool {
    true
}

/// What a reward gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RewardKind {
    /// One unit of a product for free (a free drink). Its modifiers are still paid.
    FreeItem {
        /// The product code, matched exactly against the basket's line SKUs.
        sku: String,
    },
    /// One modifier for free (a free topping).
    FreeModifier {
        /// The modifier's product code, matched exactly.
        sku: String,
    },
    /// A fixed amount off the order.
    FixedDiscount {
        /// The amount; positive.
        amount: Money,
    },
    /// A percentage of the order total.
    PercentDiscount {
        /// The percentage, `0 < percent <= 100`.
        percent: Decimal,
        /// The most it can take off, if limited; positive.
        #[serde(default)]
        cap: Option<Money>,
    },
}

/// Why a reward is invalid, cannot be bought, or does not apply to a basket.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RewardError {
    /// A field of the reward is invalid.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field, e.g. `"kind.percent"`.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The product or modifier the reward gives is not in the basket.
    #[error("{sku:?} is not in the basket")]
    NotInBasket {
        /// The SKU looked for.
        sku: String,
    },
    /// The order total is below the reward's minimum.
    #[error("order total {total} is below the minimum of {minimum}")]
    BelowMinimumOrder {
        /// The reward's minimum order total.
        minimum: Money,
        /// The order's total.
        total: Money,
    },
    /// The reward's amounts are in another currency than the basket.
    #[error("reward is in {reward}, the basket in {basket}")]
    CurrencyMismatch {
        /// The reward's currency.
        reward: Currency,
        /// The basket's currency.
        basket: Currency,
    },
    /// The basket itself is incoherent (mixed currencies, negative prices, overflow).
    #[error("invalid basket: {0}")]
    InvalidBasket(DomainError),
    /// The reward is not for sale.
    #[error("reward is not active")]
    Inactive,
    /// The balance does not cover the cost.
    #[error("costs {cost}, balance is {balance}")]
    InsufficientPoints {
        /// The reward's cost.
        cost: Points,
        /// The customer's balance.
        balance: Points,
    },
}

impl Reward {
    /// Checks every field, returning the first problem with the field's name.
    pub fn validate(&self) -> Result<(), RewardError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(invalid("name", "must not be empty"));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(invalid(
                "name",
                format!("at most {MAX_NAME_CHARS} characters"),
            ));
        }
        if !self.cost.is_positive() {
            return Err(invalid("cost", "must be positive"));
        }
        if !(1..=MAX_VALIDITY_DAYS).contains(&self.validity_days) {
            return Err(invalid(
                "validity_days",
                format!("must be between 1 and {MAX_VALIDITY_DAYS}"),
            ));
        }
        match &self.kind {
            RewardKind::FreeItem { sku } | RewardKind::FreeModifier { sku } => {
                if sku.trim().is_empty() {
                    return Err(invalid("kind.sku", "must not be empty"));
                }
                if sku.len() > MAX_SKU_BYTES {
                    return Err(invalid(
                        "kind.sku",
                        format!("at most {MAX_SKU_BYTES} bytes"),
                    ));
                }
            }
            RewardKind::FixedDiscount { amount } => {
                if amount.is_negative() || amount.is_zero() {
                    return Err(invalid("kind.amount", "must be positive"));
                }
            }
            RewardKind::PercentDiscount { percent, cap } => {
                if *percent <= Decimal::ZERO || *percent > Decimal::ONE_HUNDRED {
                    return Err(invalid(
                        "kind.percent",
                        "must be more than 0 and at most 100",
                    ));
                }
                if let Some(cap) = cap
                    && (cap.is_negative() || cap.is_zero())
                {
                    return Err(invalid("kind.cap", "must be positive"));
                }
            }
        }
        if let Some(minimum) = &self.min_order_total {
            if minimum.is_negative() {
                return Err(invalid("min_order_total", "must not be negative"));
            }
            if let Some(own) = self.kind_currency()
                && own != minimum.currency()
            {
                return Err(invalid(
                    "min_order_total",
                    format!("must be in {own}, the currency of the reward's amounts"),
                ));
            }
        }
        Ok(())
    }

    /// Checks a customer with `balance` points may buy the reward now.
    pub fn check_purchase(&self, balance: Points) -> Result<(), RewardError> {
        self.validate()?;
        if !self.active {
            return Err(RewardError::Inactive);
        }
        if balance < self.cost {
            return Err(RewardError::InsufficientPoints {
                cost: self.cost,
                balance,
            });
        }
        Ok(())
    }

    /// When a voucher for this reward issued at `issued_at` expires:
    /// `validity_days` × 24 hours later.
    pub fn voucher_expires_at(
        &self,
        issued_at: OffsetDateTime,
    ) -> Result<OffsetDateTime, RewardError> {
        self.validate()?;
        issued_at
            .checked_add(Duration::days(i64::from(self.validity_days)))
            .ok_or_else(|| invalid("validity_days", "expiry is beyond the supported dates"))
    }

    /// How much the reward takes off a basket of `lines` whose total (before this
    /// reward) is `order_total`.
    ///
    /// * `FreeItem`: the unit price (without modifiers) of the cheapest matching line;
    ///   [`RewardError::NotInBasket`] when no line matches.
    /// * `FreeModifier`: the unit price of the cheapest matching modifier.
    /// * `FixedDiscount`: the amount.
    /// * `PercentDiscount`: `order_total × percent / 100`, rounded **half up** to the
    ///   currency's minor unit (whole đồng for VND, cents for USD), then capped.
    ///
    /// The result is then limited to `order_total`, so it is never more than the order
    /// total and never negative. The `active` flag is not consulted: a voucher already
    /// issued is honoured. Errors when the reward is invalid, the basket is incoherent
    /// (mixed currencies, negative prices), the reward's amounts are in another currency,
    /// or the order total is below `min_order_total`.
    pub fn discount_for(
        &self,
        lines: &[LineItem],
        order_total: Money,
    ) -> Result<Money, RewardError> {
        self.validate()?;
        let currency = order_total.currency();
        check_basket(lines, order_total)?;
        if let Some(own) = self.kind_currency()
            && own != currency
        {
            return Err(RewardError::CurrencyMismatch {
                reward: own,
                basket: currency,
            });
        }
        if let Some(minimum) = self.min_order_total {
            if minimum.currency() != currency {
                return Err(RewardError::CurrencyMismatch {
                    reward: minimum.currency(),
                    basket: currency,
                });
            }
            if order_total.amount() < minimum.amount() {
                return Err(RewardError::BelowMinimumOrder {
                    minimum,
                    total: order_total,
                });
            }
        }
        let raw = match &self.kind {
            RewardKind::FreeItem { sku } => lines
                .iter()
                .filter(|l| l.quantity > 0 && &l.sku == sku)
                .map(|l| l.unit_price)
                .min_by(|a, b| a.amount().cmp(&b.amount()))
                .ok_or_else(|| RewardError::NotInBasket { sku: sku.clone() })?,
            RewardKind::FreeModifier { sku } => lines
                .iter()
                .filter(|l| l.quantity > 0)
                .flat_map(|l| &l.modifiers)
                .filter(|m| &m.sku == sku)
                .map(|m| m.unit_price)
                .min_by(|a, b| a.amount().cmp(&b.amount()))
                .ok_or_else(|| RewardError::NotInBasket { sku: sku.clone() })?,
            RewardKind::FixedDiscount { amount } => *amount,
            RewardKind::PercentDiscount { percent, cap } => {
                let share = percent_of(order_total, *percent)?;
                match cap {
                    Some(cap) if cap.amount() < share.amount() => *cap,
                    _ => share,
                }
            }
        };
        Ok(match raw.amount().cmp(&order_total.amount()) {
            Ordering::Greater => order_total,
            _ => raw,
        })
    }

    /// The currency of the reward's amounts (discount, cap or minimum order), if it has any.
    pub fn currency(&self) -> Option<Currency> {
        self.kind_currency()
            .or(self.min_order_total.map(|m| m.currency()))
    }

    /// The currency of the reward's own amounts (discount amount or cap), if it has any.
    fn kind_currency(&self) -> Option<Currency> {
        match &self.kind {
            RewardKind::FixedDiscount { amount } => Some(amount.currency()),
            RewardKind::PercentDiscount { cap: Some(cap), .. } => Some(cap.currency()),
            _ => None,
        }
    }
}

/// `total × percent / 100`, rounded half up to the currency's minor unit.
pub(crate) fn percent_of(total: Money, percent: Decimal) -> Result<Money, RewardError> {
    let overflow = || RewardError::InvalidBasket(DomainError::Overflow("money"));
    let exact = total
        .amount()
        .checked_mul(percent)
        .and_then(|x| x.checked_div(Decimal::ONE_HUNDRED))
        .ok_or_else(overflow)?;
    // Amounts are non-negative here, so "away from zero" is "half up".
    let rounded = exact.round_dp_with_strategy(
        total.currency().minor_units(),
        RoundingStrategy::MidpointAwayFromZero,
    );
    Money::new(rounded, total.currency()).map_err(RewardError::InvalidBasket)
}

/// Checks the basket is in one currency, without negative prices or total.
fn check_basket(lines: &[LineItem], order_total: Money) -> Result<(), RewardError> {
    let currency = order_total.currency();
    if order_total.is_negative() {
        return Err(RewardError::InvalidBasket(DomainError::Negative {
            field: "total",
        }));
    }
    let prices = lines.iter().flat_map(|l| {
        std::iter::once((&l.unit_price, "lines.unit_price")).chain(
            l.modifiers
                .iter()
                .map(|m| (&m.unit_price, "lines.modifiers.unit_price")),
        )
    });
    for (price, field) in prices {
        if price.currency() != currency {
            return Err(RewardError::InvalidBasket(DomainError::CurrencyMismatch {
                left: currency.code().to_owned(),
                right: price.currency().code().to_owned(),
            }));
        }
        if price.is_negative() {
            return Err(RewardError::InvalidBasket(DomainError::Negative { field }));
        }
    }
    Ok(())
}

fn invalid(field: &'static str, reason: impl Into<String>) -> RewardError {
    RewardError::Invalid {
        field,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regulars_domain::Modifier;
    use rust_decimal_macros::dec;

    fn vnd(n: i64) -> Money {
        Money::from_minor_units(n, Currency::VND)
    }

    fn reward(kind: RewardKind) -> Reward {
        Reward {
            id: RewardId::from_bytes([1; 16]),
            name: "Reward".into(),
            cost: Points::new(100),
            kind,
            active: true,
            validity_days: 30,
            min_order_total: None,
        }
    }

    fn line(sku: &str, quantity: u32, price: i64, modifiers: &[(&str, i64)]) -> LineItem {
        LineItem {
            sku: sku.into(),
            name: sku.into(),
            category: None,
            quantity,
            unit_price: vnd(price),
            modifiers: modifiers
                .iter()
                .map(|(sku, price)| Modifier {
                    sku: (*sku).into(),
                    name: (*sku).into(),
                    unit_price: vnd(*price),
                })
                .collect(),
        }
    }

    #[test]
    fn free_item_is_the_cheapest_matching_unit_without_modifiers() {
        let lines = [
            line("TS", 2, 45_000, &[("PEARL", 5_000)]),
            line("CF", 1, 29_000, &[]),
            line("TS", 1, 39_000, &[]),
        ];
        let r = reward(RewardKind::FreeItem { sku: "TS".into() });
        assert_eq!(r.discount_for(&lines, vnd(168_000)), Ok(vnd(39_000)));
        let r = reward(RewardKind::FreeItem { sku: "XX".into() });
        assert_eq!(
            r.discount_for(&lines, vnd(168_000)),
            Err(RewardError::NotInBasket { sku: "XX".into() })
        );
    }

    #[test]
    fn free_item_is_limited_to_the_order_total() {
        let lines = [line("TS", 1, 45_000, &[])];
        let r = reward(RewardKind::FreeItem { sku: "TS".into() });
        // Another discount already brought the total under the item's price.
        assert_eq!(r.discount_for(&lines, vnd(30_000)), Ok(vnd(30_000)));
    }

    #[test]
    fn free_modifier_is_one_modifier() {
        let lines = [line("TS", 3, 45_000, &[("PEARL", 6_000), ("JELLY", 5_000)])];
        let r = reward(RewardKind::FreeModifier {
            sku: "PEARL".into(),
        });
        assert_eq!(r.discount_for(&lines, vnd(168_000)), Ok(vnd(6_000)));
    }

    #[test]
    fn percent_rounds_half_up_and_respects_the_cap() {
        let r = reward(RewardKind::PercentDiscount {
            percent: dec!(15),
            cap: Some(vnd(10_000)),
        });
        // 15% of 33,333 = 4,999.95 → 5,000.
        assert_eq!(r.discount_for(&[], vnd(33_333)), Ok(vnd(5_000)));
        // 15% of 33,330 = 4,999.5 → 5,000 (half up).
        assert_eq!(r.discount_for(&[], vnd(33_330)), Ok(vnd(5_000)));
        // 15% of 33,326 = 4,998.9 → 4,999.
        assert_eq!(r.discount_for(&[], vnd(33_326)), Ok(vnd(4_999)));
        assert_eq!(r.discount_for(&[], vnd(1_000_000)), Ok(vnd(10_000)));

        let usd = reward(RewardKind::PercentDiscount {
            percent: dec!(12.5),
            cap: None,
        });
        let total = Money::from_minor_units(1_001, Currency::USD); // 10.01 × 12.5% = 1.25125
        assert_eq!(
            usd.discount_for(&[], total),
            Ok(Money::from_minor_units(125, Currency::USD))
        );
    }

    #[test]
    fn validation_names_the_field() {
        let field = |r: Reward| match r.validate() {
            Err(RewardError::Invalid { field, .. }) => Some(field),
            _ => None,
        };
        let mut r = reward(RewardKind::PercentDiscount {
            percent: dec!(100.01),
            cap: None,
        });
        assert_eq!(field(r.clone()), Some("kind.percent"));
        r.kind = RewardKind::FixedDiscount { amount: vnd(0) };
        assert_eq!(field(r.clone()), Some("kind.amount"));
        r.kind = RewardKind::FixedDiscount { amount: vnd(10) };
        r.cost = Points::ZERO;
        assert_eq!(field(r.clone()), Some("cost"));
        r.cost = Points::new(1);
        r.validity_days = 0;
        assert_eq!(field(r.clone()), Some("validity_days"));
        r.validity_days = 1;
        r.min_order_total = Some(Money::from_minor_units(1, Currency::USD));
        assert_eq!(field(r.clone()), Some("min_order_total"));
        r.min_order_total = None;
        r.name = "  ".into();
        assert_eq!(field(r), Some("name"));
    }

    #[test]
    fn currencies_must_agree() {
        let r = reward(RewardKind::FixedDiscount {
            amount: vnd(10_000),
        });
        let usd = Money::from_minor_units(1_000, Currency::USD);
        assert_eq!(
            r.discount_for(&[], usd),
            Err(RewardError::CurrencyMismatch {
                reward: Currency::VND,
                basket: Currency::USD
            })
        );
        assert!(matches!(
            r.discount_for(&[line("TS", 1, 1, &[])], usd),
            Err(RewardError::InvalidBasket(
                DomainError::CurrencyMismatch { .. }
            ))
        ));
    }

    #[test]
    fn purchase_checks_activity_and_balance() {
        let mut r = reward(RewardKind::FixedDiscount {
            amount: vnd(10_000),
        });
        assert_eq!(r.check_purchase(Points::new(100)), Ok(()));
        assert_eq!(
            r.check_purchase(Points::new(99)),
            Err(RewardError::InsufficientPoints {
                cost: Points::new(100),
                balance: Points::new(99)
            })
        );
        r.active = false;
        assert_eq!(
            r.check_purchase(Points::new(100)),
            Err(RewardError::Inactive)
        );
    }

    #[test]
    fn json_shape() -> Result<(), serde_json::Error> {
        let json = r#"{
            "id": "01010101-0101-0101-0101-010101010101",
            "name": "Free pearls",
            "cost": 150,
            "kind": {"type": "free_modifier", "sku": "TOP-PEARL"},
            "validity_days": 14
        }"#;
        let r: Reward = serde_json::from_str(json)?;
        assert!(r.active);
        assert_eq!(
            r.kind,
            RewardKind::FreeModifier {
                sku: "TOP-PEARL".into()
            }
        );
        assert!(serde_json::from_str::<Reward>(&json.replace("14", "14, \"x\": 1")).is_err());
        let round: Reward = serde_json::from_str(&serde_json::to_string(&r)?)?;
        assert_eq!(round, r);
        Ok(())
    }
}
