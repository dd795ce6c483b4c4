//! Campaigns: definitions, life cycle, runs, messages and the money report.

use crate::AppState;
use crate::auth::Caller;
use crate::body::Json;
use crate::error::{ApiError, ErrorBody};
use crate::exposure;
use crate::paging::{Page, PageQuery};
use crate::routes::campaign_scope::{LocationQuery, ScopedPageQuery, location_reader};
use crate::routes::id;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use regulars_campaigns::attribution::Attribution;
use regulars_domain::CampaignId;
use regulars_ports::{CampaignRecord, OutboxMessage, OutboxStatus};
use regulars_service::{CampaignAction, CampaignError, CampaignReport, CampaignRunReport};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// A campaign.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CampaignDto {
    id: String,
    name: String,
    /// `draft`, `active`, `paused` or `ended`.
    status: String,
    /// The complete campaign document (see docs/campaigns.md).
    #[schema(value_type = Object)]
    definition: Value,
    /// Money its offers have cost so far, in minor units of the brand currency.
    budget_used_minor: i64,
    created_at: String,
    updated_at: String,
    last_run_at: Option<String>,
}

impl From<&CampaignRecord> for CampaignDto {
    fn from(r: &CampaignRecord) -> Self {
        CampaignDto {
            id: r.id.to_string(),
            name: r.name.clone(),
            status: r.status.as_str().to_owned(),
            definition: serde_json::from_str(&r.definition).unwrap_or(Value::Null),
            budget_used_minor: r.budget_used_minor,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
            last_run_at: r.last_run_at.map(rfc3339),
        }
    }
}

/// What a campaign run (or preview) did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RunReportDto {
    campaign_id: String,
    customers: u64,
    messages: u64,
    vouchers: u64,
    held_out: u64,
    /// Customers skipped, by reason (`not_triggered`, `hold_out`, `frequency_cap`, …).
    skipped: BTreeMap<String, u64>,
    budget_used_minor: i64,
    /// For a campaign that sends SMS: messages by the segments each takes as SMS (`"1"`,
    /// `"2"`, …), after the campaign's accent folding, with a voucher code as long as a
    /// real one. Empty when the campaign does not send SMS.
    sms_segments: BTreeMap<String, u64>,
    /// Messages over the campaign's `sms.max_segments`: SMS refuses them when they go
    /// out and they fall back to the next channel.
    sms_over_cap: u64,
}

impl From<&CampaignRunReport> for RunReportDto {
    fn from(r: &CampaignRunReport) -> Self {
        RunReportDto {
            campaign_id: r.campaign_id.to_string(),
            customers: r.customers,
            messages: r.messages,
            vouchers: r.vouchers,
            held_out: r.held_out,
            skipped: r
                .skipped
                .iter()
                .map(|(reason, n)| {
                    let name = serde_json::to_value(reason)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    (name, *n)
                })
                .collect(),
            budget_used_minor: r.budget_used_minor,
            sms_segments: r
                .sms_segments
                .iter()
                .map(|(segments, n)| (segments.to_string(), *n))
                .collect(),
            sms_over_cap: r.sms_over_cap,
        }
    }
}

/// A message of a campaign.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MessageDto {
    id: String,
    customer_id: Option<String>,
    /// `zalo`, `sms` or `email`: the channel it goes (went) out on.
    channel: String,
    recipient: String,
    /// Channels left to try if this one fails for good.
    fallbacks: Vec<String>,
    body: String,
    promotional: bool,
    /// `pending`, `sending`, `sent`, `delivered`, `failed`, `dead` or `cancelled`.
    status: String,
    attempts: u32,
    due_at: String,
    sent_at: Option<String>,
    delivered_at: Option<String>,
    last_error: Option<String>,
    dedupe_key: String,
}

fn channel_name(c: regulars_domain::Channel) -> String {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl From<&OutboxMessage> for MessageDto {
    fn from(m: &OutboxMessage) -> Self {
        MessageDto {
            id: m.id.to_string(),
            customer_id: m.customer_id.map(|c| c.to_string()),
            channel: channel_name(m.route.channel),
            recipient: m.route.recipient.clone(),
            fallbacks: m
                .fallbacks
                .iter()
                .map(|r| channel_name(r.channel))
                .collect(),
            body: m.body.clone(),
            promotional: m.promotional,
            status: m.status.as_str().to_owned(),
            attempts: m.attempts,
            due_at: rfc3339(m.due_at),
            sent_at: m.sent_at.map(rfc3339),
            delivered_at: m.delivered_at.map(rfc3339),
            last_error: m.last_error.clone(),
            dedupe_key: m.dedupe_key.clone(),
        }
    }
}

/// Treated against held-out customers over the attribution window.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AttributionDto {
    treated: usize,
    holdout: usize,
    /// Mean revenue per treated customer, minor units.
    treated_mean: f64,
    /// Mean revenue per held-out customer, minor units.
    holdout_mean: f64,
    /// (treated mean − hold-out mean) × treated, minor units.
    incremental_revenue: f64,
    /// 95 % confidence interval of the incremental revenue (Welch).
    ci_low: f64,
    ci_high: f64,
    incremental_margin: f64,
    offer_cost: f64,
    /// (incremental margin − offer cost) / offer cost; absent when nothing was redeemed.
    roi: Option<f64>,
}

/// A campaign's results in money.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CampaignReportDto {
    campaign: CampaignDto,
    treated: u64,
    held_out: u64,
    /// Messages by status.
    messages: BTreeMap<String, u64>,
    /// Messages accepted by a provider (sent, delivered or reported failed).
    sent: u64,
    delivered: u64,
    vouchers_issued: u64,
    vouchers_redeemed: u64,
    /// Redeemed / issued.
    redemption_rate: Option<f64>,
    window_days: u32,
    treated_revenue_minor: i64,
    holdout_revenue_minor: i64,
    /// What the offers cost: redeemed vouchers and credited bonus points.
    offer_cost_minor: i64,
    /// Messages that credited bonus points (once each, when sent).
    bonus_credits: u64,
    /// The bonus points credited.
    bonus_points: i64,
    /// What the credited bonus points cost, at the programme's point value (part of
    /// `offer_cost_minor`).
    bonus_cost_minor: i64,
    gross_margin: f64,
    /// Absent while a group has fewer than 2 customers; `attribution_unavailable` says why.
    attribution: Option<AttributionDto>,
    attribution_unavailable: Option<String>,
    /// Each offer variant against the shared hold-out; empty without variants.
    variants: Vec<super::campaign_variants::VariantDto>,
    /// Which variant did better and how sure; absent without variants or while a
    /// variant has fewer than 2 customers.
    verdict: Option<super::campaign_variants::VerdictDto>,
    /// The locations the figures are for, and which figures stay the whole campaign's.
    scope: super::campaign_scope::ReportScopeDto,
}

/// The attribution as the API shows it.
pub(crate) fn attribution_dto(a: &Attribution) -> AttributionDto {
    AttributionDto {
        treated: a.treated,
        holdout: a.holdout,
        treated_mean: a.treated_mean,
        holdout_mean: a.holdout_mean,
        incremental_revenue: a.incremental_revenue,
        ci_low: a.ci_low,
        ci_high: a.ci_high,
        incremental_margin: a.incremental_margin,
        offer_cost: a.offer_cost,
        roi: a.roi,
    }
}

impl From<&CampaignReport> for CampaignReportDto {
    fn from(r: &CampaignReport) -> Self {
        let count = |s: OutboxStatus| r.messages.get(&s).copied().unwrap_or(0);
        let (attribution, attribution_unavailable) = match &r.attribution {
            Ok(a) => (Some(attribution_dto(a)), None),
            Err(e) => (None, Some(e.to_string())),
        };
        CampaignReportDto {
            campaign: CampaignDto::from(&r.campaign),
            treated: r.treated,
            held_out: r.held_out,
            messages: r
                .messages
                .iter()
                .map(|(s, n)| (s.as_str().to_owned(), *n))
                .collect(),
            sent: count(OutboxStatus::Sent)
                + count(OutboxStatus::Delivered)
                + count(OutboxStatus::Failed),
            delivered: count(OutboxStatus::Delivered),
            vouchers_issued: r.vouchers_issued,
            vouchers_redeemed: r.vouchers_redeemed,
            redemption_rate: (r.vouchers_issued > 0)
                .then(|| r.vouchers_redeemed as f64 / r.vouchers_issued as f64),
            window_days: r.window_days,
            treated_revenue_minor: r.treated_revenue_minor,
            holdout_revenue_minor: r.holdout_revenue_minor,
            offer_cost_minor: r.offer_cost_minor,
            bonus_credits: r.bonus_credits,
            bonus_points: r.bonus_points.value(),
            bonus_cost_minor: r.bonus_cost_minor,
            gross_margin: r.gross_margin,
            attribution,
            attribution_unavailable,
            variants: r
                .variants
                .iter()
                .map(super::campaign_variants::VariantDto::from)
                .collect(),
            verdict: super::campaign_variants::verdict_dto(r),
            scope: super::campaign_scope::ReportScopeDto::from(&r.scope),
        }
    }
}

/// A document refused for one field names that field by its JSON path
/// (`trigger.threshold`, `offer.reward.reward_id`), as every other body error does.
pub(crate) fn document_error(error: CampaignError) -> ApiError {
    match &error {
        CampaignError::Invalid { path, .. } if !path.is_empty() => ApiError::new(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            error.to_string(),
            Some(path.clone()),
        ),
        _ => error.into(),
    }
}

/// The brand's campaigns, newest first. Any key, a manager's too: campaigns are the
/// brand's; `location` (a manager's own only, else 403) is the one their reports are
/// read for.
#[utoipa::path(get, path = "/v1/campaigns", tag = "campaigns", security(("api_key" = [])), params(ScopedPageQuery),
    responses((status = 200, body = Page<CampaignDto>), (status = 403, body = ErrorBody)))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ScopedPageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (brand, _) = location_reader(&caller, &query.location)?;
    let query = query.page();
    let after: Option<CampaignId> = query.after()?;
    let limit = query.checked_limit()?;
    let records = state.services.campaigns(brand, after, limit).await?;
    let items: Vec<CampaignDto> = records.iter().map(CampaignDto::from).collect();
    Ok(HttpResponse::Ok().json(Page::of(items, limit, |c| c.id.clone())))
}

/// Creates a draft campaign from a campaign document (docs/campaigns.md); the server sets
/// `id`, and `shop`, `currency`, `utc_offset` default to the brand's. Offers name rewards
/// of the catalogue: `{"reward_id": "…", "cost": {"amount": "18000", "currency": "VND"}}`.
#[utoipa::path(post, path = "/v1/campaigns", tag = "campaigns", security(("api_key" = [])),
    request_body(content = Object, description = "A campaign document"),
    responses((status = 201, body = CampaignDto), (status = 422, body = ErrorBody)))]
pub(crate) async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let record = state
        .services
        .create_campaign(brand, &body.0)
        .await
        .map_err(document_error)?;
    Ok(HttpResponse::Created().json(CampaignDto::from(&record)))
}

/// One campaign. Any key, a manager's too (`location`: its own only, else 403).
#[utoipa::path(get, path = "/v1/campaigns/{id}", tag = "campaigns", security(("api_key" = [])),
    params(("id" = String, Path), LocationQuery),
    responses((status = 200, body = CampaignDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<LocationQuery>,
) -> Result<HttpResponse, ApiError> {
    let (brand, _) = location_reader(&caller, &query.location)?;
    let campaign: CampaignId = id(&path, "campaign")?;
    let record = state.services.campaign(brand, campaign).await?;
    Ok(HttpResponse::Ok().json(CampaignDto::from(&record)))
}

/// Replaces the document of a draft or paused campaign.
#[utoipa::path(put, path = "/v1/campaigns/{id}", tag = "campaigns", security(("api_key" = [])),
    params(("id" = String, Path)), request_body(content = Object, description = "A campaign document"),
    responses((status = 200, body = CampaignDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let campaign: CampaignId = id(&path, "campaign")?;
    let record = state
        .services
        .update_campaign(brand, campaign, &body.0)
        .await
        .map_err(document_error)?;
    Ok(HttpResponse::Ok().json(CampaignDto::from(&record)))
}

async fn transition(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    action: CampaignAction,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let campaign: CampaignId = id(&path, "campaign")?;
    let record = state
        .services
        .set_campaign_status(brand, campaign, action)
        .await?;
    Ok(HttpResponse::Ok().json(CampaignDto::from(&record)))
}

/// Launches a draft or paused campaign: campaign runs plan it from now on.
#[utoipa::path(post, path = "/v1/campaigns/{id}/launch", tag = "campaigns", security(("api_key" = [])),
    params(("id" = String, Path)), responses((status = 200, body = CampaignDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn launch(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    transition(state, caller, path, CampaignAction::Launch).await
}

/// Pauses an active campaign; messages already planned still go out.
#[utoipa::path(post, path = "/v1/campaigns/{id}/pause", tag = "campaigns", security(("api_key" = [])),
    params(("id" = String, Path)), responses((status = 200, body = CampaignDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn pause(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    transition(state, caller, path, CampaignAction::Pause).await
}

/// Ends a campaign for good; it stays reported.
#[utoipa::path(post, path = "/v1/campaigns/{id}/end", tag = "campaigns", security(("api_key" = [])),
    params(("id" = String, Path)), responses((status = 200, body = CampaignDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn end(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    transition(state, caller, path, CampaignAction::End).await
}

/// 409 `busy`: the brand already runs this expensive work.
pub(crate) fn busy(work: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "busy",
        format!("a {work} of this brand is already running; try again when it is done"),
        None,
    )
}

/// What a run of the campaign would do now, without sending or issuing anything (admin;
/// it plans the whole customer base, so one preview per brand at a time: 409 `busy`).
#[utoipa::path(post, path = "/v1/campaigns/{id}/preview", tag = "campaigns", security(("api_key" = [])),
    params(("id" = String, Path)), responses((status = 200, body = RunReportDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn preview(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let campaign: CampaignId = id(&path, "campaign")?;
    let _slot = state
        .services
        .exclusive(brand, "campaign preview")
        .ok_or_else(|| busy("campaign preview"))?;
    let report = state.services.preview_campaign(brand, campaign).await?;
    Ok(HttpResponse::Ok().json(RunReportDto::from(&report)))
}

/// Runs every active campaign of the brand now (`regulars work` also runs them on its schedule).
#[utoipa::path(post, path = "/v1/campaigns/runs", tag = "campaigns", security(("api_key" = [])),
    responses((status = 201, body = Vec<RunReportDto>)))]
pub(crate) async fn run(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let reports = state.services.run_campaigns(brand).await?;
    Ok(HttpResponse::Created().json(reports.iter().map(RunReportDto::from).collect::<Vec<_>>()))
}

/// The campaign's messages, newest first.
#[utoipa::path(get, path = "/v1/campaigns/{id}/messages", tag = "campaigns", security(("api_key" = [])),
    params(("id" = String, Path), PageQuery), responses((status = 200, body = Page<MessageDto>), (status = 404, body = ErrorBody)))]
pub(crate) async fn messages(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let campaign: CampaignId = id(&path, "campaign")?;
    let after: Option<uuid::Uuid> = query.after()?;
    let limit = query.checked_limit()?;
    let found = state
        .services
        .campaign_messages(caller.reader()?, campaign, after, limit)
        .await?;
    let ids: Vec<regulars_domain::CustomerId> =
        found.iter().filter_map(|m| m.customer_id).collect();
    let parts = [
        regulars_ports::PersonalData::Messages,
        regulars_ports::PersonalData::Contact,
    ];
    let route = "GET /v1/campaigns/{id}/messages";
    crate::routes::audit::record(&state, &caller, route, &parts, &ids).await?;
    let items: Vec<MessageDto> = found
        .iter()
        .map(|m| {
            let mut dto = MessageDto::from(m);
            dto.body = exposure::message_body(m);
            dto.recipient = exposure::recipient(&caller, &dto.recipient);
            dto
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page::of(items, limit, |m| m.id.clone())))
}
