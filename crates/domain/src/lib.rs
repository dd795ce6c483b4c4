//! Shared vocabulary of Regulars, the loyalty and customer-intelligence platform for
//! food & beverage businesses.
//!
//! Every other crate speaks in these types: identifiers ([`BrandId`], [`CustomerId`], ...),
//! [`Money`] (an exact decimal amount in an ISO currency), [`Points`] (whole loyalty
//! points), [`Phone`] (an E.164 phone number), [`Order`]s with their [`LineItem`]s,
//! [`Refund`]s and [`Customer`]s.
//!
//! The crate is pure: no I/O, no clock reads, no randomness. Anything that depends on
//! "now" takes it as an argument.
//!
//! ```
//! use regulars_domain::{Currency, Money, Phone, Points};
//! use rust_decimal::Decimal;
//!
//! // A Vietnamese mobile number given at the till, in its national form.
//! let phone = Phone::parse("090 123 4567", Phone::VIETNAM)?;
//! assert_eq!(phone.as_str(), "+84901234567");
//!
//! // 45,000 VND: the đồng has no minor unit.
//! let price = Money::new(Decimal::from(45_000), Currency::VND)?;
//! assert_eq!(price.to_string(), "45000 VND");
//!
//! let earned = Points::new(45).checked_add(Points::new(5)).ok_or("overflow")?;
//! assert_eq!(earned, Points::new(50));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod consent;
mod customer;
mod engagement;
mod error;
mod ids;
mod keyword;
mod local_time;
mod menu;
mod money;
mod order;
mod phone;
mod phone_format;
mod points;
mod rating;
pub mod sms;
pub mod zns;

pub use consent::{
    ChannelConsent, ConsentEvent, ConsentState, DEFAULT_OPT_OUT_INSTRUCTION, OPT_OUT_LINK, Purpose,
    with_opt_out,
};
pub use customer::{ChangeSource, Channel, Customer, CustomerChange};
pub use engagement::{
    CLICK_COUNT_WINDOW, Engagement, EngagementKind, EngagementSettings, MAX_TRACKED_LINKS,
    find_links, link_at, rewrite_links,
};
pub use error::DomainError;
pub use ids::GoalId;
pub use ids::{
    ApiKeyId, BrandId, CampaignId, CustomerId, IntegrationId, LocationId, OrderId, RewardId,
    SegmentId, TierId, VoucherId,
};
pub use ids::{DeviceId, StaffId};
pub use keyword::{DEFAULT_OPT_OUT_KEYWORDS, is_opt_out_keyword, normalize_keyword};
pub use local_time::{local_date, local_datetime};
pub use menu::{
    MAX_MENU_CODE, MAX_MENU_ITEMS, MAX_MENU_NAME, MAX_MENU_QUANTITY, MenuError, MenuItem, MenuPick,
    lines_total, menu_lines, sort_menu, validate_menu,
};
pub use money::{Currency, Money};
pub use order::{EventKey, LineItem, Modifier, Order, Refund, RefundScope};
pub use phone::{CallingCode, Phone, partly_hidden_email};
pub use points::Points;
pub use rating::{
    DEFAULT_LOW_THRESHOLD, MAX_COMMENT_CHARS, Rating, Stars, rating_comment, rating_notice_key,
};
