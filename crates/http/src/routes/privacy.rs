//! Customers' rights, exercised by an admin on the customer's behalf: erasure, a new
//! phone number (and export). See `docs/privacy.md`.

use crate::AppState;
use crate::auth::Caller;
use crate::body::{Json, parse_json};
use crate::dto::CustomerDto;
use crate::dto::rfc3339;
use crate::error::{ApiError, ErrorBody};
use crate::routes::{audit, id};
use actix_web::{HttpResponse, web};
use regulars_domain::{ChangeSource, CustomerId};
use regulars_ports::{PersonalData, RetentionPolicy};
use regulars_service::{ChangeAuthor, ErasureReport};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What an erasure did. The customer's id stays, as a pseudonym under which the books
/// keep their amounts; everything that identified them is gone.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErasureDto {
    /// The erased customer's id, now a pseudonym.
    customer_id: String,
    /// The logged request's id.
    request_id: String,
    /// When the customer was erased (RFC 3339).
    erased_at: String,
    /// The legal deadline of the request (RFC 3339).
    deadline_at: String,
    /// Orders whose copy of the phone number was removed.
    orders: u64,
    /// Messages whose recipient and body were destroyed.
    messages: u64,
    /// Of those, messages not yet sent, now cancelled.
    messages_cancelled: u64,
    /// POS customer links removed.
    pos_links: u64,
    /// Orders waiting under those POS customer codes, removed.
    pos_waiting_orders: u64,
    /// Unredeemed vouchers voided: their codes no longer redeem (`409`).
    vouchers_voided: u64,
}

impl From<&ErasureReport> for ErasureDto {
    fn from(r: &ErasureReport) -> Self {
        ErasureDto {
            customer_id: r.customer_id.to_string(),
            request_id: r.request_id.to_string(),
            erased_at: rfc3339(r.erased_at),
            deadline_at: rfc3339(r.deadline_at),
            orders: r.counts.orders,
            messages: r.counts.messages,
            messages_cancelled: r.counts.messages_cancelled,
            pos_links: r.counts.pos_links,
            pos_waiting_orders: r.counts.pos_waiting_orders,
            vouchers_voided: r.counts.vouchers_voided,
        }
    }
}

/// Erases a customer on their request (admin): name, phone, email, birthday, Zalo id and
/// message bodies are destroyed, messages not yet sent are cancelled, and the customer
/// is no longer found by id or phone (404); the phone may join again as a new customer.
/// Orders, ledger, vouchers and reports keep their amounts under the customer's id.
#[utoipa::path(post, path = "/v1/customers/{id}/erasure", tag = "customers", security(("api_key" = [])),
    params(("id" = String, Path)), responses((status = 200, body = ErasureDto),
        (status = 403, description = "Not an admin key.", body = ErrorBody),
        (status = 404, description = "No such customer, or already erased.", body = ErrorBody)))]
pub(crate) async fn erase(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let customer: CustomerId = id(&path, "customer")?;
    let report = state
        .services
        .erase_customer(brand, customer, &format!("api-key:{}", caller.0.key))
        .await?;
    Ok(HttpResponse::Ok().json(ErasureDto::from(&report)))
}

/// A customer's new phone number.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PhoneIn {
    /// The new number, in any common form (`0912345678`, `+84912345678`, …), read with
    /// the brand's calling code.
    #[schema(required = true, example = "0912345678")]
    #[serde(default)]
    phone: Option<String>,
}

/// Changes a customer's phone number on their behalf (admin only: a till changing a
/// number without proof that the customer holds it would hand their account to whoever
/// stands at the counter). The old number is gone from the customer and free to join
/// again; messages not yet sent to it go to the new one; consent stays. Logged as a
/// `correct_phone` request and in the access log. Sending the number the customer
/// already has changes nothing (200).
#[utoipa::path(put, path = "/v1/customers/{id}/phone", tag = "customers", security(("api_key" = [])), request_body = PhoneIn,
    params(("id" = String, Path)), responses((status = 200, body = CustomerDto),
        (status = 403, description = "Not an admin key.", body = ErrorBody),
        (status = 404, description = "No such customer (or erased, or another brand's).", body = ErrorBody),
        (status = 409, description = "`phone_taken`: another customer of the brand has this number; nothing changed.", body = ErrorBody),
        (status = 422, description = "`phone` is missing or not a phone number.", body = ErrorBody)))]
pub(crate) async fn change_phone(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    // The role first: a till's body, whatever it holds, is refused as a till's.
    let brand = caller.admin()?;
    let customer: CustomerId = id(&path, "customer")?;
    let bytes =
        serde_json::to_vec(&body.0).map_err(|e| ApiError::invalid("body", e.to_string()))?;
    let input: PhoneIn = parse_json(&bytes)?;
    let Some(phone) = input.phone.as_deref() else {
        return Err(ApiError::new(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "phone: is required",
            Some("phone".to_owned()),
        ));
    };
    let by = ChangeAuthor {
        actor: format!("api-key:{}", caller.0.key),
        source: ChangeSource::Admin,
    };
    let changed = state
        .services
        .change_phone(brand, customer, phone, &by)
        .await?;
    audit::record(
        &state,
        &caller,
        "PUT /v1/customers/{id}/phone",
        &[
            PersonalData::Profile,
            PersonalData::Contact,
            PersonalData::Consent,
        ],
        &[customer],
    )
    .await?;
    Ok(HttpResponse::Ok().json(CustomerDto::from(&changed.customer)))
}

/// How long the brand keeps what it no longer needs (`null`: kept). Applied by the
/// worker every hour; see `docs/privacy.md`.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RetentionPolicyDto {
    /// Customers with no order for this many months (1 to 600) are de-identified like
    /// an erasure; `null` keeps them (the default).
    #[schema(required = true, minimum = 1, maximum = 600)]
    inactive_customer_months: Option<u32>,
    /// Bodies of messages that went out are destroyed this many days (1 to 18262) after
    /// they were written, keeping status, channel, times and cost; default 90.
    #[schema(required = true, minimum = 1, maximum = 18262)]
    message_body_days: Option<u32>,
}

impl From<RetentionPolicy> for RetentionPolicyDto {
    fn from(p: RetentionPolicy) -> Self {
        RetentionPolicyDto {
            inactive_customer_months: p.inactive_customer_months,
            message_body_days: p.message_body_days,
        }
    }
}

/// The brand's retention periods.
#[utoipa::path(get, path = "/v1/brand/retention", tag = "brand", security(("api_key" = [])),
    responses((status = 200, body = RetentionPolicyDto)))]
pub(crate) async fn get_retention(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let policy = state.services.retention_policy(caller.reader()?).await?;
    Ok(HttpResponse::Ok().json(RetentionPolicyDto::from(policy)))
}

/// Sets the brand's retention periods (admin); the worker applies them from its next run.
#[utoipa::path(put, path = "/v1/brand/retention", tag = "brand", security(("api_key" = [])), request_body = RetentionPolicyDto,
    responses((status = 200, body = RetentionPolicyDto), (status = 403, description = "Not an admin key.", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(crate) async fn put_retention(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<RetentionPolicyDto>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let policy = state
        .services
        .set_retention_policy(
            brand,
            RetentionPolicy {
                inactive_customer_months: body.0.inactive_customer_months,
                message_body_days: body.0.message_body_days,
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(RetentionPolicyDto::from(policy)))
}
