//! The credentials of a POS's own API (Square's access token and notification URL,
//! KiotViet's retailer and OAuth client), kept sealed with their integration like its
//! webhook secret, under the same server keys but apart from it (neither opens as the
//! other). They are written once and never shown again: an integration only says
//! whether it has them.

use crate::Services;
use crate::access::{AccessError, AuthError};
use crate::secrets::{NONCE_BYTES, SecretKeys, open_access, seal_access, sealed_under_current};
use regulars_domain::{BrandId, IntegrationId};
use regulars_ports::{IntegrationKind, IntegrationRecord, PosApiAccess, Transaction};

/// Longest credential field kept (tokens, URLs, names).
pub const MAX_ACCESS_FIELD: usize = 2048;

fn field(name: &'static str, value: &str) -> Result<(), AccessError> {
    if value.trim().is_empty() {
        return Err(AccessError::InvalidAccess(
            name,
            "must not be empty".to_owned(),
        ));
    }
    if value.len() > MAX_ACCESS_FIELD || value.chars().any(char::is_control) {
        return Err(AccessError::InvalidAccess(
            name,
            format!("must be at most {MAX_ACCESS_FIELD} bytes without control characters"),
        ));
    }
    Ok(())
}

/// What a Square integration's credentials look like, for the error that asks for them.
const SQUARE_SHAPE: &str =
    "a Square integration needs {\"kind\": \"square\", \"access_token\", \"notification_url\"}";

/// What a KiotViet FnB integration's credentials look like, for the error that asks for
/// them.
const KIOTVIET_FNB_SHAPE: &str = "a KiotViet FnB integration needs {\"kind\": \"kiotviet\", \"retailer\", \"client_id\", \"client_secret\"} (its invoices are polled)";

/// Checks credentials against the integration's kind: Square needs its (the
/// notification URL is part of its signature), KiotViet may have them (for its
/// customers API), the generic dialect has none.
pub(crate) fn check(
    kind: IntegrationKind,
    access: Option<PosApiAccess>,
) -> Result<Option<PosApiAccess>, AccessError> {
    match (kind, &access) {
        (
            IntegrationKind::Square,
            Some(PosApiAccess::Square {
                access_token,
                notification_url,
            }),
        ) => check_square(access_token, notification_url)?,
        (IntegrationKind::Square, _) => {
            return Err(AccessError::InvalidAccess(
                "api_access",
                SQUARE_SHAPE.to_owned(),
            ));
        }
        (
            IntegrationKind::Kiotviet | IntegrationKind::KiotvietFnb,
            Some(PosApiAccess::Kiotviet {
                retailer,
                client_id,
                client_secret,
            }),
        ) => {
            field("api_access.retailer", retailer)?;
            field("api_access.client_id", client_id)?;
            field("api_access.client_secret", client_secret)?;
        }
        (IntegrationKind::KiotvietFnb, None) => {
            // Without them there is nothing to poll: FnB has no invoice webhook.
            return Err(AccessError::InvalidAccess(
                "api_access",
                KIOTVIET_FNB_SHAPE.to_owned(),
            ));
        }
        (_, None) => {}
        (kind, Some(_)) => {
            return Err(AccessError::InvalidAccess(
                "api_access.kind",
                format!("does not fit a {} integration", kind.as_str()),
            ));
        }
    }
    Ok(access)
}

/// Square's credentials: both fields present, and the notification URL an http(s) URL
/// exactly as configured in Square, since Square signs it with every notification.
fn check_square(access_token: &str, notification_url: &str) -> Result<(), AccessError> {
    field("api_access.access_token", access_token)?;
    field("api_access.notification_url", notification_url)?;
    let url = notification_url;
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    if !scheme_ok || url.trim() != url {
        return Err(AccessError::InvalidAccess(
            "api_access.notification_url",
            "must be the subscription's notification URL exactly as configured in Square (https://…)"
                .to_owned(),
        ));
    }
    Ok(())
}

/// Opens a record's credentials; a value no key opens makes the integration unusable,
/// as an unopenable secret does.
pub(crate) fn open_record(
    keys: &SecretKeys,
    record: &IntegrationRecord,
) -> Result<Option<PosApiAccess>, AuthError> {
    let Some(sealed) = &record.sealed_access else {
        return Ok(None);
    };
    let bytes = open_access(keys, record.brand_id, record.id, sealed)
        .ok_or(AuthError::UnknownIntegration)?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|_| AuthError::UnknownIntegration)
}

/// Re-seals a record's credentials under the current key (see
/// [`Services::reseal_secrets`]): `Ok(false)` when there are none or they are current
/// already, `Err(())` when no key opens them.
pub(crate) async fn reseal(
    services: &Services,
    tx: &mut dyn Transaction,
    keys: &SecretKeys,
    record: &IntegrationRecord,
) -> Result<Result<bool, ()>, AccessError> {
    let Some(sealed) = &record.sealed_access else {
        return Ok(Ok(false));
    };
    if sealed_under_current(keys, sealed) {
        return Ok(Ok(false));
    }
    let Some(bytes) = open_access(keys, record.brand_id, record.id, sealed) else {
        return Ok(Err(()));
    };
    let mut nonce = [0u8; NONCE_BYTES];
    services.ids.fill_bytes(&mut nonce);
    let resealed = seal_access(keys, record.brand_id, record.id, &nonce, &bytes)
        .ok_or(AccessError::NoSecretKey)?;
    let done = tx
        .access()
        .replace_integration_access(
            record.brand_id,
            record.id,
            Some(sealed.clone()),
            Some(resealed),
        )
        .await?;
    Ok(Ok(done))
}

impl Services {
    pub(crate) fn seal_pos_access(
        &self,
        keys: &SecretKeys,
        brand: BrandId,
        id: IntegrationId,
        access: &PosApiAccess,
    ) -> Result<String, AccessError> {
        let bytes = serde_json::to_vec(access)
            .map_err(|e| AccessError::InvalidAccess("api_access", e.to_string()))?;
        let mut nonce = [0u8; NONCE_BYTES];
        self.ids.fill_bytes(&mut nonce);
        seal_access(keys, brand, id, &nonce, &bytes).ok_or(AccessError::NoSecretKey)
    }

    /// Gives an active integration new POS API credentials (`None` removes them); the
    /// old ones are gone.
    pub async fn set_integration_access(
        &self,
        brand: BrandId,
        id: IntegrationId,
        access: Option<PosApiAccess>,
    ) -> Result<(), AccessError> {
        let keys = self.secret_keys.as_ref().ok_or(AccessError::NoSecretKey)?;
        let access = &access;
        self.transact::<_, AccessError, _, _>("set_integration_access", |mut tx| async move {
            let result = async {
                let record = tx
                    .access()
                    .integration(id)
                    .await?
                    .filter(|r| r.brand_id == brand && r.revoked_at.is_none())
                    .ok_or(AccessError::UnknownIntegration(id))?;
                let access = check(record.kind, access.clone())?;
                let sealed = match &access {
                    Some(access) => Some(self.seal_pos_access(keys, brand, id, access)?),
                    None => None,
                };
                tx.access()
                    .replace_integration_access(brand, id, None, sealed)
                    .await?;
                // New credentials: a poll stopped for refused ones may run again.
                tx.access().resume_poll(brand, id).await?;
                Ok(())
            }
            .await;
            (tx, result)
        })
        .await?;
        self.endpoints.forget(id);
        Ok(())
    }
}
