//! The outbox message the delivery tests hand the outbox directly: a pending
//! transactional message on one route, each test changing the fields it is about
//! (`OutboxMessage { promotional: true, ..outbox_message(…) }`).

use regulars_domain::BrandId;
use regulars_ports::{OutboxMessage, OutboxStatus, Route};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// A pending transactional message of `brand` on `route`, keyed `key`, due at `due_at`:
/// no customer, campaign, fallback, template or subject.
pub(crate) fn outbox_message(
    brand: BrandId,
    key: &str,
    route: Route,
    body: &str,
    due_at: OffsetDateTime,
) -> OutboxMessage {
    OutboxMessage {
        id: Uuid::now_v7(),
        brand_id: brand,
        campaign_id: None,
        customer_id: None,
        phone: None,
        dedupe_key: key.to_owned(),
        route,
        fallbacks: Vec::new(),
        template: None,
        subject: None,
        body: body.to_owned(),
        data: BTreeMap::new(),
        promotional: false,
        send_window: None,
        sms: Default::default(),
        zns_params: Default::default(),
        opt_out: None,
        bonus_points: None,
        status: OutboxStatus::Pending,
        attempts: 0,
        due_at,
        last_error: None,
        sent_at: None,
        delivered_at: None,
        provider_message_id: None,
        created_at: due_at,
    }
}
