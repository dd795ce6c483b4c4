//! Point-of-sale adapters of Regulars: bytes from a till turned into domain orders and
//! refunds.
//!
//! * [`generic`]: Regulars' own webhook format, signed with `Regulars-Signature`
//!   (HMAC-SHA256 over a timestamp and the raw body, several signatures allowed for
//!   secret rotation).
//! * [`kiotviet`]: KiotViet's `invoice.update` and `customer.update` webhooks, signed
//!   with `X-Hub-Signature` as KiotViet documents it.
//! * [`PosDecoder`]: both dialects behind the webhook port
//!   ([`WebhookDecoder`](regulars_ports::WebhookDecoder)) the HTTP adapter calls.
//! * [`csv_import`]: order history as CSV, one row per line item, parsed as a stream
//!   with errors per row; [`csv_gen`] writes such files.
//!
//! The crate does no I/O of its own: it takes the header value, the raw body and "now"
//! from the caller, and CSV from any [`std::io::Read`]. Replay protection needs storage,
//! so it stays with the caller: every [`VerifiedEvent`] carries the sender's
//! [`event_id`](VerifiedEvent::event_id), and every order and refund an
//! [`EventKey`](regulars_domain::EventKey) that makes a second delivery a no-op downstream.
//!
//! ```
//! use regulars_domain::{BrandId, Phone};
//! use regulars_pos::{generic, BrandContext, PosEvent, Secret};
//! use time::{Duration, OffsetDateTime};
//!
//! let brand = BrandContext::vietnam(BrandId::from_bytes([7; 16]));
//! let secret = Secret::new("whsec_demo");
//! let body = r#"{
//!   "id": "evt_1", "type": "order.paid", "created_at": "2026-05-01T10:00:05Z",
//!   "data": {
//!     "order_id": "A-1001", "location": "q1", "customer_phone": "090 123 4567",
//!     "placed_at": "2026-05-01T17:00:00+07:00", "total": "100000",
//!     "lines": [{"sku": "TS-OOLONG", "name": "Trà sữa ô long", "quantity": 2,
//!                "unit_price": 45000,
//!                "modifiers": [{"sku": "TOP-PEARL", "name": "Trân châu", "unit_price": "5000"}]}]
//!   }
//! }"#.as_bytes();
//! let now = OffsetDateTime::from_unix_timestamp(1_777_629_605)?;
//! // What the till sends along with the body:
//! let header = generic::signature_header(now.unix_timestamp(), body, &[secret.clone()]);
//!
//! let event = generic::verify(&[secret], Some(&header), body, now, Duration::minutes(5), &brand)?;
//! assert_eq!(event.event_id, "evt_1");
//! let PosEvent::Order(order) = event.event else { panic!("an order") };
//! assert_eq!(order.key.source, "pos:generic");
//! assert_eq!(order.customer_phone, Some(Phone::parse("+84901234567", Phone::VIETNAM)?));
//! assert_eq!(order.total.to_minor_units()?, 100_000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod amount;
pub mod client;
pub mod csv_gen;
pub mod csv_import;
mod decoder;
mod error;
pub mod generic;
mod invoice_list;
pub mod kiotviet;
mod signature;
pub mod square;

pub use decoder::{KIOTVIET_TOLERANCE, PosDecoder};
pub use error::WebhookError;
/// The events this crate produces are the webhook port's own types: one definition of
/// a POS event across the workspace.
pub use regulars_ports::{PosEvent, VerifiedEvent};
pub use signature::Secret;

use regulars_domain::{BrandId, CallingCode, Currency, Phone};
use time::UtcOffset;

/// What an adapter needs to know about the brand receiving the data: the currency
/// amounts are in, the calling code that decides how national phone numbers are read,
/// and the UTC offset of times that carry none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrandContext {
    /// The brand the orders belong to.
    pub brand_id: BrandId,
    /// The brand's currency; amounts are in its major units.
    pub currency: Currency,
    /// How national phone numbers (`09…`) are read.
    pub calling_code: CallingCode,
    /// The offset of local times that come without one.
    pub utc_offset: UtcOffset,
}

impl BrandContext {
    /// A Vietnamese brand: VND, +84, UTC+07:00.
    pub fn vietnam(brand_id: BrandId) -> Self {
        BrandContext {
            brand_id,
            currency: Currency::VND,
            calling_code: Phone::VIETNAM,
            utc_offset: time::macros::offset!(+7),
        }
    }
}
