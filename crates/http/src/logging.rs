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

/// Where the path of a request carries a bearer secret, as (leading segments, index of
/// the secret segment): a customer's link token (`/c/<token>`) opens the customer's page
/// and its vouchers, and a voucher code (`/v1/vouchers/<code>…`) redeems the voucher.
const SECRET_SEGMENTS: [(&[&str], usize); 2] = [(&["c"], 1), (&["v1", "vouchers"], 2)];

/// The path as the access log shows it: bearer secrets in it replaced by `***`, so
/// that whoever reads the logs cannot open a customer's page or redeem a voucher.
pub(crate) fn loggable_path(path: &str) -> String {
    let mut segments: Vec<&str> = path.split('/').skip(1).collect();
    for (lead, secret) in SECRET_SEGMENTS {
        let leads =
            segments.len() > secret && lead.iter().zip(&segments).all(|(want, got)| want == got);
        if leads && !segments[secret].is_empty() {
            segments[secret] = "***";
        }
    }
    if segments.is_empty() {
        return path.to_owned();
    }
    format!("/{}", segments.join("/"))
}

/// Middleware: gives the request an id, logs one structured line per request (method,
/// path with its bearer secrets masked, status, duration, brand and key prefix-free key
/// id when authenticated) inside a span carrying the id, and echoes the id in the answer.
pub async fn request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = request_id(&req);
    let method = req.method().to_string();
    let path = loggable_path(req.path());
    let span = tracing::info_span!("request", request_id = %id);
    let started = Instant::now();
    let _entered = span.enter();
    let result = next.call(req).await;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let principal = response.request().extensions().get::<Principal>().cloned();
            let brand = principal
                .as_ref()
                .map(|p| p.brand.to_string())
                .unwrap_or_default();
            let key = principal
                .as_ref()
                .map(|p| p.key.to_string())
                .unwrap_or_default();
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use actix_web::middleware::from_fn;
    use actix_web::test::{TestRequest, call_service, init_service};
    use actix_web::{App, HttpResponse, web};
    use std::sync::{Arc, Mutex};

    #[test]
    fn bearer_segments_are_masked_and_nothing_else() {
        assert_eq!(loggable_path("/c/AbC-123_x"), "/c/***");
        assert_eq!(
            loggable_path("/v1/vouchers/RG-7K2P-9XQ4"),
            "/v1/vouchers/***"
        );
        assert_eq!(
            loggable_path("/v1/vouchers/RG-7K2P-9XQ4/redeem"),
            "/v1/vouchers/***/redeem"
        );
        assert_eq!(loggable_path("/v1/customers/abc"), "/v1/customers/abc");
        assert_eq!(loggable_path("/v1/vouchers"), "/v1/vouchers");
        assert_eq!(loggable_path("/c/"), "/c/");
        assert_eq!(loggable_path("/"), "/");
        assert_eq!(loggable_path(""), "");
        assert_eq!(loggable_path("/cc/x"), "/cc/x");
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[actix_web::test]
    async fn access_logs_never_show_link_tokens_or_voucher_codes() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = init_service(
            App::new()
                .wrap(from_fn(request_log))
                .route("/c/{token}", web::get().to(HttpResponse::Ok))
                .route(
                    "/v1/vouchers/{code}/redeem",
                    web::post().to(HttpResponse::Ok),
                ),
        )
        .await;
        for req in [
            TestRequest::get().uri("/c/LinkTokenSecret42"),
            TestRequest::post().uri("/v1/vouchers/RG-SECRETCODE/redeem"),
            TestRequest::get().uri("/v1/vouchers/RG-UNROUTED"),
        ] {
            call_service(&app, req.to_request()).await;
        }
        let logged = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(logged.matches("request").count() >= 3, "{logged}");
        for secret in ["LinkTokenSecret42", "RG-SECRETCODE", "RG-UNROUTED"] {
            assert!(!logged.contains(secret), "{secret} in {logged}");
        }
        assert!(logged.contains("/v1/vouchers/***/redeem"), "{logged}");
    }
}
