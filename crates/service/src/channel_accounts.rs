//! A brand's own channel accounts (Zalo OA, SMS brandname account, SMTP sender): read,
//! set and removed by the brand's admins. Secrets are write-only: a view says whether
//! each is set and gives a fingerprint, never the value. A change takes effect with the
//! next delivery round (the senders are rebuilt when the account's version moves).

use crate::Services;
use crate::error::{ErrorClass, UseCaseError};
use regulars_domain::{BrandId, Channel};
use regulars_ports::{ChannelAccount, StoreError, StoredChannelAccount};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use thiserror::Error;
use time::OffsetDateTime;

/// Why a channel account use case failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ChannelAccountError {
    /// A field is missing, malformed or does not belong to the provider.
    #[error("{field}: {message}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The brand has no account for this channel.
    #[error("the brand has no own {0:?} account")]
    NotFound(Channel),
    /// This server keeps no channel accounts (no storage for them was wired).
    #[error("channel accounts are not available on this server")]
    Unavailable,
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ChannelAccountError {
    fn from(error: StoreError) -> Self {
        ChannelAccountError::Store(error)
    }
}

impl UseCaseError for ChannelAccountError {
    fn class(&self) -> ErrorClass {
        match self {
            ChannelAccountError::Invalid { .. } => ErrorClass::Invalid,
            ChannelAccountError::NotFound(_) => ErrorClass::NotFound,
            ChannelAccountError::Unavailable => ErrorClass::Unavailable,
            ChannelAccountError::Store(e) => crate::error::store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            ChannelAccountError::Invalid { field, .. } => Some(field),
            ChannelAccountError::NotFound(_) => Some("channel"),
            _ => None,
        }
    }
}

pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> ChannelAccountError {
    ChannelAccountError::Invalid {
        field,
        message: message.into(),
    }
}

/// What an admin sends to set an account: every field optional; a field left out keeps
/// its stored value when the account stays with the same provider (so secrets need not
/// be sent again), and an optional field sent empty is cleared.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelAccountPatch {
    /// `zalo`, `esms`, `twilio` or `smtp`; left out: the stored one, else the channel's
    /// only (or first) provider.
    pub provider: Option<String>,
    /// Zalo app id.
    pub app_id: Option<String>,
    /// Zalo app secret key, or eSMS `SecretKey`.
    pub secret_key: Option<String>,
    /// Zalo OA id.
    pub oa_id: Option<String>,
    /// Zalo access token.
    pub access_token: Option<String>,
    /// Zalo refresh token.
    pub refresh_token: Option<String>,
    /// Zalo template name → ZNS template id.
    pub templates: Option<BTreeMap<String, String>>,
    /// eSMS `ApiKey`.
    pub api_key: Option<String>,
    /// eSMS brandname.
    pub brandname: Option<String>,
    /// eSMS `SmsType`.
    pub sms_type: Option<String>,
    /// Twilio account SID.
    pub account_sid: Option<String>,
    /// Twilio auth token.
    pub auth_token: Option<String>,
    /// Twilio sender.
    pub from: Option<String>,
    /// SMTP host.
    pub host: Option<String>,
    /// SMTP port.
    pub port: Option<u16>,
    /// SMTP TLS mode.
    pub tls: Option<String>,
    /// SMTP login.
    pub username: Option<String>,
    /// SMTP password.
    pub password: Option<String>,
    /// SMTP `From` address.
    pub from_address: Option<String>,
    /// SMTP `From` name.
    pub from_name: Option<String>,
}

/// Whether a secret is set, and its fingerprint (the first 8 hexadecimal digits of its
/// SHA-256), so an admin can tell which value is stored without seeing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretState {
    /// Whether a value is stored.
    pub set: bool,
    /// `sha256:` and 8 hexadecimal digits; absent when not set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

/// An account as an admin sees it: its settings, and its secrets only as set or not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelAccountView {
    /// `zalo`, `sms` or `email`.
    pub channel: &'static str,
    /// `zalo`, `esms`, `twilio` or `smtp`.
    pub provider: &'static str,
    /// Moves forward with every change.
    pub version: i64,
    /// When it was last set.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The settings that are not secret.
    pub settings: BTreeMap<&'static str, serde_json::Value>,
    /// The secrets, by field: set or not, with a fingerprint.
    pub secrets: BTreeMap<&'static str, SecretState>,
}

/// The channel's name in paths and views.
pub fn channel_key(channel: Channel) -> &'static str {
    match channel {
        Channel::Zalo => "zalo",
        Channel::Sms => "sms",
        Channel::Email => "email",
    }
}

/// Reads a channel's name as paths give it.
///
/// # Errors
///
/// [`ChannelAccountError::Invalid`] naming `channel`.
pub fn parse_channel(name: &str) -> Result<Channel, ChannelAccountError> {
    match name {
        "zalo" => Ok(Channel::Zalo),
        "sms" => Ok(Channel::Sms),
        "email" => Ok(Channel::Email),
        _ => Err(invalid("channel", "must be zalo, sms or email")),
    }
}

fn fingerprint(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

impl ChannelAccountView {
    pub(crate) fn of(stored: &StoredChannelAccount) -> ChannelAccountView {
        use serde_json::Value;
        let account = &stored.account;
        let s = |v: &str| Value::String(v.to_owned());
        let o = |v: &Option<String>| v.as_deref().map_or(Value::Null, s);
        let settings: BTreeMap<&'static str, Value> = match account {
            ChannelAccount::Zalo(z) => BTreeMap::from([
                ("app_id", s(&z.app_id)),
                ("oa_id", s(&z.oa_id)),
                ("templates", serde_json::json!(z.templates)),
            ]),
            ChannelAccount::Esms(e) => {
                BTreeMap::from([("brandname", s(&e.brandname)), ("sms_type", s(&e.sms_type))])
            }
            ChannelAccount::Twilio(t) => {
                BTreeMap::from([("account_sid", s(&t.account_sid)), ("from", s(&t.from))])
            }
            ChannelAccount::Smtp(m) => BTreeMap::from([
                ("host", s(&m.host)),
                ("port", m.port.map_or(Value::Null, Value::from)),
                ("tls", s(&m.tls)),
                ("username", o(&m.username)),
                ("from_address", s(&m.from_address)),
                ("from_name", o(&m.from_name)),
            ]),
        };
        let secrets = account
            .secrets()
            .into_iter()
            .map(|(field, value)| {
                let value = value.filter(|v| !v.is_empty());
                (
                    field,
                    SecretState {
                        set: value.is_some(),
                        fingerprint: value.map(fingerprint),
                    },
                )
            })
            .collect();
        ChannelAccountView {
            channel: channel_key(account.channel()),
            provider: account.provider(),
            version: stored.version,
            updated_at: stored.updated_at,
            settings,
            secrets,
        }
    }
}

impl Services {
    fn account_store(
        &self,
    ) -> Result<&std::sync::Arc<dyn regulars_ports::ChannelAccountStore>, ChannelAccountError> {
        self.channel_accounts
            .as_ref()
            .ok_or(ChannelAccountError::Unavailable)
    }

    /// The brand's own channel accounts, secrets shown only as set or not.
    pub async fn channel_accounts(
        &self,
        brand: BrandId,
    ) -> Result<Vec<ChannelAccountView>, ChannelAccountError> {
        let stored = self.account_store()?.channel_accounts(brand).await?;
        Ok(stored.iter().map(ChannelAccountView::of).collect())
    }

    /// The brand's own account for `channel`.
    pub async fn channel_account(
        &self,
        brand: BrandId,
        channel: Channel,
    ) -> Result<ChannelAccountView, ChannelAccountError> {
        self.account_store()?
            .channel_accounts(brand)
            .await?
            .iter()
            .find(|a| a.account.channel() == channel)
            .map(ChannelAccountView::of)
            .ok_or(ChannelAccountError::NotFound(channel))
    }

    /// Sets the brand's own account for `channel` from `patch` (fields left out keep
    /// their stored values while the provider stays the same). Every field is checked;
    /// a problem is [`ChannelAccountError::Invalid`] naming the field.
    pub async fn set_channel_account(
        &self,
        brand: BrandId,
        channel: Channel,
        patch: ChannelAccountPatch,
    ) -> Result<ChannelAccountView, ChannelAccountError> {
        let store = self.account_store()?;
        let current = store
            .channel_accounts(brand)
            .await?
            .into_iter()
            .find(|a| a.account.channel() == channel)
            .map(|a| a.account);
        let account = crate::channel_rules::merge(channel, current.as_ref(), patch)?;
        let stored = store
            .put_channel_account(brand, &account, self.clock.now())
            .await?;
        tracing::info!(%brand, channel = channel_key(channel), provider = account.provider(),
            version = stored.version, "channel account set");
        Ok(ChannelAccountView::of(&stored))
    }

    /// Removes the brand's own account for `channel`: its messages go through the
    /// deployment's default again.
    pub async fn delete_channel_account(
        &self,
        brand: BrandId,
        channel: Channel,
    ) -> Result<(), ChannelAccountError> {
        if self
            .account_store()?
            .delete_channel_account(brand, channel)
            .await?
        {
            tracing::info!(%brand, channel = channel_key(channel), "channel account removed");
            Ok(())
        } else {
            Err(ChannelAccountError::NotFound(channel))
        }
    }
}

impl std::fmt::Debug for ChannelAccountPatch {
    /// Never the values: they hold secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelAccountPatch")
            .finish_non_exhaustive()
    }
}
