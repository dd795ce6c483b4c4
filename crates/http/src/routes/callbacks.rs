//! Delivery reports from message providers: `GET|POST /callbacks/{provider}` and
//! `GET|POST /callbacks/{provider}/{token}`, authenticated by the provider's own signature
//! (Zalo) or by a secret token in the callback URL's path (eSMS, which signs nothing and
//! appends its own query to the URL), never by an API key.

use crate::AppState;
use crate::body::RawBody;
use crate::error::{ApiError, ErrorBody};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use regulars_ports::{ProviderEvent, ReportRejection};
use serde::Serialize;
use utoipa::ToSchema;

/// What became of a delivery report (or of a text sent to the brand's Zalo OA).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeliveryReportAck {
    /// A sent message matched the report and now carries its outcome; for a text to the
    /// OA, an opt-out keyword took its sender off promotional Zalo messages.
    recorded: bool,
    /// Why a genuine report or text had nothing to record, when it had not.
    #[serde(skip_serializing_if = "Option::is_none")]
    ignored: Option<String>,
}

/// Receives a provider's delivery report (`zalo`: the OA webhook's
/// `user_received_message` event, signed with `X-ZEvent-Signature`; `esms`: the
/// `CallbackUrl` request, with the configured `token` in its query). Zalo's
/// `user_send_text` event, signed the same, is read for an opt-out keyword: its sender
/// is taken off promotional Zalo messages (any other text is acknowledged and ignored).
#[utoipa::path(post, path = "/callbacks/{provider}", tag = "webhooks",
    params(("provider" = String, Path, description = "`zalo` or `esms`")),
    request_body(content = Object, description = "The provider's report as it documents it"),
    responses((status = 200, body = DeliveryReportAck), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn receive(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let query = req.query_string().to_owned();
    handle(&state, &req, &path.into_inner(), &query, &body.0).await
}

/// Receives an eSMS delivery report at `CallbackUrl` = `…/callbacks/esms/{token}`: eSMS
/// calls it with `GET` and appends its own query (`?SMSID=…&SendStatus=…`), so the
/// secret token lives in the path.
#[utoipa::path(post, path = "/callbacks/{provider}/{token}", tag = "webhooks",
    params(("provider" = String, Path, description = "`esms`"),
        ("token" = String, Path, description = "The configured callback token")),
    request_body(content = Object, description = "The provider's report as it documents it"),
    responses((status = 200, body = DeliveryReportAck), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn receive_with_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let (provider, token) = path.into_inner();
    let token = serde_urlencoded::to_string([("token", token.as_str())])
        .map_err(|e| ApiError::invalid("token", e.to_string()))?;
    // The path's token goes first: it is the one the decoder checks.
    let query = match req.query_string() {
        "" => token,
        rest => format!("{token}&{rest}"),
    };
    handle(&state, &req, &provider, &query, &body.0).await
}

/// The same as `POST /callbacks/{provider}/{token}`, as eSMS calls it (`GET`).
#[utoipa::path(get, path = "/callbacks/{provider}/{token}", tag = "webhooks",
    params(("provider" = String, Path, description = "`esms`"),
        ("token" = String, Path, description = "The configured callback token")),
    responses((status = 200, body = DeliveryReportAck), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn receive_get_with_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    receive_with_token(state, req, path, RawBody(actix_web::web::Bytes::new())).await
}

async fn handle(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    provider: &str,
    query: &str,
    body: &[u8],
) -> Result<HttpResponse, ApiError> {
    let Some(decoder) = state.delivery_reports.as_ref() else {
        return Err(ApiError::not_found("provider", "provider"));
    };
    let headers = crate::routes::text_headers(req);
    let update = match decoder.decode_event(provider, &headers, query, body, state.now()) {
        Ok(ProviderEvent::Report(update)) => update,
        Ok(ProviderEvent::Text(text)) => {
            let outcome = state.services.opt_out_by_keyword(&text).await?;
            return Ok(HttpResponse::Ok().json(DeliveryReportAck {
                recorded: outcome.ignored().is_none(),
                ignored: outcome.ignored().map(str::to_owned),
            }));
        }
        Err(ReportRejection::Ignored(reason)) => {
            return Ok(HttpResponse::Ok().json(DeliveryReportAck {
                recorded: false,
                ignored: Some(reason),
            }));
        }
        Err(ReportRejection::UnknownProvider(_)) => {
            return Err(ApiError::not_found("provider", "provider"));
        }
        Err(ReportRejection::Unauthenticated(message)) => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_signature",
                message,
                Some("signature".to_owned()),
            ));
        }
        Err(ReportRejection::Malformed(message)) => {
            return Err(ApiError::invalid("body", message));
        }
    };
    let recorded = state
        .services
        .record_delivery_report(
            update.channel,
            &update.provider_message_id,
            update.dedupe_key.as_deref(),
            &update.status,
            update.at,
        )
        .await?;
    Ok(HttpResponse::Ok().json(DeliveryReportAck {
        recorded,
        ignored: None,
    }))
}

/// The same as `POST`, for providers that call back with `GET` (eSMS).
#[utoipa::path(get, path = "/callbacks/{provider}", tag = "webhooks",
    params(("provider" = String, Path, description = "`esms`")),
    responses((status = 200, body = DeliveryReportAck), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn receive_get(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    receive(state, req, path, RawBody(actix_web::web::Bytes::new())).await
}
