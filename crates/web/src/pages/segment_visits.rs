//! The segments page by location: per segment, the members who came to the chosen
//! locations in the last days (the same figures as `GET /v1/reports/segments`).

use crate::WebState;
use crate::i18n::Lang;
use crate::pages::by_location;
use crate::render::{Fail, money_text};
use crate::session::Session;
use maud::{Markup, html};
use regulars_ports::Location;
use regulars_reports::SegmentVisits;
use regulars_service::{DEFAULT_DAYS, Scope};

/// The words of this section, in both languages.
struct Words {
    heading: &'static str,
    help: &'static str,
    segment: &'static str,
    visitors: &'static str,
    orders: &'static str,
    revenue: &'static str,
    total: &'static str,
    none: &'static str,
}

const EN: Words = Words {
    heading: "Who came in, by segment",
    help: "Members with an order at these locations in the last {n} days, by their segment at the latest scoring. A member who came to two shops counts at each, and once in the total of all shops.",
    segment: "Segment",
    visitors: "Visitors",
    orders: "Orders",
    revenue: "Revenue",
    total: "Total",
    none: "No member came in during this period.",
};

const VI: Words = Words {
    heading: "Ai đã ghé, theo nhóm",
    help: "Thành viên có đơn tại các cửa hàng này trong {n} ngày qua, theo nhóm ở lần chấm điểm gần nhất. Thành viên ghé hai cửa hàng được tính ở mỗi cửa hàng, và một lần trong tổng của mọi cửa hàng.",
    segment: "Nhóm",
    visitors: "Lượt khách",
    orders: "Đơn hàng",
    revenue: "Doanh thu",
    total: "Tổng",
    none: "Không có thành viên nào ghé trong kỳ này.",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

fn table(lang: Lang, visits: &SegmentVisits) -> Markup {
    let w = words(lang);
    html! {
        @if visits.rows.is_empty() { p.muted { (w.none) } }
        @else {
            table #segment-visits {
                tr { th { (w.segment) } th { (w.visitors) } th { (w.orders) } th { (w.revenue) } }
                @for row in &visits.rows {
                    tr data-segment=(row.label()) {
                        td.key { (row.label()) }
                        td.visitors { (row.visitors) }
                        td.orders { (row.orders) }
                        td.revenue { data value=(row.revenue.amount().to_string()) { (money_text(&row.revenue)) } }
                    }
                }
                tr.total {
                    td.key { (w.total) }
                    td.visitors { (visits.visitors) }
                    td.orders { (visits.orders) }
                    td.revenue { data value=(visits.revenue.amount().to_string()) { (money_text(&visits.revenue)) } }
                }
            }
        }
    }
}

/// The location picker of the segments page and, for the chosen scope, who came in by
/// segment over the API's default period.
pub(crate) async fn section(
    state: &WebState,
    session: &Session,
    scope: &Scope,
    known: &[Location],
) -> Result<Markup, Fail> {
    let w = words(session.lang);
    let (_, visits) = state
        .services
        .report_segment_visits(session.brand(), scope, None, None)
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    Ok(html! {
        (by_location::filter(session, "/dashboard/segments", known, scope, &[]))
        section #segments-by-location {
            h2 { (w.heading) }
            p.muted { (w.help.replace("{n}", &DEFAULT_DAYS.to_string())) }
            (table(session.lang, &visits))
        }
    })
}
