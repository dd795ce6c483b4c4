//! The tier programme as the named fields of an HTML form, and back, as the earning
//! rules are (`rules_form`): fields named by JSON path (`tiers[1].threshold`), so the
//! programme's own validation names the input to show a problem next to. No tier rows
//! at all means no tiers.

use super::rules_form::{FieldErrors, Fields};
use crate::i18n::Lang;
use crate::session::Session;
use maud::{Markup, html};
use regulars_domain::{Currency, Money, Points};
use regulars_loyalty::tiers::{
    QualificationMetric, QualifyingValue, ReviewPeriod, Tier, TierBenefits, TierCode, TierProgram,
};
use rust_decimal::Decimal;

/// The form fields showing `program` (or no tiers), in the brand's `currency`.
pub(crate) fn to_fields(program: Option<&TierProgram>, currency: Currency) -> Fields {
    let mut f = Fields::default();
    let (metric, currency) = match program.map(TierProgram::metric) {
        Some(QualificationMetric::Spend { currency }) => ("spend", currency),
        _ => ("points", currency),
    };
    f.push("metric", metric);
    f.push("metric.currency", currency.to_string());
    f.push(
        "window_days",
        program.map_or("365".to_owned(), |p| p.window_days().to_string()),
    );
    f.push(
        "review_period",
        period_code(program.map_or(ReviewPeriod::Year, TierProgram::review_period)),
    );
    for (i, tier) in program
        .map(TierProgram::tiers)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let at = |field: &str| format!("tiers[{i}].{field}");
        f.push(at("code"), tier.code.as_str());
        f.push(at("name"), tier.name.clone());
        let threshold = match &tier.threshold {
            QualifyingValue::Points(points) => points.value().to_string(),
            QualifyingValue::Spend(money) => money.amount().to_string(),
        };
        f.push(at("threshold"), threshold);
        f.push(
            at("benefits.earn_multiplier"),
            tier.benefits.earn_multiplier.to_string(),
        );
        f.push(at("benefits.perks"), tier.benefits.perks.join("\n"));
    }
    f
}

fn period_code(period: ReviewPeriod) -> &'static str {
    match period {
        ReviewPeriod::Month => "month",
        ReviewPeriod::Quarter => "quarter",
        ReviewPeriod::Year => "year",
    }
}

/// Reads the tier programme from a posted form: `None` when no tier row is filled.
pub(crate) fn from_fields(f: &Fields) -> Result<Option<TierProgram>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut fail = |name: &str, message: String| {
        errors.entry(name.to_owned()).or_insert(message);
    };
    let (metric, window_days, review_period) = qualification(f, &mut fail);
    if f.too_many_rows("tiers") {
        fail(
            "tiers",
            format!("must have fewer than {} rows", super::rules_form::MAX_ROWS),
        );
    }
    let mut rows = Vec::new();
    let mut tiers = Vec::new();
    for i in f.rows("tiers") {
        if f.blank_row(&format!("tiers[{i}]"), &[]) {
            continue;
        }
        rows.push(i);
        if let Some(tier) = tier_of_row(f, i, metric, &mut fail) {
            tiers.push(tier);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if tiers.is_empty() {
        return Ok(None);
    }
    TierProgram::new(metric, window_days, review_period, tiers)
        .map(Some)
        .map_err(|e| {
            let mut errors = FieldErrors::new();
            errors.insert(field_of(&e.field, &rows), e.reason);
            errors
        })
}

/// How tiers are earned: the metric, the window in days and the review period, each
/// problem told to `fail` under its field.
fn qualification(
    f: &Fields,
    fail: &mut dyn FnMut(&str, String),
) -> (QualificationMetric, u32, ReviewPeriod) {
    let currency = f
        .get("metric.currency")
        .trim()
        .parse::<Currency>()
        .unwrap_or(Currency::VND);
    let metric = match f.get("metric") {
        "" | "points" => QualificationMetric::Points,
        "spend" => QualificationMetric::Spend { currency },
        other => {
            fail("metric", format!("{other:?} is not points or spend"));
            QualificationMetric::Points
        }
    };
    let window_days = f
        .get("window_days")
        .trim()
        .parse::<u32>()
        .unwrap_or_else(|_| {
            fail("window_days", "must be a whole number of days".into());
            0
        });
    let review_period = match f.get("review_period") {
        "month" => ReviewPeriod::Month,
        "quarter" => ReviewPeriod::Quarter,
        "" | "year" => ReviewPeriod::Year,
        other => {
            fail(
                "review_period",
                format!("{other:?} is not month, quarter or year"),
            );
            ReviewPeriod::Year
        }
    };
    (metric, window_days, review_period)
}

/// The tier of the filled row `i`, each problem told to `fail` under its field; `None`
/// when its code is not valid.
fn tier_of_row(
    f: &Fields,
    i: usize,
    metric: QualificationMetric,
    fail: &mut dyn FnMut(&str, String),
) -> Option<Tier> {
    let at = |field: &str| format!("tiers[{i}].{field}");
    let code = match TierCode::new(f.get(&at("code")).trim()) {
        Ok(code) => Some(code),
        Err(e) => {
            fail(&at("code"), e.reason);
            None
        }
    };
    let number = |name: &str, fail: &mut dyn FnMut(&str, String)| {
        let text = f.get(name).trim();
        let plain = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        match Decimal::from_str_exact(text) {
            Ok(value) if plain => value,
            _ => {
                fail(name, "must be a number such as 1.5".into());
                Decimal::ZERO
            }
        }
    };
    let threshold_number = number(&at("threshold"), fail);
    let threshold = match metric {
        QualificationMetric::Points if threshold_number.fract().is_zero() => {
            i64::try_from(threshold_number)
                .map(|n| QualifyingValue::Points(Points::new(n)))
                .unwrap_or_else(|_| {
                    fail(&at("threshold"), "is too large".into());
                    metric.zero()
                })
        }
        QualificationMetric::Points => {
            fail(&at("threshold"), "points must be a whole number".into());
            metric.zero()
        }
        QualificationMetric::Spend { currency } => Money::new(threshold_number, currency)
            .map(QualifyingValue::Spend)
            .unwrap_or_else(|e| {
                fail(&at("threshold"), e.to_string());
                metric.zero()
            }),
    };
    let earn_multiplier = number(&at("benefits.earn_multiplier"), fail);
    let perks = f
        .get(&at("benefits.perks"))
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.trim_end_matches('\r').to_owned())
        .collect();
    let code = code?;
    Some(Tier {
        code,
        name: f.get(&at("name")).to_owned(),
        threshold,
        benefits: TierBenefits {
            earn_multiplier,
            perks,
        },
    })
}

/// The form field of a path in the tier programme: `tiers[k]` is the k-th filled row.
fn field_of(path: &str, rows: &[usize]) -> String {
    let Some(rest) = path.strip_prefix("tiers[") else {
        return path.to_owned();
    };
    let Some((number, tail)) = rest.split_once(']') else {
        return path.to_owned();
    };
    let row = number
        .parse::<usize>()
        .ok()
        .and_then(|k| rows.get(k).copied())
        .unwrap_or(0);
    let tail = match tail.find("perks[") {
        Some(cut) => &tail[..cut + "perks".len()],
        None => tail,
    };
    format!("tiers[{row}]{tail}")
}

fn tr(lang: Lang, en: &'static str, vi: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Vi => vi,
    }
}

/// The tiers form, filled from `f`, with one empty row for a new tier.
pub(crate) fn form(session: &Session, f: &Fields, e: &FieldErrors) -> Markup {
    let l = |en, vi| tr(session.lang, en, vi);
    let rows = f.rows("tiers").last().map_or(0, |r| r + 1) + 1;
    let input = |name: &str, label: &str, kind: &str| {
        html! {
            div {
                label { (label) input type=(kind) name=(name) value=(f.get(name)) step=[(kind == "number").then_some("any")]; }
                @if let Some(message) = e.get(name) { span.error.field-error data-for=(name) { (message) } }
            }
        }
    };
    let choice = |name: &str, label: &str, options: &[(&str, &str)]| {
        let current = f.get(name);
        html! {
            div {
                label { (label) select name=(name) {
                    @for (value, text) in options { option value=(value) selected[*value == current] { (text) } }
                } }
                @if let Some(message) = e.get(name) { span.error.field-error data-for=(name) { (message) } }
            }
        }
    };
    html! {
        form method="post" action="/dashboard/programme/tiers" #tiers-form {
            input type="hidden" name="csrf" value=(session.csrf);
            input type="hidden" name="metric.currency" value=(f.get("metric.currency"));
            @if let Some((name, message)) = e.iter().next() {
                p.error #tiers-error { (name) ": " (message) }
            }
            div.grid2 {
                (choice("metric", l("Customers qualify by", "Khách lên hạng theo"), &[("points", l("points earned", "điểm đã tích")), ("spend", l("money spent", "số tiền đã chi"))]))
                (input("window_days", l("Counted over the last (days)", "Tính trong (ngày) gần nhất"), "number"))
                (choice("review_period", l("Downgrades reviewed every", "Xét hạ hạng mỗi"), &[("month", l("month", "tháng")), ("quarter", l("quarter", "quý")), ("year", l("year", "năm"))]))
            }
            p.muted { (l("Tiers from lowest to highest; leave every row empty for no tiers.", "Các hạng từ thấp đến cao; để trống mọi dòng nếu không dùng hạng.")) }
            @for i in 0..rows {
                @let at = |field: &str| format!("tiers[{i}].{field}");
                div.grid2.rule-row {
                    (input(&at("code"), l("Code", "Mã"), "text"))
                    (input(&at("name"), l("Name", "Tên"), "text"))
                    (input(&at("threshold"), l("Reached at", "Đạt khi có"), "number"))
                    (input(&at("benefits.earn_multiplier"), l("Points multiplied by (1 to 10)", "Nhân điểm (1 đến 10)"), "number"))
                    div {
                        @let perks = at("benefits.perks");
                        label { (l("Perks, one per line", "Ưu đãi, mỗi dòng một")) textarea name=(perks) rows="2" style="min-height:3rem" { (f.get(&perks)) } }
                        @if let Some(message) = e.get(&perks) { span.error.field-error data-for=(perks) { (message) } }
                    }
                }
            }
            button type="submit" #save-tiers { (session.lang.text().save) }
        }
    }
}

#[cfg(test)]
#[path = "tiers_form_tests.rs"]
mod tests;
