//! API keys and POS integrations (admin only).

use crate::AppState;
use crate::auth::Caller;
use crate::body::Json;
use crate::dto::{
    CreatedIntegrationDto, CreatedKeyDto, IntegrationAccessIn, IntegrationDto, IntegrationIn,
    KeyDto, KeyIn,
};
use crate::error::{ApiError, ErrorBody};
use crate::paging::{Page, PageQuery};
use crate::routes::id;
use actix_web::{HttpResponse, web};
use regulars_domain::{ApiKeyId, IntegrationId, LocationId};
use regulars_ports::{IntegrationKind, Role};

/// The brand's API keys.
#[utoipa::path(get, path = "/v1/keys", tag = "access", security(("api_key" = [])), params(PageQuery),
    responses((status = 200, body = Page<KeyDto>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(crate) async fn list_keys(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let keys = state.services.api_keys(brand).await?;
    let items = keys.iter().map(KeyDto::from).collect();
    Ok(HttpResponse::Ok().json(query.page_loaded(items, |k| k.id.to_string())?))
}

/// Makes a key; the token in the answer is shown this once.
#[utoipa::path(post, path = "/v1/keys", tag = "access", security(("api_key" = [])), request_body = KeyIn,
    responses((status = 201, body = CreatedKeyDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn create_key(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<KeyIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let role = Role::parse(&body.0.role)
        .ok_or_else(|| ApiError::invalid("role", "must be admin, pos, viewer or manager"))?;
    let mut locations = Vec::new();
    for location in body.0.locations.unwrap_or_default() {
        let parsed = location.parse::<LocationId>().map_err(|_| {
            ApiError::invalid("locations", format!("{location:?} is not a location id"))
        })?;
        locations.push(parsed);
    }
    let created = state
        .services
        .create_scoped_key(brand, role, body.0.label, locations)
        .await?;
    Ok(HttpResponse::Created().json(CreatedKeyDto {
        key: KeyDto::from(&created.info),
        token: created.token,
    }))
}

/// Revokes a key. The brand's last admin key cannot be revoked.
#[utoipa::path(delete, path = "/v1/keys/{id}", tag = "access", security(("api_key" = [])),
    params(("id" = String, Path, description = "Key id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn revoke_key(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let key: ApiKeyId = id(&path, "key")?;
    state.services.revoke_api_key(brand, key).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The brand's POS integrations.
#[utoipa::path(get, path = "/v1/integrations", tag = "access", security(("api_key" = [])), params(PageQuery),
    responses((status = 200, body = Page<IntegrationDto>), (status = 403, body = ErrorBody)))]
pub(crate) async fn list_integrations(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let all = state.services.integrations(brand).await?;
    let mut items = Vec::with_capacity(all.len());
    for info in &all {
        let mut dto = IntegrationDto::from(info);
        if info.kind == IntegrationKind::KiotvietFnb {
            dto.poll = state
                .services
                .poll_state(brand, info.id)
                .await
                .map_err(|e| ApiError::from(regulars_service::WebhookError::Store(e)))?
                .as_ref()
                .map(crate::dto::PollStatusDto::from);
        }
        items.push(dto);
    }
    Ok(HttpResponse::Ok().json(query.page_loaded(items, |i| i.id.to_string())?))
}

/// Makes a POS integration; the secret in the answer is shown this once.
#[utoipa::path(post, path = "/v1/integrations", tag = "access", security(("api_key" = [])), request_body = IntegrationIn,
    responses((status = 201, body = CreatedIntegrationDto), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn create_integration(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<IntegrationIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let input = body.0;
    let kind = IntegrationKind::parse(&input.kind).ok_or_else(|| {
        ApiError::invalid("kind", "must be generic, kiotviet, kiotviet_fnb or square")
    })?;
    let created = state
        .services
        .create_integration(brand, kind, input.label, input.secret, input.api_access)
        .await?;
    Ok(HttpResponse::Created().json(CreatedIntegrationDto {
        integration: IntegrationDto::from(&created.info),
        secret: created.secret,
    }))
}

/// Replaces an integration's POS API credentials (write-only: they are never shown).
#[utoipa::path(put, path = "/v1/integrations/{id}/access", tag = "access", security(("api_key" = [])),
    params(("id" = String, Path, description = "Integration id")), request_body = IntegrationAccessIn,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn set_integration_access(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: Json<IntegrationAccessIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let integration: IntegrationId = id(&path, "integration")?;
    state
        .services
        .set_integration_access(brand, integration, body.0.api_access)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Revokes an integration: its webhooks are refused from now on.
#[utoipa::path(delete, path = "/v1/integrations/{id}", tag = "access", security(("api_key" = [])),
    params(("id" = String, Path, description = "Integration id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub(crate) async fn revoke_integration(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let integration: IntegrationId = id(&path, "integration")?;
    state
        .services
        .revoke_integration(brand, integration)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
