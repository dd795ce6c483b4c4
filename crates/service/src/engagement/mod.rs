//! Engagement: what customers do with the messages they get. Links in outgoing messages
//! go through a signed redirect (`/l/{token}`, [`token`]) that logs the click and sends
//! the customer on to the link the message contained, never anywhere else; an HTML
//! email to a customer who consented to marketing email may carry an open pixel
//! (`/o/{token}.gif`) when the brand turned opens on. Clicks and opens feed the
//! send-time model at the scoring run ([`EngagementKind::weight`]) and a campaign's
//! click and open rates ([`report`]). See `docs/engagement.md`.

pub(crate) mod learn;
mod report;
pub(crate) mod send;
pub(crate) mod token;

pub use report::CampaignEngagement;
pub use token::TOKEN_CHARS;

use crate::Services;
use crate::account::load_brand;
use crate::error::{ErrorClass, UseCaseError, store_class};
use crate::manage::ManageError;
use regulars_domain::{
    BrandId, CLICK_COUNT_WINDOW, Engagement, EngagementKind, EngagementSettings, link_at,
};
use regulars_ports::{LinkedMessage, StoreError, Transaction};
use thiserror::Error;

/// Why a link or pixel token leads nowhere.
#[derive(Debug, Error)]
pub enum LinkError {
    /// Not a token, altered, signed for another brand or under an unknown key, or
    /// naming a message (or link) no longer stored.
    #[error("the link is not valid")]
    UnknownLink,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for LinkError {
    fn class(&self) -> ErrorClass {
        match self {
            LinkError::UnknownLink => ErrorClass::NotFound,
            LinkError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            LinkError::UnknownLink => Some("token"),
            LinkError::Store(_) => None,
        }
    }
}

/// The message `token` names, if the token is authentic for it under `purpose`.
async fn authentic(
    services: &Services,
    tx: &mut dyn Transaction,
    token: &str,
    purpose: &str,
) -> Result<(LinkedMessage, u8), LinkError> {
    let keys = services
        .secret_keys
        .as_ref()
        .ok_or(LinkError::UnknownLink)?;
    let read = token::read(token).ok_or(LinkError::UnknownLink)?;
    let message = tx
        .engagement()
        .linked_message(read.message)
        .await?
        .ok_or(LinkError::UnknownLink)?;
    if !read.signed_for(keys.all().map(|k| k.derive(purpose)), message.brand_id) {
        return Err(LinkError::UnknownLink);
    }
    Ok((message, read.link))
}

/// Logs a click or open of `message`, counted unless one of its kind was counted in
/// the last [`CLICK_COUNT_WINDOW`].
async fn log(
    services: &Services,
    tx: &mut dyn Transaction,
    message: &LinkedMessage,
    kind: EngagementKind,
    link: Option<u8>,
) -> Result<(), StoreError> {
    let now = services.clock.now();
    let recent = tx
        .engagement()
        .counted_since(message.brand_id, message.id, kind, now - CLICK_COUNT_WINDOW)
        .await?;
    tx.engagement()
        .insert_engagement(&Engagement {
            brand_id: message.brand_id,
            id: services.ids.new_id(),
            message_id: message.id,
            customer_id: message.customer_id,
            campaign_id: message.campaign_id,
            channel: message.channel,
            kind,
            link,
            at: now,
            counted: !recent,
        })
        .await
}

impl Services {
    /// Follows the click link `token`: logs the click (time, message, customer,
    /// campaign, channel) and gives the link the message contained at the token's
    /// index. A token that is not authentic for its message's brand, or names no stored
    /// message or link, is [`LinkError::UnknownLink`] and logs nothing.
    pub async fn follow_link(&self, token: &str) -> Result<String, LinkError> {
        if token::read(token).is_none() {
            return Err(LinkError::UnknownLink);
        }
        self.transact("follow_link", |mut tx| async move {
            let result = async {
                let (message, link) =
                    authentic(self, tx.as_mut(), token, token::CLICK_PURPOSE).await?;
                let target = link_at(&message.body, link)
                    .ok_or(LinkError::UnknownLink)?
                    .to_owned();
                log(
                    self,
                    tx.as_mut(),
                    &message,
                    EngagementKind::Click,
                    Some(link),
                )
                .await?;
                Ok(target)
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// Logs the open of the email of the pixel `token`; an invalid token logs nothing
    /// (the pixel is served either way).
    pub async fn record_open(&self, token: &str) -> Result<(), LinkError> {
        if token::read(token).is_none() {
            return Err(LinkError::UnknownLink);
        }
        self.transact("record_open", |mut tx| async move {
            let result = async {
                let (message, _) = authentic(self, tx.as_mut(), token, token::OPEN_PURPOSE).await?;
                log(self, tx.as_mut(), &message, EngagementKind::Open, None).await?;
                Ok(())
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// What the brand tracks of its messages (the defaults when it never chose).
    pub async fn engagement_settings(
        &self,
        brand: BrandId,
    ) -> Result<EngagementSettings, ManageError> {
        self.manage("engagement_settings", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            Ok(tx
                .engagement()
                .engagement_settings(brand)
                .await?
                .unwrap_or_default())
        })
        .await
    }

    /// Sets what the brand tracks of its messages (admin).
    pub async fn set_engagement_settings(
        &self,
        brand: BrandId,
        settings: EngagementSettings,
    ) -> Result<EngagementSettings, ManageError> {
        self.manage("set_engagement_settings", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            tx.engagement()
                .set_engagement_settings(brand, settings, self.clock.now())
                .await?;
            Ok(settings)
        })
        .await
    }
}
