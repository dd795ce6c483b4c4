//! Ratings of visits: the report by location and week with the recent low ratings, a
//! location's manager email (where low ratings are sent) and the brand's low threshold.

use crate::AppState;
use crate::auth::Caller;
use crate::body::Json;
use crate::error::{ApiError, ErrorBody};
use crate::routes::id;
use crate::routes::reports::{date, format_date, location};
use actix_web::{HttpResponse, web};
use regulars_domain::LocationId;
use regulars_ports::PersonalData;
use regulars_reports::RatingSummary;
use regulars_service::RatingsView;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The period and location of a ratings report.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct RatingsQuery {
    /// First local day of the period, `YYYY-MM-DD`; default 30 days before `to`.
    from: Option<String>,
    /// The local day after the period (exclusive), `YYYY-MM-DD`; default tomorrow.
    to: Option<String>,
    /// One location only (its id); a manager's key may name only its own.
    location: Option<String>,
}

/// Count, average and spread of some ratings.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RatingSummaryDto {
    count: u64,
    /// Mean stars; `null` without ratings.
    average: Option<f64>,
    /// Ratings at or below the brand's low threshold.
    low: u64,
    /// How many ratings gave 1, 2, 3, 4 and 5 stars.
    by_stars: [u64; 5],
}

impl From<&RatingSummary> for RatingSummaryDto {
    fn from(s: &RatingSummary) -> Self {
        RatingSummaryDto {
            count: s.count,
            average: s.average,
            low: s.low,
            by_stars: s.by_stars,
        }
    }
}

/// One location's ratings.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RatingLocationDto {
    /// The location's id; `null` when the orders' code is none of the brand's.
    location_id: Option<Uuid>,
    /// The location code of the orders rated; `null` for orders without one.
    code: Option<String>,
    name: Option<String>,
    #[serde(flatten)]
    summary: RatingSummaryDto,
}

/// One local week's ratings.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RatingWeekDto {
    /// The Monday it begins, `YYYY-MM-DD`, local time.
    week: String,
    #[serde(flatten)]
    summary: RatingSummaryDto,
}

/// A recent low rating.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LowRatingDto {
    order_id: Uuid,
    customer_id: Uuid,
    /// The customer's name: for keys that read the whole brand, never a manager's.
    customer_name: Option<String>,
    location_id: Option<Uuid>,
    code: Option<String>,
    stars: u8,
    comment: Option<String>,
    created_at: String,
    /// `true` when the location has no manager's email: the rating was not sent
    /// anywhere and waits on the dashboard.
    needs_attention: bool,
}

/// Ratings of a period: by location and by week (each adds up to `total`), and the
/// latest low ratings, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RatingsDto {
    from: String,
    to: String,
    /// Stars at or below which a rating is low.
    low_threshold: u8,
    total: RatingSummaryDto,
    by_location: Vec<RatingLocationDto>,
    by_week: Vec<RatingWeekDto>,
    recent_low: Vec<LowRatingDto>,
}

impl RatingsDto {
    fn new(view: &RatingsView, names: bool) -> Self {
        let known = |code: &Option<String>| {
            code.as_deref()
                .and_then(|c| view.locations.iter().find(|l| l.code == c))
        };
        RatingsDto {
            from: format_date(view.days.from),
            to: format_date(view.days.to),
            low_threshold: view.threshold.value(),
            total: RatingSummaryDto::from(&view.report.total),
            by_location: view
                .report
                .by_location
                .iter()
                .map(|r| RatingLocationDto {
                    location_id: known(&r.location).map(|l| l.id.as_uuid()),
                    code: r.location.clone(),
                    name: known(&r.location).map(|l| l.name.clone()),
                    summary: RatingSummaryDto::from(&r.summary),
                })
                .collect(),
            by_week: view
                .report
                .by_week
                .iter()
                .map(|w| RatingWeekDto {
                    week: format_date(w.week),
                    summary: RatingSummaryDto::from(&w.summary),
                })
                .collect(),
            recent_low: view
                .recent_low
                .iter()
                .map(|l| LowRatingDto {
                    order_id: l.rating.order_id.as_uuid(),
                    customer_id: l.rating.customer_id.as_uuid(),
                    customer_name: l.customer_name.clone().filter(|_| names),
                    location_id: l.location.as_ref().map(|x| x.id.as_uuid()),
                    code: l.rating.location.clone(),
                    stars: l.rating.stars.value(),
                    comment: l.rating.comment.clone(),
                    created_at: crate::dto::rfc3339(l.rating.created_at),
                    needs_attention: !l.manager_contact,
                })
                .collect(),
        }
    }
}

/// Ratings customers gave their visits, by location and by local week, and the recent
/// low ones with their comment: every location for an admin or viewer key, a manager's
/// own locations for a manager's key (without customers' names).
#[utoipa::path(get, path = "/v1/reports/ratings", tag = "reports", security(("api_key" = [])), params(RatingsQuery),
    responses((status = 200, body = RatingsDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn report(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<RatingsQuery>,
) -> Result<HttpResponse, ApiError> {
    let from = date(&query.from, "from")?;
    let to = date(&query.to, "to")?;
    let (brand, scope) = caller.scoped(location(&query.location)?)?;
    let names = caller.scoped(None)?.1.is_brand();
    let view = state
        .services
        .ratings_report(brand, &scope, from, to)
        .await?;
    let customers: Vec<_> = view
        .recent_low
        .iter()
        .map(|l| l.rating.customer_id)
        .collect();
    if !customers.is_empty() {
        let parts: &[PersonalData] = if names {
            &[PersonalData::Profile, PersonalData::Orders]
        } else {
            &[PersonalData::Orders]
        };
        crate::routes::audit::record(
            &state,
            &caller,
            "GET /v1/reports/ratings",
            parts,
            &customers,
        )
        .await?;
    }
    Ok(HttpResponse::Ok().json(RatingsDto::new(&view, names)))
}

/// A location's manager contact.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct LocationManagerDto {
    /// Where the location's low ratings are emailed; `null` (or empty) for nobody: the
    /// ratings then wait on the dashboard as needing attention.
    email: Option<String>,
}

/// The email a location's low ratings are sent to (admin).
#[utoipa::path(get, path = "/v1/locations/{id}/manager", tag = "brand", security(("api_key" = [])),
    params(("id" = String, Path)), responses((status = 200, body = LocationManagerDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn get_manager(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let location: LocationId = id(&path, "location")?;
    let email = state.services.location_manager(brand, location).await?;
    Ok(HttpResponse::Ok().json(LocationManagerDto { email }))
}

/// Sets or removes the email a location's low ratings are sent to (admin). The notice
/// is an operational email about the shop's work: it needs no marketing consent.
#[utoipa::path(put, path = "/v1/locations/{id}/manager", tag = "brand", security(("api_key" = [])),
    params(("id" = String, Path)), request_body = LocationManagerDto,
    responses((status = 200, body = LocationManagerDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn set_manager(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: Json<LocationManagerDto>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let location: LocationId = id(&path, "location")?;
    let email = state
        .services
        .set_location_manager(brand, location, body.0.email.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(LocationManagerDto { email }))
}

/// The brand's rating settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RatingSettingsDto {
    /// A rating of this many stars or fewer (1 to 5) is sent to the location's manager;
    /// default 2.
    low_threshold: u8,
}

/// Sets the brand's low-rating threshold (admin).
#[utoipa::path(put, path = "/v1/ratings/settings", tag = "brand", security(("api_key" = [])),
    request_body = RatingSettingsDto,
    responses((status = 200, body = RatingSettingsDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn set_settings(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<RatingSettingsDto>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let stars = state
        .services
        .set_rating_threshold(brand, body.0.low_threshold)
        .await?;
    Ok(HttpResponse::Ok().json(RatingSettingsDto {
        low_threshold: stars.value(),
    }))
}
