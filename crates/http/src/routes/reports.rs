//! Brand reports: the overview of a period, retention cohorts, revenue by segment or
//! location. Any role may read them; a manager's key reads its locations' orders only,
//! and every report takes `location` to narrow it to one location. Parameters are read by hand so that a bad one is
//! a 400 naming it (`from`, `to`, `interval`, `months`, `by`); a well-formed but
//! unusable one (an empty period, too many days) is a 422 naming it.

use crate::AppState;
use crate::auth::Caller;
use crate::dto::MoneyDto;
use crate::error::{ApiError, ErrorBody};
use actix_web::{HttpResponse, web};
use regulars_domain::LocationId;
use regulars_reports::{Breakdown, Cohorts, Interval, Overview, RevenueReport, YearMonth};
use regulars_service::LocalDays;
use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::format_description;
use utoipa::{IntoParams, ToSchema};

/// Months a cohort table spans when `months` is not given.
const DEFAULT_MONTHS: u32 = 12;

pub(crate) fn date(value: &Option<String>, field: &str) -> Result<Option<Date>, ApiError> {
    let Some(raw) = value.as_deref() else {
        return Ok(None);
    };
    Date::parse(raw, format_description!("[year]-[month]-[day]"))
        .map_err(|_| {
            ApiError::invalid(
                field,
                format!("`{field}` must be a date like 2026-11-01, not {raw:?}"),
            )
        })
        .map(Some)
}

fn month(value: &Option<String>, field: &str) -> Result<Option<YearMonth>, ApiError> {
    let Some(raw) = value.as_deref() else {
        return Ok(None);
    };
    // A month, or any day of it.
    let day = if raw.len() == 7 {
        format!("{raw}-01")
    } else {
        raw.to_owned()
    };
    Date::parse(&day, format_description!("[year]-[month]-[day]"))
        .map(YearMonth::of)
        .map_err(|_| {
            ApiError::invalid(
                field,
                format!("`{field}` must be a month like 2026-01, not {raw:?}"),
            )
        })
        .map(Some)
}

/// The `location` filter: a location id, or a 400 naming it.
pub(crate) fn location(value: &Option<String>) -> Result<Option<LocationId>, ApiError> {
    value
        .as_deref()
        .map(|raw| {
            raw.parse::<LocationId>().map_err(|_| {
                ApiError::invalid(
                    "location",
                    format!("`location` must be a location id, not {raw:?}"),
                )
            })
        })
        .transpose()
}

pub(crate) fn format_date(date: Date) -> String {
    date.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_else(|_| date.to_string())
}

/// The period of an overview and its series interval.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct OverviewQuery {
    /// First local day of the period, `YYYY-MM-DD` (brand's time zone); default 30
    /// days before `to`.
    from: Option<String>,
    /// The local day after the period (exclusive), `YYYY-MM-DD`; default tomorrow, so
    /// the period includes today.
    to: Option<String>,
    /// Series buckets: `day` (default) or `week` (Monday to Sunday).
    interval: Option<String>,
    /// One location's orders only (its id); a manager's key may name only its own.
    location: Option<String>,
}

/// One bucket of the series.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SeriesPointDto {
    /// First local day of the bucket.
    #[schema(example = "2026-11-02")]
    start: String,
    /// Revenue of the bucket's orders, net of refunds.
    revenue: MoneyDto,
    /// Orders in the bucket.
    orders: u64,
    /// Distinct customers with an order in the bucket.
    active_customers: u64,
}

/// How the programme did over a period. Orders refunded in full do not count; rates
/// are `null` when their denominator is zero. See `docs/api.md` for the definitions.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OverviewDto {
    /// First local day of the period.
    from: String,
    /// The local day after the period.
    to: String,
    /// `day` or `week`.
    interval: String,
    /// Revenue, net of refunds.
    revenue: MoneyDto,
    /// Orders.
    orders: u64,
    /// Customers with at least one order in the period.
    active_customers: u64,
    /// Active customers whose first order is in the period.
    new_customers: u64,
    /// Active customers who had ordered before the period.
    returning_customers: u64,
    /// Active customers with at least two orders in the period.
    repeat_customers: u64,
    /// `repeat_customers / active_customers`.
    repeat_rate: Option<f64>,
    /// Customers whose first order was before the period.
    prior_customers: u64,
    /// `returning_customers / prior_customers`: the share of earlier customers who came back.
    comeback_rate: Option<f64>,
    /// Revenue per order, rounded to the currency's minor unit.
    average_order_value: Option<MoneyDto>,
    /// Vouchers issued in the period; `null` in a report limited to locations (vouchers
    /// and points are the customers', not a shop's).
    vouchers_issued: Option<u64>,
    /// Of those, how many have been redeemed; `null` when limited to locations.
    vouchers_redeemed: Option<u64>,
    /// `vouchers_redeemed / vouchers_issued`.
    voucher_redemption_rate: Option<f64>,
    /// Points earned in the period; `null` when limited to locations.
    points_earned: Option<i64>,
    /// Points spent on rewards in the period; `null` when limited to locations.
    points_redeemed: Option<i64>,
    /// `points_redeemed / points_earned` (may exceed 1).
    points_redeemed_per_earned: Option<f64>,
    /// What the vouchers redeemed in the period took off their orders: each valued at
    /// its reward's cost to the shop (a free item at its menu price, an amount off at the
    /// amount, a percentage at that share of the order it was redeemed on, capped);
    /// limited to locations, the vouchers redeemed there (at the till's location, else
    /// at that of the order each was redeemed on).
    programme_cost: MoneyDto,
    /// Vouchers redeemed in the period (at the locations, when limited to some).
    programme_cost_vouchers: u64,
    /// Of those, how many could not be valued (a free item no longer on the menu, a
    /// percentage off without its order or cap) and are not in `programme_cost`.
    programme_cost_unpriced: u64,
    /// `programme_cost / revenue`.
    programme_cost_share: Option<f64>,
    /// Every bucket of the period, oldest first.
    series: Vec<SeriesPointDto>,
}

impl OverviewDto {
    fn new(o: &Overview, days: LocalDays, whole_brand: bool) -> Self {
        OverviewDto {
            from: format_date(days.from),
            to: format_date(days.to),
            interval: match o.interval {
                Interval::Day => "day",
                Interval::Week => "week",
            }
            .to_owned(),
            revenue: MoneyDto::from(&o.revenue),
            orders: o.orders,
            active_customers: o.active_customers,
            new_customers: o.new_customers,
            returning_customers: o.returning_customers,
            repeat_customers: o.repeat_customers,
            repeat_rate: o.repeat_rate,
            prior_customers: o.prior_customers,
            comeback_rate: o.comeback_rate,
            average_order_value: o.average_order_value.as_ref().map(MoneyDto::from),
            vouchers_issued: whole_brand.then_some(o.vouchers.issued),
            vouchers_redeemed: whole_brand.then_some(o.vouchers.redeemed),
            voucher_redemption_rate: o.voucher_redemption_rate.filter(|_| whole_brand),
            points_earned: whole_brand.then_some(o.points.earned.value()),
            points_redeemed: whole_brand.then_some(o.points.redeemed.value()),
            points_redeemed_per_earned: o.points_redeemed_per_earned.filter(|_| whole_brand),
            programme_cost: MoneyDto::from(&o.programme_cost.cost),
            programme_cost_vouchers: o.programme_cost.redeemed,
            programme_cost_unpriced: o.programme_cost.unpriced,
            programme_cost_share: o.programme_cost.share_of(o.revenue),
            series: o
                .series
                .iter()
                .map(|p| SeriesPointDto {
                    start: format_date(p.start),
                    revenue: MoneyDto::from(&p.revenue),
                    orders: p.orders,
                    active_customers: p.active_customers,
                })
                .collect(),
        }
    }
}

/// The overview of a period: revenue, orders, active/new/returning customers, repeat
/// and comeback rates, average order value, voucher and points redemption, and a daily
/// or weekly series.
#[utoipa::path(get, path = "/v1/reports/overview", tag = "reports", security(("api_key" = [])), params(OverviewQuery),
    responses((status = 200, body = OverviewDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn overview(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<OverviewQuery>,
) -> Result<HttpResponse, ApiError> {
    let from = date(&query.from, "from")?;
    let to = date(&query.to, "to")?;
    let interval = match query.interval.as_deref() {
        None | Some("day") => Interval::Day,
        Some("week") => Interval::Week,
        Some(other) => {
            return Err(ApiError::invalid(
                "interval",
                format!("`interval` is `day` or `week`, not {other:?}"),
            ));
        }
    };
    let (brand, scope) = caller.scoped(location(&query.location)?)?;
    let (days, report) = state
        .services
        .report_overview_in(brand, &scope, from, to, interval)
        .await?;
    Ok(HttpResponse::Ok().json(OverviewDto::new(&report, days, scope.is_brand())))
}

/// Which cohorts to show.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct CohortsQuery {
    /// The first cohort's month, `YYYY-MM` (brand's time zone); by default the table
    /// ends with the current month.
    from: Option<String>,
    /// How many monthly cohorts, 1–60 (default 12).
    months: Option<String>,
    /// One location's orders only (its id); a manager's key may name only its own.
    location: Option<String>,
}

/// One cell of the triangle.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RetentionDto {
    /// Months after the cohort's month (0 is its own month).
    offset: u32,
    /// Customers of the cohort with an order in that month.
    customers: u64,
    /// `customers / size`.
    share: f64,
}

/// The customers whose first order fell in one month.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CohortDto {
    /// The month, `YYYY-MM`.
    #[schema(example = "2026-01")]
    month: String,
    /// How many customers.
    size: u64,
    /// Offsets 0, 1, 2 … up to the last month of the table or the current month.
    retention: Vec<RetentionDto>,
}

/// Retention by monthly cohort.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CohortsDto {
    /// The first cohort's month.
    from: String,
    /// Months the table spans.
    months: u32,
    /// Customers in the listed cohorts.
    customers: u64,
    /// One row per month that has begun, oldest first.
    cohorts: Vec<CohortDto>,
}

impl From<&Cohorts> for CohortsDto {
    fn from(c: &Cohorts) -> Self {
        CohortsDto {
            from: c.first.to_string(),
            months: c.months,
            customers: c.customers,
            cohorts: c
                .cohorts
                .iter()
                .map(|cohort| CohortDto {
                    month: cohort.month.to_string(),
                    size: cohort.size,
                    retention: cohort
                        .retention
                        .iter()
                        .map(|cell| RetentionDto {
                            offset: cell.offset,
                            customers: cell.customers,
                            share: cell.share,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// Retention by monthly cohort: customers grouped by the month of their first order,
/// and the share of each group that ordered in each later month.
#[utoipa::path(get, path = "/v1/reports/cohorts", tag = "reports", security(("api_key" = [])), params(CohortsQuery),
    responses((status = 200, body = CohortsDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn cohorts(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<CohortsQuery>,
) -> Result<HttpResponse, ApiError> {
    let first = month(&query.from, "from")?;
    let months = match query.months.as_deref() {
        None => DEFAULT_MONTHS,
        Some(raw) => raw.parse::<u32>().map_err(|_| {
            ApiError::invalid(
                "months",
                format!("`months` must be a whole number, not {raw:?}"),
            )
        })?,
    };
    let (brand, scope) = caller.scoped(location(&query.location)?)?;
    let report = state
        .services
        .report_cohorts_in(brand, &scope, first, months)
        .await?;
    Ok(HttpResponse::Ok().json(CohortsDto::from(&report)))
}

/// The period and grouping of a revenue breakdown.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct RevenueQuery {
    /// `segment` (the latest scoring run's; the default) or `location`.
    by: Option<String>,
    /// First local day of the period, `YYYY-MM-DD`; default 30 days before `to`.
    from: Option<String>,
    /// The local day after the period (exclusive), `YYYY-MM-DD`; default tomorrow.
    to: Option<String>,
    /// One location's orders only (its id); a manager's key may name only its own.
    location: Option<String>,
}

/// One group's revenue.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RevenueRowDto {
    /// The segment name or location code; `null` for customers never scored (and orders
    /// without a customer) or orders without a location.
    key: Option<String>,
    /// What to show: the key, `Unscored` or `No location`.
    label: String,
    /// Revenue, net of refunds.
    revenue: MoneyDto,
    /// Orders.
    orders: u64,
    /// Share of the period's revenue; `null` when it is zero.
    share: Option<f64>,
}

/// Revenue of a period by segment or location; rows add up to the totals.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RevenueDto {
    /// First local day of the period.
    from: String,
    /// The local day after the period.
    to: String,
    /// `segment` or `location`.
    by: String,
    /// Revenue of the period, net of refunds.
    total: MoneyDto,
    /// Orders of the period.
    orders: u64,
    /// Highest revenue first.
    rows: Vec<RevenueRowDto>,
}

impl RevenueDto {
    fn new(r: &RevenueReport, days: LocalDays) -> Self {
        RevenueDto {
            from: format_date(days.from),
            to: format_date(days.to),
            by: match r.by {
                Breakdown::Segment => "segment",
                Breakdown::Location => "location",
            }
            .to_owned(),
            total: MoneyDto::from(&r.total),
            orders: r.orders,
            rows: r
                .rows
                .iter()
                .map(|row| RevenueRowDto {
                    key: row.key.clone(),
                    label: row.label(r.by).to_owned(),
                    revenue: MoneyDto::from(&row.revenue),
                    orders: row.orders,
                    share: row.share,
                })
                .collect(),
        }
    }
}

/// Revenue of a period by customer segment or by location, with order counts and
/// shares of the total.
#[utoipa::path(get, path = "/v1/reports/revenue", tag = "reports", security(("api_key" = [])), params(RevenueQuery),
    responses((status = 200, body = RevenueDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn revenue(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<RevenueQuery>,
) -> Result<HttpResponse, ApiError> {
    let by = match query.by.as_deref().unwrap_or("segment") {
        "segment" => Breakdown::Segment,
        "location" => Breakdown::Location,
        other => {
            return Err(ApiError::invalid(
                "by",
                format!("`by` is `segment` or `location`, not {other:?}"),
            ));
        }
    };
    let from = date(&query.from, "from")?;
    let to = date(&query.to, "to")?;
    let (brand, scope) = caller.scoped(location(&query.location)?)?;
    let (days, report) = state
        .services
        .report_revenue_in(brand, &scope, from, to, by)
        .await?;
    Ok(HttpResponse::Ok().json(RevenueDto::new(&report, days)))
}
