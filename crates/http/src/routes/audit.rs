//! The access audit: recording every read of customers' personal data, and listing the
//! brand's access log for an admin (`GET /v1/audit/access`).
//!
//! A handler that answers personal data calls [`record`] with the route it serves, the
//! parts of the data it shows and every customer it shows, after reading and before
//! answering: `audit::record(&state, &caller, ROUTE, &[PersonalData::Profile], &[id])`.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::paging::Page;
use actix_web::{HttpResponse, web};
use regulars_domain::{ApiKeyId, CustomerId};
use regulars_ports::{AccessQuery, AccessRecord, PersonalData};
use regulars_service::Reader;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Records that the caller was shown `fields` of `customers` through `route` (the
/// route's pattern), in the buffer the server writes every 100 ms. Fails the request
/// (503) when the buffer is full because the log cannot be written: a read that is not
/// recorded is not answered.
pub(crate) async fn record(
    state: &AppState,
    caller: &Caller,
    route: &str,
    fields: &[PersonalData],
    customers: &[CustomerId],
) -> Result<(), ApiError> {
    state
        .services
        .record_access(
            caller.brand(),
            Reader::api(caller.0.key),
            route,
            fields,
            customers,
        )
        .await?;
    Ok(())
}

/// Which records of the access log to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AccessLogQuery {
    /// Recorded at or after this time (RFC 3339).
    since: Option<String>,
    /// Recorded before this time (RFC 3339).
    until: Option<String>,
    /// Reads made with this API key only (the dashboard's, signed in with it, included).
    key_id: Option<String>,
    /// Reads that showed this customer only.
    customer_id: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    limit: Option<u64>,
    /// The `next` cursor of the previous page.
    after: Option<String>,
}

/// One read of personal data.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct AccessRecordDto {
    /// The record's id.
    pub id: Uuid,
    /// When (RFC 3339).
    pub at: String,
    /// The API key that read, the dashboard session's key included; absent for the
    /// operator's command line.
    pub key_id: Option<Uuid>,
    /// `api`, `dashboard`, `cli` or `till`.
    pub channel: String,
    /// The route read, e.g. `GET /v1/customers/{id}`.
    pub route: String,
    /// The parts of the data shown: `profile`, `contact`, `consent`, `orders`, `ledger`,
    /// `vouchers`, `scores`, `messages`, `export`.
    pub fields: Vec<String>,
    /// Every customer shown.
    pub customers: Vec<Uuid>,
    /// The staff member, for a till's reads and actions.
    pub staff_id: Option<Uuid>,
    /// The till's location.
    pub location_id: Option<Uuid>,
}

impl From<&AccessRecord> for AccessRecordDto {
    fn from(r: &AccessRecord) -> Self {
        AccessRecordDto {
            id: r.id,
            at: r.at.format(&Rfc3339).unwrap_or_default(),
            key_id: r.key_id.map(|k| k.as_uuid()),
            channel: r.channel.as_str().to_owned(),
            route: r.route.clone(),
            fields: r.fields.iter().map(|f| f.as_str().to_owned()).collect(),
            customers: r.customers.iter().map(|c| c.as_uuid()).collect(),
            staff_id: r.staff_id.map(|s| s.as_uuid()),
            location_id: r.location_id.map(|l| l.as_uuid()),
        }
    }
}

fn time(raw: Option<&str>, field: &str) -> Result<Option<OffsetDateTime>, ApiError> {
    raw.map(|text| {
        OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
            ApiError::invalid(
                field,
                "must be a time in RFC 3339, e.g. 2026-12-01T00:00:00Z",
            )
        })
    })
    .transpose()
}

fn parsed<T: std::str::FromStr>(raw: Option<&str>, field: &str) -> Result<Option<T>, ApiError> {
    raw.map(|text| {
        text.parse::<T>()
            .map_err(|_| ApiError::invalid(field, "must be an id (UUID)"))
    })
    .transpose()
}

fn after(raw: Option<&str>) -> Result<Option<(OffsetDateTime, Uuid)>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    let bad = || ApiError::invalid("after", "not a cursor this list handed out");
    let (micros, id) = raw.split_once('_').ok_or_else(bad)?;
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    let at =
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000).map_err(|_| bad())?;
    Ok(Some((at, id.parse().map_err(|_| bad())?)))
}

/// The brand's access log: who read which customers' personal data, when, and which
/// parts of it, oldest first (admin only). Filtered by `key_id`, it is what a leaked key
/// read; by `customer_id`, who read a customer.
#[utoipa::path(get, path = "/v1/audit/access", tag = "audit", security(("api_key" = [])), params(AccessLogQuery),
    responses((status = 200, body = Page<AccessRecordDto>), (status = 400, body = ErrorBody),
        (status = 403, description = "Not an admin key.", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<AccessLogQuery>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let limit = crate::paging::PageQuery {
        limit: query.limit,
        after: None,
    }
    .checked_limit()?;
    let filter = AccessQuery {
        since: time(query.since.as_deref(), "since")?,
        until: time(query.until.as_deref(), "until")?,
        key: parsed::<Uuid>(query.key_id.as_deref(), "key_id")?.map(ApiKeyId::from_uuid),
        customer: parsed::<Uuid>(query.customer_id.as_deref(), "customer_id")?
            .map(CustomerId::from_uuid),
        after: after(query.after.as_deref())?,
        limit,
    };
    let records = state.services.access_log(brand, &filter).await?;
    let page = Page::of(records, limit, |r| {
        format!("{}_{}", r.at.unix_timestamp_nanos() / 1000, r.id)
    });
    Ok(HttpResponse::Ok().json(Page {
        items: page.items.iter().map(AccessRecordDto::from).collect(),
        next: page.next,
    }))
}
