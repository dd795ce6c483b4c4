//! How an outbox message is kept in its row: the payload as JSON, the contact columns
//! sealed, the channel by name.

use crate::contact::{ContactKeys, Place, open, open_opt, seal, seal_opt};
use crate::convert::{from_json, from_micros, from_micros_opt, to_json, to_micros};
use crate::entity::outbox;
use crate::error::{corrupt, unstorable};
use regulars_domain::sms::SmsOptions;
use regulars_domain::zns::ZnsParamType;
use regulars_domain::{BrandId, CampaignId, Channel, CustomerId};
use regulars_ports::{OutboxMessage, OutboxStatus, Route, SendWindow, StoreError, provider_key};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Longest error text kept.
const MAX_ERROR_BYTES: usize = 1_000;

/// What is sent, stored as JSON.
#[derive(Serialize, Deserialize)]
struct Payload {
    #[serde(default)]
    template: Option<String>,
    #[serde(default)]
    subject: Option<String>,
    body: String,
    #[serde(default)]
    data: BTreeMap<String, String>,
    #[serde(default)]
    window: Option<SendWindow>,
    #[serde(default, skip_serializing_if = "SmsOptions::is_default")]
    sms: SmsOptions,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    zns: BTreeMap<String, ZnsParamType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    opt_out: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bonus_points: Option<regulars_domain::Points>,
}

/// An error text as kept: without phone numbers or emails (see `redact_contacts`), at
/// most [`MAX_ERROR_BYTES`] long.
pub(crate) fn clip(text: &str) -> String {
    let text = &crate::contact::redact_contacts(text);
    if text.len() <= MAX_ERROR_BYTES {
        return text.to_owned();
    }
    let mut end = MAX_ERROR_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

pub(crate) fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Zalo => "zalo",
        Channel::Sms => "sms",
        Channel::Email => "email",
    }
}

pub(crate) fn parse_channel(name: &str) -> Result<Channel, StoreError> {
    match name {
        "zalo" => Ok(Channel::Zalo),
        "sms" => Ok(Channel::Sms),
        "email" => Ok(Channel::Email),
        other => Err(corrupt("outbox channel", other)),
    }
}

/// The payload of a message whose body was destroyed: valid, and empty.
pub(crate) fn empty_payload() -> Result<String, StoreError> {
    to_json(
        "outbox payload",
        &Payload {
            template: None,
            subject: None,
            body: String::new(),
            data: BTreeMap::new(),
            window: None,
            sms: Default::default(),
            zns: Default::default(),
            opt_out: None,
            bonus_points: None,
        },
    )
}

/// Where a message's sealed columns live: its phone, recipient and fallback routes.
pub(crate) fn places(brand: Uuid, id: Uuid) -> [Place; 3] {
    let row: &[&[u8]] = &[id.as_bytes()];
    [
        Place::new("outbox.phone", brand, row),
        Place::new("outbox.recipient", brand, row),
        Place::new("outbox.fallbacks", brand, row),
    ]
}

pub(crate) fn message_to_row(
    keys: Option<&ContactKeys>,
    m: &OutboxMessage,
) -> Result<outbox::Model, StoreError> {
    let [phone, recipient, fallbacks] = places(m.brand_id.as_uuid(), m.id);
    let payload = Payload {
        template: m.template.clone(),
        subject: m.subject.clone(),
        body: m.body.clone(),
        data: m.data.clone(),
        window: m.send_window,
        sms: m.sms,
        zns: m.zns_params.clone(),
        opt_out: m.opt_out.clone(),
        bonus_points: m.bonus_points,
    };
    Ok(outbox::Model {
        brand_id: m.brand_id.as_uuid(),
        id: m.id,
        campaign_id: m.campaign_id.map(|c| c.as_uuid()),
        customer_id: m.customer_id.map(|c| c.as_uuid()),
        phone: seal_opt(keys, &phone, m.phone.as_deref()),
        dedupe_key: m.dedupe_key.clone(),
        channel: channel_name(m.route.channel).to_owned(),
        recipient: seal(keys, &recipient, &m.route.recipient),
        fallbacks: seal(
            keys,
            &fallbacks,
            &to_json("outbox fallbacks", &m.fallbacks)?,
        ),
        payload: to_json("outbox payload", &payload)?,
        promotional: m.promotional,
        status: m.status.as_str().to_owned(),
        attempts: i32::try_from(m.attempts).map_err(|e| unstorable("outbox attempts", e))?,
        due_at: to_micros(m.due_at),
        last_error: m.last_error.as_deref().map(clip),
        sent_at: m.sent_at.map(to_micros),
        delivered_at: m.delivered_at.map(to_micros),
        provider_message_id: m.provider_message_id.clone(),
        provider_key: Some(provider_key(&m.dedupe_key)),
        created_at: to_micros(m.created_at),
    })
}

pub(crate) fn message_from_row(
    keys: Option<&ContactKeys>,
    row: outbox::Model,
) -> Result<OutboxMessage, StoreError> {
    let [phone, recipient, fallbacks] = places(row.brand_id, row.id);
    let payload: Payload = from_json("outbox payload", &row.payload)?;
    let fallbacks: Vec<Route> =
        from_json("outbox fallbacks", &open(keys, &fallbacks, &row.fallbacks)?)?;
    Ok(OutboxMessage {
        id: row.id,
        brand_id: BrandId::from_uuid(row.brand_id),
        campaign_id: row.campaign_id.map(CampaignId::from_uuid),
        customer_id: row.customer_id.map(CustomerId::from_uuid),
        phone: open_opt(keys, &phone, row.phone.as_deref())?,
        dedupe_key: row.dedupe_key,
        route: Route {
            channel: parse_channel(&row.channel)?,
            recipient: open(keys, &recipient, &row.recipient)?,
        },
        fallbacks,
        template: payload.template,
        subject: payload.subject,
        body: payload.body,
        data: payload.data,
        promotional: row.promotional,
        send_window: payload.window,
        sms: payload.sms,
        zns_params: payload.zns,
        opt_out: payload.opt_out,
        bonus_points: payload.bonus_points,
        status: OutboxStatus::parse(&row.status)
            .ok_or_else(|| corrupt("outbox status", &row.status))?,
        attempts: u32::try_from(row.attempts).map_err(|e| corrupt("outbox attempts", e))?,
        due_at: from_micros(row.due_at)?,
        last_error: row.last_error,
        sent_at: from_micros_opt(row.sent_at)?,
        delivered_at: from_micros_opt(row.delivered_at)?,
        provider_message_id: row.provider_message_id,
        created_at: from_micros(row.created_at)?,
    })
}
