//! Delivery reports from message providers: `GET|POST /callbacks/{provider}`,
//! authenticated by the provider's own signature (Zalo) or by a secret token in the
//! callback URL (eSMS, which signs nothing), never by an API key.

use crate::AppState;
use crate::body::RawBody;
use crate::error::{ApiError, ErrorBody};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use regulars_ports::ReportRejection;
use serde::Serialize;
use utoipa::ToSchema;

/// What became of a delivery report.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeliveryReportAck {
    /// A sent message matched the report and now carries its outcome.
    recorded: bool,
    /// Why a genuine report had nothing to record, when it had not.
    #[serde(skip_serializing_if = "Option::is_none")]
    ignored: Option<String>,
}

/// Receives a provider's delivery report (`zalo`: the OA webhook's
/// `user_received_message` event, signed with `X-ZEvent-Signature`; `esms`: the
/// `CallbackUrl` request, with the configured `token` in its query).
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
    let provider = path.into_inner();
    let Some(decoder) = state.delivery_reports.as_ref() else {
        return Err(ApiError::not_found("provider", "provider"));
    };
    let headers = crate::routes::text_headers(&req);
    let update = match decoder.decode(
        &provider,
        &headers,
        req.query_string(),
        &body.0,
        state.now(),
    ) {
        Ok(update) => update,
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
