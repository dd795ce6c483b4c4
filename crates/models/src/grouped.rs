//! Identical (x, tₓ, T) rows grouped by sorting packed integer keys, in parallel.
//!
//! A brand's summaries repeat a few hundred values per column (whole days, small purchase
//! counts), so each column's distinct values are found first, in small hash sets that stay
//! in cache; each row is then one integer made of its three values' ranks, and sorting
//! those integers (rayon's parallel merge sort) brings identical rows together. A fit then
//! gets, for free, each distinct row's position among each column's distinct values, which
//! the likelihood's tables are indexed by.
//!
//! The sort is stable, so the weights of identical rows are added in row order: the result
//! is the same to the bit on any number of threads.

use crate::summary::{Summary, WordMap};
use rayon::prelude::*;

/// Rows per parallel task when a column's values are collected or ranked.
const CHUNK: usize = 1 << 16;

/// Whole values below this are ranked through a table indexed by the value itself.
const DENSE_LIMIT: f64 = (1u32 << 20) as f64;

/// Distinct (x, tₓ, T) rows with their summed weights, in ascending (x, T, tₓ) order, and
/// each column's distinct values in ascending order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CountGroups {
    /// The distinct purchase counts x.
    pub x_values: Vec<f64>,
    /// The distinct observation times T.
    pub t_values: Vec<f64>,
    /// The distinct times of last purchase tₓ.
    pub tx_values: Vec<f64>,
    /// For each distinct row, its x's position in `x_values`.
    pub x_index: Vec<usize>,
    /// For each distinct row, its T's position in `t_values`.
    pub t_index: Vec<usize>,
    /// For each distinct row, its tₓ's position in `tx_values`.
    pub tx_index: Vec<usize>,
    /// For each distinct row, the sum of the weights of the rows it stands for.
    pub w: Vec<f64>,
}

/// How a column finds a value's rank.
enum Ranks {
    /// Whole values below [`DENSE_LIMIT`]: the rank of `v` is `table[v]`.
    Dense(Vec<u64>),
    /// Anything else: by the value's bits.
    Sparse(WordMap<u64, u64>),
}

/// One column's distinct values, ascending, and how to rank a value among them.
struct Column {
    values: Vec<f64>,
    ranks: Ranks,
    /// Bits a rank needs.
    bits: u32,
}

/// The bits of `v` with −0 read as +0, so that equal values have equal keys.
fn bits(v: f64) -> u64 {
    (v + 0.0).to_bits()
}

fn is_small_whole(v: f64) -> bool {
    (0.0..DENSE_LIMIT).contains(&v) && v.fract() == 0.0
}

impl Column {
    fn new(rows: &[Summary], field: impl Fn(&Summary) -> f64 + Sync) -> Self {
        let dense = rows
            .par_chunks(CHUNK)
            .map(|chunk| {
                chunk.iter().try_fold(0.0f64, |max, r| {
                    let v = field(r);
                    is_small_whole(v).then_some(max.max(v))
                })
            })
            .try_reduce(|| 0.0, |a, b| Some(a.max(b)));
        let column = match dense {
            Some(max) => Self::dense(rows, &field, max as usize + 1),
            None => Self::sparse(rows, &field),
        };
        Column {
            bits: usize::BITS - column.0.len().saturating_sub(1).leading_zeros(),
            values: column.0,
            ranks: column.1,
        }
    }

    /// Whole values in `0..len`: which occur, marked in a table per chunk.
    fn dense(
        rows: &[Summary],
        field: &(impl Fn(&Summary) -> f64 + Sync),
        len: usize,
    ) -> (Vec<f64>, Ranks) {
        let seen = rows
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut seen = vec![false; len];
                for r in chunk {
                    seen[field(r) as usize] = true;
                }
                seen
            })
            .reduce(
                || vec![false; len],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(a, b)| *a |= b);
                    a
                },
            );
        let mut values = Vec::new();
        let mut table = vec![0; len];
        for (v, _) in seen.iter().enumerate().filter(|(_, s)| **s) {
            table[v] = values.len() as u64;
            values.push(v as f64);
        }
        (values, Ranks::Dense(table))
    }

    /// Any values: collected in a hash set per chunk.
    fn sparse(rows: &[Summary], field: &(impl Fn(&Summary) -> f64 + Sync)) -> (Vec<f64>, Ranks) {
        let sets: Vec<WordMap<u64, ()>> = rows
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut set = WordMap::default();
                for row in chunk {
                    set.insert(bits(field(row)), ());
                }
                set
            })
            .collect();
        let mut all: WordMap<u64, ()> = WordMap::default();
        for set in sets {
            all.extend(set);
        }
        let mut values: Vec<f64> = all.into_keys().map(f64::from_bits).collect();
        values.sort_by(f64::total_cmp);
        let rank = values
            .iter()
            .zip(0u64..)
            .map(|(v, i)| (v.to_bits(), i))
            .collect();
        (values, Ranks::Sparse(rank))
    }

    fn rank(&self, v: f64) -> u64 {
        // Every value of the column was seen in `new`.
        match &self.ranks {
            Ranks::Dense(table) => table.get(v as usize).copied().unwrap_or(0),
            Ranks::Sparse(map) => map.get(&bits(v)).copied().unwrap_or(0),
        }
    }
}

/// Groups identical (x, tₓ, T) rows of validated summaries (finite, non-negative times),
/// ignoring monetary values.
pub(crate) fn count_groups(rows: &[Summary]) -> CountGroups {
    group_with_keys_of(rows, u64::BITS)
}

/// [`count_groups`], sorting one-word keys when they fit in `word` bits and two-word keys
/// otherwise (tests force the wide keys with a narrow `word`).
///
/// A row's key is its three ranks and then its own position: every key is distinct, so
/// an unstable in-place sort orders them the same way on any number of threads, and the
/// rows of a group come in row order.
fn group_with_keys_of(rows: &[Summary], word: u32) -> CountGroups {
    let (x, (t, tx)) = rayon::join(
        || Column::new(rows, |r| r.frequency),
        || {
            rayon::join(
                || Column::new(rows, |r| r.t),
                || Column::new(rows, |r| r.recency),
            )
        },
    );
    let row_bits = usize::BITS - rows.len().saturating_sub(1).leading_zeros();
    let (shift_t, shift_x) = (tx.bits, tx.bits + t.bits);
    let key = |(i, r): (usize, &Summary)| -> u128 {
        let ranks = (u128::from(x.rank(r.frequency)) << shift_x)
            | (u128::from(t.rank(r.t)) << shift_t)
            | u128::from(tx.rank(r.recency));
        (ranks << row_bits) | i as u128
    };
    let row_mask = (1u128 << row_bits) - 1;
    // Customers one row each (the usual case): a group's weight is its count, and the
    // rows need not be looked up again in the order of the keys.
    let unit = rows.par_iter().all(|r| r.weight == 1.0);
    let mut groups = CountGroups {
        x_values: Vec::new(),
        t_values: Vec::new(),
        tx_values: Vec::new(),
        x_index: Vec::new(),
        t_index: Vec::new(),
        tx_index: Vec::new(),
        w: Vec::new(),
    };
    let mut last = None;
    let mut add = |k: u128| {
        let (ranks, row) = (k >> row_bits, (k & row_mask) as usize);
        let weight = if unit { 1.0 } else { rows[row].weight };
        if last == Some(ranks)
            && let Some(total) = groups.w.last_mut()
        {
            *total += weight;
            return;
        }
        last = Some(ranks);
        let field = |shift: u32, width: u32| ((ranks >> shift) & ((1u128 << width) - 1)) as usize;
        groups.x_index.push(field(shift_x, x.bits));
        groups.t_index.push(field(shift_t, t.bits));
        groups.tx_index.push(field(0, tx.bits));
        groups.w.push(weight);
    };
    if shift_x + x.bits + row_bits <= word {
        let mut keys: Vec<u64> = rows.par_iter().enumerate().map(|r| key(r) as u64).collect();
        keys.par_sort_unstable();
        keys.into_iter().for_each(|k| add(u128::from(k)));
    } else {
        let mut keys: Vec<u128> = rows.par_iter().enumerate().map(key).collect();
        keys.par_sort_unstable();
        keys.into_iter().for_each(add);
    }
    groups.x_values = x.values;
    groups.t_values = t.values;
    groups.tx_values = tx.values;
    groups
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// The same grouping the plain way: a map keyed by the values, weights added in row
    /// order.
    fn naive(rows: &[Summary]) -> BTreeMap<(u64, u64, u64), f64> {
        let mut map = BTreeMap::new();
        for r in rows {
            *map.entry((bits(r.frequency), bits(r.t), bits(r.recency)))
                .or_insert(0.0) += r.weight;
        }
        map
    }

    fn grouped_map(g: &CountGroups) -> BTreeMap<(u64, u64, u64), f64> {
        (0..g.w.len())
            .map(|i| {
                let key = (
                    bits(g.x_values[g.x_index[i]]),
                    bits(g.t_values[g.t_index[i]]),
                    bits(g.tx_values[g.tx_index[i]]),
                );
                (key, g.w[i])
            })
            .collect()
    }

    fn check(rows: &[Summary]) {
        let g = count_groups(rows);
        let n = g.w.len();
        assert_eq!(
            (g.x_index.len(), g.t_index.len(), g.tx_index.len()),
            (n, n, n)
        );
        for values in [&g.x_values, &g.t_values, &g.tx_values] {
            assert!(values.windows(2).all(|p| p[0] < p[1]), "{values:?}");
        }
        // Rows come in ascending (x, T, tₓ) order, each once.
        let keys: Vec<_> = (0..n)
            .map(|i| (g.x_index[i], g.t_index[i], g.tx_index[i]))
            .collect();
        assert!(keys.windows(2).all(|p| p[0] < p[1]));
        assert_eq!(grouped_map(&g), naive(rows));
    }

    /// Rows of whole-day times (many repeats) or arbitrary times (few).
    fn rows(whole: bool) -> impl Strategy<Value = Vec<Summary>> {
        let time = move |max: f64| {
            if whole {
                (0u32..40).prop_map(f64::from).boxed()
            } else {
                (0.0..max).boxed()
            }
        };
        prop::collection::vec(
            (0u32..6, time(1e3), time(1e3), 1u32..4, any::<bool>()),
            1..400,
        )
        .prop_map(|raw| {
            raw.into_iter()
                .map(|(x, a, b, w, neg_zero)| {
                    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                    let zero = if neg_zero { -0.0 } else { 0.0 };
                    let (x, tx) = if x == 0 || lo == 0.0 {
                        (0.0, zero)
                    } else {
                        (f64::from(x), lo)
                    };
                    Summary {
                        weight: f64::from(w) * 0.5,
                        ..Summary::new(x, tx, hi)
                    }
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn grouping_by_sorted_keys_is_the_naive_grouping(
            whole in any::<bool>().prop_flat_map(rows),
        ) {
            check(&whole);
            prop_assert_eq!(group_with_keys_of(&whole, 0), count_groups(&whole));
        }
    }

    #[test]
    fn ranks_too_wide_for_one_word_group_the_same() {
        let rows: Vec<Summary> = (0..5_000u32)
            .map(|i| {
                let v = f64::from(i % 700);
                Summary::new(f64::from(i % 7) + 1.0, v + 0.5, v + 1.0 + f64::from(i % 3))
            })
            .collect();
        let g = count_groups(&rows);
        assert_eq!(group_with_keys_of(&rows, 0), g);
        assert_eq!(g.w.iter().sum::<f64>(), 5_000.0);
    }

    #[test]
    fn the_result_does_not_depend_on_the_number_of_threads() {
        let rows: Vec<Summary> = (0..200_000u32)
            .map(|i| Summary {
                weight: 1.0 + f64::from(i % 13) * 0.1,
                ..Summary::new(f64::from(i % 5), f64::from(i % 5) * 3.0, 20.0)
            })
            .collect();
        let on = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| count_groups(&rows))
        };
        let one = on(1);
        for threads in [2, 3] {
            let many = on(threads);
            assert_eq!(one, many);
            assert!(
                one.w
                    .iter()
                    .zip(&many.w)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
        }
    }
}
