//! Maximum-likelihood fitting shared by every model: the optimiser, the fallback, the
//! standard errors, the fit statistics and the errors.

use crate::special::SpecialError;
use crate::summary::{Summary, SummaryError};
use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::neldermead::NelderMead;
use argmin::solver::quasinewton::LBFGS;

/// Why a model could not be fitted or used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// No rows at all.
    #[error("no customers to fit")]
    NoData,
    /// A row is out of its domain.
    #[error(transparent)]
    Invalid(#[from] SummaryError),
    /// Nobody came back: repeat-purchase rates and drop-out cannot be told apart.
    #[error("no customer made a repeat purchase; the purchase rate cannot be estimated")]
    NoRepeatPurchases,
    /// Every customer was observed for zero time.
    #[error("every customer has T = 0; there is no observation time to learn from")]
    NoObservationTime,
    /// Gamma-Gamma needs repeat customers with a monetary value.
    #[error("no repeat customer has a monetary value; the spend model cannot be fitted")]
    NoSpendData,
    /// The likelihood keeps improving as a parameter runs to 0 or infinity.
    #[error(
        "the data do not determine {parameter} (the estimate ran to {value:e}); add data or use a penalizer"
    )]
    NotIdentified {
        /// The parameter.
        parameter: &'static str,
        /// Where it went.
        value: f64,
    },
    /// Neither L-BFGS nor Nelder–Mead reached a finite optimum.
    #[error("the optimiser did not converge: {0}")]
    NoConvergence(String),
    /// A special function could not be evaluated.
    #[error("numerical failure: {0}")]
    Numerical(#[from] SpecialError),
    /// An argument of a prediction is out of its domain, or the parameters do not allow it.
    #[error("{0}")]
    Domain(String),
}

/// Which optimiser produced the estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Limited-memory BFGS with a Moré–Thuente line search.
    Lbfgs,
    /// Nelder–Mead simplex, used when L-BFGS failed.
    NelderMead,
}

/// Options of a fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    /// λ of the L2 penalty λ Σ pᵢ² added to the mean negative log-likelihood (as in
    /// `lifetimes`); 0 for plain maximum likelihood.
    pub penalizer: f64,
    /// Most optimiser iterations.
    pub max_iters: u64,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            penalizer: 0.0,
            max_iters: 1000,
        }
    }
}

/// How a fit went.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FitStats {
    /// Σ wᵢ ln Lᵢ at the estimate (without the penalty).
    pub log_likelihood: f64,
    /// Standard errors of the natural parameters, in the model's parameter order; `None`
    /// when the observed information is not positive definite.
    pub standard_errors: Option<Vec<f64>>,
    /// Customers (sum of weights).
    pub observations: f64,
    /// Distinct rows the likelihood was evaluated on.
    pub distinct_rows: usize,
    /// Optimiser iterations.
    pub iterations: u64,
    /// Which optimiser produced the estimate.
    pub method: Method,
    /// The penalizer used.
    pub penalizer: f64,
    /// Number of parameters.
    pub parameters: usize,
}

impl FitStats {
    /// Akaike: 2k − 2 ln L.
    pub fn aic(&self) -> f64 {
        2.0 * self.parameters as f64 - 2.0 * self.log_likelihood
    }

    /// Bayesian: k ln n − 2 ln L, n the number of customers.
    pub fn bic(&self) -> f64 {
        self.parameters as f64 * self.observations.max(1.0).ln() - 2.0 * self.log_likelihood
    }
}

/// A fitted model and how the fit went.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted<M> {
    /// The model at the estimate.
    pub model: M,
    /// Statistics of the fit.
    pub stats: FitStats,
}

/// A model with named positive parameters.
pub trait Parameters: Sized {
    /// Parameter names, in order.
    const NAMES: &'static [&'static str];
    /// The parameters, in [`Self::NAMES`] order.
    fn values(&self) -> Vec<f64>;
    /// Builds the model from parameters in [`Self::NAMES`] order.
    fn from_values(values: &[f64]) -> Self;
}

/// Predictions every purchase-count model makes.
pub trait CountModel {
    /// E[X(T, T + t) | x, tₓ, T]: expected purchases of this customer in the next `t`.
    fn expected_purchases(&self, t: f64, customer: &Summary) -> Result<f64, ModelError>;
    /// P(alive | x, tₓ, T).
    fn p_alive(&self, customer: &Summary) -> Result<f64, ModelError>;
    /// P(X(t) = n) for a new customer (time 0 = first purchase).
    fn probability_of_purchases(&self, t: f64, n: u32) -> Result<f64, ModelError>;
    /// E[X(t)] for a new customer.
    fn expected_purchases_new(&self, t: f64) -> Result<f64, ModelError>;
}

/// Rows of a count model's likelihood, grouped.
#[derive(Debug, Clone)]
pub(crate) struct CountData {
    pub x: Vec<f64>,
    pub tx: Vec<f64>,
    pub t: Vec<f64>,
    pub w: Vec<f64>,
    /// The distinct purchase counts, so terms that depend on x alone are computed once
    /// per count rather than once per row.
    pub x_values: Vec<f64>,
    /// For each row, its count's position in `x_values`.
    pub x_index: Vec<usize>,
    /// The distinct observation times T: a brand's customers share a few hundred
    /// (whole days since their first purchase), so ln(α + T) is taken once per time.
    pub t_values: Vec<f64>,
    /// For each row, its T's position in `t_values`.
    pub t_index: Vec<usize>,
    /// The distinct times of last purchase tₓ, likewise.
    pub tx_values: Vec<f64>,
    /// For each row, its tₓ's position in `tx_values`.
    pub tx_index: Vec<usize>,
}

impl CountData {
    /// Validates, refuses degenerate data, and groups identical rows
    /// ([`crate::grouped::count_groups`]: in ascending (x, T, tₓ) order, with each
    /// column's distinct values).
    pub fn new(rows: &[Summary]) -> Result<Self, ModelError> {
        if rows.is_empty() {
            return Err(ModelError::NoData);
        }
        crate::summary::validate_all(rows)?;
        let g = crate::grouped::count_groups(rows);
        if g.t_values.iter().all(|t| *t == 0.0) {
            return Err(ModelError::NoObservationTime);
        }
        if g.x_values.iter().all(|x| *x == 0.0) {
            return Err(ModelError::NoRepeatPurchases);
        }
        let column = |values: &[f64], index: &[usize]| index.iter().map(|&i| values[i]).collect();
        Ok(Self {
            x: column(&g.x_values, &g.x_index),
            tx: column(&g.tx_values, &g.tx_index),
            t: column(&g.t_values, &g.t_index),
            w: g.w,
            x_values: g.x_values,
            x_index: g.x_index,
            t_values: g.t_values,
            t_index: g.t_index,
            tx_values: g.tx_values,
            tx_index: g.tx_index,
        })
    }

    pub fn len(&self) -> usize {
        self.x.len()
    }

    pub fn total_weight(&self) -> f64 {
        self.w.iter().sum()
    }
}

/// The distinct values of `values` in ascending order, and each value's position among
/// them.
pub(crate) fn distinct(values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.dedup();
    let index = values
        .iter()
        .map(|v| sorted.partition_point(|u| u < v))
        .collect();
    (sorted, index)
}

/// A weighted log-likelihood over natural parameters.
pub(crate) trait Likelihood {
    /// Σ wᵢ ln Lᵢ and its gradient with respect to the natural parameters.
    fn value_and_gradient(&self, params: &[f64]) -> Result<(f64, Vec<f64>), ModelError>;
    /// Where the optimiser starts.
    fn start(&self) -> Vec<f64>;
    /// Customers (Σ w).
    fn observations(&self) -> f64;
    /// Distinct rows.
    fn distinct_rows(&self) -> usize;
}

/// Central differences of the log-likelihood alone: the gradient of models whose analytic
/// derivative is too costly (each component costs two evaluations).
pub(crate) fn numerical_gradient(
    params: &[f64],
    f: impl Fn(&[f64]) -> Result<f64, ModelError>,
) -> Result<Vec<f64>, ModelError> {
    let mut grad = Vec::with_capacity(params.len());
    let mut p = params.to_vec();
    for i in 0..params.len() {
        // Relative step on each (positive) parameter.
        let h = 1e-6 * params[i];
        p[i] = params[i] + h;
        let up = f(&p)?;
        p[i] = params[i] - h;
        let down = f(&p)?;
        p[i] = params[i];
        grad.push((up - down) / (2.0 * h));
    }
    Ok(grad)
}

/// Parameters beyond e^±LIMIT on the log scale are taken as run away.
const RUNAWAY: f64 = 18.0;

/// The optimiser's view: minimise −(1/W) Σ w ln L + λ Σ p² over θ = ln p.
struct Objective<'a, L> {
    lik: &'a L,
    penalizer: f64,
    scale: f64,
    /// The last point evaluated, shared by every copy of the objective: the line search
    /// asks for the cost and then the gradient at the same point, the optimiser's copy
    /// starts where the caller's evaluated, and the caller then asks again at the point the
    /// optimiser ended on; one evaluation answers each pair.
    last: &'a std::cell::RefCell<Option<Evaluation>>,
}

/// θ, the cost there, its gradient, and Σ w ln L (without the penalty).
type Evaluation = (Vec<f64>, f64, Vec<f64>, f64);

impl<L> Clone for Objective<'_, L> {
    fn clone(&self) -> Self {
        Self {
            lik: self.lik,
            penalizer: self.penalizer,
            scale: self.scale,
            last: self.last,
        }
    }
}

impl<L: Likelihood> Objective<'_, L> {
    fn eval(&self, theta: &[f64]) -> Result<(f64, Vec<f64>), ModelError> {
        self.eval_full(theta).map(|(cost, grad, _)| (cost, grad))
    }

    /// The cost, its gradient and Σ w ln L at θ.
    fn eval_full(&self, theta: &[f64]) -> Result<(f64, Vec<f64>, f64), ModelError> {
        if let Some((at, cost, grad, ll)) = self.last.borrow().as_ref()
            && at.as_slice() == theta
        {
            return Ok((*cost, grad.clone(), *ll));
        }
        let (cost, grad, ll) = self.eval_uncached(theta)?;
        *self.last.borrow_mut() = Some((theta.to_vec(), cost, grad.clone(), ll));
        Ok((cost, grad, ll))
    }

    fn eval_uncached(&self, theta: &[f64]) -> Result<(f64, Vec<f64>, f64), ModelError> {
        if theta.iter().any(|t| !t.is_finite() || t.abs() > 40.0) {
            return Err(ModelError::NoConvergence(
                "the parameters left the representable range".into(),
            ));
        }
        let p: Vec<f64> = theta.iter().map(|t| t.exp()).collect();
        let (ll, grad) = self.lik.value_and_gradient(&p)?;
        let penalty: f64 = p.iter().map(|v| v * v).sum::<f64>() * self.penalizer;
        let cost = -ll * self.scale + penalty;
        let g: Vec<f64> = grad
            .iter()
            .zip(&p)
            .map(|(g, p)| -g * p * self.scale + 2.0 * self.penalizer * p * p)
            .collect();
        if cost.is_finite() && g.iter().all(|v| v.is_finite()) {
            Ok((cost, g, ll))
        } else {
            Err(ModelError::NoConvergence(
                "the likelihood is not finite there".into(),
            ))
        }
    }
}

impl<L: Likelihood> CostFunction for Objective<'_, L> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, theta: &Self::Param) -> Result<f64, argmin::core::Error> {
        self.eval(theta)
            .map(|(c, _)| c)
            .map_err(argmin::core::Error::new)
    }
}

impl<L: Likelihood> Gradient for Objective<'_, L> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, theta: &Self::Param) -> Result<Vec<f64>, argmin::core::Error> {
        self.eval(theta)
            .map(|(_, g)| g)
            .map_err(argmin::core::Error::new)
    }
}

/// Fits by L-BFGS on log-parameters, falls back on Nelder–Mead, checks the estimate and
/// computes standard errors.
pub(crate) fn maximise<M: Parameters, L: Likelihood>(
    lik: &L,
    options: &FitOptions,
) -> Result<Fitted<M>, ModelError> {
    if !(options.penalizer.is_finite() && options.penalizer >= 0.0) {
        return Err(ModelError::Domain(format!(
            "the penalizer must be a non-negative number, not {}",
            options.penalizer
        )));
    }
    let last = std::cell::RefCell::new(None);
    let objective = Objective {
        lik,
        penalizer: options.penalizer,
        scale: 1.0 / lik.observations(),
        last: &last,
    };
    let theta0: Vec<f64> = lik.start().iter().map(|p| p.ln()).collect();
    let (start_cost, _) = objective.eval(&theta0)?;

    let lbfgs = run_lbfgs(&objective, theta0.clone(), options.max_iters);
    let mut best: Option<(Vec<f64>, f64, u64, Method)> = None;
    let mut failure = String::new();
    match lbfgs {
        Ok((theta, iters)) => match stationary(&objective, &theta) {
            Ok(cost) => best = Some((theta, cost, iters, Method::Lbfgs)),
            Err(e) => failure = e,
        },
        Err(e) => failure = e,
    }
    if best.is_none() {
        // Start the simplex from the better of the start and wherever L-BFGS got stuck.
        let (theta, iters) =
            run_nelder_mead(&objective, theta0, options.max_iters * 5).map_err(|e| {
                ModelError::NoConvergence(format!("L-BFGS: {failure}; Nelder–Mead: {e}"))
            })?;
        let cost = objective.eval(&theta)?.0;
        if cost > start_cost {
            return Err(ModelError::NoConvergence(format!(
                "L-BFGS: {failure}; Nelder–Mead ended above its start"
            )));
        }
        best = Some((theta, cost, iters, Method::NelderMead));
    }
    let Some((theta, _cost, iterations, method)) = best else {
        return Err(ModelError::NoConvergence(failure));
    };
    for (name, t) in M::NAMES.iter().zip(&theta) {
        if t.abs() > RUNAWAY {
            return Err(ModelError::NotIdentified {
                parameter: name,
                value: t.exp(),
            });
        }
    }
    let params: Vec<f64> = theta.iter().map(|t| t.exp()).collect();
    let (_, _, log_likelihood) = objective.eval_full(&theta)?;
    let standard_errors = standard_errors(&objective, &theta);
    Ok(Fitted {
        model: M::from_values(&params),
        stats: FitStats {
            log_likelihood,
            standard_errors,
            observations: lik.observations(),
            distinct_rows: lik.distinct_rows(),
            iterations,
            method,
            penalizer: options.penalizer,
            parameters: M::NAMES.len(),
        },
    })
}

fn run_lbfgs<L: Likelihood>(
    objective: &Objective<'_, L>,
    theta0: Vec<f64>,
    max_iters: u64,
) -> Result<(Vec<f64>, u64), String> {
    let linesearch = MoreThuenteLineSearch::new();
    let solver = LBFGS::new(linesearch, 10)
        .with_tolerance_grad(1e-9)
        .and_then(|s| s.with_tolerance_cost(1e-14))
        .map_err(|e| e.to_string())?;
    let result = Executor::new(objective.clone(), solver)
        .configure(|state| state.param(theta0).max_iters(max_iters))
        .run()
        .map_err(|e| e.to_string())?;
    let state = result.state();
    let theta = state
        .get_best_param()
        .cloned()
        .ok_or_else(|| "no parameters".to_owned())?;
    Ok((theta, state.get_iter()))
}

fn run_nelder_mead<L: Likelihood>(
    objective: &Objective<'_, L>,
    theta0: Vec<f64>,
    max_iters: u64,
) -> Result<(Vec<f64>, u64), String> {
    let mut simplex = vec![theta0.clone()];
    for i in 0..theta0.len() {
        let mut v = theta0.clone();
        v[i] += 0.5;
        simplex.push(v);
    }
    let solver = NelderMead::new(simplex)
        .with_sd_tolerance(1e-12)
        .map_err(|e| e.to_string())?;
    let result = Executor::new(objective.clone(), solver)
        .configure(|state| state.max_iters(max_iters))
        .run()
        .map_err(|e| e.to_string())?;
    let state = result.state();
    let theta = state
        .get_best_param()
        .cloned()
        .ok_or_else(|| "no parameters".to_owned())?;
    Ok((theta, state.get_iter()))
}

/// The cost at θ when its gradient is close to zero, or why not.
fn stationary<L: Likelihood>(objective: &Objective<'_, L>, theta: &[f64]) -> Result<f64, String> {
    let (cost, g) = objective.eval(theta).map_err(|e| e.to_string())?;
    let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm <= 1e-4 * cost.abs().max(1.0) || theta.iter().any(|t| t.abs() > RUNAWAY) {
        Ok(cost)
    } else {
        Err(format!("stopped with gradient norm {norm:e}"))
    }
}

/// Standard errors of the natural parameters: the observed information is the Hessian of
/// the total penalised negative log-likelihood in θ = ln p, by forward differences of the
/// gradient from θ̂, where the fit has already evaluated it (one evaluation per parameter
/// rather than two: the O(step) error, about 1e-5 relative, is far below what a standard
/// error is read to); its inverse is the covariance of θ̂, and the delta method gives
/// SE(p̂ᵢ) = p̂ᵢ √Cov(θ̂)ᵢᵢ.
fn standard_errors<L: Likelihood>(objective: &Objective<'_, L>, theta: &[f64]) -> Option<Vec<f64>> {
    let k = theta.len();
    let total = 1.0 / objective.scale;
    let at = objective.eval(theta).ok()?.1;
    let mut h = vec![vec![0.0; k]; k];
    let mut t = theta.to_vec();
    for j in 0..k {
        let step = 1e-5 * theta[j].abs().max(1.0);
        t[j] = theta[j] + step;
        let up = objective.eval(&t).ok()?.1;
        t[j] = theta[j];
        for i in 0..k {
            h[i][j] = (up[i] - at[i]) / step * total;
        }
    }
    // Differencing leaves the two triangles slightly apart; the information is symmetric.
    let symmetric: Vec<Vec<f64>> = (0..k)
        .map(|i| (0..k).map(|j| 0.5 * (h[i][j] + h[j][i])).collect())
        .collect();
    let inv = invert(symmetric)?;
    let mut se = Vec::with_capacity(k);
    for i in 0..k {
        if !(inv[i][i] > 0.0 && inv[i][i].is_finite()) {
            return None;
        }
        se.push(theta[i].exp() * inv[i][i].sqrt());
    }
    Some(se)
}

/// Gauss–Jordan inversion with partial pivoting; `None` when singular.
fn invert(mut m: Vec<Vec<f64>>) -> Option<Vec<Vec<f64>>> {
    let n = m.len();
    let mut inv: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    for col in 0..n {
        let pivot = (col..n).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[pivot][col].abs() < 1e-300 {
            return None;
        }
        m.swap(col, pivot);
        inv.swap(col, pivot);
        let d = m[col][col];
        for j in 0..n {
            m[col][j] /= d;
            inv[col][j] /= d;
        }
        for row in 0..n {
            if row != col {
                let f = m[row][col];
                if f != 0.0 {
                    for j in 0..n {
                        m[row][j] -= f * m[col][j];
                        inv[row][j] -= f * inv[col][j];
                    }
                }
            }
        }
    }
    Some(inv)
}
