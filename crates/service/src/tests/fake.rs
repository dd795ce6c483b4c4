//! A small transactional store made of the ports' `mockall` mocks.
//!
//! Every transaction works on its own copy of the committed [`World`]; the copy becomes
//! the committed world only if the use case called `commit` (read through the mock
//! transaction's outcome handle). Failures are injected per repository method, and every
//! write a use case *attempts* is logged, committed or not.

use regulars_domain::{BrandId, Customer, CustomerId, EventKey, OrderId, Phone, Points};
use regulars_loyalty::ledger::{AccountState, LedgerEntry, Lot, Tally};
use regulars_loyalty::rewards::Reward;
use regulars_loyalty::vouchers::Voucher;
use regulars_ports::mocks::{
    MockTransaction, OutcomeHandle, SavepointHook, SavepointOp, TxOutcome,
};
use regulars_ports::{
    Brand, BrandConfig, CountedTimes, CustomerStats, IdempotentRecord, LoyaltyProgram, MockClock,
    MockIdGen, MockUnitOfWork, StoreError, StoredOrder, Transaction,
};
use regulars_reports::order_counts;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use time::OffsetDateTime;
use uuid::Uuid;

mod claims;
mod ledger;
mod menu;
mod stamps;
mod vouchers;

use ledger::append;

/// A customer's stored account: entries and the cached balance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredAccount {
    pub entries: Vec<LedgerEntry>,
    pub balance: Points,
    /// The stored account state; `None` until an append stores one.
    pub state: Option<AccountState>,
    /// The stored tallies by key.
    pub tallies: BTreeMap<String, Tally>,
    /// The stored open lots by seq (the state holds the figures alone, as storage's).
    pub lots: BTreeMap<u64, Lot>,
}

impl StoredAccount {
    /// The stored lots in consumption order, as storage reads them.
    pub fn lots_in_order(&self) -> Vec<Lot> {
        let mut lots: Vec<Lot> = self.lots.values().copied().collect();
        lots.sort_by_key(|l| (l.expires_at.is_none(), l.expires_at, l.seq));
        lots
    }
}

/// Everything storage holds.
#[derive(Debug, Clone, Default)]
pub struct World {
    pub brands: BTreeMap<BrandId, Brand>,
    pub programs: BTreeMap<BrandId, LoyaltyProgram>,
    pub rewards: Vec<(BrandId, Reward)>,
    pub customers: Vec<Customer>,
    pub stats: BTreeMap<(BrandId, CustomerId), CustomerStats>,
    pub accounts: BTreeMap<(BrandId, CustomerId), StoredAccount>,
    pub orders: Vec<StoredOrder>,
    pub vouchers: Vec<(BrandId, Voucher, Option<OrderId>)>,
    pub idempotency: BTreeMap<(BrandId, EventKey), IdempotentRecord>,
    /// Orders open to a claim, and their claim once made.
    pub claims: Vec<(
        BrandId,
        regulars_ports::ClaimableOrder,
        Option<regulars_ports::OrderClaim>,
    )>,
    pub claim_days: BTreeMap<BrandId, u32>,
    /// Menu items by brand and SKU.
    pub menu: BTreeMap<(BrandId, String), regulars_domain::MenuItem>,
    /// Stamp cards by brand.
    pub stamp_cards: BTreeMap<BrandId, Vec<regulars_loyalty::stamps::StampCard>>,
    /// Stamp states by brand, customer and card code.
    pub stamp_states: BTreeMap<(BrandId, CustomerId, String), regulars_loyalty::stamps::StampState>,
    /// Stamp event logs by brand, customer and card code.
    pub stamp_events:
        BTreeMap<(BrandId, CustomerId, String), Vec<regulars_loyalty::stamps::StampEvent>>,
}

impl World {
    pub fn account(&self, brand: BrandId, customer: CustomerId) -> StoredAccount {
        self.accounts
            .get(&(brand, customer))
            .cloned()
            .unwrap_or_default()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An injected failure.
struct Fault {
    error: StoreError,
    other_writer: Box<dyn FnOnce(&mut World) + Send>,
}

/// A transaction begun and not yet settled: how it ended, and its copy of the world.
type OpenTransaction = (OutcomeHandle, Arc<Mutex<World>>);

/// Shared state of the fake: the committed world, open transactions, faults, the log.
#[derive(Clone, Default)]
pub struct Fake {
    committed: Arc<Mutex<World>>,
    open: Arc<Mutex<Vec<OpenTransaction>>>,
    faults: Arc<Mutex<HashMap<&'static str, VecDeque<Fault>>>>,
    log: Arc<Mutex<Vec<&'static str>>>,
    begun: Arc<Mutex<u32>>,
    outcomes: Arc<Mutex<Vec<OutcomeHandle>>>,
}

impl Fake {
    pub fn new(world: World) -> Self {
        let fake = Fake::default();
        *lock(&fake.committed) = world;
        fake
    }

    /// Makes the next call of `method` fail with `error` (queued: several calls fail in
    /// turn). `method` is the repository method's name, or `"commit"` / `"begin"`.
    pub fn fail(&self, method: &'static str, error: StoreError) {
        self.fail_after(method, error, |_| {});
    }

    /// Like [`Fake::fail`], and at the moment of the failure `other_writer` changes the
    /// committed world: what a concurrent transaction that won the race committed.
    pub fn fail_after(
        &self,
        method: &'static str,
        error: StoreError,
        other_writer: impl FnOnce(&mut World) + Send + 'static,
    ) {
        lock(&self.faults)
            .entry(method)
            .or_default()
            .push_back(Fault {
                error,
                other_writer: Box::new(other_writer),
            });
    }

    /// The committed world.
    pub fn world(&self) -> World {
        self.settle();
        lock(&self.committed).clone()
    }

    /// Replaces the committed world.
    pub fn edit(&self, f: impl FnOnce(&mut World)) {
        self.settle();
        f(&mut lock(&self.committed));
    }

    /// Writes attempted since the last call, in order, committed or not.
    pub fn take_writes(&self) -> Vec<&'static str> {
        std::mem::take(&mut *lock(&self.log))
    }

    /// Transactions begun so far.
    pub fn begun(&self) -> u32 {
        *lock(&self.begun)
    }

    /// How every transaction begun so far ended.
    pub fn outcomes(&self) -> Vec<TxOutcome> {
        lock(&self.outcomes)
            .iter()
            .map(OutcomeHandle::get)
            .collect()
    }

    /// Applies the copies of committed transactions. Transactions are sequential here, so
    /// at most one is open, and its copy was taken from the latest committed world.
    fn settle(&self) {
        let open = std::mem::take(&mut *lock(&self.open));
        for (outcome, staged) in open {
            if outcome.get() == TxOutcome::Committed {
                *lock(&self.committed) = lock(&staged).clone();
            }
        }
    }

    fn take_fault(&self, method: &'static str) -> Result<(), StoreError> {
        let fault = lock(&self.faults)
            .get_mut(method)
            .and_then(VecDeque::pop_front);
        match fault {
            Some(fault) => {
                (fault.other_writer)(&mut lock(&self.committed));
                Err(fault.error)
            }
            None => Ok(()),
        }
    }

    /// A unit of work over this fake.
    pub fn uow(&self) -> MockUnitOfWork {
        let fake = self.clone();
        let mut uow = MockUnitOfWork::new();
        uow.expect_begin().returning(move || {
            fake.settle();
            *lock(&fake.begun) += 1;
            fake.take_fault("begin")?;
            let tx: Box<dyn Transaction> = Box::new(fake.transaction());
            Ok(tx)
        });
        uow
    }

    fn transaction(&self) -> MockTransaction {
        let staged = Arc::new(Mutex::new(lock(&self.committed).clone()));
        let mut tx = MockTransaction::default();
        if let Err(error) = self.take_fault("commit") {
            tx.commit_result = Err(error);
        }
        lock(&self.open).push((tx.outcome(), staged.clone()));
        lock(&self.outcomes).push(tx.outcome());
        tx.on_savepoint = Some(savepoints(self.clone(), staged.clone()));
        let h = Handle {
            fake: self.clone(),
            world: staged,
        };
        brands(&mut tx, &h);
        customers(&mut tx, &h);
        orders(&mut tx, &h);
        ledger::ledger(&mut tx, &h);
        vouchers::vouchers(&mut tx, &h);
        idempotency(&mut tx, &h);
        campaigns(&mut tx);
        claims::claims(&mut tx, &h);
        menu::menu(&mut tx, &h);
        // The till's records for the report by staff member are not modelled: kept
        // nowhere, so a till action's outcome does not depend on them.
        tx.till.expect_record_till_action().returning(|_| Ok(()));
        stamps::stamps(&mut tx, &h);
        tx
    }
}

/// Savepoints over a transaction's copy of the world: a copy of the copy, put back on a
/// rollback. Faults are injected under `savepoint`, `release_savepoint` and
/// `rollback_to_savepoint`.
fn savepoints(fake: Fake, world: Arc<Mutex<World>>) -> SavepointHook {
    let mut marked: Option<World> = None;
    Box::new(move |op| {
        let method = match op {
            SavepointOp::Mark => "savepoint",
            SavepointOp::Release => "release_savepoint",
            SavepointOp::RollBack => "rollback_to_savepoint",
        };
        fake.take_fault(method)?;
        match op {
            SavepointOp::Mark => marked = Some(lock(&world).clone()),
            SavepointOp::Release => marked = None,
            SavepointOp::RollBack => {
                if let Some(before) = marked.take() {
                    *lock(&world) = before;
                }
            }
        }
        Ok(())
    })
}

/// What a mocked method closure holds: the fake and the transaction's copy of the world.
#[derive(Clone)]
struct Handle {
    fake: Fake,
    world: Arc<Mutex<World>>,
}

impl Handle {
    fn read<T>(&self, method: &'static str, f: impl FnOnce(&World) -> T) -> Result<T, StoreError> {
        self.fake.take_fault(method)?;
        Ok(f(&lock(&self.world)))
    }

    fn write<T>(
        &self,
        method: &'static str,
        f: impl FnOnce(&mut World) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        lock(&self.fake.log).push(method);
        self.fake.take_fault(method)?;
        f(&mut lock(&self.world))
    }
}

/// The fake holds no campaigns and no messages: an order finds no real-time campaign
/// to plan, a refund no message to cancel.
fn campaigns(tx: &mut MockTransaction) {
    tx.campaigns
        .expect_campaigns_with_status()
        .returning(|_, _| Ok(Vec::new()));
    tx.outbox
        .expect_cancel_for_order()
        .returning(|_, _, _, _| Ok(0));
}

fn conflict(what: &str) -> StoreError {
    StoreError::Conflict(what.into())
}

fn brands(tx: &mut MockTransaction, h: &Handle) {
    let r = h.clone();
    tx.brands
        .expect_brand()
        .returning(move |id| r.read("brand", |w| w.brands.get(&id).cloned()));
    let r = h.clone();
    tx.brands.expect_update_brand().returning(move |brand| {
        let brand = brand.clone();
        r.write("update_brand", move |w| match w.brands.get_mut(&brand.id) {
            Some(stored) => {
                *stored = brand;
                Ok(())
            }
            None => Err(StoreError::NotFound("brand".into())),
        })
    });
    let r = h.clone();
    tx.brands
        .expect_brand_ids()
        .returning(move || r.read("brand_ids", |w| w.brands.keys().copied().collect()));
    let r = h.clone();
    tx.brands
        .expect_program()
        .returning(move |id| r.read("program", |w| w.programs.get(&id).cloned()));
    let r = h.clone();
    tx.brands.expect_brand_config().returning(move |id| {
        r.read("brand_config", |w| {
            w.brands.get(&id).map(|brand| BrandConfig {
                version: None,
                brand: brand.clone(),
                program: w.programs.get(&id).cloned(),
                stamp_cards: w.stamp_cards.get(&id).cloned().unwrap_or_default(),
            })
        })
    });
    let r = h.clone();
    tx.brands.expect_reward().returning(move |brand, id| {
        r.read("reward", |w| {
            w.rewards
                .iter()
                .find(|(b, reward)| *b == brand && reward.id == id)
                .map(|(_, reward)| reward.clone())
        })
    });
    let r = h.clone();
    tx.brands.expect_rewards().returning(move |brand| {
        r.read("rewards", |w| {
            w.rewards
                .iter()
                .filter(|(b, _)| *b == brand)
                .map(|(_, reward)| reward.clone())
                .collect()
        })
    });
}

fn customers(tx: &mut MockTransaction, h: &Handle) {
    let r = h.clone();
    tx.customers
        .expect_customer_by_phone()
        .returning(move |brand, phone| r.read("customer_by_phone", |w| by_phone(w, brand, phone)));
    let r = h.clone();
    tx.customers.expect_customer().returning(move |brand, id| {
        r.read("customer", |w| {
            w.customers
                .iter()
                .find(|c| c.brand_id == brand && c.id == id)
                .cloned()
        })
    });
    let r = h.clone();
    tx.customers
        .expect_insert_customer()
        .returning(move |customer| {
            let customer = customer.clone();
            r.write("insert_customer", move |w| {
                if w.customers
                    .iter()
                    .any(|c| c.brand_id == customer.brand_id && c.phone == customer.phone)
                {
                    return Err(conflict("customers (brand_id, phone)"));
                }
                w.customers.push(customer);
                Ok(())
            })
        });
    let r = h.clone();
    tx.customers
        .expect_stats()
        .returning(move |brand, id| r.read("stats", |w| w.stats.get(&(brand, id)).cloned()));
    let r = h.clone();
    tx.customers
        .expect_save_stats()
        .returning(move |brand, stats| {
            let stats = stats.clone();
            r.write("save_stats", move |w| {
                w.stats.insert((brand, stats.customer_id), stats);
                Ok(())
            })
        });
}

fn orders(tx: &mut MockTransaction, h: &Handle) {
    let r = h.clone();
    tx.orders
        .expect_order_by_key()
        .returning(move |brand, key| {
            r.read("order_by_key", |w| {
                w.orders
                    .iter()
                    .find(|o| o.order.brand_id == brand && &o.order.key == key)
                    .cloned()
            })
        });
    let r = h.clone();
    tx.orders
        .expect_lock_order_by_key()
        .returning(move |brand, key| {
            r.read("lock_order_by_key", |w| {
                w.orders
                    .iter()
                    .find(|o| o.order.brand_id == brand && &o.order.key == key)
                    .cloned()
            })
        });
    let r = h.clone();
    tx.orders.expect_order().returning(move |brand, id| {
        r.read("order", |w| {
            w.orders
                .iter()
                .find(|o| o.order.brand_id == brand && o.id == id)
                .cloned()
        })
    });
    let r = h.clone();
    tx.orders.expect_insert_order().returning(move |order| {
        let order = order.clone();
        r.write("insert_order", move |w| insert_order(w, order))
    });
    let r = h.clone();
    tx.orders
        .expect_insert_counted_order()
        .returning(move |order, _| {
            let order = order.clone();
            r.write("insert_order", move |w| insert_order(w, order))
        });
    let r = h.clone();
    tx.orders.expect_write_order().returning(move |writes| {
        // The writes the store makes one by one where it cannot make them in one
        // statement, each under its own name, so a fault set on any strikes here.
        let writes = writes.clone();
        let (brand, key) = (writes.order.order.brand_id, writes.order.order.key.clone());
        let order = writes.order.clone();
        r.write("insert_order", move |w| insert_order(w, order))?;
        let head = match writes.account {
            Some(a) => {
                let balance = a.state.balance();
                let stored = Some((a.state, a.tallies));
                Some(r.write("append", move |w| {
                    append(w, brand, a.customer, a.head, a.entries, balance, stored)
                })?)
            }
            None => None,
        };
        if let Some(stats) = writes.stats {
            r.write("save_stats", move |w| {
                w.stats.insert((brand, stats.customer_id), stats);
                Ok(())
            })?;
        }
        let record = writes.record;
        r.write("remember", move |w| remember(w, brand, key, record))?;
        if let Some((key, record)) = writes.also {
            r.write("remember", move |w| remember(w, brand, key, record))?;
        }
        Ok(head)
    });
    let r = h.clone();
    tx.orders
        .expect_counted_times()
        .returning(move |brand, customer, except| {
            r.read("counted_times", |w| {
                let mut times: Vec<OffsetDateTime> = w
                    .orders
                    .iter()
                    .filter(|o| o.order.brand_id == brand && o.customer_id == Some(customer))
                    .filter(|o| o.id != except && order_counts(&o.order.total, &o.refunded))
                    .map(|o| o.order.placed_at)
                    .collect();
                times.sort();
                CountedTimes {
                    first: times.first().copied(),
                    last: times.last().copied(),
                    second_last: times.len().checked_sub(2).map(|i| times[i]),
                }
            })
        });
    let r = h.clone();
    tx.orders
        .expect_set_refunded()
        .returning(move |brand, id, before, after| {
            r.write("set_refunded", move |w| {
                let order = w
                    .orders
                    .iter_mut()
                    .find(|o| o.order.brand_id == brand && o.id == id)
                    .ok_or_else(|| StoreError::NotFound("order".into()))?;
                if order.refunded != before {
                    return Err(conflict("orders.refunded_minor"));
                }
                order.refunded = after;
                Ok(())
            })
        });
}

fn idempotency(tx: &mut MockTransaction, h: &Handle) {
    let r = h.clone();
    tx.idempotency.expect_seen().returning(move |brand, key| {
        r.read("seen", |w| {
            w.idempotency.get(&(brand, key.clone())).cloned()
        })
    });
    let r = h.clone();
    tx.idempotency
        .expect_seen_each()
        .returning(move |brand, keys| {
            r.read("seen", |w| {
                keys.iter()
                    .map(|key| w.idempotency.get(&(brand, key.clone())).cloned())
                    .collect()
            })
        });
    let r = h.clone();
    tx.idempotency
        .expect_seen_with_stats()
        .returning(move |brand, key, customer| {
            // The fake's two reads, so a fault set on either still strikes here.
            let seen = r.read("seen", |w| {
                w.idempotency.get(&(brand, key.clone())).cloned()
            })?;
            let stats = r.read("stats", |w| w.stats.get(&(brand, customer)).cloned())?;
            Ok((seen, stats))
        });
    let r = h.clone();
    tx.idempotency
        .expect_seen_with_customer()
        .returning(move |brand, key, phone| {
            let seen = r.read("seen", |w| {
                w.idempotency.get(&(brand, key.clone())).cloned()
            })?;
            let customer = r.read("customer_by_phone", |w| by_phone(w, brand, phone))?;
            Ok((seen, customer))
        });
    let r = h.clone();
    tx.idempotency
        .expect_seen_each_with_customer()
        .returning(move |brand, keys, phone| {
            let seen = r.read("seen", |w| {
                keys.iter()
                    .map(|key| w.idempotency.get(&(brand, key.clone())).cloned())
                    .collect()
            })?;
            let customer = r.read("customer_by_phone", |w| by_phone(w, brand, phone))?;
            Ok((seen, customer))
        });
    let r = h.clone();
    tx.idempotency
        .expect_remember()
        .returning(move |brand, key, record| {
            let (key, record) = (key.clone(), record.clone());
            r.write("remember", move |w| remember(w, brand, key, record))
        });
}

/// The brand's customer with this phone.
fn by_phone(w: &World, brand: BrandId, phone: &Phone) -> Option<Customer> {
    w.customers
        .iter()
        .find(|c| c.brand_id == brand && &c.phone == phone)
        .cloned()
}

fn insert_order(w: &mut World, order: StoredOrder) -> Result<(), StoreError> {
    if w.orders
        .iter()
        .any(|o| o.order.brand_id == order.order.brand_id && o.order.key == order.order.key)
    {
        return Err(conflict("orders (brand_id, source, external_id)"));
    }
    w.orders.push(order);
    Ok(())
}

fn remember(
    w: &mut World,
    brand: BrandId,
    key: EventKey,
    record: IdempotentRecord,
) -> Result<(), StoreError> {
    if w.idempotency.contains_key(&(brand, key.clone())) {
        return Err(conflict("idempotency (brand_id, source, external_id)"));
    }
    w.idempotency.insert((brand, key), record);
    Ok(())
}

/// A clock that stays where it is set.
pub fn clock(now: Arc<Mutex<OffsetDateTime>>) -> MockClock {
    let mut clock = MockClock::new();
    clock.expect_now().returning(move || *lock(&now));
    clock
}

/// Ids counting up from 1. Random bytes come from `bytes` in turn, then, once it is
/// empty, from a counter, so a test can script two vouchers to draw the same code.
pub fn ids(bytes: Arc<Mutex<VecDeque<u64>>>) -> MockIdGen {
    let counter = Arc::new(Mutex::new(0_u128));
    let mut ids = MockIdGen::new();
    ids.expect_new_id().returning(move || {
        let mut n = lock(&counter);
        *n += 1;
        Uuid::from_u128(*n)
    });
    let drawn = Arc::new(Mutex::new(0xF000_0000_u64));
    ids.expect_fill_bytes().returning(move |dest| {
        let value = lock(&bytes).pop_front().unwrap_or_else(|| {
            let mut n = lock(&drawn);
            *n += 1;
            *n
        });
        for (d, s) in dest.iter_mut().zip(value.to_be_bytes().iter().cycle()) {
            *d = *s;
        }
    });
    ids
}
