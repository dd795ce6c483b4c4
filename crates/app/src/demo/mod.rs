//! `regulars demo`: a café chain's year, pushed through the real use cases.
//!
//! Everything goes through [`Services`] exactly as the owner, a POS, a till and the
//! background worker would drive it: the brand, its shops, earning rules, tiers and
//! reward catalogue are set up; a year of orders (some delivered twice), refunds, rewards
//! bought with points and vouchers redeemed at the till is played; customers are scored
//! every few months; a win-back testing two offers and a birthday campaign are launched,
//! planned by `run_campaigns` and delivered by `deliver_due` through the file sender; and
//! the customers who got a message answer it as the stated response model says
//! (`response.rs`, `docs/demo.md`). Beside points run a stamp card, referrals through
//! invite links, ratings after visits (low ones emailed to the shop's manager) and the
//! owner's goal on the overview.
//!
//! Customers follow a BG/NBD-like process: each has a visit rate drawn from a gamma
//! distribution and, after every visit, a chance of never coming back (geometric
//! dropout, beta-distributed across customers). Time is simulated: the demo's clock is
//! moved event by event, which is what the `Clock` port is for.

mod campaigns;
mod chain;
mod doors;
mod programmes;
mod response;
mod sim;
mod story;
mod visits;

use chain::*;
use doors::{ConsentTally, Doors};
use programmes::ProgrammeTally;
use response::{OfferKind, Standing, respond};
use sim::*;

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
    SecretKey, SecretKeys, Services,
};
use regulars_store::Store;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use time::{Date, Duration, Month, OffsetDateTime, UtcOffset, Weekday};

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
    /// Their next visit is planned (by their own habits): they have not dropped out.
    planned: bool,
    came_back_for_campaign: bool,
    /// Drinks bought (at most the card's cap per order), for the stamp card.
    drinks: u32,
    /// Full stamp cards whose voucher they may hand over on a coming visit.
    stamp_cards_due: u32,
}

enum Event {
    Visit {
        customer: usize,
        generation: u64,
        /// A campaign voucher they bring with them.
        voucher: Option<String>,
        /// Brought by a campaign message, on top of their own habits.
        extra: bool,
    },
    Refund(Refund),
    Score,
    Launch,
    CampaignTick,
    /// Members try invites they cannot use, for the referral report's refusals.
    RefusedReferrals,
    /// The owner sets the goal shown on the overview.
    Goal,
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
    /// Campaign messages answered, by the offer they carried: messaged, came back,
    /// redeemed.
    answers: BTreeMap<&'static str, (u64, u64, u64)>,
    /// Segment sizes at each scoring.
    scorings: Vec<(Date, BTreeMap<String, u64>)>,
}

/// The demo's campaigns.
struct Campaigns {
    list: Vec<(CampaignId, &'static str)>,
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
    /// The response model's own draws.
    responses: Rng,
    personas: Vec<Persona>,
    lives: Vec<Life>,
    customer_ids: BTreeMap<usize, CustomerId>,
    by_customer: BTreeMap<CustomerId, usize>,
    held: BTreeMap<usize, String>,
    agenda: Agenda,
    tally: Tally,
    campaigns: Campaigns,
    orders_seq: u64,
    /// The poster and the till each location offers new customers.
    doors: Doors,
    consent: ConsentTally,
    programmes: ProgrammeTally,
    /// The simulated year.
    start: OffsetDateTime,
    end: OffsetDateTime,
    /// The file the messages are written to.
    messages: PathBuf,
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
    let (ids, brand) = free_brand(&uow, &clock, options.seed).await?;
    // A server key of the seed's own: it signs the messages' opt-out links.
    let mut key = [0_u8; 32];
    for (i, chunk) in key.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&(options.seed ^ (i as u64).wrapping_mul(0x9E37_79B9)).to_le_bytes());
    }
    let services = Services::new(uow, clock.clone(), ids.clone())
        .with_secret_keys(SecretKeys::new(SecretKey::from_bytes(key)));
    let rewards = create_brand(&services, ids.as_ref(), brand, offset, start).await?;
    programmes::set_up(&services, brand, &rewards).await?;
    println!(
        "brand {brand}: {BRAND_NAME}, VND, +07:00, {} shops, {} rewards",
        LOCATIONS.len(),
        rewards.len()
    );
    let doors = Doors::open(&services, brand, options.seed).await?;

    let mut rng = Rng::new(options.seed);
    let personas = personas(&mut rng, options.customers, start, end);
    let mut demo = Demo {
        services,
        clock,
        senders: file_senders(&options.messages),
        brand,
        offset,
        rewards,
        rng,
        responses: Rng::new(options.seed ^ 0x5EED_0FFE),
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
        doors,
        consent: ConsentTally::default(),
        programmes: ProgrammeTally::default(),
        start,
        end,
        messages: options.messages.clone(),
    };
    demo.plan(start, end)?;
    println!(
        "simulating {} days: {} customers joining over the year",
        options.days,
        demo.personas.len()
    );
    demo.play(end).await?;

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

/// Ids come from the seed too, so the campaigns' hold-out groups (a hash of campaign
/// and customer ids) and everything after them repeat; a run on a database that
/// already holds this seed's brand takes the next stream.
async fn free_brand(
    uow: &Arc<dyn UnitOfWork>,
    clock: &Arc<SimClock>,
    seed: u64,
) -> Result<(Arc<SeededIds>, BrandId)> {
    let mut stream = 0;
    loop {
        let ids = Arc::new(SeededIds::new(seed, stream, clock.clone()));
        let brand = BrandId::from_uuid(ids.new_id());
        let probe = Services::new(uow.clone(), clock.clone(), ids.clone());
        match probe.brand(brand).await {
            Err(ManageError::UnknownBrand(_)) => return Ok((ids, brand)),
            Ok(_) => stream += 1,
            Err(e) => return Err(e).context("looking for a free demo brand id"),
        }
    }
}

/// The development channel stands in for Zalo, SMS and email: one JSON line a message.
fn file_senders(messages: &std::path::Path) -> ChannelSenders {
    let mut senders = ChannelSenders::new();
    for sender in FileSender::for_channels(
        messages,
        &[
            regulars_domain::Channel::Zalo,
            regulars_domain::Channel::Sms,
            regulars_domain::Channel::Email,
        ],
    ) {
        senders = senders.with(Arc::new(sender));
    }
    senders
}

impl Demo {
    /// Fills the agenda: every customer's first visit, and the owner's routine: the
    /// segments looked at every quarter, the campaigns launched two thirds into the
    /// year, and from then on customers scored and the campaigns run weekly.
    fn plan(&mut self, start: OffsetDateTime, end: OffsetDateTime) -> Result<()> {
        for idx in 0..self.personas.len() {
            let first = self.visit_time(idx, self.personas[idx].joins)?;
            if first < end {
                self.agenda.push(
                    first,
                    Event::Visit {
                        customer: idx,
                        generation: 0,
                        voucher: None,
                        extra: false,
                    },
                );
                self.lives[idx].planned = true;
            }
        }
        let (span, offset) = (end - start, self.offset);
        let local_at = |frac: f64, hour: u8| -> Result<OffsetDateTime> {
            let day = (start + span * frac).to_offset(offset).date();
            Ok(day
                .with_hms(hour, 0, 0)
                .context("time")?
                .assume_offset(offset))
        };
        for frac in [0.25, 0.5, 0.75] {
            self.agenda.push(local_at(frac, 6)?, Event::Score);
        }
        self.agenda
            .push(local_at(0.5, 10)?, Event::RefusedReferrals);
        let goal_day = (end - Duration::days(28)).max(start);
        self.agenda.push(goal_day, Event::Goal);
        let launch = local_at(0.62, 7)?;
        self.agenda
            .push(launch - Duration::minutes(30), Event::Score);
        self.agenda.push(launch, Event::Launch);
        let mut tick = launch + Duration::hours(2);
        while tick < end {
            self.agenda.push(tick, Event::CampaignTick);
            tick += Duration::days(7);
        }
        Ok(())
    }

    /// Plays the agenda up to `end`, moving the clock to each event.
    async fn play(&mut self, end: OffsetDateTime) -> Result<()> {
        let mut last_month = None;
        while let Some((at, event)) = self.agenda.pop() {
            if at >= end {
                break;
            }
            self.clock.set(at);
            let local = at.to_offset(self.offset);
            if last_month != Some(local.month()) {
                last_month = Some(local.month());
                println!("  {} {:>6} orders so far", local.date(), self.tally.orders);
            }
            match event {
                Event::Visit {
                    customer,
                    generation,
                    voucher,
                    extra,
                } => {
                    if extra || generation == self.lives[customer].generation {
                        self.visit(customer, voucher, at, extra).await?;
                    }
                }
                Event::Refund(refund) => {
                    self.services.refund_order(self.brand, refund).await?;
                    self.tally.refunds += 1;
                }
                Event::Score => self.score(true).await?,
                Event::Launch => self.launch().await?,
                Event::CampaignTick => self.campaign_tick().await?,
                Event::RefusedReferrals => self.refused_referrals().await?,
                Event::Goal => self.set_goal(end).await?,
            }
        }
        Ok(())
    }
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
