//! The campaign page's offer variants: one row per variant against the shared hold-out
//! (messaged, redemptions, incremental revenue with its 95 % interval, ROI), and which
//! variant did better and how sure, or "not yet sure" under 95 %.

use super::campaign_result;
use crate::i18n::Lang;
use crate::render::{money_text, percent};
use maud::{Markup, html};
use regulars_domain::{Currency, Money};
use regulars_service::CampaignReport;

struct Words {
    title: &'static str,
    variant: &'static str,
    messaged: &'static str,
    redeemed: &'static str,
    incremental: &'static str,
    interval: &'static str,
    roi: &'static str,
    /// `{best}`, `{other}`, `{p}`.
    winner: &'static str,
    /// `{best}`, `{other}`, `{p}`.
    not_yet: &'static str,
    too_few: &'static str,
}

const EN: Words = Words {
    title: "Offer variants",
    variant: "Variant",
    messaged: "Messaged",
    redeemed: "Redeemed (rate)",
    incremental: "Extra revenue vs hold-out",
    interval: "95 % interval",
    roi: "ROI",
    winner: "{best} does better than {other}: {p} sure.",
    not_yet: "Not yet sure which is better: {best} leads {other}, {p} sure (95 % needed).",
    too_few: "Too few customers in a variant to compare yet.",
};

const VI: Words = Words {
    title: "Các phương án ưu đãi",
    variant: "Phương án",
    messaged: "Đã nhắn",
    redeemed: "Đã dùng (tỷ lệ)",
    incremental: "Doanh thu tăng thêm so với nhóm đối chứng",
    interval: "Khoảng tin cậy 95 %",
    roi: "ROI",
    winner: "{best} tốt hơn {other}: chắc chắn {p}.",
    not_yet: "Chưa chắc phương án nào tốt hơn: {best} đang dẫn {other}, chắc chắn {p} (cần 95 %).",
    too_few: "Chưa đủ khách trong mỗi phương án để so sánh.",
};

fn minor(units: f64, currency: Currency) -> String {
    if !units.is_finite() {
        return "—".to_owned();
    }
    money_text(&Money::from_minor_units(units.round() as i64, currency))
}

/// The variants table and verdict; nothing for a campaign without variants.
pub(crate) fn section(lang: Lang, report: &CampaignReport, currency: Currency) -> Markup {
    if report.variants.is_empty() {
        return html! {};
    }
    let w = match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    };
    let name = |i: usize| report.variants.get(i).map_or("", |v| v.name.as_str());
    html! {
        section #variants {
            h3 { (w.title) }
            table #variant-results {
                tr {
                    th { (w.variant) } th { (w.messaged) } th { (w.redeemed) }
                    th { (w.incremental) } th { (w.interval) } th { (w.roi) }
                }
                @for v in &report.variants {
                    tr.variant data-variant=(v.index) {
                        th { (v.name) }
                        td.treated { data value=(v.treated) { (v.treated) } }
                        td.redeemed {
                            data value=(v.vouchers_redeemed) { (v.vouchers_redeemed) }
                            " (" (v.redemption_rate.map_or("—".to_owned(), percent)) ")"
                        }
                        @match &v.attribution {
                            Ok(a) => {
                                td.incremental { data value=(a.incremental_revenue) { (minor(a.incremental_revenue, currency)) } }
                                td.interval {
                                    data.low value=(a.ci_low) { (minor(a.ci_low, currency)) }
                                    " – "
                                    data.high value=(a.ci_high) { (minor(a.ci_high, currency)) }
                                }
                                td.roi { (campaign_result::roi(lang, Some(a), report.gross_margin)) }
                            }
                            Err(_) => { td.incremental { "—" } td.interval { "—" } td.roi { "—" } }
                        }
                    }
                }
            }
            @match report.verdict {
                Some(v) => {
                    @let text = if v.sure { w.winner } else { w.not_yet };
                    p #variant-verdict data-sure=(v.sure) data-best=(v.best) {
                        (text.replace("{best}", name(v.best))
                            .replace("{other}", name(v.runner_up))
                            .replace("{p}", &percent(v.probability)))
                    }
                }
                None => { p.muted #variant-verdict { (w.too_few) } }
            }
        }
    }
}
