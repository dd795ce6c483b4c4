//! Why a webhook delivery was refused.

use thiserror::Error;
use time::OffsetDateTime;

/// Why a webhook delivery was refused.
///
/// The variants separate what the HTTP layer must tell apart: an unauthenticated request
/// (missing, malformed or wrong signature, a timestamp outside the window) from a genuine
/// but unusable one (an unknown event type, a payload that does not make a valid order).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WebhookError {
    /// The signature header was not sent.
    #[error("the {header} header is missing")]
    MissingSignature {
        /// The header that should carry the signature.
        header: &'static str,
    },
    /// The signature header is present but cannot be read.
    #[error("the {header} header is malformed: {reason}")]
    MalformedSignature {
        /// The header.
        header: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// No signature in the header matches the body under any of the secrets.
    #[error("no signature in the {header} header matches the body")]
    BadSignature {
        /// The header.
        header: &'static str,
    },
    /// The event is older than the tolerance allows: possibly a replay.
    #[error(
        "the event is dated {timestamp}, {age_seconds} s ago; at most {tolerance_seconds} s are allowed"
    )]
    Stale {
        /// The time the signature (or the event) carries.
        timestamp: OffsetDateTime,
        /// How old it is, in seconds.
        age_seconds: i64,
        /// The window, in seconds.
        tolerance_seconds: i64,
    },
    /// The event claims a time further in the future than the tolerance allows.
    #[error(
        "the event is dated {timestamp}, {ahead_seconds} s in the future; at most {tolerance_seconds} s are allowed"
    )]
    FromFuture {
        /// The time the signature (or the event) carries.
        timestamp: OffsetDateTime,
        /// How far ahead of "now" it is, in seconds.
        ahead_seconds: i64,
        /// The window, in seconds.
        tolerance_seconds: i64,
    },
    /// A correctly signed event of a type this adapter does not handle.
    #[error("unknown event type {event_type:?}")]
    UnknownEventType {
        /// The type as sent.
        event_type: String,
    },
    /// A correctly signed payload that is not valid JSON of the expected shape, or does
    /// not make a valid order or refund.
    #[error("invalid payload at {path}: {problem}")]
    InvalidPayload {
        /// Where in the JSON document, e.g. `data.lines[0].unit_price` (`.` for the root).
        path: String,
        /// What is wrong there.
        problem: String,
    },
}

impl WebhookError {
    /// True when the request could not be authenticated (answer 401), false when it was
    /// authentic but unusable (answer 422 or similar).
    pub fn is_authentication_failure(&self) -> bool {
        matches!(
            self,
            WebhookError::MissingSignature { .. }
                | WebhookError::MalformedSignature { .. }
                | WebhookError::BadSignature { .. }
                | WebhookError::Stale { .. }
                | WebhookError::FromFuture { .. }
        )
    }

    pub(crate) fn invalid(path: impl Into<String>, problem: impl Into<String>) -> Self {
        WebhookError::InvalidPayload {
            path: path.into(),
            problem: problem.into(),
        }
    }
}
