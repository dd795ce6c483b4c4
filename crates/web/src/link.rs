//! `POST /v1/customers/{id}/qr-link`: the signed URL of a customer's own page and its
//! QR code, for admin and till keys. Answers in the JSON API's shapes.

use crate::WebState;
use crate::qr;
use crate::sign::LinkClaims;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use regulars_domain::CustomerId;
use regulars_ports::Role;
use regulars_service::{AuthError, LookupError, Principal};
use serde_json::json;

fn error(status: StatusCode, code: &str, message: &str, field: Option<&str>) -> HttpResponse {
    let mut body = json!({"error": {"code": code, "message": message}});
    if let Some(field) = field {
        body["error"]["field"] = json!(field);
    }
    HttpResponse::build(status).json(body)
}

/// 429 in the API's shape, with `Retry-After`.
fn too_many(seconds: u64) -> HttpResponse {
    let mut reply = error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        &format!("too many requests; retry in {seconds} s"),
        None,
    );
    if let Ok(value) = header::HeaderValue::from_str(&seconds.to_string()) {
        reply.headers_mut().insert(header::RETRY_AFTER, value);
    }
    reply
}

/// The base of customer links: the configured public URL, else the request's own.
pub(crate) fn base_url(req: &HttpRequest, state: &WebState) -> String {
    match &state.public_url {
        Some(url) => url.clone(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    }
}

/// The caller's principal when it sent a valid admin or till (pos) key within its rate
/// limit, or the answer refusing it in the API's shape (401, 403, 429 or 503).
async fn admin_or_till(req: &HttpRequest, state: &WebState) -> Result<Principal, HttpResponse> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(token) = token else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send an API key: Authorization: Bearer rgk_…",
            None,
        ));
    };
    let principal = match state
        .services
        .authenticate(token, &crate::client_address(req))
        .await
    {
        Ok(principal) => principal,
        Err(AuthError::Throttled(seconds)) => return Err(too_many(seconds)),
        Err(AuthError::Malformed | AuthError::Rejected) => {
            return Err(error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "unknown or revoked API key",
                None,
            ));
        }
        Err(other) => {
            tracing::error!(error = %other, "authentication failed");
            return Err(error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "try again later",
                None,
            ));
        }
    };
    // Like every API call: the request log names the key, and the key's rate limit
    // applies.
    req.extensions_mut().insert(principal.clone());
    if let Err(seconds) = state.limit_key(principal.key) {
        return Err(too_many(seconds));
    }
    if !matches!(principal.role, Role::Admin | Role::Pos) {
        return Err(error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this needs a key with role admin or pos",
            None,
        ));
    }
    Ok(principal)
}

/// Makes a link to the customer's page.
pub(crate) async fn create_link(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
) -> HttpResponse {
    let principal = match admin_or_till(&req, &state).await {
        Ok(principal) => principal,
        Err(refused) => return refused,
    };
    let not_found = || {
        error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such customer",
            Some("customer"),
        )
    };
    let Ok(customer) = path.parse::<CustomerId>() else {
        return not_found();
    };
    match state
        .services
        .customer_view(principal.brand, customer)
        .await
    {
        Ok(_) => {}
        Err(LookupError::UnknownCustomer(_) | LookupError::UnknownBrand(_)) => return not_found(),
        Err(other) => {
            tracing::error!(error = %other, "customer view failed");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the customer could not be read",
                None,
            );
        }
    }
    let expires_at = state.now() + state.link_ttl;
    let token = state.keys().link_token(&LinkClaims {
        brand: principal.brand,
        customer,
        expires_at,
    });
    let url = format!("{}/c/{token}", base_url(&req, &state));
    let svg = qr::svg(&url).unwrap_or_default();
    HttpResponse::Created().json(json!({
        "url": url,
        "expires_at": expires_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        "qr_svg": svg,
    }))
}
