//! The OpenAPI 3 document, generated from the handlers' annotations.

use crate::dto;
use crate::error::{ErrorBody, ErrorDetail};
use crate::paging::Page;
use crate::routes::{
    access, callbacks, campaigns, catalog, customers, health, intelligence, orders, reports,
    webhooks,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("rgk_<prefix>_<secret>")
                    .description(Some("A brand's API key (roles admin, pos, viewer)."))
                    .build(),
            ),
        );
    }
}

/// The API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Regulars API",
        description = "Loyalty and customer intelligence for food & beverage shops. Every \
            request with an API key acts for the key's brand only; another brand's ids answer \
            404. Errors are `{\"error\": {\"code\", \"message\", \"field\"?}}`.",
        license(name = "Apache-2.0")
    ),
    paths(
        health::healthz, health::readyz, health::metrics,
        catalog::brand,
        access::list_keys, access::create_key, access::revoke_key,
        access::list_integrations, access::create_integration, access::revoke_integration,
        catalog::list_locations, catalog::create_location, catalog::get_location, catalog::update_location,
        catalog::get_program, catalog::put_earning_rules, catalog::put_tiers,
        catalog::list_rewards, catalog::create_reward, catalog::get_reward, catalog::update_reward,
        customers::list, customers::create, customers::lookup, customers::profile, customers::update,
        customers::ledger, customers::orders, customers::adjust, customers::redeem_reward,
        orders::ingest, orders::refund, orders::list, orders::get,
        orders::validate_voucher, orders::redeem_voucher,
        intelligence::list, intelligence::create, intelligence::get, intelligence::update,
        intelligence::delete, intelligence::history, intelligence::entrants,
        intelligence::customer_scores, intelligence::run_scoring,
        campaigns::list, campaigns::create, campaigns::get, campaigns::update,
        campaigns::launch, campaigns::pause, campaigns::end, campaigns::preview,
        campaigns::run, campaigns::messages, campaigns::report,
        reports::overview, reports::cohorts, reports::revenue,
        webhooks::receive, callbacks::receive, callbacks::receive_get,
    ),
    components(schemas(
        ErrorBody, ErrorDetail, dto::MoneyDto, dto::BrandDto, dto::LocationIn, dto::LocationDto,
        dto::KeyIn, dto::KeyDto, dto::CreatedKeyDto, dto::IntegrationIn, dto::IntegrationDto,
        dto::CreatedIntegrationDto, dto::ConsentDto, dto::CustomerIn, dto::CustomerUpdate,
        dto::CustomerDto, dto::VoucherDto, dto::RewardDto, dto::ProfileDto, dto::LedgerEntryDto,
        dto::LineDto, dto::OrderDto, dto::OrderReceiptDto, dto::RefundReceiptDto,
        dto::AdjustmentIn, dto::AdjustmentDto, dto::RedemptionIn, dto::VoucherRedeemIn,
        dto::VoucherCheckDto, dto::WebhookAck, dto::WebhookEventAck, Page<dto::CustomerDto>, Page<dto::OrderDto>,
        Page<dto::LedgerEntryDto>, dto::SegmentIn, dto::SegmentDto, dto::ScoringRunDto,
        dto::ScoresDto, Page<dto::ScoresDto>, Page<dto::KeyDto>, Page<dto::IntegrationDto>,
        Page<dto::LocationDto>, Page<dto::RewardDto>, Page<dto::SegmentDto>,
        campaigns::CampaignDto, campaigns::RunReportDto, campaigns::MessageDto,
        campaigns::AttributionDto, campaigns::CampaignReportDto, Page<campaigns::CampaignDto>,
        Page<campaigns::MessageDto>,
        reports::OverviewDto, reports::SeriesPointDto, reports::CohortsDto, reports::CohortDto,
        reports::RetentionDto, reports::RevenueDto, reports::RevenueRowDto,
        callbacks::DeliveryReportAck,
    )),
    modifiers(&BearerKey),
)]
pub struct ApiDoc;
