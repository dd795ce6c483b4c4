//! The dashboard's pages, the customer's card and opt-out page.

pub(crate) mod audit;
pub(crate) mod by_location;
pub(crate) mod by_staff;
pub(crate) mod campaign_engagement;
pub(crate) mod campaign_form;
pub(crate) mod campaign_result;
pub(crate) mod campaign_scope;
pub(crate) mod campaign_variants;
pub(crate) mod campaigns;
pub(crate) mod card;
pub(crate) mod card_privacy;
pub(crate) mod channels;
pub(crate) mod customer_list;
pub(crate) mod customers;
pub(crate) mod export;
pub(crate) mod feedback;
pub(crate) mod goals;
pub(crate) mod links;
pub(crate) mod names;
pub(crate) mod overview;
pub(crate) mod programme;
pub(crate) mod ratings;
pub(crate) mod referrals;
pub(crate) mod segment_export;
pub(crate) mod segment_hours;
pub(crate) mod segment_visits;
pub(crate) mod segments;
pub(crate) mod unsubscribe;

use crate::WebState;
use crate::i18n::Lang;
use crate::render::Fail;
use crate::session::Session;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

/// `GET /dashboard`: the overview when signed in, else the sign-in page.
pub(crate) async fn home(
    req: HttpRequest,
    state: web::Data<WebState>,
) -> Result<HttpResponse, Fail> {
    Session::scoped(&req, &state).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/dashboard/overview"))
        .finish())
}

/// Any other path under `/dashboard`.
pub(crate) async fn not_found(req: HttpRequest) -> HttpResponse {
    use actix_web::ResponseError as _;
    Fail::not_found(Lang::of(&req)).error_response()
}

/// The `after` cursor of a page link, percent-encoding nothing: ids are URL-safe.
pub(crate) fn cursor<T: std::str::FromStr>(raw: Option<&String>) -> Option<T> {
    raw.and_then(|r| r.parse().ok())
}
