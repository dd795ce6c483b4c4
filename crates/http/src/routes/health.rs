//! Liveness and readiness.

use crate::AppState;
use crate::error::ApiError;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use subtle::ConstantTimeEq;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is up")))]
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Readiness: the database answers. A load balancer stops sending traffic on 503.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready"), (status = 503, description = "The database does not answer")))]
pub(crate) async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let ready = state.services.ready().await;
    state.metrics.set_database_ready(ready.is_ok());
    match ready {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ready"})),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            HttpResponse::ServiceUnavailable().json(json!({
                "error": {"code": "unavailable", "message": "the database does not answer"}
            }))
        }
    }
}

/// Prometheus metrics in the text exposition format; when the server has a metrics
/// token, only with `Authorization: Bearer <token>`.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "The metrics", content_type = "application/openmetrics-text"), (status = 401, body = crate::error::ErrorBody)))]
pub(crate) async fn metrics(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if let Some(expected) = &state.metrics_token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or_default();
        if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(ApiError::unauthorized(
                "the metrics need the metrics token: Authorization: Bearer …",
            ));
        }
    }
    let ready = state.services.ready().await;
    state.metrics.set_database_ready(ready.is_ok());
    Ok(HttpResponse::Ok()
        .content_type(crate::metrics::CONTENT_TYPE)
        .body(state.metrics.encode()))
}
