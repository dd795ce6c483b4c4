//! Customers, known by their phone number.

use crate::{BrandId, ChannelConsent, CustomerId, Phone};
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
    /// Consent per purpose: the programme, marketing per channel, profiling.
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

/// Where a change to a customer's profile or consent came from: kept with every change
/// so consent can be shown to have been given, and by whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeSource {
    /// The JSON API with an admin key.
    Api,
    /// A till (a `pos` key): the customer registering at the counter.
    Till,
    /// A bulk import of existing customers.
    Import,
    /// The brand's dashboard.
    Dashboard,
    /// The customer's own sign-up page.
    Signup,
    /// A point-of-sale system's own customer records.
    Pos,
    /// The customer's unsubscribe link (`/u/…`).
    UnsubscribeLink,
    /// A keyword the customer sent to a provider (an SMS "TU CHOI", say).
    ProviderKeyword,
    /// An administrator on the customer's behalf.
    Admin,
    /// Consent recorded before consent was kept per purpose, carried over as it was.
    Legacy,
    /// The customer's own request from their card page, after a one-time code.
    CardPage,
}

impl ChangeSource {
    /// Every source.
    pub const ALL: [ChangeSource; 11] = [
        ChangeSource::Api,
        ChangeSource::Till,
        ChangeSource::Import,
        ChangeSource::Dashboard,
        ChangeSource::Signup,
        ChangeSource::Pos,
        ChangeSource::UnsubscribeLink,
        ChangeSource::ProviderKeyword,
        ChangeSource::Admin,
        ChangeSource::Legacy,
        ChangeSource::CardPage,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeSource::Api => "api",
            ChangeSource::Till => "till",
            ChangeSource::Import => "import",
            ChangeSource::Dashboard => "dashboard",
            ChangeSource::Signup => "signup",
            ChangeSource::Pos => "pos",
            ChangeSource::UnsubscribeLink => "unsubscribe_link",
            ChangeSource::ProviderKeyword => "provider_keyword",
            ChangeSource::Admin => "admin",
            ChangeSource::Legacy => "legacy",
            ChangeSource::CardPage => "card_page",
        }
    }

    /// The source of a stored name.
    pub fn parse(s: &str) -> Option<ChangeSource> {
        ChangeSource::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// One change to a customer's profile or consent: who made it, when, from where, which
/// fields it touched and the consent it left. Registration is the first change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerChange {
    /// Its id.
    pub id: uuid::Uuid,
    /// The brand.
    pub brand_id: BrandId,
    /// The customer.
    pub customer_id: CustomerId,
    /// When it was made.
    pub at: OffsetDateTime,
    /// Who made it, like `api-key:<id>`.
    pub actor: String,
    /// Where it came from.
    pub source: ChangeSource,
    /// The profile fields it changed (`name`, `birthday`, `email`, `zalo_user_id`,
    /// `consent`), or every field given at registration.
    pub fields: Vec<String>,
    /// The consent after the change.
    pub consent: ChannelConsent,
}

impl Customer {
    /// The profile fields that differ between `self` and `after`, in a fixed order.
    ///
    /// ```
    /// # use regulars_domain::*;
    /// # let c = Customer { id: CustomerId::from_uuid(Default::default()),
    /// #     brand_id: BrandId::from_uuid(Default::default()),
    /// #     phone: Phone::parse("0912345678", CallingCode(84)).unwrap(), name: None,
    /// #     birthday: None, email: None, zalo_user_id: None,
    /// #     consent: ChannelConsent::default(), created_at: time::OffsetDateTime::UNIX_EPOCH };
    /// let mut after = c.clone();
    /// after.email = Some("an@example.com".into());
    /// after.consent.email = ConsentState::Granted;
    /// assert_eq!(c.changed_fields(&after), ["email", "consent"]);
    /// ```
    pub fn changed_fields(&self, after: &Customer) -> Vec<&'static str> {
        let mut fields = Vec::new();
        if self.name != after.name {
            fields.push("name");
        }
        if self.birthday != after.birthday {
            fields.push("birthday");
        }
        if self.email != after.email {
            fields.push("email");
        }
        if self.zalo_user_id != after.zalo_user_id {
            fields.push("zalo_user_id");
        }
        if self.phone != after.phone {
            fields.push("phone");
        }
        if self.consent != after.consent {
            fields.push("consent");
        }
        fields
    }
}
