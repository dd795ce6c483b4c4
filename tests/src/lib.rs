//! Fixtures shared by the end-to-end tests and the benchmarks: a brand set up through the
//! real use cases on a real database, and realistic orders.
//!
//! The test kit (`regulars-testkit`) is a normal dependency here because this crate *is*
//! test code; no shipped crate depends on it.

use regulars::system::{OsIdGen, SystemClock};
use regulars_domain::{
    BrandId, CallingCode, ChangeSource, Currency, Customer, EventKey, LineItem, Modifier, Money,
    Order, Phone, Points, RewardId,
};
use regulars_loyalty::ledger::RefundPolicy;
use regulars_loyalty::rewards::{Reward, RewardKind};
use regulars_loyalty::rules::EarningRules;
use regulars_ports::{Brand, IdGen, LoyaltyProgram};
use regulars_service::{BrandSetup, ChangeAuthor, ConsentPatch, CustomerInput, Services};
use regulars_store::{Store, StoreOptions};
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime, UtcOffset};

pub mod bench;
pub mod load;
pub mod webhook;

/// The bubble-tea rules of docs/rules.md: 20 rule lines of every kind.
pub const RULES: &str = include_str!("../../docs/examples/bubble-tea.rules.json");

/// A brand on a real database, with its use cases.
pub struct World {
    /// The store (shared pool).
    pub store: Arc<Store>,
    /// The use cases over it, with the system clock and OS randomness.
    pub services: Services,
    /// The brand set up for the test.
    pub brand: BrandId,
    /// Its catalogue: one reward costing [`REWARD_COST`] points.
    pub reward: RewardId,
}

/// Cost of the fixture's reward.
pub const REWARD_COST: i64 = 40;

/// Errors of fixtures, as text: fixtures fail loudly with what went wrong.
pub type FixtureResult<T> = Result<T, String>;

/// Registers customer `n` (phone [`phone`]`(n)`, named `name`) who consented to SMS (and
/// to profiling, so segment-targeted campaigns reach them) only,
/// as an import would, for the tests that deliver campaigns over SMS.
pub async fn sms_customer(
    services: &Services,
    brand: BrandId,
    n: u64,
    name: &str,
) -> FixtureResult<Customer> {
    let input = CustomerInput {
        name: Some(name.to_owned()),
        birthday: None,
        email: None,
        zalo_user_id: None,
        consent: ConsentPatch {
            sms: Some(true),
            profiling: Some(true),
            ..ConsentPatch::default()
        },
        notice_version: None,
        consent_source: None,
    };
    let by = ChangeAuthor {
        actor: "test".to_owned(),
        source: ChangeSource::Import,
    };
    services
        .create_customer(brand, phone(n).as_str(), input, &by)
        .await
        .map_err(|e| format!("customer {n}: {e}"))
}

/// Connects to `url` (migrating it) and sets up a fresh brand with the bubble-tea rules.
pub async fn world(url: &str, options: StoreOptions) -> FixtureResult<World> {
    world_with_keys(url, options, None).await
}

/// [`world`] on a store sealing contact data under `keys` (plain columns when `None`), as
/// `regulars serve` does with `REGULARS_SECRET_KEY` set.
pub async fn world_with_keys(
    url: &str,
    options: StoreOptions,
    keys: Option<&regulars_service::SecretKeys>,
) -> FixtureResult<World> {
    let store = Store::connect(url, options)
        .await
        .map_err(|e| format!("connect {url}: {e}"))?;
    let store = Arc::new(match keys {
        Some(keys) => store.with_contact_keys(regulars::sealing::contact_keys(keys)),
        None => store,
    });
    let services = Services::new(store.clone(), Arc::new(SystemClock), Arc::new(OsIdGen));
    let (brand, reward) = add_brand(&services).await?;
    Ok(World {
        store,
        services,
        brand,
        reward,
    })
}

/// Sets up one more brand like the fixture's (the bubble-tea rules, one reward costing
/// [`REWARD_COST`] points) and returns it with its reward.
pub async fn add_brand(services: &Services) -> FixtureResult<(BrandId, RewardId)> {
    let ids = OsIdGen;
    let brand = BrandId::from_uuid(ids.new_id());
    let reward = RewardId::from_uuid(ids.new_id());
    let earning_rules = EarningRules::from_json(RULES).map_err(|e| e.to_string())?;
    services
        .create_brand(BrandSetup {
            brand: Brand {
                id: brand,
                name: "Test brand".into(),
                currency: Currency::VND,
                calling_code: CallingCode(84),
                utc_offset: UtcOffset::from_hms(7, 0, 0).map_err(|e| e.to_string())?,
                refund_policy: RefundPolicy::Clamp,
                points_validity_days: Some(365),
                created_at: OffsetDateTime::now_utc(),
            },
            program: Some(LoyaltyProgram {
                earning_rules,
                tiers: None,
            }),
            rewards: vec![Reward {
                id: reward,
                name: "Free cheese foam".into(),
                cost: Points::new(REWARD_COST),
                kind: RewardKind::FreeModifier {
                    sku: "TOP-CHEESE".into(),
                },
                active: true,
                validity_days: 30,
                min_order_total: None,
            }],
        })
        .await
        .map_err(|e| format!("create brand: {e}"))?;
    Ok((brand, reward))
}

/// A Vietnamese mobile number, distinct for each `n` below ten million.
pub fn phone(n: u64) -> Phone {
    let national = format!("09{:08}", n % 100_000_000);
    // Always a valid mobile number: 09 followed by eight digits.
    Phone::parse(&national, Phone::VIETNAM).unwrap_or_else(|e| panic!("fixture phone: {e}"))
}

/// An order of `lines` line items (each with a topping) for `customer`, paid `at`.
pub fn order(
    brand: BrandId,
    external_id: &str,
    customer: u64,
    at: OffsetDateTime,
    lines: usize,
) -> Order {
    let vnd = |n: i64| Money::from_minor_units(n, Currency::VND);
    const MENU: [(&str, &str, i64); 5] = [
        ("TS-OOLONG", "milk-tea", 45_000),
        ("TS-PASSION", "fruit-tea", 40_000),
        ("TS-JASMINE", "milk-tea", 39_000),
        ("TS-PEACH", "fruit-tea", 45_000),
        ("CF-SUA", "coffee", 29_000),
    ];
    let mut total = 0;
    let lines: Vec<LineItem> = (0..lines)
        .map(|i| {
            let (sku, category, price) = MENU[i % MENU.len()];
            total += price + 10_000;
            LineItem {
                sku: sku.into(),
                name: sku.into(),
                category: Some(category.into()),
                quantity: 1,
                unit_price: vnd(price),
                modifiers: vec![Modifier {
                    sku: "TOP-CHEESE".into(),
                    name: "Kem phô mai".into(),
                    unit_price: vnd(10_000),
                }],
            }
        })
        .collect();
    Order {
        brand_id: brand,
        key: EventKey {
            source: "pos:generic".into(),
            external_id: external_id.into(),
        },
        location: Some("q1".into()),
        customer_phone: Some(phone(customer)),
        placed_at: at,
        lines,
        total: vnd(total),
    }
}

/// A clock that moves only when told: for tests that need time to pass (retries, rate
/// limits, retention) without waiting.
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// A clock standing at `at`.
    pub fn at(at: OffsetDateTime) -> Arc<ManualClock> {
        Arc::new(ManualClock(Mutex::new(at)))
    }

    /// A clock standing at the present moment.
    pub fn starting_now() -> Arc<ManualClock> {
        ManualClock::at(OffsetDateTime::now_utc())
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: OffsetDateTime) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += by;
    }
}

impl regulars_ports::Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
