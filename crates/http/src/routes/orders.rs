//! Orders and refunds posted through the API, and vouchers at the till.

use crate::AppState;
use crate::auth::Caller;
use crate::body::{RawBody, require_json};
use crate::dto::{
    OrderDto, OrderReceiptDto, RefundReceiptDto, VoucherCheckDto, VoucherDto, VoucherRedeemIn,
};
use crate::error::{ApiError, ErrorBody};
use crate::paging::{Page, PageQuery};
use crate::routes::webhooks::decode_error;
use crate::routes::{id, request_key};
use actix_web::{HttpRequest, HttpResponse, web};
use regulars_domain::{EventKey, LocationId, OrderId};
use regulars_ports::PersonalData;

/// Counts an order, in the generic POS format (`docs/pos.md`). Idempotent on
/// `external_id`: a second post answers the first receipt with `duplicate: true`.
#[utoipa::path(post, path = "/v1/orders", tag = "orders", security(("api_key" = [])),
    request_body(content = Object, description = "An order in the generic POS format"),
    responses((status = 200, body = OrderReceiptDto), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 409, description = "`key_reused`: the order id was already used by an order with other contents.", body = ErrorBody)))]
pub(crate) async fn ingest(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.till()?;
    require_json(&req)?;
    let found = state.services.brand(brand).await?;
    let bytes = crate::body::whole_numbers_in(&body.0);
    let order = state
        .decoder
        .generic_order(
            bytes.as_deref().unwrap_or(&body.0),
            brand,
            found.currency,
            found.calling_code,
        )
        .map_err(decode_error)?;
    let receipt = state
        .services
        .ingest_order(brand, order)
        .await
        .inspect_err(|_| state.metrics.record_ingested("order", "api", "rejected"))?;
    let outcome = if receipt.duplicate {
        "duplicate"
    } else {
        "counted"
    };
    state.metrics.record_ingested("order", "api", outcome);
    Ok(HttpResponse::Ok().json(OrderReceiptDto::from(&receipt)))
}

/// Refunds an order (fully or an amount), in the generic POS format. Idempotent on the
/// refund's own id.
#[utoipa::path(post, path = "/v1/refunds", tag = "orders", security(("api_key" = [])),
    request_body(content = Object, description = "A refund in the generic POS format"),
    responses((status = 200, body = RefundReceiptDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 409, description = "The order is fully refunded already, the refund would exceed what was paid, or (`key_reused`) the refund id was already used with other contents.", body = ErrorBody)))]
pub(crate) async fn refund(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.till()?;
    require_json(&req)?;
    let found = state.services.brand(brand).await?;
    let bytes = crate::body::whole_numbers_in(&body.0);
    let refund = state
        .decoder
        .generic_refund(bytes.as_deref().unwrap_or(&body.0), brand, found.currency)
        .map_err(decode_error)?;
    let receipt = state
        .services
        .refund_order(brand, refund)
        .await
        .inspect_err(|_| state.metrics.record_ingested("refund", "api", "rejected"))?;
    let outcome = if receipt.duplicate {
        "duplicate"
    } else {
        "counted"
    };
    state.metrics.record_ingested("refund", "api", outcome);
    Ok(HttpResponse::Ok().json(RefundReceiptDto::from(&receipt)))
}

/// A page of the brand's orders (a manager's key: those of its locations).
#[utoipa::path(get, path = "/v1/orders", tag = "orders", security(("api_key" = [])), params(PageQuery),
    responses((status = 200, body = Page<OrderDto>)))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let after: Option<OrderId> = query.after()?;
    let limit = query.limit();
    let (brand, scope) = caller.scoped(None)?;
    let orders = state
        .services
        .orders_in(brand, &scope, after, limit)
        .await?;
    let ids: Vec<regulars_domain::CustomerId> =
        orders.iter().filter_map(|o| o.customer_id).collect();
    let route = "GET /v1/orders";
    crate::routes::audit::record(&state, &caller, route, &[PersonalData::Orders], &ids).await?;
    let items: Vec<OrderDto> = orders.iter().map(OrderDto::from).collect();
    Ok(HttpResponse::Ok().json(Page::of(items, limit, |o| o.id.to_string())))
}

/// One order.
#[utoipa::path(get, path = "/v1/orders/{id}", tag = "orders", security(("api_key" = [])),
    params(("id" = String, Path)), responses((status = 200, body = OrderDto), (status = 404, body = ErrorBody)))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let order: OrderId = id(&path, "order")?;
    let stored = state.services.order(caller.reader()?, order).await?;
    let ids: Vec<regulars_domain::CustomerId> = stored.customer_id.into_iter().collect();
    let route = "GET /v1/orders/{id}";
    crate::routes::audit::record(&state, &caller, route, &[PersonalData::Orders], &ids).await?;
    let mut dto = OrderDto::from(&stored);
    if stored.customer_id.is_none() {
        // What a POS prints so the customer can claim the visit later.
        dto.claim_code = state.services.claim_code(caller.reader()?, order).await?;
    }
    Ok(HttpResponse::Ok().json(dto))
}

/// Whether a voucher can be used now (read only).
#[utoipa::path(get, path = "/v1/vouchers/{code}", tag = "vouchers", security(("api_key" = [])),
    params(("code" = String, Path)), responses((status = 200, body = VoucherCheckDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn validate_voucher(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let check = state
        .services
        .validate_voucher(caller.reader()?, &path)
        .await?;
    let route = "GET /v1/vouchers/{code}";
    let customer = [check.voucher.customer()];
    crate::routes::audit::record(&state, &caller, route, &[PersonalData::Vouchers], &customer)
        .await?;
    Ok(HttpResponse::Ok().json(VoucherCheckDto::from(&check)))
}

/// Redeems a voucher, exactly once however many tills try at the same moment.
#[utoipa::path(post, path = "/v1/vouchers/{code}/redeem", tag = "vouchers", security(("api_key" = [])),
    params(("code" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key with the same request answers the first response; with another request, 422. 1 to 255 visible ASCII characters, remembered for 48 hours per API key.")),
    request_body(content = VoucherRedeemIn, description = "Optional: the order it is used on"),
    responses((status = 200, body = VoucherDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn redeem_voucher(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.till()?;
    let input: VoucherRedeemIn = if body.0.is_empty() {
        VoucherRedeemIn::default()
    } else {
        crate::body::parse_json(&body.0)?
    };
    let order = match input.order_external_id {
        Some(external) => Some(
            EventKey::new(
                input
                    .order_source
                    .unwrap_or_else(|| "pos:generic".to_owned()),
                external,
            )
            .map_err(|e| ApiError::invalid("order_external_id", e.to_string()))?,
        ),
        None => None,
    };
    let location: Option<LocationId> = input
        .location_id
        .as_deref()
        .map(|raw| {
            raw.parse()
                .map_err(|_| ApiError::invalid("location_id", "not a location id"))
        })
        .transpose()?;
    let order_part = order
        .as_ref()
        .map(|key| format!("{}\n{}", key.source, key.external_id))
        .unwrap_or_default();
    let location_part = input.location_id.unwrap_or_default();
    let request = request_key(
        &req,
        &caller,
        &[
            b"voucher-redeem",
            path.as_bytes(),
            order_part.as_bytes(),
            location_part.as_bytes(),
        ],
    )?;
    let voucher = state
        .services
        .redeem_voucher_keyed(brand, &path, order, location, request.as_ref())
        .await?;
    Ok(HttpResponse::Ok().json(VoucherDto::from(&voucher)))
}
