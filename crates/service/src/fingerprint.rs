//! Fingerprints of requests, remembered with their idempotency records: the same key
//! coming back with another payload is refused (`key_reused`) instead of being answered
//! with the first request's result.

use regulars_ports::{IdempotentRecord, StoreError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt::Write;

/// SHA-256 (hex) of the value's canonical JSON: field order is the type's, so equal
/// values always give equal fingerprints.
pub(crate) fn fingerprint<T: Serialize>(value: &T) -> Result<String, StoreError> {
    let bytes = serde_json::to_vec(value)
        .map_err(|e| StoreError::Other(format!("fingerprinting a request: {e}")))?;
    Ok(hex(&Sha256::digest(&bytes)))
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// Whether a remembered record answers a request with `fingerprint`: records written
/// before fingerprints were kept answer any request, as they always did.
pub(crate) fn same_request(record: &IdempotentRecord, fingerprint: &str) -> bool {
    record
        .fingerprint
        .as_deref()
        .is_none_or(|kept| kept == fingerprint)
}
