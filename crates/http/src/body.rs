//! The JSON body extractor: content type checked (415), size capped while reading (413),
//! and shape errors reported with the JSON path of the offending field (400).

use crate::error::{ApiError, too_large, unsupported_media_type};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

/// Largest body read when the application sets no limit: 256 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;

/// The body limit in force, set by the application as app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON request body of type `T`.
#[derive(Debug)]
pub struct Json<T>(pub T);

/// The raw bytes of a request body, size-capped like [`Json`] but of any content type
/// (webhooks must be verified on the exact bytes received).
#[derive(Debug)]
pub struct RawBody(pub web::Bytes);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = require_json(req);
        let body = read_body(req, payload);
        Box::pin(async move {
            is_json?;
            let bytes = body.await?;
            parse_json(&bytes).map(Json)
        })
    }
}

impl FromRequest for RawBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move { body.await.map(RawBody) })
    }
}

/// 415 unless the request says its body is JSON (`application/json`, any parameters,
/// or an `application/*+json` type). Routes that read the raw bytes themselves check
/// the same way as [`Json`].
pub fn require_json(req: &HttpRequest) -> Result<(), ApiError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            let v = v.trim().to_ascii_lowercase();
            v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
        });
    if is_json {
        Ok(())
    } else {
        Err(unsupported_media_type())
    }
}

/// Reads `bytes` as `T`, naming the JSON path of the first problem. A whole number
/// written with a zero fraction (`2.0`) is that whole number, as JSON Schema (and so the
/// OpenAPI document) counts it.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let normalised = whole_numbers_in(bytes);
    let bytes = normalised.as_deref().unwrap_or(bytes);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path.is_empty() {
            "body".to_owned()
        } else {
            path
        };
        ApiError::invalid(field, e.into_inner().to_string())
    })?;
    de.end()
        .map_err(|e| ApiError::invalid("body", e.to_string()))?;
    Ok(value)
}

/// `bytes` again with every whole number written as a float (`56.0`) written as an
/// integer (`56`), when it is JSON holding such a number; `None` when nothing changes
/// (not JSON, or no such number), so the caller reads the bytes as they came.
pub fn whole_numbers_in(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    whole_numbers(&mut value).then(|| serde_json::to_vec(&value).ok())?
}

/// Rewrites whole floats within ±2^53 (exact in a double) as integers; true when one was.
fn whole_numbers(value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() <= EXACT => {
                // In range and whole: the conversion is exact.
                *value = Value::from(f as i64);
                true
            }
            _ => false,
        },
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, v| whole_numbers(v) | changed),
        Value::Object(fields) => fields
            .values_mut()
            .fold(false, |changed, v| whole_numbers(v) | changed),
        _ => false,
    }
}

fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<web::Bytes, ApiError>> + 'static {
    let limit = req
        .app_data::<BodyLimit>()
        .map_or(DEFAULT_BODY_LIMIT, |l| l.0);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut payload = payload.take();
    async move {
        use futures_util::StreamExt;
        if declared.is_some_and(|n| n > limit) {
            return Err(too_large(limit));
        }
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| ApiError::invalid("body", e.to_string()))?;
            if body.len() + chunk.len() > limit {
                return Err(too_large(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::{parse_json, whole_numbers_in};
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Line {
        quantity: u32,
        points: i64,
        share: f64,
    }

    #[test]
    fn whole_numbers_written_as_floats_are_whole_numbers() {
        let line: Line =
            parse_json(br#"{"quantity": 56.0, "points": -3.0, "share": 0.5}"#).unwrap();
        assert_eq!(
            line,
            Line {
                quantity: 56,
                points: -3,
                share: 0.5
            }
        );
        // A real fraction still is not a count.
        let error = parse_json::<Line>(br#"{"quantity": 56.5, "points": 1, "share": 1}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("56.5"), "{error}");
        // Bodies without such numbers, or not JSON, are read as they came.
        assert_eq!(whole_numbers_in(br#"{"a": [1, 2.5, "3.0"]}"#), None);
        assert_eq!(whole_numbers_in(b"not json"), None);
        assert_eq!(
            whole_numbers_in(br#"{"a": [{"b": 2.0}]}"#).unwrap(),
            br#"{"a":[{"b":2}]}"#
        );
        // Beyond 2^53 a double is not exact: left alone.
        assert_eq!(whole_numbers_in(b"[1e300]"), None);
    }
}
