//! Engagement: a campaign's clicks and opens, and what the brand tracks of its messages.

use crate::AppState;
use crate::auth::Caller;
use crate::body::Json;
use crate::error::{ApiError, ErrorBody};
use crate::routes::id;
use actix_web::{HttpResponse, web};
use regulars_domain::{CampaignId, EngagementSettings};
use regulars_service::CampaignEngagement;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A campaign's responses against the messages it sent.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CampaignEngagementDto {
    /// Messages a provider accepted.
    sent: u64,
    /// Every click logged on the messages' links.
    clicks: u64,
    /// Messages with at least one click.
    clicked_messages: u64,
    /// `clicked_messages / sent`; `null` before any message was sent.
    click_rate: Option<f64>,
    /// Every open of the campaign's HTML emails (only where the brand tracks opens and
    /// the customer consented to marketing email; unreliable, see `docs/engagement.md`).
    opens: u64,
    /// Emails opened at least once.
    opened_messages: u64,
    /// `opened_messages / sent`; `null` before any message was sent.
    open_rate: Option<f64>,
}

impl From<&CampaignEngagement> for CampaignEngagementDto {
    fn from(e: &CampaignEngagement) -> Self {
        CampaignEngagementDto {
            sent: e.sent,
            clicks: e.counts.clicks,
            clicked_messages: e.counts.clicked_messages,
            click_rate: e.click_rate(),
            opens: e.counts.opens,
            opened_messages: e.counts.opened_messages,
            open_rate: e.open_rate(),
        }
    }
}

/// The campaign's clicks and opens: click rate = messages clicked / messages sent.
#[utoipa::path(get, path = "/v1/campaigns/{id}/engagement", tag = "campaigns", security(("api_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = CampaignEngagementDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn campaign(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.reader()?;
    let campaign: CampaignId = id(&path, "campaign")?;
    let e = state.services.campaign_engagement(brand, campaign).await?;
    Ok(HttpResponse::Ok().json(CampaignEngagementDto::from(&e)))
}

/// What the brand tracks of its messages.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EngagementSettingsDto {
    /// Links in messages to customers go through the signed click redirect (default
    /// `true`).
    track_links: bool,
    /// HTML email to customers who consented to marketing email carries an open pixel
    /// (default `false`).
    track_opens: bool,
}

impl From<EngagementSettings> for EngagementSettingsDto {
    fn from(s: EngagementSettings) -> Self {
        EngagementSettingsDto {
            track_links: s.track_links,
            track_opens: s.track_opens,
        }
    }
}

/// What the brand tracks of its messages.
#[utoipa::path(get, path = "/v1/engagement/settings", tag = "brand", security(("api_key" = [])),
    responses((status = 200, body = EngagementSettingsDto), (status = 403, body = ErrorBody)))]
pub(crate) async fn get_settings(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.reader()?;
    let settings = state.services.engagement_settings(brand).await?;
    Ok(HttpResponse::Ok().json(EngagementSettingsDto::from(settings)))
}

/// Sets what the brand tracks of its messages (admin).
#[utoipa::path(put, path = "/v1/engagement/settings", tag = "brand", security(("api_key" = [])),
    request_body = EngagementSettingsDto,
    responses((status = 200, body = EngagementSettingsDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn set_settings(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<EngagementSettingsDto>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let settings = EngagementSettings {
        track_links: body.0.track_links,
        track_opens: body.0.track_opens,
    };
    let settings = state
        .services
        .set_engagement_settings(brand, settings)
        .await?;
    Ok(HttpResponse::Ok().json(EngagementSettingsDto::from(settings)))
}
