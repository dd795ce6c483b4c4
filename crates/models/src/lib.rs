//! Customer-base models for Regulars: who is still a customer, how often they will come
//! back, what they will spend, and what they are worth — and the habits read off each
//! customer's history: how regularly they come and when they are due
//! ([`habits::regularity`]), which items go together and what to offer them
//! ([`habits::affinity`]), and when they are most likely to read a message
//! ([`habits::send_time`]).
//!
//! Pure numerics: no I/O, no clock. Input is one [`Summary`] per customer (or per group of
//! identical customers, with a weight); time is in one unit throughout (days when the
//! summaries come from [`summary::from_visits`]).
//!
//! # Notation
//!
//! For a customer first seen at time 0 and observed until T: x repeat purchases, the last
//! at tₓ (tₓ = 0 when x = 0).
//!
//! # Models
//!
//! * [`BgNbd`] — while alive, purchases follow a Poisson process with rate
//!   λ ~ Gamma(r, α); after each purchase the customer drops out with probability
//!   p ~ Beta(a, b). Likelihood (Fader, Hardie & Lee 2005):
//!   L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
//!     + δₓ₍>0₎ B(a+1, b+x−1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+tₓ)^(r+x)).
//! * [`MbgNbd`] — the same, but drop-out may also happen right at time 0, which removes
//!   BG/NBD's assumption that one-time buyers are alive:
//!   L = B(a, b+x+1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
//!     + B(a+1, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+tₓ)^(r+x)).
//! * [`ParetoNbd`] — purchases as above, an exponential lifetime with rate μ ~ Gamma(s, β):
//!   L = Γ(r+x) α^r β^s / Γ(r) · [1/((α+T)^(r+x) (β+T)^s) + s/(r+s+x) · A₀], where A₀ is a
//!   difference of two ₂F₁ terms ([`special::ln_hyp2f1`], in log space).
//! * [`GammaGamma`] — spend per transaction ~ Gamma(p, ν), ν ~ Gamma(q, v); fitted on repeat
//!   customers' average spend m̄: L ∝ Γ(px+q)/(Γ(px)Γ(q)) · v^q m̄^(px−1) x^(px) / (v + x m̄)^(px+q).
//!
//! Every count model ([`CountModel`]) predicts a customer's expected purchases in the next t,
//! P(alive), and for a new customer P(X(t) = n) and E[X(t)]; the formulas are on each
//! method. [`gamma_gamma::customer_lifetime_value`] combines a count model and the spend
//! model into a discounted CLV.
//!
//! # Fitting
//!
//! Maximum likelihood over θ = ln(parameters) (so they stay positive) by L-BFGS (argmin,
//! Moré–Thuente line search), with Nelder–Mead as fallback; the objective is the weighted
//! mean negative log-likelihood plus an optional L2 penalty λ Σ pᵢ², as in `lifetimes`.
//! BG/NBD, MBG/NBD and Gamma-Gamma use analytic gradients; Pareto/NBD central differences.
//! Identical rows are grouped first, so the cost of a fit grows with the number of
//! distinct (x, tₓ, T), not with customers; the likelihood's sum over those rows runs on
//! every core (rayon), in chunks of a fixed size added in a fixed order, so a fit's result
//! does not depend on the number of threads. Standard errors come from the observed
//! information (the Hessian in θ by differencing the gradient) and the delta method.
//! Degenerate data — no rows, no repeat purchase, T = 0 everywhere, an estimate running to
//! 0 or infinity — is a [`ModelError`], never a NaN.
//!
//! ```
//! use regulars_models::{BgNbd, CountModel, FitOptions, Summary};
//! let rows = [
//!     Summary::new(0.0, 0.0, 40.0),
//!     Summary::new(1.0, 20.0, 40.0),
//!     Summary::new(3.0, 35.0, 40.0),
//!     Summary::new(2.0, 10.0, 38.0),
//!     Summary::new(0.0, 0.0, 38.0),
//!     Summary::new(6.0, 37.0, 39.0),
//! ];
//! let fitted = BgNbd::fit(&rows, &FitOptions { penalizer: 0.01, ..FitOptions::default() }).unwrap();
//! assert!(fitted.stats.log_likelihood.is_finite());
//! let e = fitted.model.expected_purchases(30.0, &rows[2]).unwrap();
//! assert!(e > 0.0);
//! ```

pub mod bgnbd;
pub mod fit;
pub mod gamma_gamma;
mod grouped;
pub mod habits;
mod parallel;
pub mod pnbd;
pub mod score;
pub mod simulate;
pub mod special;
pub mod summary;

pub use bgnbd::{BgNbd, MbgNbd};
pub use fit::{CountModel, FitOptions, FitStats, Fitted, Method, ModelError, Parameters};
pub use gamma_gamma::GammaGamma;
pub use pnbd::ParetoNbd;
pub use summary::Summary;
