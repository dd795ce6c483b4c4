//! POS integrations: made with a webhook secret (drawn or the brand's own), kept
//! sealed, listed, revoked, and opened when a webhook arrives.

use super::{AccessError, AuthError, SECRET_BYTES, WEBHOOK_SECRET_LEN, base32, clean_label};
use crate::Services;
use crate::secrets::{NONCE_BYTES, open, seal};
use regulars_domain::{BrandId, IntegrationId};
use regulars_ports::{Brand, IntegrationKind, IntegrationRecord, PosApiAccess};
use serde::Serialize;
use std::fmt;
use time::OffsetDateTime;

/// An integration as shown to people: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntegrationInfo {
    /// Its id, part of its webhook URL.
    pub id: IntegrationId,
    /// Its dialect.
    pub kind: IntegrationKind,
    /// A note for people.
    pub label: Option<String>,
    /// Whether it holds credentials for the POS's own API (never shown).
    pub api_access: bool,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it was revoked.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<&IntegrationRecord> for IntegrationInfo {
    fn from(record: &IntegrationRecord) -> Self {
        IntegrationInfo {
            id: record.id,
            kind: record.kind,
            label: record.label.clone(),
            api_access: record.sealed_access.is_some(),
            created_at: record.created_at,
            revoked_at: record.revoked_at,
        }
    }
}

/// An integration just made, with its webhook secret (shown once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedIntegration {
    /// Its description.
    pub info: IntegrationInfo,
    /// The secret the POS signs with.
    pub secret: String,
}

/// What a webhook is checked against: its integration and the secret in clear.
#[derive(Clone, PartialEq)]
pub struct WebhookEndpoint {
    /// The brand the webhook's orders belong to.
    pub brand: BrandId,
    /// The integration.
    pub integration: IntegrationId,
    /// Its dialect.
    pub kind: IntegrationKind,
    /// The secret the POS signs with.
    pub secret: Vec<u8>,
    /// The credentials of the POS's own API, when the integration has them.
    pub access: Option<PosApiAccess>,
    /// The brand's settings (currency and calling code read the payloads).
    pub settings: Brand,
}

impl fmt::Debug for WebhookEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookEndpoint")
            .field("brand", &self.brand)
            .field("integration", &self.integration)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl Services {
    /// Makes a POS integration. `secret` is the webhook secret when the POS chose it
    /// (KiotViet asks the brand for one); otherwise one is drawn. Either way it is
    /// returned once and stored sealed.
    pub async fn create_integration(
        &self,
        brand: BrandId,
        kind: IntegrationKind,
        label: Option<String>,
        secret: Option<String>,
        access: Option<PosApiAccess>,
    ) -> Result<CreatedIntegration, AccessError> {
        let key = self.secret_keys.as_ref().ok_or(AccessError::NoSecretKey)?;
        let label = clean_label(label)?;
        let access = crate::pos_access::check(kind, access)?;
        let secret = match secret {
            Some(secret) => {
                let ok = WEBHOOK_SECRET_LEN.contains(&secret.len())
                    && secret.bytes().all(|b| b.is_ascii_graphic());
                if !ok {
                    return Err(AccessError::InvalidSecret);
                }
                secret
            }
            None => {
                let mut bytes = [0u8; SECRET_BYTES];
                self.ids.fill_bytes(&mut bytes);
                format!("whsec_{}", base32(&bytes))
            }
        };
        let (label, secret, access) = (&label, &secret, &access);
        self.transact("create_integration", |mut tx| async move {
            let result = async {
                crate::account::load_brand::<AccessError>(tx.as_mut(), brand).await?;
                let id = IntegrationId::from_uuid(self.ids.new_id());
                let mut nonce = [0u8; NONCE_BYTES];
                self.ids.fill_bytes(&mut nonce);
                let sealed = seal(key, brand, id, &nonce, secret.as_bytes())
                    .ok_or(AccessError::NoSecretKey)?;
                let sealed_access = match access {
                    Some(access) => Some(self.seal_pos_access(key, brand, id, access)?),
                    None => None,
                };
                let record = IntegrationRecord {
                    id,
                    brand_id: brand,
                    kind,
                    label: label.clone(),
                    sealed_secret: sealed,
                    sealed_access,
                    created_at: self.clock.now(),
                    revoked_at: None,
                };
                tx.access().insert_integration(&record).await?;
                Ok(CreatedIntegration {
                    info: IntegrationInfo::from(&record),
                    secret: secret.clone(),
                })
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// The brand's integrations, revoked ones included.
    pub async fn integrations(&self, brand: BrandId) -> Result<Vec<IntegrationInfo>, AccessError> {
        self.transact("integrations", |mut tx| async move {
            let result = async {
                crate::account::load_brand::<AccessError>(tx.as_mut(), brand).await?;
                let all = tx.access().integrations(brand).await?;
                Ok(all.iter().map(IntegrationInfo::from).collect())
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// Revokes an integration: its webhooks are refused from now on.
    pub async fn revoke_integration(
        &self,
        brand: BrandId,
        id: IntegrationId,
    ) -> Result<(), AccessError> {
        self.transact::<_, AccessError, _, _>("revoke_integration", |mut tx| async move {
            let result = match tx
                .access()
                .revoke_integration(brand, id, self.clock.now())
                .await
            {
                Ok(true) => Ok(()),
                Ok(false) => Err(AccessError::UnknownIntegration(id)),
                Err(e) => Err(e.into()),
            };
            (tx, result)
        })
        .await?;
        self.endpoints.forget(id);
        Ok(())
    }

    /// The active integration a webhook is addressed to, with its secret opened: the
    /// copy opened within the last [`ENDPOINT_TTL`](super::endpoints::ENDPOINT_TTL), or read now
    /// (see [`endpoints`](super::endpoints) for when a change is seen).
    pub async fn webhook_endpoint(&self, id: IntegrationId) -> Result<WebhookEndpoint, AuthError> {
        if let Some(endpoint) = self.endpoints.get(id) {
            return Ok(endpoint);
        }
        let start = self.endpoints.read_start();
        let endpoint = self.read_webhook_endpoint(id).await?;
        self.endpoints.put(&start, &endpoint);
        Ok(endpoint)
    }

    async fn read_webhook_endpoint(&self, id: IntegrationId) -> Result<WebhookEndpoint, AuthError> {
        let key = self.secret_keys.as_ref().ok_or(AuthError::NoSecretKey)?;
        self.transact("webhook_endpoint", |mut tx| async move {
            let result = async {
                let record = tx.access().integration(id).await?;
                let Some(record) = record.filter(|r| r.revoked_at.is_none()) else {
                    return Err(AuthError::UnknownIntegration);
                };
                let secret = open(key, record.brand_id, record.id, &record.sealed_secret)
                    .ok_or(AuthError::UnknownIntegration)?;
                let access = crate::pos_access::open_record(key, &record)?;
                let settings = tx
                    .brands()
                    .brand(record.brand_id)
                    .await?
                    .ok_or(AuthError::UnknownIntegration)?;
                Ok(WebhookEndpoint {
                    brand: record.brand_id,
                    integration: record.id,
                    kind: record.kind,
                    secret,
                    access,
                    settings,
                })
            }
            .await;
            (tx, result)
        })
        .await
    }
}
