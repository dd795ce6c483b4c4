//! Segments, scoring runs and customer scores.

use crate::AppState;
use crate::auth::Caller;
use crate::body::Json;
use crate::dto::{ScoresDto, ScoringRunDto, SegmentDto, SegmentIn};
use crate::error::{ApiError, ErrorBody};
use crate::paging::{Page, PageQuery};
use crate::routes::id;
use actix_web::{HttpResponse, web};
use regulars_domain::{CustomerId, SegmentId};
use regulars_ports::PersonalData;
use serde::Deserialize;
use utoipa::IntoParams;

/// The brand's custom segments with live counts.
#[utoipa::path(get, path = "/v1/segments", tag = "segments", security(("api_key" = [])), params(PageQuery),
    responses((status = 200, body = Page<SegmentDto>)))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let all = state.services.segments(caller.reader()?).await?;
    let items = all.iter().map(SegmentDto::from).collect();
    Ok(HttpResponse::Ok().json(query.page_loaded(items, |s| s.id.to_string())?))
}

/// Creates a custom segment; a rule that does not parse is a 422 naming the position.
#[utoipa::path(post, path = "/v1/segments", tag = "segments", security(("api_key" = [])), request_body = SegmentIn,
    responses((status = 201, body = SegmentDto), (status = 422, body = ErrorBody),
        (status = 409, description = "Another segment has this name.", body = ErrorBody)))]
pub(crate) async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<SegmentIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let view = state
        .services
        .save_segment(brand, None, &body.0.name, &body.0.rule)
        .await?;
    Ok(HttpResponse::Created().json(SegmentDto::from(&view)))
}

/// One custom segment with its live count.
#[utoipa::path(get, path = "/v1/segments/{id}", tag = "segments", security(("api_key" = [])),
    params(("id" = String, Path)), responses((status = 200, body = SegmentDto), (status = 404, body = ErrorBody)))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let segment: SegmentId = id(&path, "segment")?;
    let view = state.services.segment(caller.reader()?, segment).await?;
    Ok(HttpResponse::Ok().json(SegmentDto::from(&view)))
}

/// Replaces a custom segment's name and rule.
#[utoipa::path(put, path = "/v1/segments/{id}", tag = "segments", security(("api_key" = [])), request_body = SegmentIn,
    params(("id" = String, Path)), responses((status = 200, body = SegmentDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 409, description = "Another segment has this name.", body = ErrorBody)))]
pub(crate) async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: Json<SegmentIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let segment: SegmentId = id(&path, "segment")?;
    let view = state
        .services
        .save_segment(brand, Some(segment), &body.0.name, &body.0.rule)
        .await?;
    Ok(HttpResponse::Ok().json(SegmentDto::from(&view)))
}

/// Deletes a custom segment.
#[utoipa::path(delete, path = "/v1/segments/{id}", tag = "segments", security(("api_key" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let segment: SegmentId = id(&path, "segment")?;
    state.services.delete_segment(brand, segment).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// How many runs to show.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct HistoryQuery {
    /// Runs, newest first (1–500, default 30).
    limit: Option<u64>,
}

/// Segment sizes over time: the latest scoring runs, newest first.
#[utoipa::path(get, path = "/v1/segments/history", tag = "segments", security(("api_key" = [])), params(HistoryQuery),
    responses((status = 200, body = Vec<ScoringRunDto>)))]
pub(crate) async fn history(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let runs = state
        .services
        .scoring_runs(caller.reader()?, query.limit.unwrap_or(30))
        .await?;
    Ok(HttpResponse::Ok().json(runs.iter().map(ScoringRunDto::from).collect::<Vec<_>>()))
}

/// Which segment's newcomers to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct EntrantsQuery {
    /// The segment's name, e.g. `At risk`.
    segment: String,
    /// Items per page, 1 to 500 (default 50).
    limit: Option<u64>,
    /// The `next` cursor of the previous page.
    after: Option<String>,
}

/// Customers who entered a segment at the last scoring run ("who just became at risk").
#[utoipa::path(get, path = "/v1/segments/entrants", tag = "segments", security(("api_key" = [])), params(EntrantsQuery),
    responses((status = 200, body = Page<ScoresDto>), (status = 400, body = ErrorBody)))]
pub(crate) async fn entrants(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<EntrantsQuery>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.reader()?;
    let paging = PageQuery {
        limit: query.limit,
        after: query.after.clone(),
    };
    let after: Option<CustomerId> = paging.after()?;
    let limit = paging.limit();
    let found = state
        .services
        .segment_entrants(brand, &query.segment, after, limit)
        .await?;
    let currency = state.services.brand(brand).await?.currency;
    let ids: Vec<CustomerId> = found.iter().map(|s| s.customer_id).collect();
    let route = "GET /v1/segments/entrants";
    crate::routes::audit::record(&state, &caller, route, &[PersonalData::Scores], &ids).await?;
    let items: Vec<ScoresDto> = found.iter().map(|s| ScoresDto::new(s, currency)).collect();
    Ok(HttpResponse::Ok().json(Page::of(items, limit, |s| s.customer_id.to_string())))
}

/// What the last scoring run concluded about a customer: P(alive), expected visits,
/// CLV, next visit, preferred hour, favourite and next best item, RFM and segments.
#[utoipa::path(get, path = "/v1/customers/{id}/scores", tag = "customers", security(("api_key" = [])),
    params(("id" = String, Path)), responses((status = 200, body = ScoresDto), (status = 404, body = ErrorBody)))]
pub(crate) async fn customer_scores(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.reader()?;
    let customer: CustomerId = id(&path, "customer")?;
    let scores = state.services.customer_scores(brand, customer).await?;
    let route = "GET /v1/customers/{id}/scores";
    crate::routes::audit::record(&state, &caller, route, &[PersonalData::Scores], &[customer])
        .await?;
    let currency = state.services.brand(brand).await?.currency;
    Ok(HttpResponse::Ok().json(ScoresDto::new(&scores, currency)))
}
