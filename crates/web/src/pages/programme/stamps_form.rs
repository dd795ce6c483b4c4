//! The brand's stamp cards as the named fields of an HTML form, and back, as the
//! earning rules are (`rules_form`): one row per card, each field named by its JSON path
//! in the card list (`cards[1].stamps_needed`, `cards[0].earn.categories`), so a
//! problem the cards' own validation names is shown next to its input. A row left blank
//! is no card (the form offers one for a new card); a row ticked "remove" ends its card.
//!
//! [`to_fields`] then [`from_fields`] gives back the same cards (a property test checks
//! it), so the form and the "advanced" JSON view edit one list.

use super::rules_form::{FieldErrors, Fields};
use crate::i18n::Lang;
use crate::session::Session;
use maud::{Markup, html};
use regulars_domain::{Currency, MenuItem, Money, RewardId};
use regulars_loyalty::rewards::Reward;
use regulars_loyalty::stamps::{StampCard, StampEarning};
use rust_decimal::Decimal;
use std::collections::BTreeSet;
use std::str::FromStr;

/// Fields of a row that post a value even when the row is otherwise blank.
const DEFAULTED: [&str; 3] = ["earn.per", "reward", "active"];

/// The form fields showing `cards`, in order.
pub(crate) fn to_fields(cards: &[StampCard]) -> Fields {
    let mut f = Fields::default();
    for (i, card) in cards.iter().enumerate() {
        let at = |field: &str| format!("cards[{i}].{field}");
        f.push(at("code"), card.code.clone());
        f.push(at("name"), card.name.clone());
        f.push(at("stamps_needed"), card.stamps_needed.to_string());
        match &card.earn {
            StampEarning::Item { skus, categories } => {
                f.push(at("earn.per"), "item");
                for sku in skus {
                    f.push(at("earn.skus"), sku.clone());
                }
                for category in categories {
                    f.push(at("earn.categories"), category.clone());
                }
            }
            StampEarning::Visit { min_total } => {
                f.push(at("earn.per"), "visit");
                if let Some(total) = min_total {
                    f.push(at("earn.min_total"), total.amount().to_string());
                }
            }
        }
        if let Some(max) = card.max_per_order {
            f.push(at("max_per_order"), max.to_string());
        }
        f.push(at("reward"), card.reward.to_string());
        if let Some(days) = card.expiry_days {
            f.push(at("expiry_days"), days.to_string());
        }
        if card.active {
            f.push(at("active"), "on");
        }
    }
    f
}

/// Reads the cards from a posted form, in row order, with the row each came from (to
/// show a later problem of the `n`th card next to its row). Blank and removed rows give
/// no card.
pub(crate) fn from_fields(
    f: &Fields,
    currency: Currency,
) -> Result<(Vec<StampCard>, Vec<usize>), FieldErrors> {
    let mut errors = FieldErrors::new();
    if f.too_many_rows("cards") {
        errors.insert(
            "cards".into(),
            format!("must have fewer than {} rows", super::rules_form::MAX_ROWS),
        );
    }
    let mut cards = Vec::new();
    let mut rows = Vec::new();
    for i in f.rows("cards") {
        let prefix = format!("cards[{i}]");
        if f.blank_row(&prefix, &DEFAULTED) || !f.get(&format!("{prefix}.remove")).is_empty() {
            continue;
        }
        if let Some(card) = card_from(f, i, currency, &mut errors) {
            cards.push(card);
            rows.push(i);
        }
    }
    if errors.is_empty() {
        Ok((cards, rows))
    } else {
        Err(errors)
    }
}

/// The card of row `i`, or `None` with its problems added to `errors`.
fn card_from(
    f: &Fields,
    i: usize,
    currency: Currency,
    errors: &mut FieldErrors,
) -> Option<StampCard> {
    let at = |field: &str| format!("cards[{i}].{field}");
    let before = errors.len();
    let mut fail = |name: String, message: &str| {
        errors.entry(name).or_insert_with(|| message.to_owned());
    };
    let whole = |name: &str, required: bool, fail: &mut dyn FnMut(String, &str)| {
        let text = f.get(name).trim();
        if text.is_empty() && !required {
            return None;
        }
        let parsed = text.parse::<u32>().ok();
        if parsed.is_none() {
            fail(name.to_owned(), "must be a whole number");
        }
        parsed
    };
    let stamps_needed = whole(&at("stamps_needed"), true, &mut fail).unwrap_or_default();
    let max_per_order = whole(&at("max_per_order"), false, &mut fail);
    let expiry_days = whole(&at("expiry_days"), false, &mut fail);
    let earn = match f.get(&at("earn.per")) {
        "" | "item" => StampEarning::Item {
            skus: f
                .all(&at("earn.skus"))
                .into_iter()
                .map(str::to_owned)
                .collect(),
            categories: f
                .all(&at("earn.categories"))
                .into_iter()
                .map(str::to_owned)
                .collect(),
        },
        "visit" => {
            let text = f.get(&at("earn.min_total")).trim();
            let min_total = if text.is_empty() {
                None
            } else {
                let money = Decimal::from_str(text)
                    .ok()
                    .and_then(|amount| Money::new(amount, currency).ok());
                if money.is_none() {
                    fail(at("earn.min_total"), "must be an amount such as 50000");
                }
                money
            };
            StampEarning::Visit { min_total }
        }
        _ => {
            fail(at("earn.per"), "must be item or visit");
            StampEarning::Visit { min_total: None }
        }
    };
    let reward = RewardId::from_str(f.get(&at("reward")).trim()).ok();
    if reward.is_none() {
        fail(at("reward"), "pick the reward a full card gives");
    }
    let card = StampCard {
        code: f.get(&at("code")).trim().to_owned(),
        name: f.get(&at("name")).trim().to_owned(),
        stamps_needed,
        earn,
        max_per_order,
        reward: reward?,
        expiry_days,
        active: !f.get(&at("active")).is_empty(),
    };
    (errors.len() == before).then_some(card)
}

/// The form field a card validation's `field` names (`skus` is what earns).
pub(crate) fn field_name(row: usize, field: &str) -> String {
    let inner = match field {
        "skus" => "earn.skus",
        "min_total" => "earn.min_total",
        "cards" => return "cards".into(),
        other => other,
    };
    format!("cards[{row}].{inner}")
}

/// What the form offers to pick from.
pub(crate) struct Choices<'a> {
    /// The brand's menu (items and their categories).
    pub(crate) menu: &'a [MenuItem],
    /// The reward catalogue.
    pub(crate) rewards: &'a [Reward],
}

/// The form: one fieldset per card posted or saved, and one blank for a new card.
pub(crate) fn form(session: &Session, choices: &Choices, f: &Fields, e: &FieldErrors) -> Markup {
    let l = |en: &'static str, vi: &'static str| match session.lang {
        Lang::En => en,
        Lang::Vi => vi,
    };
    let posted = f.rows("cards");
    let mut rows: Vec<usize> = posted
        .iter()
        .copied()
        .filter(|i| !f.blank_row(&format!("cards[{i}]"), &DEFAULTED))
        .collect();
    rows.push(posted.last().map_or(0, |last| last + 1));
    html! {
        form method="post" action="/dashboard/programme/stamp-cards" #stamps-form {
            input type="hidden" name="csrf" value=(session.csrf);
            @if let Some(message) = e.get("cards") { p.error.field-error data-for="cards" { (message) } }
            @if let Some(message) = e.get("") { p.error #stamps-error { (message) } }
            @for (n, i) in rows.iter().enumerate() {
                @let new = n + 1 == rows.len();
                fieldset.stamp-card id=(format!("stamp-card-{i}")) {
                    legend { (if new { l("New stamp card", "Thẻ tích dấu mới") } else { l("Stamp card", "Thẻ tích dấu") }) }
                    (card_inputs(session, choices, f, e, *i, new))
                }
            }
            button type="submit" #save-stamps { (session.lang.text().save) }
        }
    }
}

fn card_inputs(
    session: &Session,
    choices: &Choices,
    f: &Fields,
    e: &FieldErrors,
    i: usize,
    new: bool,
) -> Markup {
    let l = |en: &'static str, vi: &'static str| match session.lang {
        Lang::En => en,
        Lang::Vi => vi,
    };
    let at = |field: &str| format!("cards[{i}].{field}");
    let error = |name: &str| {
        html! { @if let Some(m) = e.get(name) { span.error.field-error data-for=(name) { (m) } } }
    };
    let input = |field: &str, label: &str, kind: &str| {
        let name = at(field);
        html! { div { label { (label) input type=(kind) name=(name) value=(f.get(&name)); } (error(&name)) } }
    };
    let per = f.get(&at("earn.per"));
    let reward = f.get(&at("reward"));
    let skus = f.all(&at("earn.skus"));
    let categories = f.all(&at("earn.categories"));
    let mut sku_options: Vec<(String, String)> = choices
        .menu
        .iter()
        .map(|item| (item.sku.clone(), item.name.clone()))
        .collect();
    for sku in &skus {
        if !sku_options.iter().any(|(s, _)| s == sku) {
            sku_options.push(((*sku).to_owned(), (*sku).to_owned()));
        }
    }
    let mut category_options: BTreeSet<String> = choices
        .menu
        .iter()
        .filter_map(|item| item.category.clone())
        .collect();
    category_options.extend(categories.iter().map(|c| (*c).to_owned()));
    let active = new || !f.get(&at("active")).is_empty();
    html! {
        div.grid2 {
            (input("name", l("Name customers see", "Tên khách thấy"), "text"))
            (input("code", l("Code (a-z, 0-9, - and _)", "Mã (a-z, 0-9, - và _)"), "text"))
            (input("stamps_needed", l("Stamps to fill the card", "Số dấu để đầy thẻ"), "number"))
            div { label { (l("A stamp for", "Mỗi dấu cho")) select name=(at("earn.per")) {
                option value="item" selected[per != "visit"] { (l("each qualifying item", "mỗi món đủ điều kiện")) }
                option value="visit" selected[per == "visit"] { (l("each visit", "mỗi lần ghé")) }
            } } (error(&at("earn.per"))) }
            div { label { (l("Items that earn (item cards)", "Món được tính (thẻ theo món)"))
                select multiple name=(at("earn.skus")) {
                    @for (sku, name) in &sku_options { option value=(sku) selected[skus.contains(&sku.as_str())] { (name) } }
                } } (error(&at("earn.skus"))) }
            div { label { (l("Categories that earn (item cards)", "Nhóm món được tính (thẻ theo món)"))
                select multiple name=(at("earn.categories")) {
                    @for category in &category_options { option value=(category) selected[categories.contains(&category.as_str())] { (category) } }
                } } (error(&at("earn.categories"))) }
            (input("earn.min_total", l("Order total needed (visit cards, optional)", "Đơn tối thiểu (thẻ theo lần ghé, tuỳ chọn)"), "number"))
            (input("max_per_order", l("Most stamps per order (optional)", "Tối đa dấu mỗi đơn (tuỳ chọn)"), "number"))
            div { label { (l("A full card gives", "Đầy thẻ được tặng")) select name=(at("reward")) {
                @for r in choices.rewards { option value=(r.id) selected[reward == r.id.to_string()] { (r.name) } }
            } } (error(&at("reward"))) }
            (input("expiry_days", l("Stamps expire after (days from the first, optional)", "Dấu hết hạn sau (ngày từ dấu đầu, tuỳ chọn)"), "number"))
            div { label { input type="checkbox" name=(at("active")) value="on" checked[active]; " " (l("Orders earn stamps", "Đơn hàng được tích dấu")) } }
            @if !new {
                div { label { input type="checkbox" name=(at("remove")) value="on"; " " (l("Remove this card", "Bỏ thẻ này")) } }
            }
        }
    }
}
