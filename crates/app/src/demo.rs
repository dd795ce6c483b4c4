//! `regulars demo`: a café chain's few months, pushed through the real use cases.
//!
//! Everything goes through [`Services`] exactly as a POS and a till would drive it —
//! orders (some delivered twice), refunds, rewards bought with points, vouchers redeemed
//! at the till — against the configured database. Time is simulated: the demo's clock
//! is advanced event by event, which is what the `Clock` port is for.

use anyhow::{Context, Result};
use regulars::system::OsIdGen;
use regulars_domain::{
    BrandId, CallingCode, Currency, EventKey, LineItem, Modifier, Money, Order, Phone, Points,
    Refund, RefundScope, RewardId,
};
use regulars_loyalty::ledger::RefundPolicy;
use regulars_loyalty::rewards::{Reward, RewardKind};
use regulars_loyalty::rules::EarningRules;
use regulars_loyalty::tiers::TierProgram;
use regulars_ports::{Brand, Clock, IdGen, LoyaltyProgram, UnitOfWork};
use regulars_service::{BrandSetup, RedeemVoucherError, Services};
use regulars_store::Store;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use time::{Duration, OffsetDateTime, UtcOffset};

/// The bubble-tea rules of docs/rules.md.
const RULES: &str = include_str!("../../../docs/examples/bubble-tea.rules.json");

const TIERS: &str = r#"{
    "metric": {"kind": "points"},
    "window_days": 365,
    "review_period": "quarter",
    "tiers": [
        {"code": "member", "name": "Member", "threshold": 0, "benefits": {"earn_multiplier": "1"}},
        {"code": "silver", "name": "Silver", "threshold": 300, "benefits": {"earn_multiplier": "1", "perks": ["Free upsize"]}},
        {"code": "gold", "name": "Gold", "threshold": 900, "benefits": {"earn_multiplier": "1.5", "perks": ["Free upsize", "Birthday drink"]}}
    ]
}"#;

/// How big a demo to run.
pub struct DemoOptions {
    /// Customers in the simulated chain.
    pub customers: u32,
    /// Days of history, ending now.
    pub days: u32,
    /// Seed of the simulation, so a run can be repeated.
    pub seed: u64,
}

/// A clock the demo moves forward event by event.
struct SimClock(AtomicI64);

impl SimClock {
    fn set(&self, at: OffsetDateTime) {
        self.0
            .store((at.unix_timestamp_nanos() / 1_000) as i64, Ordering::SeqCst);
    }
}

impl Clock for SimClock {
    fn now(&self) -> OffsetDateTime {
        let micros = self.0.load(Ordering::SeqCst);
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// A small deterministic generator (SplitMix64): the demo needs repeatable variety, not
/// secrecy.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    /// Exponential waiting time with the given mean.
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
}

struct MenuItem {
    sku: &'static str,
    name: &'static str,
    category: &'static str,
    price: i64,
}

const MENU: &[MenuItem] = &[
    MenuItem {
        sku: "TS-OOLONG",
        name: "Trà sữa ô long",
        category: "milk-tea",
        price: 45_000,
    },
    MenuItem {
        sku: "TS-BROWN",
        name: "Sữa tươi trân châu đường đen",
        category: "milk-tea",
        price: 49_000,
    },
    MenuItem {
        sku: "TS-JASMINE",
        name: "Trà sữa nhài",
        category: "milk-tea",
        price: 39_000,
    },
    MenuItem {
        sku: "TS-PASSION",
        name: "Trà chanh dây",
        category: "fruit-tea",
        price: 40_000,
    },
    MenuItem {
        sku: "TS-PEACH",
        name: "Trà đào cam sả",
        category: "fruit-tea",
        price: 45_000,
    },
    MenuItem {
        sku: "CF-SUA",
        name: "Cà phê sữa đá",
        category: "coffee",
        price: 29_000,
    },
];

const TOPPINGS: &[(&str, &str, i64)] = &[
    ("TOP-PEARL", "Trân châu đen", 8_000),
    ("TOP-CHEESE", "Kem phô mai", 10_000),
    ("TOP-JELLY", "Thạch dừa", 6_000),
];

/// One simulated customer.
struct Persona {
    phone: String,
    /// Mean days between visits.
    gap_days: f64,
    /// When they stop coming.
    churn_at: OffsetDateTime,
    favourite: usize,
    likes_topping: Option<usize>,
}

enum Event {
    Order { customer: usize, order: Order },
    Refund { refund: Refund },
}

/// What happened during the demo, for the summary.
#[derive(Default)]
struct Tally {
    orders: u64,
    duplicates_ignored: u64,
    refunds: u64,
    points_earned: i64,
    rewards_bought: u64,
    vouchers_redeemed: u64,
    vouchers_lapsed: u64,
    upgrades: u64,
}

/// Runs the demo against `store`, prints what happened and returns the demo brand.
pub async fn run(store: Arc<Store>, options: &DemoOptions) -> Result<BrandId> {
    let now = OffsetDateTime::now_utc();
    let start = now - Duration::days(i64::from(options.days));
    let clock = Arc::new(SimClock(AtomicI64::new(0)));
    clock.set(start);
    let ids: Arc<dyn IdGen> = Arc::new(OsIdGen);
    let uow: Arc<dyn UnitOfWork> = store.clone();
    let services = Services::new(uow, clock.clone(), ids.clone());

    let offset = UtcOffset::from_hms(7, 0, 0).context("offset")?;
    let brand = BrandId::from_uuid(ids.new_id());
    let rewards = create_brand(&services, ids.as_ref(), brand, offset, start).await?;
    println!(
        "brand {brand}: Mây Tea (demo), VND, +07:00, {} rewards",
        rewards.len()
    );

    let mut rng = Rng(options.seed);
    let personas = personas(&mut rng, options.customers, start, now);
    let events = schedule(&mut rng, brand, &personas, start, now, offset)?;
    println!(
        "simulating {} days: {} customers, {} events",
        options.days,
        personas.len(),
        events.len()
    );

    let mut tally = Tally::default();
    let mut customer_ids = BTreeMap::new();
    let mut held: BTreeMap<usize, String> = BTreeMap::new();
    let step = (events.len() / 10).max(1);
    for (i, (at, event)) in events.iter().enumerate() {
        clock.set(*at);
        match event {
            Event::Order { customer, order } => {
                let order = order.clone();
                // A voucher bought earlier is handed over at the till on the next visit.
                if let Some(code) = held.remove(customer) {
                    match services
                        .redeem_voucher(brand, &code, Some(order.key.clone()))
                        .await
                    {
                        Ok(_) => tally.vouchers_redeemed += 1,
                        // Kept too long: it expired unused, as real vouchers do.
                        Err(RedeemVoucherError::Refused { .. }) => tally.vouchers_lapsed += 1,
                        Err(e) => {
                            return Err(e).with_context(|| format!("redeeming voucher {code}"));
                        }
                    }
                }
                let receipt = services.ingest_order(brand, order.clone()).await?;
                tally.orders += 1;
                tally.points_earned += receipt.points_earned.value();
                tally.upgrades += u64::from(receipt.upgraded);
                if let Some(id) = receipt.customer_id {
                    customer_ids.insert(*customer, id);
                }
                // POS retries happen: about one order in 40 arrives twice.
                if rng.below(40) == 0 {
                    let again = services.ingest_order(brand, order).await?;
                    if again.duplicate {
                        tally.duplicates_ignored += 1;
                    }
                }
                // A customer who can afford a reward often buys one.
                if let (Some(balance), Some(id)) = (receipt.balance, receipt.customer_id) {
                    let affordable: Vec<&Reward> =
                        rewards.iter().filter(|r| r.cost <= balance).collect();
                    if !affordable.is_empty() && rng.below(3) == 0 && !held.contains_key(customer) {
                        let pick = affordable[rng.below(affordable.len() as u64) as usize];
                        let voucher = services.redeem_reward(brand, id, pick.id).await?;
                        tally.rewards_bought += 1;
                        held.insert(*customer, voucher.code().as_str().to_owned());
                    }
                }
            }
            Event::Refund { refund } => {
                services.refund_order(brand, refund.clone()).await?;
                tally.refunds += 1;
            }
        }
        if (i + 1) % step == 0 {
            println!("  {:>3}% {}", (i + 1) * 100 / events.len(), at.date());
        }
    }

    clock.set(now);
    let expired = services.expire_points(brand, now).await?;
    let report = services.check_ledger(Some(brand)).await?;

    println!();
    println!("orders ingested          {}", tally.orders);
    println!(
        "duplicate deliveries     {} (earned nothing twice)",
        tally.duplicates_ignored
    );
    println!("refunds                  {}", tally.refunds);
    println!("points earned            {}", tally.points_earned);
    println!("rewards bought           {}", tally.rewards_bought);
    println!("vouchers redeemed        {}", tally.vouchers_redeemed);
    println!("vouchers expired unused  {}", tally.vouchers_lapsed);
    println!("tier moves (first tier too) {}", tally.upgrades);
    println!("expiry sweep             {expired:?}");
    println!(
        "ledger check             {} accounts, {} mismatches, {} invalid",
        report.accounts_checked,
        report.mismatches.len(),
        report.invalid.len()
    );

    // The best customers, as the till would show them.
    let mut views = Vec::new();
    for persona in &personas {
        if let Ok(view) = services.customer_lookup(brand, &persona.phone).await {
            views.push(view);
        }
    }
    views.sort_by_key(|v| std::cmp::Reverse(v.stats.visits));
    println!();
    println!("top customers            visits  balance  tier     vouchers");
    for view in views.iter().take(5) {
        println!(
            "  {:<22} {:>6} {:>8}  {:<8} {}",
            view.customer.phone.masked(),
            view.stats.visits,
            view.balance.value(),
            view.tier.as_ref().map(|t| t.code.as_str()).unwrap_or("-"),
            view.vouchers.len()
        );
    }
    let mut tiers = BTreeMap::<String, u64>::new();
    for view in &views {
        *tiers
            .entry(
                view.tier
                    .as_ref()
                    .map(|t| t.code.clone())
                    .unwrap_or_else(|| "-".into()),
            )
            .or_default() += 1;
    }
    println!("tiers                    {tiers:?}");
    if !report.mismatches.is_empty() || !report.invalid.is_empty() {
        anyhow::bail!("the ledger check found problems: {report:?}");
    }
    Ok(brand)
}

async fn create_brand(
    services: &Services,
    ids: &dyn IdGen,
    brand: BrandId,
    offset: UtcOffset,
    created_at: OffsetDateTime,
) -> Result<Vec<Reward>> {
    let earning_rules = EarningRules::from_json(RULES).context("demo rules")?;
    let tiers: TierProgram = serde_json::from_str(TIERS).context("demo tiers")?;
    let vnd = |n: i64| Money::from_minor_units(n, Currency::VND);
    let reward = |name: &str, cost: i64, kind: RewardKind| Reward {
        id: RewardId::from_uuid(ids.new_id()),
        name: name.to_owned(),
        cost: Points::new(cost),
        kind,
        active: true,
        validity_days: 30,
        min_order_total: None,
    };
    let rewards = vec![
        reward(
            "Free cheese foam",
            40,
            RewardKind::FreeModifier {
                sku: "TOP-CHEESE".into(),
            },
        ),
        reward(
            "Free oolong milk tea",
            120,
            RewardKind::FreeItem {
                sku: "TS-OOLONG".into(),
            },
        ),
        reward(
            "20% off, up to 50.000 ₫",
            200,
            RewardKind::PercentDiscount {
                percent: Decimal::from(20),
                cap: Some(vnd(50_000)),
            },
        ),
    ];
    services
        .create_brand(BrandSetup {
            brand: Brand {
                id: brand,
                name: "Mây Tea (demo)".into(),
                currency: Currency::VND,
                calling_code: CallingCode(84),
                utc_offset: offset,
                refund_policy: RefundPolicy::ClampAndRecord,
                points_validity_days: Some(180),
                created_at,
            },
            program: Some(LoyaltyProgram {
                earning_rules,
                tiers: Some(tiers),
            }),
            rewards: rewards.clone(),
        })
        .await?;
    Ok(rewards)
}

fn personas(rng: &mut Rng, count: u32, start: OffsetDateTime, end: OffsetDateTime) -> Vec<Persona> {
    let span = (end - start).as_seconds_f64();
    (0..count)
        .map(|i| {
            // Heterogeneous habits: a few regulars every couple of days, many occasional.
            let gap_days = 1.5 + 40.0 * rng.unit().powi(2);
            let churn_at = start + Duration::seconds_f64(rng.exp(span * 1.2));
            let prefix = ["90", "91", "93", "97", "98", "70", "86"][rng.below(7) as usize];
            Persona {
                phone: format!("0{prefix}{:07}", 1_000_000 + u64::from(i) * 37 % 8_999_999),
                gap_days,
                churn_at,
                favourite: rng.below(MENU.len() as u64) as usize,
                likes_topping: (rng.below(3) > 0)
                    .then(|| rng.below(TOPPINGS.len() as u64) as usize),
            }
        })
        .collect()
}

fn schedule(
    rng: &mut Rng,
    brand: BrandId,
    personas: &[Persona],
    start: OffsetDateTime,
    end: OffsetDateTime,
    offset: UtcOffset,
) -> Result<Vec<(OffsetDateTime, Event)>> {
    let vnd = |n: i64| Money::from_minor_units(n, Currency::VND);
    let mut events = Vec::new();
    let mut n = 0u64;
    for (idx, p) in personas.iter().enumerate() {
        let mut day = start + Duration::seconds_f64(rng.exp(p.gap_days) * 86_400.0);
        while day < end && day < p.churn_at {
            // Visits cluster at lunch and in the afternoon, local time.
            let local_day = day.to_offset(offset).date();
            let hour = [8, 11, 12, 12, 13, 15, 16, 17, 19, 20][rng.below(10) as usize];
            let at = local_day
                .with_hms(hour, rng.below(60) as u8, rng.below(60) as u8)
                .context("time")?
                .assume_offset(offset)
                .to_offset(UtcOffset::UTC);
            if at >= end {
                break;
            }
            n += 1;
            let mut lines = Vec::new();
            let items = 1 + rng.below(3);
            let mut total = 0i64;
            for k in 0..items {
                let item = if k == 0 || rng.below(2) == 0 {
                    &MENU[p.favourite]
                } else {
                    &MENU[rng.below(MENU.len() as u64) as usize]
                };
                let mut modifiers = Vec::new();
                let mut unit = item.price;
                if let Some(t) = p.likes_topping.filter(|_| item.category != "coffee") {
                    let (sku, name, price) = TOPPINGS[t];
                    modifiers.push(Modifier {
                        sku: sku.into(),
                        name: name.into(),
                        unit_price: vnd(price),
                    });
                    unit += price;
                }
                lines.push(LineItem {
                    sku: item.sku.into(),
                    name: item.name.into(),
                    category: Some(item.category.into()),
                    quantity: 1,
                    unit_price: vnd(item.price),
                    modifiers,
                });
                total += unit;
            }
            let location = if rng.below(3) == 0 { "q3" } else { "q1" };
            let key = EventKey::new("pos:generic", format!("{}-{n:07}", location.to_uppercase()))?;
            let order = Order {
                brand_id: brand,
                key: key.clone(),
                location: Some(location.into()),
                customer_phone: Some(Phone::parse(&p.phone, Phone::VIETNAM)?),
                placed_at: at,
                lines,
                total: vnd(total),
            };
            events.push((
                at,
                Event::Order {
                    customer: idx,
                    order,
                },
            ));
            // About one order in 60 is refunded within the hour, a third of them in part.
            if rng.below(60) == 0 {
                let scope = if rng.below(3) == 0 {
                    RefundScope::Amount {
                        amount: vnd(total / 2),
                    }
                } else {
                    RefundScope::Full
                };
                let refunded_at = at + Duration::minutes(5 + rng.below(50) as i64);
                if refunded_at < end {
                    events.push((
                        refunded_at,
                        Event::Refund {
                            refund: Refund {
                                brand_id: brand,
                                key: EventKey::new("pos:generic", format!("RF-{n:07}"))?,
                                order: key,
                                refunded_at,
                                scope,
                            },
                        },
                    ));
                }
            }
            day += Duration::seconds_f64((0.3 + rng.exp(p.gap_days)) * 86_400.0);
        }
    }
    events.sort_by_key(|(at, _)| *at);
    Ok(events)
}
