//! Writes orders in the history CSV format of [`crate::csv_import`], and makes realistic
//! histories for tests and benchmarks.
//!
//! ```
//! use regulars_domain::BrandId;
//! use regulars_pos::BrandContext;
//! use regulars_pos::csv_gen::{sample_orders, write_csv};
//! use regulars_pos::csv_import::CsvOrders;
//!
//! let brand = BrandContext::vietnam(BrandId::from_bytes([7; 16]));
//! let orders = sample_orders(&brand, 42, 100);
//! let mut file = Vec::new();
//! write_csv(&orders, &mut file)?;
//! let read: Result<Vec<_>, _> = CsvOrders::new(file.as_slice(), brand)?.collect();
//! assert_eq!(read?, orders);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::BrandContext;
use crate::csv_import::{COLUMNS, DEFAULT_SOURCE};
use regulars_domain::{EventKey, LineItem, Modifier, Money, Order, Phone};
use std::io::Write;
use thiserror::Error;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// Why orders could not be written as CSV.
#[derive(Debug, Error)]
pub enum WriteError {
    /// The writer failed.
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    /// A value the format cannot carry (a `;` or `:` where modifiers are separated).
    #[error("order {order_id:?} cannot be written: {problem}")]
    Unrepresentable {
        /// The order.
        order_id: String,
        /// What cannot be written.
        problem: String,
    },
}

/// Writes `orders` as history CSV: a header, then one row per line item.
///
/// The currency column is left out (it is the brand's). Written files read back through
/// [`crate::csv_import::CsvOrders`] as the same orders when the brand, source and text
/// fields agree (no surrounding spaces; empty categories and locations read as none).
pub fn write_csv<W: Write>(orders: &[Order], writer: W) -> Result<(), WriteError> {
    let mut out = csv::Writer::from_writer(writer);
    out.write_record(&COLUMNS[..COLUMNS.len() - 1])?;
    for order in orders {
        let placed_at =
            order
                .placed_at
                .format(&Rfc3339)
                .map_err(|e| WriteError::Unrepresentable {
                    order_id: order.key.external_id.clone(),
                    problem: e.to_string(),
                })?;
        let total = order.total.amount().to_string();
        let phone = order.customer_phone.as_ref().map_or("", Phone::as_str);
        let location = order.location.as_deref().unwrap_or_default();
        for line in &order.lines {
            let modifiers =
                modifiers_cell(&line.modifiers).map_err(|problem| WriteError::Unrepresentable {
                    order_id: order.key.external_id.clone(),
                    problem,
                })?;
            let quantity = line.quantity.to_string();
            let unit_price = line.unit_price.amount().to_string();
            out.write_record([
                order.key.external_id.as_str(),
                placed_at.as_str(),
                location,
                phone,
                line.sku.as_str(),
                line.name.as_str(),
                line.category.as_deref().unwrap_or_default(),
                quantity.as_str(),
                unit_price.as_str(),
                modifiers.as_str(),
                total.as_str(),
            ])?;
        }
    }
    out.flush().map_err(|e| WriteError::Csv(e.into()))?;
    Ok(())
}

fn modifiers_cell(modifiers: &[Modifier]) -> Result<String, String> {
    let mut cell = String::new();
    for (i, m) in modifiers.iter().enumerate() {
        if m.sku.contains([';', ':']) || m.name.contains(';') {
            return Err(format!(
                "modifier {:?}: ';' and ':' separate modifiers and their parts",
                m.sku
            ));
        }
        if i > 0 {
            cell.push(';');
        }
        cell.push_str(&m.sku);
        cell.push(':');
        cell.push_str(&m.unit_price.amount().to_string());
        if m.name != m.sku {
            cell.push(':');
            cell.push_str(&m.name);
        }
    }
    Ok(cell)
}

/// A small deterministic generator, so a seed always gives the same history.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize % items.len()]
    }
}

/// (sku, name, category, price in đồng)
const MENU: &[(&str, &str, &str, i64)] = &[
    ("TS-OOLONG", "Trà sữa ô long", "milk-tea", 45_000),
    ("TS-BROWN", "Trà sữa đường đen", "milk-tea", 50_000),
    ("TS-TARO", "Trà sữa khoai môn", "milk-tea", 48_000),
    ("FT-PEACH", "Trà đào cam sả", "fruit-tea", 42_000),
    ("FT-LYCHEE", "Trà vải", "fruit-tea", 42_000),
    ("CF-SUA", "Cà phê sữa đá", "coffee", 29_000),
    ("CF-MUOI", "Cà phê muối", "coffee", 35_000),
    ("CK-TIRAMISU", "Bánh tiramisu", "cake", 39_000),
];

const TOPPINGS: &[(&str, &str, i64)] = &[
    ("TOP-PEARL", "Trân châu đen", 5_000),
    ("TOP-CHEESE", "Kem phô mai", 10_000),
    ("TOP-JELLY", "Thạch trái cây", 7_000),
    ("TOP-PUDDING", "Pudding trứng", 8_000),
];

const LOCATIONS: &[&str] = &["q1", "q3", "thu-duc", "q7"];

/// `count` orders of a bubble-tea chain: 1–4 lines of a menu with categories, toppings
/// on some drinks, a returning customer's phone on most orders (a pool of about a fifth
/// as many customers as orders), occasional discounts, times moving forward a few
/// minutes at a time. Prices are the menu's đồng amounts as minor units of the brand's
/// currency. Keys use the source `"csv"` and ids `ORD0000001`, ….
pub fn sample_orders(brand: &BrandContext, seed: u64, count: usize) -> Vec<Order> {
    let mut rng = Lcg(seed ^ 0x5eed_cafe);
    let customers = (count as u64 / 5).max(1);
    let mut at = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
    let mut orders = Vec::with_capacity(count);
    let money = |units: i64| Money::from_minor_units(units, brand.currency);
    for n in 0..count {
        at += Duration::seconds(30 + rng.below(900) as i64);
        let line_count = 1 + rng.below(4) as usize;
        let mut lines = Vec::with_capacity(line_count);
        let mut subtotal = 0i64;
        for _ in 0..line_count {
            let (sku, name, category, price) = *rng.pick(MENU);
            let quantity = 1 + rng.below(3) as u32;
            let mut modifiers = Vec::new();
            if category != "cake" {
                for _ in 0..rng.below(3) {
                    let (tsku, tname, tprice) = *rng.pick(TOPPINGS);
                    if modifiers.iter().all(|m: &Modifier| m.sku != tsku) {
                        modifiers.push(Modifier {
                            sku: tsku.to_owned(),
                            name: tname.to_owned(),
                            unit_price: money(tprice),
                        });
                        subtotal += tprice * i64::from(quantity);
                    }
                }
            }
            subtotal += price * i64::from(quantity);
            lines.push(LineItem {
                sku: sku.to_owned(),
                name: name.to_owned(),
                category: Some(category.to_owned()),
                quantity,
                unit_price: money(price),
                modifiers,
            });
        }
        // One order in ten has a 10 % discount, rounded down to 1,000.
        let total = if rng.below(10) == 0 {
            subtotal - (subtotal / 10) / 1000 * 1000
        } else {
            subtotal
        };
        let customer_phone = if rng.below(5) == 0 {
            None
        } else {
            let c = rng.below(customers);
            Phone::parse(&format!("+849{:08}", c), brand.calling_code).ok()
        };
        let key = EventKey {
            source: DEFAULT_SOURCE.to_owned(),
            external_id: format!("ORD{:07}", n + 1),
        };
        orders.push(Order {
            brand_id: brand.brand_id,
            key,
            location: Some((*rng.pick(LOCATIONS)).to_owned()),
            customer_phone,
            placed_at: at,
            lines,
            total: money(total),
        });
    }
    orders
}
