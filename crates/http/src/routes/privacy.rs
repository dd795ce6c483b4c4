//! Customers' rights, exercised by an admin on the customer's behalf: erasure (and
//! export). See `docs/privacy.md`.

use crate::AppState;
use crate::auth::Caller;
use crate::dto::rfc3339;
use crate::error::{ApiError, ErrorBody};
use crate::routes::id;
use actix_web::{HttpResponse, web};
use regulars_domain::CustomerId;
use regulars_service::ErasureReport;
use serde::Serialize;
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
