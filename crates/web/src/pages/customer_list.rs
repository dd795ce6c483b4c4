//! The customer list: name, phone, points, tier, visits, last visit and segment, sorted
//! by any of them and filtered by location, segment and a search, a page at a time.
//! Storage sorts, filters and pages (`Services::customer_list`); this page reads one page
//! of rows, whatever the brand's size. A manager sees the customers of its locations.

use crate::WebState;
use crate::i18n::Lang;
use crate::pages::by_location;
use crate::pages::{audit, names::phone_shown};
use crate::render::{Fail, Nav, dashboard, day, ok};
use crate::session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_domain::Points;
use regulars_ports::{CustomerListRow, CustomerSort, PersonalData};
use regulars_service::{CustomerListRequest, LookupError, ManageError, Scope, SegmentError};
use serde::Deserialize;

/// Customers per page.
const PAGE: u64 = 25;
/// Pages a link may skip to: the list pages by offset, bounded.
const MAX_PAGES: u64 = 4_000;

/// The list's query: `?q=&location=&segment=&sort=points&dir=desc&page=2`.
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    q: Option<String>,
    location: Option<String>,
    segment: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    page: Option<u64>,
}

/// This page's words beyond the shared ones.
struct Words {
    points: &'static str,
    last_visit: &'static str,
    segment: &'static str,
    all_segments: &'static str,
    previous_page: &'static str,
    sort_hint: &'static str,
}

const EN: Words = Words {
    points: "Points",
    last_visit: "Last visit",
    segment: "Segment",
    all_segments: "All segments",
    previous_page: "Previous page",
    sort_hint: "Sort by",
};

const VI: Words = Words {
    points: "Điểm",
    last_visit: "Lần ghé gần nhất",
    segment: "Nhóm khách",
    all_segments: "Tất cả nhóm",
    previous_page: "Trang trước",
    sort_hint: "Sắp xếp theo",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

/// Whether a search looks like a phone number rather than a name.
fn looks_like_phone(q: &str) -> bool {
    let digits = q.chars().filter(char::is_ascii_digit).count();
    digits >= 6
        && q.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')'))
}

/// Percent-encodes a query value.
pub(crate) fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What the page shows, read from its query.
struct View {
    q: String,
    scope: Scope,
    segment: Option<String>,
    sort: CustomerSort,
    descending: bool,
    page: u64,
}

impl View {
    fn of(session: &Session, query: &ListQuery) -> Result<View, Fail> {
        let scope = by_location::page_scope(session, query.location.as_deref())?;
        // An unknown sort is the default one, as an unknown location is every location.
        let sort = query.sort.as_deref().and_then(CustomerSort::parse);
        let descending = match query.dir.as_deref() {
            Some("asc") => false,
            Some("desc") => true,
            _ => sort.is_none(),
        };
        Ok(View {
            q: query.q.as_deref().unwrap_or("").trim().to_owned(),
            scope,
            segment: query
                .segment
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            sort: sort.unwrap_or(CustomerSort::Joined),
            descending,
            page: query.page.unwrap_or(0).min(MAX_PAGES),
        })
    }

    /// The query parameters of this view, but `sort`, `dir` and `page` as given.
    fn params(
        &self,
        sort: CustomerSort,
        descending: bool,
        page: u64,
    ) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !self.q.is_empty() {
            out.push(("q", self.q.clone()));
        }
        if let Some(l) = by_location::chosen(&self.scope) {
            out.push(("location", l.to_string()));
        }
        if let Some(s) = &self.segment {
            out.push(("segment", s.clone()));
        }
        out.push(("sort", sort.as_str().to_owned()));
        out.push(("dir", (if descending { "desc" } else { "asc" }).to_owned()));
        if page > 0 {
            out.push(("page", page.to_string()));
        }
        out
    }

    fn link(&self, sort: CustomerSort, descending: bool, page: u64) -> String {
        let query: Vec<String> = self
            .params(sort, descending, page)
            .into_iter()
            .map(|(k, v)| format!("{k}={}", encode(&v)))
            .collect();
        format!("/dashboard/customers?{}", query.join("&"))
    }

    /// The hidden fields a filter form carries along, leaving out `except`.
    fn keep(&self, except: &str) -> Vec<(&'static str, String)> {
        self.params(self.sort, self.descending, 0)
            .into_iter()
            .filter(|(k, _)| *k != except)
            .collect()
    }
}

/// The customer found by a phone number, if the session's scope covers them.
async fn by_phone(
    state: &WebState,
    session: &Session,
    scope: &Scope,
    q: &str,
) -> Result<Vec<CustomerListRow>, Fail> {
    let brand = session.brand();
    let lang = session.lang;
    let view = match state.services.customer_lookup(brand, q).await {
        Ok(view) => view,
        Err(LookupError::UnknownPhone(_) | LookupError::InvalidPhone(_)) => return Ok(vec![]),
        Err(other) => return Err(Fail::internal(lang, &other)),
    };
    match state
        .services
        .customer_in_scope(brand, scope, view.customer.id)
        .await
    {
        Ok(()) => {}
        Err(ManageError::NotFound { .. }) => return Ok(vec![]),
        Err(ManageError::Invalid { .. }) => return Err(Fail::not_found(lang)),
        Err(other) => return Err(Fail::internal(lang, &other)),
    }
    let segment = match state
        .services
        .customer_scores(brand, view.customer.id)
        .await
    {
        Ok(scores) => scores.segments.into_iter().next(),
        Err(SegmentError::UnknownCustomer(_)) => None,
        Err(other) => return Err(Fail::internal(lang, &other)),
    };
    Ok(vec![CustomerListRow {
        points: view.balance,
        tier: view.tier.map(|t| t.code),
        visits: view.stats.visits,
        last_visit_at: view.stats.last_visit_at,
        segment,
        customer: view.customer,
    }])
}

/// One page of rows, and whether another follows.
async fn rows(
    state: &WebState,
    session: &Session,
    view: &View,
) -> Result<(Vec<CustomerListRow>, bool), Fail> {
    if looks_like_phone(&view.q) {
        let found = by_phone(state, session, &view.scope, &view.q).await?;
        return Ok((found, false));
    }
    let request = CustomerListRequest {
        segment: view.segment.clone(),
        name: (!view.q.is_empty()).then(|| view.q.clone()),
        sort: view.sort,
        descending: view.descending,
        after: None,
        offset: view.page * PAGE,
        limit: PAGE + 1,
    };
    let mut rows = state
        .services
        .customer_list(session.brand(), &view.scope, &request)
        .await
        .map_err(|e| match e {
            // A location id of no location of the brand.
            ManageError::Invalid { .. } => Fail::not_found(session.lang),
            other => Fail::internal(session.lang, &other),
        })?;
    let more = rows.len() as u64 > PAGE;
    rows.truncate(usize::try_from(PAGE).unwrap_or(usize::MAX));
    Ok((rows, more))
}

/// The segment pick-list.
fn segment_filter(session: &Session, view: &View, segments: &[String]) -> Markup {
    let w = words(session.lang);
    let t = session.lang.text();
    html! {
        form.filter #segment-filter method="get" action="/dashboard/customers" {
            @for (name, value) in view.keep("segment") {
                input type="hidden" name=(name) value=(value);
            }
            label for="segment" { (w.segment) " " }
            select #segment name="segment" {
                option value="" selected[view.segment.is_none()] { (w.all_segments) }
                @for s in segments {
                    option value=(s) selected[view.segment.as_deref() == Some(s.as_str())] { (s) }
                }
            }
            " "
            button type="submit" { (t.search) }
        }
    }
}

/// A column heading that sorts by its column (the other way round when it already does).
fn heading(view: &View, sort: CustomerSort, label: &str) -> Markup {
    let on = view.sort == sort;
    let descending = if on {
        !view.descending
    } else {
        sort != CustomerSort::Name
    };
    let mark = match (on, view.descending) {
        (false, _) => "",
        (true, true) => " ▼",
        (true, false) => " ▲",
    };
    html! {
        th data-sort=(sort.as_str()) {
            a href=(view.link(sort, descending, 0)) { (label) (mark) }
        }
    }
}

fn table(session: &Session, view: &View, rows: &[CustomerListRow]) -> Markup {
    let t = session.lang.text();
    let w = words(session.lang);
    let dash = || "—".to_owned();
    html! {
        div.scroll {
            table #customers aria-label=(w.sort_hint) {
                tr {
                    (heading(view, CustomerSort::Name, t.name))
                    th { (t.phone) }
                    (heading(view, CustomerSort::Points, w.points))
                    (heading(view, CustomerSort::Tier, t.tier))
                    (heading(view, CustomerSort::Visits, t.visits))
                    (heading(view, CustomerSort::LastVisit, w.last_visit))
                    (heading(view, CustomerSort::Segment, w.segment))
                    (heading(view, CustomerSort::Joined, t.joined))
                }
                @for r in rows {
                    @let c = &r.customer;
                    tr data-customer=(c.id) {
                        td.name { a href=(format!("/dashboard/customers/{}", c.id)) { (c.name.clone().unwrap_or_else(dash)) } }
                        td.phone { (phone_shown(session, &c.phone)) }
                        td.points { (points(r.points)) }
                        td.tier { (r.tier.clone().unwrap_or_else(dash)) }
                        td.visits { (r.visits) }
                        td.last-visit { (r.last_visit_at.map_or_else(dash, day)) }
                        td.segment { (r.segment.clone().unwrap_or_else(dash)) }
                        td.joined { (day(c.created_at)) }
                    }
                }
            }
        }
    }
}

fn points(p: Points) -> String {
    p.value().to_string()
}

/// `GET /dashboard/customers` (every dashboard role; a manager sees its locations').
pub(crate) async fn list(
    req: HttpRequest,
    state: web::Data<WebState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, Fail> {
    let session = Session::scoped(&req, &state).await?;
    let t = session.lang.text();
    let w = words(session.lang);
    let view = View::of(&session, &query)?;
    let (customers, more) = rows(&state, &session, &view).await?;
    let shown: Vec<_> = customers.iter().map(|r| r.customer.id).collect();
    let parts = [PersonalData::Profile, PersonalData::Contact];
    audit::record(&state, &session, "GET /dashboard/customers", &parts, &shown).await?;
    let fail = |e: ManageError| Fail::internal(session.lang, &e);
    let known = state
        .services
        .locations(session.brand())
        .await
        .map_err(fail)?;
    let segments = state
        .services
        .segment_names(session.brand())
        .await
        .map_err(fail)?;
    let next = more.then(|| view.link(view.sort, view.descending, view.page + 1));
    let previous = (view.page > 0).then(|| view.link(view.sort, view.descending, view.page - 1));
    let body = html! {
        section {
            form method="get" action="/dashboard/customers" #customer-search {
                @for (name, value) in view.keep("q") {
                    input type="hidden" name=(name) value=(value);
                }
                label for="q" { (t.search_hint) }
                input #q type="search" name="q" value=(view.q);
                button #search type="submit" { (t.search) }
            }
            (by_location::filter(&session, "/dashboard/customers", &known, &view.scope, &view.keep("location")))
            (segment_filter(&session, &view, &segments))
        }
        section {
            @if customers.is_empty() { p.muted #no-match { (t.no_match) } }
            @else { (table(&session, &view, &customers)) }
            p {
                @if let Some(previous) = previous { a #previous-page href=(previous) { (w.previous_page) } " " }
                @if let Some(next) = next { a #next-page href=(next) { (t.next_page) } }
            }
            @if session.sees_contact() { p { a #download href="/dashboard/customers.csv" { (t.download_csv) } } }
        }
    };
    Ok(ok(
        &req,
        dashboard(&session, Nav::Customers, t.customers_title, body),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_and_names_are_told_apart() {
        assert!(looks_like_phone("0901 234 567"));
        assert!(looks_like_phone("+84901234567"));
        assert!(!looks_like_phone("Lan"));
        assert!(!looks_like_phone("123"));
        assert_eq!(encode("Trần Lan"), "Tr%E1%BA%A7n%20Lan");
    }

    #[test]
    fn every_sort_reads_back_by_its_name() {
        for sort in CustomerSort::ALL {
            assert_eq!(CustomerSort::parse(sort.as_str()), Some(sort));
        }
        assert_eq!(CustomerSort::parse("phone"), None);
    }
}
