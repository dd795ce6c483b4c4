//! The report by staff member: per staff member at the till and location, orders rung
//! up, their revenue, sign-ups and vouchers redeemed, adding up to the total.

use crate::AppState;
use crate::auth::Caller;
use crate::dto::MoneyDto;
use crate::error::{ApiError, ErrorBody};
use crate::routes::location_reports::LocationsQuery;
use crate::routes::reports::{date, format_date, location};
use actix_web::{HttpResponse, web};
use regulars_reports::StaffRow;
use regulars_service::StaffReportView;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// One staff member's figures at one location.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StaffRowDto {
    /// The staff member; `null` in the total.
    staff_id: Option<Uuid>,
    /// Their name; `null` in the total.
    name: Option<String>,
    /// The location's code; `null` in the total.
    code: Option<String>,
    /// Orders rung up (refunded in full: not counted).
    orders: u64,
    /// Their revenue, net of refunds.
    revenue: MoneyDto,
    /// Customers signed up.
    sign_ups: u64,
    /// Vouchers redeemed.
    vouchers_redeemed: u64,
}

/// The period's figures by staff member; the rows add up to `total`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StaffReportDto {
    /// First local day of the period.
    from: String,
    /// The local day after the period.
    to: String,
    /// Highest revenue first.
    rows: Vec<StaffRowDto>,
    /// The sum of the rows.
    total: StaffRowDto,
}

fn row(r: &StaffRow, view: &StaffReportView) -> StaffRowDto {
    StaffRowDto {
        staff_id: r.staff.map(|s| s.as_uuid()),
        name: r.staff.and_then(|s| view.names.get(&s).cloned()),
        code: r.location.clone(),
        orders: r.orders,
        revenue: MoneyDto::from(&r.revenue),
        sign_ups: r.sign_ups,
        vouchers_redeemed: r.vouchers_redeemed,
    }
}

/// What each staff member did at the till in a period, per location: orders rung up
/// and their revenue, customers signed up, vouchers redeemed. Orders from a POS or the
/// API carry no staff member and are not here. A manager's key reads its locations.
#[utoipa::path(get, path = "/v1/reports/staff", tag = "reports", security(("api_key" = [])), params(LocationsQuery),
    responses((status = 200, body = StaffReportDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn by_staff(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<LocationsQuery>,
) -> Result<HttpResponse, ApiError> {
    let from = date(&query.from, "from")?;
    let to = date(&query.to, "to")?;
    let (brand, scope) = caller.scoped(location(&query.location)?)?;
    let view = state.services.report_staff(brand, &scope, from, to).await?;
    Ok(HttpResponse::Ok().json(StaffReportDto {
        from: format_date(view.days.from),
        to: format_date(view.days.to),
        rows: view.report.rows.iter().map(|r| row(r, &view)).collect(),
        total: row(&view.report.total, &view),
    }))
}
