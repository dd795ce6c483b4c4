//! `regulars demo`: a café chain's year, pushed through the real use cases.
//!
//! Everything goes through [`Services`] exactly as the owner, a POS, a till and the
//! background worker would drive it: the brand, its shops, earning rules, tiers and
//! reward catalogue are set up; a year of orders (some delivered twice), refunds, rewards
//! bought with points and vouchers redeemed at the till is played; customers are scored
//! every few months; a win-back and a birthday campaign are launched, planned by
//! `run_campaigns` and delivered by `deliver_due` through the file sender; and some of the
//! customers who got a message come back for their voucher.
//!
//! Customers follow a BG/NBD-like process: each has a visit rate drawn from a gamma
//! distribution and, after every visit, a chance of never coming back (geometric
//! dropout, beta-distributed across customers). Time is simulated: the demo's clock is
//! moved event by event, which is what the `Clock` port is for.

use anyhow::{Context, Result};
use regulars_domain::{
    BrandId, CallingCode, CampaignId, ChangeSource, Currency, CustomerId, EventKey, LineItem,
    Modifier, Money, Order, Phone, Points, Refund, RefundScope, RewardId,
};
use regulars_loyalty::ledger::RefundPolicy;
use regulars_loyalty::rewards::{Reward, RewardKind};
use regulars_loyalty::rules::EarningRules;
use regulars_loyalty::tiers::TierProgram;
use regulars_models::simulate::Rng;
use regulars_ports::{Brand, Clock, IdGen, LoyaltyProgram, OutboxStatus, UnitOfWork};
use regulars_senders::FileSender;
use regulars_service::{
    BrandSetup, CampaignAction, ChangeAuthor, ChannelSenders, ConsentPatch, CustomerInput,
    DeliveryOptions, ExpiryReport, LocationInput, ManageError, RedeemVoucherError, ScoringOptions,
    Services,
};
use regulars_store::Store;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use time::{Date, Duration, Month, OffsetDateTime, UtcOffset, Weekday};

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

const BRAND_NAME: &str = "Mây Tea & Coffee (demo)";

/// How big a demo to run, and where its messages go.
pub struct DemoOptions {
    /// Customers in the simulated chain.
    pub customers: u32,
    /// Days of history, ending now.
    pub days: u32,
    /// Seed of the simulation, so a run can be repeated.
    pub seed: u64,
    /// The JSON-lines file the campaign messages are written to.
    pub messages: PathBuf,
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

/// Ids and random bytes from the seed: UUID v7 stamped with the simulated time (so rows
/// stay time-ordered as the real generator keeps them), the rest from a SplitMix64 stream.
/// Only for the demo: its voucher codes are as predictable as its seed.
struct SeededIds {
    state: std::sync::Mutex<u64>,
    clock: Arc<SimClock>,
}

impl SeededIds {
    fn new(seed: u64, stream: u64, clock: Arc<SimClock>) -> SeededIds {
        let state = seed ^ stream.wrapping_add(1).wrapping_mul(0xD1B5_4A32_D192_ED03);
        SeededIds {
            state: std::sync::Mutex::new(state),
            clock,
        }
    }

    fn next(&self) -> u64 {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl IdGen for SeededIds {
    fn new_id(&self) -> uuid::Uuid {
        let millis =
            u64::try_from(self.clock.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        let mut random = [0_u8; 10];
        self.fill_bytes(&mut random);
        uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
    }

    fn fill_bytes(&self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// Extra draws the demo needs on top of the models' generator.
trait Draw {
    fn below(&mut self, n: usize) -> usize;
    fn chance(&mut self, p: f64) -> bool;
}

impl Draw for Rng {
    fn below(&mut self, n: usize) -> usize {
        ((self.uniform() * n as f64) as usize).min(n.saturating_sub(1))
    }
    fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }
}

/// The chain's shops: code (what the POS sends), name, and how many customers call it home.
const LOCATIONS: &[(&str, &str, u32)] = &[
    ("q1", "Mây Tea – Lê Lợi, Quận 1", 35),
    ("q3", "Mây Tea – Võ Văn Tần, Quận 3", 25),
    ("bt", "Mây Tea – Bình Thạnh", 22),
    ("td", "Mây Tea – Thảo Điền", 18),
];

struct MenuItem {
    sku: &'static str,
    name: &'static str,
    category: &'static str,
    price: i64,
    /// What people who order this tend to add, and how often.
    goes_with: &'static [(&'static str, f64)],
}

const MENU: &[MenuItem] = &[
    MenuItem {
        sku: "CF-SUA",
        name: "Cà phê sữa đá",
        category: "coffee",
        price: 29_000,
        goes_with: &[("BK-BANHMI", 0.35), ("BK-CROISSANT", 0.15)],
    },
    MenuItem {
        sku: "CF-BACXIU",
        name: "Bạc xỉu",
        category: "coffee",
        price: 35_000,
        goes_with: &[("BK-CROISSANT", 0.4)],
    },
    MenuItem {
        sku: "TS-OOLONG",
        name: "Trà sữa ô long",
        category: "milk-tea",
        price: 45_000,
        goes_with: &[("BK-MOUSSE", 0.15)],
    },
    MenuItem {
        sku: "TS-BROWN",
        name: "Sữa tươi trân châu đường đen",
        category: "milk-tea",
        price: 49_000,
        goes_with: &[("BK-MOUSSE", 0.1)],
    },
    MenuItem {
        sku: "TS-JASMINE",
        name: "Trà sữa nhài",
        category: "milk-tea",
        price: 39_000,
        goes_with: &[("BK-MOUSSE", 0.15)],
    },
    MenuItem {
        sku: "TS-PEACH",
        name: "Trà đào cam sả",
        category: "fruit-tea",
        price: 45_000,
        goes_with: &[("BK-MOUSSE", 0.25)],
    },
    MenuItem {
        sku: "TS-PASSION",
        name: "Trà chanh dây",
        category: "fruit-tea",
        price: 40_000,
        goes_with: &[("BK-MOUSSE", 0.2)],
    },
    MenuItem {
        sku: "BK-CROISSANT",
        name: "Bánh sừng bò",
        category: "bakery",
        price: 25_000,
        goes_with: &[],
    },
    MenuItem {
        sku: "BK-BANHMI",
        name: "Bánh mì trứng",
        category: "bakery",
        price: 30_000,
        goes_with: &[],
    },
    MenuItem {
        sku: "BK-MOUSSE",
        name: "Bánh mousse chanh dây",
        category: "bakery",
        price: 35_000,
        goes_with: &[],
    },
];

/// Drinks people pick as their favourite (the bakery is an add-on).
const DRINKS: usize = 7;

const TOPPINGS: &[(&str, &str, i64)] = &[
    ("TOP-PEARL", "Trân châu đen", 8_000),
    ("TOP-CHEESE", "Kem phô mai", 10_000),
    ("TOP-JELLY", "Thạch dừa", 6_000),
];

/// Parts of the day, with their local hours.
const DAYPARTS: &[&[u8]] = &[
    &[7, 7, 8, 8, 9],  // morning coffee
    &[11, 12, 12, 13], // lunch peak
    &[14, 15, 16, 17], // afternoon tea
    &[18, 19, 20, 21], // evening
];

const FAMILY: &[&str] = &["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"];
const GIVEN: &[&str] = &[
    "An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hương", "Khoa", "Linh", "Mai", "Minh",
    "Nam", "Ngọc", "Phương", "Quân", "Thảo", "Trang", "Tuấn", "Vy",
];

/// One simulated customer's habits.
struct Persona {
    phone: String,
    profile: CustomerInput,
    home: usize,
    /// Visits per day while they are still a customer (gamma across customers).
    rate: f64,
    /// Chance, after each visit, of never coming back (beta across customers).
    dropout: f64,
    /// The first visit.
    joins: OffsetDateTime,
    favourite: usize,
    likes_topping: Option<usize>,
    daypart: usize,
    /// Comes on weekdays (on the way to work) rather than at weekends.
    commuter: bool,
}

/// Where a customer is in their life with the chain.
#[derive(Default)]
struct Life {
    /// Bumped when a visit is rescheduled, so the superseded one is skipped.
    generation: u64,
    visits: u32,
    came_back_for_campaign: bool,
}

enum Event {
    Visit {
        customer: usize,
        generation: u64,
        /// A campaign voucher they bring with them.
        voucher: Option<String>,
    },
    Refund(Refund),
    Score,
    Launch,
    CampaignTick,
}

/// The demo's future, in time order (ties in insertion order).
#[derive(Default)]
struct Agenda {
    events: BTreeMap<(OffsetDateTime, u64), Event>,
    seq: u64,
}

impl Agenda {
    fn push(&mut self, at: OffsetDateTime, event: Event) {
        self.seq += 1;
        self.events.insert((at, self.seq), event);
    }
    fn pop(&mut self) -> Option<(OffsetDateTime, Event)> {
        self.events.pop_first().map(|((at, _), e)| (at, e))
    }
}

/// What happened during the demo, for the story.
#[derive(Default)]
struct Tally {
    orders: u64,
    revenue_minor: i64,
    duplicates_ignored: u64,
    refunds: u64,
    points_earned: i64,
    rewards_bought: u64,
    vouchers_redeemed: u64,
    vouchers_lapsed: u64,
    campaign_vouchers_redeemed: u64,
    upgrades: u64,
    messages_sent: u64,
    /// Segment sizes at each scoring.
    scorings: Vec<(Date, BTreeMap<String, u64>)>,
}

/// The demo's campaigns, and how likely a treated customer is to answer each.
struct Campaigns {
    list: Vec<(CampaignId, &'static str, f64)>,
    seen: BTreeSet<uuid::Uuid>,
}

struct Demo {
    services: Services,
    clock: Arc<SimClock>,
    senders: ChannelSenders,
    brand: BrandId,
    offset: UtcOffset,
    rewards: Vec<Reward>,
    rng: Rng,
    personas: Vec<Persona>,
    lives: Vec<Life>,
    customer_ids: BTreeMap<usize, CustomerId>,
    by_customer: BTreeMap<CustomerId, usize>,
    held: BTreeMap<usize, String>,
    agenda: Agenda,
    tally: Tally,
    campaigns: Campaigns,
    orders_seq: u64,
}

/// Runs the demo against `store`, prints its story and returns the demo brand.
pub async fn run(store: Arc<Store>, options: &DemoOptions) -> Result<BrandId> {
    let offset = UtcOffset::from_hms(7, 0, 0).context("offset")?;
    // The year ends at the start of today, local time, so runs on one day with one seed
    // tell the same story.
    let end = OffsetDateTime::now_utc()
        .to_offset(offset)
        .replace_time(time::Time::MIDNIGHT);
    let start = end - Duration::days(i64::from(options.days));
    let clock = Arc::new(SimClock(AtomicI64::new(0)));
    clock.set(start);
    let uow: Arc<dyn UnitOfWork> = store.clone();
    // Ids come from the seed too, so the campaigns' hold-out groups (a hash of campaign
    // and customer ids) and everything after them repeat; a run on a database that
    // already holds this seed's brand takes the next stream.
    let mut stream = 0;
    let (ids, brand) = loop {
        let ids = Arc::new(SeededIds::new(options.seed, stream, clock.clone()));
        let brand = BrandId::from_uuid(ids.new_id());
        let probe = Services::new(uow.clone(), clock.clone(), ids.clone());
        match probe.brand(brand).await {
            Err(ManageError::UnknownBrand(_)) => break (ids, brand),
            Ok(_) => stream += 1,
            Err(e) => return Err(e).context("looking for a free demo brand id"),
        }
    };
    let services = Services::new(uow, clock.clone(), ids.clone());
    let rewards = create_brand(&services, ids.as_ref(), brand, offset, start).await?;
    println!(
        "brand {brand}: {BRAND_NAME}, VND, +07:00, {} shops, {} rewards",
        LOCATIONS.len(),
        rewards.len()
    );

    // The development channel stands in for Zalo, SMS and email: one JSON line a message.
    let mut senders = ChannelSenders::new();
    for sender in FileSender::for_channels(
        &options.messages,
        &[
            regulars_domain::Channel::Zalo,
            regulars_domain::Channel::Sms,
            regulars_domain::Channel::Email,
        ],
    ) {
        senders = senders.with(Arc::new(sender));
    }

    let mut rng = Rng::new(options.seed);
    let personas = personas(&mut rng, options.customers, start, end);
    let mut demo = Demo {
        services,
        clock,
        senders,
        brand,
        offset,
        rewards,
        rng,
        lives: personas.iter().map(|_| Life::default()).collect(),
        personas,
        customer_ids: BTreeMap::new(),
        by_customer: BTreeMap::new(),
        held: BTreeMap::new(),
        agenda: Agenda::default(),
        tally: Tally::default(),
        campaigns: Campaigns {
            list: Vec::new(),
            seen: BTreeSet::new(),
        },
        orders_seq: 0,
    };
    for idx in 0..demo.personas.len() {
        let first = demo.visit_time(idx, demo.personas[idx].joins)?;
        if first < end {
            demo.agenda.push(
                first,
                Event::Visit {
                    customer: idx,
                    generation: 0,
                    voucher: None,
                },
            );
        }
    }
    // The owner looks at the segments every quarter, launches the campaigns two thirds
    // into the year, and from then on customers are scored and the campaigns run weekly.
    let span = end - start;
    let local_at = |frac: f64, hour: u8| -> Result<OffsetDateTime> {
        let day = (start + span * frac).to_offset(offset).date();
        Ok(day
            .with_hms(hour, 0, 0)
            .context("time")?
            .assume_offset(offset))
    };
    for frac in [0.25, 0.5, 0.75] {
        demo.agenda.push(local_at(frac, 6)?, Event::Score);
    }
    let launch = local_at(0.62, 7)?;
    demo.agenda
        .push(launch - Duration::minutes(30), Event::Score);
    demo.agenda.push(launch, Event::Launch);
    let mut tick = launch + Duration::hours(2);
    while tick < end {
        demo.agenda.push(tick, Event::CampaignTick);
        tick += Duration::days(7);
    }
    println!(
        "simulating {} days: {} customers joining over the year",
        options.days,
        demo.personas.len()
    );

    let mut last_month = None;
    while let Some((at, event)) = demo.agenda.pop() {
        if at >= end {
            break;
        }
        demo.clock.set(at);
        let month = at.to_offset(offset).month();
        if last_month != Some(month) {
            last_month = Some(month);
            println!(
                "  {} {:>6} orders so far",
                at.to_offset(offset).date(),
                demo.tally.orders
            );
        }
        match event {
            Event::Visit {
                customer,
                generation,
                voucher,
            } => {
                if generation == demo.lives[customer].generation {
                    demo.visit(customer, voucher, at).await?;
                }
            }
            Event::Refund(refund) => {
                demo.services.refund_order(brand, refund).await?;
                demo.tally.refunds += 1;
            }
            Event::Score => demo.score(true).await?,
            Event::Launch => demo.launch().await?,
            Event::CampaignTick => demo.campaign_tick().await?,
        }
    }

    demo.clock.set(end);
    demo.score(true).await?;
    let expired = demo.services.expire_points(brand, end).await?;
    let report = demo.services.check_ledger(Some(brand)).await?;
    demo.story(&options.messages, &expired, &report).await?;
    if !report.mismatches.is_empty() || !report.invalid.is_empty() {
        anyhow::bail!("the ledger check found problems: {report:?}");
    }
    Ok(brand)
}

impl Demo {
    async fn visit(
        &mut self,
        customer: usize,
        campaign_voucher: Option<String>,
        at: OffsetDateTime,
    ) -> Result<()> {
        let brand = self.brand;
        let order = self.order(customer, at)?;
        let total = order.total.to_minor_units()?;
        // A campaign voucher from a message, or a reward bought earlier, is handed over
        // at the till.
        let code = match campaign_voucher {
            Some(code) => Some((code, true)),
            None => self.held.remove(&customer).map(|c| (c, false)),
        };
        if let Some((code, from_campaign)) = code {
            match self
                .services
                .redeem_voucher(brand, &code, Some(order.key.clone()))
                .await
            {
                Ok(_) if from_campaign => self.tally.campaign_vouchers_redeemed += 1,
                Ok(_) => self.tally.vouchers_redeemed += 1,
                // Kept too long: it expired unused, as real vouchers do.
                Err(RedeemVoucherError::Refused { .. }) => self.tally.vouchers_lapsed += 1,
                Err(e) => return Err(e).with_context(|| format!("redeeming voucher {code}")),
            }
        }
        let receipt = self.services.ingest_order(brand, order.clone()).await?;
        self.tally.orders += 1;
        self.tally.revenue_minor += total;
        self.tally.points_earned += receipt.points_earned.value();
        self.tally.upgrades += u64::from(receipt.upgraded);
        self.lives[customer].visits += 1;
        if let Some(id) = receipt.customer_id
            && !self.customer_ids.contains_key(&customer)
        {
            // The first visit: the cashier takes their name, birthday and consents.
            self.services
                .update_customer(
                    brand,
                    id,
                    self.personas[customer].profile.clone(),
                    &ChangeAuthor {
                        actor: "demo".to_owned(),
                        source: ChangeSource::Till,
                    },
                )
                .await
                .context("recording a new customer's profile")?;
            self.customer_ids.insert(customer, id);
            self.by_customer.insert(id, customer);
        }
        // POS retries happen: about one order in 40 arrives twice.
        if self.rng.chance(1.0 / 40.0) {
            let again = self.services.ingest_order(brand, order.clone()).await?;
            if again.duplicate {
                self.tally.duplicates_ignored += 1;
            }
        }
        // A customer who can afford a reward often buys one.
        if let (Some(balance), Some(id)) = (receipt.balance, receipt.customer_id) {
            let affordable: Vec<RewardId> = self
                .rewards
                .iter()
                .filter(|r| r.cost <= balance)
                .map(|r| r.id)
                .collect();
            if !affordable.is_empty() && self.rng.chance(0.3) && !self.held.contains_key(&customer)
            {
                let pick = affordable[self.rng.below(affordable.len())];
                let voucher = self.services.redeem_reward(brand, id, pick).await?;
                self.tally.rewards_bought += 1;
                self.held
                    .insert(customer, voucher.code().as_str().to_owned());
            }
        }
        // About one order in 60 is refunded within the hour, a third of them in part.
        if self.rng.chance(1.0 / 60.0) {
            let scope = if self.rng.chance(1.0 / 3.0) {
                RefundScope::Amount {
                    amount: vnd(total / 2),
                }
            } else {
                RefundScope::Full
            };
            let refunded_at = at + Duration::minutes(5 + self.rng.below(50) as i64);
            self.agenda.push(
                refunded_at,
                Event::Refund(Refund {
                    brand_id: brand,
                    key: EventKey::new("pos:generic", format!("RF-{:07}", self.orders_seq))?,
                    order: order.key,
                    refunded_at,
                    scope,
                }),
            );
        }
        // Geometric dropout: after each visit, some never come back.
        let p = &self.personas[customer];
        if !self.rng.chance(p.dropout) {
            let gap_days = self.rng.exponential(p.rate).max(0.3);
            let next =
                self.visit_time(customer, at + Duration::seconds_f64(gap_days * 86_400.0))?;
            let generation = self.lives[customer].generation;
            self.agenda.push(
                next,
                Event::Visit {
                    customer,
                    generation,
                    voucher: None,
                },
            );
        }
        Ok(())
    }

    /// When a visit planned around `around` happens: the customer's usual part of the
    /// day (most of the time), shifted to their kind of day of the week.
    fn visit_time(&mut self, customer: usize, around: OffsetDateTime) -> Result<OffsetDateTime> {
        let p = &self.personas[customer];
        let (commuter, daypart) = (p.commuter, p.daypart);
        let mut day = around.to_offset(self.offset).date();
        let weekend = matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday);
        if commuter && weekend && self.rng.chance(0.6) {
            while day.weekday() != Weekday::Monday {
                day = day.next_day().context("date")?;
            }
        } else if !commuter && !weekend && self.rng.chance(0.25) {
            while day.weekday() != Weekday::Saturday {
                day = day.next_day().context("date")?;
            }
        }
        let part = if self.rng.chance(0.7) {
            daypart
        } else {
            self.rng.below(DAYPARTS.len())
        };
        let hours = DAYPARTS[part];
        let hour = hours[self.rng.below(hours.len())];
        let minute = self.rng.below(60) as u8;
        Ok(day
            .with_hms(hour, minute, self.rng.below(60) as u8)
            .context("time")?
            .assume_offset(self.offset)
            .to_offset(UtcOffset::UTC))
    }

    /// The order of one visit: the favourite drink, what tends to go with it, sometimes
    /// a drink for a friend.
    fn order(&mut self, customer: usize, at: OffsetDateTime) -> Result<Order> {
        self.orders_seq += 1;
        let n = self.orders_seq;
        let p = &self.personas[customer];
        let (favourite, likes_topping, home) = (p.favourite, p.likes_topping, p.home);
        let phone = Phone::parse(&p.phone, Phone::VIETNAM)?;
        let mut drinks = vec![if self.rng.chance(0.8) {
            favourite
        } else {
            self.rng.below(DRINKS)
        }];
        if self.rng.chance(0.25) {
            drinks.push(self.rng.below(DRINKS));
        }
        let mut lines = Vec::new();
        let mut total = 0i64;
        for &d in &drinks {
            let item = &MENU[d];
            let mut modifiers = Vec::new();
            let mut unit = item.price;
            if let Some(t) = likes_topping.filter(|_| item.category == "milk-tea") {
                let (sku, name, price) = TOPPINGS[t];
                modifiers.push(Modifier {
                    sku: sku.into(),
                    name: name.into(),
                    unit_price: vnd(price),
                });
                unit += price;
            }
            lines.push(line(item, modifiers));
            total += unit;
            for &(sku, p) in item.goes_with {
                if self.rng.chance(p)
                    && let Some(side) = MENU.iter().find(|m| m.sku == sku)
                {
                    lines.push(line(side, Vec::new()));
                    total += side.price;
                }
            }
        }
        let location = if self.rng.chance(0.85) {
            home
        } else {
            self.rng.below(LOCATIONS.len())
        };
        let code = LOCATIONS[location].0;
        Ok(Order {
            brand_id: self.brand,
            key: EventKey::new("pos:generic", format!("{}-{n:07}", code.to_uppercase()))?,
            location: Some(code.into()),
            customer_phone: Some(phone),
            placed_at: at,
            lines,
            total: vnd(total),
        })
    }

    /// Scores every customer now; `shown` scorings make the story's segment table.
    async fn score(&mut self, shown: bool) -> Result<()> {
        let run = self
            .services
            .score_brand(self.brand, &ScoringOptions::default())
            .await
            .context("scoring the demo brand")?;
        if shown {
            let date = self.clock.now().to_offset(self.offset).date();
            println!("  {date} scored {} customers", run.customers);
            self.tally.scorings.push((date, run.segment_sizes));
        }
        Ok(())
    }

    /// The owner creates and launches the campaigns through the same use cases the
    /// dashboard and the API call.
    async fn launch(&mut self) -> Result<()> {
        let brand = self.brand;
        let reward = |kind: &str| {
            self.rewards
                .iter()
                .find(|r| {
                    matches!(
                        (&r.kind, kind),
                        (RewardKind::FreeItem { .. }, "drink")
                            | (RewardKind::FreeModifier { .. }, "topping")
                    )
                })
                .map(|r| r.id.to_string())
                .context("the demo catalogue has the reward")
        };
        let win_back = json!({
            "name": "Win back: we miss you",
            "trigger": {"type": "p_alive_below", "threshold": 0.6},
            "audience": {"rule": "frequency >= 2 and recency_days >= 30"},
            "offer": {"type": "fixed", "reward": {
                "reward_id": reward("drink")?,
                "cost": {"amount": "15000", "currency": "VND"}
            }},
            "budget": {"amount": "3000000", "currency": "VND"},
            "channels": ["zalo", "sms", "email"],
            "send_time": {"type": "now"},
            "holdout": 0.3,
            "attribution_days": 30,
        });
        let birthday = json!({
            "name": "Happy birthday",
            "trigger": {"type": "birthday", "days_before": 7},
            "offer": {"type": "fixed", "reward": {
                "reward_id": reward("topping")?,
                "cost": {"amount": "4000", "currency": "VND"}
            }},
            "channels": ["zalo", "email", "sms"],
            "send_time": {"type": "now"},
            "holdout": 0.2,
            "attribution_days": 14,
        });
        for (document, label, response) in
            [(win_back, "win-back", 0.25), (birthday, "birthday", 0.3)]
        {
            let record = self
                .services
                .create_campaign(brand, &document)
                .await
                .with_context(|| format!("creating the {label} campaign"))?;
            self.services
                .set_campaign_status(brand, record.id, CampaignAction::Launch)
                .await
                .with_context(|| format!("launching the {label} campaign"))?;
            println!(
                "  {} launched campaign \"{}\"",
                self.clock.now().to_offset(self.offset).date(),
                record.name
            );
            self.campaigns.list.push((record.id, label, response));
        }
        Ok(())
    }

    /// The weekly pass: score (as a scheduled `regulars score` would, so the campaigns
    /// plan on fresh recency and P(alive)), plan the active campaigns, deliver what is due
    /// through the senders, then let some of the customers who got a message come back.
    async fn campaign_tick(&mut self) -> Result<()> {
        let brand = self.brand;
        self.score(false).await?;
        self.services
            .run_campaigns(brand)
            .await
            .context("running the campaigns")?;
        let options = DeliveryOptions::default();
        loop {
            let round = self
                .services
                .deliver_due(&self.senders, &options)
                .await
                .context("delivering messages")?;
            self.tally.messages_sent += round.sent;
            if round.claimed < options.batch {
                break;
            }
        }
        let now = self.clock.now();
        for (campaign, _, response) in self.campaigns.list.clone() {
            let mut after = None;
            loop {
                let page = self
                    .services
                    .campaign_messages(brand, campaign, after, 200)
                    .await?;
                let Some(last) = page.last() else { break };
                after = Some(last.id);
                for m in &page {
                    if m.status != OutboxStatus::Sent || !self.campaigns.seen.insert(m.id) {
                        continue;
                    }
                    let Some(&customer) = m.customer_id.and_then(|id| self.by_customer.get(&id))
                    else {
                        continue;
                    };
                    let Some(code) = m.data.get("code").cloned() else {
                        continue;
                    };
                    if self.rng.chance(response) {
                        // They come back for it within ten days; the visit replaces
                        // whatever they had planned (and revives those who had left).
                        let life = &mut self.lives[customer];
                        life.generation += 1;
                        life.came_back_for_campaign = true;
                        let generation = life.generation;
                        let days = 1.0 + 9.0 * self.rng.uniform();
                        let at = self
                            .visit_time(customer, now + Duration::seconds_f64(days * 86_400.0))?;
                        if at > now {
                            self.agenda.push(
                                at,
                                Event::Visit {
                                    customer,
                                    generation,
                                    voucher: Some(code),
                                },
                            );
                        }
                    }
                }
            }
        }
        Ok(())
    }

    async fn story(
        &self,
        messages: &std::path::Path,
        expired: &ExpiryReport,
        report: &regulars_service::LedgerReport,
    ) -> Result<()> {
        let t = &self.tally;
        let customers = self.lives.iter().filter(|l| l.visits > 0).count();
        let repeat = self.lives.iter().filter(|l| l.visits > 1).count();
        println!();
        println!("The year of {BRAND_NAME}");
        println!(
            "  {customers} customers made {} visits at {} shops: {} of revenue; {} came back at least once ({:.0}%)",
            t.orders,
            LOCATIONS.len(),
            money(t.revenue_minor),
            repeat,
            100.0 * repeat as f64 / customers.max(1) as f64
        );
        let known: Vec<&CustomerInput> = self
            .personas
            .iter()
            .zip(&self.lives)
            .filter(|(_, l)| l.visits > 0)
            .map(|(p, _)| &p.profile)
            .collect();
        let share = |f: &dyn Fn(&CustomerInput) -> bool| {
            100.0 * known.iter().filter(|p| f(p)).count() as f64 / known.len().max(1) as f64
        };
        println!(
            "  marketing consent: Zalo {:.0}%, SMS {:.0}%, email {:.0}%; birthday on file {:.0}%",
            share(&|p| p.consent.zalo == Some(true)),
            share(&|p| p.consent.sms == Some(true)),
            share(&|p| p.consent.email == Some(true)),
            share(&|p| p.birthday.is_some())
        );
        println!(
            "  {} points earned, {} rewards bought with points, {} redeemed at the till, {} expired unused",
            t.points_earned, t.rewards_bought, t.vouchers_redeemed, t.vouchers_lapsed
        );
        println!(
            "  {} refunds, {} duplicate POS deliveries (earned nothing twice), {} tier moves",
            t.refunds, t.duplicates_ignored, t.upgrades
        );
        println!(
            "  points expiry sweep: {} accounts checked, {} with points due, {} points expired, {} skipped as invalid",
            expired.accounts_checked,
            expired.accounts_expired,
            expired.points_expired,
            expired.corrupt.len()
        );
        println!(
            "  ledger check: {} accounts, {} mismatches, {} invalid",
            report.accounts_checked,
            report.mismatches.len(),
            report.invalid.len()
        );

        // How the segments moved between scorings.
        let mut names = BTreeSet::new();
        for (_, sizes) in &t.scorings {
            names.extend(sizes.keys().cloned());
        }
        println!();
        print!("  {:<24}", "segment / scored on");
        for (date, _) in &t.scorings {
            print!(" {:>10}", date.to_string());
        }
        println!();
        for name in &names {
            print!("  {name:<24}");
            for (_, sizes) in &t.scorings {
                print!(" {:>10}", sizes.get(name).copied().unwrap_or(0));
            }
            println!();
        }

        println!();
        for (id, label, _) in &self.campaigns.list {
            let r = self.services.campaign_report(self.brand, *id).await?;
            let sent = r
                .messages
                .iter()
                .filter(|(s, _)| matches!(s, OutboxStatus::Sent | OutboxStatus::Delivered))
                .map(|(_, n)| n)
                .sum::<u64>();
            println!(
                "  campaign \"{}\" ({label}): {} messaged ({sent} sent), {} held out; {} vouchers issued, {} redeemed",
                r.campaign.name, r.treated, r.held_out, r.vouchers_issued, r.vouchers_redeemed
            );
            println!(
                "    revenue in {} days: treated {}, held out {}; offers cost {}",
                r.window_days,
                money(r.treated_revenue_minor),
                money(r.holdout_revenue_minor),
                money(r.offer_cost_minor)
            );
            match &r.attribution {
                Ok(a) => println!(
                    "    incremental revenue {} ({} per customer, 95% CI {} to {}), ROI {}",
                    money(a.incremental_revenue.round() as i64),
                    money((a.treated_mean - a.holdout_mean).round() as i64),
                    money(a.ci_low.round() as i64),
                    money(a.ci_high.round() as i64),
                    a.roi
                        .map_or_else(|| "n/a".to_owned(), |roi| format!("{:.0}%", roi * 100.0))
                ),
                Err(e) => println!("    no attribution yet: {e}"),
            }
        }
        let returned = self
            .lives
            .iter()
            .filter(|l| l.came_back_for_campaign)
            .count();
        println!(
            "  {} campaign messages delivered by the worker, {returned} customers came back for their voucher ({} redeemed)",
            t.messages_sent, t.campaign_vouchers_redeemed
        );
        println!(
            "  messages written to {} (the file channel: nothing was sent to anyone)",
            messages.display()
        );
        Ok(())
    }
}

fn vnd(n: i64) -> Money {
    Money::from_minor_units(n, Currency::VND)
}

/// `1.234.000 ₫`.
fn money(minor: i64) -> String {
    let digits = minor.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    format!("{}{out} ₫", if minor < 0 { "-" } else { "" })
}

fn line(item: &MenuItem, modifiers: Vec<Modifier>) -> LineItem {
    LineItem {
        sku: item.sku.into(),
        name: item.name.into(),
        category: Some(item.category.into()),
        quantity: 1,
        unit_price: vnd(item.price),
        modifiers,
    }
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
            "30.000 ₫ off",
            200,
            RewardKind::FixedDiscount {
                amount: vnd(30_000),
            },
        ),
    ];
    services
        .create_brand(BrandSetup {
            brand: Brand {
                id: brand,
                name: BRAND_NAME.into(),
                currency: Currency::VND,
                calling_code: CallingCode(84),
                utc_offset: offset,
                refund_policy: RefundPolicy::Debt,
                points_validity_days: Some(180),
                created_at,
            },
            program: Some(LoyaltyProgram {
                earning_rules,
                tiers: None,
            }),
            rewards: rewards.clone(),
        })
        .await?;
    services
        .set_tiers(brand, Some(tiers))
        .await
        .context("setting the demo tiers")?;
    for (code, name, _) in LOCATIONS {
        services
            .create_location(
                brand,
                LocationInput {
                    code: (*code).to_owned(),
                    name: (*name).to_owned(),
                    utc_offset: None,
                },
            )
            .await
            .with_context(|| format!("creating location {code}"))?;
    }
    Ok(rewards)
}

fn personas(rng: &mut Rng, count: u32, start: OffsetDateTime, end: OffsetDateTime) -> Vec<Persona> {
    let span = (end - start).as_seconds_f64();
    let homes: u32 = LOCATIONS.iter().map(|l| l.2).sum();
    (0..count)
        .map(|i| {
            // BG/NBD-like habits: a gamma spread of visit rates (mean one visit in ~11
            // days, a few near-daily regulars) and a beta spread of dropout chances.
            let rate = rng.gamma(1.1, 12.0).clamp(1.0 / 120.0, 0.8);
            let dropout = rng.beta(0.7, 7.0).clamp(0.005, 0.6);
            // The chain grows: more people join early, some keep joining all year.
            let joins = start + Duration::seconds_f64(span * 0.9 * rng.uniform().powf(1.6));
            let prefix = ["90", "91", "93", "97", "98", "70", "86"][rng.below(7)];
            let phone = format!("0{prefix}{:07}", 1_000_000 + u64::from(i) * 37 % 8_999_999);
            let mut pick = rng.below(homes as usize) as u32;
            let home = LOCATIONS
                .iter()
                .position(|l| {
                    let hit = pick < l.2;
                    pick = pick.saturating_sub(l.2);
                    hit
                })
                .unwrap_or(0);
            let favourite = rng.below(DRINKS);
            let coffee = MENU[favourite].category == "coffee";
            let daypart = if coffee && rng.chance(0.7) {
                0
            } else {
                1 + rng.below(DAYPARTS.len() - 1)
            };
            let name = format!(
                "{} {}",
                FAMILY[rng.below(FAMILY.len())],
                GIVEN[rng.below(GIVEN.len())]
            );
            let birthday = rng.chance(0.75).then(|| {
                let month = Month::try_from(1 + rng.below(12) as u8).unwrap_or(Month::January);
                let year = 1975 + rng.below(32) as i32;
                let day = 1 + rng.below(28) as u8;
                Date::from_calendar_date(year, month, day).ok()
            });
            let email = rng.chance(0.3).then(|| format!("khach{i}@example.vn"));
            let zalo = rng.chance(0.45);
            // Every box is the customer's own answer: unticked is "not asked" here.
            let yes = |given: bool| given.then_some(true);
            let consent = ConsentPatch {
                zalo: yes(zalo),
                sms: yes(rng.chance(0.55)),
                email: yes(email.is_some() && rng.chance(0.8)),
                profiling: yes(rng.chance(0.8)),
                programme: Some(true),
            };
            Persona {
                phone,
                profile: CustomerInput {
                    name: Some(name),
                    birthday: birthday.flatten(),
                    email,
                    zalo_user_id: zalo.then(|| format!("zalo-demo-{i:05}")),
                    consent,
                    notice_version: None,
                    consent_source: None,
                },
                home,
                rate,
                dropout,
                joins,
                favourite,
                likes_topping: rng.chance(0.6).then(|| rng.below(TOPPINGS.len())),
                daypart,
                commuter: rng.chance(0.6),
            }
        })
        .collect()
}

/// Where the demo's messages go: `regulars-demo-messages.jsonl` next to a SQLite
/// database, in the working directory otherwise.
pub fn messages_path(database_url: &str) -> PathBuf {
    const FILE: &str = "regulars-demo-messages.jsonl";
    let sqlite = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"));
    let dir = sqlite
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|path| !path.is_empty() && *path != ":memory:")
        .and_then(|path| std::path::Path::new(path).parent().map(PathBuf::from));
    match dir {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(FILE),
        _ => PathBuf::from(FILE),
    }
}
