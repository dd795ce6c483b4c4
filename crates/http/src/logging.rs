//! Request ids and access logs, and JSON bodies for the framework's own error answers.

use crate::error::ErrorBody;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{Error, HttpMessage};
use regulars_service::Principal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The header carrying a request's id, taken from the caller when it sends a sane one,
/// made up otherwise, and always echoed in the answer.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn request_id(req: &ServiceRequest) -> String {
    let given = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        });
    match given {
        Some(id) => id.to_owned(),
        None => {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let pid = std::process::id();
            format!("{pid:x}-{n:x}")
        }
    }
}

/// Middleware: gives the request an id, logs one structured line per request (method,
/// path, status, duration, brand and key prefix-free key id when authenticated) inside a
/// span carrying the id, and echoes the id in the answer.
pub async fn request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = request_id(&req);
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let span = tracing::info_span!("request", request_id = %id);
    let started = Instant::now();
    let _entered = span.enter();
    let result = next.call(req).await;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let principal = response.request().extensions().get::<Principal>().copied();
            let brand = principal.map(|p| p.brand.to_string()).unwrap_or_default();
            let key = principal.map(|p| p.key.to_string()).unwrap_or_default();
            tracing::info!(
                request_id = %id, %method, %path, status, elapsed_ms, %brand, %key,
                "request"
            );
            if let Ok(value) = HeaderValue::from_str(&id) {
                response
                    .headers_mut()
                    .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
            }
            Ok(response)
        }
        Err(error) => {
            tracing::warn!(request_id = %id, %method, %path, %error, elapsed_ms, "request failed");
            Err(error)
        }
    }
}

/// Replaces a non-JSON error answer (4xx/5xx from the framework itself, such as 405)
/// with the API's JSON error shape, keeping its status. HTML answers are left alone:
/// they are pages that render their own errors for people.
pub(crate) fn json_fallback<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let code = match status.as_u16() {
        405 => "method_not_allowed",
        404 => "not_found",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        s if s >= 500 => "internal",
        _ => "invalid",
    };
    let message = status
        .canonical_reason()
        .unwrap_or("error")
        .to_ascii_lowercase();
    let body = serde_json::to_string(&ErrorBody {
        error: crate::error::ErrorDetail {
            code: code.to_owned(),
            message,
            field: None,
        },
    })
    .unwrap_or_default();
    let (req, res) = res.into_parts();
    let mut res = res.set_body(BoxBody::new(body));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, res).map_into_right_body(),
    ))
}
