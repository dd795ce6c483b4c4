//! What the HTTP senders share: the client and the classification of transport failures.

use regulars_ports::SendError;
use std::time::Duration;

/// The longest a provider may ask us to wait before a retry that we pass on.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// A client with the given request timeout (connect timeout capped at the same).
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
}

/// A request that did not produce a response: the provider may or may not have acted on
/// it, so it is retried (with the same dedupe key).
pub(crate) fn transport_error(provider: &str, err: &reqwest::Error) -> SendError {
    let what = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    SendError::Retryable {
        reason: format!("{provider}: {what}: {err}"),
        retry_after: None,
    }
}

/// A non-2xx HTTP status without a provider answer in the body: 408, 429 and 5xx are
/// retried (honouring `Retry-After` in seconds), anything else is permanent.
pub(crate) fn status_error(
    provider: &str,
    status: reqwest::StatusCode,
    retry_after: Option<&reqwest::header::HeaderValue>,
    body: &str,
) -> SendError {
    let snippet: String = body.chars().take(200).collect();
    let reason = format!("{provider}: HTTP {status}: {snippet}");
    if status.is_server_error()
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status == reqwest::StatusCode::REQUEST_TIMEOUT
    {
        let retry_after = retry_after
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|secs| Duration::from_secs(secs).min(MAX_RETRY_AFTER));
        SendError::Retryable {
            reason,
            retry_after,
        }
    } else {
        SendError::Permanent { reason }
    }
}

/// An E.164 number (`+84912345678`) as the digits the Vietnamese providers want
/// (`84912345678`), or why it is not one.
pub(crate) fn e164_digits(recipient: &str) -> Result<String, SendError> {
    let digits = recipient.trim().strip_prefix('+').unwrap_or("");
    if (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(digits.to_owned())
    } else {
        Err(SendError::Permanent {
            reason: format!("recipient {recipient:?} is not an E.164 phone number"),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn e164_numbers_lose_their_plus() {
        assert_eq!(e164_digits("+84912345678").unwrap(), "84912345678");
        assert!(e164_digits("0912345678").is_err());
        assert!(e164_digits("+84 912").is_err());
        assert!(e164_digits("+8491234567890123").is_err());
    }

    #[test]
    fn statuses_are_classified() {
        let retry = status_error(
            "p",
            reqwest::StatusCode::TOO_MANY_REQUESTS,
            Some(&reqwest::header::HeaderValue::from_static("7")),
            "",
        );
        assert_eq!(
            retry,
            SendError::Retryable {
                reason: "p: HTTP 429 Too Many Requests: ".into(),
                retry_after: Some(Duration::from_secs(7))
            }
        );
        assert!(matches!(
            status_error("p", reqwest::StatusCode::BAD_GATEWAY, None, ""),
            SendError::Retryable { .. }
        ));
        assert!(matches!(
            status_error("p", reqwest::StatusCode::NOT_FOUND, None, ""),
            SendError::Permanent { .. }
        ));
    }
}
