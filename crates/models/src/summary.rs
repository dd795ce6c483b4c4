//! Per-customer summaries (frequency, recency, age, average spend) and how to build,
//! group and read them.

use std::collections::HashMap;

/// What the models know about one customer (or, with `weight` > 1, about several identical
/// customers).
///
/// Times are in one unit chosen by the caller (days when built by [`from_visits`]), all
/// measured from the customer's first purchase:
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// Repeat purchases: purchase periods after the first (x).
    pub frequency: f64,
    /// Time of the last repeat purchase (tₓ); 0 without repeats.
    pub recency: f64,
    /// Time from the first purchase to the end of observation (T).
    pub t: f64,
    /// Average spend of the repeat purchases, when known.
    pub monetary_value: Option<f64>,
    /// How many customers this row stands for.
    pub weight: f64,
}

/// Why a summary row is not usable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SummaryError {
    /// A field is out of its domain.
    #[error("row {row}: {reason}")]
    Invalid {
        /// 0-based position of the row.
        row: usize,
        /// What is wrong.
        reason: String,
    },
}

impl Summary {
    /// A single customer without monetary value.
    pub fn new(frequency: f64, recency: f64, t: f64) -> Self {
        Self {
            frequency,
            recency,
            t,
            monetary_value: None,
            weight: 1.0,
        }
    }

    /// Checks the row: x a non-negative integer, 0 ≤ tₓ ≤ T, tₓ = 0 when x = 0, a finite
    /// positive weight, and a positive monetary value when there is one and x > 0.
    pub fn validate(&self, row: usize) -> Result<(), SummaryError> {
        let fail = |reason: String| Err(SummaryError::Invalid { row, reason });
        let Summary {
            frequency: x,
            recency: tx,
            t,
            monetary_value,
            weight,
        } = *self;
        if !(x.is_finite() && x >= 0.0 && x == x.floor()) {
            return fail(format!("frequency {x} is not a non-negative whole number"));
        }
        if !(t.is_finite() && t >= 0.0) {
            return fail(format!("T {t} is not a non-negative number"));
        }
        if !(tx.is_finite() && tx >= 0.0 && tx <= t) {
            return fail(format!("recency {tx} is not between 0 and T = {t}"));
        }
        if x == 0.0 && tx != 0.0 {
            return fail(format!("recency {tx} without repeat purchases"));
        }
        if x > 0.0 && tx == 0.0 {
            return fail(format!("{x} repeat purchases at time 0"));
        }
        if !(weight.is_finite() && weight > 0.0) {
            return fail(format!("weight {weight} is not positive"));
        }
        if let Some(m) = monetary_value
            && x > 0.0
            && !(m.is_finite() && m > 0.0)
        {
            return fail(format!("monetary value {m} is not positive"));
        }
        Ok(())
    }
}

/// Checks every row (on every core); the first problem found, in row order.
pub fn validate_all(rows: &[Summary]) -> Result<(), SummaryError> {
    use rayon::prelude::*;
    match rows
        .par_iter()
        .enumerate()
        .find_first(|(i, row)| row.validate(*i).is_err())
    {
        Some((i, row)) => row.validate(i),
        None => Ok(()),
    }
}

/// One purchase of one customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit<K> {
    /// Who bought.
    pub customer: K,
    /// When, in days on any fixed origin (e.g. days since 1970-01-01, fractions allowed).
    pub day: f64,
    /// What was spent, when known.
    pub amount: Option<f64>,
}

/// Builds summaries from purchases, with the semantics of `lifetimes`'
/// `summary_data_from_transaction_data`:
///
/// * time is cut into periods of `period_days` (1 = daily) counted from day 0; purchases in
///   the same period count once (their amounts add up);
/// * purchases after the period containing `observation_end` are ignored;
/// * x = distinct purchase periods − 1, tₓ = last period − first period,
///   T = end period − first period, all in periods;
/// * the monetary value is the mean per-period amount of the repeat periods (the first
///   period is excluded), `None` without repeats or without amounts.
///
/// Customers come back sorted by key.
///
/// ```
/// use regulars_models::summary::{Visit, from_visits};
/// let visits = [
///     Visit { customer: "ann", day: 0.2, amount: Some(3.0) },
///     Visit { customer: "ann", day: 0.9, amount: Some(1.0) }, // same day: merged
///     Visit { customer: "ann", day: 4.5, amount: Some(6.0) },
///     Visit { customer: "bob", day: 9.0, amount: None },
/// ];
/// let rows = from_visits(&visits, 10.0, 1.0);
/// assert_eq!(rows[0].0, "ann");
/// assert_eq!((rows[0].1.frequency, rows[0].1.recency, rows[0].1.t), (1.0, 4.0, 10.0));
/// assert_eq!(rows[0].1.monetary_value, Some(6.0));
/// assert_eq!((rows[1].1.frequency, rows[1].1.t), (0.0, 1.0));
/// ```
pub fn from_visits<K: Ord + Clone>(
    visits: &[Visit<K>],
    observation_end: f64,
    period_days: f64,
) -> Vec<(K, Summary)> {
    let period = if period_days > 0.0 { period_days } else { 1.0 };
    let end = (observation_end / period).floor();
    let mut by_customer: std::collections::BTreeMap<K, Vec<(f64, Option<f64>)>> =
        std::collections::BTreeMap::new();
    for v in visits {
        if !v.day.is_finite() {
            continue;
        }
        let p = (v.day / period).floor();
        if p > end {
            continue;
        }
        by_customer
            .entry(v.customer.clone())
            .or_default()
            .push((p, v.amount));
    }
    let mut out = Vec::with_capacity(by_customer.len());
    for (customer, mut periods) in by_customer {
        periods.sort_by(|a, b| a.0.total_cmp(&b.0));
        // Merge purchases of the same period.
        let mut merged: Vec<(f64, Option<f64>)> = Vec::with_capacity(periods.len());
        for (p, amount) in periods {
            match merged.last_mut() {
                Some((last, total)) if *last == p => {
                    *total = match (*total, amount) {
                        (Some(a), Some(b)) => Some(a + b),
                        (a, b) => a.or(b),
                    }
                }
                _ => merged.push((p, amount)),
            }
        }
        let (first, _) = merged[0];
        let (last, _) = merged[merged.len() - 1];
        let repeats = &merged[1..];
        let amounts: Vec<f64> = repeats.iter().filter_map(|(_, a)| *a).collect();
        let monetary_value = if repeats.is_empty() || amounts.len() < repeats.len() {
            None
        } else {
            Some(amounts.iter().sum::<f64>() / amounts.len() as f64)
        };
        out.push((
            customer,
            Summary {
                frequency: repeats.len() as f64,
                recency: last - first,
                t: end - first,
                monetary_value,
                weight: 1.0,
            },
        ));
    }
    out
}

/// Merges rows with identical (x, tₓ, T, monetary value) into one row whose weight is the
/// sum of theirs, in order of first appearance. Fitting and scoring then cost one
/// evaluation per distinct row instead of one per customer.
///
/// ```
/// use regulars_models::summary::{Summary, group};
/// let rows = [Summary::new(0.0, 0.0, 30.0), Summary::new(2.0, 10.0, 30.0), Summary::new(0.0, 0.0, 30.0)];
/// let grouped = group(&rows);
/// assert_eq!(grouped.len(), 2);
/// assert_eq!(grouped[0].weight, 2.0);
/// ```
pub fn group(rows: &[Summary]) -> Vec<Summary> {
    group_by(rows, |s| {
        (
            s.frequency.to_bits(),
            s.recency.to_bits(),
            s.t.to_bits(),
            s.monetary_value.map(f64::to_bits),
        )
    })
}

/// Like [`group`], ignoring monetary values: what the purchase-count models need.
pub fn group_counts(rows: &[Summary]) -> Vec<Summary> {
    let mut grouped = group_by(rows, |s| {
        (
            s.frequency.to_bits(),
            s.recency.to_bits(),
            s.t.to_bits(),
            None,
        )
    });
    for row in &mut grouped {
        row.monetary_value = None;
    }
    grouped
}

type Key = (u64, u64, u64, Option<u64>);

/// A fast hasher for keys made of f64 bit patterns (multiply–rotate, as in rustc's FxHash).
/// The keys come from the caller's own data, so flooding resistance is not needed.
#[derive(Default, Clone, Copy)]
pub(crate) struct WordHasher(u64);

impl std::hash::Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A hash map keyed by f64 bit patterns.
pub(crate) type WordMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<WordHasher>>;

fn group_by(rows: &[Summary], key: impl Fn(&Summary) -> Key) -> Vec<Summary> {
    let mut index: WordMap<Key, usize> = WordMap::default();
    index.reserve(rows.len().min(1 << 16));
    let mut out: Vec<Summary> = Vec::new();
    for row in rows {
        match index.entry(key(row)) {
            std::collections::hash_map::Entry::Occupied(e) => out[*e.get()].weight += row.weight,
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(out.len());
                out.push(*row);
            }
        }
    }
    out
}

/// A CSV that could not be read, with where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct CsvError {
    /// 1-based line.
    pub line: usize,
    /// Column name (or number when the header is the problem).
    pub column: String,
    /// What is wrong.
    pub message: String,
}

/// Reads the analyst CSV: a header naming `customer_id,frequency,recency,T` and optionally
/// `monetary_value` and `weight`, in any order; other columns are ignored. Empty lines are
/// skipped; fields may be surrounded by spaces or double quotes. Every row is validated
/// ([`Summary::validate`]) and errors name the line and column.
///
/// ```
/// use regulars_models::summary::parse_csv;
/// let rows = parse_csv("customer_id,frequency,recency,T\nc1,2,30.4,38.9\nc2,0,0,38.9\n").unwrap();
/// assert_eq!(rows[0].0, "c1");
/// assert_eq!(rows[0].1.frequency, 2.0);
/// let err = parse_csv("customer_id,frequency,recency,T\nc1,two,3,4\n").unwrap_err();
/// assert_eq!((err.line, err.column.as_str()), (2, "frequency"));
/// ```
pub fn parse_csv(text: &str) -> Result<Vec<(String, Summary)>, CsvError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((header_line, header)) = lines.next() else {
        return Err(CsvError {
            line: 1,
            column: "-".into(),
            message: "empty input: a header `customer_id,frequency,recency,T` is required".into(),
        });
    };
    let names: Vec<String> = header.split(',').map(|f| clean(f).to_owned()).collect();
    let find = |name: &str| names.iter().position(|n| n == name);
    let required = |name: &str| {
        find(name).ok_or_else(|| CsvError {
            line: header_line,
            column: name.to_owned(),
            message: format!(
                "the header has no `{name}` column (found: {})",
                names.join(",")
            ),
        })
    };
    let id_col = required("customer_id")?;
    let x_col = required("frequency")?;
    let tx_col = required("recency")?;
    let t_col = required("T")?;
    let m_col = find("monetary_value");
    let w_col = find("weight");
    let mut out = Vec::new();
    for (line, text) in lines {
        let fields: Vec<&str> = text.split(',').map(clean).collect();
        if fields.len() != names.len() {
            return Err(CsvError {
                line,
                column: "-".into(),
                message: format!("{} fields, the header has {}", fields.len(), names.len()),
            });
        }
        let number = |col: usize| -> Result<f64, CsvError> {
            fields[col]
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| CsvError {
                    line,
                    column: names[col].clone(),
                    message: format!("`{}` is not a number", fields[col]),
                })
        };
        let monetary_value = match m_col {
            Some(c) if !fields[c].is_empty() => Some(number(c)?),
            _ => None,
        };
        let weight = match w_col {
            Some(c) => number(c)?,
            None => 1.0,
        };
        let row = Summary {
            frequency: number(x_col)?,
            recency: number(tx_col)?,
            t: number(t_col)?,
            monetary_value,
            weight,
        };
        if let Err(SummaryError::Invalid { reason, .. }) = row.validate(out.len()) {
            let column = if reason.starts_with("frequency") {
                "frequency"
            } else if reason.starts_with("recency") || reason.contains("repeat purchases at") {
                "recency"
            } else if reason.starts_with("T ") {
                "T"
            } else if reason.starts_with("weight") {
                "weight"
            } else {
                "monetary_value"
            };
            return Err(CsvError {
                line,
                column: column.into(),
                message: reason,
            });
        }
        out.push((fields[id_col].to_owned(), row));
    }
    Ok(out)
}

fn clean(field: &str) -> &str {
    let f = field.trim();
    f.strip_prefix('"')
        .and_then(|f| f.strip_suffix('"'))
        .unwrap_or(f)
}
