//! `/dashboard/ratings`: what customers said about their visits — count and average by
//! location and by week, the recent low ratings with their comment (and, for the whole
//! brand's sessions, the customer by name, linked), each marked "needs attention" when
//! its location has no manager's email to send it to; an admin sets that email here.
//! A manager's session sees its own locations only.

use crate::WebState;
use crate::pages::by_location;
use crate::pages::overview::{PERIODS, chosen_days};
use crate::render::{Fail, Nav, dashboard, ok, when};
use crate::session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_domain::{LocationId, local_date};
use regulars_ports::{Location, PersonalData};
use regulars_reports::RatingSummary;
use regulars_service::{DEFAULT_DAYS, ManageError, RatingsView, Scope};
use serde::Deserialize;
use time::Duration;

/// The page's words.
struct Words {
    title: &'static str,
    count: &'static str,
    average: &'static str,
    low: &'static str,
    location: &'static str,
    week: &'static str,
    no_location: &'static str,
    none: &'static str,
    recent_low: &'static str,
    needs_attention: &'static str,
    sent_to_manager: &'static str,
    customer: &'static str,
    stars: &'static str,
    comment: &'static str,
    managers: &'static str,
    managers_intro: &'static str,
    manager_email: &'static str,
    save: &'static str,
    threshold: &'static str,
}

const VI: Words = Words {
    title: "Đánh giá",
    count: "Số đánh giá",
    average: "Trung bình",
    low: "Thấp",
    location: "Cửa hàng",
    week: "Tuần bắt đầu",
    no_location: "(không rõ cửa hàng)",
    none: "Chưa có đánh giá trong kỳ này.",
    recent_low: "Đánh giá thấp gần đây",
    needs_attention: "Cần xử lý (cửa hàng chưa có email quản lý)",
    sent_to_manager: "Đã gửi quản lý",
    customer: "Khách",
    stars: "Sao",
    comment: "Góp ý",
    managers: "Email quản lý cửa hàng",
    managers_intro: "Đánh giá thấp của cửa hàng được gửi tới email này (thư vận hành, không phải quảng cáo).",
    manager_email: "Email",
    save: "Lưu",
    threshold: "Đánh giá thấp: từ số sao này trở xuống",
};

const EN: Words = Words {
    title: "Ratings",
    count: "Ratings",
    average: "Average",
    low: "Low",
    location: "Location",
    week: "Week of",
    no_location: "(no location)",
    none: "No ratings in this period.",
    recent_low: "Recent low ratings",
    needs_attention: "Needs attention (no manager email for this location)",
    sent_to_manager: "Sent to the manager",
    customer: "Customer",
    stars: "Stars",
    comment: "Comment",
    managers: "Location managers' email",
    managers_intro: "A location's low ratings are sent to this address (an operational email, not marketing).",
    manager_email: "Email",
    save: "Save",
    threshold: "Low rating: this many stars or fewer",
};

fn words(lang: crate::i18n::Lang) -> &'static Words {
    match lang {
        crate::i18n::Lang::Vi => &VI,
        crate::i18n::Lang::En => &EN,
    }
}

/// `?days=7|30|90&location=<id>`.
#[derive(Debug, Deserialize)]
pub(crate) struct RatingsQuery {
    days: Option<String>,
    location: Option<String>,
}

fn average(s: &RatingSummary) -> String {
    s.average
        .map_or_else(|| "—".to_owned(), |a| format!("{a:.2}"))
}

fn stars(n: u8) -> String {
    let n = usize::from(n.min(5));
    format!("{}{}", "★".repeat(n), "☆".repeat(5 - n))
}

fn summary_cells(s: &RatingSummary) -> Markup {
    html! {
        td.num { (s.count) }
        td.num { (average(s)) }
        td.num { (s.low) }
    }
}

fn tables(w: &Words, view: &RatingsView) -> Markup {
    let name = |code: &Option<String>| match code {
        None => w.no_location.to_owned(),
        Some(code) => view
            .locations
            .iter()
            .find(|l| &l.code == code)
            .map_or_else(|| code.clone(), |l| l.name.clone()),
    };
    let r = &view.report;
    html! {
        p #ratings-total data-count=(r.total.count) {
            (w.count) ": " strong { (r.total.count) } " · " (w.average) ": " strong #ratings-average { (average(&r.total)) }
            " · " (w.low) " (≤ " (view.threshold.value()) "★): " strong { (r.total.low) }
        }
        @if r.total.count == 0 { p.muted { (w.none) } }
        @else {
            table #ratings-by-location {
                thead { tr { th { (w.location) } th { (w.count) } th { (w.average) } th { (w.low) } } }
                tbody {
                    @for row in &r.by_location {
                        tr data-location=(row.location.clone().unwrap_or_default()) { td { (name(&row.location)) } (summary_cells(&row.summary)) }
                    }
                }
            }
            table #ratings-by-week {
                thead { tr { th { (w.week) } th { (w.count) } th { (w.average) } th { (w.low) } } }
                tbody {
                    @for row in &r.by_week {
                        tr { td { (row.week.to_string()) } (summary_cells(&row.summary)) }
                    }
                }
            }
        }
    }
}

fn recent_low(w: &Words, session: &Session, view: &RatingsView) -> Markup {
    html! {
        h2 { (w.recent_low) }
        @if view.recent_low.is_empty() { p.muted { "—" } }
        @else {
            table #recent-low {
                thead { tr { th { "" } th { (w.location) } th { (w.stars) } th { (w.comment) } th { (w.customer) } th { "" } } }
                tbody {
                    @for low in &view.recent_low {
                        tr data-order=(low.rating.order_id.to_string()) {
                            td { (when(low.rating.created_at)) }
                            td { (low.location.as_ref().map_or(w.no_location, |l| l.name.as_str())) }
                            td.stars { (stars(low.rating.stars.value())) }
                            td.comment { (low.rating.comment.as_deref().unwrap_or("")) }
                            td {
                                // Customers are the whole brand's: a manager's session
                                // sees the rating, not who gave it.
                                @if session.scope.is_brand() {
                                    a href=(format!("/dashboard/customers/{}", low.rating.customer_id)) {
                                        (low.customer_name.as_deref().unwrap_or(w.customer))
                                    }
                                }
                            }
                            td {
                                @if low.manager_contact { span.muted { (w.sent_to_manager) } }
                                @else { strong.attention { (w.needs_attention) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn managers(
    w: &Words,
    session: &Session,
    locations: &[Location],
    emails: &[(LocationId, Option<String>)],
) -> Markup {
    html! {
        section #managers {
            h2 { (w.managers) }
            p.muted { (w.managers_intro) }
            @for l in locations {
                @let current = emails.iter().find(|(id, _)| *id == l.id).and_then(|(_, e)| e.clone()).unwrap_or_default();
                form method="post" action=(format!("/dashboard/ratings/managers/{}", l.id)) data-location=(l.code) {
                    input type="hidden" name="csrf" value=(session.csrf);
                    label { (l.name) " · " (w.manager_email) " "
                        input type="email" name="email" value=(current) maxlength="254";
                    }
                    button type="submit" { (w.save) }
                }
            }
        }
    }
}

async fn render(
    req: &HttpRequest,
    state: &WebState,
    session: &Session,
    query: &RatingsQuery,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, Fail> {
    let w = words(session.lang);
    let lang = session.lang;
    let scope: Scope = by_location::page_scope(session, query.location.as_deref())?;
    let days = chosen_days(query.days.as_deref());
    let from = if days == DEFAULT_DAYS {
        None
    } else {
        let found = state
            .services
            .brand(session.brand())
            .await
            .map_err(|e| Fail::internal(lang, &e))?;
        local_date(state.now(), found.utc_offset)
            .and_then(|today| today.next_day())
            .and_then(|to| to.checked_sub(Duration::days(days)))
    };
    let view = state
        .services
        .ratings_report(session.brand(), &scope, from, None)
        .await
        .map_err(|e| Fail::internal(lang, &e))?;
    let customers: Vec<_> = view
        .recent_low
        .iter()
        .map(|l| l.rating.customer_id)
        .collect();
    if !customers.is_empty() {
        let parts: &[PersonalData] = if session.scope.is_brand() {
            &[PersonalData::Profile, PersonalData::Orders]
        } else {
            &[PersonalData::Orders]
        };
        crate::pages::audit::record(state, session, "GET /dashboard/ratings", parts, &customers)
            .await?;
    }
    let known = state
        .services
        .locations(session.brand())
        .await
        .map_err(|e| Fail::internal(lang, &e))?;
    let mut emails = Vec::new();
    if session.can_edit() {
        for l in &known {
            let email = state
                .services
                .location_manager(session.brand(), l.id)
                .await
                .map_err(|e| Fail::internal(lang, &e))?;
            emails.push((l.id, email));
        }
    }
    let location_param =
        by_location::chosen(&scope).map_or_else(String::new, |l| format!("&location={l}"));
    let body = html! {
        (by_location::filter(session, "/dashboard/ratings", &known, &scope, &[("days", days.to_string())]))
        nav.periods #periods {
            @for d in PERIODS {
                a href=(format!("/dashboard/ratings?days={d}{location_param}")) class=[(d == days).then_some("on")] {
                    (d) " " (match lang { crate::i18n::Lang::Vi => "ngày", crate::i18n::Lang::En => "days" })
                }
            }
        }
        @if let Some(error) = &error { p.error #ratings-error { (error) } }
        (tables(w, &view))
        (recent_low(w, session, &view))
        @if session.can_edit() {
            p.muted { (w.threshold) ": " strong #threshold { (view.threshold.value()) } }
            (managers(w, session, &known, &emails))
        }
    };
    let mut reply = ok(req, dashboard(session, Nav::Ratings, w.title, body));
    *reply.status_mut() = status;
    Ok(reply)
}

/// `GET /dashboard/ratings` (every dashboard role; a manager sees its locations).
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<WebState>,
    query: web::Query<RatingsQuery>,
) -> Result<HttpResponse, Fail> {
    let session = Session::scoped(&req, &state).await?;
    render(&req, &state, &session, &query, StatusCode::OK, None).await
}

/// The manager form.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ManagerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

/// `POST /dashboard/ratings/managers/{location}` (admins): sets or, left empty, removes
/// the location's manager email.
pub(crate) async fn set_manager(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    form: web::Form<ManagerForm>,
) -> Result<HttpResponse, Fail> {
    let session = Session::admin(&req, &state).await?;
    session.authorise_change(&state, &form.csrf)?;
    let Ok(location) = path.trim().parse::<LocationId>() else {
        return Err(Fail::not_found(session.lang));
    };
    let email = Some(form.email.as_str());
    let query = RatingsQuery {
        days: None,
        location: None,
    };
    match state
        .services
        .set_location_manager(session.brand(), location, email)
        .await
    {
        Ok(_) => Err(Fail::redirect("/dashboard/ratings")),
        Err(ManageError::NotFound { .. }) => Err(Fail::not_found(session.lang)),
        Err(e @ ManageError::Invalid { .. }) => {
            render(
                &req,
                &state,
                &session,
                &query,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(e.to_string()),
            )
            .await
        }
        Err(e) => Err(Fail::internal(session.lang, &e)),
    }
}
