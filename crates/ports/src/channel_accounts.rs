//! A brand's own channel accounts: the Zalo OA, SMS brandname account and SMTP sender a
//! brand sends through instead of the deployment's default (`[senders]`).
//!
//! The accounts hold secrets (app secret, tokens, API keys, passwords): storage keeps
//! them sealed, and nothing here prints them (`Debug` names the provider only).

use crate::{MessageSender, StoreError};
use async_trait::async_trait;
use regulars_domain::{BrandId, Channel};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use time::OffsetDateTime;

/// A brand's Zalo Official Account (ZNS): its app, OA and the token pair the OA admin
/// granted. The stored token row (`oauth_tokens`) is keyed by the brand and `app_id`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZaloAccount {
    /// The Zalo app id (digits).
    pub app_id: String,
    /// The app's secret key (the OAuth refresh is signed with it).
    pub secret_key: String,
    /// The Official Account id (digits).
    pub oa_id: String,
    /// The access token of the initial grant.
    pub access_token: String,
    /// The refresh token of the initial grant (single use; rotated on each refresh).
    pub refresh_token: String,
    /// Our template name → this OA's ZNS template id (a name not listed is sent as the
    /// id itself).
    #[serde(default)]
    pub templates: BTreeMap<String, String>,
}

/// A brand's eSMS brandname account (customer-care SMS).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EsmsAccount {
    /// eSMS `ApiKey`.
    pub api_key: String,
    /// eSMS `SecretKey`.
    pub secret_key: String,
    /// The registered brandname.
    pub brandname: String,
    /// eSMS `SmsType` (`"2"`, customer care).
    pub sms_type: String,
}

/// A brand's Twilio account.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwilioAccount {
    /// Account SID (`AC…`).
    pub account_sid: String,
    /// Auth token.
    pub auth_token: String,
    /// Alphanumeric sender ID, number, or messaging service SID (`MG…`).
    pub from: String,
}

/// A brand's SMTP submission account.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpAccount {
    /// Server host name.
    pub host: String,
    /// Port; `None`: the TLS mode's default (25, 587, 465).
    pub port: Option<u16>,
    /// `none`, `starttls` or `implicit`.
    pub tls: String,
    /// Login name, if the server wants one.
    pub username: Option<String>,
    /// Password of the login.
    pub password: Option<String>,
    /// The `From` address.
    pub from_address: String,
    /// The `From` display name.
    pub from_name: Option<String>,
}

/// One of a brand's own channel accounts.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "provider", rename_all = "snake_case")]
pub enum ChannelAccount {
    /// Zalo ZNS (channel `zalo`).
    Zalo(ZaloAccount),
    /// eSMS (channel `sms`).
    Esms(EsmsAccount),
    /// Twilio (channel `sms`).
    Twilio(TwilioAccount),
    /// SMTP (channel `email`).
    Smtp(SmtpAccount),
}

impl ChannelAccount {
    /// The channel it sends on.
    pub fn channel(&self) -> Channel {
        match self {
            ChannelAccount::Zalo(_) => Channel::Zalo,
            ChannelAccount::Esms(_) | ChannelAccount::Twilio(_) => Channel::Sms,
            ChannelAccount::Smtp(_) => Channel::Email,
        }
    }

    /// The provider's name: `zalo`, `esms`, `twilio` or `smtp`.
    pub fn provider(&self) -> &'static str {
        match self {
            ChannelAccount::Zalo(_) => "zalo",
            ChannelAccount::Esms(_) => "esms",
            ChannelAccount::Twilio(_) => "twilio",
            ChannelAccount::Smtp(_) => "smtp",
        }
    }

    /// The secret fields by name, with their values when set: what answers show only
    /// as set or not, with a fingerprint.
    pub fn secrets(&self) -> Vec<(&'static str, Option<&str>)> {
        match self {
            ChannelAccount::Zalo(z) => vec![
                ("secret_key", Some(z.secret_key.as_str())),
                ("access_token", Some(z.access_token.as_str())),
                ("refresh_token", Some(z.refresh_token.as_str())),
            ],
            ChannelAccount::Esms(e) => vec![
                ("api_key", Some(e.api_key.as_str())),
                ("secret_key", Some(e.secret_key.as_str())),
            ],
            ChannelAccount::Twilio(t) => vec![("auth_token", Some(t.auth_token.as_str()))],
            ChannelAccount::Smtp(s) => vec![("password", s.password.as_deref())],
        }
    }
}

impl fmt::Debug for ChannelAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChannelAccount({}, ..)", self.provider())
    }
}

/// A stored channel account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChannelAccount {
    /// The brand it belongs to.
    pub brand_id: BrandId,
    /// The account.
    pub account: ChannelAccount,
    /// Moves forward with every change: senders built from an older version are rebuilt.
    pub version: i64,
    /// When it was last written.
    pub updated_at: OffsetDateTime,
}

/// Where brands' channel accounts are kept (sealed). Every call names the brand.
#[async_trait]
pub trait ChannelAccountStore: Send + Sync {
    /// The brand's accounts, one per channel at most.
    async fn channel_accounts(
        &self,
        brand: BrandId,
    ) -> Result<Vec<StoredChannelAccount>, StoreError>;

    /// Stores `account` as the brand's account for its channel (replacing any), with
    /// the next version.
    async fn put_channel_account(
        &self,
        brand: BrandId,
        account: &ChannelAccount,
        now: OffsetDateTime,
    ) -> Result<StoredChannelAccount, StoreError>;

    /// Removes the brand's account for `channel`; `false` when there was none.
    async fn delete_channel_account(
        &self,
        brand: BrandId,
        channel: Channel,
    ) -> Result<bool, StoreError>;
}

/// Builds a sender over a brand's own account.
pub trait ChannelSenderFactory: Send + Sync {
    /// A sender for `account`, owned by `brand`; the reason when the account cannot be
    /// used (the text names the field, never a secret).
    fn sender(
        &self,
        brand: BrandId,
        account: &ChannelAccount,
    ) -> Result<Arc<dyn MessageSender>, String>;
}
