//! The segments report by location: per segment, the members who came to the locations
//! a key sees (or one of them) during a period.

use crate::AppState;
use crate::auth::Caller;
use crate::dto::MoneyDto;
use crate::error::{ApiError, ErrorBody};
use crate::routes::location_reports::LocationsQuery;
use crate::routes::reports::{date, format_date, location};
use actix_web::{HttpResponse, web};
use regulars_reports::{SegmentVisits, SegmentVisitsRow};
use regulars_service::LocalDays;
use serde::Serialize;
use utoipa::ToSchema;

/// One segment's visitors of the period.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SegmentVisitsRowDto {
    /// The segment at the latest scoring run; `Unscored` for customers never scored.
    segment: String,
    /// Members with at least one counted order (refunded in full: not counted) there.
    visitors: u64,
    /// Their counted orders.
    orders: u64,
    /// Their revenue, net of refunds.
    revenue: MoneyDto,
}

/// Per segment, the members who came in during the period. Orders and revenue add up
/// across locations to the brand's; a member who came to two locations is a visitor of
/// each, and one visitor of the brand.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SegmentVisitsDto {
    /// First local day of the period.
    from: String,
    /// The local day after the period.
    to: String,
    /// Members with a counted order (the sum of the rows' visitors).
    visitors: u64,
    /// Their counted orders (the sum of the rows').
    orders: u64,
    /// Their revenue (the sum of the rows').
    revenue: MoneyDto,
    /// Most visitors first; the unscored last among equals.
    rows: Vec<SegmentVisitsRowDto>,
}

fn row(r: &SegmentVisitsRow) -> SegmentVisitsRowDto {
    SegmentVisitsRowDto {
        segment: r.label().to_owned(),
        visitors: r.visitors,
        orders: r.orders,
        revenue: MoneyDto::from(&r.revenue),
    }
}

impl SegmentVisitsDto {
    fn new(report: &SegmentVisits, days: LocalDays) -> Self {
        SegmentVisitsDto {
            from: format_date(days.from),
            to: format_date(days.to),
            visitors: report.visitors,
            orders: report.orders,
            revenue: MoneyDto::from(&report.revenue),
            rows: report.rows.iter().map(row).collect(),
        }
    }
}

/// Per segment, the members with an order in the period: at every location for an
/// admin or viewer key, at a manager's own locations for a manager's key, at one
/// location with `location`. Orders without a customer are left out.
#[utoipa::path(get, path = "/v1/reports/segments", tag = "reports", security(("api_key" = [])), params(LocationsQuery),
    responses((status = 200, body = SegmentVisitsDto), (status = 400, body = ErrorBody),
        (status = 403, description = "A location the key does not cover.", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(crate) async fn by_segment(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<LocationsQuery>,
) -> Result<HttpResponse, ApiError> {
    let from = date(&query.from, "from")?;
    let to = date(&query.to, "to")?;
    let (brand, scope) = caller.scoped(location(&query.location)?)?;
    let (days, report) = state
        .services
        .report_segment_visits(brand, &scope, from, to)
        .await?;
    Ok(HttpResponse::Ok().json(SegmentVisitsDto::new(&report, days)))
}
