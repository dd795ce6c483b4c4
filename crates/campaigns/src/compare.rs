//! Which offer variant did better, and how sure that is.
//!
//! Each variant is measured against the campaign's one shared hold-out (see
//! [`crate::attribution`]); the hold-out's mean is the same for every variant, so the
//! variant with the higher incremental revenue per messaged customer is the one whose
//! messaged customers spent more on average. How sure: the probability that the best
//! variant's true mean is above the runner-up's, from the normal approximation of the
//! difference of the two means with Welch's standard error
//! `sqrt(s_a²/n_a + s_b²/n_b)`: `Φ((m_a − m_b) / se)`. At [`SURE`] (95 %) or above the
//! report names the winner; below it says "not yet sure".
//!
//! ```
//! use regulars_campaigns::compare::{compare, probability_beats};
//! let a = [60_000.0, 40_000.0, 50_000.0, 70_000.0, 55_000.0];
//! let b = [30_000.0, 50_000.0, 40_000.0, 35_000.0, 45_000.0];
//! let p = probability_beats(&a, &b).unwrap();
//! assert!(p > 0.99);
//! let verdict = compare(&[&b, &a]).unwrap();
//! assert_eq!((verdict.best, verdict.runner_up), (1, 0));
//! assert!(verdict.sure);
//! ```

use serde::{Deserialize, Serialize};

/// The probability at which the better variant is named: 95 %.
pub const SURE: f64 = 0.95;

/// The verdict on two or more variants.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Index of the variant with the highest mean revenue per messaged customer.
    pub best: usize,
    /// Index of the next highest.
    pub runner_up: usize,
    /// Probability that the best's true mean is above the runner-up's (0.5 to 1).
    pub probability: f64,
    /// `probability >= SURE`.
    pub sure: bool,
}

fn mean_var(xs: &[f64]) -> Option<(f64, f64)> {
    if xs.len() < 2 || !xs.iter().all(|x| x.is_finite()) {
        return None;
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let ss = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>();
    Some((mean, ss / (n - 1.0)))
}

/// The standard normal distribution function, to about 1e-7; `Φ(−x) = 1 − Φ(x)` holds
/// exactly.
pub fn normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return 0.5;
    }
    if x < 0.0 {
        return 1.0 - normal_cdf(-x);
    }
    // Abramowitz & Stegun 7.1.26 for erf(x / √2).
    let z = x / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    0.5 * (1.0 + erf)
}

/// The probability that arm `a`'s true mean is above arm `b`'s, given each customer's
/// revenue in both: `Φ((m_a − m_b) / se)`. `None` while an arm has fewer than two
/// customers or a revenue is not finite. With no spread at all it is 1, 0 or ½.
pub fn probability_beats(a: &[f64], b: &[f64]) -> Option<f64> {
    let (ma, va) = mean_var(a)?;
    let (mb, vb) = mean_var(b)?;
    let se = (va / a.len() as f64 + vb / b.len() as f64).sqrt();
    let diff = ma - mb;
    Some(if se > 0.0 && se.is_finite() {
        normal_cdf(diff / se)
    } else if diff > 0.0 {
        1.0
    } else if diff < 0.0 {
        0.0
    } else {
        0.5
    })
}

/// The best variant, the runner-up and how sure: `arms[i]` is the revenue of each
/// customer messaged with variant `i` in their attribution window. `None` with fewer
/// than two arms, or while an arm has fewer than two customers. Equal means go to the
/// earlier variant.
pub fn compare(arms: &[&[f64]]) -> Option<Verdict> {
    if arms.len() < 2 {
        return None;
    }
    let means: Vec<f64> = arms
        .iter()
        .map(|a| mean_var(a).map(|(m, _)| m))
        .collect::<Option<_>>()?;
    let mut order: Vec<usize> = (0..arms.len()).collect();
    order.sort_by(|x, y| means[*y].total_cmp(&means[*x]).then(x.cmp(y)));
    let (best, runner_up) = (order[0], order[1]);
    let probability = probability_beats(arms[best], arms[runner_up])?;
    Some(Verdict {
        best,
        runner_up,
        probability,
        sure: probability >= SURE,
    })
}
