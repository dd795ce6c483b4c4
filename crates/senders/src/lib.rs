//! Messaging adapter of Regulars: the [`MessageSender`](regulars_ports::MessageSender)
//! port over real providers.
//!
//! * [`ZaloZns`]: Zalo Notification Service template messages by phone number, with the
//!   OAuth v4 access-token refresh.
//! * [`Esms`]: eSMS.vn brandname SMS (`SendMultipleMessage_V4_post_json`), or
//!   [`TwilioSms`] for a Twilio-style `Messages.json` API.
//! * [`SmtpSender`]: email over SMTP (lettre; plain, STARTTLS or implicit TLS with rustls).
//! * [`FileSender`]: a development channel that appends each message as one JSON line to
//!   a file (`[senders.file]`), for demos and local work.
//! * [`callbacks`]: pure functions that turn the providers' delivery-status callbacks into
//!   [`DeliveryUpdate`](regulars_ports::DeliveryUpdate)s, and [`ProviderReports`], the
//!   [`DeliveryReportDecoder`](regulars_ports::DeliveryReportDecoder) over them, checked
//!   with the operator's [`ReportKeys`].
//! * [`SendersConfig`] and [`build`]: the configured senders keyed by channel, secrets read
//!   from the environment only.
//!
//! Every sender classifies failures for the delivery worker: [`SendError::Retryable`]
//! (timeouts, provider outages, rate limits) or [`SendError::Permanent`] (bad recipient,
//! rejected template, bad credentials). Each message's `dedupe_key`, or for eSMS and Zalo
//! its fixed-length [`provider_key`](regulars_ports::provider_key), reaches the provider
//! as its idempotency or tracking id where it has one (see `docs/senders.md` for what
//! each provider actually guarantees).
//!
//! [`SendError::Retryable`]: regulars_ports::SendError::Retryable
//! [`SendError::Permanent`]: regulars_ports::SendError::Permanent
//!
//! ```
//! use regulars_senders::{SendersConfig, build};
//! use regulars_domain::Channel;
//!
//! let config: SendersConfig = serde_json::from_str(r#"{
//!     "sms": { "brandname": "REGULARS" }
//! }"#).unwrap();
//! let env = |name: &str| match name {
//!     "REGULARS_ESMS_API_KEY" => Some("key".to_owned()),
//!     "REGULARS_ESMS_SECRET_KEY" => Some("secret".to_owned()),
//!     _ => None,
//! };
//! let senders = build(&config, env).unwrap();
//! assert!(senders.get(Channel::Sms).is_some());
//! assert!(senders.get(Channel::Zalo).is_none());
//!
//! // A missing secret is named in the error.
//! let err = build(&config, |_: &str| None).err().unwrap();
//! assert!(err.to_string().contains("REGULARS_ESMS_API_KEY"));
//! ```

mod brand;
pub mod callbacks;
mod config;
mod email;
mod esms;
mod file;
mod http;
mod reports;
mod twilio;
mod zalo;
mod zalo_tokens;

pub use brand::BrandSenderFactory;
pub use config::{
    ConfigError, ENV_ESMS_API_KEY, ENV_ESMS_SECRET_KEY, ENV_SMTP_PASSWORD, ENV_TWILIO_AUTH_TOKEN,
    ENV_ZALO_ACCESS_TOKEN, ENV_ZALO_APP_ID, ENV_ZALO_REFRESH_TOKEN, ENV_ZALO_SECRET_KEY,
    EsmsConfig, FileConfig, Senders, SendersConfig, SmtpConfig, SmtpTls, TwilioConfig, ZaloConfig,
    build, build_with_tokens,
};
pub use email::{SmtpSender, SmtpSettings, message_id_for};
pub use esms::{ESMS_SEND_PATH, Esms, EsmsSettings, classify_esms_code};
pub use file::{FileMessage, FileSender};
pub use reports::{ProviderReports, ReportKeys};
pub use twilio::{TWILIO_IDEMPOTENCY_HEADER, TwilioSettings, TwilioSms};
pub use zalo::{
    ZALO_TOKEN_REJECTED, ZNS_DAILY_QUOTA, ZNS_INVALID_ACCESS_TOKEN, ZNS_NIGHT, ZaloCredentials,
    ZaloSettings, ZaloTokens, ZaloZns, classify_zns_error, classify_zns_error_at,
};
