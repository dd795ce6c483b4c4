//! The POS adapter behind the webhook port: `regulars-pos` verifies and reads each
//! dialect; this maps its results and errors onto the port's types.

use regulars_domain::{BrandId, CallingCode, Currency, Order, Refund};
use regulars_ports::{
    IntegrationKind, PosEvent, VerifiedEvent, WebhookDecoder, WebhookDelivery, WebhookError,
};
use regulars_pos::{BrandContext, Secret, generic, kiotviet};
use time::{Duration, UtcOffset};

/// How old a KiotViet delivery may be. KiotViet signs no timestamp: the window is
/// checked against the invoices' own modification times, and KiotViet retries a failed
/// delivery later with the same body, so minutes would refuse its retries. Replays
/// inside the window are still refused by the event ids remembered per integration.
pub const KIOTVIET_TOLERANCE: Duration = Duration::hours(24);

/// Verifies and decodes webhooks with `regulars-pos`.
#[derive(Debug, Clone, Copy)]
pub struct PosDecoder {
    tolerance: Duration,
}

impl PosDecoder {
    /// A decoder accepting generic deliveries signed within `tolerance` of now (and
    /// KiotViet deliveries within [`KIOTVIET_TOLERANCE`]).
    pub fn new(tolerance: Duration) -> Self {
        PosDecoder { tolerance }
    }
}

fn context(brand: BrandId, currency: Currency, calling_code: CallingCode) -> BrandContext {
    BrandContext {
        brand_id: brand,
        currency,
        calling_code,
        // Times without an offset are refused by the parsers' formats; UTC is only a
        // fallback for dialects that document local times without one.
        utc_offset: UtcOffset::UTC,
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn map_error(error: regulars_pos::WebhookError) -> WebhookError {
    use regulars_pos::WebhookError as E;
    match error {
        E::Stale { .. } | E::FromFuture { .. } => WebhookError::Stale(error.to_string()),
        e if e.is_authentication_failure() => WebhookError::Signature(e.to_string()),
        E::InvalidPayload { path, problem } => WebhookError::Invalid {
            field: path,
            message: problem,
        },
        other => WebhookError::Invalid {
            field: "body".to_owned(),
            message: other.to_string(),
        },
    }
}

fn to_port(event: regulars_pos::VerifiedEvent) -> VerifiedEvent {
    VerifiedEvent {
        event_id: event.event_id,
        occurred_at: event.occurred_at,
        event: match event.event {
            regulars_pos::PosEvent::Order(order) => PosEvent::Order(order),
            regulars_pos::PosEvent::Refund(refund) => PosEvent::Refund(refund),
        },
    }
}

impl WebhookDecoder for PosDecoder {
    fn decode(&self, d: &WebhookDelivery<'_>) -> Result<Vec<VerifiedEvent>, WebhookError> {
        let brand = context(d.brand, d.currency, d.calling_code);
        let secrets = [Secret::new(d.secret.to_vec())];
        match d.kind {
            IntegrationKind::Generic => {
                let signature = header(d.headers, generic::SIGNATURE_HEADER);
                match generic::verify(&secrets, signature, d.body, d.now, self.tolerance, &brand) {
                    Ok(event) => Ok(vec![to_port(event)]),
                    // Signed and fresh, but nothing this server counts: acknowledged.
                    Err(regulars_pos::WebhookError::UnknownEventType { .. }) => Ok(Vec::new()),
                    Err(e) => Err(map_error(e)),
                }
            }
            IntegrationKind::Kiotviet => {
                let signature = header(d.headers, kiotviet::SIGNATURE_HEADER);
                match kiotviet::verify(
                    &secrets,
                    signature,
                    d.body,
                    d.now,
                    KIOTVIET_TOLERANCE,
                    &brand,
                ) {
                    Ok(delivery) => Ok(delivery.events.into_iter().map(to_port).collect()),
                    Err(regulars_pos::WebhookError::UnknownEventType { .. }) => Ok(Vec::new()),
                    Err(e) => Err(map_error(e)),
                }
            }
        }
    }

    fn generic_order(
        &self,
        body: &[u8],
        brand: BrandId,
        currency: Currency,
        calling_code: CallingCode,
    ) -> Result<Order, WebhookError> {
        generic::parse_order_data(body, &context(brand, currency, calling_code)).map_err(map_error)
    }

    fn generic_refund(
        &self,
        body: &[u8],
        brand: BrandId,
        currency: Currency,
    ) -> Result<Refund, WebhookError> {
        // Refunds carry no phone number; the calling code is never read.
        let calling_code = regulars_domain::Phone::VIETNAM;
        generic::parse_refund_data(body, &context(brand, currency, calling_code)).map_err(map_error)
    }
}
