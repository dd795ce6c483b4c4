//! The routes, one module per resource.

pub(crate) mod access;
pub(crate) mod audit;
pub(crate) mod callbacks;
pub(crate) mod campaign_scope;
pub(crate) mod campaign_variants;
pub(crate) mod campaigns;
pub(crate) mod catalog;
pub(crate) mod channels;
pub(crate) mod claims;
pub(crate) mod customer_history;
pub(crate) mod customers;
pub(crate) mod engagement;
pub(crate) mod export;
pub(crate) mod goals;
pub(crate) mod health;
pub(crate) mod intelligence;
pub(crate) mod jobs;
pub(crate) mod location_reports;
pub(crate) mod menu;
pub(crate) mod notice;
pub(crate) mod orders;
pub(crate) mod policy;
pub(crate) mod pos_api;
pub(crate) mod privacy;
pub(crate) mod ratings;
pub(crate) mod referrals;
pub(crate) mod reports;
pub(crate) mod segment_export;
pub(crate) mod segment_send_times;
pub(crate) mod segment_visits;
pub(crate) mod staff_report;
pub(crate) mod stamps;
pub(crate) mod till;
pub(crate) mod webhooks;

use crate::error::ApiError;
use actix_web::{Scope, web};
use regulars_loyalty::rewards::Reward;
use std::str::FromStr;

/// The request's headers whose values are text, names in lower case: what signature
/// checks of webhooks and provider reports read.
pub(crate) fn text_headers(req: &actix_web::HttpRequest) -> Vec<(String, String)> {
    req.headers()
        .iter()
        .filter_map(|(name, value)| {
            value
                .to_str()
                .ok()
                .map(|v| (name.as_str().to_ascii_lowercase(), v.to_owned()))
        })
        .collect()
}

/// The header that makes a purchase, an adjustment or a voucher redemption safe to retry.
pub(crate) const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// The request's `Idempotency-Key`, if it sent one, scoped to the caller's API key, for
/// the request made of `parts` (the route, its path and what the body asks). A value
/// that is not 1 to 255 visible ASCII characters is a 400 naming the header.
pub(crate) fn request_key(
    req: &actix_web::HttpRequest,
    caller: &crate::auth::Caller,
    parts: &[&[u8]],
) -> Result<Option<regulars_service::RequestKey>, ApiError> {
    let Some(value) = req.headers().get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::invalid(IDEMPOTENCY_KEY, "must be visible ASCII characters"))?;
    regulars_service::RequestKey::new(caller.0.key, value, parts)
        .map(Some)
        .map_err(|problem| ApiError::invalid(IDEMPOTENCY_KEY, problem))
}

/// Reads an id from a path segment; anything that is not an id of that kind is
/// unknown (404), exactly like an id of another brand.
pub(crate) fn id<T: FromStr>(raw: &str, what: &str) -> Result<T, ApiError> {
    raw.parse::<T>()
        .map_err(|_| ApiError::not_found(what, what))
}

/// Builds a reward from its DTO, naming the JSON path of what is wrong.
pub(crate) fn reward_from(dto: &crate::dto::RewardDto) -> Result<Reward, ApiError> {
    let mut value =
        serde_json::to_value(dto).map_err(|e| ApiError::invalid("body", e.to_string()))?;
    if let Some(map) = value.as_object_mut() {
        // The id comes from the path or is drawn; a placeholder keeps the shape valid.
        map.insert("id".into(), serde_json::json!(uuid::Uuid::nil()));
    }
    let text = value.to_string();
    crate::body::parse_json(text.as_bytes())
}

/// Registers every route of the API under `cfg`.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    operational_routes(cfg);
    let v1 = web::scope("/v1");
    let v1 = brand_routes(v1);
    let v1 = access_routes(v1);
    let v1 = location_routes(v1);
    let v1 = programme_routes(v1);
    let v1 = customer_routes(v1);
    let v1 = referral_routes(v1);
    let v1 = segment_routes(v1);
    let v1 = campaign_routes(v1);
    let v1 = report_routes(v1);
    let v1 = order_routes(v1);
    cfg.service(v1);
}

/// Health, readiness and metrics, POS webhooks and providers' callbacks: the routes
/// outside the versioned API.
fn operational_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(health::metrics))
        .route("/webhooks/{integration}", web::post().to(webhooks::receive))
        .route("/callbacks/{provider}", web::post().to(callbacks::receive))
        .route(
            "/callbacks/{provider}",
            web::get().to(callbacks::receive_get),
        )
        .route(
            "/callbacks/{provider}/{token}",
            web::post().to(callbacks::receive_with_token),
        )
        .route(
            "/callbacks/{provider}/{token}",
            web::get().to(callbacks::receive_get_with_token),
        );
}

/// The brand's settings: policy, channels, retention and privacy notice.
fn brand_routes(v1: Scope) -> Scope {
    v1.route("/brand", web::get().to(catalog::brand))
        .route("/brand", web::patch().to(catalog::patch_brand))
        .route("/brand/policy", web::get().to(policy::get))
        .route("/brand/policy", web::put().to(policy::put))
        .route("/brand/channels", web::get().to(channels::list))
        .route("/brand/channels/{channel}", web::get().to(channels::get))
        .route("/brand/channels/{channel}", web::put().to(channels::put))
        .route(
            "/brand/channels/{channel}",
            web::delete().to(channels::delete),
        )
        .route("/brand/retention", web::get().to(privacy::get_retention))
        .route("/brand/retention", web::put().to(privacy::put_retention))
        .route("/brand/notice", web::get().to(notice::get))
        .route("/brand/notice", web::put().to(notice::put))
}

/// Who may act for the brand: API keys, staff, till devices and POS integrations, and
/// the access audit.
fn access_routes(v1: Scope) -> Scope {
    v1.route("/keys", web::get().to(access::list_keys))
        .route("/staff", web::get().to(till::list_staff))
        .route("/staff", web::post().to(till::add_staff))
        .route("/staff/{id}/pin", web::put().to(till::set_pin))
        .route("/staff/{id}", web::delete().to(till::remove_staff))
        .route("/till-devices", web::get().to(till::list_devices))
        .route("/till-devices", web::post().to(till::enrol_device))
        .route("/till-devices/{id}", web::delete().to(till::revoke_device))
        .route("/keys", web::post().to(access::create_key))
        .route("/keys/{id}", web::delete().to(access::revoke_key))
        .route("/integrations", web::get().to(access::list_integrations))
        .route("/integrations", web::post().to(access::create_integration))
        .route(
            "/integrations/{id}",
            web::delete().to(access::revoke_integration),
        )
        .route(
            "/integrations/{id}/access",
            web::put().to(access::set_integration_access),
        )
        .route("/audit/access", web::get().to(audit::list))
}

/// Locations with their managers, and the ratings and engagement settings.
fn location_routes(v1: Scope) -> Scope {
    v1.route("/locations", web::get().to(catalog::list_locations))
        .route("/locations", web::post().to(catalog::create_location))
        .route("/locations/{id}", web::get().to(catalog::get_location))
        .route("/locations/{id}", web::put().to(catalog::update_location))
        .route(
            "/locations/{id}/manager",
            web::get().to(ratings::get_manager),
        )
        .route(
            "/locations/{id}/manager",
            web::put().to(ratings::set_manager),
        )
        .route("/ratings/settings", web::put().to(ratings::set_settings))
        .route(
            "/engagement/settings",
            web::get().to(engagement::get_settings),
        )
        .route(
            "/engagement/settings",
            web::put().to(engagement::set_settings),
        )
}

/// The loyalty programme: earning rules, tiers, rewards, the menu and stamp cards.
fn programme_routes(v1: Scope) -> Scope {
    v1.route("/program", web::get().to(catalog::get_program))
        .route(
            "/program/earning-rules",
            web::put().to(catalog::put_earning_rules),
        )
        .route("/program/tiers", web::put().to(catalog::put_tiers))
        .route("/rewards", web::get().to(catalog::list_rewards))
        .route("/rewards", web::post().to(catalog::create_reward))
        .route("/rewards/{id}", web::get().to(catalog::get_reward))
        .route("/rewards/{id}", web::put().to(catalog::update_reward))
        .route("/menu", web::get().to(menu::get))
        .route("/menu", web::put().to(menu::put))
        .route("/menu/{sku}", web::put().to(menu::put_item))
        .route("/menu/{sku}", web::delete().to(menu::delete_item))
        .route("/stamp-cards", web::get().to(stamps::get))
        .route("/stamp-cards", web::put().to(stamps::put))
}

/// Customers: registering, finding, profiles, consent, points and privacy requests.
fn customer_routes(v1: Scope) -> Scope {
    v1.route("/customers", web::get().to(customers::list))
        .route("/customers", web::post().to(customers::create))
        .route("/customers/lookup", web::get().to(customers::lookup))
        .route("/customers/{id}", web::get().to(customers::profile))
        .route(
            "/customers/{id}/scores",
            web::get().to(intelligence::customer_scores),
        )
        .route("/customers/{id}", web::put().to(customers::update))
        .route("/customers/{id}", web::patch().to(customers::patch))
        .route(
            "/customers/{id}/ledger",
            web::get().to(customer_history::ledger),
        )
        .route(
            "/customers/{id}/orders",
            web::get().to(customer_history::orders),
        )
        .route(
            "/customers/{id}/consents",
            web::get().to(customers::consents),
        )
        .route(
            "/customers/{id}/adjustments",
            web::post().to(customers::adjust),
        )
        .route(
            "/customers/{id}/redemptions",
            web::post().to(customers::redeem_reward),
        )
        .route("/customers/{id}/erasure", web::post().to(privacy::erase))
        .route(
            "/customers/{id}/phone",
            web::put().to(privacy::change_phone),
        )
        .route("/customers/{id}/export", web::get().to(export::export))
}

/// Referrals: the list, their settings, the report and inviting a friend.
fn referral_routes(v1: Scope) -> Scope {
    v1.route("/referrals", web::get().to(referrals::list))
        .route("/referrals/settings", web::get().to(referrals::settings))
        .route(
            "/referrals/settings",
            web::put().to(referrals::set_settings),
        )
        .route("/reports/referrals", web::get().to(referrals::report))
        .route("/customers/{id}/invite", web::post().to(referrals::invite))
}

/// Segments and scoring runs, and the jobs that run them.
fn segment_routes(v1: Scope) -> Scope {
    v1.route("/segments", web::get().to(intelligence::list))
        .route("/segments", web::post().to(intelligence::create))
        .route("/segments/history", web::get().to(intelligence::history))
        .route("/segments/entrants", web::get().to(intelligence::entrants))
        .route("/segments/export", web::get().to(segment_export::export))
        .route(
            "/segments/send-times",
            web::get().to(segment_send_times::list),
        )
        .route("/segments/{id}", web::get().to(intelligence::get))
        .route("/segments/{id}", web::put().to(intelligence::update))
        .route("/segments/{id}", web::delete().to(intelligence::delete))
        .route("/scoring/runs", web::post().to(jobs::run_scoring))
        .route("/jobs/{id}", web::get().to(jobs::get))
}

/// Campaigns: their life cycle, messages, reports and engagement.
fn campaign_routes(v1: Scope) -> Scope {
    v1.route("/campaigns", web::get().to(campaigns::list))
        .route("/campaigns", web::post().to(campaigns::create))
        .route("/campaigns/runs", web::post().to(campaigns::run))
        .route("/campaigns/{id}", web::get().to(campaigns::get))
        .route("/campaigns/{id}", web::put().to(campaigns::update))
        .route("/campaigns/{id}/launch", web::post().to(campaigns::launch))
        .route("/campaigns/{id}/pause", web::post().to(campaigns::pause))
        .route("/campaigns/{id}/end", web::post().to(campaigns::end))
        .route(
            "/campaigns/{id}/preview",
            web::post().to(campaigns::preview),
        )
        .route(
            "/campaigns/{id}/messages",
            web::get().to(campaigns::messages),
        )
        .route(
            "/campaigns/{id}/report",
            web::get().to(campaign_scope::report),
        )
        .route(
            "/campaigns/{id}/engagement",
            web::get().to(engagement::campaign),
        )
}

/// The brand's reports and the owner's goals.
fn report_routes(v1: Scope) -> Scope {
    v1.route("/goals", web::get().to(goals::list))
        .route("/goals", web::post().to(goals::create))
        .route("/goals/{id}", web::delete().to(goals::delete))
        .route("/reports/overview", web::get().to(reports::overview))
        .route("/reports/cohorts", web::get().to(reports::cohorts))
        .route("/reports/revenue", web::get().to(reports::revenue))
        .route(
            "/reports/locations",
            web::get().to(location_reports::by_location),
        )
        .route("/reports/ratings", web::get().to(ratings::report))
        .route(
            "/reports/segments",
            web::get().to(segment_visits::by_segment),
        )
        .route("/reports/staff", web::get().to(staff_report::by_staff))
}

/// Orders, refunds, vouchers at the till and claiming orders.
fn order_routes(v1: Scope) -> Scope {
    v1.route("/orders", web::get().to(orders::list))
        .route("/orders", web::post().to(orders::ingest))
        .route("/orders/{id}", web::get().to(orders::get))
        .route("/refunds", web::post().to(orders::refund))
        .route("/vouchers/{code}", web::get().to(orders::validate_voucher))
        .route(
            "/vouchers/{code}/redeem",
            web::post().to(orders::redeem_voucher),
        )
        .route("/orders/{id}/claim", web::post().to(claims::claim_by_id))
        .route("/claims", web::post().to(claims::claim_by_code))
        .route("/settings/claims", web::get().to(claims::settings))
        .route("/settings/claims", web::put().to(claims::set_settings))
}
