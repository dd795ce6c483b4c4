//! What tracking does to a message as it goes out: its links become signed redirect
//! links, and an email may get an open pixel.

use super::token;
use crate::Services;
use regulars_domain::{BrandId, Channel, EngagementSettings, rewrite_links};
use regulars_ports::{OutboxMessage, StoreError, Transaction};
use std::collections::HashMap;

/// What each brand of a delivery round tracks.
pub(crate) type Tracking = HashMap<BrandId, EngagementSettings>;

/// Reads what the brands of `messages` track (a read per brand of the round; the
/// defaults for a brand that never chose).
pub(crate) async fn tracking_of(
    tx: &mut dyn Transaction,
    messages: &[OutboxMessage],
) -> Result<Tracking, StoreError> {
    let mut out = Tracking::new();
    for m in messages {
        if m.customer_id.is_none() || out.contains_key(&m.brand_id) {
            continue;
        }
        let settings = tx
            .engagement()
            .engagement_settings(m.brand_id)
            .await?
            .unwrap_or_default();
        out.insert(m.brand_id, settings);
    }
    Ok(out)
}

impl Services {
    /// The click link of link `link` of `message`: `<public url>/l/<token>`; `None`
    /// without a public address or a server key.
    pub fn click_link(&self, brand: BrandId, message: uuid::Uuid, link: u8) -> Option<String> {
        let base = self.public_url.as_deref()?;
        let key = self
            .secret_keys
            .as_ref()?
            .current()
            .derive(token::CLICK_PURPOSE);
        Some(format!(
            "{base}/l/{}",
            token::sign(&key, brand, message, link)
        ))
    }

    /// The open pixel of `message`: `<public url>/o/<token>.gif`; `None` without a
    /// public address or a server key.
    pub fn open_pixel(&self, brand: BrandId, message: uuid::Uuid) -> Option<String> {
        let base = self.public_url.as_deref()?;
        let key = self
            .secret_keys
            .as_ref()?
            .current()
            .derive(token::OPEN_PURPOSE);
        Some(format!(
            "{base}/o/{}.gif",
            token::sign(&key, brand, message, 0)
        ))
    }

    /// `message` as it goes out under its brand's `tracking`: each link of a message to
    /// a customer replaced by its click link (the stored message keeps the links as
    /// written: that is what a click is checked against). Messages to no customer (a
    /// manager's notice) and brands that turned tracking off go as written.
    pub(crate) fn tracked(&self, tracking: &Tracking, message: &OutboxMessage) -> OutboxMessage {
        let mut out = message.clone();
        let on = tracking
            .get(&message.brand_id)
            .is_some_and(|s| s.track_links);
        if on && message.customer_id.is_some() {
            out.body = rewrite_links(&message.body, |i, _| {
                self.click_link(message.brand_id, message.id, i)
            });
        }
        out
    }

    /// The open pixel an email carries: only to a customer whose consent to marketing
    /// email is `granted` (`consented`), from a brand that turned opens on.
    pub(crate) fn pixel_for(
        &self,
        tracking: &Tracking,
        message: &OutboxMessage,
        consented: bool,
    ) -> Option<String> {
        let on = tracking
            .get(&message.brand_id)
            .is_some_and(|s| s.track_opens);
        (on && consented
            && message.route.channel == Channel::Email
            && message.customer_id.is_some())
        .then(|| self.open_pixel(message.brand_id, message.id))
        .flatten()
    }
}
