//! The cells of an order-history row: reading a column's text, and parsing amounts,
//! modifiers and times.

use super::COLUMNS;
use crate::BrandContext;
use crate::amount::parse_decimal;
use csv::ByteRecord;
use regulars_domain::{Modifier, Money};
use std::hash::{DefaultHasher, Hash, Hasher};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// The text of column `col` of `record` ("" when the column is absent).
pub(super) fn field_of<'r>(
    record: &'r ByteRecord,
    index: &[Option<usize>; COLUMNS.len()],
    col: usize,
) -> Result<&'r str, String> {
    let Some(bytes) = index[col].and_then(|i| record.get(i)) else {
        return Ok("");
    };
    std::str::from_utf8(bytes).map_err(|_| "not valid UTF-8".to_owned())
}

/// A fixed-size stand-in for an order id, to remember the orders already finished.
pub(super) fn fingerprint(order_id: &str) -> u64 {
    // DefaultHasher::new() is keyed with constants: the same id gives the same value.
    let mut h = DefaultHasher::new();
    order_id.hash(&mut h);
    h.finish()
}

/// An amount in major units (`45000`, `4.50`) in the brand's currency.
pub(super) fn parse_money(text: &str, brand: &BrandContext) -> Result<Money, String> {
    let amount = parse_decimal(text)?;
    Money::new(amount, brand.currency).map_err(|e| e.to_string())
}

/// `SKU:price[:name]` entries separated by `;`.
pub(super) fn parse_modifiers(text: &str, brand: &BrandContext) -> Result<Vec<Modifier>, String> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(';')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let mut parts = entry.splitn(3, ':');
            let sku = parts.next().unwrap_or_default().trim();
            let price = parts.next().map(str::trim);
            let name = parts.next().map(str::trim).filter(|n| !n.is_empty());
            let (false, Some(price)) = (sku.is_empty(), price) else {
                return Err(format!(
                    "modifier {entry:?} is not SKU:price or SKU:price:name"
                ));
            };
            let unit_price =
                parse_money(price, brand).map_err(|p| format!("modifier {sku:?}: {p}"))?;
            Ok(Modifier {
                sku: sku.to_owned(),
                name: name.unwrap_or(sku).to_owned(),
                unit_price,
            })
        })
        .collect()
}

/// RFC 3339, or a local `YYYY-MM-DD HH:MM[:SS]` (or with `T`) in the brand's offset.
pub(super) fn parse_time(text: &str, brand: &BrandContext) -> Result<OffsetDateTime, String> {
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(at);
    }
    let normalized = text.replacen('T', " ", 1);
    let local = PrimitiveDateTime::parse(
        &normalized,
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
    )
    .or_else(|_| {
        PrimitiveDateTime::parse(
            &normalized,
            format_description!("[year]-[month]-[day] [hour]:[minute]"),
        )
    })
    .map_err(|_| {
        format!(
            "{text:?} is not a time such as 2026-05-01T17:00:00+07:00 or 2026-05-01 17:00 \
             (local time)"
        )
    })?;
    Ok(local.assume_offset(brand.utc_offset))
}
