//! The brand's processing notice: read by anyone of the brand, published by an admin;
//! each publication is a new version and old versions stay readable.

use crate::AppState;
use crate::auth::Caller;
use crate::body::Json;
use crate::dto::rfc3339;
use crate::error::{ApiError, ErrorBody};
use actix_web::{HttpResponse, web};
use regulars_ports::Notice;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// One version of the brand's processing notice.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NoticeDto {
    /// Its number: 1 for the first publication, one more for each after. Consent given
    /// after reading it records this number (`notice_version`).
    version: u32,
    /// The text per language: `vi` always, `en` when written.
    texts: BTreeMap<String, String>,
    /// When it was published (RFC 3339).
    published_at: String,
}

impl From<Notice> for NoticeDto {
    fn from(n: Notice) -> Self {
        NoticeDto {
            version: n.version,
            texts: n.texts,
            published_at: rfc3339(n.published_at),
        }
    }
}

/// A new version of the notice.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoticeIn {
    /// The text per language: `vi` (required) and `en` (optional), each 1 to 20 000
    /// characters.
    texts: BTreeMap<String, String>,
}

/// Which version to read.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct NoticeQuery {
    /// A version number; the latest when absent.
    version: Option<u32>,
}

/// The brand's processing notice: the latest version, or the one asked for.
#[utoipa::path(get, path = "/v1/brand/notice", tag = "brand", security(("api_key" = [])), params(NoticeQuery),
    responses((status = 200, body = NoticeDto), (status = 400, body = ErrorBody),
        (status = 404, description = "No notice published, or no such version.", body = ErrorBody)))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<NoticeQuery>,
) -> Result<HttpResponse, ApiError> {
    let notice = state
        .services
        .notice(caller.reader()?, query.version)
        .await?;
    Ok(HttpResponse::Ok().json(NoticeDto::from(notice)))
}

/// Publishes a new version of the brand's processing notice (admin); earlier versions
/// are kept, and the sign-up page shows the new one from now on.
#[utoipa::path(put, path = "/v1/brand/notice", tag = "brand", security(("api_key" = [])), request_body = NoticeIn,
    responses((status = 200, body = NoticeDto), (status = 403, description = "Not an admin key.", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(crate) async fn put(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NoticeIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let notice = state.services.publish_notice(brand, body.0.texts).await?;
    Ok(HttpResponse::Ok().json(NoticeDto::from(notice)))
}
