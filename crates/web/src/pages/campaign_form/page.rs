//! The campaign form's HTML: one input per field of the document, named by its JSON
//! path, with pick-lists of the brand's segments and rewards, and each problem shown
//! next to its input.

use super::audience::OPERATORS;
use super::fields::{CHANNELS, MAX_VARIANTS, SEND_TIMES, TRIGGER_PARAMS, TRIGGERS};
use super::offer::KINDS;
use crate::i18n::Lang;
use crate::pages::programme::{FieldErrors, Fields};
use maud::{Markup, html};
use regulars_campaigns::render::VARIABLES;
use regulars_segments::rule::Field;

/// Empty rows offered below the filled ones of each list.
const SPARE_ROWS: usize = 2;

/// The brand's choices the form offers as pick-lists: (value, text) pairs.
#[derive(Debug, Default)]
pub(crate) struct Choices {
    pub(crate) segments: Vec<(String, String)>,
    pub(crate) rewards: Vec<(String, String)>,
}

/// English or Vietnamese.
pub(crate) fn tr(lang: Lang, en: &'static str, vi: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Vi => vi,
    }
}

fn error(errors: &FieldErrors, name: &str) -> Markup {
    html! {
        @if let Some(e) = errors.get(name) {
            span.error.field-error data-for=(name) { (e) }
        }
    }
}

fn input(f: &Fields, e: &FieldErrors, name: &str, label: &str) -> Markup {
    html! {
        div {
            label { (label) input type="text" name=(name) value=(f.get(name)); }
            (error(e, name))
        }
    }
}

fn select(
    f: &Fields,
    e: &FieldErrors,
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
            (error(e, name))
        }
    }
}

fn codes(list: &[&str]) -> Vec<(String, String)> {
    list.iter()
        .map(|c| ((*c).to_owned(), (*c).to_owned()))
        .collect()
}

fn with_none(list: &[(String, String)]) -> Vec<(String, String)> {
    std::iter::once((String::new(), "—".to_owned()))
        .chain(list.iter().cloned())
        .collect()
}

/// The number of rows to show of `list`: the filled ones and spare ones.
fn row_count(f: &Fields, list: &str, spare: usize) -> usize {
    f.rows(list).last().map_or(0, |r| r + 1) + spare
}

/// An offer's inputs at `at` (`offer`, `variants[0].offer`).
fn offer(lang: Lang, f: &Fields, e: &FieldErrors, at: &str, choices: &Choices) -> Markup {
    let l = |en, vi| tr(lang, en, vi);
    let currency = f.get("currency");
    let kinds: Vec<(String, String)> = KINDS
        .iter()
        .zip([
            l("no offer", "không ưu đãi"),
            l(
                "a reward from the catalogue",
                "một phần thưởng trong danh mục",
            ),
            l(
                "a reward chosen per customer",
                "phần thưởng chọn theo từng khách",
            ),
            l("bonus points", "điểm thưởng"),
        ])
        .map(|(c, t)| ((*c).to_owned(), t.to_owned()))
        .collect();
    let rewards = with_none(&choices.rewards);
    let cost = format!(
        "{} ({currency})",
        l("What one costs the shop", "Chi phí mỗi phần cho cửa hàng")
    );
    let list = format!("{at}.candidates");
    html! {
        div.offer data-at=(at) {
            (select(f, e, &format!("{at}.type"), l("Offer", "Ưu đãi"), &kinds))
            div.grid2 {
                (select(f, e, &format!("{at}.reward.reward_id"), l("Reward (catalogue offer)", "Phần thưởng (ưu đãi cố định)"), &rewards))
                (input(f, e, &format!("{at}.reward.cost"), &cost))
                (input(f, e, &format!("{at}.points"), l("Bonus points", "Điểm thưởng")))
                (input(f, e, &format!("{at}.max_cost_per_customer"), &format!("{} ({currency})", l("Most one customer's reward may cost (per customer)", "Chi phí tối đa mỗi khách (theo từng khách)"))))
            }
            @for i in 0..row_count(f, &list, 1) {
                div.grid2.candidate {
                    (select(f, e, &format!("{list}[{i}].reward_id"), l("Candidate reward (per customer)", "Phần thưởng ứng viên (theo từng khách)"), &rewards))
                    (input(f, e, &format!("{list}[{i}].cost"), &cost))
                }
            }
        }
    }
}

fn trigger(lang: Lang, f: &Fields, e: &FieldErrors) -> Markup {
    let l = |en, vi| tr(lang, en, vi);
    let kinds = codes(&TRIGGERS.iter().map(|(k, _)| *k).collect::<Vec<_>>());
    let help = |param: &str| -> String {
        let users: Vec<&str> = TRIGGERS
            .iter()
            .filter(|(_, ps)| ps.iter().any(|(p, _)| *p == param))
            .map(|(k, _)| *k)
            .collect();
        format!("{param} ({})", users.join(", "))
    };
    html! {
        fieldset #campaign-trigger {
            legend { (l("When it sends", "Khi nào gửi")) }
            (select(f, e, "trigger.type", l("Trigger", "Điều kiện gửi"), &kinds))
            p.muted { (l("Fill only the setting of the trigger chosen; blank means its default.", "Chỉ điền thông số của điều kiện đã chọn; để trống là mặc định.")) }
            div.grid2 {
                @for param in TRIGGER_PARAMS {
                    (input(f, e, &format!("trigger.{param}"), &help(param)))
                }
            }
        }
    }
}

fn audience(lang: Lang, f: &Fields, e: &FieldErrors, choices: &Choices) -> Markup {
    let l = |en, vi| tr(lang, en, vi);
    let kinds = vec![
        (String::new(), l("everyone", "tất cả khách").to_owned()),
        (
            "segment".to_owned(),
            l("a segment", "một nhóm khách").to_owned(),
        ),
        ("rule".to_owned(), l("a rule", "một quy tắc").to_owned()),
    ];
    let fields = with_none(
        &Field::ALL
            .iter()
            .map(|f| (f.name().to_owned(), f.name().to_owned()))
            .collect::<Vec<_>>(),
    );
    let ops: Vec<(String, String)> = OPERATORS
        .iter()
        .map(|(_, s)| ((*s).to_owned(), (*s).to_owned()))
        .collect();
    html! {
        fieldset #campaign-audience {
            legend { (l("Who receives it", "Ai nhận")) }
            div.grid2 {
                (select(f, e, "audience.kind", l("Audience", "Đối tượng"), &kinds))
                (select(f, e, "audience.segment", l("Segment", "Nhóm khách"), &with_none(&choices.segments)))
            }
            p.muted { (l("A rule: every row must hold (rows are joined by “and”).", "Quy tắc: mọi dòng đều phải đúng (các dòng nối bằng “và”).")) }
            @for i in 0..row_count(f, "audience.rule", 1) {
                @let at = format!("audience.rule[{i}]");
                div.grid2.rule-row {
                    (select(f, e, &format!("{at}.field"), l("Field", "Trường"), &fields))
                    (select(f, e, &format!("{at}.op"), l("Operator", "Phép so sánh"), &ops))
                    (input(f, e, &format!("{at}.value"), l("Value", "Giá trị")))
                }
            }
            (input(f, e, "audience.rule", l("Or the whole rule as text (advanced, see docs/segments.md)", "Hoặc cả quy tắc dạng chữ (nâng cao, xem docs/segments.md)")))
        }
    }
}

/// The variables a template may use with this trigger and offer.
pub(crate) fn variables(f: &Fields) -> Vec<&'static str> {
    let after_purchase = f.get("trigger.type") == "after_purchase";
    let kind = f.get("offer.type");
    let any_variant_offer = f
        .0
        .iter()
        .any(|(n, v)| n.starts_with("variants[") && n.ends_with("].offer.type") && !v.is_empty());
    let offer = !kind.is_empty() || any_variant_offer;
    let bonus = kind == "bonus_points";
    VARIABLES
        .iter()
        .copied()
        .filter(|v| match *v {
            "rating_link" => after_purchase,
            "bonus_points" => bonus,
            "code" | "reward_value" => offer && !bonus,
            "reward" => offer,
            _ => true,
        })
        .collect()
}

/// The form, filled from `fields`; `action` is where it posts.
pub(crate) fn form(
    lang: Lang,
    csrf: &str,
    action: &str,
    f: &Fields,
    e: &FieldErrors,
    choices: &Choices,
) -> Markup {
    let l = |en, vi| tr(lang, en, vi);
    let channels = with_none(&codes(CHANNELS));
    let send_times = codes(SEND_TIMES);
    let variant_rows = row_count(f, "variants", SPARE_ROWS).min(MAX_VARIANTS);
    html! {
        form method="post" action=(action) #campaign-fields {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="currency" value=(f.get("currency"));
            input type="hidden" name="rest" value=(f.get("rest"));
            @if !e.is_empty() {
                p.error #campaign-error { (l("Check the fields marked below.", "Hãy xem lại các ô được đánh dấu bên dưới.")) " "
                    @for (name, message) in e.iter().take(1) { (name) ": " (message) } }
            }
            (input(f, e, "name", l("Name", "Tên")))
            (trigger(lang, f, e))
            (audience(lang, f, e, choices))
            fieldset #campaign-offer {
                legend { (l("What it gives", "Ưu đãi")) }
                (offer(lang, f, e, "offer", choices))
            }
            fieldset #campaign-variants {
                legend { (l("Offer variants (tested against each other; optional)", "Các phương án ưu đãi (so sánh với nhau; tuỳ chọn)")) }
                p.muted { (l("Each messaged customer gets one variant in place of the offer above; all share one hold-out group.", "Mỗi khách được nhắn nhận một phương án thay cho ưu đãi ở trên; tất cả dùng chung một nhóm đối chứng.")) }
                @for i in 0..variant_rows {
                    @let at = format!("variants[{i}]");
                    div.variant data-row=(i) {
                        (input(f, e, &format!("{at}.name"), l("Variant name", "Tên phương án")))
                        (offer(lang, f, e, &format!("{at}.offer"), choices))
                        div { label { (l("Its own message (optional)", "Tin nhắn riêng (tuỳ chọn)")) textarea name=(format!("{at}.template")) rows="3" { (f.get(&format!("{at}.template"))) } } (error(e, &format!("{at}.template"))) }
                    }
                }
            }
            fieldset #campaign-message {
                legend { (l("Message", "Tin nhắn")) }
                div { label { (l("Text (blank: the default text for the trigger)", "Nội dung (để trống: nội dung mặc định theo điều kiện)")) textarea name="template" rows="4" { (f.get("template")) } } (error(e, "template")) }
                p.muted #template-variables { (l("Variables: ", "Biến: ")) @for v in variables(f) { code { "{{" (v) "}}" } " " } }
                div.grid2 {
                    @for i in 0..CHANNELS.len() {
                        (select(f, e, &format!("channels[{i}]"), &format!("{} {}", l("Channel, choice", "Kênh, ưu tiên"), i + 1), &channels))
                    }
                }
                (error(e, "channels"))
            }
            fieldset #campaign-timing {
                legend { (l("Timing, hold-out and budget", "Thời điểm, nhóm đối chứng và ngân sách")) }
                div.grid2 {
                    (select(f, e, "send_time.type", l("Send", "Gửi"), &send_times))
                    (input(f, e, "send_time.hour", l("Hour for fixed_hour (0–23)", "Giờ cho fixed_hour (0–23)")))
                    (input(f, e, "send_time.fallback_hour", l("Hour for customers without a preferred hour (optional)", "Giờ cho khách chưa có giờ quen (tuỳ chọn)")))
                    (input(f, e, "holdout", l("Share held out to measure (0 to 0.5)", "Tỷ lệ giữ lại để đo (0 đến 0,5)")))
                    (input(f, e, "budget", &format!("{} ({})", l("Budget (blank: unlimited)", "Ngân sách (để trống: không giới hạn)"), f.get("currency"))))
                    (input(f, e, "frequency_cap.max", l("At most this many promotional messages…", "Tối đa số tin khuyến mãi…")))
                    (input(f, e, "frequency_cap.days", l("…per customer in this many days (both blank: no cap)", "…mỗi khách trong số ngày (để trống cả hai: không giới hạn)")))
                    (input(f, e, "attribution_days", l("Days a customer's orders count for the campaign", "Số ngày đơn của khách được tính cho chiến dịch")))
                    (input(f, e, "gross_margin", l("Gross margin on revenue (0 to 1)", "Biên lợi nhuận gộp (0 đến 1)")))
                }
                (error(e, "frequency_cap"))
                (error(e, "rest"))
            }
            button type="submit" name="action" value="preview" #preview-campaign { (l("Preview", "Xem trước")) }
            " "
            button type="submit" name="action" value="save" #save-campaign { (l("Save", "Lưu")) }
        }
    }
}
