//! Scoring every customer: predictions computed once per distinct row and shared by the
//! customers that have it, so scoring a million customers costs what their distinct
//! (x, tₓ, T) cost.

use crate::fit::{CountModel, ModelError};
use crate::gamma_gamma::{ClvOptions, GammaGamma, discounted_purchases};
use crate::summary::Summary;

/// What a count model says about one customer.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct CountScore {
    /// Expected purchases in the horizon.
    pub expected_purchases: f64,
    /// Probability the customer is still active.
    pub p_alive: f64,
}

/// A count model's and the spend model's view of one customer.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ValueScore {
    /// Expected purchases in the horizon.
    pub expected_purchases: f64,
    /// Probability the customer is still active.
    pub p_alive: f64,
    /// Expected spend per purchase.
    pub expected_spend: f64,
    /// Discounted value over the horizon.
    pub clv: f64,
}

/// A prediction failed for one row.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("row {row}: {error}")]
pub struct ScoreError {
    /// 0-based row.
    pub row: usize,
    /// Why.
    pub error: ModelError,
}

type Key = (u64, u64, u64, Option<u64>);

fn key(s: &Summary, with_money: bool) -> Key {
    (
        s.frequency.to_bits(),
        s.recency.to_bits(),
        s.t.to_bits(),
        if with_money {
            s.monetary_value.map(f64::to_bits)
        } else {
            None
        },
    )
}

fn cached<T: Copy>(
    rows: &[Summary],
    with_money: bool,
    mut f: impl FnMut(&Summary) -> Result<T, ModelError>,
) -> Result<Vec<T>, ScoreError> {
    let mut cache: crate::summary::WordMap<Key, T> = Default::default();
    let mut out = Vec::with_capacity(rows.len());
    for (row, s) in rows.iter().enumerate() {
        let k = key(s, with_money);
        let v = match cache.get(&k) {
            Some(v) => *v,
            None => {
                let v = f(s).map_err(|error| ScoreError { row, error })?;
                cache.insert(k, v);
                v
            }
        };
        out.push(v);
    }
    Ok(out)
}

/// Expected purchases in `horizon` and P(alive) for every row, in order.
///
/// ```
/// use regulars_models::{BgNbd, Summary, score::score_counts};
/// let m = BgNbd { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
/// let rows = [Summary::new(2.0, 30.43, 38.86), Summary::new(0.0, 0.0, 38.86)];
/// let scores = score_counts(&m, &rows, 39.0).unwrap();
/// assert_eq!(scores[1].p_alive, 1.0);
/// ```
pub fn score_counts<C: CountModel>(
    model: &C,
    rows: &[Summary],
    horizon: f64,
) -> Result<Vec<CountScore>, ScoreError> {
    cached(rows, false, |s| {
        Ok(CountScore {
            expected_purchases: model.expected_purchases(horizon, s)?,
            p_alive: model.p_alive(s)?,
        })
    })
}

/// Counts, expected spend and discounted CLV for every row, in order. The CLV horizon
/// is `clv.months` months. The count-model part is computed once per distinct (x, tₓ, T);
/// the spend part is closed-form per row.
pub fn score_value<C: CountModel>(
    counts: &C,
    spend: &GammaGamma,
    rows: &[Summary],
    horizon: f64,
    clv: &ClvOptions,
) -> Result<Vec<ValueScore>, ScoreError> {
    let count_part = cached(rows, false, |s| {
        Ok((
            counts.expected_purchases(horizon, s)?,
            counts.p_alive(s)?,
            discounted_purchases(counts, s, clv)?,
        ))
    })?;
    rows.iter()
        .zip(count_part)
        .enumerate()
        .map(|(row, (s, (expected_purchases, p_alive, discounted)))| {
            let expected_spend = spend
                .expected_spend(s)
                .map_err(|error| ScoreError { row, error })?;
            Ok(ValueScore {
                expected_purchases,
                p_alive,
                expected_spend,
                clv: expected_spend * discounted,
            })
        })
        .collect()
}
