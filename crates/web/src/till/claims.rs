//! Claiming a missed visit at the till: the location's recent orders without a
//! customer, by time and amount, and attaching the one the customer paid for. The claim
//! is recorded with the staff member and location.

use super::pages::show;
use super::{TillSession, text, till_page};
use crate::WebState;
use crate::render::{Fail, ok};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;
use regulars_domain::{CustomerId, OrderId};
use regulars_service::{ClaimError, ErrorClass, UseCaseError};
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// `GET /till/customers/{id}/claims`: the orders this customer may have paid for.
pub(crate) async fn list(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Fail> {
    let session = TillSession::of(&req, &state).await?;
    let t = text(session.lang);
    let customer: CustomerId = path.parse().map_err(|_| Fail::not_found(session.lang))?;
    let orders = state
        .services
        .till_unclaimed(&session.at)
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    let brand = state
        .services
        .brand(session.at.brand)
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    let offset = session.at.location.utc_offset.unwrap_or(brand.utc_offset);
    let local = format_description!("[hour]:[minute] [day]/[month]");
    let body = html! {
        section #till-claims {
            p.muted { (t.claim_intro) }
            @if orders.is_empty() { p #no-unclaimed { (t.no_unclaimed) } }
            @for order in &orders {
                form.claim method="post" action="/till/claims" {
                    input type="hidden" name="csrf" value=(session.csrf);
                    input type="hidden" name="customer" value=(customer);
                    input type="hidden" name="order" value=(order.order);
                    time datetime=(order.placed_at.format(&Rfc3339).unwrap_or_default()) {
                        (order.placed_at.to_offset(offset).format(local).unwrap_or_default())
                    }
                    " · " strong { (order.total) } " "
                    button type="submit" { (t.attach) }
                }
            }
            p { a #back-to-customer href={ "/till/customers/" (customer) } { "←" } }
        }
    };
    Ok(ok(&req, till_page(&session, None, "", false, body)))
}

/// The attach form.
#[derive(Debug, Deserialize)]
pub(crate) struct ClaimForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    customer: String,
    #[serde(default)]
    order: String,
}

/// `POST /till/claims`: attaches an order of this till's location to the customer.
pub(crate) async fn claim(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<ClaimForm>,
) -> Result<HttpResponse, Fail> {
    let session = TillSession::of(&req, &state).await?;
    session.check(&state, &form.csrf)?;
    let t = text(session.lang);
    let customer: CustomerId = form
        .customer
        .parse()
        .map_err(|_| Fail::not_found(session.lang))?;
    let order: OrderId = form
        .order
        .parse()
        .map_err(|_| Fail::not_found(session.lang))?;
    let message = match state
        .services
        .till_claim(&session.at, order, customer)
        .await
    {
        Ok(receipt) if receipt.duplicate => t.claim_duplicate.to_owned(),
        Ok(receipt) => format!("{} +{}", t.claimed, receipt.points_earned.value()),
        Err(ClaimError::UnknownCustomer(_)) => return Err(Fail::not_found(session.lang)),
        Err(e) if matches!(e.class(), ErrorClass::Unavailable | ErrorClass::Internal) => {
            return Err(Fail::internal(session.lang, &e));
        }
        Err(e) => e.to_string(),
    };
    show(
        &req,
        &state,
        &session,
        customer,
        "POST /till/claims",
        Some(&message),
    )
    .await
}
