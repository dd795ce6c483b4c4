//! Exact continuous-time simulation of the models, for tests, benchmarks and demos.
//!
//! Seeded and deterministic (a xoshiro256** generator of its own), so it does no I/O and
//! reads no clock. Inter-purchase times are exponential with a gamma-distributed rate;
//! drop-out is geometric over purchases (BG/NBD, MBG/NBD) or an exponential lifetime
//! (Pareto/NBD) — nothing is discretised.

use crate::summary::Summary;
use crate::{BgNbd, GammaGamma, MbgNbd, ParetoNbd};

/// A small, fast, seeded generator (xoshiro256**).
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator from a seed (expanded with SplitMix64).
    pub fn new(seed: u64) -> Self {
        let mut z = seed;
        let mut next = || {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            x ^ (x >> 31)
        };
        Self {
            s: [next(), next(), next(), next()],
        }
    }

    fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    /// Exponential with this rate.
    pub fn exponential(&mut self, rate: f64) -> f64 {
        -self.uniform().ln() / rate
    }

    /// Gamma with this shape and rate (Marsaglia & Tsang; shapes below 1 boosted).
    pub fn gamma(&mut self, shape: f64, rate: f64) -> f64 {
        if shape < 1.0 {
            let boost = self.uniform().powf(1.0 / shape);
            return self.gamma(shape + 1.0, rate) * boost;
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v <= 0.0 {
                continue;
            }
            let u = self.uniform();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v / rate;
            }
        }
    }

    /// Beta(a, b) from two gammas.
    pub fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a, 1.0);
        let y = self.gamma(b, 1.0);
        x / (x + y)
    }
}

/// Observation lengths: each customer's T is drawn uniformly from `[min, max]` and rounded
/// to `step` (1.0 gives whole days, so cohorts repeat and rows group well; 0 keeps it exact).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cohorts {
    /// Shortest observation.
    pub min: f64,
    /// Longest observation.
    pub max: f64,
    /// Rounding of T and of purchase times; 0 for none.
    pub step: f64,
}

impl Cohorts {
    fn draw(&self, rng: &mut Rng) -> f64 {
        let t = self.min + (self.max - self.min) * rng.uniform();
        self.round(t)
    }

    fn round(&self, t: f64) -> f64 {
        if self.step > 0.0 {
            (t / self.step).ceil() * self.step
        } else {
            t
        }
    }
}

/// Purchase times in (0, T] at rate λ until the customer dies; `dies_after` says whether
/// the customer drops out after each purchase.
fn purchases(
    rng: &mut Rng,
    lambda: f64,
    horizon: f64,
    mut dies_after: impl FnMut(&mut Rng) -> bool,
) -> (f64, f64) {
    let mut now = 0.0;
    let mut x = 0.0;
    let mut last = 0.0;
    loop {
        now += rng.exponential(lambda);
        if now > horizon {
            return (x, last);
        }
        x += 1.0;
        last = now;
        if dies_after(rng) {
            return (x, last);
        }
    }
}

fn finish(c: &Cohorts, big_t: f64, x: f64, last: f64) -> Summary {
    // Rounding purchase times up to the grid keeps tₓ ≤ T and tₓ > 0.
    let tx = if x > 0.0 {
        c.round(last).min(big_t).max(c.step.max(f64::MIN_POSITIVE))
    } else {
        0.0
    };
    Summary::new(x, tx, big_t)
}

/// `n` customers from BG/NBD.
pub fn bgnbd(m: &BgNbd, n: usize, cohorts: &Cohorts, seed: u64) -> Vec<Summary> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let big_t = cohorts.draw(&mut rng);
            let lambda = rng.gamma(m.r, m.alpha);
            let p = rng.beta(m.a, m.b);
            let (x, last) = purchases(&mut rng, lambda, big_t, |g| g.uniform() < p);
            finish(cohorts, big_t, x, last)
        })
        .collect()
}

/// `n` customers from MBG/NBD: as BG/NBD, with a drop-out chance at time 0 as well.
pub fn mbgnbd(m: &MbgNbd, n: usize, cohorts: &Cohorts, seed: u64) -> Vec<Summary> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let big_t = cohorts.draw(&mut rng);
            let lambda = rng.gamma(m.r, m.alpha);
            let p = rng.beta(m.a, m.b);
            if rng.uniform() < p {
                return Summary::new(0.0, 0.0, big_t);
            }
            let (x, last) = purchases(&mut rng, lambda, big_t, |g| g.uniform() < p);
            finish(cohorts, big_t, x, last)
        })
        .collect()
}

/// `n` customers from Pareto/NBD: purchases until an exponential lifetime ends.
pub fn pareto_nbd(m: &ParetoNbd, n: usize, cohorts: &Cohorts, seed: u64) -> Vec<Summary> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let big_t = cohorts.draw(&mut rng);
            let lambda = rng.gamma(m.r, m.alpha);
            let mu = rng.gamma(m.s, m.beta);
            let lifetime = rng.exponential(mu);
            let (x, last) = purchases(&mut rng, lambda, big_t.min(lifetime), |_| false);
            finish(cohorts, big_t, x, last)
        })
        .collect()
}

/// Adds Gamma-Gamma spend to repeat customers: each repeat transaction costs
/// Gamma(p, ν) with ν ~ Gamma(q, v) per customer; the row gets the mean.
pub fn add_spend(m: &GammaGamma, rows: &mut [Summary], seed: u64) {
    let mut rng = Rng::new(seed);
    for row in rows {
        let nu = rng.gamma(m.q, m.v);
        if row.frequency > 0.0 {
            let n = row.frequency as usize;
            let total: f64 = (0..n).map(|_| rng.gamma(m.p, nu)).sum();
            row.monetary_value = Some(total / row.frequency);
        }
    }
}
