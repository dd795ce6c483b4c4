//! What the dashboard shows by location: the `?location=` filter of a page (every
//! location of the brand for an admin or viewer, a manager's own for a manager), and
//! the table of a period's figures by location.

use crate::i18n::Lang;
use crate::render::{Fail, money_text, percent};
use crate::session::Session;
use maud::{Markup, html};

use regulars_domain::LocationId;
use regulars_ports::Location;
use regulars_reports::LocationReport;
use regulars_service::Scope;

/// The words of this module, in both languages.
pub(crate) struct Words {
    pub filter: &'static str,
    pub all: &'static str,
    pub all_mine: &'static str,
    pub show: &'static str,
    pub heading: &'static str,
    pub location: &'static str,
    pub orders: &'static str,
    pub revenue: &'static str,
    pub members_share: &'static str,
    pub points_earned: &'static str,
    pub none: &'static str,
    pub no_location: &'static str,
    pub total: &'static str,
    pub not_yours: &'static str,
}

const EN: Words = Words {
    filter: "Location",
    all: "All locations",
    all_mine: "All my locations",
    show: "Show",
    heading: "By location",
    location: "Location",
    orders: "Orders",
    revenue: "Revenue",
    members_share: "Members' share",
    points_earned: "Points earned",
    none: "No orders in this period.",
    no_location: "No location",
    total: "Total",
    not_yours: "This location is not one of the locations your key covers.",
};

const VI: Words = Words {
    filter: "Cửa hàng",
    all: "Tất cả cửa hàng",
    all_mine: "Tất cả cửa hàng của tôi",
    show: "Xem",
    heading: "Theo cửa hàng",
    location: "Cửa hàng",
    orders: "Đơn hàng",
    revenue: "Doanh thu",
    members_share: "Tỉ lệ thành viên",
    points_earned: "Điểm đã tích",
    none: "Không có đơn hàng trong kỳ này.",
    no_location: "Không có cửa hàng",
    total: "Tổng",
    not_yours: "Cửa hàng này không thuộc các cửa hàng khóa của bạn được xem.",
};

/// This module's words in `lang`.
pub(crate) fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

/// The scope a page shows: the session's, narrowed to `?location=` when it names a
/// location id. A location outside a manager's locations is refused (403), never
/// shown; a value that is no id at all is ignored (the whole scope is shown).
pub(crate) fn page_scope(session: &Session, raw: Option<&str>) -> Result<Scope, Fail> {
    let requested = raw.and_then(|r| r.trim().parse::<LocationId>().ok());
    session
        .scope
        .narrow(requested)
        .map_err(|_| Fail::forbidden(session.lang, words(session.lang).not_yours))
}

/// The id chosen by `scope`, when it is one location.
pub(crate) fn chosen(scope: &Scope) -> Option<LocationId> {
    match scope {
        Scope::Locations(ids) if ids.len() == 1 => ids.iter().next().copied(),
        _ => None,
    }
}

/// The `?location=` filter form of `action`, listing the session's locations; `keep`
/// are other query parameters the form carries along.
pub(crate) fn filter(
    session: &Session,
    action: &str,
    locations: &[Location],
    scope: &Scope,
    keep: &[(&str, String)],
) -> Markup {
    let w = words(session.lang);
    let chosen = chosen(scope);
    let mine: Vec<&Location> = locations
        .iter()
        .filter(|l| session.scope.covers(l.id))
        .collect();
    html! {
        form.filter #location-filter method="get" action=(action) {
            @for (name, value) in keep {
                input type="hidden" name=(name) value=(value);
            }
            label for="location" { (w.filter) " " }
            select #location name="location" {
                option value="" selected[chosen.is_none()] {
                    (if session.scope.is_brand() { w.all } else { w.all_mine })
                }
                @for l in &mine {
                    option value=(l.id.to_string()) selected[chosen == Some(l.id)] {
                        (l.name) " (" (l.code) ")"
                    }
                }
            }
            " "
            button type="submit" { (w.show) }
        }
    }
}

/// The table of a period's figures by location, with its total.
pub(crate) fn table(lang: Lang, report: &LocationReport, locations: &[Location]) -> Markup {
    let w = words(lang);
    let name = |code: &Option<String>| match code {
        None => w.no_location.to_owned(),
        Some(code) => locations
            .iter()
            .find(|l| &l.code == code)
            .map_or_else(|| code.clone(), |l| l.name.clone()),
    };
    html! {
        section {
            h2 { (w.heading) }
            @if report.rows.is_empty() { p.muted { (w.none) } }
            @else {
                table #by-location {
                    tr {
                        th { (w.location) } th { (w.orders) } th { (w.revenue) }
                        th { (w.members_share) } th { (w.points_earned) }
                    }
                    @for row in report.rows.iter().chain(std::iter::once(&report.total)) {
                        @let total = std::ptr::eq(row, &report.total);
                        tr data-code=[row.location.as_deref()] class=[total.then_some("total")] {
                            td.key { (if total { w.total.to_owned() } else { name(&row.location) }) }
                            td.orders { (row.orders) }
                            td.revenue { data value=(row.revenue.amount().to_string()) { (money_text(&row.revenue)) } }
                            td.share { (row.members_share.map_or("—".to_owned(), percent)) }
                            td.points { (row.points_earned.value()) }
                        }
                    }
                }
            }
        }
    }
}
