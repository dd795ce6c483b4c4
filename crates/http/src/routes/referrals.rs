//! Referrals: the brand's referral programme, the referrals recorded, their figures,
//! and a member's invite link (see `docs/referrals.md`).

use crate::AppState;
use crate::auth::Caller;
use crate::body::Json;
use crate::error::{ApiError, ErrorBody};
use crate::routes::campaign_scope::{LocationQuery, location_reader};
use crate::routes::id;
use actix_web::{HttpResponse, web};
use regulars_domain::{CustomerId, Points};
use regulars_loyalty::referrals::{ReferralProgramme, ReferralState};
use regulars_ports::{Referral, ReferralCounts};
use regulars_service::Scope;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A brand's referral programme.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralSettingsDto {
    /// Whether members are offered an invite link and sign-ups through it recorded.
    pub enabled: bool,
    /// Points the member who invited receives when the friend's first order qualifies
    /// (0 to 1000000).
    #[schema(example = 50, minimum = 0, maximum = 1_000_000)]
    pub referrer_points: i64,
    /// Points the friend receives on that first order (0 to 1000000).
    #[schema(example = 30, minimum = 0, maximum = 1_000_000)]
    pub friend_points: i64,
    /// The least the friend's first order must total, in minor units of the brand's
    /// currency (VND has none: đồng); 0 for any order.
    #[schema(example = 40_000, minimum = 0)]
    pub min_purchase: i64,
    /// Most referrals a member is rewarded for per calendar month (brand local time);
    /// 0 for no limit. Over it, the friend is still rewarded, the member is not.
    #[schema(example = 5, minimum = 0)]
    pub monthly_cap: u32,
}

impl From<&ReferralProgramme> for ReferralSettingsDto {
    fn from(p: &ReferralProgramme) -> Self {
        ReferralSettingsDto {
            enabled: p.enabled,
            referrer_points: p.referrer_points.value(),
            friend_points: p.friend_points.value(),
            min_purchase: p.min_purchase_minor,
            monthly_cap: p.monthly_cap,
        }
    }
}

impl From<&ReferralSettingsDto> for ReferralProgramme {
    fn from(d: &ReferralSettingsDto) -> Self {
        ReferralProgramme {
            enabled: d.enabled,
            referrer_points: Points::new(d.referrer_points),
            friend_points: Points::new(d.friend_points),
            min_purchase_minor: d.min_purchase,
            monthly_cap: d.monthly_cap,
        }
    }
}

/// One sign-up through an invite.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReferralDto {
    /// The referral's id.
    pub id: Uuid,
    /// The member whose invite it was.
    pub referrer_id: Uuid,
    /// The customer who signed up (for a refusal, the customer the phone belongs to).
    pub friend_id: Uuid,
    /// `pending`, `rewarded`, `reversed` or `refused`.
    #[schema(example = "rewarded")]
    pub status: String,
    /// Why it was refused (`disabled`, `self_referral`, `existing_customer`,
    /// `already_referred`, `too_many_from_address`, `below_minimum`), or, for a
    /// rewarded one, `referrer_monthly_cap` when the member was over their cap.
    pub reason: Option<String>,
    /// The order that rewarded (or whose refund reversed) it: `source/external_id`.
    pub order: Option<String>,
    /// Points credited to the friend.
    pub friend_points: i64,
    /// Points credited to the member who invited.
    pub referrer_points: i64,
    /// When the friend signed up (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub created_at: time::OffsetDateTime,
    /// When it was decided (RFC 3339).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub decided_at: Option<time::OffsetDateTime>,
}

impl From<&Referral> for ReferralDto {
    fn from(r: &Referral) -> Self {
        let mut dto = ReferralDto {
            id: r.id,
            referrer_id: r.referrer.as_uuid(),
            friend_id: r.friend.as_uuid(),
            status: r.state.status().to_owned(),
            reason: None,
            order: None,
            friend_points: 0,
            referrer_points: 0,
            created_at: r.created_at,
            decided_at: r.decided_at,
        };
        match &r.state {
            ReferralState::Pending => {}
            ReferralState::Rewarded {
                order,
                friend,
                referrer,
                referrer_capped,
            } => {
                dto.order = Some(format!("{}/{}", order.source, order.external_id));
                dto.friend_points = friend.value();
                dto.referrer_points = referrer.value();
                dto.reason = referrer_capped.then(|| "referrer_monthly_cap".to_owned());
            }
            ReferralState::Reversed { order } => {
                dto.order = Some(format!("{}/{}", order.source, order.external_id));
            }
            ReferralState::Refused { reason } => dto.reason = Some(reason.as_str().to_owned()),
        }
        dto
    }
}

/// The brand's referrals, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReferralsDto {
    /// The referrals.
    pub items: Vec<ReferralDto>,
}

/// A brand's referral figures, or those of some of its locations.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReferralCountsDto {
    /// `brand`, or `locations`: only the friends whose first order was placed at
    /// `locations` (a friend without an order is at none).
    pub scope: String,
    /// The locations read; empty for the brand.
    pub locations: Vec<Uuid>,
    /// Members who have an invite link; `null` for locations (an invite is at none).
    pub invited: Option<u64>,
    /// Friends who signed up through one (pending, rewarded or reversed).
    pub signed_up: u64,
    /// Waiting for the friend's first order.
    pub pending: u64,
    /// Rewarded.
    pub rewarded: u64,
    /// Rewarded, then reversed by a full refund of the rewarding order.
    pub reversed: u64,
    /// Refusals by reason; empty for locations (a refusal is at none).
    #[schema(value_type = Object, example = json!({"self_referral": 1}))]
    pub refused: std::collections::BTreeMap<String, u64>,
}

impl ReferralCountsDto {
    fn new(c: &ReferralCounts, scope: &Scope) -> Self {
        let (kind, locations, invited) = match scope {
            Scope::Brand => ("brand", Vec::new(), Some(c.invited)),
            Scope::Locations(ids) => ("locations", ids.iter().map(|l| l.as_uuid()).collect(), None),
        };
        ReferralCountsDto {
            scope: kind.to_owned(),
            locations,
            invited,
            signed_up: c.signed_up,
            pending: c.pending,
            rewarded: c.rewarded,
            reversed: c.reversed,
            refused: c
                .refused
                .iter()
                .map(|(reason, n)| (reason.as_str().to_owned(), *n))
                .collect(),
        }
    }
}

/// A member's invite link.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InviteDto {
    /// The invite token: not the customer id, not guessable.
    pub token: String,
    /// The link's path on the server (`/r/{token}`).
    #[schema(example = "/r/0f1e….9a8b…")]
    pub path: String,
}

/// How many referrals to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReferralsQuery {
    /// Items, 1 to 500 (default 100).
    limit: Option<u64>,
}

/// The brand's referral programme (off until set).
#[utoipa::path(get, path = "/v1/referrals/settings", tag = "referrals", security(("api_key" = [])),
    responses((status = 200, body = ReferralSettingsDto), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub(crate) async fn settings(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let programme = state.services.referral_programme(caller.reader()?).await?;
    Ok(HttpResponse::Ok().json(ReferralSettingsDto::from(&programme)))
}

/// Replaces the brand's referral programme (admin only).
#[utoipa::path(put, path = "/v1/referrals/settings", tag = "referrals", security(("api_key" = [])),
    request_body = ReferralSettingsDto,
    responses((status = 200, body = ReferralSettingsDto), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, description = "A number out of range; `field` names it.", body = ErrorBody)))]
pub(crate) async fn set_settings(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<ReferralSettingsDto>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let programme = state
        .services
        .set_referral_programme(brand, ReferralProgramme::from(&body.0))
        .await?;
    Ok(HttpResponse::Ok().json(ReferralSettingsDto::from(&programme)))
}

/// The brand's latest referrals, newest first, with their status and reason.
#[utoipa::path(get, path = "/v1/referrals", tag = "referrals", security(("api_key" = [])),
    params(ReferralsQuery),
    responses((status = 200, body = ReferralsDto), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ReferralsQuery>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.reader()?;
    let items = state
        .services
        .referrals(brand, query.limit.unwrap_or(100))
        .await?;
    Ok(HttpResponse::Ok().json(ReferralsDto {
        items: items.iter().map(ReferralDto::from).collect(),
    }))
}

/// The brand's referral figures: invited, signed up, pending, rewarded, reversed, and
/// refusals by reason. Any key: a manager's reads its locations only, and `location`
/// one location; by location, only the friends whose first order was placed there count.
#[utoipa::path(get, path = "/v1/reports/referrals", tag = "reports", security(("api_key" = [])),
    params(LocationQuery),
    responses((status = 200, body = ReferralCountsDto), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A location the key does not cover.", body = ErrorBody),
        (status = 422, description = "A location the brand does not have.", body = ErrorBody)))]
pub(crate) async fn report(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<LocationQuery>,
) -> Result<HttpResponse, ApiError> {
    let (brand, scope) = location_reader(&caller, &query.location)?;
    let counts = state.services.referral_counts_in(brand, &scope).await?;
    Ok(HttpResponse::Ok().json(ReferralCountsDto::new(&counts, &scope)))
}

/// The member's invite link, made on first use, the same one after (admin and pos
/// keys: a till or the POS may send it to the member). A `POST` because the first call
/// makes it.
#[utoipa::path(post, path = "/v1/customers/{id}/invite", tag = "referrals", security(("api_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = InviteDto), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such customer.", body = ErrorBody),
        (status = 409, description = "`referrals_off`: the brand's programme is off.", body = ErrorBody)))]
pub(crate) async fn invite(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.till()?;
    let customer: CustomerId = id(&path, "customer")?;
    let Some(token) = state.services.invite_token(brand, customer).await? else {
        return Err(ApiError::new(
            actix_web::http::StatusCode::CONFLICT,
            "referrals_off",
            "the brand's referral programme is off".to_owned(),
            None,
        ));
    };
    let path = format!("/r/{token}");
    Ok(HttpResponse::Ok().json(InviteDto { token, path }))
}
