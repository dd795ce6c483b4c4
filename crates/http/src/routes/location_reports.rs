//! Reports by location: one row per location a key sees, adding up to its total.

use crate::AppState;
use crate::auth::Caller;
use crate::dto::MoneyDto;
use crate::error::{ApiError, ErrorBody};
use crate::routes::reports::{date, format_date, location};
use actix_web::{HttpResponse, web};
use regulars_reports::{LocationReport, LocationRow};
use regulars_service::LocalDays;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The period and the location of a report by location.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct LocationsQuery {
    /// First local day of the period, `YYYY-MM-DD`; default 30 days before `to`.
    pub(crate) from: Option<String>,
    /// The local day after the period (exclusive), `YYYY-MM-DD`; default tomorrow.
    pub(crate) to: Option<String>,
    /// One location only (its id); a manager's key may name only its own.
    pub(crate) location: Option<String>,
}

/// One location's figures of the period.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LocationRowDto {
    /// The location's id; `null` for orders without a location, or with a code no
    /// location of the brand has.
    location_id: Option<Uuid>,
    /// The location code the orders carry; `null` for orders without one.
    code: Option<String>,
    /// The location's name, when it is one of the brand's.
    name: Option<String>,
    /// Orders (refunded in full: not counted).
    orders: u64,
    /// Revenue, net of refunds.
    revenue: MoneyDto,
    /// Orders credited to a member.
    member_orders: u64,
    /// `member_orders / orders`; `null` without orders.
    members_share: Option<f64>,
    /// Points the period's orders there earned when credited.
    points_earned: i64,
}

/// The figures of a period by location; the rows add up to `total`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LocationsDto {
    /// First local day of the period.
    from: String,
    /// The local day after the period.
    to: String,
    /// Highest revenue first; orders without a location last.
    rows: Vec<LocationRowDto>,
    /// The sum of the rows (its location fields are `null`).
    total: LocationRowDto,
}

fn row(r: &LocationRow, known: &[regulars_ports::Location]) -> LocationRowDto {
    let found = r
        .location
        .as_deref()
        .and_then(|code| known.iter().find(|l| l.code == code));
    LocationRowDto {
        location_id: found.map(|l| l.id.as_uuid()),
        code: r.location.clone(),
        name: found.map(|l| l.name.clone()),
        orders: r.orders,
        revenue: MoneyDto::from(&r.revenue),
        member_orders: r.member_orders,
        members_share: r.members_share,
        points_earned: r.points_earned.value(),
    }
}

impl LocationsDto {
    fn new(report: &LocationReport, days: LocalDays, known: &[regulars_ports::Location]) -> Self {
        LocationsDto {
            from: format_date(days.from),
            to: format_date(days.to),
            rows: report.rows.iter().map(|r| row(r, known)).collect(),
            total: row(&report.total, &[]),
        }
    }
}

/// Orders, revenue, members' share and points earned of a period by location: every
/// location for an admin or viewer key (and orders without one), a manager's own
/// locations for a manager's key.
#[utoipa::path(get, path = "/v1/reports/locations", tag = "reports", security(("api_key" = [])), params(LocationsQuery),
    responses((status = 200, body = LocationsDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn by_location(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<LocationsQuery>,
) -> Result<HttpResponse, ApiError> {
    let from = date(&query.from, "from")?;
    let to = date(&query.to, "to")?;
    let (brand, scope) = caller.scoped(location(&query.location)?)?;
    let (days, report) = state
        .services
        .report_locations(brand, &scope, from, to)
        .await?;
    let known = state.services.locations(brand).await?;
    Ok(HttpResponse::Ok().json(LocationsDto::new(&report, days, &known)))
}
