//! The earning preview: a sample order the owner edits on the rules form, and what the
//! rules being edited give it, line by line, computed by the rules' own `evaluate`.

use super::rules_form::{FieldErrors, Fields, WEEKDAYS};
use regulars_domain::{BrandId, EventKey, LineItem, MenuItem, Money, Order, Points};
use regulars_loyalty::rules::{Earning, EarningContext, EarningRules};
use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

/// Lines a sample order offers.
pub(crate) const SAMPLE_LINES: usize = 3;

/// What the preview needs from the brand.
pub(crate) struct Shop<'a> {
    /// The brand's menu: sample lines are picked from it.
    pub(crate) menu: &'a [MenuItem],
    /// The brand's local time.
    pub(crate) offset: UtcOffset,
}

/// The sample order's fields when the form is first shown: a Monday noon visit, the
/// customer's second, with one of the menu's first item.
pub(crate) fn default_sample(fields: &mut Fields, menu: &[MenuItem]) {
    let mut set = |name: &str, value: &str| fields.0.push((name.to_owned(), value.to_owned()));
    set("sample.weekday", "mon");
    set("sample.time", "12:00");
    set("sample.visit", "2");
    if let Some(item) = menu.first() {
        set("sample.lines[0].sku", &item.sku);
        set("sample.lines[0].quantity", "1");
    }
}

/// The sample order the fields describe, on a fixed week (Monday 5 January 2026) at the
/// brand's local time, with its context.
pub(crate) fn sample(
    f: &Fields,
    shop: &Shop<'_>,
    rules: &EarningRules,
) -> Result<(Order, EarningContext), FieldErrors> {
    let mut errors = FieldErrors::new();
    let weekday = f.get("sample.weekday");
    let day = WEEKDAYS
        .iter()
        .position(|(_, c)| *c == weekday)
        .unwrap_or_else(|| {
            errors.insert("sample.weekday".into(), "pick a weekday".into());
            0
        });
    let time = parse_time(f.get("sample.time").trim()).unwrap_or_else(|| {
        errors.insert("sample.time".into(), "must be a time such as 14:00".into());
        Time::MIDNIGHT
    });
    let visit = f
        .get("sample.visit")
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|v| *v >= 1)
        .unwrap_or_else(|| {
            errors.insert(
                "sample.visit".into(),
                "must be a visit number from 1".into(),
            );
            1
        });
    let (lines, total) = sample_lines(f, shop, rules.currency, &mut errors);
    if lines.is_empty() && errors.is_empty() {
        errors.insert(
            "sample.lines[0].sku".into(),
            "pick at least one item".into(),
        );
    }
    let date = Date::from_calendar_date(2026, Month::January, 5)
        .ok()
        .and_then(|monday| monday.checked_add(time::Duration::days(day as i64)));
    let (Some(date), Ok(key)) = (date, EventKey::new("preview", "sample")) else {
        errors.insert(
            "sample.weekday".into(),
            "cannot be placed on the calendar".into(),
        );
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let location = f.get("sample.location").trim();
    let tier = f.get("sample.tier").trim();
    let order = Order {
        brand_id: BrandId::from_bytes([0; 16]),
        key,
        location: (!location.is_empty()).then(|| location.to_owned()),
        customer_phone: None,
        placed_at: PrimitiveDateTime::new(date, time).assume_offset(shop.offset),
        lines,
        total,
    };
    let mut context = EarningContext::new(shop.offset, visit)
        .with_birthday(!f.get("sample.birthday").is_empty())
        .with_earned_today(Points::ZERO);
    if !tier.is_empty() {
        context = context.with_tier(tier);
    }
    Ok((order, context))
}

/// The sample's lines, priced from the menu, and their total.
fn sample_lines(
    f: &Fields,
    shop: &Shop<'_>,
    currency: regulars_domain::Currency,
    errors: &mut FieldErrors,
) -> (Vec<LineItem>, Money) {
    let mut lines = Vec::new();
    let mut total = Money::zero(currency);
    for i in 0..SAMPLE_LINES {
        let sku = f.get(&format!("sample.lines[{i}].sku")).trim();
        if sku.is_empty() {
            continue;
        }
        let qty_field = format!("sample.lines[{i}].quantity");
        let Some(item) = shop.menu.iter().find(|m| m.sku == sku) else {
            errors.insert(
                format!("sample.lines[{i}].sku"),
                "is not on the menu".into(),
            );
            continue;
        };
        let quantity = match f.get(&qty_field).trim().parse::<u32>() {
            Ok(q) if (1..=999).contains(&q) => q,
            _ => {
                errors.insert(qty_field, "must be a quantity from 1 to 999".into());
                continue;
            }
        };
        match item
            .price
            .checked_mul_qty(quantity)
            .and_then(|p| total.checked_add(&p))
        {
            Ok(sum) => total = sum,
            Err(e) => {
                errors.insert(qty_field, e.to_string());
                continue;
            }
        }
        lines.push(LineItem {
            sku: item.sku.clone(),
            name: item.name.clone(),
            category: item.category.clone(),
            quantity,
            unit_price: item.price,
            modifiers: Vec::new(),
        });
    }
    (lines, total)
}

fn parse_time(text: &str) -> Option<Time> {
    let (h, m) = text.split_once(':')?;
    let (h, m) = (h.parse::<u8>().ok()?, m.parse::<u8>().ok()?);
    Time::from_hms(h, m, 0).ok()
}

/// What the sample earns under `rules`, or why it cannot be said.
pub(crate) fn earn(
    f: &Fields,
    shop: &Shop<'_>,
    rules: &EarningRules,
) -> Result<Earning, FieldErrors> {
    let (order, context) = sample(f, shop, rules)?;
    rules.evaluate(&order, &context).map_err(|e| {
        let mut errors = FieldErrors::new();
        errors.insert("sample".into(), e.to_string());
        errors
    })
}
