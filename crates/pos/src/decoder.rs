//! The POS adapter behind the webhook port: each dialect verified and read, its
//! results and errors mapped onto the port's types.

use crate::{BrandContext, Secret, generic, kiotviet, square};
use regulars_domain::{BrandId, CallingCode, Currency, Order, Refund};
use regulars_ports::{
    Decoded, IntegrationKind, PosApiAccess, WebhookDecoder, WebhookDelivery, WebhookError,
};
use time::{Duration, UtcOffset};

/// How old a KiotViet invoice may be. KiotViet signs no timestamp: the window is
/// checked against the invoices' own modification times, and KiotViet retries a failed
/// delivery later with the same body, so minutes would refuse its retries. Replays
/// inside the window are still refused by the event ids remembered per integration.
pub const KIOTVIET_TOLERANCE: Duration = Duration::hours(24);

/// Verifies and decodes webhooks of every dialect this crate reads.
#[derive(Debug, Clone, Copy)]
pub struct PosDecoder {
    tolerance: Duration,
}

impl PosDecoder {
    /// A decoder accepting generic deliveries signed within `tolerance` of now (and
    /// KiotViet invoices within [`KIOTVIET_TOLERANCE`]).
    pub fn new(tolerance: Duration) -> Self {
        PosDecoder { tolerance }
    }
}

fn context(
    brand: BrandId,
    currency: Currency,
    calling_code: CallingCode,
    utc_offset: UtcOffset,
) -> BrandContext {
    BrandContext {
        brand_id: brand,
        currency,
        calling_code,
        utc_offset,
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn map_error(error: crate::WebhookError) -> WebhookError {
    use crate::WebhookError as E;
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

impl WebhookDecoder for PosDecoder {
    fn decode(&self, d: &WebhookDelivery<'_>) -> Result<Decoded, WebhookError> {
        let brand = context(d.brand, d.currency, d.calling_code, d.utc_offset);
        match d.kind {
            IntegrationKind::Generic => {
                let secrets = [Secret::new(d.secret.to_vec())];
                let signature = header(d.headers, generic::SIGNATURE_HEADER);
                match generic::verify(&secrets, signature, d.body, d.now, self.tolerance, &brand) {
                    Ok(event) => Ok(Decoded {
                        events: vec![event],
                        ..Decoded::default()
                    }),
                    // Signed and fresh, but nothing this server counts: acknowledged.
                    Err(crate::WebhookError::UnknownEventType { .. }) => Ok(Decoded::default()),
                    Err(e) => Err(map_error(e)),
                }
            }
            // KiotViet FnB's webhooks (`customer.update`) are KiotViet's.
            IntegrationKind::Kiotviet | IntegrationKind::KiotvietFnb => {
                let signature = header(d.headers, kiotviet::SIGNATURE_HEADER);
                let delivery = kiotviet::verify(
                    &kiotviet::keys(d.secret),
                    signature,
                    d.body,
                    d.now,
                    KIOTVIET_TOLERANCE,
                    &brand,
                )
                // Only an authentication failure is an error here: KiotViet switches the
                // webhook off after any other 4xx.
                .map_err(|e| WebhookError::Signature(e.to_string()))?;
                Ok(Decoded {
                    events: delivery.events,
                    ignored: delivery.ignored,
                    pending: Vec::new(),
                })
            }
            IntegrationKind::Square => {
                // Square signs the notification URL with the body: without the URL
                // configured, nothing authenticates.
                let Some(PosApiAccess::Square {
                    notification_url, ..
                }) = d.access
                else {
                    return Err(WebhookError::Signature(
                        "the integration has no Square notification URL to check the \
                         signature with"
                            .to_owned(),
                    ));
                };
                let signature = header(d.headers, square::SIGNATURE_HEADER);
                let key = Secret::new(d.secret.to_vec());
                square::verify(&key, notification_url, signature, d.body, d.now, &brand)
                    .map_err(|e| WebhookError::Signature(e.to_string()))
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
        // The generic format requires an offset on every time; UTC is never read.
        let brand = context(brand, currency, calling_code, UtcOffset::UTC);
        generic::parse_order_data(body, &brand).map_err(map_error)
    }

    fn generic_refund(
        &self,
        body: &[u8],
        brand: BrandId,
        currency: Currency,
    ) -> Result<Refund, WebhookError> {
        // Refunds carry no phone number, and their times carry an offset.
        let calling_code = regulars_domain::Phone::VIETNAM;
        let brand = context(brand, currency, calling_code, UtcOffset::UTC);
        generic::parse_refund_data(body, &brand).map_err(map_error)
    }
}
