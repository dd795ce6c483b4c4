//! The notice a low rating sends to its location's manager: an operational email (it
//! is about the shop's work, not an offer to the customer), so it needs no consent and
//! carries no opt-out; it goes through the outbox like every message, once per order.

use crate::Services;
use regulars_domain::sms::SmsOptions;
use regulars_domain::{Channel, Rating, rating_notice_key};
use regulars_ports::{Location, OutboxMessage, OutboxStatus, Route};
use std::collections::BTreeMap;

impl Services {
    /// The email to `email` about `rating` at `location`: stars, when, the comment, and
    /// where on the dashboard to read it. The customer's name and contacts stay on the
    /// dashboard.
    pub(crate) fn rating_notice(
        &self,
        brand_name: &str,
        location: &Location,
        rating: &Rating,
        email: &str,
    ) -> OutboxMessage {
        let now = rating.created_at;
        let stars = rating.stars.value();
        let local = rating
            .created_at
            .to_offset(location.utc_offset.unwrap_or(time::UtcOffset::UTC));
        let when = format!(
            "{:02}/{:02}/{} {:02}:{:02}",
            local.day(),
            u8::from(local.month()),
            local.year(),
            local.hour(),
            local.minute()
        );
        let comment = rating.comment.as_deref().unwrap_or("—");
        let link = self
            .public_url
            .as_deref()
            .map(|base| format!("\n\n{base}/dashboard/ratings?location={}", location.id))
            .unwrap_or_default();
        let body = format!(
            "{brand_name} · {name}\n\
             Đánh giá thấp: {stars}/5 sao lúc {when}.\n\
             Low rating: {stars}/5 stars at {when}.\n\n\
             Nhận xét / Comment:\n{comment}{link}",
            name = location.name,
        );
        OutboxMessage {
            id: self.ids.new_id(),
            brand_id: rating.brand_id,
            campaign_id: None,
            // Not the customer's message: their erasure scrubs it by its key instead.
            customer_id: None,
            phone: None,
            dedupe_key: rating_notice_key(rating.order_id),
            route: Route {
                channel: Channel::Email,
                recipient: email.to_owned(),
            },
            fallbacks: Vec::new(),
            template: None,
            subject: Some(format!(
                "{stars}★ — {} · {brand_name} (đánh giá thấp / low rating)",
                location.name
            )),
            body,
            data: BTreeMap::new(),
            promotional: false,
            send_window: None,
            sms: SmsOptions::default(),
            zns_params: BTreeMap::new(),
            opt_out: None,
            bonus_points: None,
            status: OutboxStatus::Pending,
            attempts: 0,
            due_at: now,
            last_error: None,
            sent_at: None,
            delivered_at: None,
            provider_message_id: None,
            created_at: now,
        }
    }
}
