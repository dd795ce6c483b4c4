//! POS webhooks: `POST /webhooks/{integration}`, authenticated by the integration's
//! signature scheme instead of an API key.

use crate::AppState;
use crate::body::RawBody;
use crate::dto::{OrderReceiptDto, RefundReceiptDto, WebhookAck, WebhookEventAck};
use crate::error::{ApiError, ErrorBody};
use crate::routes::id;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use regulars_domain::IntegrationId;
use regulars_ports::{IntegrationKind, PosEvent, WebhookDelivery, WebhookError};
use regulars_service::{ErrorClass, UseCaseError, WebhookOutcome};

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
#[utoipa::path(post, path = "/webhooks/{integration}", tag = "webhooks",
    params(("integration" = String, Path, description = "The integration id")),
    request_body(content = Object, description = "The POS's payload, signed as its dialect documents (see docs/pos.md)"),
    responses((status = 200, body = WebhookAck), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
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
        brand: endpoint.brand,
        currency: endpoint.settings.currency,
        calling_code: endpoint.settings.calling_code,
        now: state.now(),
    };
    let events = state
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
    let mut acks = Vec::with_capacity(events.len());
    for event in events {
        let event_id = event.event_id.clone();
        let kind = match event.event {
            PosEvent::Order(_) => "order",
            PosEvent::Refund(_) => "refund",
        };
        let receipt = match state.services.receive_webhook(&endpoint, event).await {
            Ok(receipt) => receipt,
            // KiotViet switches off an endpoint that answers 4xx, and one delivery
            // carries several invoices: an invoice that cannot be counted (a
            // cancellation of one never completed) is acknowledged as skipped instead
            // of refusing the others. Storage failures still fail the delivery, so it
            // is retried.
            Err(error)
                if endpoint.kind == IntegrationKind::Kiotviet
                    && !matches!(
                        error.class(),
                        ErrorClass::Internal | ErrorClass::Unavailable
                    ) =>
            {
                tracing::warn!(%error, %event_id, "KiotViet invoice skipped");
                state.metrics.record_ingested(kind, "webhook", "skipped");
                acks.push(WebhookEventAck {
                    event_id,
                    outcome: "skipped".to_owned(),
                    order: None,
                    refund: None,
                });
                continue;
            }
            Err(error) => {
                state.metrics.record_ingested(kind, "webhook", "rejected");
                return Err(error.into());
            }
        };
        let mut ack = WebhookEventAck {
            event_id,
            outcome: String::new(),
            order: None,
            refund: None,
        };
        let duplicate = match &receipt.outcome {
            WebhookOutcome::Order { receipt } => {
                ack.order = Some(OrderReceiptDto::from(receipt));
                receipt.duplicate
            }
            WebhookOutcome::Refund { receipt } => {
                ack.refund = Some(RefundReceiptDto::from(receipt));
                receipt.duplicate
            }
        };
        ack.outcome = if receipt.replayed {
            "replayed"
        } else if duplicate {
            "duplicate"
        } else {
            "counted"
        }
        .to_owned();
        state.metrics.record_ingested(kind, "webhook", &ack.outcome);
        acks.push(ack);
    }
    Ok(HttpResponse::Ok().json(WebhookAck { events: acks }))
}
