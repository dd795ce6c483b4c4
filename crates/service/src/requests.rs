//! `Idempotency-Key` requests: a till or back office that times out and retries a
//! purchase, an adjustment or a voucher redemption gets the first response back instead
//! of spending or crediting twice.
//!
//! The key is scoped to the brand and to the API key that sent it, and remembered with
//! a fingerprint of the request and the response, in the same transaction as the
//! effect. The same key with the same request answers the first response; the same key
//! with another request is refused. Records are kept [`REQUEST_RETENTION`] and then
//! pruned by the worker ([`Services::prune_idempotency`]).

use crate::Services;
use crate::error::{ErrorClass, UseCaseError};
use crate::fingerprint::{hex, same_request};
use crate::webhooks::WEBHOOK_EVENT;
use regulars_domain::{ApiKeyId, BrandId, EventKey};
use regulars_ports::{IdempotentRecord, StoreError, Transaction};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use time::Duration;

/// The `kind` of the idempotency records `Idempotency-Key` requests leave.
pub const REQUEST_EVENT: &str = "request";

/// How long a request's key is remembered: at least a day, so any retry a client makes
/// finds it.
pub const REQUEST_RETENTION: Duration = Duration::hours(48);

/// How long a webhook event id is remembered to refuse replays. Far longer than any
/// signature window (five minutes for the generic format, a day for KiotViet): a replay
/// after it is refused by its timestamp, and the order or refund it carries stays
/// idempotent on its own key, which is never pruned.
pub const WEBHOOK_EVENT_RETENTION: Duration = Duration::days(7);

/// The longest `Idempotency-Key` accepted.
pub const MAX_REQUEST_KEY: usize = 255;

/// A request's `Idempotency-Key`, scoped to the API key that sent it, with a
/// fingerprint of what it asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestKey {
    key: EventKey,
    fingerprint: String,
}

impl RequestKey {
    /// The key `value` sent by `principal` for the request made of `parts` (the route,
    /// its path parameters and the body, say). `Err` says what is wrong with the value:
    /// it must be 1 to [`MAX_REQUEST_KEY`] visible ASCII characters.
    pub fn new(principal: ApiKeyId, value: &str, parts: &[&[u8]]) -> Result<RequestKey, String> {
        if value.is_empty() || value.len() > MAX_REQUEST_KEY {
            return Err(format!("must be 1 to {MAX_REQUEST_KEY} characters"));
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("must be visible ASCII characters without spaces".into());
        }
        let key =
            EventKey::new(format!("request:{principal}"), value).map_err(|e| e.to_string())?;
        let mut digest = Sha256::new();
        for part in parts {
            // Length-prefixed, so that no two different lists of parts hash alike.
            digest.update((part.len() as u64).to_be_bytes());
            digest.update(part);
        }
        Ok(RequestKey {
            key,
            fingerprint: hex(&digest.finalize()),
        })
    }

    /// The key of a till form (made when the form was shown) submitted on `device`, for
    /// the request made of `parts`: a double tap on the form is the same request.
    pub fn till(
        device: regulars_domain::DeviceId,
        value: &str,
        parts: &[&[u8]],
    ) -> Result<RequestKey, String> {
        let mut key = RequestKey::new(ApiKeyId::from_uuid(device.as_uuid()), value, parts)?;
        key.key.source = format!("till:{device}");
        Ok(key)
    }
}

/// The same `Idempotency-Key` came back with another request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtherRequest;

/// The response remembered for `request`, if it was seen; refused when it was seen with
/// another request.
pub(crate) async fn replay<T, E>(
    tx: &mut dyn Transaction,
    brand: BrandId,
    request: Option<&RequestKey>,
) -> Result<Option<T>, E>
where
    T: DeserializeOwned,
    E: From<StoreError> + From<OtherRequest>,
{
    let Some(request) = request else {
        return Ok(None);
    };
    let Some(record) = tx.idempotency().seen(brand, &request.key).await? else {
        return Ok(None);
    };
    if record.kind != REQUEST_EVENT || !same_request(&record, &request.fingerprint) {
        return Err(OtherRequest.into());
    }
    let response = serde_json::from_value(record.result)
        .map_err(|e| StoreError::Corrupt(format!("remembered response: {e}")))?;
    Ok(Some(response))
}

/// Remembers `response` for `request`, in the transaction of its effect. A concurrent
/// request with the same key that committed first makes this a conflict: the use case
/// runs again and replays that one's response.
pub(crate) async fn remember<T: Serialize>(
    tx: &mut dyn Transaction,
    brand: BrandId,
    request: Option<&RequestKey>,
    response: &T,
) -> Result<(), StoreError> {
    let Some(request) = request else {
        return Ok(());
    };
    let record = IdempotentRecord {
        kind: REQUEST_EVENT.into(),
        result: serde_json::to_value(response)
            .map_err(|e| StoreError::Other(format!("encoding a response: {e}")))?,
        fingerprint: Some(request.fingerprint.clone()),
    };
    tx.idempotency()
        .remember(brand, &request.key, &record)
        .await
}

/// Runs `effect`'s outcome through the request key: a success is remembered; a refusal
/// is replaced by the response of a concurrent identical request that committed while
/// this one waited (on PostgreSQL a statement sees what committed before it), so that
/// request's retry gets the first response rather than "already done".
pub(crate) async fn settle<T, E>(
    tx: &mut dyn Transaction,
    brand: BrandId,
    request: Option<&RequestKey>,
    outcome: Result<T, E>,
) -> Result<T, E>
where
    T: Serialize + DeserializeOwned,
    E: UseCaseError + From<StoreError> + From<OtherRequest>,
{
    match outcome {
        Ok(response) => {
            remember(tx, brand, request, &response).await?;
            Ok(response)
        }
        // Only a rule's refusal: after a failed statement PostgreSQL reads nothing more
        // in the transaction, and a conflict is retried anyway.
        Err(error) if error.class() == ErrorClass::Refused => {
            match replay::<T, E>(tx, brand, request).await? {
                Some(first) => Ok(first),
                None => Err(error),
            }
        }
        Err(error) => Err(error),
    }
}

impl Services {
    /// Forgets the `Idempotency-Key` responses older than [`REQUEST_RETENTION`] and the
    /// webhook event ids older than [`WEBHOOK_EVENT_RETENTION`], in every brand (the
    /// worker's housekeeping); returns how many records went. Order and refund records
    /// are kept for good: they are what makes a late resend a duplicate.
    pub async fn prune_idempotency(&self) -> Result<u64, StoreError> {
        let now = self.clock.now();
        let mut tx = self.uow.begin().await?;
        let pruned = async {
            let requests = tx
                .idempotency()
                .prune(&[REQUEST_EVENT], now - REQUEST_RETENTION)
                .await?;
            let events = tx
                .idempotency()
                .prune(&[WEBHOOK_EVENT], now - WEBHOOK_EVENT_RETENTION)
                .await?;
            Ok::<u64, StoreError>(requests + events)
        }
        .await;
        match pruned {
            Ok(n) => {
                tx.commit().await?;
                Ok(n)
            }
            Err(error) => {
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!(%rollback, "rollback failed");
                }
                Err(error)
            }
        }
    }
}
