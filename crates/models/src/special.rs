//! Special functions the likelihoods need: log-gamma, digamma, log-beta and the Gauss
//! hypergeometric function ₂F₁ evaluated in log space.
//!
//! # ₂F₁
//!
//! ₂F₁(a, b; c; z) = Σₙ (a)ₙ (b)ₙ / ((c)ₙ n!) zⁿ for |z| < 1. The models need it with large
//! parameters (a, b, c grow with a customer's purchase count) and with z close to 1, where
//! the value is astronomically large and the plain series either overflows or needs
//! millions of terms. [`ln_abs_hyp2f1`] therefore writes the function in several ways and
//! sums the first that works:
//!
//! 1. for z < 0, Pfaff's transformation
//!    ₂F₁(a, b; c; z) = (1 − z)^(−a) ₂F₁(a, c − b; c; z/(z − 1)), its twin with a and b
//!    exchanged (both with an argument in (0, 1)), and the alternating series itself;
//! 2. for 0 < z < 1, the series and Euler's transformation
//!    ₂F₁(a, b; c; z) = (1 − z)^(c − a − b) ₂F₁(c − a, c − b; c; z);
//! 3. candidates whose terms all have one sign (no cancellation) go first, then by how
//!    fast their terms decay (the n-th behaves like n^(a + b − c − 1) zⁿ); each gets a cheap
//!    budget of terms before any gets the full one;
//! 4. each series is summed by the ratio of consecutive terms with a running scale shared
//!    by term and sum, so neither overflows, and prefactors are added in log space; a sum
//!    whose largest term exceeds the result by more than 10⁴ is rejected as cancelling;
//! 5. for z > 1/2 the connection formula to 1 − z (DLMF 15.8.4) is the last resort when
//!    c − a − b is not an integer; at z = 1 Gauss's theorem applies when c − a − b > 0.
//!
//! Anything else — |z| > 1, c a non-positive integer, a series that has not converged
//! after two million terms, every representation cancelling, a non-positive value asked
//! for as a logarithm — is a [`SpecialError`], never a NaN or an infinity.

use std::f64::consts::PI;

/// Why a special function could not be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecialError {
    /// An argument was NaN or infinite.
    #[error("2F1({a}, {b}; {c}; {z}): an argument is not finite")]
    NonFinite {
        /// First numerator parameter.
        a: f64,
        /// Second numerator parameter.
        b: f64,
        /// Denominator parameter.
        c: f64,
        /// Argument.
        z: f64,
    },
    /// c is 0, −1, −2, …: the series is undefined.
    #[error("2F1({a}, {b}; {c}; {z}): c is a non-positive integer")]
    PoleInC {
        /// First numerator parameter.
        a: f64,
        /// Second numerator parameter.
        b: f64,
        /// Denominator parameter.
        c: f64,
        /// Argument.
        z: f64,
    },
    /// z > 1, or z = 1 with c − a − b ≤ 0: the series diverges.
    #[error("2F1({a}, {b}; {c}; {z}): the series diverges there")]
    Divergent {
        /// First numerator parameter.
        a: f64,
        /// Second numerator parameter.
        b: f64,
        /// Denominator parameter.
        c: f64,
        /// Argument.
        z: f64,
    },
    /// The series had not converged after the term limit.
    #[error("2F1({a}, {b}; {c}; {z}): no convergence after {terms} terms")]
    NoConvergence {
        /// First numerator parameter.
        a: f64,
        /// Second numerator parameter.
        b: f64,
        /// Denominator parameter.
        c: f64,
        /// Argument.
        z: f64,
        /// Terms summed.
        terms: usize,
    },
    /// Every representation tried loses too many digits to cancellation between terms of
    /// opposite signs (large parameters with z < 0 and a small c, or z near 1 with
    /// c much smaller than a + b).
    #[error("2F1({a}, {b}; {c}; {z}): cancellation would cost {digits:.0} digits")]
    Cancellation {
        /// First numerator parameter.
        a: f64,
        /// Second numerator parameter.
        b: f64,
        /// Denominator parameter.
        c: f64,
        /// Argument.
        z: f64,
        /// Decimal digits the best representation would lose.
        digits: f64,
    },
    /// The logarithm of a value that is zero or negative was asked for.
    #[error("2F1({a}, {b}; {c}; {z}) is not positive, its logarithm is undefined")]
    NotPositive {
        /// First numerator parameter.
        a: f64,
        /// Second numerator parameter.
        b: f64,
        /// Denominator parameter.
        c: f64,
        /// Argument.
        z: f64,
    },
}

/// Natural logarithm of |Γ(x)|; infinite at the poles x = 0, −1, −2, ….
///
/// Stirling's series for x ≥ 10 (shifted up by the recurrence below that), reflection for
/// x < 0.5. Absolute error below 1e-14 · max(1, |ln Γ(x)|) for positive x.
///
/// ```
/// use regulars_models::special::ln_gamma;
/// assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-14);
/// ```
pub fn ln_gamma(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 && x == x.floor() {
        return f64::INFINITY;
    }
    if x < 0.5 {
        // Γ(x) Γ(1 − x) = π / sin(πx)
        return (PI / (PI * x).sin().abs()).ln() - ln_gamma(1.0 - x);
    }
    if x >= 10.0 {
        return stirling(x);
    }
    // Shift up: Γ(x) = Γ(x + n) / (x (x + 1) … (x + n − 1)).
    let mut shifted = x;
    let mut product = 1.0;
    while shifted < 10.0 {
        product *= shifted;
        shifted += 1.0;
    }
    stirling(shifted) - product.ln()
}

fn stirling(x: f64) -> f64 {
    const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    // Bernoulli terms B₂ₖ / (2k (2k − 1) x^(2k − 1)), k = 1..7.
    let series = inv
        * (1.0 / 12.0
            + inv2
                * (-1.0 / 360.0
                    + inv2
                        * (1.0 / 1260.0
                            + inv2
                                * (-1.0 / 1680.0
                                    + inv2
                                        * (1.0 / 1188.0
                                            + inv2 * (-691.0 / 360_360.0 + inv2 / 156.0))))));
    (x - 0.5) * x.ln() - x + HALF_LN_2PI + series
}

/// The digamma function ψ(x) = d ln Γ(x) / dx.
///
/// Recurrence up to x ≥ 10, then the asymptotic series; reflection for x ≤ 0.
///
/// ```
/// use regulars_models::special::digamma;
/// // ψ(1) = −γ (Euler–Mascheroni)
/// assert!((digamma(1.0) + 0.577_215_664_901_532_9).abs() < 1e-14);
/// ```
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        if x == x.floor() {
            return f64::NAN;
        }
        // ψ(1 − x) − ψ(x) = π cot(πx)
        return digamma(1.0 - x) - PI / (PI * x).tan();
    }
    let mut acc = 0.0;
    let mut y = x;
    while y < 10.0 {
        acc -= 1.0 / y;
        y += 1.0;
    }
    let inv = 1.0 / y;
    let inv2 = inv * inv;
    let series = inv2
        * (1.0 / 12.0
            - inv2
                * (1.0 / 120.0
                    - inv2
                        * (1.0 / 252.0
                            - inv2
                                * (1.0 / 240.0 - inv2 * (1.0 / 132.0 - inv2 * 691.0 / 32760.0)))));
    acc + y.ln() - 0.5 * inv - series
}

/// ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b), for positive a and b.
///
/// ```
/// use regulars_models::special::ln_beta;
/// assert!((ln_beta(2.0, 3.0) - (1.0f64 / 12.0).ln()).abs() < 1e-14);
/// ```
pub fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// ln(eᵘ + eᵛ) without overflow.
pub fn log_add_exp(u: f64, v: f64) -> f64 {
    if u == f64::NEG_INFINITY {
        return v;
    }
    if v == f64::NEG_INFINITY {
        return u;
    }
    let m = u.max(v);
    m + ((u - m).exp() + (v - m).exp()).ln()
}

/// ln(eᵘ − eᵛ) for u ≥ v; −∞ when they are equal, NaN when v > u.
pub fn log_sub_exp(u: f64, v: f64) -> f64 {
    if v == f64::NEG_INFINITY {
        return u;
    }
    let d = v - u;
    if d > 0.0 {
        return f64::NAN;
    }
    // ln(1 − e^d), accurate for d near 0 and for d very negative.
    let ln1m = if d > -std::f64::consts::LN_2 {
        (-d.exp_m1()).ln()
    } else {
        (-d.exp()).ln_1p()
    };
    u + ln1m
}

/// ₂F₁(a, b; c; z) as (ln |value|, sign), with the transformations of the module docs.
///
/// The sign is +1.0 or −1.0 (a zero value is returned as (−∞, 1.0)).
pub fn ln_abs_hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Result<(f64, f64), SpecialError> {
    if !(a.is_finite() && b.is_finite() && c.is_finite() && z.is_finite()) {
        return Err(SpecialError::NonFinite { a, b, c, z });
    }
    if c <= 0.0 && c == c.floor() {
        return Err(SpecialError::PoleInC { a, b, c, z });
    }
    if z == 0.0 || a == 0.0 || b == 0.0 {
        return Ok((0.0, 1.0));
    }
    if z > 1.0 {
        return Err(SpecialError::Divergent { a, b, c, z });
    }
    if z == 1.0 {
        return gauss_at_one(a, b, c);
    }
    let mut candidates = Vec::with_capacity(3);
    if z < 0.0 {
        // Pfaff: w = z / (z − 1) lies in (0, 1).
        let w = z / (z - 1.0);
        let ln1mz = (-z).ln_1p();
        // (1 − z)^(−a) F(a, c − b; c; w)  and  (1 − z)^(−b) F(c − a, b; c; w)
        candidates.push(Candidate::new(a, c - b, c, w, -a * ln1mz));
        candidates.push(Candidate::new(c - a, b, c, w, -b * ln1mz));
        // The alternating series itself, good for small |z|.
        candidates.push(Candidate::new(a, b, c, z, 0.0));
    } else {
        candidates.push(Candidate::new(a, b, c, z, 0.0));
        // Euler: (1 − z)^(c − a − b) F(c − a, c − b; c; z)
        candidates.push(Candidate::new(
            c - a,
            c - b,
            c,
            z,
            (c - a - b) * (-z).ln_1p(),
        ));
    }
    candidates.sort_by(|x, y| x.rank().total_cmp(&y.rank()));
    // Cheap attempts first, so an easy representation is never passed over for a slow one;
    // then the full budget. A representation that cancels is never accepted.
    let mut last = None;
    for budget in [QUICK_TERMS, MAX_TERMS] {
        for cand in &candidates {
            match series(cand.a, cand.b, cand.c, cand.z, budget) {
                Ok((ln_abs, sign)) => return Ok((ln_abs + cand.ln_prefactor, sign)),
                Err(e) => last = Some(e),
            }
        }
        if z > 0.5 {
            match around_one(a, b, c, z, budget) {
                Ok(found) => return Ok(found),
                Err(e) => last = Some(e),
            }
        }
    }
    Err(relabel(
        last.unwrap_or(SpecialError::NoConvergence {
            a,
            b,
            c,
            z,
            terms: 0,
        }),
        a,
        b,
        c,
        z,
    ))
}

/// ln ₂F₁(a, b; c; z) for a value known to be positive.
///
/// ```
/// use regulars_models::special::ln_hyp2f1;
/// // ₂F₁(1, 1; 2; z) = −ln(1 − z) / z
/// let z = 0.999_f64;
/// let exact = (-(1.0 - z).ln() / z).ln();
/// assert!((ln_hyp2f1(1.0, 1.0, 2.0, z).unwrap() - exact).abs() < 1e-13);
/// // Large parameters near z = 1 stay finite in log space.
/// assert!(ln_hyp2f1(1.0e4, 1.0e4, 1.5e4, 0.99).unwrap().is_finite());
/// ```
pub fn ln_hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Result<f64, SpecialError> {
    let (ln_abs, sign) = ln_abs_hyp2f1(a, b, c, z)?;
    if sign > 0.0 && ln_abs > f64::NEG_INFINITY {
        Ok(ln_abs)
    } else {
        Err(SpecialError::NotPositive { a, b, c, z })
    }
}

/// ₂F₁(a, b; c; z) itself; an error where it overflows f64.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Result<f64, SpecialError> {
    let (ln_abs, sign) = ln_abs_hyp2f1(a, b, c, z)?;
    let value = sign * ln_abs.exp();
    if value.is_finite() {
        Ok(value)
    } else {
        Err(SpecialError::Divergent { a, b, c, z })
    }
}

fn relabel(e: SpecialError, a: f64, b: f64, c: f64, z: f64) -> SpecialError {
    match e {
        SpecialError::NoConvergence { terms, .. } => {
            SpecialError::NoConvergence { a, b, c, z, terms }
        }
        SpecialError::NonFinite { .. } => SpecialError::NonFinite { a, b, c, z },
        SpecialError::PoleInC { .. } => SpecialError::PoleInC { a, b, c, z },
        SpecialError::Divergent { .. } => SpecialError::Divergent { a, b, c, z },
        SpecialError::NotPositive { .. } => SpecialError::NotPositive { a, b, c, z },
        SpecialError::Cancellation { digits, .. } => {
            SpecialError::Cancellation { a, b, c, z, digits }
        }
    }
}

/// One way of writing the function: e^ln_prefactor × F(a, b; c; z) by its series.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    a: f64,
    b: f64,
    c: f64,
    z: f64,
    ln_prefactor: f64,
}

impl Candidate {
    fn new(a: f64, b: f64, c: f64, z: f64, ln_prefactor: f64) -> Self {
        Self {
            a,
            b,
            c,
            z,
            ln_prefactor,
        }
    }

    /// All terms of the series have the same sign: no cancellation when summing.
    fn positive(&self) -> bool {
        let ends = |x: f64| x <= 0.0 && x == x.floor();
        self.z > 0.0
            && (self.a > 0.0 || ends(self.a))
            && (self.b > 0.0 || ends(self.b))
            && self.c > 0.0
    }

    /// Lower is tried first: positive series before signed ones, then by how fast the
    /// terms decay (like n^(a + b − c − 1) |z|ⁿ) and how far they climb before decaying.
    fn rank(&self) -> f64 {
        let z = self.z.abs();
        // Where the term ratio |z (a + n)(b + n) / ((c + n)(n + 1))| falls below 1, roughly.
        let climb = (z * (self.a.abs() + 1.0) * (self.b.abs() + 1.0) / (self.c.abs() + 1.0))
            .max(1.0)
            .ln();
        let tail = (self.a + self.b - self.c).max(0.0) / (1.0 - z).max(1e-300);
        let cost = climb + (1.0 + tail).ln();
        if self.positive() { cost } else { cost + 1e6 }
    }
}

/// The connection to z = 1 (DLMF 15.8.4), for c − a − b not an integer:
/// ```text
/// F(a, b; c; z) = A F(a, b; a + b − c + 1; 1 − z)
///               + B (1 − z)^(c − a − b) F(c − a, c − b; c − a − b + 1; 1 − z),
/// ```
/// A = Γ(c) Γ(c − a − b) / (Γ(c − a) Γ(c − b)), B = Γ(c) Γ(a + b − c) / (Γ(a) Γ(b)).
fn around_one(a: f64, b: f64, c: f64, z: f64, budget: usize) -> Result<(f64, f64), SpecialError> {
    let s = c - a - b;
    let pole = |x: f64| x <= 0.0 && x == x.floor();
    let near_integer = (s - s.round()).abs() < 1e-6;
    if near_integer || pole(c) || pole(a) || pole(b) || pole(c - a) || pole(c - b) {
        return Err(SpecialError::Cancellation {
            a,
            b,
            c,
            z,
            digits: f64::INFINITY,
        });
    }
    let y = 1.0 - z;
    let (f1, s1) = series(a, b, 1.0 - s, y, budget)?;
    let (f2, s2) = series(c - a, c - b, s + 1.0, y, budget)?;
    let ln_a = ln_gamma(c) + ln_gamma(s) - ln_gamma(c - a) - ln_gamma(c - b);
    let sign_a = gamma_sign(c) * gamma_sign(s) * gamma_sign(c - a) * gamma_sign(c - b);
    let ln_b = ln_gamma(c) + ln_gamma(-s) - ln_gamma(a) - ln_gamma(b);
    let sign_b = gamma_sign(c) * gamma_sign(-s) * gamma_sign(a) * gamma_sign(b);
    let first = (ln_a + f1, sign_a * s1);
    let second = (ln_b + s * y.ln() + f2, sign_b * s2);
    let (big, small) = if first.0 >= second.0 {
        (first, second)
    } else {
        (second, first)
    };
    if big.1 == small.1 {
        return Ok((log_add_exp(big.0, small.0), big.1));
    }
    let diff = log_sub_exp(big.0, small.0);
    // Opposite signs: refuse when the two halves nearly cancel.
    if big.0 - diff > MAX_CANCELLATION.ln() || !diff.is_finite() {
        return Err(SpecialError::Cancellation {
            a,
            b,
            c,
            z,
            digits: (big.0 - diff) / std::f64::consts::LN_10,
        });
    }
    Ok((diff, big.1))
}

/// Gauss: ₂F₁(a, b; c; 1) = Γ(c) Γ(c − a − b) / (Γ(c − a) Γ(c − b)) when c − a − b > 0.
fn gauss_at_one(a: f64, b: f64, c: f64) -> Result<(f64, f64), SpecialError> {
    let z = 1.0;
    if c - a - b <= 0.0 {
        return Err(SpecialError::Divergent { a, b, c, z });
    }
    let pole = |x: f64| x <= 0.0 && x == x.floor();
    if pole(c - a) || pole(c - b) {
        // 1/Γ at a pole is zero.
        return Ok((f64::NEG_INFINITY, 1.0));
    }
    let sign = gamma_sign(c) * gamma_sign(c - a - b) * gamma_sign(c - a) * gamma_sign(c - b);
    Ok((
        ln_gamma(c) + ln_gamma(c - a - b) - ln_gamma(c - a) - ln_gamma(c - b),
        sign,
    ))
}

fn gamma_sign(x: f64) -> f64 {
    if x > 0.0 || (x.floor() as i64) % 2 == 0 {
        1.0
    } else {
        -1.0
    }
}

/// Most terms any series may take before giving up.
const MAX_TERMS: usize = 2_000_000;

/// Terms of the first, cheap attempt at each representation.
const QUICK_TERMS: usize = 20_000;

/// Largest |term| / |sum| accepted: beyond it, digits are lost to cancellation.
const MAX_CANCELLATION: f64 = 1e4;

/// Σ (a)ₙ (b)ₙ / ((c)ₙ n!) zⁿ for |z| < 1 as (ln |sum|, sign).
///
/// Terms follow from the ratio of consecutive terms; the term and the partial sum share a
/// scale e^ln_scale that is moved whenever either grows past 1e280.
fn series(a: f64, b: f64, c: f64, z: f64, budget: usize) -> Result<(f64, f64), SpecialError> {
    const BIG: f64 = 1e280;
    let ln_big = BIG.ln();
    // Beyond this index every Pochhammer factor has settled its sign.
    let settled = [-a, -b, -c, 0.0].into_iter().fold(0.0f64, f64::max).ceil() as usize + 1;
    let mut term = 1.0f64;
    let mut sum = 1.0f64;
    let mut ln_scale = 0.0f64;
    let mut calm = 0usize;
    let mut largest = 1.0f64;
    for n in 0..budget {
        let k = n as f64;
        let numerator = (a + k) * (b + k);
        if numerator == 0.0 {
            return finish(a, b, c, z, sum, largest, ln_scale);
        }
        let ratio = numerator / ((c + k) * (k + 1.0)) * z;
        term *= ratio;
        sum += term;
        largest = largest.max(term.abs());
        if largest > BIG || sum.abs() > BIG {
            term /= BIG;
            sum /= BIG;
            largest /= BIG;
            ln_scale += ln_big;
        }
        if n >= settled {
            // Later ratios stay below max(current ratio, z) once the factors settled, so
            // the tail is at most |term| ρ / (1 − ρ).
            let rho = ratio.abs().max(z.abs());
            if rho < 1.0 && term.abs() * rho / (1.0 - rho) <= f64::EPSILON * 0.05 * sum.abs() {
                calm += 1;
                if calm >= 2 {
                    return finish(a, b, c, z, sum, largest, ln_scale);
                }
            } else {
                calm = 0;
            }
        }
    }
    Err(SpecialError::NoConvergence {
        a,
        b,
        c,
        z,
        terms: budget,
    })
}

fn finish(
    a: f64,
    b: f64,
    c: f64,
    z: f64,
    sum: f64,
    largest: f64,
    ln_scale: f64,
) -> Result<(f64, f64), SpecialError> {
    if largest > MAX_CANCELLATION * sum.abs() {
        return Err(SpecialError::Cancellation {
            a,
            b,
            c,
            z,
            digits: (largest / sum.abs()).log10(),
        });
    }
    let sign = if sum < 0.0 { -1.0 } else { 1.0 };
    Ok((sum.abs().ln() + ln_scale, sign))
}
