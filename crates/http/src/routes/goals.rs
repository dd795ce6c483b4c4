//! The owner's goals: `GET /v1/goals` (with progress, status and trend; a manager sees
//! its locations' goals), `POST /v1/goals` and `DELETE /v1/goals/{id}` (admins).

use crate::AppState;
use crate::auth::Caller;
use crate::body::Json;
use crate::error::{ApiError, ErrorBody};
use crate::routes::id;
use crate::routes::reports::{date, format_date};
use actix_web::{HttpResponse, web};
use regulars_domain::{GoalId, LocationId};
use regulars_ports::Goal;
use regulars_service::{GoalInput, GoalView};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

/// A goal to set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GoalIn {
    /// `repeat_rate`, `redemption_rate` (fractions 0–1), `active_members`,
    /// `member_revenue` (major units of the brand's currency) or `average_visits`.
    metric: String,
    /// Where the figure starts; without it, its value now (the last 28 days).
    start_value: Option<f64>,
    /// Where it should get to; below the start for a goal to bring a figure down.
    target_value: f64,
    /// The local day by whose end the target should be reached (`2027-03-01`).
    deadline: String,
    /// The location whose figure it is; without it, the brand's.
    location_id: Option<String>,
}

/// A goal.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct GoalDto {
    id: String,
    metric: String,
    /// `increase` or `decrease`.
    direction: String,
    start_value: f64,
    target_value: f64,
    /// When the straight path starts (RFC 3339).
    starts_at: String,
    /// When the target should be reached (RFC 3339: the end of the deadline day).
    deadline: String,
    location_id: Option<String>,
    created_at: String,
}

impl From<&Goal> for GoalDto {
    fn from(g: &Goal) -> Self {
        let at = |t: time::OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
        GoalDto {
            id: g.id.to_string(),
            metric: g.metric.as_str().to_owned(),
            direction: match g.path.direction() {
                regulars_reports::GoalDirection::Increase => "increase",
                regulars_reports::GoalDirection::Decrease => "decrease",
            }
            .to_owned(),
            start_value: g.path.start_value,
            target_value: g.path.target_value,
            starts_at: at(g.path.starts_at),
            deadline: at(g.path.deadline),
            location_id: g.location.map(|l| l.to_string()),
            created_at: at(g.created_at),
        }
    }
}

/// The figure over one week.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TrendDto {
    /// The first local day.
    from: String,
    /// The day after the last.
    to: String,
    /// The figure; `null` without a denominator.
    value: Option<f64>,
}

/// A goal with where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct GoalViewDto {
    goal: GoalDto,
    /// The figure over the last 28 days; `null` without a denominator.
    current: Option<f64>,
    /// How far from start to target, 0 to 1.
    progress: f64,
    /// The straight path's value now.
    expected: f64,
    /// `achieved`, `on_track`, `behind` or `missed`.
    status: String,
    /// The figure week by week, oldest first, the last ending today.
    trend: Vec<TrendDto>,
}

impl From<&GoalView> for GoalViewDto {
    fn from(v: &GoalView) -> Self {
        GoalViewDto {
            goal: GoalDto::from(&v.goal),
            current: v.current,
            progress: v.progress,
            expected: v.expected,
            status: v.status.as_str().to_owned(),
            trend: v
                .trend
                .iter()
                .map(|t| TrendDto {
                    from: format_date(t.from),
                    to: format_date(t.to),
                    value: t.value,
                })
                .collect(),
        }
    }
}

/// The goals of the caller's scope.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct GoalList {
    items: Vec<GoalViewDto>,
}

/// The brand's goals (a manager: its locations'), each with its figure now, progress,
/// expected value on the straight path, status and weekly trend.
#[utoipa::path(get, path = "/v1/goals", tag = "reports", security(("api_key" = [])),
    responses((status = 200, body = GoalList)))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let (brand, scope) = caller.scoped(None)?;
    let views = state.services.goal_views(brand, &scope).await?;
    Ok(HttpResponse::Ok().json(GoalList {
        items: views.iter().map(GoalViewDto::from).collect(),
    }))
}

/// Sets a goal (admins).
#[utoipa::path(post, path = "/v1/goals", tag = "reports", security(("api_key" = [])), request_body = GoalIn,
    responses((status = 201, body = GoalDto), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<GoalIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let body = body.0;
    let deadline = date(&Some(body.deadline.clone()), "deadline")?
        .ok_or_else(|| ApiError::invalid("deadline", "`deadline` is required"))?;
    let location = body
        .location_id
        .as_deref()
        .map(|raw| {
            raw.parse::<LocationId>().map_err(|_| {
                ApiError::invalid(
                    "location_id",
                    format!("`location_id` must be a location id, not {raw:?}"),
                )
            })
        })
        .transpose()?;
    let input = GoalInput {
        metric: body.metric,
        start_value: body.start_value,
        target_value: body.target_value,
        deadline,
        location,
    };
    let goal = state.services.create_goal(brand, &input).await?;
    Ok(HttpResponse::Created().json(GoalDto::from(&goal)))
}

/// Removes a goal (admins).
#[utoipa::path(delete, path = "/v1/goals/{id}", tag = "reports", security(("api_key" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let goal: GoalId = id(&path, "goal")?;
    state.services.delete_goal(brand, goal).await?;
    Ok(HttpResponse::NoContent().finish())
}
