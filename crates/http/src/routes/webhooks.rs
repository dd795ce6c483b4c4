//! POS webhooks: `POST /webhooks/{integration}`, authenticated by the integration's
//! signature scheme instead of an API key.

use crate::AppState;
use crate::body::RawBody;
use crate::dto::{
    OrderReceiptDto, RefundReceiptDto, WebhookAck, WebhookEventAck, WebhookIgnoredAck,
};
use crate::error::{ApiError, ErrorBody};
use crate::routes::id;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use regulars_domain::IntegrationId;
use regulars_ports::{
    Ignored, IntegrationKind, PosEvent, VerifiedEvent, WebhookDelivery, WebhookError,
};
use regulars_service::{ErrorClass, UseCaseError, WebhookEndpoint, WebhookOutcome};

/// Maps a refused delivery: signature problems are 401, payload problems 400 naming
/// the field.
pub(crate) fn decode_error(error: WebhookError) -> ApiError {
    match error {
        WebhookError::Signature(message) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            message,
            Some("signature".to_owned()),
        ),
        WebhookError::Stale(message) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "stale_timestamp",
            message,
            Some("timestamp".to_owned()),
        ),
        WebhookError::Invalid { field, message } => ApiError::invalid(field, message),
    }
}

/// Receives a POS webhook: verifies its signature and time window, refuses replays,
/// counts its order or refund once.
///
/// KiotViet switches a webhook off for good after one 400, 401, 403, 404 or 405, so a
/// KiotViet delivery is refused only for its signature (401, as KiotViet asks): what it
/// carries that cannot be counted is logged, counted in `regulars_webhook_ignored`, and
/// listed under `ignored` in a 200 answer.
#[utoipa::path(post, path = "/webhooks/{integration}", tag = "webhooks",
    params(("integration" = String, Path, description = "The integration id")),
    request_body(content = Object, description = "The POS's payload, signed as its dialect documents (see docs/pos.md)"),
    responses((status = 200, body = WebhookAck), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "`key_reused`: an order or refund id of this integration came back with other contents (generic format only)", body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, description = "`pos_api_unavailable`/`pos_api_refused`: the POS's API could not be asked for what the event names (Square orders); the POS should deliver it again", body = ErrorBody)))]
pub(crate) async fn receive(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let integration: IntegrationId = id(&path, "integration")?;
    // Deliveries that fail to authenticate draw on their own small budget, per
    // integration and client address, and only a verified delivery takes the
    // integration's token: junk sent to an integration's URL cannot starve its POS.
    let client = crate::auth::client_address(&req);
    let failures = format!("webhook:{integration}:{client}");
    let unknown = format!("webhook:unknown:{client}");
    state.refuse_spent(&failures)?;
    state.refuse_spent(&unknown)?;
    let endpoint = match state.services.webhook_endpoint(integration).await {
        Ok(endpoint) => endpoint,
        Err(error) => {
            state.record_failure(&unknown);
            return Err(error.into());
        }
    };
    let headers = crate::routes::text_headers(&req);
    let delivery = WebhookDelivery {
        kind: endpoint.kind,
        headers: &headers,
        body: &body.0,
        secret: &endpoint.secret,
        access: endpoint.access.as_ref(),
        brand: endpoint.brand,
        currency: endpoint.settings.currency,
        calling_code: endpoint.settings.calling_code,
        utc_offset: endpoint.settings.utc_offset,
        now: state.now(),
    };
    let mut decoded = state
        .decoder
        .decode(&delivery)
        .map_err(decode_error)
        .inspect_err(|_| {
            state.record_failure(&failures);
            state
                .metrics
                .record_ingested("delivery", "webhook", "rejected")
        })?;
    state.limit(&format!("integration:{integration}"))?;
    let pending = std::mem::take(&mut decoded.pending);
    super::pos_api::complete(&state, &delivery, pending, &mut decoded).await?;
    let ignored = acknowledge_ignored(&state, &endpoint, decoded.ignored);
    let acks = count_events(&state, &endpoint, &delivery, decoded.events).await?;
    Ok(HttpResponse::Ok().json(WebhookAck {
        events: acks,
        ignored,
    }))
}

/// Counts each verified event of a delivery once and answers what became of it; an
/// event that names a customer the POS has not sent yet waits, and links the orders
/// waiting for that customer.
async fn count_events(
    state: &AppState,
    endpoint: &WebhookEndpoint,
    delivery: &WebhookDelivery<'_>,
    events: Vec<VerifiedEvent>,
) -> Result<Vec<WebhookEventAck>, ApiError> {
    let mut acks = Vec::with_capacity(events.len());
    for event in events {
        let event_id = event.event_id.clone();
        let (source, occurred_at) = (event.source, event.occurred_at);
        let customer_ref = event.customer_ref.clone();
        let kind = match event.event {
            PosEvent::Order(_) => "order",
            PosEvent::Refund(_) => "refund",
            PosEvent::CustomerContact { .. } => "customer",
        };
        let receipt = match state.services.receive_webhook(endpoint, event).await {
            Ok(receipt) => receipt,
            // KiotViet switches off an endpoint that answers 4xx, and one delivery
            // carries several invoices: an invoice that cannot be counted (a
            // cancellation of one never completed) is acknowledged as skipped instead
            // of refusing the others. Square redelivers anything not answered 2xx,
            // which would not make such an event countable either. Storage failures still fail the delivery, so it
            // is retried.
            Err(error)
                if matches!(
                    endpoint.kind,
                    IntegrationKind::Kiotviet
                        | IntegrationKind::KiotvietFnb
                        | IntegrationKind::Square
                ) && !matches!(
                    error.class(),
                    ErrorClass::Internal | ErrorClass::Unavailable
                ) =>
            {
                tracing::warn!(%error, %event_id, dialect = endpoint.kind.as_str(), "POS event skipped");
                state.metrics.record_ingested(kind, "webhook", "skipped");
                acks.push(WebhookEventAck {
                    event_id,
                    outcome: "skipped".to_owned(),
                    order: None,
                    refund: None,
                    credited: Vec::new(),
                });
                continue;
            }
            Err(error) => {
                state.metrics.record_ingested(kind, "webhook", "rejected");
                return Err(error.into());
            }
        };
        let waiting = matches!(receipt.outcome, WebhookOutcome::Waiting { .. });
        let ack = event_ack(event_id, &receipt);
        state.metrics.record_ingested(kind, "webhook", &ack.outcome);
        let event = (ack.event_id.clone(), source, occurred_at);
        acks.push(ack);
        if let (true, Some(customer_ref)) = (waiting, customer_ref) {
            let event = (event.0.as_str(), event.1, event.2);
            let linked =
                super::pos_api::link_waiting(state, endpoint, delivery, event, &customer_ref).await;
            acks.extend(linked);
        }
    }
    Ok(acks)
}

/// The answer for one counted (or waiting, or replayed) event.
pub(crate) fn event_ack(
    event_id: String,
    receipt: &regulars_service::WebhookReceipt,
) -> WebhookEventAck {
    let mut ack = WebhookEventAck {
        event_id,
        outcome: String::new(),
        order: None,
        refund: None,
        credited: Vec::new(),
    };
    let counted = |duplicate: bool| if duplicate { "duplicate" } else { "counted" };
    let settled = match &receipt.outcome {
        WebhookOutcome::Order { receipt } => {
            ack.order = Some(OrderReceiptDto::from(receipt));
            counted(receipt.duplicate)
        }
        WebhookOutcome::Refund { receipt } => {
            ack.refund = Some(RefundReceiptDto::from(receipt));
            counted(receipt.duplicate)
        }
        WebhookOutcome::Waiting { .. } => "waiting",
        WebhookOutcome::WaitingDropped { .. } => "dropped",
        WebhookOutcome::CustomerLinked { credited, .. } => {
            ack.credited = credited.iter().map(OrderReceiptDto::from).collect();
            "linked"
        }
    };
    ack.outcome = if receipt.replayed {
        "replayed"
    } else {
        settled
    }
    .to_owned();
    ack
}

/// Logs and counts what an authentic delivery carried without it being counted.
fn acknowledge_ignored(
    state: &AppState,
    endpoint: &regulars_service::WebhookEndpoint,
    ignored: Vec<Ignored>,
) -> Vec<WebhookIgnoredAck> {
    let dialect = endpoint.kind.as_str();
    ignored
        .into_iter()
        .map(|item| {
            let reason = item.reason.as_str();
            tracing::warn!(
                integration = %endpoint.integration,
                dialect,
                reason,
                path = %item.path,
                detail = %item.detail,
                "webhook content acknowledged without being counted"
            );
            state.metrics.record_webhook_ignored(dialect, reason);
            WebhookIgnoredAck {
                reason: reason.to_owned(),
                path: item.path,
                detail: item.detail,
            }
        })
        .collect()
}
