//! `GET /v1/segments/export`: the members of a segment as CSV, a page at a time.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::paging::PageQuery;
use actix_web::{HttpResponse, web};
use regulars_domain::CustomerId;
use regulars_ports::PersonalData;
use regulars_service::{SEGMENT_CSV_HEADER, segment_csv_line};
use serde::Deserialize;
use utoipa::IntoParams;

/// The route as the access log names it.
const ROUTE: &str = "GET /v1/segments/export";

/// Which segment, and which page of it.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct SegmentExportQuery {
    /// The segment's name: a named one (`At risk`) or a custom one.
    segment: String,
    /// Members per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u64>,
    /// The `x-next-after` header of the previous page.
    after: Option<String>,
}

/// The members of a segment (admins only) as CSV: name, national phone, e-mail, points,
/// tier, last visit and consent per channel (`granted`, `withdrawn` or `none`), one page
/// at a time; the `x-next-after` header, when present, is the `after` of the next page.
/// Every page is recorded in the access log as an export.
#[utoipa::path(get, path = "/v1/segments/export", tag = "segments", security(("api_key" = [])),
    params(SegmentExportQuery),
    responses((status = 200, content_type = "text/csv", body = String, description = "One CSV page; `x-next-after` names the next."),
        (status = 403, description = "Not an admin key.", body = ErrorBody),
        (status = 404, description = "No segment of that name.", body = ErrorBody),
        (status = 422, description = "A bad `limit` or `after`.", body = ErrorBody)))]
pub(crate) async fn export(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<SegmentExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let paging = PageQuery {
        limit: query.limit,
        after: query.after.clone(),
    };
    let limit = paging.checked_limit()?;
    let after: Option<CustomerId> = paging.after()?;
    let code = state.services.brand(brand).await?.calling_code;
    let page = state
        .services
        .segment_members(brand, &query.segment, after, limit)
        .await?;
    let ids: Vec<CustomerId> = page.members.iter().map(|m| m.customer.id).collect();
    let parts = [
        PersonalData::Export,
        PersonalData::Profile,
        PersonalData::Contact,
        PersonalData::Consent,
    ];
    crate::routes::audit::record(&state, &caller, ROUTE, &parts, &ids).await?;
    let mut body = String::from(SEGMENT_CSV_HEADER);
    for member in &page.members {
        body.push_str(&segment_csv_line(member, code));
    }
    let mut response = HttpResponse::Ok();
    response
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"segment.csv\"",
        ))
        .insert_header(("Cache-Control", "no-store"));
    if let Some(next) = page.next {
        response.insert_header(("x-next-after", next.to_string()));
    }
    Ok(response.body(body))
}
