//! The earning rules section of the programme page: the form an owner fills without
//! JSON, the preview of a sample order, and the JSON document as an "advanced" view.
//! Both post to `/dashboard/programme/earning-rules` and save through the same use case.

use super::preview::{self, SAMPLE_LINES, Shop};
use super::rules_form::{FieldErrors, Fields, VISIT_KINDS, WEEKDAYS, from_fields, to_fields};
use crate::i18n::Lang;
use crate::session::Session;
use maud::{Markup, html};
use regulars_domain::MenuItem;
use regulars_loyalty::rules::{Earning, EarningRules};
use regulars_ports::Location;

/// Empty rows offered below the rules of each list, for new rules.
const SPARE_ROWS: usize = 2;

/// What the rules section shows besides the saved document.
#[derive(Debug, Default)]
pub(crate) struct Shown {
    /// The form as posted, when it is shown again (after a preview or a refusal).
    pub(crate) fields: Option<Fields>,
    /// Problems by field.
    pub(crate) errors: FieldErrors,
    /// The preview of the sample order.
    pub(crate) preview: Option<Earning>,
    /// The JSON document as posted, with its problem.
    pub(crate) json: Option<(String, String)>,
}

/// The brand's choices the form offers as pick-lists.
pub(crate) struct Choices<'a> {
    pub(crate) menu: &'a [MenuItem],
    pub(crate) locations: &'a [Location],
    /// Tier codes and names.
    pub(crate) tiers: Vec<(String, String)>,
}

/// English or Vietnamese.
fn tr(lang: Lang, en: &'static str, vi: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Vi => vi,
    }
}

/// Reads the posted form; a preview evaluates it on the sample order.
pub(crate) fn read(
    fields: &Fields,
    shop: &Shop<'_>,
    preview: bool,
) -> (
    Result<EarningRules, FieldErrors>,
    Option<Earning>,
    FieldErrors,
) {
    let rules = from_fields(fields);
    let mut sample_errors = FieldErrors::new();
    let earning = match (&rules, preview) {
        (Ok(rules), true) => match preview::earn(fields, shop, rules) {
            Ok(earning) => Some(earning),
            Err(errors) => {
                sample_errors = errors;
                None
            }
        },
        _ => None,
    };
    (rules, earning, sample_errors)
}

fn error(errors: &FieldErrors, name: &str) -> Markup {
    html! {
        @if let Some(e) = errors.get(name) {
            span.error.field-error data-for=(name) { (e) }
        }
    }
}

fn text_input(f: &Fields, errors: &FieldErrors, name: &str, label: &str, kind: &str) -> Markup {
    html! {
        div {
            label { (label)
                input type=(kind) name=(name) value=(f.get(name)) step=[(kind == "number").then_some("any")];
            }
            (error(errors, name))
        }
    }
}

fn select(
    f: &Fields,
    errors: &FieldErrors,
    name: &str,
    label: &str,
    options: &[(String, String)],
) -> Markup {
    let current = f.get(name);
    let known = options.iter().any(|(v, _)| v == current);
    html! {
        div {
            label { (label)
                select name=(name) {
                    @if !known { option value=(current) selected { (current) } }
                    @for (value, text) in options {
                        option value=(value) selected[value == current] { (text) }
                    }
                }
            }
            (error(errors, name))
        }
    }
}

/// A multiple select: the chosen codes first, in the document's order (so the form
/// posts them back in that order), then the others.
fn multi(
    f: &Fields,
    errors: &FieldErrors,
    name: &str,
    label: &str,
    options: &[(String, String)],
) -> Markup {
    let chosen = f.all(name);
    let text = |code: &str| {
        options
            .iter()
            .find(|(v, _)| v == code)
            .map_or(code.to_owned(), |(_, t)| t.clone())
    };
    html! {
        div {
            label { (label)
                select name=(name) multiple size=(options.len().clamp(2, 6)) {
                    @for code in &chosen { option value=(code) selected { (text(code)) } }
                    @for (value, t) in options.iter().filter(|(v, _)| !chosen.contains(&v.as_str())) {
                        option value=(value) { (t) }
                    }
                }
            }
            (error(errors, name))
        }
    }
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(v, t)| ((*v).to_owned(), (*t).to_owned()))
        .collect()
}

/// The form, filled from `fields`.
pub(crate) fn form(
    session: &Session,
    choices: &Choices<'_>,
    fields: &Fields,
    errors: &FieldErrors,
    earning: Option<&Earning>,
) -> Markup {
    let lang = session.lang;
    let l = |en, vi| tr(lang, en, vi);
    let e = errors;
    let f = fields;
    let skus: Vec<(String, String)> = std::iter::once((String::new(), "—".to_owned()))
        .chain(
            choices
                .menu
                .iter()
                .map(|m| (m.sku.clone(), format!("{} ({})", m.name, m.sku))),
        )
        .collect();
    let mut categories: Vec<String> = choices
        .menu
        .iter()
        .filter_map(|m| m.category.clone())
        .collect();
    categories.sort();
    categories.dedup();
    let categories: Vec<(String, String)> = std::iter::once((String::new(), "—".to_owned()))
        .chain(categories.into_iter().map(|c| (c.clone(), c)))
        .collect();
    let locations: Vec<(String, String)> = choices
        .locations
        .iter()
        .map(|loc| (loc.code.clone(), format!("{} ({})", loc.name, loc.code)))
        .collect();
    let rounding = pairs(&[
        ("floor", l("down", "làm tròn xuống")),
        ("nearest", l("nearest", "gần nhất")),
        ("ceil", l("up", "làm tròn lên")),
    ]);
    let bonus_rows = f.rows("product_bonuses").last().map_or(0, |r| r + 1) + SPARE_ROWS;
    html! {
        form method="post" action="/dashboard/programme/earning-rules" #rules-form {
            input type="hidden" name="csrf" value=(session.csrf);
            input type="hidden" name="currency" value=(f.get("currency"));
            @if !e.is_empty() {
                p.error #rules-error { (l("Check the fields marked below.", "Hãy xem lại các ô được đánh dấu bên dưới.")) " "
                    @for (name, message) in e.iter().take(1) { (name) ": " (message) } }
            }
            fieldset #base-rate {
                legend { (l("Base rate", "Tích điểm cơ bản")) }
                div.grid2 {
                    (text_input(f, e, "base.points", l("Points", "Điểm"), "number"))
                    (text_input(f, e, "base.per_amount", &format!("{} ({})", l("for every amount spent", "cho mỗi số tiền"), f.get("currency")), "number"))
                    (select(f, e, "base.rounding", l("Rounding", "Làm tròn"), &rounding))
                    (text_input(f, e, "base.label", l("Label (optional)", "Tên hiển thị (tuỳ chọn)"), "text"))
                }
                div.grid2 {
                    (text_input(f, e, "minimum_spend.amount", l("Minimum spend to earn anything", "Chi tiêu tối thiểu để được tích điểm"), "number"))
                    (text_input(f, e, "minimum_spend.label", l("Label (optional)", "Tên hiển thị (tuỳ chọn)"), "text"))
                }
            }
            fieldset #product-bonuses {
                legend { (l("Product and category bonuses (points per unit)", "Thưởng theo món hoặc nhóm món (điểm mỗi phần)")) }
                @for i in 0..bonus_rows {
                    @let at = |field: &str| format!("product_bonuses[{i}].{field}");
                    div.grid2.rule-row {
                        (select(f, e, &at("sku"), l("Item", "Món"), &skus))
                        (select(f, e, &at("category"), l("or category", "hoặc nhóm món"), &categories))
                        (text_input(f, e, &at("points_per_unit"), l("Points per unit", "Điểm mỗi phần"), "number"))
                        (text_input(f, e, &at("label"), l("Label (optional)", "Tên hiển thị (tuỳ chọn)"), "text"))
                    }
                }
            }
            (multipliers(lang, f, e, choices, &locations))
            (visit_bonuses(lang, f, e))
            fieldset #caps {
                legend { (l("Caps and point value", "Giới hạn và giá trị điểm")) }
                div.grid2 {
                    (text_input(f, e, "order_cap.points", l("Most points per order", "Tối đa điểm mỗi đơn"), "number"))
                    (text_input(f, e, "order_cap.label", l("Label (optional)", "Tên hiển thị (tuỳ chọn)"), "text"))
                    (text_input(f, e, "day_cap.points", l("Most points per customer per day", "Tối đa điểm mỗi khách mỗi ngày"), "number"))
                    (text_input(f, e, "day_cap.label", l("Label (optional)", "Tên hiển thị (tuỳ chọn)"), "text"))
                    (text_input(f, e, "point_value", &format!("{} ({})", l("What one point is worth to the shop (optional)", "Giá trị một điểm với cửa hàng (tuỳ chọn)"), f.get("currency")), "number"))
                }
            }
            (sample_fields(session, choices, f, e, &skus, &locations))
            button type="submit" name="action" value="preview" #preview-rules { (l("Preview", "Xem trước")) }
            " "
            button type="submit" name="action" value="save" #save-rules { (tr(lang, "Save", "Lưu")) }
            @if let Some(earning) = earning { (preview_table(lang, earning)) }
        }
    }
}

/// The multipliers, with one empty row for a new one.
fn multipliers(
    lang: Lang,
    f: &Fields,
    e: &FieldErrors,
    choices: &Choices<'_>,
    locations: &[(String, String)],
) -> Markup {
    let l = |en, vi| tr(lang, en, vi);
    let stacking = pairs(&[
        (
            "highest",
            l("only the highest applies", "chỉ áp dụng hệ số cao nhất"),
        ),
        (
            "multiply",
            l("they multiply together", "nhân dồn các hệ số"),
        ),
    ]);
    let birthday = pairs(&[
        ("", l("any day", "ngày bất kỳ")),
        ("yes", l("only on the birthday", "chỉ ngày sinh nhật")),
        ("no", l("not on the birthday", "trừ ngày sinh nhật")),
    ]);
    let multiplier_rows = f.rows("multipliers").last().map_or(0, |r| r + 1) + 1;
    html! {
    fieldset #multipliers {
        legend { (l("Multipliers (happy hour, weekdays, shops, tiers, birthday)", "Nhân điểm (giờ vàng, ngày trong tuần, cửa hàng, hạng, sinh nhật)")) }
        @for i in 0..multiplier_rows {
            @let at = |field: &str| format!("multipliers[{i}].{field}");
            div.rule-row data-row=(i) {
                div.grid2 {
                    (text_input(f, e, &at("factor"), l("Multiply points by", "Nhân điểm với"), "number"))
                    (text_input(f, e, &at("label"), l("Label (optional)", "Tên hiển thị (tuỳ chọn)"), "text"))
                    (text_input(f, e, &at("when.hours.from"), l("From (HH:MM, optional)", "Từ (HH:MM, tuỳ chọn)"), "text"))
                    (text_input(f, e, &at("when.hours.to"), l("Until (HH:MM, not included)", "Đến (HH:MM, không tính)"), "text"))
                }
                @let days_name = at("when.weekdays");
                @let days = f.all(&days_name);
                div.weekdays {
                    span { (l("On (none ticked: every day)", "Vào các ngày (không chọn: mọi ngày)")) }
                    @for (_, code) in WEEKDAYS {
                        label style="display:inline-block;margin-right:.8rem" { input type="checkbox" name=(days_name) value=(code) checked[days.contains(&code)]; " " (code) }
                    }
                    (error(e, &days_name))
                }
                div.grid2 {
                    (multi(f, e, &at("when.locations"), l("At shops (none: all)", "Tại cửa hàng (không chọn: tất cả)"), locations))
                    (multi(f, e, &at("when.tiers"), l("For tiers (none: all)", "Cho hạng (không chọn: tất cả)"), &choices.tiers))
                    (select(f, e, &at("when.birthday"), l("Birthday", "Sinh nhật"), &birthday))
                }
            }
        }
        (select(f, e, "stacking", l("When several apply", "Khi nhiều hệ số cùng áp dụng"), &stacking))
    }
    }
}

/// The visit bonuses, with one empty row for a new one.
fn visit_bonuses(lang: Lang, f: &Fields, e: &FieldErrors) -> Markup {
    let l = |en, vi| tr(lang, en, vi);
    let kinds = pairs(&[
        (VISIT_KINDS[0], l("first visit", "lần đầu")),
        (VISIT_KINDS[1], l("the Nth visit", "lần thứ N")),
        (VISIT_KINDS[2], l("every Nth visit", "mỗi N lần")),
    ]);
    let visit_rows = f.rows("visit_bonuses").last().map_or(0, |r| r + 1) + 1;
    html! {
    fieldset #visit-bonuses {
        legend { (l("Visit bonuses (never multiplied)", "Thưởng theo lần ghé (không nhân)")) }
        @for i in 0..visit_rows {
            @let at = |field: &str| format!("visit_bonuses[{i}].{field}");
            div.grid2.rule-row {
                (select(f, e, &at("kind"), l("When", "Khi"), &kinds))
                (text_input(f, e, &at("number"), l("N (for the Nth or every Nth)", "N (lần thứ N hoặc mỗi N lần)"), "number"))
                (text_input(f, e, &at("points"), l("Points", "Điểm"), "number"))
                (text_input(f, e, &at("label"), l("Label (optional)", "Tên hiển thị (tuỳ chọn)"), "text"))
            }
        }
    }
    }
}

fn sample_fields(
    session: &Session,
    choices: &Choices<'_>,
    f: &Fields,
    e: &FieldErrors,
    skus: &[(String, String)],
    locations: &[(String, String)],
) -> Markup {
    let l = |en, vi| tr(session.lang, en, vi);
    let days: Vec<(String, String)> = WEEKDAYS
        .iter()
        .map(|(_, c)| ((*c).to_owned(), (*c).to_owned()))
        .collect();
    let none = (String::new(), "—".to_owned());
    let locations: Vec<(String, String)> = std::iter::once(none.clone())
        .chain(locations.iter().cloned())
        .collect();
    let tiers: Vec<(String, String)> = std::iter::once(none)
        .chain(choices.tiers.iter().cloned())
        .collect();
    html! {
        fieldset #sample {
            legend { (l("Preview: a sample order", "Xem trước: một đơn mẫu")) }
            div.grid2 {
                (select(f, e, "sample.weekday", l("Weekday", "Thứ"), &days))
                (text_input(f, e, "sample.time", l("Time (HH:MM)", "Giờ (HH:MM)"), "text"))
                (select(f, e, "sample.location", l("Shop", "Cửa hàng"), &locations))
                (select(f, e, "sample.tier", l("Customer's tier", "Hạng của khách"), &tiers))
                (text_input(f, e, "sample.visit", l("Visit number (1 = first)", "Lần ghé thứ (1 = lần đầu)"), "number"))
                div { label { input type="checkbox" name="sample.birthday" value="on" checked[!f.get("sample.birthday").is_empty()]; " " (l("It is the customer's birthday", "Hôm nay là sinh nhật khách")) } }
            }
            @for i in 0..SAMPLE_LINES {
                div.grid2 {
                    (select(f, e, &format!("sample.lines[{i}].sku"), l("Item", "Món"), skus))
                    (text_input(f, e, &format!("sample.lines[{i}].quantity"), l("Quantity", "Số lượng"), "number"))
                }
            }
            (error(e, "sample"))
        }
    }
}

fn preview_table(lang: Lang, earning: &Earning) -> Markup {
    html! {
        div #preview {
            h3 { (tr(lang, "What the sample order earns", "Đơn mẫu được tích")) }
            table {
                tbody {
                    @for line in &earning.explanation {
                        tr.preview-line { td { (line.label) } td { (line.points.value()) } td.muted { (line) } }
                    }
                }
            }
            p { strong { (tr(lang, "Total: ", "Tổng: ")) span #preview-total { (earning.points.value()) } } " " (tr(lang, "points", "điểm")) }
            p.muted { (tr(lang, "Nothing is saved by a preview. A tier's own earning multiplier (set with the tiers) is added at the till.", "Xem trước không lưu gì. Hệ số nhân riêng của hạng (đặt ở phần hạng) được cộng khi bán hàng.")) }
        }
    }
}

/// The section: the form for editors (the JSON under "Advanced"), the JSON for others.
pub(crate) fn section(
    session: &Session,
    choices: &Choices<'_>,
    saved: Option<&EarningRules>,
    currency: regulars_domain::Currency,
    shown: Shown,
) -> Markup {
    let lang = session.lang;
    let json = shown
        .json
        .as_ref()
        .map(|(text, _)| text.clone())
        .unwrap_or_else(|| {
            saved
                .map(|r| serde_json::to_string_pretty(r).unwrap_or_default())
                .unwrap_or_default()
        });
    let mut fields = shown.fields.unwrap_or_else(|| match saved {
        Some(rules) => to_fields(rules),
        None => to_fields(&EarningRules::empty(currency)),
    });
    if fields.get("sample.weekday").is_empty() {
        preview::default_sample(&mut fields, choices.menu);
    }
    html! {
        section #earning-rules {
            h2 { (session.lang.text().earning_rules) }
            @if session.can_edit() {
                (form(session, choices, &fields, &shown.errors, shown.preview.as_ref()))
                details #rules-advanced open[shown.json.is_some()] {
                    summary { (tr(lang, "Advanced (JSON)", "Nâng cao (JSON)")) }
                    p.muted { (tr(lang, "The same rules as one JSON document, as the API takes them (see docs/rules.md).", "Cùng bộ quy tắc dưới dạng một tài liệu JSON, như API nhận (xem docs/rules.md).")) }
                    form method="post" action="/dashboard/programme/earning-rules" #rules-json-form {
                        input type="hidden" name="csrf" value=(session.csrf);
                        textarea #rules name="document" { (json) }
                        @if let Some((_, e)) = &shown.json { p.error #rules-json-error { (e) } }
                        button type="submit" #save-rules-json { (tr(lang, "Save", "Lưu")) }
                    }
                }
            } @else {
                pre #rules { (json) }
            }
        }
    }
}
