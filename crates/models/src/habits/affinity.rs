//! Product affinity: which items are bought together, each customer's favourite item,
//! and the next best item to offer them.
//!
//! A basket is the set of SKUs of one order (quantities and repeats within an order do
//! not count). Over `N` baskets, for items `a` and `b` bought together in `n(a,b)`:
//!
//! * support `= n(a,b) / N`, in `[0, 1]`;
//! * confidence `a → b = n(a,b) / n(a)`, in `[0, 1]` ("of the orders with `a`, the share
//!   that also had `b`");
//! * lift `= n(a,b) · N / (n(a) · n(b))`, symmetric: above 1 the items go together more
//!   often than chance.
//!
//! Items are interned to dense indices and pairs counted in a hash map keyed by the two
//! indices packed in a `u64`, so building over millions of orders hashes each SKU once
//! per occurrence and never a string per pair.

use super::HabitsError;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use time::OffsetDateTime;

/// Which pairs are kept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AffinityConfig {
    /// Minimum number of orders with both items.
    pub min_pair_orders: u64,
    /// Minimum support of the pair (share of all orders with both items).
    pub min_support: f64,
}

impl Default for AffinityConfig {
    /// At least 5 orders together and 0.01 % of all orders.
    fn default() -> Self {
        AffinityConfig {
            min_pair_orders: 5,
            min_support: 0.0001,
        }
    }
}

/// Two items bought together, `a < b` by SKU.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemPair {
    /// The SKU that sorts first.
    pub a: String,
    /// The SKU that sorts second.
    pub b: String,
    /// Orders with both items.
    pub orders: u64,
    /// Share of all orders with both items.
    pub support: f64,
    /// Share of the orders with `a` that also had `b`.
    pub confidence_a_to_b: f64,
    /// Share of the orders with `b` that also had `a`.
    pub confidence_b_to_a: f64,
    /// How much more often than chance the two are bought together.
    pub lift: f64,
}

/// Co-occurrence statistics over a brand's orders.
#[derive(Debug, Clone)]
pub struct AffinityModel {
    orders: u64,
    skus: Vec<String>,
    index: HashMap<String, u32>,
    item_orders: Vec<u64>,
    pairs: Vec<ItemPair>,
    /// For each item index, the pairs (indices into `pairs`) it belongs to.
    by_item: Vec<Vec<usize>>,
}

/// A multiplicative hash for packed pair keys: a keyed SipHash buys nothing here.
#[derive(Default)]
struct PairHasher(u64);

impl Hasher for PairHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 =
                (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ (n >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type PairMap = HashMap<u64, u64, BuildHasherDefault<PairHasher>>;

fn pack(a: u32, b: u32) -> u64 {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    (u64::from(lo) << 32) | u64::from(hi)
}

fn unpack(key: u64) -> (u32, u32) {
    ((key >> 32) as u32, key as u32)
}

/// What one pass over the baskets counts, with items numbered in the order first seen.
struct Counts {
    orders: u64,
    /// SKU -> item index.
    index: HashMap<String, u32>,
    /// Item index -> SKU.
    first_seen: Vec<String>,
    /// Item index -> orders with the item.
    item_orders: Vec<u64>,
    /// Packed pair of item indices -> orders with both.
    pair_orders: PairMap,
}

impl Counts {
    /// Counts orders, items and pairs, each item and pair once per basket.
    fn of<I, B, S>(baskets: I) -> Counts
    where
        I: IntoIterator<Item = B>,
        B: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut counts = Counts {
            orders: 0,
            index: HashMap::new(),
            first_seen: Vec::new(),
            item_orders: Vec::new(),
            pair_orders: PairMap::default(),
        };
        let mut basket: Vec<u32> = Vec::new();
        for b in baskets {
            counts.orders += 1;
            basket.clear();
            for sku in b {
                basket.push(counts.intern(sku.as_ref()));
            }
            basket.sort_unstable();
            basket.dedup();
            for (k, &x) in basket.iter().enumerate() {
                if let Some(count) = counts.item_orders.get_mut(x as usize) {
                    *count += 1;
                }
                for &y in &basket[k + 1..] {
                    *counts.pair_orders.entry(pack(x, y)).or_insert(0) += 1;
                }
            }
        }
        counts
    }

    /// The index of `sku`, numbering it when first seen.
    fn intern(&mut self, sku: &str) -> u32 {
        match self.index.get(sku) {
            Some(i) => *i,
            None => {
                let i = u32::try_from(self.first_seen.len()).unwrap_or(u32::MAX);
                self.index.insert(sku.to_owned(), i);
                self.first_seen.push(sku.to_owned());
                self.item_orders.push(0);
                i
            }
        }
    }
}

/// Items renumbered in SKU order, so nothing depends on which order came first: the
/// SKUs and their order counts by new index, and the new index of each old one.
fn in_sku_order(first_seen: &[String], item_orders: &[u64]) -> (Vec<String>, Vec<u64>, Vec<u32>) {
    let mut by_sku: Vec<u32> = (0..first_seen.len() as u32).collect();
    by_sku.sort_unstable_by(|a, b| first_seen[*a as usize].cmp(&first_seen[*b as usize]));
    let mut renumber = vec![0u32; first_seen.len()];
    for (new, old) in by_sku.iter().enumerate() {
        renumber[*old as usize] = new as u32;
    }
    let skus: Vec<String> = by_sku
        .iter()
        .map(|old| first_seen[*old as usize].clone())
        .collect();
    let item_orders: Vec<u64> = by_sku
        .iter()
        .map(|old| item_orders[*old as usize])
        .collect();
    (skus, item_orders, renumber)
}

/// The pairs that pass `config`, with their statistics, as `(a, b, pair)` in new
/// (SKU-order) indices, highest lift first (then most orders, then by index).
fn kept_pairs(
    pair_orders: PairMap,
    renumber: &[u32],
    skus: &[String],
    item_orders: &[u64],
    orders: u64,
    config: AffinityConfig,
) -> Vec<(u32, u32, ItemPair)> {
    let n = orders as f64;
    let mut pairs: Vec<(u32, u32, ItemPair)> = pair_orders
        .into_iter()
        .filter_map(|(key, together)| {
            let (x, y) = unpack(key);
            let (x, y) = (renumber[x as usize], renumber[y as usize]);
            let (a, b) = if x < y { (x, y) } else { (y, x) };
            let support = together as f64 / n;
            if together < config.min_pair_orders || support < config.min_support {
                return None;
            }
            let (na, nb) = (
                item_orders[a as usize] as f64,
                item_orders[b as usize] as f64,
            );
            let t = together as f64;
            Some((
                a,
                b,
                ItemPair {
                    a: skus[a as usize].clone(),
                    b: skus[b as usize].clone(),
                    orders: together,
                    support,
                    confidence_a_to_b: t / na,
                    confidence_b_to_a: t / nb,
                    lift: t * n / (na * nb),
                },
            ))
        })
        .collect();
    pairs.sort_by(|(xa, xb, x), (ya, yb, y)| {
        y.lift
            .total_cmp(&x.lift)
            .then(y.orders.cmp(&x.orders))
            .then(xa.cmp(ya))
            .then(xb.cmp(yb))
    });
    pairs
}

impl AffinityModel {
    /// Counts items and pairs over `baskets` (each an order's SKUs, in any order and with
    /// repeats) and keeps the pairs that pass `config`. The result does not depend on
    /// the order of baskets or of SKUs within them.
    ///
    /// ```
    /// use regulars_models::habits::affinity::{AffinityConfig, AffinityModel};
    /// let baskets = [
    ///     vec!["TS-OOLONG", "TOP-CHEESE"],
    ///     vec!["TS-OOLONG", "TOP-CHEESE"],
    ///     vec!["TS-OOLONG"],
    ///     vec!["CAKE-TIRAMISU"],
    /// ];
    /// let model = AffinityModel::build(&baskets, AffinityConfig { min_pair_orders: 1, min_support: 0.0 });
    /// let pair = model.pair("TOP-CHEESE", "TS-OOLONG").ok_or("pair kept")?;
    /// assert_eq!(pair.orders, 2);
    /// assert_eq!(pair.confidence_a_to_b, 1.0); // every cheese foam came with oolong
    /// assert!((pair.lift - 4.0 / 3.0).abs() < 1e-12);
    /// # Ok::<(), &str>(())
    /// ```
    pub fn build<I, B, S>(baskets: I, config: AffinityConfig) -> AffinityModel
    where
        I: IntoIterator<Item = B>,
        B: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let counts = Counts::of(baskets);
        let orders = counts.orders;
        let (mut index, pair_orders) = (counts.index, counts.pair_orders);
        let (skus, item_orders, renumber) = in_sku_order(&counts.first_seen, &counts.item_orders);
        for i in index.values_mut() {
            *i = renumber[*i as usize];
        }
        let pairs = kept_pairs(pair_orders, &renumber, &skus, &item_orders, orders, config);
        let mut by_item = vec![Vec::new(); skus.len()];
        for (k, (a, b, _)) in pairs.iter().enumerate() {
            by_item[*a as usize].push(k);
            by_item[*b as usize].push(k);
        }
        AffinityModel {
            orders,
            skus,
            index,
            item_orders,
            pairs: pairs.into_iter().map(|(_, _, p)| p).collect(),
            by_item,
        }
    }

    /// Number of orders counted.
    pub fn orders(&self) -> u64 {
        self.orders
    }

    /// Every SKU seen, in SKU order.
    pub fn items(&self) -> &[String] {
        &self.skus
    }

    /// Orders that contained `sku`.
    pub fn item_orders(&self, sku: &str) -> u64 {
        self.index
            .get(sku)
            .and_then(|i| self.item_orders.get(*i as usize))
            .copied()
            .unwrap_or(0)
    }

    /// The kept pairs, strongest first: lift descending, then orders together
    /// descending, then by SKUs.
    pub fn pairs(&self) -> &[ItemPair] {
        &self.pairs
    }

    /// The kept pair of `x` and `y`, in either order.
    pub fn pair(&self, x: &str, y: &str) -> Option<&ItemPair> {
        let i = *self.index.get(x)?;
        self.by_item
            .get(i as usize)?
            .iter()
            .filter_map(|k| self.pairs.get(*k))
            .find(|p| (p.a == x && p.b == y) || (p.a == y && p.b == x))
    }

    /// The rules `sku → other` from the kept pairs, strongest first (as [`pairs`](Self::pairs)).
    pub fn rules_from<'m>(
        &'m self,
        sku: &'m str,
    ) -> impl Iterator<Item = AssociationRule<'m>> + 'm {
        let pairs = self
            .index
            .get(sku)
            .and_then(|i| self.by_item.get(*i as usize))
            .map(Vec::as_slice)
            .unwrap_or_default();
        pairs.iter().filter_map(move |k| {
            let p = self.pairs.get(*k)?;
            Some(if p.a == sku {
                AssociationRule {
                    from: &p.a,
                    to: &p.b,
                    orders: p.orders,
                    confidence: p.confidence_a_to_b,
                    lift: p.lift,
                }
            } else {
                AssociationRule {
                    from: &p.b,
                    to: &p.a,
                    orders: p.orders,
                    confidence: p.confidence_b_to_a,
                    lift: p.lift,
                }
            })
        })
    }

    /// The item to offer a customer next: among the rules from their `favourites` to
    /// items they have not `bought` (and that are not favourites themselves), the one
    /// with the highest lift, then confidence, then orders together, then the smaller
    /// SKU. Only rules with lift above 1 count: an item that goes with the favourite no
    /// more than chance is no recommendation.
    pub fn next_best_item<S: AsRef<str>>(
        &self,
        favourites: &[S],
        bought: &HashSet<&str>,
    ) -> Option<NextBestItem> {
        let favs: HashSet<&str> = favourites.iter().map(AsRef::as_ref).collect();
        let mut best: Option<AssociationRule<'_>> = None;
        for fav in favourites {
            for rule in self.rules_from(fav.as_ref()) {
                if rule.lift <= 1.0 || bought.contains(rule.to) || favs.contains(rule.to) {
                    continue;
                }
                let better = match &best {
                    None => true,
                    Some(b) => rule_order(&rule, b) == Ordering::Less,
                };
                if better {
                    best = Some(rule);
                }
            }
        }
        best.map(|r| NextBestItem {
            sku: r.to.to_owned(),
            because_of: r.from.to_owned(),
            confidence: r.confidence,
            lift: r.lift,
        })
    }
}

/// Strongest first: lift, confidence, orders (descending), then SKUs (ascending).
fn rule_order(x: &AssociationRule<'_>, y: &AssociationRule<'_>) -> Ordering {
    y.lift
        .total_cmp(&x.lift)
        .then(y.confidence.total_cmp(&x.confidence))
        .then(y.orders.cmp(&x.orders))
        .then(x.to.cmp(y.to))
        .then(x.from.cmp(y.from))
}

/// "Customers who bought `from` also bought `to`".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AssociationRule<'m> {
    /// The item bought.
    pub from: &'m str,
    /// The item that goes with it.
    pub to: &'m str,
    /// Orders with both.
    pub orders: u64,
    /// Share of the orders with `from` that also had `to`.
    pub confidence: f64,
    /// Lift of the pair.
    pub lift: f64,
}

/// The item to offer a customer, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct NextBestItem {
    /// The SKU to offer.
    pub sku: String,
    /// The favourite it goes with.
    pub because_of: String,
    /// Confidence of `because_of → sku`.
    pub confidence: f64,
    /// Lift of the pair.
    pub lift: f64,
}

/// One of a customer's orders: when, and which SKUs.
#[derive(Debug, Clone, PartialEq)]
pub struct Basket {
    /// When the order was placed.
    pub placed_at: OffsetDateTime,
    /// The SKUs in it (repeats count once).
    pub skus: Vec<String>,
}

/// How a customer's orders count toward their favourite item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Weighting {
    /// Every order counts 1.
    Count,
    /// An order `age` days before `now` counts `0.5^(age / half_life_days)`; orders after
    /// `now` count 1.
    Recency {
        /// The moment ages are measured from.
        now: OffsetDateTime,
        /// Days after which an order counts half.
        half_life_days: f64,
    },
}

impl Weighting {
    /// Recency weighting, checked: `half_life_days` must be finite and positive.
    pub fn recency(now: OffsetDateTime, half_life_days: f64) -> Result<Weighting, HabitsError> {
        if half_life_days.is_finite() && half_life_days > 0.0 {
            Ok(Weighting::Recency {
                now,
                half_life_days,
            })
        } else {
            Err(HabitsError::InvalidHalfLife {
                value: half_life_days,
            })
        }
    }

    fn weight(self, at: OffsetDateTime) -> f64 {
        match self {
            Weighting::Count => 1.0,
            Weighting::Recency {
                now,
                half_life_days,
            } => {
                let age = (now - at).as_seconds_f64() / 86_400.0;
                if age <= 0.0 || !(half_life_days.is_finite() && half_life_days > 0.0) {
                    1.0
                } else {
                    0.5f64.powf(age / half_life_days)
                }
            }
        }
    }
}

/// How much a customer buys one item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemScore {
    /// The SKU.
    pub sku: String,
    /// Orders that contained it.
    pub orders: u64,
    /// Sum of those orders' weights (equal to `orders` under [`Weighting::Count`]).
    pub score: f64,
    /// When it was last bought.
    pub last_bought: OffsetDateTime,
}

/// A customer's items, favourite first: score descending, then orders descending, then
/// most recently bought, then SKU ascending — so ties are broken the same way every time,
/// whatever the order of `baskets`.
pub fn rank_items(baskets: &[Basket], weighting: Weighting) -> Vec<ItemScore> {
    let mut scores: HashMap<&str, ItemScore> = HashMap::new();
    for basket in baskets {
        let w = weighting.weight(basket.placed_at);
        let mut seen: Vec<&str> = basket.skus.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for sku in seen {
            let entry = scores.entry(sku).or_insert_with(|| ItemScore {
                sku: sku.to_owned(),
                orders: 0,
                score: 0.0,
                last_bought: basket.placed_at,
            });
            entry.orders += 1;
            entry.score += w;
            entry.last_bought = entry.last_bought.max(basket.placed_at);
        }
    }
    let mut ranked: Vec<ItemScore> = scores.into_values().collect();
    ranked.sort_by(|x, y| {
        y.score
            .total_cmp(&x.score)
            .then(y.orders.cmp(&x.orders))
            .then(y.last_bought.cmp(&x.last_bought))
            .then(x.sku.cmp(&y.sku))
    });
    ranked
}

/// A customer's favourite item and the next best item to offer them.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerAffinity {
    /// The item they buy most (see [`rank_items`]).
    pub favourite: Option<String>,
    /// What to offer next (see [`AffinityModel::next_best_item`]).
    pub next_best: Option<NextBestItem>,
}

/// Favourite and next best item of a customer with `baskets`, recommending from their
/// top `favourites_considered` items (at least 1).
///
/// ```
/// use regulars_models::habits::affinity::*;
/// use time::macros::datetime;
/// let at = datetime!(2026-03-01 08:00 UTC);
/// let brand = [vec!["TS-OOLONG", "TOP-CHEESE"], vec!["TS-OOLONG", "TOP-CHEESE"], vec!["TS-BROWN"]];
/// let model = AffinityModel::build(&brand, AffinityConfig { min_pair_orders: 1, min_support: 0.0 });
/// let mine = [Basket { placed_at: at, skus: vec!["TS-OOLONG".into()] }];
/// let a = customer_affinity(&model, &mine, Weighting::Count, 3);
/// assert_eq!(a.favourite.as_deref(), Some("TS-OOLONG"));
/// assert_eq!(a.next_best.map(|n| n.sku).as_deref(), Some("TOP-CHEESE"));
/// ```
pub fn customer_affinity(
    model: &AffinityModel,
    baskets: &[Basket],
    weighting: Weighting,
    favourites_considered: usize,
) -> CustomerAffinity {
    let ranked = rank_items(baskets, weighting);
    let bought: HashSet<&str> = ranked.iter().map(|s| s.sku.as_str()).collect();
    let favourites: Vec<&str> = ranked
        .iter()
        .take(favourites_considered.max(1))
        .map(|s| s.sku.as_str())
        .collect();
    CustomerAffinity {
        favourite: ranked.first().map(|s| s.sku.clone()),
        next_best: model.next_best_item(&favourites, &bought),
    }
}
