//! Claims of missed visits: an order stored without a customer credited to the customer
//! who claims it, by its id or by the code its receipt prints; and the brand's window.

use crate::AppState;
use crate::auth::Caller;
use crate::body::Json;
use crate::dto::{ClaimIn, ClaimSettingsDto, OrderReceiptDto};
use crate::error::{ApiError, ErrorBody};
use crate::routes::id;
use actix_web::{HttpResponse, web};
use regulars_domain::{CustomerId, OrderId};
use regulars_service::{ClaimBy, ClaimVia, Claimant, OrderRef};

/// Claims an order stored without a customer for a customer (admin and pos keys): the
/// points it would have earned are credited now, once. Claiming it again for the same
/// customer answers the first claim with `duplicate: true`.
#[utoipa::path(post, path = "/v1/orders/{id}/claim", tag = "orders", security(("api_key" = [])),
    params(("id" = String, Path)),
    request_body(content = ClaimIn, description = "`customer_id` or `customer_phone`, exactly one"),
    responses((status = 200, body = OrderReceiptDto), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, description = "No such order, or no such customer.", body = ErrorBody),
        (status = 409, description = "`already_claimed`: another customer claimed it; `has_customer`: it was credited when it came in.", body = ErrorBody),
        (status = 422, description = "`claim_expired`, `refunded`, `claims_off`, or a bad phone; `field` names it.", body = ErrorBody)))]
pub(crate) async fn claim_by_id(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: Json<ClaimIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.till()?;
    let order: OrderId = id(&path, "order")?;
    if body.0.code.is_some() {
        return Err(ApiError::invalid(
            "code",
            "the order is named by the path; claim by code with POST /v1/claims",
        ));
    }
    let claimant = claimant(&body.0)?;
    let receipt = state
        .services
        .claim_order(
            brand,
            &OrderRef::Id(order),
            &claimant,
            &by_api(&caller, ClaimVia::Api),
        )
        .await?;
    Ok(HttpResponse::Ok().json(OrderReceiptDto::from(&receipt)))
}

/// Claims the order whose receipt printed `code` for a customer (admin and pos keys).
/// A wrong code and another brand's code get the same 404.
#[utoipa::path(post, path = "/v1/claims", tag = "orders", security(("api_key" = [])),
    request_body(content = ClaimIn, description = "`code`, and `customer_id` or `customer_phone`"),
    responses((status = 200, body = OrderReceiptDto), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, description = "No order has this code, or no such customer.", body = ErrorBody),
        (status = 409, description = "`already_claimed` or `has_customer`.", body = ErrorBody),
        (status = 422, description = "`claim_expired`, `refunded`, `claims_off`, a malformed code or a bad phone; `field` names it.", body = ErrorBody)))]
pub(crate) async fn claim_by_code(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<ClaimIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.till()?;
    let Some(code) = body.0.code.clone() else {
        return Err(ApiError::invalid(
            "code",
            "give the code the receipt prints",
        ));
    };
    let claimant = claimant(&body.0)?;
    let receipt = state
        .services
        .claim_order(
            brand,
            &OrderRef::Code(code),
            &claimant,
            &by_api(&caller, ClaimVia::Code),
        )
        .await?;
    Ok(HttpResponse::Ok().json(OrderReceiptDto::from(&receipt)))
}

/// How many days after an order it may be claimed.
#[utoipa::path(get, path = "/v1/settings/claims", tag = "brand", security(("api_key" = [])),
    responses((status = 200, body = ClaimSettingsDto), (status = 401, body = ErrorBody)))]
pub(crate) async fn settings(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let claim_days = state.services.claim_days(caller.reader()?).await?;
    Ok(HttpResponse::Ok().json(ClaimSettingsDto { claim_days }))
}

/// Sets how many days after an order it may be claimed (admin only; 0 turns claims off).
#[utoipa::path(put, path = "/v1/settings/claims", tag = "brand", security(("api_key" = [])),
    request_body = ClaimSettingsDto,
    responses((status = 200, body = ClaimSettingsDto), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn set_settings(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<ClaimSettingsDto>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let claim_days = state
        .services
        .set_claim_days(brand, body.0.claim_days)
        .await?;
    Ok(HttpResponse::Ok().json(ClaimSettingsDto { claim_days }))
}

fn claimant(input: &ClaimIn) -> Result<Claimant, ApiError> {
    match (&input.customer_id, &input.customer_phone) {
        (Some(customer), None) => Ok(Claimant::Customer(CustomerId::from_uuid(*customer))),
        (None, Some(phone)) => Ok(Claimant::Phone(phone.clone())),
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "customer_phone",
            "give customer_id or customer_phone, not both",
        )),
        (None, None) => Err(ApiError::invalid(
            "customer_id",
            "give the customer_id or the customer_phone of who claims the order",
        )),
    }
}

fn by_api(caller: &Caller, via: ClaimVia) -> ClaimBy {
    ClaimBy {
        via,
        actor: format!("api_key:{}", caller.0.key),
        only_at: None,
    }
}
