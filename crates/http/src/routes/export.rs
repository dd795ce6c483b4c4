//! A customer's data, exported on their request: one JSON document, or the same
//! content as one CSV (`section,record,field,value`). See `docs/privacy.md`.

use crate::AppState;
use crate::auth::Caller;
use crate::dto::{
    ConsentHistoryDto, CustomerDto, LedgerEntryDto, OrderDto, ScoresDto, VoucherDto, rfc3339,
};
use crate::error::{ApiError, ErrorBody};
use crate::routes::campaigns::MessageDto;
use crate::routes::id;
use actix_web::{HttpResponse, web};
use regulars_domain::{CustomerChange, CustomerId};
use regulars_ports::{PersonalData, PrivacyRequest};
use regulars_service::{CustomerExport, export_csv};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// The export's format.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportQuery {
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// A recorded change of the customer's profile or consent (which fields, never values).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ChangeDto {
    at: String,
    /// Who made it: `api-key:<id>`, `import`, ….
    actor: String,
    /// `api`, `till`, `import`, ….
    source: String,
    /// The fields it changed.
    fields: Vec<String>,
    /// Consent after the change.
    consent: crate::dto::ConsentDto,
}

impl From<&CustomerChange> for ChangeDto {
    fn from(c: &CustomerChange) -> Self {
        ChangeDto {
            at: rfc3339(c.at),
            actor: c.actor.clone(),
            source: c.source.as_str().to_owned(),
            fields: c.fields.clone(),
            consent: crate::dto::ConsentDto::from(&c.consent),
        }
    }
}

/// A logged request about the customer's data.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RequestDto {
    id: String,
    /// `export`, `erasure` or `retention`.
    kind: String,
    actor: String,
    received_at: String,
    deadline_at: String,
    completed_at: Option<String>,
    /// `done` or `not_found`.
    outcome: String,
}

impl From<&PrivacyRequest> for RequestDto {
    fn from(r: &PrivacyRequest) -> Self {
        RequestDto {
            id: r.id.to_string(),
            kind: r.kind.as_str().to_owned(),
            actor: r.actor.clone(),
            received_at: rfc3339(r.received_at),
            deadline_at: rfc3339(r.deadline_at),
            completed_at: r.completed_at.map(rfc3339),
            outcome: r.outcome.clone(),
        }
    }
}

/// Everything the brand holds about one customer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ExportDto {
    generated_at: String,
    /// Profile and current consent.
    customer: CustomerDto,
    /// Every change of profile and consent.
    consent_changes: Vec<ChangeDto>,
    /// Consent per purpose now, and every consent given or withdrawn.
    consents: ConsentHistoryDto,
    /// Orders with their lines.
    orders: Vec<OrderDto>,
    /// Points ledger entries.
    ledger: Vec<LedgerEntryDto>,
    vouchers: Vec<VoucherDto>,
    /// Scores and segments of the last scoring run, if any.
    scores: Option<ScoresDto>,
    /// Messages written to the customer: status, channel, times and body.
    messages: Vec<MessageDto>,
    /// Requests about the customer's data, this one included.
    requests: Vec<RequestDto>,
    /// Ratings of visits the customer gave (stars and comment).
    ratings: Vec<RatingExportDto>,
    /// Clicks on links of messages and opens of emails.
    engagements: Vec<EngagementExportDto>,
}

/// One click on a link of a message, or one open of an email.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EngagementExportDto {
    /// The message (as in `messages`).
    message_id: String,
    /// The campaign that sent it, if any.
    campaign_id: Option<String>,
    /// `zalo`, `sms` or `email`.
    channel: String,
    /// `click` or `open`.
    kind: String,
    /// For a click: the link's index among the message's links.
    link: Option<u8>,
    /// Whether it counted as a response (once per message per minute).
    counted: bool,
    at: String,
}

impl From<&regulars_domain::Engagement> for EngagementExportDto {
    fn from(e: &regulars_domain::Engagement) -> Self {
        EngagementExportDto {
            message_id: e.message_id.to_string(),
            campaign_id: e.campaign_id.map(|c| c.to_string()),
            channel: serde_json::to_value(e.channel)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            kind: e.kind.as_str().to_owned(),
            link: e.link,
            counted: e.counted,
            at: rfc3339(e.at),
        }
    }
}

/// One rating the customer gave.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RatingExportDto {
    /// The order rated.
    order_id: String,
    /// The order's location code.
    location: Option<String>,
    /// 1 to 5.
    stars: u8,
    /// What they wrote, if anything.
    comment: Option<String>,
    created_at: String,
}

impl From<&regulars_domain::Rating> for RatingExportDto {
    fn from(r: &regulars_domain::Rating) -> Self {
        RatingExportDto {
            order_id: r.order_id.to_string(),
            location: r.location.clone(),
            stars: r.stars.value(),
            comment: r.comment.clone(),
            created_at: rfc3339(r.created_at),
        }
    }
}

impl From<&CustomerExport> for ExportDto {
    fn from(e: &CustomerExport) -> Self {
        ExportDto {
            generated_at: rfc3339(e.generated_at),
            customer: CustomerDto::from(&e.customer),
            consent_changes: e.changes.iter().map(ChangeDto::from).collect(),
            consents: ConsentHistoryDto::new(&e.customer.consent, &e.consents),
            orders: e.orders.iter().map(OrderDto::from).collect(),
            ledger: e.ledger.iter().map(LedgerEntryDto::from).collect(),
            vouchers: e.vouchers.iter().map(VoucherDto::from).collect(),
            scores: e.scores.as_ref().map(|s| ScoresDto::new(s, e.currency)),
            messages: e.messages.iter().map(MessageDto::from).collect(),
            requests: e.requests.iter().map(RequestDto::from).collect(),
            ratings: e.ratings.iter().map(RatingExportDto::from).collect(),
            engagements: e
                .engagements
                .iter()
                .map(EngagementExportDto::from)
                .collect(),
        }
    }
}

/// Everything held about a customer, on their request (admin): profile, consent and its
/// history, orders with lines, ledger, vouchers, scores and segments, messages, and
/// their requests. `format=csv` gives the same content as one CSV file of
/// `section,record,field,value` rows (nested fields as dotted paths).
#[utoipa::path(get, path = "/v1/customers/{id}/export", tag = "customers", security(("api_key" = [])),
    params(("id" = String, Path), ExportQuery),
    responses((status = 200, body = ExportDto, description = "JSON, or `text/csv` with `format=csv`."),
        (status = 400, description = "Unknown format.", body = ErrorBody),
        (status = 403, description = "Not an admin key.", body = ErrorBody),
        (status = 404, description = "No such customer, or erased.", body = ErrorBody)))]
pub(crate) async fn export(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let brand = caller.admin()?;
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "format",
                format!("`format` is `json` or `csv`, not {other:?}"),
            ));
        }
    };
    let customer: CustomerId = id(&path, "customer")?;
    let export = state
        .services
        .export_customer(brand, customer, &format!("api-key:{}", caller.0.key))
        .await?;
    // The whole archive leaves the system: recorded in the access log like any read.
    crate::routes::audit::record(
        &state,
        &caller,
        "GET /v1/customers/{id}/export",
        &PersonalData::ALL,
        &[customer],
    )
    .await?;
    let file = format!("customer-{customer}");
    if !csv {
        return Ok(HttpResponse::Ok()
            .insert_header((
                "Content-Disposition",
                format!("attachment; filename=\"{file}.json\""),
            ))
            .json(ExportDto::from(&export)));
    }
    let value = export_document(&export);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{file}.csv\""),
        ))
        .body(export_csv(&value)))
}

/// The export as the JSON document the admin's route answers: the customer's own
/// download from their card page is this same document.
pub fn export_document(export: &CustomerExport) -> Value {
    // Our own DTOs always serialise; an empty document would still be a valid export.
    serde_json::to_value(ExportDto::from(export)).unwrap_or_default()
}
