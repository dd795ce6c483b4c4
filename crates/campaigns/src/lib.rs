//! Campaigns of Regulars: which customer gets which message, with which offer, on which
//! channel and when — and afterwards, what the campaign earned.
//!
//! * [`campaign`]: a [`Campaign`] is serde data read from JSON ([`Campaign::from_json`])
//!   and validated with field paths: a trigger (thank-you after a purchase, birthday,
//!   overdue, P(alive) below a threshold, tier upgrade, points expiring, broadcast,
//!   welcome, reward affordable or nearly, voucher expiring), an
//!   audience (a segment or a rule of the segments language), an offer (a fixed reward or
//!   one chosen per customer within a cost limit), a budget, a template, channels, a
//!   send-time policy, a hold-out share and a frequency cap.
//! * [`plan()`]: for every customer one [`Outcome`], a [`PlannedMessage`] or a
//!   [`SkipReason`]; deterministic and independent of input order.
//! * [`policy`]: the legal rules for promotional messages; Vietnam's Decree 91/2020 by
//!   default (3 per phone in 24 h, 07:00–22:00, `[QC]`).
//! * [`render`]: `{{variable}}` templates, money as `45.000 ₫`, Vietnamese defaults.
//! * [`attribution`]: incremental revenue against the hold-out group, its confidence
//!   interval, and ROI.
//!
//! The crate is pure: no I/O, no clock; "now" is an argument.
//!
//! ```
//! use regulars_campaigns::{plan, Campaign, CustomerFacts, Outcome, SkipReason};
//! use regulars_domain::{Channel, ConsentState, Currency, CustomerId, Money, Phone};
//! use time::macros::datetime;
//!
//! let campaign = Campaign::from_json(r#"{
//!     "id": "6b1f8c1e-0000-4000-8000-000000000001",
//!     "name": "Birthday",
//!     "shop": "Trà Sữa Mây",
//!     "currency": "VND",
//!     "trigger": {"type": "birthday"},
//!     "holdout": 0
//! }"#)?;
//! let mut lan = CustomerFacts::new(CustomerId::from_bytes([1; 16]), Phone::parse("0901234567", Phone::VIETNAM)?);
//! lan.name = Some("Lan".into());
//! lan.birthday = Some(time::macros::date!(1995-03-02));
//! lan.consent.sms = ConsentState::Granted;
//! let mut other = CustomerFacts::new(CustomerId::from_bytes([2; 16]), Phone::parse("0907654321", Phone::VIETNAM)?);
//! other.consent.sms = ConsentState::Granted;
//!
//! // 05:00 in Ho Chi Minh City: too early for promotional messages, so 07:00 it is.
//! let now = datetime!(2026-03-01 22:00 UTC);
//! let plan = plan(&campaign, &[lan, other], now, &[], Money::zero(Currency::VND))?;
//! let Outcome::Send(m) = &plan.outcomes[0] else { panic!("Lan should get a message") };
//! assert_eq!(m.channel, Channel::Sms);
//! assert_eq!(m.send_at, datetime!(2026-03-02 07:00 +7));
//! assert_eq!(m.text, "[QC] Chúc mừng sinh nhật Lan! Trà Sữa Mây chúc bạn một tuổi mới thật vui.");
//! assert!(matches!(plan.outcomes[1], Outcome::Skip { reason: SkipReason::NotTriggered, .. }));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod attribution;
pub mod campaign;
pub mod compare;
pub mod plan;
pub mod policy;
pub mod render;
pub mod sms;
pub mod variant;
pub mod zns;

pub use campaign::{
    Audience, Campaign, CampaignError, FrequencyCap, Offer, PricedReward, SendTime, Trigger,
};
pub use plan::{
    CustomerFacts, OrderFact, Outcome, Plan, PlanError, PlannedMessage, PlannedOffer, PointsExpiry,
    SentMessage, SkipReason, TierDowngrade, TierUpgrade, VoucherExpiry, plan,
};
pub use policy::{AllowedHours, MAX_CAP_WINDOW_HOURS, Policy, PolicyLimits};
pub use variant::{OfferVariant, variant_index};
