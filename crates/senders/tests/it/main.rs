//! Integration tests of the senders against the test kit's provider stand-ins.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod callbacks;
mod config;
mod email;
mod esms;
mod file;
mod twilio;
mod zalo;
mod zns_params;

use regulars_domain::{BrandId, Channel};
use regulars_ports::OutgoingMessage;
use std::collections::BTreeMap;

/// A message on `channel` to `recipient` with the given dedupe key.
pub fn message(channel: Channel, recipient: &str, key: &str) -> OutgoingMessage {
    OutgoingMessage {
        brand_id: BrandId::from_bytes([7; 16]),
        channel,
        recipient: recipient.to_owned(),
        template: Some("points_earned".to_owned()),
        subject: Some("Điểm thưởng của bạn".to_owned()),
        body: "Bạn vừa nhận 120 điểm tại Cà Phê Sữa Đá. Cảm ơn bạn!".to_owned(),
        data: BTreeMap::from([
            ("customer_name".to_owned(), "Nguyễn Văn An".to_owned()),
            ("points".to_owned(), "120".to_owned()),
        ]),
        dedupe_key: key.to_owned(),
        promotional: false,
        unsubscribe_url: None,
        open_pixel: None,
    }
}
