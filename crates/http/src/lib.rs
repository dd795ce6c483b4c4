//! The Regulars HTTP API on actix-web.
//!
//! [`configure`] registers every route, the JSON error handlers and the OpenAPI
//! document on an actix `ServiceConfig`; the binary and the end-to-end tests build their
//! `App` with it, so both serve exactly the same thing.
//!
//! * `/v1/...` — the versioned JSON API, authenticated with a brand's API key
//!   (`Authorization: Bearer rgk_…`). Roles: `admin` (everything), `pos` (orders,
//!   refunds, customers, vouchers, redemptions), `viewer` (read only). Every handler
//!   acts for the key's brand only; an id of another brand answers 404 exactly like an
//!   id that does not exist.
//! * `/webhooks/{integration}` — POS webhooks, authenticated by the integration's
//!   signature scheme (see [`regulars_ports::WebhookDecoder`]).
//! * `/openapi.json` and `/docs/` — the OpenAPI 3 document and an API reference page
//!   (Swagger UI, served from assets compiled into the binary: nothing is fetched).
//! * `/healthz`, `/readyz` — liveness and readiness; `/metrics` — Prometheus metrics
//!   (see [`metrics`]).
//!
//! Each API key and each POS integration has a token-bucket rate limit (see
//! [`ratelimit`]); over it the answer is 429 `rate_limited` with `Retry-After`.
//!
//! Every error is `{"error": {"code", "message", "field"?}}` with a 4xx status for bad
//! input (malformed JSON 400, wrong content type 415, body too large 413, unknown fields
//! 400, invalid values 422, unknown ids 404); see [`error`].
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//! use regulars_http::{AppState, configure};
//!
//! async fn serve(state: AppState) -> std::io::Result<()> {
//!     let state = web::Data::new(state);
//!     HttpServer::new(move || {
//!         App::new()
//!             .wrap(regulars_http::error_fallback())
//!             .wrap(actix_web::middleware::from_fn(regulars_http::track_metrics))
//!             .wrap(actix_web::middleware::from_fn(regulars_http::request_log))
//!             .configure(|cfg| configure(cfg, state.clone()))
//!     })
//!         .bind(("127.0.0.1", 8080))?
//!         .run()
//!         .await
//! }
//! ```

pub mod auth;
pub mod body;
pub mod dto;
pub mod error;
mod exposure;
mod logging;
pub mod metrics;
pub mod openapi;
pub mod paging;
mod routes;

use actix_web::middleware::ErrorHandlers;
use actix_web::web;
use regulars_ports::{Clock, WebhookDecoder};
use regulars_service::Services;
use std::sync::Arc;
use time::OffsetDateTime;
use utoipa_swagger_ui::SwaggerUi;

pub use body::{BodyLimit, DEFAULT_BODY_LIMIT};
pub use logging::{REQUEST_ID_HEADER, request_log};
pub use metrics::{Metrics, track_metrics};
pub use routes::export::export_document;

pub use openapi::ApiDoc;
pub use regulars_service::ratelimit;
pub use regulars_service::ratelimit::{RateLimit, RateLimiter};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub services: Arc<Services>,
    /// The POS payload decoder.
    pub decoder: Arc<dyn WebhookDecoder>,
    /// The POS APIs webhooks that carry only ids are completed with (Square orders,
    /// KiotViet customers); `None`: such events are acknowledged as unusable.
    pub pos_api: Option<Arc<dyn regulars_ports::PosApi>>,
    /// The clock webhook time windows are checked against.
    pub clock: Arc<dyn Clock>,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Per-key and per-integration rate limits (measured on `clock`).
    pub limiter: Arc<RateLimiter>,
    /// Budgets of failed attempts (webhooks whose signature or integration is wrong),
    /// per integration and client address: [`FAILURE_LIMIT`] by default.
    pub failures: Arc<RateLimiter>,
    /// The process's metrics, served at `/metrics`.
    pub metrics: Arc<Metrics>,
    /// When set, `/metrics` answers only `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
    /// Decodes providers' delivery reports at `/callbacks/{provider}`; `None`: none taken.
    pub delivery_reports: Option<Arc<dyn regulars_ports::DeliveryReportDecoder>>,
}

/// Failed webhook deliveries allowed per integration and client address: 1 a second,
/// bursts of 20 — a separate, smaller bucket than a POS's own.
pub const FAILURE_LIMIT: RateLimit = RateLimit {
    per_second: 1,
    burst: 20,
};

impl AppState {
    /// The time now.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Takes one request from `caller`'s rate limit; 429 with `Retry-After` when it is
    /// spent.
    pub fn limit(&self, caller: &str) -> Result<(), error::ApiError> {
        self.limiter.check(caller, self.now()).map_err(|seconds| {
            self.metrics.record_rate_limited();
            error::ApiError::rate_limited(seconds)
        })
    }

    /// 429 when the failure budget `key` is spent (nothing is taken from it).
    pub fn refuse_spent(&self, key: &str) -> Result<(), error::ApiError> {
        match self.failures.blocked(key, self.now()) {
            Some(seconds) => {
                self.metrics.record_rate_limited();
                Err(error::ApiError::rate_limited(seconds))
            }
            None => Ok(()),
        }
    }

    /// Takes one failure from the budget `key`; the failing request is answered as it
    /// is, the next ones 429 once the budget is spent.
    pub fn record_failure(&self, key: &str) {
        let _ = self.failures.check(key, self.now());
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("body_limit", &self.body_limit)
            .field("rate_limit", &self.limiter.limit())
            .finish_non_exhaustive()
    }
}

/// The OpenAPI document as JSON.
pub fn openapi_json() -> String {
    serde_json::to_string_pretty(&openapi::document()).unwrap_or_else(|_| "{}".to_owned())
}

/// Registers the whole API on `cfg`: routes, extractor error handlers, the OpenAPI
/// document and the reference page. Wrap the `App` in [`error_fallback`] and
/// [`request_log`] too.
pub fn configure(cfg: &mut web::ServiceConfig, state: web::Data<AppState>) {
    let limit = state.body_limit;
    cfg.app_data(state)
        .app_data(BodyLimit(limit))
        .app_data(
            web::JsonConfig::default()
                .limit(limit)
                .error_handler(error::json_error),
        )
        .app_data(web::PathConfig::default().error_handler(error::path_error))
        .app_data(web::QueryConfig::default().error_handler(error::query_error))
        .configure(routes::configure)
        .service(
            SwaggerUi::new("/docs/{_:.*}")
                .external_url_unchecked("/openapi.json", openapi::document()),
        )
        .default_service(web::to(error::no_route));
}

/// JSON bodies for errors the framework answers by itself (405 and the like): wrap
/// every `App` serving [`configure`] in it, together with [`request_log`].
pub fn error_fallback() -> ErrorHandlers<actix_web::body::BoxBody> {
    ErrorHandlers::new().default_handler(logging::json_fallback)
}
