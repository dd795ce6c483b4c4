//! A Square `Order` (the Orders API's `RetrieveOrder` answer) as a domain order.

use super::{COMPLETED, SOURCE, parse_time};
use crate::BrandContext;
use regulars_domain::{Currency, EventKey, LineItem, Modifier, Money, Order};
use regulars_ports::{Ignored, IgnoredReason};
use serde::Deserialize;

/// Square's `Money`: an amount in the currency's smallest unit.
#[derive(Debug, Clone, Copy, Deserialize)]
pub(crate) struct SquareMoney {
    amount: i64,
    currency: Option<Currency>,
}

impl SquareMoney {
    /// The amount in the brand's currency; refused in another one, or negative.
    pub(crate) fn money(self, brand: &BrandContext) -> Result<Money, String> {
        if let Some(currency) = self.currency
            && currency != brand.currency
        {
            return Err(format!(
                "{currency} is not the brand's currency {}",
                brand.currency
            ));
        }
        if self.amount < 0 {
            return Err(format!("{} is negative", self.amount));
        }
        Ok(Money::from_minor_units(self.amount, brand.currency))
    }
}

/// The part of a Square `Order` this server reads.
#[derive(Debug, Deserialize)]
pub(crate) struct SquareOrder {
    id: String,
    #[serde(default)]
    location_id: Option<String>,
    #[serde(default)]
    customer_id: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    line_items: Vec<SquareLine>,
    total_money: SquareMoney,
    #[serde(default)]
    total_tip_money: Option<SquareMoney>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    closed_at: Option<String>,
    #[serde(default)]
    tenders: Vec<SquareTender>,
}

#[derive(Debug, Deserialize)]
struct SquareTender {
    #[serde(default)]
    customer_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SquareLine {
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    name: Option<String>,
    quantity: String,
    #[serde(default)]
    catalog_object_id: Option<String>,
    #[serde(default)]
    variation_name: Option<String>,
    #[serde(default)]
    base_price_money: Option<SquareMoney>,
    #[serde(default)]
    modifiers: Vec<SquareModifier>,
}

#[derive(Debug, Deserialize)]
struct SquareModifier {
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    catalog_object_id: Option<String>,
    #[serde(default)]
    base_price_money: Option<SquareMoney>,
    #[serde(default)]
    quantity: Option<String>,
}

fn unusable(path: String, detail: impl Into<String>) -> Ignored {
    Ignored {
        reason: IgnoredReason::Unusable,
        path,
        detail: detail.into(),
    }
}

/// A whole, positive quantity (Square writes quantities as decimal strings: `"2"`,
/// `"1.5"` for goods sold by weight).
fn whole(text: &str, path: String) -> Result<u32, Ignored> {
    let text = text.trim();
    let digits = text.strip_suffix(".0").unwrap_or(text);
    match digits.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(unusable(
            path,
            format!("{text:?} is not a whole number of units (at least 1)"),
        )),
    }
}

impl SquareOrder {
    /// The customer to look the phone up for: the order's, else a tender's.
    pub(crate) fn customer_id(&self) -> Option<&str> {
        self.customer_id
            .as_deref()
            .or_else(|| self.tenders.iter().find_map(|t| t.customer_id.as_deref()))
            .filter(|id| !id.is_empty())
    }

    /// Whether Square considers the order done (paid in full).
    pub(crate) fn is_completed(&self) -> bool {
        self.state.as_deref() == Some(COMPLETED)
    }

    /// The state as sent, for what is ignored.
    pub(crate) fn state(&self) -> &str {
        self.state.as_deref().unwrap_or("(none)")
    }

    /// The domain order; `at` is where the order was read (`order`).
    pub(crate) fn into_order(
        self,
        brand: &BrandContext,
        phone: Option<regulars_domain::Phone>,
        at: &str,
    ) -> Result<Order, Ignored> {
        let key = EventKey::new(SOURCE, &self.id)
            .map_err(|e| unusable(format!("{at}.id"), e.to_string()))?;
        let placed = self.closed_at.as_deref().or(self.created_at.as_deref());
        let placed_at = match placed {
            Some(text) => parse_time(text, &format!("{at}.closed_at"))?,
            None => {
                return Err(unusable(
                    format!("{at}.closed_at"),
                    "no time the order was placed",
                ));
            }
        };
        let money = |m: SquareMoney, path: String| m.money(brand).map_err(|e| unusable(path, e));
        let mut lines = Vec::with_capacity(self.line_items.len());
        for (i, line) in self.line_items.iter().enumerate() {
            let lat = format!("{at}.line_items[{i}]");
            let name = match (&line.name, &line.variation_name) {
                (Some(n), Some(v)) if !v.is_empty() => format!("{n} ({v})"),
                (Some(n), _) => n.clone(),
                (None, Some(v)) => v.clone(),
                (None, None) => String::new(),
            };
            let sku = line
                .catalog_object_id
                .clone()
                .or_else(|| line.uid.clone())
                .unwrap_or_else(|| name.clone());
            let mut modifiers = Vec::with_capacity(line.modifiers.len());
            for (j, m) in line.modifiers.iter().enumerate() {
                let mat = format!("{lat}.modifiers[{j}]");
                let times = whole(
                    m.quantity.as_deref().unwrap_or("1"),
                    format!("{mat}.quantity"),
                )?;
                let base = match m.base_price_money {
                    Some(p) => money(p, format!("{mat}.base_price_money"))?,
                    None => Money::zero(brand.currency),
                };
                let unit_price = base
                    .checked_mul_qty(times)
                    .map_err(|e| unusable(format!("{mat}.base_price_money"), e.to_string()))?;
                let name = m.name.clone().unwrap_or_default();
                modifiers.push(Modifier {
                    sku: m
                        .catalog_object_id
                        .clone()
                        .or_else(|| m.uid.clone())
                        .unwrap_or_else(|| name.clone()),
                    name,
                    unit_price,
                });
            }
            let unit_price = match line.base_price_money {
                Some(p) => money(p, format!("{lat}.base_price_money"))?,
                None => Money::zero(brand.currency),
            };
            lines.push(LineItem {
                sku,
                name,
                category: None,
                quantity: whole(&line.quantity, format!("{lat}.quantity"))?,
                unit_price,
                modifiers,
            });
        }
        let mut total = money(self.total_money, format!("{at}.total_money"))?;
        if let Some(tip) = self.total_tip_money {
            let tip = money(tip, format!("{at}.total_tip_money"))?;
            total = total
                .checked_sub(&tip)
                .map_err(|e| unusable(format!("{at}.total_tip_money"), e.to_string()))?;
        }
        let order = Order {
            brand_id: brand.brand_id,
            key,
            location: self.location_id.filter(|l| !l.is_empty()),
            customer_phone: phone,
            placed_at,
            lines,
            total,
        };
        order.validate().map_err(|e| {
            let path = match e.field() {
                Some(f) if f.starts_with("lines") => format!("{at}.line_items"),
                Some("total") => format!("{at}.total_money"),
                _ => at.to_owned(),
            };
            unusable(path, e.to_string())
        })?;
        Ok(order)
    }
}
