//! Goals on the overview: each goal the session's scope covers with its figure now,
//! a progress bar, whether it is on track and its weekly trend; for admins, a form to set
//! one (`POST /dashboard/goals`, rates typed in percent) and a button to remove one
//! (`POST /dashboard/goals/{id}/delete`).

use crate::WebState;
use crate::i18n::Lang;
use crate::render::{Fail, percent};
use crate::session::Session;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_domain::{GoalId, LocationId};
use regulars_ports::Location;
use regulars_reports::{GoalMetric, GoalStatus};
use regulars_service::{GoalError, GoalInput, GoalView, Scope, UseCaseError};
use serde::Deserialize;
use time::Date;
use time::macros::format_description;

struct Words {
    heading: &'static str,
    none: &'static str,
    now: &'static str,
    target: &'static str,
    by: &'static str,
    trend: &'static str,
    add: &'static str,
    metric: &'static str,
    start: &'static str,
    start_help: &'static str,
    deadline: &'static str,
    location: &'static str,
    brand: &'static str,
    remove: &'static str,
    refused: &'static str,
}

const EN: Words = Words {
    heading: "Goals",
    none: "No goals yet.",
    now: "now",
    target: "target",
    by: "by",
    trend: "Last weeks",
    add: "Set a goal",
    metric: "Figure",
    start: "From",
    start_help: "empty: the figure now; rates in %",
    deadline: "By",
    location: "Location",
    brand: "Whole brand",
    remove: "Remove",
    refused: "The goal was not set",
};

const VI: Words = Words {
    heading: "Mục tiêu",
    none: "Chưa có mục tiêu.",
    now: "hiện tại",
    target: "mục tiêu",
    by: "trước",
    trend: "Các tuần gần đây",
    add: "Đặt mục tiêu",
    metric: "Chỉ số",
    start: "Từ",
    start_help: "để trống: giá trị hiện tại; tỉ lệ tính bằng %",
    deadline: "Hạn",
    location: "Cửa hàng",
    brand: "Toàn thương hiệu",
    remove: "Xoá",
    refused: "Chưa đặt được mục tiêu",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::Vi => &VI,
    }
}

fn metric_name(lang: Lang, metric: GoalMetric) -> &'static str {
    match (lang, metric) {
        (Lang::En, GoalMetric::RepeatRate) => "Repeat rate",
        (Lang::En, GoalMetric::RedemptionRate) => "Voucher redemption rate",
        (Lang::En, GoalMetric::ActiveMembers) => "Active members",
        (Lang::En, GoalMetric::MemberRevenue) => "Revenue from members",
        (Lang::En, GoalMetric::AverageVisits) => "Average visits per member",
        (Lang::Vi, GoalMetric::RepeatRate) => "Tỉ lệ quay lại",
        (Lang::Vi, GoalMetric::RedemptionRate) => "Tỉ lệ dùng voucher",
        (Lang::Vi, GoalMetric::ActiveMembers) => "Thành viên hoạt động",
        (Lang::Vi, GoalMetric::MemberRevenue) => "Doanh thu từ thành viên",
        (Lang::Vi, GoalMetric::AverageVisits) => "Số lần ghé trung bình",
    }
}

fn status_name(lang: Lang, status: GoalStatus) -> &'static str {
    match (lang, status) {
        (Lang::En, GoalStatus::Achieved) => "Achieved",
        (Lang::En, GoalStatus::OnTrack) => "On track",
        (Lang::En, GoalStatus::Behind) => "Behind",
        (Lang::En, GoalStatus::Missed) => "Missed",
        (Lang::Vi, GoalStatus::Achieved) => "Đã đạt",
        (Lang::Vi, GoalStatus::OnTrack) => "Đúng tiến độ",
        (Lang::Vi, GoalStatus::Behind) => "Chậm tiến độ",
        (Lang::Vi, GoalStatus::Missed) => "Không đạt",
    }
}

/// A value of `metric` as people read it.
fn shown(metric: GoalMetric, value: Option<f64>) -> String {
    match value {
        None => "—".to_owned(),
        Some(v) if metric.is_rate() => percent(v),
        Some(v) if metric == GoalMetric::AverageVisits => format!("{v:.2}"),
        Some(v) => format!("{v:.0}"),
    }
}

fn goal_row(session: &Session, view: &GoalView, locations: &[Location]) -> Markup {
    let w = words(session.lang);
    let g = &view.goal;
    let place = g.location.map_or(w.brand.to_owned(), |id| {
        locations
            .iter()
            .find(|l| l.id == id)
            .map_or_else(|| id.to_string(), |l| l.name.clone())
    });
    let deadline = g
        .path
        .deadline
        .date()
        .previous_day()
        .unwrap_or(g.path.deadline.date());
    html! {
        li.goal data-goal=(g.id.to_string()) data-status=(view.status.as_str()) {
            strong { (metric_name(session.lang, g.metric)) } " · " (place)
            div {
                (w.now) " " data.current value=(view.current.map_or(String::new(), |v| v.to_string())) { (shown(g.metric, view.current)) }
                " → " (w.target) " " (shown(g.metric, Some(g.path.target_value)))
                " " (w.by) " " (deadline.to_string())
                " · " span.status { (status_name(session.lang, view.status)) }
            }
            div.bar title=(percent(view.progress)) {
                span style=(format!("width:{:.1}%", view.progress * 100.0)) {}
            }
            div.muted.trend {
                (w.trend) ": "
                @for (i, point) in view.trend.iter().enumerate() {
                    @if i > 0 { " · " }
                    data value=(point.value.map_or(String::new(), |v| v.to_string())) { (shown(g.metric, point.value)) }
                }
            }
            @if session.can_edit() {
                form method="post" action=(format!("/dashboard/goals/{}/delete", g.id)) {
                    input type="hidden" name="csrf" value=(session.csrf);
                    button type="submit" { (w.remove) }
                }
            }
        }
    }
}

/// The overview's goals section for `scope`.
pub(crate) async fn section(
    state: &WebState,
    session: &Session,
    scope: &Scope,
    locations: &[Location],
) -> Result<Markup, Fail> {
    let w = words(session.lang);
    let views = state
        .services
        .goal_views(session.brand(), scope)
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    Ok(html! {
        section #goals {
            h2 { (w.heading) }
            @if views.is_empty() { p.muted { (w.none) } }
            @else {
                ul.goals { @for view in &views { (goal_row(session, view, locations)) } }
            }
            @if session.can_edit() {
                details {
                    summary { (w.add) }
                    form #goal-form method="post" action="/dashboard/goals" {
                        input type="hidden" name="csrf" value=(session.csrf);
                        label for="goal-metric" { (w.metric) }
                        select #goal-metric name="metric" {
                            @for m in GoalMetric::ALL { option value=(m.as_str()) { (metric_name(session.lang, m)) } }
                        }
                        label for="goal-start" { (w.start) " (" (w.start_help) ")" }
                        input #goal-start type="text" inputmode="decimal" name="start_value";
                        label for="goal-target" { (w.target) }
                        input #goal-target type="text" inputmode="decimal" name="target_value" required;
                        label for="goal-deadline" { (w.deadline) }
                        input #goal-deadline type="date" name="deadline" required;
                        label for="goal-location" { (w.location) }
                        select #goal-location name="location" {
                            option value="" { (w.brand) }
                            @for l in locations { option value=(l.id.to_string()) { (l.name) } }
                        }
                        button #goal-save type="submit" { (w.add) }
                    }
                }
            }
        }
    })
}

/// The goal form.
#[derive(Debug, Deserialize)]
pub(crate) struct GoalForm {
    csrf: String,
    metric: String,
    #[serde(default)]
    start_value: String,
    target_value: String,
    deadline: String,
    #[serde(default)]
    location: String,
}

/// A number as typed (`50`, `50%`, `1,5`), divided by 100 for a rate.
fn typed(raw: &str, metric: Option<GoalMetric>) -> Option<f64> {
    let cleaned = raw.trim().trim_end_matches('%').trim().replace(',', ".");
    let value: f64 = cleaned.parse().ok().filter(|v: &f64| v.is_finite())?;
    Some(if metric.is_some_and(GoalMetric::is_rate) {
        value / 100.0
    } else {
        value
    })
}

fn refused(lang: Lang, message: &str) -> Fail {
    Fail::page(
        lang,
        StatusCode::UNPROCESSABLE_ENTITY,
        words(lang).refused,
        message,
    )
}

fn back() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/dashboard/overview#goals"))
        .finish()
}

/// `POST /dashboard/goals` (admins).
pub(crate) async fn create(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<GoalForm>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    session.authorise_change(&state, &form.csrf)?;
    let lang = session.lang;
    let metric = GoalMetric::parse(form.metric.trim());
    let start_value = if form.start_value.trim().is_empty() {
        None
    } else {
        Some(
            typed(&form.start_value, metric)
                .ok_or_else(|| refused(lang, "start_value: not a number"))?,
        )
    };
    let target_value = typed(&form.target_value, metric)
        .ok_or_else(|| refused(lang, "target_value: not a number"))?;
    let deadline = Date::parse(
        form.deadline.trim(),
        format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| refused(lang, "deadline: a date like 2027-03-01"))?;
    let location = if form.location.trim().is_empty() {
        None
    } else {
        Some(
            form.location
                .trim()
                .parse::<LocationId>()
                .map_err(|_| refused(lang, "location: not a location"))?,
        )
    };
    let input = GoalInput {
        metric: form.metric.clone(),
        start_value,
        target_value,
        deadline,
        location,
    };
    match state.services.create_goal(session.brand(), &input).await {
        Ok(_) => Ok(back()),
        Err(e @ GoalError::Invalid { .. }) => Err(refused(
            lang,
            &format!("{}: {e}", e.field().unwrap_or("goal")),
        )),
        Err(e) => Err(Fail::internal(lang, &e)),
    }
}

/// The remove button's form.
#[derive(Debug, Deserialize)]
pub(crate) struct RemoveForm {
    csrf: String,
}

/// `POST /dashboard/goals/{id}/delete` (admins).
pub(crate) async fn remove(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    form: web::Form<RemoveForm>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    session.authorise_change(&state, &form.csrf)?;
    let id: GoalId = path.parse().map_err(|_| Fail::not_found(session.lang))?;
    match state.services.delete_goal(session.brand(), id).await {
        Ok(()) => Ok(back()),
        Err(GoalError::UnknownGoal(_)) => Err(Fail::not_found(session.lang)),
        Err(e) => Err(Fail::internal(session.lang, &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_typed_in_percent() {
        assert_eq!(typed("50", Some(GoalMetric::RepeatRate)), Some(0.5));
        assert_eq!(typed("30 %", Some(GoalMetric::RedemptionRate)), Some(0.3));
        assert_eq!(typed("1,5", Some(GoalMetric::AverageVisits)), Some(1.5));
        assert_eq!(typed("abc", Some(GoalMetric::ActiveMembers)), None);
        assert_eq!(typed("inf", None), None);
    }
}
