//! The one error shape of the API: `{"error": {"code", "message", "field"?}}`, and the
//! mapping of every use-case error and every malformed request into it.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use regulars_service::{ErrorClass, UseCaseError};
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong, for programs (`code`) and people (`message`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code such as `invalid`, `not_found`, `unauthorized`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// The request field at fault (a JSON path, a query or path parameter, a header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error answer: a status and the JSON body.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    detail: ErrorDetail,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a status, code, message and optional field.
    pub fn new(
        status: StatusCode,
        code: &str,
        message: impl Into<String>,
        field: Option<String>,
    ) -> Self {
        ApiError {
            status,
            detail: ErrorDetail {
                code: code.to_owned(),
                message: message.into(),
                field,
            },
            retry_after: None,
        }
    }

    /// 429 `rate_limited`, with `Retry-After: seconds`.
    pub fn rate_limited(seconds: u64) -> Self {
        let mut error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests for this key; retry in {seconds} s"),
            None,
        );
        error.retry_after = Some(seconds.max(1));
        error
    }

    /// Seconds the caller should wait before retrying, when the answer says so.
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// 400 `invalid` naming the field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            message,
            Some(field.into()),
        )
    }

    /// 404 `not_found`: the brand has no such thing (or it belongs to another brand —
    /// the answer is the same, so no brand learns what another has).
    pub fn not_found(field: &str, what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
            Some(field.to_owned()),
        )
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message, None)
    }

    /// 403 `forbidden`: the key's role may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message, None)
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The body's detail.
    pub fn detail(&self) -> &ErrorDetail {
        &self.detail
    }

    /// Maps a use case's error: the class decides the status, the error names the field.
    pub fn from_use_case<E: UseCaseError>(error: &E) -> Self {
        let field = error.field().map(str::to_owned);
        let (status, code) = match error.class() {
            ErrorClass::Invalid => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ErrorClass::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ErrorClass::Refused => (StatusCode::CONFLICT, "refused"),
            ErrorClass::Conflict => (StatusCode::CONFLICT, "conflict"),
            ErrorClass::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ErrorClass::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        let code = error.code().unwrap_or(code);
        if status.is_server_error() {
            // The chain goes to the log; the caller gets no internals.
            tracing::error!(error = %error, "use case failed");
            let message = if status == StatusCode::SERVICE_UNAVAILABLE {
                "the service is temporarily unavailable; try again".to_owned()
            } else {
                "internal error; it has been logged".to_owned()
            };
            return ApiError::new(status, code, message, None);
        }
        ApiError::new(status, code, error.to_string(), field)
    }
}

impl<E: UseCaseError> From<E> for ApiError {
    fn from(error: E) -> Self {
        ApiError::from_use_case(&error)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.detail.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header(("Retry-After", seconds.to_string()));
        }
        response.json(ErrorBody {
            error: self.detail.clone(),
        })
    }
}

/// A JSON body that could not be read: wrong content type (415), too large (413),
/// not JSON or not the expected shape (400 naming the JSON path).
pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        JsonPayloadError::ContentType => unsupported_media_type(),
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => too_large(*limit),
        JsonPayloadError::Deserialize(e) => ApiError::invalid("body", e.to_string()),
        other => ApiError::invalid("body", other.to_string()),
    };
    api.into()
}

/// 415 for a body that is not declared JSON.
pub fn unsupported_media_type() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "the body must be JSON (Content-Type: application/json)",
        Some("content-type".to_owned()),
    )
}

/// 413 for a body over `limit` bytes.
pub fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the body is larger than {limit} bytes"),
        Some("body".to_owned()),
    )
}

/// A path segment that is not what the route expects (an id that is not a UUID):
/// nothing can have that id, so it is a 404 like any unknown id.
pub fn path_error(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no such resource ({err})"),
        Some("path".to_owned()),
    )
    .into()
}

/// A query string that does not parse: 400 naming the parameter when known.
pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::invalid("query", err.to_string()).into()
}

/// Answers for routes that do not exist, so even they speak JSON.
pub async fn no_route() -> HttpResponse {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route",
        Some("path".to_owned()),
    )
    .error_response()
}
