//! A brand's menu: the items a till without an integrated POS sells, and the rule that
//! turns the items a cashier picked into an order's lines.
//!
//! The price of a line always comes from the menu, never from what the till sent: a
//! forged price in a form changes nothing.
//!
//! ```
//! use regulars_domain::{Currency, MenuItem, MenuPick, Money, menu_lines};
//! let tea = MenuItem {
//!     sku: "TS-OOLONG".into(),
//!     name: "Trà sữa ô long".into(),
//!     category: Some("milk-tea".into()),
//!     price: Money::from_minor_units(45_000, Currency::VND),
//!     active: true,
//!     sort_order: None,
//! };
//! let lines = menu_lines(&[tea], &[MenuPick { sku: "TS-OOLONG".into(), quantity: 2 }])?;
//! assert_eq!(lines[0].total()?, Money::from_minor_units(90_000, Currency::VND));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::{Currency, DomainError, LineItem, Money};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use thiserror::Error;

/// Most items a menu holds.
pub const MAX_MENU_ITEMS: usize = 1000;
/// Longest SKU or category, as for the earning rules' codes.
pub const MAX_MENU_CODE: usize = 64;
/// Longest item name.
pub const MAX_MENU_NAME: usize = 200;
/// Most units of one item in one till order.
pub const MAX_MENU_QUANTITY: u32 = 999;

/// One item of a brand's menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuItem {
    /// The product code, unique in the brand's menu (what product bonuses match).
    pub sku: String,
    /// Display name, e.g. "Trà sữa ô long".
    pub name: String,
    /// Menu category, e.g. "milk-tea" (what category bonuses match).
    pub category: Option<String>,
    /// Price of one unit, in the brand's currency.
    pub price: Money,
    /// Whether the till offers it; an inactive item is kept but cannot be sold.
    pub active: bool,
    /// Where it is shown: lower first, items without one last.
    pub sort_order: Option<i32>,
}

/// What is wrong with a menu or with the items picked from it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}{field}: {reason}", index.map(|i| format!("items[{i}].")).unwrap_or_default())]
pub struct MenuError {
    /// The position of the item at fault in the list given, when the input was a list.
    pub index: Option<usize>,
    /// The field at fault (`sku`, `name`, `category`, `price`, `quantity`, `items`).
    pub field: &'static str,
    /// What is wrong.
    pub reason: String,
}

impl MenuError {
    fn new(field: &'static str, reason: impl Into<String>) -> Self {
        MenuError {
            index: None,
            field,
            reason: reason.into(),
        }
    }

    fn at(mut self, index: usize) -> Self {
        self.index = Some(index);
        self
    }
}

fn check_code(field: &'static str, value: &str) -> Result<(), MenuError> {
    if value.trim().is_empty() {
        return Err(MenuError::new(field, "must not be blank"));
    }
    if value.trim() != value {
        return Err(MenuError::new(field, "must not start or end with spaces"));
    }
    if value.len() > MAX_MENU_CODE {
        return Err(MenuError::new(
            field,
            format!("at most {MAX_MENU_CODE} bytes"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(MenuError::new(field, "no control characters"));
    }
    Ok(())
}

impl MenuItem {
    /// Checks the item: codes non-blank, without surrounding spaces or control
    /// characters and at most [`MAX_MENU_CODE`] bytes; a name of 1 to
    /// [`MAX_MENU_NAME`] bytes; a price not negative and in `currency`.
    pub fn validate(&self, currency: Currency) -> Result<(), MenuError> {
        check_code("sku", &self.sku)?;
        if let Some(category) = &self.category {
            check_code("category", category)?;
        }
        let name = self.name.trim();
        if name.is_empty() || self.name.len() > MAX_MENU_NAME {
            return Err(MenuError::new(
                "name",
                format!("must be 1 to {MAX_MENU_NAME} bytes"),
            ));
        }
        if self.name.chars().any(char::is_control) {
            return Err(MenuError::new("name", "no control characters"));
        }
        if self.price.currency() != currency {
            return Err(MenuError::new(
                "price",
                format!("must be in the brand's currency {}", currency.code()),
            ));
        }
        if self.price.is_negative() {
            return Err(MenuError::new("price", "must not be negative"));
        }
        if self.price.to_minor_units().is_err() {
            return Err(MenuError::new("price", "is too large"));
        }
        Ok(())
    }
}

/// Checks a whole menu: every item valid (the error names its index), no SKU twice,
/// at most [`MAX_MENU_ITEMS`] items.
pub fn validate_menu(items: &[MenuItem], currency: Currency) -> Result<(), MenuError> {
    if items.len() > MAX_MENU_ITEMS {
        return Err(MenuError::new(
            "items",
            format!("at most {MAX_MENU_ITEMS} items"),
        ));
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        item.validate(currency).map_err(|e| e.at(index))?;
        if let Some(first) = seen.insert(item.sku.as_str(), index) {
            return Err(MenuError::new("sku", format!("is already items[{first}].sku")).at(index));
        }
    }
    Ok(())
}

/// Sorts items as they are shown: by `sort_order` (items without one last), then
/// category, name and SKU.
pub fn sort_menu(items: &mut [MenuItem]) {
    items.sort_by(|a, b| {
        (
            a.sort_order.is_none(),
            a.sort_order,
            &a.category,
            &a.name,
            &a.sku,
        )
            .cmp(&(
                b.sort_order.is_none(),
                b.sort_order,
                &b.category,
                &b.name,
                &b.sku,
            ))
    });
}

/// Units of one menu item a cashier picked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuPick {
    /// The item's SKU.
    pub sku: String,
    /// How many units (0 is allowed and means none).
    pub quantity: u32,
}

/// The order lines for `picks`, priced from `menu`: units of the same SKU are added
/// together; picks of 0 units are left out; an SKU not on the menu or not active is
/// refused, as is more than [`MAX_MENU_QUANTITY`] units of one item. Lines follow the
/// menu's order. No picks (or only zeros) gives no lines.
pub fn menu_lines(menu: &[MenuItem], picks: &[MenuPick]) -> Result<Vec<LineItem>, MenuError> {
    let mut units: BTreeMap<&str, u32> = BTreeMap::new();
    for pick in picks.iter().filter(|p| p.quantity > 0) {
        let item = menu
            .iter()
            .find(|i| i.sku == pick.sku)
            .ok_or_else(|| MenuError::new("sku", format!("{:?} is not on the menu", pick.sku)))?;
        if !item.active {
            return Err(MenuError::new(
                "sku",
                format!("{:?} is not on sale", pick.sku),
            ));
        }
        let total = units.entry(item.sku.as_str()).or_default();
        *total = total.saturating_add(pick.quantity);
        if *total > MAX_MENU_QUANTITY {
            return Err(MenuError::new(
                "quantity",
                format!("at most {MAX_MENU_QUANTITY} of {:?}", pick.sku),
            ));
        }
    }
    Ok(menu
        .iter()
        .filter_map(|item| {
            units.get(item.sku.as_str()).map(|&quantity| LineItem {
                sku: item.sku.clone(),
                name: item.name.clone(),
                category: item.category.clone(),
                quantity,
                unit_price: item.price,
                modifiers: Vec::new(),
            })
        })
        .collect())
}

/// The sum of `lines`' totals in `currency`.
pub fn lines_total(lines: &[LineItem], currency: Currency) -> Result<Money, DomainError> {
    lines.iter().try_fold(Money::zero(currency), |sum, line| {
        sum.checked_add(&line.total()?)
    })
}

#[cfg(test)]
mod tests;
