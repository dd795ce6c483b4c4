//! The brand, its locations, programme and reward catalogue.

use crate::AppState;
use crate::auth::Caller;
use crate::body::Json;
use crate::dto::{
    BrandDto, BrandPatchIn, LocationDto, LocationIn, REFUND_OVERDRAW_VALUES, RewardDto,
};
use crate::error::{ApiError, ErrorBody};
use crate::paging::{Page, PageQuery};
use crate::routes::{id, reward_from};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use regulars_domain::{LocationId, RewardId};
use regulars_loyalty::ledger::RefundPolicy;
use regulars_loyalty::rules::EarningRules;
use regulars_loyalty::tiers::TierProgram;
use regulars_service::{BrandPatch, LocationInput};
use serde_json::json;
use time::UtcOffset;

/// The key's brand.
#[utoipa::path(get, path = "/v1/brand", tag = "brand", security(("api_key" = [])),
    responses((status = 200, body = BrandDto), (status = 401, body = ErrorBody)))]
pub(crate) async fn brand(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let brand = state.services.brand(caller.reader()?).await?;
    Ok(HttpResponse::Ok().json(BrandDto::from(&brand)))
}

/// Changes the brand's settings (admin only), with JSON merge-patch semantics: the
/// fields given replace those settings, the others stay.
#[utoipa::path(patch, path = "/v1/brand", tag = "brand", security(("api_key" = [])),
    request_body(content = BrandPatchIn, content_type = "application/merge-patch+json"),
    responses((status = 200, body = BrandDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, description = "A setting's value is invalid; `field` names it.", body = ErrorBody)))]
pub(crate) async fn patch_brand(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<BrandPatchIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let patch = brand_patch(body.0)?;
    let brand = state.services.patch_brand(brand, patch).await?;
    Ok(HttpResponse::Ok().json(BrandDto::from(&brand)))
}

fn brand_patch(input: BrandPatchIn) -> Result<BrandPatch, ApiError> {
    let unprocessable = |field: &str, message: String| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            message,
            Some(field.to_owned()),
        )
    };
    let refund_overdraw = match input.refund_overdraw {
        None => None,
        Some(value) => Some(serde_json::from_value::<RefundPolicy>(value).map_err(|_| {
            unprocessable(
                "refund_overdraw",
                format!("must be {REFUND_OVERDRAW_VALUES} (it cannot be removed)"),
            )
        })?),
    };
    Ok(BrandPatch { refund_overdraw })
}

fn location_input(input: LocationIn) -> Result<LocationInput, ApiError> {
    let utc_offset = input
        .utc_offset_seconds
        .map(UtcOffset::from_whole_seconds)
        .transpose()
        .map_err(|_| ApiError::invalid("utc_offset_seconds", "must be within ±25:59:59"))?;
    Ok(LocationInput {
        code: input.code,
        name: input.name,
        utc_offset,
    })
}

/// The brand's locations (a manager's key: its own).
#[utoipa::path(get, path = "/v1/locations", tag = "brand", security(("api_key" = [])), params(PageQuery),
    responses((status = 200, body = Page<LocationDto>)))]
pub(crate) async fn list_locations(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (brand, scope) = caller.scoped(None)?;
    let all = state.services.locations(brand).await?;
    let items = all
        .iter()
        .filter(|l| scope.covers(l.id))
        .map(LocationDto::from)
        .collect();
    Ok(HttpResponse::Ok().json(query.page_loaded(items, |l| l.id.to_string())?))
}

/// Adds a location.
#[utoipa::path(post, path = "/v1/locations", tag = "brand", security(("api_key" = [])), request_body = LocationIn,
    responses((status = 201, body = LocationDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn create_location(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<LocationIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let location = state
        .services
        .create_location(brand, location_input(body.0)?)
        .await?;
    Ok(HttpResponse::Created().json(LocationDto::from(&location)))
}

/// One location (a manager's key: one of its own).
#[utoipa::path(get, path = "/v1/locations/{id}", tag = "brand", security(("api_key" = [])),
    params(("id" = String, Path)), responses((status = 200, body = LocationDto), (status = 404, body = ErrorBody)))]
pub(crate) async fn get_location(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let location_id: LocationId = id(&path, "location")?;
    // Another location than a manager's own is not found, like another brand's.
    let (brand, _) = caller
        .scoped(Some(location_id))
        .map_err(|_| ApiError::not_found("location", "location"))?;
    let location = state.services.location(brand, location_id).await?;
    Ok(HttpResponse::Ok().json(LocationDto::from(&location)))
}

/// Replaces a location's fields.
#[utoipa::path(put, path = "/v1/locations/{id}", tag = "brand", security(("api_key" = [])), request_body = LocationIn,
    params(("id" = String, Path)), responses((status = 200, body = LocationDto), (status = 404, body = ErrorBody),
        (status = 409, description = "Another location has this code.", body = ErrorBody)))]
pub(crate) async fn update_location(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: Json<LocationIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let location_id: LocationId = id(&path, "location")?;
    let location = state
        .services
        .update_location(brand, location_id, location_input(body.0)?)
        .await?;
    Ok(HttpResponse::Ok().json(LocationDto::from(&location)))
}

/// The brand's programme: earning rules and tiers (documents described in `docs/rules.md`).
#[utoipa::path(get, path = "/v1/program", tag = "program", security(("api_key" = [])),
    responses((status = 200, description = "`{earning_rules, tiers}`; both null when the brand has no programme")))]
pub(crate) async fn get_program(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let program = state.services.program(caller.reader()?).await?;
    Ok(HttpResponse::Ok().json(match program {
        Some(p) => json!({"earning_rules": p.earning_rules, "tiers": p.tiers}),
        None => json!({"earning_rules": null, "tiers": null}),
    }))
}

/// Replaces the earning rules (the document of `docs/rules.md`); `currency` may be left
/// out, it is the brand's.
#[utoipa::path(put, path = "/v1/program/earning-rules", tag = "program", security(("api_key" = [])),
    request_body(content = Object, description = "An earning-rules document"),
    responses((status = 200, description = "The programme after the change"), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn put_earning_rules(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let mut document = body.0;
    if let Some(fields) = document.as_object_mut()
        && !fields.contains_key("currency")
    {
        let found = state.services.brand(brand).await?;
        fields.insert("currency".into(), json!(found.currency.code()));
    }
    let rules: EarningRules = crate::body::parse_json(document.to_string().as_bytes())?;
    let program = state.services.set_earning_rules(brand, rules).await?;
    Ok(HttpResponse::Ok()
        .json(json!({"earning_rules": program.earning_rules, "tiers": program.tiers})))
}

/// Replaces the tier programme; `null` removes it.
#[utoipa::path(put, path = "/v1/program/tiers", tag = "program", security(("api_key" = [])),
    request_body(content = Object, description = "A tier programme document, or null"),
    responses((status = 200, description = "The programme after the change"), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn put_tiers(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<Option<TierProgram>>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let program = state.services.set_tiers(brand, body.0).await?;
    Ok(HttpResponse::Ok()
        .json(json!({"earning_rules": program.earning_rules, "tiers": program.tiers})))
}

/// The reward catalogue.
#[utoipa::path(get, path = "/v1/rewards", tag = "program", security(("api_key" = [])), params(PageQuery),
    responses((status = 200, body = Page<RewardDto>)))]
pub(crate) async fn list_rewards(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let all = state.services.rewards(caller.reader()?).await?;
    let items = all.iter().map(RewardDto::from).collect();
    Ok(HttpResponse::Ok()
        .json(query.page_loaded(items, |r| r.id.map(|id| id.to_string()).unwrap_or_default())?))
}

/// Adds a reward.
#[utoipa::path(post, path = "/v1/rewards", tag = "program", security(("api_key" = [])), request_body = RewardDto,
    responses((status = 201, body = RewardDto), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn create_reward(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<RewardDto>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let reward = reward_from(&body.0)?;
    let saved = state.services.save_reward(brand, None, reward).await?;
    Ok(HttpResponse::Created().json(RewardDto::from(&saved)))
}

/// One reward.
#[utoipa::path(get, path = "/v1/rewards/{id}", tag = "program", security(("api_key" = [])),
    params(("id" = String, Path)), responses((status = 200, body = RewardDto), (status = 404, body = ErrorBody)))]
pub(crate) async fn get_reward(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let reward_id: RewardId = id(&path, "reward")?;
    let reward = state.services.reward(caller.reader()?, reward_id).await?;
    Ok(HttpResponse::Ok().json(RewardDto::from(&reward)))
}

/// Replaces a reward.
#[utoipa::path(put, path = "/v1/rewards/{id}", tag = "program", security(("api_key" = [])), request_body = RewardDto,
    params(("id" = String, Path)), responses((status = 200, body = RewardDto), (status = 404, body = ErrorBody)))]
pub(crate) async fn update_reward(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: Json<RewardDto>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let reward_id: RewardId = id(&path, "reward")?;
    let reward = reward_from(&body.0)?;
    let saved = state
        .services
        .save_reward(brand, Some(reward_id), reward)
        .await?;
    Ok(HttpResponse::Ok().json(RewardDto::from(&saved)))
}
