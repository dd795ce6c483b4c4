//! Stamp cards: the digital punch card ("buy 9, the 10th is free"), a programme type
//! beside points.
//!
//! * [`StampCard`]: a card's definition as data — how many stamps fill it (2 to 50),
//!   what earns a stamp (each qualifying item by SKU or category, quantity counting, or
//!   each visit with an optional minimum amount), a cap per order, the catalogue reward a
//!   full card turns into, and when stamps expire (N days after the first stamp of the
//!   current card, or never).
//! * [`StampState`] and [`StampEvent`]: a customer's progress on one card and the
//!   append-only log it is folded from ([`StampState::apply`] is the one fold).
//! * [`earn`] and [`refund`]: the commands. They return the events an order or a refund
//!   produces and never store anything.
//!
//! The counting rules:
//!
//! * An order earns its stamps once: an order already in the log earns nothing again.
//! * Stamps beyond a full card carry over to the next card; every filled card is one
//!   [`StampEventKind::Completed`] event with the id of the voucher it issues.
//! * A refund removes the order's share of its stamps, `floor(stamps × refunded /
//!   total)` in all, so a full refund removes all of them. When the current card holds
//!   fewer stamps than that, completed cards whose voucher is still unused are reopened
//!   (newest first): the voucher is voided and its stamps come back to the card, then the
//!   order's stamps are taken. When no unused voucher is left, the card keeps what it
//!   cannot give back: it goes down to zero, never below, and the rest is recorded as
//!   forgiven. Stamps of an order earned before the card's last expiry already expired,
//!   so a refund of it removes nothing from the new card (all forgiven).
//! * Hence, at all times: stamps on the card + stamps needed × (completions − reopened)
//!   = stamps kept by the orders + stamps forgiven.
//!
//! ```
//! use regulars_domain::{BrandId, Currency, EventKey, LineItem, Money, Order, RewardId, VoucherId};
//! use regulars_loyalty::stamps::{earn, OrderStamps, StampCard, StampEarning, StampState};
//! use time::macros::datetime;
//!
//! let card = StampCard {
//!     code: "coffee".into(),
//!     name: "Coffee card".into(),
//!     stamps_needed: 10,
//!     earn: StampEarning::Item { skus: vec!["CF-BLACK".into()], categories: vec![] },
//!     max_per_order: None,
//!     reward: RewardId::from_bytes([1; 16]),
//!     expiry_days: None,
//!     active: true,
//! };
//! let vnd = |n| Money::from_minor_units(n, Currency::VND);
//! let order = Order {
//!     brand_id: BrandId::from_bytes([2; 16]),
//!     key: EventKey::new("pos", "1").map_err(|e| e.to_string())?,
//!     location: None,
//!     customer_phone: None,
//!     placed_at: datetime!(2026-12-01 08:00 UTC),
//!     lines: vec![LineItem {
//!         sku: "CF-BLACK".into(),
//!         name: "Cà phê đen".into(),
//!         category: None,
//!         quantity: 3,
//!         unit_price: vnd(25_000),
//!         modifiers: vec![],
//!     }],
//!     total: vnd(75_000),
//! };
//! let mut state = StampState { stamps: 8, ..StampState::default() };
//! let mut n = 0_u8;
//! let mut next_voucher = || {
//!     n += 1;
//!     VoucherId::from_bytes([n; 16])
//! };
//! let tally = OrderStamps::default();
//! let events = earn(&card, &state, &order, &tally, order.placed_at, &mut next_voucher)
//! .map_err(|e| e.to_string())?;
//! for event in &events {
//!     state.apply(event).map_err(|e| e.to_string())?;
//! }
//! // 8 + 3 = 11: one full card (one voucher), one stamp carried over.
//! assert_eq!((state.stamps, state.completed), (1, 1));
//! # Ok::<(), String>(())
//! ```

mod card;
mod state;

pub use card::{
    MAX_CARDS, MAX_STAMPS_PER_ORDER, StampCard, StampCardError, StampEarning, validate_cards,
};
pub use state::{OrderStamps, StampError, StampEvent, StampEventKind, StampState, earn, refund};
