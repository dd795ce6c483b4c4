//! Customers, known by their phone number.

use crate::{BrandId, CustomerId, Phone};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// A channel a customer can be messaged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Zalo (Zalo Notification Service template messages by phone, or OA messages).
    Zalo,
    /// SMS (brand-name SMS in Vietnam).
    Sms,
    /// Email.
    Email,
}

/// Per-channel marketing consent. Transactional messages (receipts, balances) do not need
/// it; promotional ones do, and an opt-out always wins.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConsent {
    /// May receive promotional Zalo messages.
    #[serde(default)]
    pub zalo: bool,
    /// May receive promotional SMS.
    #[serde(default)]
    pub sms: bool,
    /// May receive promotional email.
    #[serde(default)]
    pub email: bool,
}

impl ChannelConsent {
    /// Whether promotional messages may go out on `channel`.
    pub fn allows(&self, channel: Channel) -> bool {
        match channel {
            Channel::Zalo => self.zalo,
            Channel::Sms => self.sms,
            Channel::Email => self.email,
        }
    }
}

/// A customer of one brand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// Stable id.
    pub id: CustomerId,
    /// The brand the customer belongs to; the same person at two brands is two customers.
    pub brand_id: BrandId,
    /// The phone number, unique within the brand.
    pub phone: Phone,
    /// Name, when given.
    pub name: Option<String>,
    /// Date of birth (the year may be unknown and stored as any year).
    pub birthday: Option<Date>,
    /// Email address, when given.
    pub email: Option<String>,
    /// Zalo user id when the customer follows the brand's Official Account.
    pub zalo_user_id: Option<String>,
    /// Marketing consent per channel.
    pub consent: ChannelConsent,
    /// When the customer was first seen.
    pub created_at: OffsetDateTime,
}

impl Customer {
    /// True when `today` (the brand's local date) is the customer's birthday. A 29 February
    /// birthday is celebrated on 28 February in common years.
    pub fn is_birthday(&self, today: Date) -> bool {
        let Some(b) = self.birthday else {
            return false;
        };
        if b.month() == today.month() && b.day() == today.day() {
            return true;
        }
        b.month() == time::Month::February
            && b.day() == 29
            && today.month() == time::Month::February
            && today.day() == 28
            && !time::util::is_leap_year(today.year())
    }
}
