//! What a webhook names only by reference, fetched through the POS's own API (the
//! [`PosApi`](regulars_ports::PosApi) port): Square orders.

use crate::AppState;
use crate::error::ApiError;
use actix_web::http::StatusCode;
use regulars_ports::{Decoded, Ignored, IgnoredReason, Pending, PosApiError, WebhookDelivery};

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
