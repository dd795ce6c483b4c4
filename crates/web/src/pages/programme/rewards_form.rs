//! A new reward for the catalogue, by form: its name, cost, validity, what it gives (a
//! free item or topping from the menu, an amount or a percentage off) and the order
//! total it needs; checked by the reward's own validation, saved through the same use
//! case as the API, each problem next to its input.

use super::rules_form::{FieldErrors, Fields};
use super::{Shown as Page, message, render, reply};
use crate::WebState;
use crate::i18n::Lang;
use crate::render::Fail;
use crate::session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_domain::{Currency, MenuItem, Money, Points, RewardId};
use regulars_loyalty::rewards::{Reward, RewardError, RewardKind};
use rust_decimal::Decimal;

/// The kinds of reward, as the form names them.
const KINDS: [&str; 4] = [
    "free_item",
    "free_modifier",
    "fixed_discount",
    "percent_discount",
];

/// Reads a new reward from the form, in the brand's `currency`.
pub(crate) fn from_fields(f: &Fields, currency: Currency) -> Result<Reward, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut number = |name: &str, required: bool| -> Option<Decimal> {
        let text = f.get(name).trim();
        if text.is_empty() {
            if required {
                errors.insert(name.to_owned(), "is required".into());
            }
            return None;
        }
        let plain = text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        match Decimal::from_str_exact(text) {
            Ok(value) if plain => Some(value),
            _ => {
                errors.insert(name.to_owned(), "must be a number such as 1.5".into());
                None
            }
        }
    };
    let cost = number("cost", true);
    let validity = number("validity_days", true);
    let min_total = number("min_order_total", false);
    let kind = match f.get("kind") {
        "free_modifier" => RewardKind::FreeModifier {
            sku: f.get("kind.sku").trim().to_owned(),
        },
        "fixed_discount" => RewardKind::FixedDiscount {
            amount: money(number("kind.amount", true), currency),
        },
        "percent_discount" => RewardKind::PercentDiscount {
            percent: number("kind.percent", true).unwrap_or(Decimal::ONE),
            cap: number("kind.cap", false).map(|c| money(Some(c), currency)),
        },
        _ => RewardKind::FreeItem {
            sku: f.get("kind.sku").trim().to_owned(),
        },
    };
    let whole = |value: Option<Decimal>, name: &str, errors: &mut FieldErrors| {
        let value = value?;
        let whole = (value.fract().is_zero())
            .then(|| i64::try_from(value).ok())
            .flatten();
        if whole.is_none() {
            errors.insert(name.to_owned(), "must be a whole number".into());
        }
        whole
    };
    let cost = whole(cost, "cost", &mut errors);
    let validity = whole(validity, "validity_days", &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    let reward = Reward {
        id: RewardId::from_uuid(uuid::Uuid::nil()),
        name: f.get("name").trim().to_owned(),
        cost: Points::new(cost.unwrap_or(0)),
        kind,
        active: !f.get("active").is_empty(),
        validity_days: validity.and_then(|v| u32::try_from(v).ok()).unwrap_or(0),
        min_order_total: min_total.map(|m| money(Some(m), currency)),
    };
    reward.validate().map_err(|e| {
        let (field, reason) = match e {
            RewardError::Invalid { field, reason } => (field.to_owned(), reason),
            other => (String::new(), other.to_string()),
        };
        FieldErrors::from([(field, reason)])
    })?;
    Ok(reward)
}

/// An amount in `currency`; out of range becomes zero, which validation refuses.
fn money(amount: Option<Decimal>, currency: Currency) -> Money {
    amount
        .and_then(|a| Money::new(a, currency).ok())
        .unwrap_or_else(|| Money::zero(currency))
}

/// The new reward form, filled from `f` (after a refusal) or empty.
pub(crate) fn form(session: &Session, menu: &[MenuItem], f: &Fields, e: &FieldErrors) -> Markup {
    let l = |en: &'static str, vi: &'static str| match session.lang {
        Lang::En => en,
        Lang::Vi => vi,
    };
    let input = |name: &str, label: &str, kind: &str| {
        html! {
            div {
                label { (label) input type=(kind) name=(name) value=(f.get(name)) list=[(name == "kind.sku").then_some("menu-skus")]; }
                @if let Some(message) = e.get(name) { span.error.field-error data-for=(name) { (message) } }
            }
        }
    };
    let kinds = [
        l("a free item", "một món miễn phí"),
        l("a free topping", "một topping miễn phí"),
        l("an amount off", "giảm một số tiền"),
        l("a percentage off", "giảm theo phần trăm"),
    ];
    let kind = f.get("kind");
    html! {
        form method="post" action="/dashboard/programme/rewards" #new-reward {
            h3 { (l("New reward", "Phần thưởng mới")) }
            input type="hidden" name="csrf" value=(session.csrf);
            @if let Some((name, message)) = e.iter().next() { p.error #new-reward-error { (name) ": " (message) } }
            datalist #menu-skus { @for item in menu { option value=(item.sku) { (item.name) } } }
            div.grid2 {
                (input("name", l("Name", "Tên"), "text"))
                (input("cost", l("Cost in points", "Giá (điểm)"), "number"))
                (input("validity_days", l("Voucher valid for (days)", "Voucher hiệu lực (ngày)"), "number"))
                div { label { (l("Gives", "Tặng")) select name="kind" {
                    @for (code, text) in KINDS.iter().zip(kinds) { option value=(code) selected[*code == kind] { (text) } }
                } } }
                (input("kind.sku", l("Item or topping (free item, free topping)", "Món hoặc topping (món, topping miễn phí)"), "text"))
                (input("kind.amount", l("Amount off", "Số tiền giảm"), "number"))
                (input("kind.percent", l("Percent off (1 to 100)", "Phần trăm giảm (1 đến 100)"), "number"))
                (input("kind.cap", l("At most (percent off, optional)", "Giảm tối đa (tuỳ chọn)"), "number"))
                (input("min_order_total", l("Order total needed (optional)", "Đơn tối thiểu (tuỳ chọn)"), "number"))
                div { label { input type="checkbox" name="active" value="on" checked[f.0.is_empty() || !f.get("active").is_empty()]; " " (session.lang.text().active) } }
            }
            button type="submit" #create-reward { (session.lang.text().save) }
        }
    }
}

/// `POST /dashboard/programme/rewards`: adds a reward to the catalogue.
pub(crate) async fn create_reward(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    let fields = Fields(form.into_inner());
    session.authorise_change(&state, fields.get("csrf"))?;
    let brand = session.brand();
    let currency = state
        .services
        .brand(brand)
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?
        .currency;
    let outcome = match from_fields(&fields, currency) {
        Err(errors) => Err(errors),
        Ok(reward) => match state.services.save_reward(brand, None, reward).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let text = message(&e).ok_or_else(|| Fail::internal(session.lang, &e))?;
                Err(FieldErrors::from([(String::new(), text)]))
            }
        },
    };
    let (shown, status) = match outcome {
        Ok(()) => (
            Page {
                saved: true,
                ..Page::default()
            },
            StatusCode::OK,
        ),
        Err(errors) => (
            Page {
                new_reward: Some((fields, errors)),
                ..Page::default()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    };
    let page = render(&state, &session, shown).await?;
    Ok(reply(&req, page, status))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Fields {
        Fields(
            pairs
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn a_percent_off_reward_reads_as_the_api_would_build_it() {
        let reward = from_fields(
            &form(&[
                ("name", "10% off"),
                ("cost", "50"),
                ("validity_days", "30"),
                ("kind", "percent_discount"),
                ("kind.percent", "10"),
                ("kind.cap", "20000"),
                ("active", "on"),
            ]),
            Currency::VND,
        );
        let reward = reward.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            reward.kind,
            RewardKind::PercentDiscount {
                percent: Decimal::TEN,
                cap: Some(Money::from_minor_units(20_000, Currency::VND)),
            }
        );
        assert_eq!(reward.cost, Points::new(50));
        assert!(reward.active);
    }

    #[test]
    fn problems_name_their_field() {
        let errors = from_fields(
            &form(&[
                ("name", "Free tea"),
                ("cost", "ten"),
                ("validity_days", "30"),
                ("kind", "free_item"),
            ]),
            Currency::VND,
        )
        .err()
        .unwrap_or_default();
        assert!(errors.contains_key("cost"), "{errors:?}");
        let errors = from_fields(
            &form(&[
                ("name", "Free tea"),
                ("cost", "10"),
                ("validity_days", "30"),
                ("kind", "free_item"),
                ("kind.sku", " "),
            ]),
            Currency::VND,
        )
        .err()
        .unwrap_or_default();
        assert!(errors.contains_key("kind.sku"), "{errors:?}");
    }
}
