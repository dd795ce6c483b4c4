//! Local stand-ins for the messaging providers, for tests and benchmarks of the senders
//! and the delivery worker.
//!
//! [`ZaloZnsStub`], [`EsmsStub`] and [`TwilioStub`] are HTTP servers on `127.0.0.1:0` that speak the
//! providers' documented request and answer formats, validate requests the way the
//! providers do (a wrong token or phone number gets the provider's error code), honour
//! the idempotency key (a repeated Zalo `tracking_id` gets the first answer again, a
//! repeated eSMS `RequestId` gets eSMS's documented code 124; neither is delivered
//! twice), record every accepted delivery, and inject faults: forced answers
//! ([`ZaloZnsStub::push_fault`]) and a seeded fraction of transient failures
//! ([`ZaloZnsStub::set_failure_ratio`]). Their state sits behind an `Arc`, so a stub is
//! cheap to share between tasks; it stops when the last handle is dropped.
//!
//! [`SmtpServer`] runs Python's `aiosmtpd` on a free loopback port and keeps every
//! message it receives.

mod common;
mod esms;
mod fnb;
mod pos;
mod server;
mod smtp;
mod twilio;
mod zalo;

pub use common::{Delivery, Fault, RecordedRequest};
pub use esms::{EsmsStub, REQUEST_ID_MAX_CHARS};
pub use fnb::{InvoiceListCall, KiotVietFnbStub};
pub use pos::{KiotVietApiStub, SquareStub};
pub use smtp::{ReceivedMail, SmtpServer, require_smtp, require_smtp_with_logins, smtp_available};
pub use twilio::TwilioStub;
pub use zalo::ZaloZnsStub;
