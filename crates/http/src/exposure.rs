//! What each role sees of customers' contact details and voucher codes.
//!
//! A voucher code is a bearer credential: it is shown only where it is redeemed, to a
//! till (`pos`) or an admin looking at that customer. A `viewer` (an analyst, an agency)
//! sees codes masked, phone numbers partly hidden, and no email or Zalo id. Campaign
//! message lists show every body with its code masked, and the recipient partly hidden
//! to anyone but an admin.

use crate::auth::Caller;
use crate::dto::{CustomerDto, ProfileDto};
use regulars_domain::{Phone, partly_hidden_email};
use regulars_loyalty::vouchers::masked_code;
use regulars_ports::{OutboxMessage, Role};

/// Whether the caller sees contact details and codes in full.
fn sees_everything(caller: &Caller) -> bool {
    matches!(caller.0.role, Role::Admin | Role::Pos)
}

/// A phone number partly hidden; text that is not one is hidden entirely.
fn hidden_phone(text: &str) -> String {
    Phone::parse_e164(text).map_or_else(|_| "…".to_owned(), |p| p.partly_hidden())
}

/// The customer as the caller may see them.
pub(crate) fn customer(caller: &Caller, mut dto: CustomerDto) -> CustomerDto {
    if !sees_everything(caller) {
        dto.phone = hidden_phone(&dto.phone);
        dto.email = None;
        dto.zalo_user_id = None;
    }
    dto
}

/// The profile as the caller may see it: for a viewer, the contact details hidden and
/// every voucher code masked.
pub(crate) fn profile(caller: &Caller, mut dto: ProfileDto) -> ProfileDto {
    if !sees_everything(caller) {
        dto.customer = customer(caller, dto.customer);
        for v in &mut dto.vouchers {
            v.code = masked_code(&v.code);
        }
    }
    dto
}

/// A message's text with its voucher code masked, for everyone: a message list is not
/// where a code is redeemed.
pub(crate) fn message_body(message: &OutboxMessage) -> String {
    let mut body = message.body.clone();
    if let Some(code) = message.data.get("code").filter(|c| !c.is_empty()) {
        let canonical: String = code.chars().filter(char::is_ascii_alphanumeric).collect();
        let masked = masked_code(code);
        body = body.replace(code.as_str(), &masked);
        if !canonical.is_empty() {
            body = body.replace(&canonical, &masked);
        }
    }
    body
}

/// A message's recipient as the caller may see it: in full to an admin only.
pub(crate) fn recipient(caller: &Caller, recipient: &str) -> String {
    if caller.0.role == Role::Admin {
        recipient.to_owned()
    } else if recipient.contains('@') {
        partly_hidden_email(recipient)
    } else {
        hidden_phone(recipient)
    }
}
