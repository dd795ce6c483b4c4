//! Segments: sizes over time, the best hour to message each, who just moved to "At
//! risk", the custom segments and a form to make one (rule errors shown next to the
//! field, with the parser's column and its "did you mean").

use crate::WebState;
use crate::chart::line_chart;
use crate::pages::overview::segment_series;
use crate::pages::{by_location, cursor, names};
use crate::render::{Fail, Nav, dashboard, ok};
use crate::session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_domain::CustomerId;
use regulars_ports::PersonalData;
use regulars_service::{Scope, SegmentError, SegmentView};
use serde::Deserialize;

/// The named segment whose newcomers are listed.
const AT_RISK: &str = "At risk";
/// Newcomers per page.
const PAGE: u64 = 25;

/// The page's query.
#[derive(Debug, Deserialize)]
pub(crate) struct SegmentsQuery {
    after: Option<String>,
    location: Option<String>,
}

/// What the create form shows again after a refusal.
#[derive(Debug, Default)]
struct FormState {
    name: String,
    rule: String,
    name_error: Option<String>,
    rule_error: Option<String>,
    saved: bool,
}

async fn render(
    state: &WebState,
    session: &Session,
    scope: &Scope,
    after: Option<CustomerId>,
    form: FormState,
) -> Result<Markup, Fail> {
    let t = session.lang.text();
    let brand = session.brand();
    let known = state
        .services
        .locations(brand)
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    let by_location = crate::pages::segment_visits::section(state, session, scope, &known).await?;
    // Sizes, movements and custom segments are the whole brand's customers: shown for the
    // whole brand only.
    if !scope.is_brand() {
        return Ok(dashboard(
            session,
            Nav::Segments,
            t.segments_title,
            by_location,
        ));
    }
    let fail = |e: SegmentError| Fail::internal(session.lang, &e);
    let mut runs = state.services.scoring_runs(brand, 30).await.map_err(fail)?;
    runs.reverse();
    let (labels, series) = segment_series(&runs);
    let entrants = state
        .services
        .segment_entrants(brand, AT_RISK, after, PAGE)
        .await
        .map_err(fail)?;
    let shown: Vec<CustomerId> = entrants.iter().map(|s| s.customer_id).collect();
    let route = "GET /dashboard/segments";
    let parts = [
        PersonalData::Profile,
        PersonalData::Contact,
        PersonalData::Scores,
    ];
    crate::pages::audit::record(state, session, route, &parts, &shown).await?;
    let named = names::customers(state, session, &shown).await?;
    let items = names::menu_names(state, session).await?;
    let customers = state.services.segments(brand).await.map_err(fail)?;
    let hours = state
        .services
        .segment_send_times(brand)
        .await
        .map_err(fail)?;
    let next = (entrants.len() as u64 == PAGE)
        .then(|| entrants.last().map(|s| s.customer_id))
        .flatten();
    let body = html! {
        (by_location)
        section {
            h2 { (t.segment_sizes) }
            @if runs.is_empty() { p.muted { (t.no_history) } }
            @else { (line_chart("chart-segment-sizes", &labels, &series)) }
        }
        (crate::pages::segment_hours::section(t, &hours))
        section #at-risk-entrants {
            h2 { (t.new_at_risk) }
            @if entrants.is_empty() { p.muted { (t.nobody) } }
            @else {
                table {
                    tr { th { (t.profile) } th { (t.p_alive) } th { (t.favourite) } }
                    @for s in &entrants {
                        tr {
                            td { (names::customer_link(session, s.customer_id, &named)) }
                            td { (s.p_alive.map_or("—".to_owned(), crate::render::percent)) }
                            td { (names::item_name(&items, s.favourite_item.as_deref())) }
                        }
                    }
                }
                @if let Some(next) = next {
                    p { a href=(format!("/dashboard/segments?after={next}")) { (t.next_page) } }
                }
            }
        }
        (custom_segments_section(session, &customers, &form))
        @if session.sees_contact() { (crate::pages::segment_export::form(session.lang, &customers)) }
    };
    Ok(dashboard(session, Nav::Segments, t.segments_title, body))
}

/// The brand's custom segments with their live counts, and the form to make one (shown
/// again with its problems after a refusal).
fn custom_segments_section(
    session: &Session,
    customers: &[SegmentView],
    form: &FormState,
) -> Markup {
    let t = session.lang.text();
    html! {
        section {
            h2 { (t.custom_segments) }
            @if customers.is_empty() { p.muted { (t.none) } }
            @else {
                table #custom-segments {
                    tr { th { (t.name) } th { (t.rule) } th { (t.members_now) } }
                    @for s in customers {
                        tr {
                            td { (s.segment.name) }
                            td { code { (s.segment.rule) } }
                            td { (s.live_count) }
                        }
                    }
                }
            }
            @if form.saved { p.ok #segment-saved { (t.segment_saved) } }
            @if session.can_edit() {
                h3 { (t.create_segment) }
                form method="post" action="/dashboard/segments" #segment-form {
                    input type="hidden" name="csrf" value=(session.csrf);
                    label for="segment-name" { (t.name) }
                    input #segment-name type="text" name="name" value=(form.name) required;
                    @if let Some(e) = &form.name_error { p.error #name-error { (e) } }
                    label for="segment-rule" { (t.rule) }
                    input #segment-rule type="text" name="rule" value=(form.rule) placeholder=(t.rule_help) required;
                    @if let Some(e) = &form.rule_error { p.error #rule-error { (e) } }
                    p.muted { (t.rule_help) }
                    button #create-segment type="submit" { (t.create_segment) }
                }
            }
        }
    }
}

/// `GET /dashboard/segments`.
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<WebState>,
    query: web::Query<SegmentsQuery>,
) -> Result<HttpResponse, Fail> {
    let session = Session::scoped(&req, &state).await?;
    let scope = by_location::page_scope(&session, query.location.as_deref())?;
    let after = cursor(query.after.as_ref());
    let page = render(&state, &session, &scope, after, FormState::default()).await?;
    Ok(ok(&req, page))
}

/// The create form.
#[derive(Debug, Deserialize)]
pub(crate) struct SegmentForm {
    csrf: String,
    name: String,
    rule: String,
}

/// `POST /dashboard/segments`: saves a custom segment, or shows the form again with
/// the error next to its field (422).
pub(crate) async fn create(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<SegmentForm>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    session.authorise_change(&state, &form.csrf)?;
    let form = form.into_inner();
    let saved = state
        .services
        .save_segment(session.brand(), None, &form.name, &form.rule)
        .await;
    let mut shown = FormState {
        name: form.name,
        rule: form.rule,
        ..FormState::default()
    };
    let status = match saved {
        Ok(_) => {
            shown = FormState {
                saved: true,
                ..FormState::default()
            };
            StatusCode::OK
        }
        Err(SegmentError::InvalidRule(message)) => {
            shown.rule_error = Some(message);
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(SegmentError::InvalidName(message) | SegmentError::NameTaken(message)) => {
            shown.name_error = Some(message);
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(other) => return Err(Fail::internal(session.lang, &other)),
    };
    let page = render(&state, &session, &Scope::Brand, None, shown).await?;
    let mut reply = ok(&req, page);
    *reply.status_mut() = status;
    Ok(reply)
}
