//! The OpenAPI 3 document, generated from the handlers' annotations.

mod documents;
mod links;
mod shapes;

use shapes::Shapes;

pub(crate) use documents::reward_kind_ref;

/// The document as served at `/openapi.json`: [`ApiDoc`] with its links.
///
/// Links are added to the JSON form, after `utoipa`: its `Link` type writes and reads
/// `operation_ref` and `request_body` where OpenAPI says `operationRef` and `requestBody`.
/// Each operation's `operationId` is made from its method and path (`get_v1_jobs_id`):
/// `utoipa` names it after the handler, and many modules have a `get` or a `list`, while
/// OpenAPI wants it unique (a client or a fuzzer following a link by id would otherwise
/// reach another operation).
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    if let Some(paths) = doc
        .get_mut("paths")
        .and_then(serde_json::Value::as_object_mut)
    {
        for (path, item) in paths.iter_mut() {
            if let Some(item) = item.as_object_mut() {
                for (method, operation) in item.iter_mut() {
                    links::add(path, method, operation);
                    if let Some(operation) = operation.as_object_mut() {
                        operation.insert("operationId".into(), operation_id(method, path).into());
                    }
                }
            }
        }
    }
    doc
}

/// `get` and `/v1/jobs/{id}` → `get_v1_jobs_id`: unique, as paths are per method.
fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_owned();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        id.push('_');
        id.extend(part.chars().map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => c,
            _ => '_',
        }));
    }
    id.replace("__", "_").trim_end_matches('_').to_owned()
}

use crate::dto;
use crate::error::{ErrorBody, ErrorDetail};
use crate::paging::Page;
use crate::routes::campaign_scope;
use crate::routes::campaign_variants;
use crate::routes::channels;
use crate::routes::claims;
use crate::routes::engagement;
use crate::routes::goals;
use crate::routes::location_reports;
use crate::routes::menu;
use crate::routes::notice;
use crate::routes::ratings;
use crate::routes::referrals;
use crate::routes::segment_export;
use crate::routes::segment_send_times;
use crate::routes::segment_visits;
use crate::routes::staff_report;
use crate::routes::stamps;
use crate::routes::{
    access, audit, callbacks, campaigns, catalog, customer_history, customers, export, health,
    intelligence, jobs, orders, policy, privacy, reports, till, webhooks,
};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

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

/// The error answers any operation can give besides its own, added to every operation
/// that does not list them: without them a client generated from the document (or a
/// fuzzer checking answers against it) meets statuses the document never mentions.
///
/// * every API and webhook operation: 400 (a query or body that does not parse), 422
///   (a value out of range), 429 (rate limited) and 503 (database unavailable);
/// * with an API key (`security`): 401 (missing or unknown key) and 403 (role);
/// * with a request body: 413 (too large) and 415 (not JSON).
struct CommonErrors;

impl CommonErrors {
    fn error(description: &str) -> RefOr<Response> {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    utoipa::openapi::content::ContentBuilder::new()
                        .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                            ErrorBody::name(),
                        ))))
                        .build(),
                )
                .build(),
        )
    }

    fn complete(operation: &mut Operation) {
        let mut statuses = vec![
            ("400", "The query or body does not parse."),
            ("422", "A value is invalid."),
            ("429", "Too many requests: wait `Retry-After` seconds."),
            ("503", "The database is unavailable: try again."),
        ];
        if operation.security.is_some() {
            statuses.push(("401", "No API key, or an unknown or revoked one."));
            statuses.push(("403", "The key's role may not do this."));
        }
        if operation.request_body.is_some() {
            statuses.push(("413", "The body is too large."));
            statuses.push(("415", "The body is not JSON."));
        }
        for (status, description) in statuses {
            if !operation.responses.responses.contains_key(status) {
                operation
                    .responses
                    .responses
                    .insert(status.to_owned(), Self::error(description));
            }
        }
    }
}

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !(path.starts_with("/v1/") || path.starts_with("/webhooks/")) {
                continue;
            }
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                Self::complete(operation);
            }
        }
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
        catalog::brand, catalog::patch_brand, policy::get, policy::put,
        channels::list, channels::get, channels::put, channels::delete,
        access::list_keys, access::create_key, access::revoke_key,
        access::list_integrations, access::create_integration, access::revoke_integration,
        access::set_integration_access,
        catalog::list_locations, catalog::create_location, catalog::get_location, catalog::update_location,
        catalog::get_program, catalog::put_earning_rules, catalog::put_tiers,
        catalog::list_rewards, catalog::create_reward, catalog::get_reward, catalog::update_reward,
        customers::list, customers::create, customers::lookup, customers::profile, customers::update, customers::patch,
        customer_history::ledger, customer_history::orders, customers::adjust, customers::redeem_reward,
        orders::ingest, orders::refund, orders::list, orders::get,
        orders::validate_voucher, orders::redeem_voucher,
        intelligence::list, intelligence::create, intelligence::get, intelligence::update,
        intelligence::delete, intelligence::history, intelligence::entrants,
        intelligence::customer_scores, segment_export::export, goals::list, goals::create, goals::delete, jobs::run_scoring, jobs::get,
        campaigns::list, campaigns::create, campaigns::get, campaigns::update,
        campaigns::launch, campaigns::pause, campaigns::end, campaigns::preview,
        campaigns::run, campaigns::messages, campaign_scope::report,
        reports::overview, reports::cohorts, reports::revenue,
        location_reports::by_location,
        segment_visits::by_segment,
        ratings::report, ratings::get_manager, ratings::set_manager, ratings::set_settings,
        engagement::campaign, engagement::get_settings, engagement::set_settings,
        staff_report::by_staff,
        webhooks::receive, callbacks::receive, callbacks::receive_get,
        callbacks::receive_with_token, callbacks::receive_get_with_token,
        audit::list,
        privacy::erase, export::export, privacy::get_retention, privacy::put_retention,
        privacy::change_phone,
        customers::consents,
        till::list_staff, till::add_staff, till::set_pin, till::remove_staff,
        till::list_devices, till::enrol_device, till::revoke_device,
        notice::get, notice::put,
        claims::claim_by_id, claims::claim_by_code, claims::settings, claims::set_settings,
        menu::get, menu::put, menu::put_item, menu::delete_item,
        stamps::get, stamps::put,
        referrals::settings, referrals::set_settings, referrals::list, referrals::report,
        referrals::invite,
        segment_send_times::list,
    ),
    components(schemas(
        ErrorBody, ErrorDetail, dto::MoneyDto, dto::BrandDto, dto::BrandPatchIn, dto::LocationIn, dto::LocationDto,
        dto::KeyIn, dto::KeyDto, dto::CreatedKeyDto, dto::IntegrationIn, dto::IntegrationDto, dto::PollStatusDto,
        dto::IntegrationAccessIn,
        dto::CreatedIntegrationDto, dto::ConsentDto, dto::CustomerIn, dto::CustomerUpdate,
        customers::CustomerPatchIn, customers::ConsentPatchIn,
        staff_report::StaffRowDto, staff_report::StaffReportDto,
        goals::GoalIn, goals::GoalDto, goals::TrendDto, goals::GoalViewDto, goals::GoalList,
        dto::CustomerDto, dto::VoucherDto, dto::RewardDto, dto::ProfileDto, dto::LedgerEntryDto,
        dto::LineDto, dto::OrderDto, dto::OrderReceiptDto, dto::RefundReceiptDto,
        dto::AdjustmentIn, dto::AdjustmentDto, dto::RedemptionIn, dto::VoucherRedeemIn,
        dto::VoucherCheckDto, dto::WebhookAck, dto::WebhookEventAck, dto::WebhookIgnoredAck, Page<dto::CustomerDto>, Page<dto::OrderDto>,
        Page<dto::LedgerEntryDto>, dto::SegmentIn, dto::SegmentDto, dto::ScoringRunDto, jobs::JobDto,
        dto::ScoresDto, Page<dto::ScoresDto>, Page<dto::KeyDto>, Page<dto::IntegrationDto>,
        Page<dto::LocationDto>, Page<dto::RewardDto>, Page<dto::SegmentDto>,
        campaigns::CampaignDto, campaigns::RunReportDto, campaigns::MessageDto,
        campaigns::AttributionDto, campaigns::CampaignReportDto, Page<campaigns::CampaignDto>,
        campaign_scope::ReportScopeDto,
        campaign_variants::VariantDto, campaign_variants::VerdictDto,
        Page<campaigns::MessageDto>,
        reports::OverviewDto, reports::SeriesPointDto, reports::CohortsDto, reports::CohortDto,
        reports::RetentionDto, reports::RevenueDto, reports::RevenueRowDto,
        location_reports::LocationsDto, location_reports::LocationRowDto,
        segment_visits::SegmentVisitsDto, segment_visits::SegmentVisitsRowDto,
        ratings::RatingsDto, ratings::RatingSummaryDto, ratings::RatingLocationDto, ratings::RatingWeekDto,
        ratings::LowRatingDto, ratings::LocationManagerDto, ratings::RatingSettingsDto,
        engagement::CampaignEngagementDto, engagement::EngagementSettingsDto,
        callbacks::DeliveryReportAck, policy::PolicyDto, policy::HoursDto,
        channels::ChannelAccountIn, channels::ChannelAccountOut, channels::ChannelAccountsOut,
        channels::SecretStateOut,
        audit::AccessRecordDto, Page<audit::AccessRecordDto>,
        privacy::ErasureDto, privacy::PhoneIn, privacy::RetentionPolicyDto, export::ExportDto, export::ChangeDto, export::RequestDto, export::RatingExportDto, export::EngagementExportDto,
        dto::ConsentHistoryDto, dto::ConsentStatesDto, dto::ConsentEventDto,
        till::StaffDto, till::StaffIn, till::PinIn, till::DeviceDto, till::DeviceIn,
        till::EnrolledDeviceDto, Page<till::StaffDto>, Page<till::DeviceDto>,
        notice::NoticeDto, notice::NoticeIn,
        dto::ClaimIn, dto::ClaimSettingsDto,
        menu::MenuDto, menu::MenuItemDto, menu::MenuIn, menu::MenuItemIn,
        stamps::StampCardsDto, stamps::StampCardDto, stamps::EarnPer, dto::StampProgressDto,
        referrals::ReferralSettingsDto, referrals::ReferralDto, referrals::ReferralsDto,
        referrals::ReferralCountsDto, referrals::InviteDto,
        segment_send_times::SendTimesDto, segment_send_times::SegmentSendTimeDto,
    )),
    modifiers(&BearerKey, &CommonErrors, &Shapes),
)]
pub struct ApiDoc;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::ApiDoc;
    use serde_json::Value;
    use utoipa::OpenApi;

    fn document() -> Value {
        serde_json::to_value(ApiDoc::openapi()).unwrap()
    }

    fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
        let mut found = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                found.push((path.clone(), method.clone(), operation));
            }
        }
        found
    }

    #[test]
    fn every_api_operation_documents_the_errors_it_can_answer() {
        let doc = document();
        let mut checked = 0;
        for (path, method, operation) in operations(&doc) {
            if !(path.starts_with("/v1/") || path.starts_with("/webhooks/")) {
                continue;
            }
            let responses = operation["responses"].as_object().unwrap();
            let mut expected = vec!["400", "422", "429", "503"];
            if operation.get("security").is_some() {
                expected.extend(["401", "403"]);
            }
            if operation.get("requestBody").is_some() {
                expected.extend(["413", "415"]);
            }
            for status in expected {
                let response = responses
                    .get(status)
                    .unwrap_or_else(|| panic!("{method} {path} does not document {status}"));
                assert_eq!(
                    response
                        .pointer("/content/application~1json/schema/$ref")
                        .and_then(Value::as_str),
                    Some("#/components/schemas/ErrorBody"),
                    "{method} {path} {status}"
                );
            }
            checked += 1;
        }
        assert!(checked >= 40, "only {checked} operations");
    }

    #[test]
    fn an_operation_keeps_its_own_description_of_a_status() {
        let doc = document();
        let put = &doc["paths"]["/v1/locations/{id}"]["put"]["responses"];
        assert_eq!(put["409"]["description"], "Another location has this code.");
        let adjust = &doc["paths"]["/v1/customers/{id}/adjustments"]["post"]["responses"];
        assert!(adjust.get("409").is_some());
        // Health checks answer without a key and are left as they are.
        let healthz = doc["paths"]["/healthz"]["get"]["responses"]
            .as_object()
            .unwrap();
        assert!(!healthz.contains_key("401"));
    }

    #[test]
    fn the_page_size_has_its_range() {
        let doc = document();
        let params = doc["paths"]["/v1/customers"]["get"]["parameters"]
            .as_array()
            .unwrap();
        let limit = params.iter().find(|p| p["name"] == "limit").unwrap();
        assert_eq!(limit["schema"]["minimum"], 1);
        assert_eq!(limit["schema"]["maximum"], 500);
    }
    /// The schema a `$ref` names, or the schema itself.
    fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => doc
                .pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("{r} resolves")),
            None => schema,
        }
    }

    /// The property names a body schema allows (every branch of a `oneOf`).
    fn properties(doc: &Value, schema: &Value) -> Vec<String> {
        let schema = resolve(doc, schema);
        let mut names: Vec<String> = schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        for branch in schema["oneOf"].as_array().into_iter().flatten() {
            names.extend(properties(doc, branch));
        }
        names
    }

    #[test]
    fn every_request_body_is_typed() {
        let doc = super::document();
        let mut checked = 0;
        for (path, method, operation) in operations(&doc) {
            let Some(schema) = operation.pointer("/requestBody/content/application~1json/schema")
            else {
                continue;
            };
            if !path.starts_with("/v1/") {
                continue;
            }
            assert!(
                !properties(&doc, schema).is_empty(),
                "{method} {path}: the body is a free-form object"
            );
            checked += 1;
        }
        assert!(checked >= 15, "only {checked} bodies");
        let kind = &doc["components"]["schemas"]["RewardDto"]["properties"]["kind"];
        assert_eq!(kind["$ref"], "#/components/schemas/RewardKind");
    }

    #[test]
    fn ids_in_paths_are_uuids_and_parameters_have_their_forms() {
        let doc = super::document();
        for (path, method, operation) in operations(&doc) {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["in"] == "path" && parameter["name"] == "id" {
                    assert_eq!(parameter["schema"]["format"], "uuid", "{method} {path}");
                }
                if parameter["name"] == "after" {
                    assert!(
                        parameter["schema"]["pattern"].is_string(),
                        "{method} {path}"
                    );
                }
            }
        }
        let code = &doc["paths"]["/v1/vouchers/{code}"]["get"]["parameters"][0]["schema"];
        let pattern = regex_lite_free_match(code["pattern"].as_str().unwrap());
        assert!(pattern, "the voucher code pattern is anchored");
    }

    /// Anchored both ends: a pattern JSON Schema reads as a search matches whole values.
    fn regex_lite_free_match(pattern: &str) -> bool {
        pattern.starts_with('^') && pattern.ends_with('$')
    }

    #[test]
    fn operation_ids_are_unique() {
        let doc = super::document();
        let mut seen = std::collections::HashMap::new();
        for (path, method, operation) in operations(&doc) {
            let id = operation["operationId"].as_str().unwrap().to_owned();
            if let Some(other) = seen.insert(id.clone(), format!("{method} {path}")) {
                panic!("operationId {id} of {method} {path} is also {other}'s");
            }
        }
        assert!(seen.contains_key("get_v1_jobs_id"), "{seen:?}");
    }

    #[test]
    fn every_link_leads_to_an_operation_with_what_it_fills() {
        let doc = super::document();
        let mut links = 0;
        for (path, method, operation) in operations(&doc) {
            for (status, response) in operation["responses"].as_object().unwrap() {
                for (name, link) in response["links"].as_object().into_iter().flatten() {
                    let at = format!("{method} {path} {status} {name}");
                    let target_ref = link["operationRef"].as_str().unwrap();
                    let target = doc
                        .pointer(target_ref.trim_start_matches('#'))
                        .unwrap_or_else(|| panic!("{at}: {target_ref} is no operation"));
                    for parameter in link["parameters"].as_object().into_iter().flatten() {
                        let known = target["parameters"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .any(|p| p["name"] == parameter.0.as_str());
                        assert!(known, "{at}: no parameter {}", parameter.0);
                    }
                    if let Some(body) = link.get("requestBody").and_then(Value::as_object) {
                        let schema =
                            &target["requestBody"]["content"]["application/json"]["schema"];
                        let allowed = properties(&doc, schema);
                        for field in body.keys() {
                            assert!(allowed.contains(field), "{at}: no body field {field}");
                        }
                    }
                    links += 1;
                }
            }
        }
        assert!(links >= 40, "only {links} links");
        // The served JSON says `operationRef`, as OpenAPI does.
        assert!(super::document().to_string().contains("\"operationRef\""));
        assert!(!super::document().to_string().contains("operation_ref"));
        assert_eq!(super::links::all().len(), links);
    }
}
