//! Campaigns read by location: the `location` filter of the campaign reads, and a
//! campaign's report at the locations a key sees (a manager's own shops, or one of them).
//! Campaign documents are the brand's; only the report's money figures are by location.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::paging::PageQuery;
use crate::routes::campaigns::{CampaignReportDto, busy};
use crate::routes::id;
use crate::routes::reports::location;
use actix_web::{HttpResponse, web};
use regulars_domain::{BrandId, CampaignId};
use regulars_ports::Role;
use regulars_service::Scope;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The figures of a report that stay the whole campaign's at any location.
const CAMPAIGN_WIDE: [&str; 8] = [
    "treated",
    "held_out",
    "messages",
    "sent",
    "delivered",
    "vouchers_issued",
    "bonus_credits",
    "bonus_points",
];

/// Paging of the campaign list, and the location it is read for.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ScopedPageQuery {
    /// Items per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub(crate) limit: Option<u64>,
    /// The `next` cursor of the previous page.
    pub(crate) after: Option<String>,
    /// One location (its id); a manager's key may name only its own.
    pub(crate) location: Option<String>,
}

impl ScopedPageQuery {
    /// The paging part.
    pub(crate) fn page(&self) -> PageQuery {
        PageQuery {
            limit: self.limit,
            after: self.after.clone(),
        }
    }
}

/// The location a campaign or referral read is for.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct LocationQuery {
    /// One location (its id); a manager's key may name only its own. Without it a
    /// manager's report reads all of its locations, any other key's the whole brand.
    pub(crate) location: Option<String>,
}

/// A read of campaigns or referrals by any key, a manager's too: the brand, and the scope narrowed to
/// `requested` (403 naming `location` outside a manager's locations).
pub(crate) fn location_reader(
    caller: &Caller,
    requested: &Option<String>,
) -> Result<(BrandId, Scope), ApiError> {
    caller.scoped(location(requested)?)
}

/// Which locations a campaign report reads.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReportScopeDto {
    /// `brand` (every order) or `locations` (orders placed at `locations` only).
    kind: String,
    /// The locations read; empty for the brand.
    locations: Vec<Uuid>,
    /// The fields that stay the whole campaign's whatever the locations: members,
    /// messages, vouchers issued and bonus credits (in `variants` too: `treated`,
    /// `vouchers_issued`). Revenue, redemptions, offer cost and what follows from them
    /// are the locations'.
    campaign_wide: Vec<String>,
}

impl From<&Scope> for ReportScopeDto {
    fn from(scope: &Scope) -> Self {
        let (kind, locations) = match scope {
            Scope::Brand => ("brand", Vec::new()),
            Scope::Locations(ids) => ("locations", ids.iter().map(|l| l.as_uuid()).collect()),
        };
        ReportScopeDto {
            kind: kind.to_owned(),
            locations,
            campaign_wide: CAMPAIGN_WIDE.iter().map(|f| (*f).to_owned()).collect(),
        }
    }
}

/// The campaign's results: messages sent and delivered, vouchers redeemed, revenue of the
/// treated against the held-out customers, incremental revenue with its 95 % interval,
/// offer cost and ROI. An admin's or a viewer's key (figures only, no customer), or a
/// manager's, which reads its locations only; `location` limits the revenue to orders
/// placed there and the redemptions to those made there (see `scope`). One report per
/// brand runs at a time: 409 `busy`.
#[utoipa::path(get, path = "/v1/campaigns/{id}/report", tag = "campaigns", security(("api_key" = [])),
    params(("id" = String, Path), LocationQuery),
    responses((status = 200, body = CampaignReportDto), (status = 400, body = ErrorBody),
        (status = 403, description = "A location the key does not cover.", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, description = "A location the brand does not have.", body = ErrorBody)))]
pub(crate) async fn report(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<LocationQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Viewer, Role::Manager])?;
    let (brand, scope) = location_reader(&caller, &query.location)?;
    let campaign: CampaignId = id(&path, "campaign")?;
    let _slot = state
        .services
        .exclusive(brand, "campaign report")
        .ok_or_else(|| busy("campaign report"))?;
    let report = state
        .services
        .campaign_report_in(brand, campaign, &scope)
        .await?;
    Ok(HttpResponse::Ok().json(CampaignReportDto::from(&report)))
}
