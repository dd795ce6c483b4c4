//! Opting out from a message: the signed link a promotional message carries (the `{link}`
//! of its opt-out instruction, email's `List-Unsubscribe`), and what opening it does.
//!
//! A link names the brand, the customer and the channel the message went out on, signed
//! with HMAC-SHA256 under a key derived from the server key for this purpose alone; it
//! does not expire, since a refusal must stay possible for as long as the message is
//! read. It opens no page of the customer's data: it shows the brand's name and which
//! channels are still open, and takes the customer off one channel or all of them,
//! recorded as consent data with source `unsubscribe_link`.

use crate::Services;
use crate::error::{ErrorClass, UseCaseError, store_class};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use regulars_domain::{
    BrandId, ChangeSource, Channel, ChannelConsent, ConsentEvent, ConsentState, CustomerChange,
    CustomerId, Purpose,
};
use regulars_ports::{StoreError, Transaction};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use thiserror::Error;
use uuid::Uuid;

/// The purpose the link key is derived for.
const LINK_PURPOSE: &str = "unsubscribe-link";
/// Bytes of a link's MAC: 96 bits is past guessing and keeps an SMS short.
const MAC_BYTES: usize = 12;
/// Bytes of a link token: brand, customer, channel, MAC (60 characters in base64url).
const TOKEN_BYTES: usize = 16 + 16 + 1 + MAC_BYTES;
/// Who a change made from a link is recorded as.
pub const UNSUBSCRIBE_ACTOR: &str = "unsubscribe-link";

/// Every channel a promotional message may go out on.
const CHANNELS: [Channel; 3] = [Channel::Zalo, Channel::Sms, Channel::Email];

/// What an opt-out link names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptOutClaims {
    /// The brand.
    pub brand: BrandId,
    /// The customer.
    pub customer: CustomerId,
    /// The channel the message went out on; `None`: every channel.
    pub channel: Option<Channel>,
}

/// What an opt-out page shows: whose messages, about which channel, and the customer's
/// marketing consent now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptOutView {
    /// The brand's display name.
    pub brand_name: String,
    /// The channel of the link.
    pub channel: Option<Channel>,
    /// The customer's consent now.
    pub consent: ChannelConsent,
}

/// Why an opt-out link did nothing.
#[derive(Debug, Error)]
pub enum OptOutError {
    /// Altered, signed under an unknown key, or naming a customer no longer stored.
    #[error("the opt-out link is not valid")]
    UnknownLink,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for OptOutError {
    fn class(&self) -> ErrorClass {
        match self {
            OptOutError::UnknownLink => ErrorClass::NotFound,
            OptOutError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            OptOutError::UnknownLink => Some("token"),
            OptOutError::Store(_) => None,
        }
    }
}

fn channel_byte(channel: Option<Channel>) -> u8 {
    match channel {
        None => 0,
        Some(Channel::Zalo) => 1,
        Some(Channel::Sms) => 2,
        Some(Channel::Email) => 3,
    }
}

fn byte_channel(byte: u8) -> Option<Option<Channel>> {
    match byte {
        0 => Some(None),
        1 => Some(Some(Channel::Zalo)),
        2 => Some(Some(Channel::Sms)),
        3 => Some(Some(Channel::Email)),
        _ => None,
    }
}

fn mac(key: &[u8; 32], payload: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(payload);
    mac.finalize().into_bytes().into()
}

impl Services {
    /// Sets the public address customers reach the server at (`https://…`, no trailing
    /// `/`): opt-out links are made under it. Without one (or without a server key),
    /// promotional messages carry an opt-out instruction only when it needs no link.
    pub fn with_public_url(mut self, url: Option<String>) -> Self {
        self.public_url = url
            .map(|u| u.trim().trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty());
        self
    }

    /// The token of an opt-out link; `None` without a server key.
    pub fn opt_out_token(
        &self,
        brand: BrandId,
        customer: CustomerId,
        channel: Option<Channel>,
    ) -> Option<String> {
        let key = self.secret_keys.as_ref()?.current().derive(LINK_PURPOSE);
        let mut bytes = Vec::with_capacity(TOKEN_BYTES);
        bytes.extend_from_slice(brand.as_uuid().as_bytes());
        bytes.extend_from_slice(customer.as_uuid().as_bytes());
        bytes.push(channel_byte(channel));
        let tag = mac(&key, &bytes);
        bytes.extend_from_slice(&tag[..MAC_BYTES]);
        Some(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The customer's opt-out link for `channel` (`<public url>/u/<token>`); `None`
    /// without a public address or a server key.
    pub fn opt_out_link(
        &self,
        brand: BrandId,
        customer: CustomerId,
        channel: Option<Channel>,
    ) -> Option<String> {
        let base = self.public_url.as_deref()?;
        let token = self.opt_out_token(brand, customer, channel)?;
        Some(format!("{base}/u/{token}"))
    }

    /// What an authentic opt-out token names (signed under the current server key or a
    /// previous one, so links survive a key rotation).
    pub fn open_opt_out_token(&self, token: &str) -> Option<OptOutClaims> {
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        if bytes.len() != TOKEN_BYTES {
            return None;
        }
        let (payload, tag) = bytes.split_at(TOKEN_BYTES - MAC_BYTES);
        let signed = self.secret_keys.as_ref()?.all().any(|key| {
            let expected = mac(&key.derive(LINK_PURPOSE), payload);
            bool::from(expected[..MAC_BYTES].ct_eq(tag))
        });
        if !signed {
            return None;
        }
        let brand = Uuid::from_slice(payload.get(..16)?).ok()?;
        let customer = Uuid::from_slice(payload.get(16..32)?).ok()?;
        Some(OptOutClaims {
            brand: BrandId::from_uuid(brand),
            customer: CustomerId::from_uuid(customer),
            channel: byte_channel(*payload.get(32)?)?,
        })
    }

    /// What the opt-out page of `token` shows. Read-only.
    pub async fn opt_out_view(&self, token: &str) -> Result<OptOutView, OptOutError> {
        let claims = self
            .open_opt_out_token(token)
            .ok_or(OptOutError::UnknownLink)?;
        self.transact("opt_out_view", |mut tx| async move {
            let result = view(tx.as_mut(), &claims).await;
            (tx, result)
        })
        .await
    }

    /// Takes the customer of `token` off promotional messages on `channel`, or on every
    /// channel when `None`: each marketing purpose not yet withdrawn becomes withdrawn
    /// (also one never asked: the customer refused it outright), recorded with source
    /// `unsubscribe_link`. Opening the same link again changes nothing.
    pub async fn opt_out(
        &self,
        token: &str,
        channel: Option<Channel>,
    ) -> Result<OptOutView, OptOutError> {
        let claims = self
            .open_opt_out_token(token)
            .ok_or(OptOutError::UnknownLink)?;
        let claims = &claims;
        self.transact("opt_out", |mut tx| async move {
            let result = self.withdraw(tx.as_mut(), claims, channel).await;
            (tx, result)
        })
        .await
    }

    async fn withdraw(
        &self,
        tx: &mut dyn Transaction,
        claims: &OptOutClaims,
        channel: Option<Channel>,
    ) -> Result<OptOutView, OptOutError> {
        let Some(mut customer) = tx
            .customers()
            .customer(claims.brand, claims.customer)
            .await?
        else {
            return Err(OptOutError::UnknownLink);
        };
        let channels: Vec<Channel> = CHANNELS
            .into_iter()
            .filter(|ch| channel.is_none_or(|c| c == *ch))
            .collect();
        let by = Withdrawal {
            source: ChangeSource::UnsubscribeLink,
            actor: UNSUBSCRIBE_ACTOR,
            at: self.clock.now(),
        };
        self.withdraw_marketing(tx, &mut customer, &channels, &by)
            .await?;
        view(tx, claims).await
    }
}

/// Who takes a customer off promotional messages, how and when.
pub(crate) struct Withdrawal<'a> {
    /// Where the refusal came from.
    pub source: ChangeSource,
    /// Who it is recorded as.
    pub actor: &'a str,
    /// When.
    pub at: time::OffsetDateTime,
}

impl Services {
    /// Withdraws the customer's marketing consent on `channels` (also where it was never
    /// asked: they refused outright), storing the customer, the change and a consent
    /// event per purpose that changed; `false` when nothing changed.
    pub(crate) async fn withdraw_marketing(
        &self,
        tx: &mut dyn Transaction,
        customer: &mut regulars_domain::Customer,
        channels: &[Channel],
        by: &Withdrawal<'_>,
    ) -> Result<bool, StoreError> {
        let before = customer.consent;
        for ch in channels {
            customer
                .consent
                .set(Purpose::Marketing(*ch), ConsentState::Withdrawn);
        }
        let changes = before.changes(&customer.consent);
        if changes.is_empty() {
            return Ok(false);
        }
        tx.customers().update_customer(customer).await?;
        tx.customers()
            .record_change(&CustomerChange {
                id: self.ids.new_id(),
                brand_id: customer.brand_id,
                customer_id: customer.id,
                at: by.at,
                actor: by.actor.to_owned(),
                source: by.source,
                fields: vec!["consent".to_owned()],
                consent: customer.consent,
            })
            .await?;
        let events: Vec<ConsentEvent> = changes
            .into_iter()
            .map(|(purpose, state)| ConsentEvent {
                brand_id: customer.brand_id,
                customer_id: customer.id,
                purpose,
                state,
                at: by.at,
                source: by.source,
                actor: by.actor.to_owned(),
                notice_version: None,
            })
            .collect();
        tx.customers().record_consent(&events).await?;
        Ok(true)
    }
}

async fn view(tx: &mut dyn Transaction, claims: &OptOutClaims) -> Result<OptOutView, OptOutError> {
    let brand = tx.brands().brand(claims.brand).await?;
    let customer = tx
        .customers()
        .customer(claims.brand, claims.customer)
        .await?;
    match (brand, customer) {
        (Some(brand), Some(customer)) => Ok(OptOutView {
            brand_name: brand.name,
            channel: claims.channel,
            consent: customer.consent,
        }),
        _ => Err(OptOutError::UnknownLink),
    }
}
