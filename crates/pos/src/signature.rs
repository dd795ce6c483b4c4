//! HMAC-SHA256 signing, constant-time comparison and the timestamp window.

use crate::WebhookError;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::fmt;
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

/// A webhook signing secret. Its `Debug` output never shows the bytes.
///
/// An empty secret never verifies anything, so a missing configuration value cannot
/// turn into "every signature is valid".
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps the secret's bytes exactly as they were shared with the sender.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(bytes.into())
    }

    /// The secret's bytes, the HMAC key.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// HMAC-SHA256 of the concatenated `parts` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length; the error branch cannot happen.
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0; 32],
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// True when some secret signs `parts` to one of `candidates`; every comparison is
/// constant-time and every pair is compared, so timing tells nothing about which.
pub(crate) fn any_matches(secrets: &[Secret], parts: &[&[u8]], candidates: &[[u8; 32]]) -> bool {
    let mut found = subtle::Choice::from(0);
    for secret in secrets.iter().filter(|s| !s.0.is_empty()) {
        let expected = hmac_sha256(&secret.0, parts);
        for candidate in candidates {
            found |= expected.ct_eq(candidate);
        }
    }
    found.into()
}

/// Checks `timestamp` lies within `tolerance` of `now`, either side.
pub(crate) fn check_window(
    timestamp: OffsetDateTime,
    now: OffsetDateTime,
    tolerance: Duration,
) -> Result<(), WebhookError> {
    let tolerance_seconds = tolerance.whole_seconds();
    let age = now - timestamp;
    if age > tolerance {
        return Err(WebhookError::Stale {
            timestamp,
            age_seconds: age.whole_seconds(),
            tolerance_seconds,
        });
    }
    if -age > tolerance {
        return Err(WebhookError::FromFuture {
            timestamp,
            ahead_seconds: (-age).whole_seconds(),
            tolerance_seconds,
        });
    }
    Ok(())
}
