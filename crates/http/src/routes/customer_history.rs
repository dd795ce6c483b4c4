//! A customer's history: the points ledger (the customer's, whole) and the orders (the
//! shops': a manager's key reads those placed at its locations only).

use crate::AppState;
use crate::auth::Caller;
use crate::dto::{LedgerEntryDto, OrderDto};
use crate::error::{ApiError, ErrorBody};
use crate::paging::{Page, PageQuery};
use crate::routes::{audit, id};
use actix_web::{HttpResponse, web};
use regulars_domain::{CustomerId, OrderId};
use regulars_ports::PersonalData;
use serde::Deserialize;
use utoipa::IntoParams;

/// A page of the customer's points ledger, oldest first.
#[utoipa::path(get, path = "/v1/customers/{id}/ledger", tag = "customers", security(("api_key" = [])),
    params(("id" = String, Path), PageQuery), responses((status = 200, body = Page<LedgerEntryDto>), (status = 404, body = ErrorBody)))]
pub(crate) async fn ledger(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let customer: CustomerId = id(&path, "customer")?;
    let after: Option<u64> = query.after()?;
    let limit = query.limit();
    let entries = state
        .services
        .customer_ledger(caller.reader()?, customer, after, limit)
        .await?;
    let route = "GET /v1/customers/{id}/ledger";
    audit::record(&state, &caller, route, &[PersonalData::Ledger], &[customer]).await?;
    let items: Vec<LedgerEntryDto> = entries.iter().map(LedgerEntryDto::from).collect();
    Ok(HttpResponse::Ok().json(Page::of(items, limit, |e| e.seq.to_string())))
}

/// The query of a customer's orders: a page, and the orders of one location.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct CustomerOrdersQuery {
    /// Items per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u64>,
    /// The `next` cursor of the previous page.
    after: Option<String>,
    /// Only the orders placed at this location (its id). A manager's key reads the
    /// orders of its locations, and is refused (403) another location.
    location: Option<String>,
}

/// A page of the customer's orders, by id: all of them, or (a manager's key, or
/// `location`) those placed at the locations asked for. A manager's key is answered 404
/// for a customer with no order at its locations.
#[utoipa::path(get, path = "/v1/customers/{id}/orders", tag = "customers", security(("api_key" = [])),
    params(("id" = String, Path), CustomerOrdersQuery),
    responses((status = 200, body = Page<OrderDto>), (status = 404, body = ErrorBody),
        (status = 400, body = ErrorBody),
        (status = 403, description = "A location the key does not cover.", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(crate) async fn orders(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<CustomerOrdersQuery>,
) -> Result<HttpResponse, ApiError> {
    let customer: CustomerId = id(&path, "customer")?;
    let page = PageQuery {
        limit: query.limit,
        after: query.after.clone(),
    };
    let after: Option<OrderId> = page.after()?;
    let limit = page.limit();
    let (brand, scope) = caller.scoped(super::reports::location(&query.location)?)?;
    // The customers a manager's key reads are those of its locations, whichever one the
    // request narrows to; any other is not found.
    let (_, whole) = caller.scoped(None)?;
    state
        .services
        .customer_in_scope(brand, &whole, customer)
        .await?;
    let orders = state
        .services
        .customer_orders_in(brand, &scope, customer, after, limit)
        .await?;
    let route = "GET /v1/customers/{id}/orders";
    audit::record(&state, &caller, route, &[PersonalData::Orders], &[customer]).await?;
    let items: Vec<OrderDto> = orders.iter().map(OrderDto::from).collect();
    Ok(HttpResponse::Ok().json(Page::of(items, limit, |o| o.id.to_string())))
}
