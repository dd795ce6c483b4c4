//! Order history in bulk: a chunk of imported orders read, decided and written set-wise
//! (see [`Services::import_orders`]).

use crate::Services;
use crate::claim::{DEFAULT_CLAIM_DAYS, claimable, new_claim_code};
use crate::error::UnknownBrand;
use crate::fingerprint::fingerprint;
use crate::import_fold::{Folded, NotFolded, Rules, Start, fold_customer};
use crate::ingest::{
    IMPORT_BATCH, IngestError, ORDER_EVENT, OrderReceipt, first_receipt, fresh_stats, stored_order,
};
use crate::realtime::{Event, active_for};
use regulars_domain::{
    BrandId, ChannelConsent, Customer, CustomerId, EventKey, Order, OrderId, Phone, Points,
};
use regulars_loyalty::ledger::{Ledger, LotsFound, LotsWanted};
use regulars_ports::{
    AccountHead, IdempotentRecord, ImportWrite, LockedAccount, StoreError, Transaction,
};
use std::collections::HashMap;
use time::OffsetDateTime;

/// How many orders [`Services::import_orders`] is meant to be given at a time: one
/// transaction each, a few statements per table.
pub const IMPORT_CHUNK: usize = 5000;

/// The result of each order of a chunk, in order.
pub type ImportResults = Vec<Result<OrderReceipt, IngestError>>;

/// What the set-wise transaction decided: a result for the orders it settled, and the
/// orders (by position) left to the one-by-one path.
struct Settled {
    results: Vec<Option<Result<OrderReceipt, IngestError>>>,
    deferred: Vec<usize>,
}

/// Groups the positions of orders by their customer's phone: groups in the order of
/// their first order, each group's positions in file order. Orders without a phone are
/// left out.
pub fn group_by_phone<'o>(
    orders: impl IntoIterator<Item = (usize, &'o Order)>,
) -> Vec<(&'o Phone, Vec<usize>)> {
    let mut groups: Vec<(&Phone, Vec<usize>)> = Vec::new();
    let mut index: HashMap<&Phone, usize> = HashMap::new();
    for (position, order) in orders {
        let Some(phone) = order.customer_phone.as_ref() else {
            continue;
        };
        let group = *index.entry(phone).or_insert_with(|| {
            groups.push((phone, Vec::new()));
            groups.len() - 1
        });
        if let Some((_, positions)) = groups.get_mut(group) {
            positions.push(position);
        }
    }
    groups
}

impl Services {
    /// Imports a chunk of order history with the result
    /// [`Services::ingest_order`] would give each order fed one by one in this order —
    /// the same receipts, ledger entries, account states and visit statistics — but
    /// read and written set-wise in one transaction: one query finds the keys already
    /// seen, one the customers by phone; each customer's orders are folded in memory
    /// through the same rules and ledger commands from the stored account state; the
    /// rows are written a few multi-row statements per table.
    ///
    /// Orders without a phone are stored as the one-by-one path stores them, open to a
    /// claim. Orders the fold cannot decide alone go the one-by-one way
    /// ([`Services::ingest_orders`]) after the chunk commits: every order of a customer whose rules need the stored history or one
    /// of whose orders is refused, a key repeated within the chunk, and the whole chunk
    /// when the brand has real-time campaigns on purchases, stamp cards or a referral
    /// programme (those are written by the one-by-one path).
    pub async fn import_orders(&self, brand: BrandId, orders: &[Order]) -> ImportResults {
        let settled = self
            .transact("import_orders", |mut tx| async move {
                let result = self.settle(tx.as_mut(), brand, orders).await;
                (tx, result)
            })
            .await;
        let Settled {
            mut results,
            deferred,
        } = match settled {
            Ok(settled) => settled,
            Err(error) => {
                tracing::warn!(%brand, %error, "bulk import refused; importing one by one");
                Settled {
                    results: orders.iter().map(|_| None).collect(),
                    deferred: (0..orders.len()).collect(),
                }
            }
        };
        for batch in deferred.chunks(IMPORT_BATCH) {
            let chosen: Vec<Order> = batch
                .iter()
                .filter_map(|&i| orders.get(i).cloned())
                .collect();
            let done = self.ingest_orders(brand, &chosen).await;
            for (&i, result) in batch.iter().zip(done) {
                if let Some(slot) = results.get_mut(i) {
                    *slot = Some(result);
                }
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(UnknownBrand(brand).into())))
            .collect()
    }

    async fn settle(
        &self,
        tx: &mut dyn Transaction,
        brand_id: BrandId,
        orders: &[Order],
    ) -> Result<Settled, IngestError> {
        let mut settled = Settled {
            results: orders.iter().map(|_| None).collect(),
            deferred: Vec::new(),
        };
        let config = tx
            .brands()
            .brand_config(brand_id)
            .await?
            .ok_or(UnknownBrand(brand_id))?;
        let brand = &config.brand;
        let realtime = active_for(
            tx,
            brand,
            Event::Order(OrderId::from_uuid(self.ids.new_id())),
        )
        .await
        .map_or(true, |due| !due.is_empty());
        // Stamp cards and referrals are settled by the one-by-one path (their stamps,
        // vouchers and first-order rewards are written there): a brand that runs
        // either imports that way, rather than lose them.
        let stamps = !tx.stamps().stamp_cards(brand_id).await?.is_empty();
        let referrals = tx.referrals().programme(brand_id).await?.is_some();
        if realtime || stamps || referrals {
            settled.deferred = (0..orders.len()).collect();
            return Ok(settled);
        }
        // What can be refused alone, and the first order of each key.
        let mut open: Vec<(usize, String)> = Vec::new();
        let mut first_of: HashMap<&EventKey, usize> = HashMap::new();
        for (i, order) in orders.iter().enumerate() {
            let checked = self.check_order(brand_id, order).and_then(|()| {
                if order.currency() != brand.currency {
                    return Err(IngestError::CurrencyMismatch {
                        brand: brand.currency,
                        order: order.currency(),
                    });
                }
                Ok(fingerprint(order)?)
            });
            match checked {
                Err(error) => settled.results[i] = Some(Err(error)),
                Ok(_) if first_of.contains_key(&order.key) => settled.deferred.push(i),
                Ok(print) => {
                    first_of.insert(&order.key, i);
                    open.push((i, print));
                }
            }
        }
        let keys: Vec<EventKey> = open.iter().map(|(i, _)| orders[*i].key.clone()).collect();
        let seen: HashMap<EventKey, _> = tx
            .bulk()
            .seen_many(brand_id, &keys)
            .await?
            .into_iter()
            .collect();
        let mut prints: HashMap<usize, String> = HashMap::new();
        let mut walk_ins: Vec<(usize, String)> = Vec::new();
        for (i, print) in open {
            let order = &orders[i];
            if let Some(record) = seen.get(&order.key) {
                settled.results[i] = Some(first_receipt(&order.key, record.clone(), &print));
            } else if order.customer_phone.is_none() {
                walk_ins.push((i, print));
            } else {
                prints.insert(i, print);
            }
        }
        let groups = group_by_phone(
            orders
                .iter()
                .enumerate()
                .filter(|(i, _)| prints.contains_key(i)),
        );
        let mut write = self
            .fold_groups(
                tx,
                brand_id,
                &config,
                orders,
                &groups,
                &mut prints,
                &mut settled,
            )
            .await?;
        self.walk_ins(tx, brand_id, orders, walk_ins, &mut write, &mut settled)
            .await?;
        tx.bulk().write_import(brand_id, &write).await?;
        settled.deferred.sort_unstable();
        Ok(settled)
    }

    /// Resolves the groups' customers and accounts, folds each group, and gathers the
    /// rows; a group that cannot be folded is deferred whole.
    #[allow(clippy::too_many_arguments)]
    async fn fold_groups(
        &self,
        tx: &mut dyn Transaction,
        brand_id: BrandId,
        config: &regulars_ports::BrandConfig,
        orders: &[Order],
        groups: &[(&Phone, Vec<usize>)],
        prints: &mut HashMap<usize, String>,
        settled: &mut Settled,
    ) -> Result<ImportWrite, IngestError> {
        let mut known = KnownAccounts::read(tx, brand_id, groups).await?;
        let rules = Rules {
            brand: &config.brand,
            program: config.program.as_ref(),
        };
        let now = self.clock.now();
        let mut write = ImportWrite::default();
        for (phone, positions) in groups {
            let start = match known.customers.get(*phone).cloned() {
                Some(customer) => known
                    .start(customer.id, config)
                    .map(|start| (customer, start)),
                None => {
                    let first_seen = positions
                        .first()
                        .and_then(|&i| orders.get(i))
                        .map_or(now, |o| o.placed_at.min(now));
                    self.new_start(brand_id, config, phone, first_seen)
                }
            };
            let Some((customer, start)) = start else {
                settled.deferred.extend(positions);
                continue;
            };
            let chosen: Vec<(&Order, OrderId, String)> = positions
                .iter()
                .map(|&i| {
                    let print = prints.remove(&i).unwrap_or_default();
                    (&orders[i], OrderId::from_uuid(self.ids.new_id()), print)
                })
                .collect();
            let counted_before = start.stats.counted;
            match fold_customer(&rules, &customer, start, &chosen) {
                Ok(folded) => {
                    write.counted_before.push((customer.id, counted_before));
                    if !known.customers.contains_key(*phone) {
                        write.customers.push(customer);
                    }
                    add(&mut write, folded, positions, settled);
                }
                Err(NotFolded::NeedsHistory) => settled.deferred.extend(positions),
                Err(NotFolded::Refused(error)) => {
                    tracing::debug!(%error, "an imported order is refused; its customer's orders go one by one");
                    settled.deferred.extend(positions);
                }
            }
        }
        Ok(write)
    }

    /// The start of a customer the chunk creates, first seen at `first_seen`: an empty
    /// ledger and fresh statistics; `None` when the empty ledger cannot be made.
    fn new_start(
        &self,
        brand_id: BrandId,
        config: &regulars_ports::BrandConfig,
        phone: &Phone,
        first_seen: OffsetDateTime,
    ) -> Option<(Customer, Start)> {
        let customer = self.new_customer(brand_id, phone, first_seen);
        let ledger = Ledger::from_entries(Vec::new()).ok()?;
        let start = Start {
            head: None,
            ledger,
            stats: fresh_stats(customer.id, config.brand.currency),
        };
        Some((customer, start))
    }

    /// Orders without a phone, as the one-by-one path stores them: the order without a
    /// customer, earning nothing, open to a claim under a new code (on the receipt while
    /// the brand's claims are on).
    async fn walk_ins(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        orders: &[Order],
        walk_ins: Vec<(usize, String)>,
        write: &mut ImportWrite,
        settled: &mut Settled,
    ) -> Result<(), IngestError> {
        if walk_ins.is_empty() {
            return Ok(());
        }
        let days = tx
            .claims()
            .claim_days(brand)
            .await?
            .unwrap_or(DEFAULT_CLAIM_DAYS);
        for (i, fingerprint) in walk_ins {
            let Some(order) = orders.get(i) else {
                continue;
            };
            let order_id = OrderId::from_uuid(self.ids.new_id());
            let stored = stored_order(order_id, order, None, Points::ZERO);
            let code = new_claim_code(self.ids.as_ref());
            let receipt = OrderReceipt {
                order_id,
                customer_id: None,
                points_earned: Points::ZERO,
                balance: None,
                tier: None,
                upgraded: false,
                explanation: Vec::new(),
                lapsed: false,
                duplicate: false,
                claim_code: (days > 0).then(|| code.clone()),
            };
            let record = IdempotentRecord {
                kind: ORDER_EVENT.into(),
                result: serde_json::to_value(&receipt)
                    .map_err(|e| StoreError::Other(format!("encoding the order receipt: {e}")))?,
                fingerprint: Some(fingerprint),
            };
            write.claims.push(claimable(&stored, Some(code)));
            write.records.push((order.key.clone(), record));
            write.orders.push(stored);
            if let Some(slot) = settled.results.get_mut(i) {
                *slot = Some(Ok(receipt));
            }
        }
        Ok(())
    }

    fn new_customer(
        &self,
        brand: BrandId,
        phone: &Phone,
        first_seen: time::OffsetDateTime,
    ) -> Customer {
        Customer {
            id: CustomerId::from_uuid(self.ids.new_id()),
            brand_id: brand,
            phone: phone.clone(),
            name: None,
            birthday: None,
            email: None,
            zalo_user_id: None,
            consent: ChannelConsent::default(),
            created_at: first_seen,
        }
    }
}

/// The chunk's customers already known by phone, with their locked accounts, all their
/// open lots and their statistics, each read for all of them at once.
struct KnownAccounts {
    customers: HashMap<Phone, Customer>,
    locked: HashMap<CustomerId, LockedAccount>,
    lots: HashMap<CustomerId, LotsFound>,
    stats: HashMap<CustomerId, regulars_ports::CustomerStats>,
}

impl KnownAccounts {
    /// Reads the customers of `groups`' phones and locks their accounts.
    async fn read(
        tx: &mut dyn Transaction,
        brand_id: BrandId,
        groups: &[(&Phone, Vec<usize>)],
    ) -> Result<KnownAccounts, IngestError> {
        let phones: Vec<Phone> = groups.iter().map(|(p, _)| (*p).clone()).collect();
        let customers: HashMap<Phone, Customer> = tx
            .bulk()
            .customers_by_phones(brand_id, &phones)
            .await?
            .into_iter()
            .map(|c| (c.phone.clone(), c))
            .collect();
        let ids: Vec<CustomerId> = customers.values().map(|c| c.id).collect();
        let locked = tx
            .bulk()
            .lock_accounts(brand_id, &ids)
            .await?
            .into_iter()
            .collect();
        let lots = tx
            .bulk()
            .all_lots_of(brand_id, &ids)
            .await?
            .into_iter()
            .collect();
        let stats = tx
            .bulk()
            .stats_of(brand_id, &ids)
            .await?
            .into_iter()
            .map(|s| (s.customer_id, s))
            .collect();
        Ok(KnownAccounts {
            customers,
            locked,
            lots,
            stats,
        })
    }

    /// A known customer's start, from their stored account state with every open lot;
    /// `None` when it cannot be folded in memory (no usable state, or lots that do not
    /// fit it).
    fn start(
        &mut self,
        customer: CustomerId,
        config: &regulars_ports::BrandConfig,
    ) -> Option<Start> {
        let mut start = stored_start(
            self.locked.remove(&customer),
            self.stats.remove(&customer),
            customer,
            config,
        )?;
        // A chunk of orders may debit or sweep any lot: all of them, read for every
        // customer at once.
        let found = self.lots.remove(&customer).unwrap_or_default();
        start.ledger.add_lots(&LotsWanted::all(), found).ok()?;
        Some(start)
    }
}

/// Where a stored customer's fold starts: the account resumed from its stored state,
/// as `Account::open` resumes it; `None` when the state is missing or disagrees with
/// the head (the one-by-one path rebuilds it from the entries).
fn stored_start(
    locked: Option<LockedAccount>,
    stats: Option<regulars_ports::CustomerStats>,
    customer: CustomerId,
    config: &regulars_ports::BrandConfig,
) -> Option<Start> {
    let locked = locked?;
    let state = locked.state?;
    if state.next_seq() != locked.head.next_seq || state.balance() != locked.head.balance {
        return None;
    }
    let head: AccountHead = locked.head;
    Some(Start {
        head: Some(head),
        ledger: Ledger::resume(state, []),
        stats: stats.unwrap_or_else(|| fresh_stats(customer, config.brand.currency)),
    })
}

/// Adds a folded customer's rows to the write and its receipts to the results.
fn add(write: &mut ImportWrite, folded: Folded, positions: &[usize], settled: &mut Settled) {
    let Folded {
        orders,
        receipts,
        records,
        account,
        stats,
    } = folded;
    for ((stored, record), (&i, receipt)) in orders
        .into_iter()
        .zip(records)
        .zip(positions.iter().zip(receipts))
    {
        write.records.push((stored.order.key.clone(), record));
        write.orders.push(stored);
        if let Some(slot) = settled.results.get_mut(i) {
            *slot = Some(Ok(receipt));
        }
    }
    write.accounts.push(account);
    write.stats.push(stats);
}
