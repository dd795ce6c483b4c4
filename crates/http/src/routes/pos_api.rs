//! What a webhook names only by reference, fetched through the POS's own API (the
//! [`PosApi`](regulars_ports::PosApi) port): Square orders, KiotViet customers.

use crate::AppState;
use crate::dto::WebhookEventAck;
use crate::error::ApiError;
use actix_web::http::StatusCode;
use regulars_ports::{
    Decoded, Ignored, IgnoredReason, Pending, PosApiError, PosEvent, VerifiedEvent, WebhookDelivery,
};
use regulars_service::{WebhookEndpoint, WebhookOutcome};

/// Fetches every pending reference and adds what it becomes to `decoded`.
///
/// A definite answer about the order (not found, still open, unusable) is acknowledged
/// like any other authentic content. When the API cannot be asked (unreachable, failing,
/// or refusing the integration's credentials) the delivery is answered 503 so the POS
/// delivers it again: nothing is lost while someone fixes the credentials.
pub(crate) async fn complete(
    state: &AppState,
    delivery: &WebhookDelivery<'_>,
    pending: Vec<Pending>,
    decoded: &mut Decoded,
) -> Result<(), ApiError> {
    for item in pending {
        let Some(api) = &state.pos_api else {
            decoded.ignored.push(Ignored {
                reason: IgnoredReason::Unusable,
                path: item.path,
                detail: "this server is not set up to call POS APIs".to_owned(),
            });
            continue;
        };
        match api.complete(delivery, &item).await {
            Ok(Ok(event)) => decoded.events.push(event),
            Ok(Err(ignored)) => decoded.ignored.push(ignored),
            Err(error) => {
                let code = match error {
                    PosApiError::Unavailable(_) => "pos_api_unavailable",
                    PosApiError::Refused(_) => "pos_api_refused",
                };
                tracing::error!(%error, event_id = %item.event_id, "POS API call failed; the delivery is refused for a retry");
                state
                    .metrics
                    .record_ingested("delivery", "webhook", "unavailable");
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    code,
                    error.to_string(),
                    None,
                ));
            }
        }
    }
    Ok(())
}

/// For a KiotViet invoice kept waiting for its customer: asks KiotViet's customers API
/// for the customer's phone and, when it has one, links it as a `customer.update` would
/// (crediting the waiting invoices). `None` when there is nothing to do or the lookup
/// fails (the invoice then keeps waiting for the `customer.update` webhook).
pub(crate) async fn link_waiting(
    state: &AppState,
    endpoint: &WebhookEndpoint,
    delivery: &WebhookDelivery<'_>,
    event: (&str, &'static str, time::OffsetDateTime),
    customer_ref: &str,
) -> Option<WebhookEventAck> {
    let (event_id, source, occurred_at) = event;
    if !endpoint.kind.is_kiotviet() || endpoint.access.is_none() {
        return None;
    }
    let api = state.pos_api.as_ref()?;
    let phone = match api.customer_phone(delivery, customer_ref).await {
        Ok(Some(phone)) => phone,
        Ok(None) => {
            tracing::info!(%customer_ref, "KiotViet knows no phone number for this customer yet");
            return None;
        }
        Err(error) => {
            tracing::warn!(%error, %customer_ref, "KiotViet customer lookup failed; the invoice waits for customer.update");
            return None;
        }
    };
    let contact = VerifiedEvent {
        event_id: format!("{event_id}/customer"),
        occurred_at,
        source,
        customer_ref: None,
        event: PosEvent::CustomerContact {
            customer_ref: customer_ref.to_owned(),
            phone,
        },
    };
    let contact_id = contact.event_id.clone();
    match state.services.receive_webhook(endpoint, contact).await {
        Ok(receipt) => {
            let ack = super::webhooks::event_ack(contact_id, &receipt);
            state
                .metrics
                .record_ingested("customer", "webhook", &ack.outcome);
            if let WebhookOutcome::CustomerLinked { .. } = receipt.outcome {
                tracing::info!(%customer_ref, "KiotViet customer linked through the customers API");
            }
            Some(ack)
        }
        Err(error) => {
            tracing::warn!(%error, %customer_ref, "linking a KiotViet customer failed; the invoice keeps waiting");
            None
        }
    }
}
