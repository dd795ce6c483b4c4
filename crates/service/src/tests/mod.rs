//! Tests of the use cases over the ports' `mockall` mocks.
//!
//! Most tests run a use case against [`fake::Fake`], a transactional store assembled from
//! the mocks, and then look at what was committed, what was attempted, and how each
//! transaction ended. `strict` uses bare mocks with no write expectations at all.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit;
mod claim;
mod counted_times;
mod fake;
mod group;
mod import;
mod ingest;
mod ledger_ops;
mod lookup;
mod menu;
mod refund;
mod reports;
mod rewards;
mod stamps;
mod strict;
mod vouchers;
mod webhooks;

use crate::Services;
use fake::{Fake, World};
use regulars_domain::{
    BrandId, CallingCode, Currency, Customer, CustomerId, EventKey, LineItem, Money, Order, Phone,
    Points, RewardId,
};
use regulars_loyalty::ledger::RefundPolicy;
use regulars_loyalty::rewards::{Reward, RewardKind};
use regulars_loyalty::rules::EarningRules;
use regulars_loyalty::tiers::TierProgram;
use regulars_ports::{Brand, LoyaltyProgram};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use time::macros::{datetime, offset};
use time::{Duration, OffsetDateTime};

pub const BRAND: BrandId = BrandId::from_bytes([0xB1; 16]);
pub const OTHER_BRAND: BrandId = BrandId::from_bytes([0xB2; 16]);
pub const PHONE: &str = "0901234567";
pub const FREE_TOPPING: RewardId = RewardId::from_bytes([0xA1; 16]);
pub const FREE_DRINK: RewardId = RewardId::from_bytes([0xA2; 16]);
pub const RETIRED: RewardId = RewardId::from_bytes([0xA3; 16]);

/// Wednesday 2026-05-06, 10:00 in Ho Chi Minh City.
pub fn t0() -> OffsetDateTime {
    datetime!(2026-05-06 03:00 UTC)
}

pub fn days(n: i64) -> Duration {
    Duration::days(n)
}

pub fn vnd(n: i64) -> Money {
    Money::from_minor_units(n, Currency::VND)
}

pub fn phone() -> Phone {
    Phone::parse(PHONE, Phone::VIETNAM).unwrap()
}

pub fn brand(id: BrandId) -> Brand {
    Brand {
        id,
        name: "Trà Sữa Q1".into(),
        currency: Currency::VND,
        calling_code: CallingCode(84),
        utc_offset: offset!(+7),
        refund_policy: RefundPolicy::Clamp,
        points_validity_days: Some(365),
        created_at: datetime!(2026-01-01 00:00 UTC),
    }
}

/// 1 point per 1,000 VND; a welcome bonus of 20 points on the first visit.
pub fn rules() -> EarningRules {
    EarningRules::from_json(
        r#"{
            "currency": "VND",
            "base": {"per_amount": "1000", "points": 1, "rounding": "floor"},
            "visit_bonuses": [{"kind": "first_visit", "label": "Welcome", "points": 20}]
        }"#,
    )
    .unwrap()
}

/// Points earned over 365 days: silver from 200 (earning ×1.5), gold from 1,000.
pub fn tiers() -> TierProgram {
    serde_json::from_str(
        r#"{
            "metric": {"kind": "points"},
            "window_days": 365,
            "review_period": "quarter",
            "tiers": [
                {"code": "silver", "name": "Silver", "threshold": 200,
                 "benefits": {"earn_multiplier": "1.5"}},
                {"code": "gold", "name": "Gold", "threshold": 1000,
                 "benefits": {"earn_multiplier": "2"}}
            ]
        }"#,
    )
    .unwrap()
}

pub fn reward(id: RewardId, name: &str, cost: i64, active: bool) -> Reward {
    Reward {
        id,
        name: name.into(),
        cost: Points::new(cost),
        kind: RewardKind::FreeItem {
            sku: "TS-OOLONG".into(),
        },
        active,
        validity_days: 30,
        min_order_total: None,
    }
}

/// A brand with its programme and a small catalogue, and another brand.
pub fn world() -> World {
    let mut world = World::default();
    for id in [BRAND, OTHER_BRAND] {
        world.brands.insert(id, brand(id));
        world.programs.insert(
            id,
            LoyaltyProgram {
                earning_rules: rules(),
                tiers: Some(tiers()),
            },
        );
    }
    world.rewards = vec![
        (BRAND, reward(FREE_TOPPING, "Free topping", 50, true)),
        (BRAND, reward(FREE_DRINK, "Free drink", 150, true)),
        (BRAND, reward(RETIRED, "Old mug", 10, false)),
    ];
    world
}

/// A runtime for a property test's async cases.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub fn key(id: &str) -> EventKey {
    EventKey::new("pos:generic", id).unwrap()
}

/// An order of `total` VND paid at `at`, by the customer of [`PHONE`] unless `anonymous`.
pub fn order_at(id: &str, total: i64, at: OffsetDateTime) -> Order {
    Order {
        brand_id: BRAND,
        key: key(id),
        location: Some("q1".into()),
        customer_phone: Some(phone()),
        placed_at: at,
        lines: vec![LineItem {
            sku: "TS-OOLONG".into(),
            name: "Trà sữa ô long".into(),
            category: Some("milk-tea".into()),
            quantity: 1,
            unit_price: vnd(total),
            modifiers: vec![],
        }],
        total: vnd(total),
    }
}

pub fn order(id: &str, total: i64) -> Order {
    order_at(id, total, t0())
}

/// The use cases over a fake store, a settable clock and scripted random bytes.
pub struct Harness {
    pub fake: Fake,
    pub services: Services,
    now: Arc<Mutex<OffsetDateTime>>,
    bytes: Arc<Mutex<VecDeque<u64>>>,
}

impl Harness {
    pub fn new(world: World) -> Self {
        let fake = Fake::new(world);
        let now = Arc::new(Mutex::new(t0()));
        let bytes = Arc::new(Mutex::new(VecDeque::from([0x0123_4567_89AB_CDEF])));
        let services = Services::new(
            Arc::new(fake.uow()),
            Arc::new(fake::clock(now.clone())),
            Arc::new(fake::ids(bytes.clone())),
        );
        Harness {
            fake,
            services,
            now,
            bytes,
        }
    }

    pub fn standard() -> Self {
        Harness::new(world())
    }

    pub fn set_now(&self, at: OffsetDateTime) {
        *self.now.lock().unwrap() = at;
    }

    /// The random values the next voucher codes are drawn from, in turn.
    pub fn script_bytes(&self, values: &[u64]) {
        *self.bytes.lock().unwrap() = values.iter().copied().collect();
    }

    /// The customer of [`PHONE`].
    pub fn customer(&self) -> Customer {
        self.fake
            .world()
            .customers
            .into_iter()
            .find(|c| c.brand_id == BRAND && c.phone == phone())
            .expect("the customer exists")
    }

    pub fn customer_id(&self) -> CustomerId {
        self.customer().id
    }

    pub fn balance(&self) -> Points {
        self.fake.world().account(BRAND, self.customer_id()).balance
    }

    /// Ingests an order of [`BRAND`] arriving when it was placed (or now, if that is
    /// later): the clock moves on to the order's time.
    pub async fn ingest(&self, order: Order) -> Result<crate::OrderReceipt, crate::IngestError> {
        {
            let mut now = self.now.lock().unwrap();
            *now = (*now).max(order.placed_at);
        }
        self.services.ingest_order(BRAND, order).await
    }

    /// Ingests an order that must succeed, forgetting the writes it made.
    pub async fn given_order(&self, order: Order) -> crate::OrderReceipt {
        let receipt = self.ingest(order).await.unwrap();
        self.fake.take_writes();
        receipt
    }
}
