//! Customers: register, look up, profile, history, adjustments and redemptions.

use crate::AppState;
use crate::auth::Caller;
use crate::body::Json;
use crate::dto::{
    AdjustmentDto, AdjustmentIn, ConsentDto, CustomerDto, CustomerIn, CustomerUpdate,
    LedgerEntryDto, OrderDto, ProfileDto, RedemptionIn, VoucherDto,
};
use crate::error::{ApiError, ErrorBody};
use crate::paging::{Page, PageQuery};
use crate::routes::{id, request_key};
use actix_web::{HttpRequest, HttpResponse, web};
use regulars_domain::{ChannelConsent, CustomerId, Points, RewardId};
use regulars_service::CustomerInput;
use serde::Deserialize;
use time::Date;
use time::macros::format_description;
use utoipa::IntoParams;

fn birthday(raw: Option<&str>) -> Result<Option<Date>, ApiError> {
    raw.map(|text| {
        Date::parse(text, format_description!("[year]-[month]-[day]"))
            .map_err(|_| ApiError::invalid("birthday", "must be a date, YYYY-MM-DD"))
    })
    .transpose()
}

fn profile_input(input: CustomerUpdate) -> Result<CustomerInput, ApiError> {
    let c: ConsentDto = input.consent;
    Ok(CustomerInput {
        name: input.name,
        birthday: birthday(input.birthday.as_deref())?,
        email: input.email,
        zalo_user_id: input.zalo_user_id,
        consent: ChannelConsent {
            zalo: c.zalo,
            sms: c.sms,
            email: c.email,
        },
    })
}

/// The profile of `view` with the customer's scores from the last run, if any.
async fn with_scores(
    state: &AppState,
    view: &regulars_service::CustomerView,
) -> Result<ProfileDto, ApiError> {
    let mut profile = ProfileDto::from(view);
    let brand = view.customer.brand_id;
    match state
        .services
        .customer_scores(brand, view.customer.id)
        .await
    {
        Ok(scores) => {
            let currency = view.stats.spend.currency();
            profile.scores = Some(crate::dto::ScoresDto::new(&scores, currency));
        }
        Err(regulars_service::SegmentError::UnknownCustomer(_)) => {}
        Err(other) => return Err(other.into()),
    }
    Ok(profile)
}

/// A page of customers, by id.
#[utoipa::path(get, path = "/v1/customers", tag = "customers", security(("api_key" = [])), params(PageQuery),
    responses((status = 200, body = Page<CustomerDto>), (status = 400, body = ErrorBody)))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let after: Option<CustomerId> = query.after()?;
    let limit = query.limit();
    let customers = state
        .services
        .customers(caller.reader(), after, limit)
        .await?;
    let items: Vec<CustomerDto> = customers.iter().map(CustomerDto::from).collect();
    Ok(HttpResponse::Ok().json(Page::of(items, limit, |c| c.id.to_string())))
}

/// Registers a customer by phone.
#[utoipa::path(post, path = "/v1/customers", tag = "customers", security(("api_key" = [])), request_body = CustomerIn,
    responses((status = 201, body = CustomerDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CustomerIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.till()?;
    let input = body.0;
    let profile = profile_input(CustomerUpdate {
        name: input.name,
        birthday: input.birthday,
        email: input.email,
        zalo_user_id: input.zalo_user_id,
        consent: input.consent,
    })?;
    let customer = state
        .services
        .create_customer(brand, &input.phone, profile)
        .await?;
    Ok(HttpResponse::Created().json(CustomerDto::from(&customer)))
}

/// The phone to look a customer up by.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct LookupQuery {
    /// The phone in any common form.
    phone: String,
}

/// Looks a customer up by phone, as the till does.
#[utoipa::path(get, path = "/v1/customers/lookup", tag = "customers", security(("api_key" = [])), params(LookupQuery),
    responses((status = 200, body = ProfileDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn lookup(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<LookupQuery>,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .services
        .customer_lookup(caller.reader(), &query.phone)
        .await?;
    Ok(HttpResponse::Ok().json(with_scores(&state, &view).await?))
}

/// A customer's profile: balance, tier, vouchers, what they can redeem.
#[utoipa::path(get, path = "/v1/customers/{id}", tag = "customers", security(("api_key" = [])),
    params(("id" = String, Path)), responses((status = 200, body = ProfileDto), (status = 404, body = ErrorBody)))]
pub(crate) async fn profile(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let customer: CustomerId = id(&path, "customer")?;
    let view = state
        .services
        .customer_view(caller.reader(), customer)
        .await?;
    Ok(HttpResponse::Ok().json(with_scores(&state, &view).await?))
}

/// Replaces a customer's profile fields (the phone stays).
#[utoipa::path(put, path = "/v1/customers/{id}", tag = "customers", security(("api_key" = [])), request_body = CustomerUpdate,
    params(("id" = String, Path)), responses((status = 200, body = CustomerDto), (status = 404, body = ErrorBody)))]
pub(crate) async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: Json<CustomerUpdate>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.till()?;
    let customer: CustomerId = id(&path, "customer")?;
    let profile = profile_input(body.0)?;
    let updated = state
        .services
        .update_customer(brand, customer, profile)
        .await?;
    Ok(HttpResponse::Ok().json(CustomerDto::from(&updated)))
}

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
        .customer_ledger(caller.reader(), customer, after, limit)
        .await?;
    let items: Vec<LedgerEntryDto> = entries.iter().map(LedgerEntryDto::from).collect();
    Ok(HttpResponse::Ok().json(Page::of(items, limit, |e| e.seq.to_string())))
}

/// A page of the customer's orders.
#[utoipa::path(get, path = "/v1/customers/{id}/orders", tag = "customers", security(("api_key" = [])),
    params(("id" = String, Path), PageQuery), responses((status = 200, body = Page<OrderDto>), (status = 404, body = ErrorBody)))]
pub(crate) async fn orders(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let customer: CustomerId = id(&path, "customer")?;
    let after = query.after()?;
    let limit = query.limit();
    let orders = state
        .services
        .orders(caller.reader(), Some(customer), after, limit)
        .await?;
    let items: Vec<OrderDto> = orders.iter().map(OrderDto::from).collect();
    Ok(HttpResponse::Ok().json(Page::of(items, limit, |o| o.id.to_string())))
}

/// An audited manual correction of the customer's points (admin).
#[utoipa::path(post, path = "/v1/customers/{id}/adjustments", tag = "customers", security(("api_key" = [])), request_body = AdjustmentIn,
    params(("id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key with the same request answers the first response without adjusting again; with another request, 422. 1 to 255 visible ASCII characters, remembered for 48 hours per API key.")),
    responses((status = 201, body = AdjustmentDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 409, description = "A deduction larger than the points available.", body = ErrorBody)))]
pub(crate) async fn adjust(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    body: Json<AdjustmentIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let customer: CustomerId = id(&path, "customer")?;
    let points = body.0.points.to_string();
    let request = request_key(
        &req,
        &caller,
        &[
            b"adjustments",
            path.as_bytes(),
            points.as_bytes(),
            body.0.reason.as_bytes(),
        ],
    )?;
    let actor = format!("api-key:{}", caller.0.key);
    let receipt = state
        .services
        .adjust_points_keyed(
            brand,
            customer,
            Points::new(body.0.points),
            &body.0.reason,
            &actor,
            request.as_ref(),
        )
        .await?;
    Ok(HttpResponse::Created().json(AdjustmentDto::from(&receipt)))
}

/// Spends points on a catalogue reward; answers with the voucher issued.
#[utoipa::path(post, path = "/v1/customers/{id}/redemptions", tag = "customers", security(("api_key" = [])), request_body = RedemptionIn,
    params(("id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key with the same request answers the first voucher without spending again; with another request, 422. 1 to 255 visible ASCII characters, remembered for 48 hours per API key.")),
    responses((status = 201, body = VoucherDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn redeem_reward(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    body: Json<RedemptionIn>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.till()?;
    let customer: CustomerId = id(&path, "customer")?;
    let reward = body.0.reward_id.to_string();
    let request = request_key(
        &req,
        &caller,
        &[b"redemptions", path.as_bytes(), reward.as_bytes()],
    )?;
    let voucher = state
        .services
        .redeem_reward_keyed(
            brand,
            customer,
            RewardId::from_uuid(body.0.reward_id),
            request.as_ref(),
        )
        .await?;
    Ok(HttpResponse::Created().json(VoucherDto::from(&voucher)))
}
