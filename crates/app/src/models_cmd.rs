//! `regulars models fit|predict`: fit customer-base models on a summary CSV and score
//! every customer, for analysts.

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use regulars_models::gamma_gamma::ClvOptions;
use regulars_models::score::{score_counts, score_value};
use regulars_models::summary::parse_csv;
use regulars_models::{
    BgNbd, CountModel, FitOptions, FitStats, Fitted, GammaGamma, MbgNbd, Method, Parameters,
    ParetoNbd, Summary,
};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The `models` subcommands.
#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Fit a model and print its parameters, standard errors, log-likelihood, AIC and BIC.
    Fit {
        /// Which model.
        #[arg(long, value_enum)]
        model: ModelKind,
        /// Summary CSV: customer_id,frequency,recency,T[,monetary_value][,weight].
        #[arg(long)]
        input: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = FitFormat::Text)]
        format: FitFormat,
        /// L2 penalty on the parameters (0 = plain maximum likelihood).
        #[arg(long, default_value_t = 0.0)]
        penalizer: f64,
    },
    /// Fit a model, then print every customer with its predictions.
    Predict {
        /// Which model; gamma-gamma adds expected spend and CLV to a count model's output.
        #[arg(long, value_enum)]
        model: ModelKind,
        /// Summary CSV: customer_id,frequency,recency,T[,monetary_value][,weight].
        #[arg(long)]
        input: PathBuf,
        /// Prediction horizon, in the CSV's time unit (days for summaries built by Regulars).
        #[arg(long)]
        horizon: f64,
        /// Output format.
        #[arg(long, value_enum, default_value_t = PredictFormat::Csv)]
        format: PredictFormat,
        /// L2 penalty on the parameters (0 = plain maximum likelihood).
        #[arg(long, default_value_t = 0.0)]
        penalizer: f64,
        /// With gamma-gamma: the purchase-count model behind the CLV.
        #[arg(long, value_enum, default_value_t = ModelKind::Bgnbd)]
        counts: ModelKind,
        /// With gamma-gamma: monthly discount rate of the CLV.
        #[arg(long, default_value_t = 0.01)]
        discount: f64,
        /// Time units in a month: 30 for days, 4.345 for weeks.
        #[arg(long, default_value_t = 30.0)]
        units_per_month: f64,
    },
}

/// The models the command line knows.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelKind {
    /// BG/NBD (Fader, Hardie & Lee 2005).
    Bgnbd,
    /// MBG/NBD (Batislam et al. 2007).
    Mbgnbd,
    /// Pareto/NBD (Schmittlein et al. 1987).
    Pnbd,
    /// Gamma-Gamma spend model.
    GammaGamma,
}

impl ModelKind {
    fn label(self) -> &'static str {
        match self {
            ModelKind::Bgnbd => "BG/NBD",
            ModelKind::Mbgnbd => "MBG/NBD",
            ModelKind::Pnbd => "Pareto/NBD",
            ModelKind::GammaGamma => "Gamma-Gamma",
        }
    }

    fn key(self) -> &'static str {
        match self {
            ModelKind::Bgnbd => "bgnbd",
            ModelKind::Mbgnbd => "mbgnbd",
            ModelKind::Pnbd => "pnbd",
            ModelKind::GammaGamma => "gamma-gamma",
        }
    }
}

/// How `fit` prints.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FitFormat {
    /// A table for people.
    Text,
    /// One JSON object.
    Json,
}

/// How `predict` prints.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PredictFormat {
    /// The input columns plus the predictions.
    Csv,
    /// One JSON array of objects.
    Json,
}

/// Runs a `models` subcommand and returns what it prints.
pub fn run(command: ModelsCommand) -> Result<String> {
    match command {
        ModelsCommand::Fit {
            model,
            input,
            format,
            penalizer,
        } => {
            let (_, rows) = read(&input)?;
            let options = options(penalizer)?;
            let report = fit_report(model, &rows, &options)?;
            Ok(match format {
                FitFormat::Json => format!("{}\n", serde_json::to_string_pretty(&report.json())?),
                FitFormat::Text => report.text(),
            })
        }
        ModelsCommand::Predict {
            model,
            input,
            horizon,
            format,
            penalizer,
            counts,
            discount,
            units_per_month,
        } => {
            if !(horizon.is_finite() && horizon >= 0.0) {
                bail!("--horizon must be a non-negative number, not {horizon}");
            }
            if !(units_per_month.is_finite() && units_per_month > 0.0) {
                bail!("--units-per-month must be positive, not {units_per_month}");
            }
            let (ids, rows) = read(&input)?;
            let options = options(penalizer)?;
            let table = if model == ModelKind::GammaGamma {
                if counts == ModelKind::GammaGamma {
                    bail!("--counts must be a purchase-count model: bgnbd, mbgnbd or pnbd");
                }
                let spend = GammaGamma::fit(&rows, &options)
                    .context("fitting Gamma-Gamma")?
                    .model;
                let clv = ClvOptions {
                    months: (horizon / units_per_month).ceil() as u32,
                    monthly_discount: discount,
                    units_per_month,
                };
                predict_value(counts, &spend, &rows, horizon, &clv, &options)?
            } else {
                predict_counts(model, &rows, horizon, &options)?
            };
            Ok(render(&ids, &rows, &table, format)?)
        }
    }
}

/// Writes the output; a reader that stopped early (`| head`) is not an error.
pub fn print(out: String) -> Result<()> {
    use std::io::Write as _;
    match std::io::stdout().write_all(out.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing the output"),
    }
}

fn options(penalizer: f64) -> Result<FitOptions> {
    if !(penalizer.is_finite() && penalizer >= 0.0) {
        bail!("--penalizer must be a non-negative number, not {penalizer}");
    }
    Ok(FitOptions {
        penalizer,
        ..FitOptions::default()
    })
}

fn read(path: &Path) -> Result<(Vec<String>, Vec<Summary>)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let parsed = parse_csv(&text).with_context(|| format!("{} is not valid", path.display()))?;
    if parsed.is_empty() {
        bail!("{} has a header but no customers", path.display());
    }
    Ok(parsed.into_iter().unzip())
}

/// A fit, whatever the model, ready to print.
struct FitReport {
    model: ModelKind,
    names: &'static [&'static str],
    values: Vec<f64>,
    stats: FitStats,
}

fn report<M: Parameters>(model: ModelKind, fitted: Fitted<M>) -> FitReport {
    FitReport {
        model,
        names: M::NAMES,
        values: fitted.model.values(),
        stats: fitted.stats,
    }
}

fn fit_report(model: ModelKind, rows: &[Summary], options: &FitOptions) -> Result<FitReport> {
    let context = || format!("fitting {}", model.label());
    Ok(match model {
        ModelKind::Bgnbd => report(model, BgNbd::fit(rows, options).with_context(context)?),
        ModelKind::Mbgnbd => report(model, MbgNbd::fit(rows, options).with_context(context)?),
        ModelKind::Pnbd => report(model, ParetoNbd::fit(rows, options).with_context(context)?),
        ModelKind::GammaGamma => {
            report(model, GammaGamma::fit(rows, options).with_context(context)?)
        }
    })
}

impl FitReport {
    fn text(&self) -> String {
        let s = &self.stats;
        let mut out = String::new();
        let method = match s.method {
            Method::Lbfgs => "L-BFGS",
            Method::NelderMead => "Nelder-Mead (L-BFGS failed)",
        };
        let _ = writeln!(out, "model           {}", self.model.label());
        let _ = writeln!(
            out,
            "customers       {} ({} distinct rows)",
            s.observations, s.distinct_rows
        );
        let _ = writeln!(out, "optimizer       {method}, {} iterations", s.iterations);
        let _ = writeln!(out, "penalizer       {}", s.penalizer);
        let _ = writeln!(out);
        let _ = writeln!(out, "parameter       estimate      std. error");
        for (i, (name, value)) in self.names.iter().zip(&self.values).enumerate() {
            let se = s
                .standard_errors
                .as_ref()
                .and_then(|se| se.get(i))
                .map(|v| format!("{v:.6}"))
                .unwrap_or_else(|| "n/a".into());
            let _ = writeln!(out, "{name:<15} {value:<13.6} {se}");
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "log-likelihood  {:.4}", s.log_likelihood);
        let _ = writeln!(out, "AIC             {:.4}", s.aic());
        let _ = writeln!(out, "BIC             {:.4}", s.bic());
        out
    }

    fn json(&self) -> Value {
        let s = &self.stats;
        let params: serde_json::Map<String, Value> = self
            .names
            .iter()
            .zip(&self.values)
            .map(|(n, v)| ((*n).to_owned(), json!(v)))
            .collect();
        let se: Value = match &s.standard_errors {
            Some(se) => Value::Object(
                self.names
                    .iter()
                    .zip(se)
                    .map(|(n, v)| ((*n).to_owned(), json!(v)))
                    .collect(),
            ),
            None => Value::Null,
        };
        json!({
            "model": self.model.key(),
            "params": params,
            "standard_errors": se,
            "log_likelihood": s.log_likelihood,
            "aic": s.aic(),
            "bic": s.bic(),
            "customers": s.observations,
            "distinct_rows": s.distinct_rows,
            "iterations": s.iterations,
            "method": s.method,
            "penalizer": s.penalizer,
        })
    }
}

/// Column names and one row of values per customer.
struct Table {
    columns: Vec<&'static str>,
    values: Vec<Vec<f64>>,
}

fn predict_counts(
    model: ModelKind,
    rows: &[Summary],
    horizon: f64,
    options: &FitOptions,
) -> Result<Table> {
    fn scores<C: CountModel>(m: &C, rows: &[Summary], horizon: f64) -> Result<Vec<Vec<f64>>> {
        Ok(score_counts(m, rows, horizon)?
            .into_iter()
            .map(|s| vec![s.expected_purchases, s.p_alive])
            .collect())
    }
    let context = || format!("fitting {}", model.label());
    let values = match model {
        ModelKind::Bgnbd => scores(
            &BgNbd::fit(rows, options).with_context(context)?.model,
            rows,
            horizon,
        )?,
        ModelKind::Mbgnbd => scores(
            &MbgNbd::fit(rows, options).with_context(context)?.model,
            rows,
            horizon,
        )?,
        ModelKind::Pnbd => scores(
            &ParetoNbd::fit(rows, options).with_context(context)?.model,
            rows,
            horizon,
        )?,
        ModelKind::GammaGamma => bail!("Gamma-Gamma predicts spend, not purchases"),
    };
    Ok(Table {
        columns: vec!["expected_purchases", "p_alive"],
        values,
    })
}

fn predict_value(
    counts: ModelKind,
    spend: &GammaGamma,
    rows: &[Summary],
    horizon: f64,
    clv: &ClvOptions,
    options: &FitOptions,
) -> Result<Table> {
    fn scores<C: CountModel>(
        m: &C,
        spend: &GammaGamma,
        rows: &[Summary],
        horizon: f64,
        clv: &ClvOptions,
    ) -> Result<Vec<Vec<f64>>> {
        Ok(score_value(m, spend, rows, horizon, clv)?
            .into_iter()
            .map(|s| vec![s.expected_purchases, s.p_alive, s.expected_spend, s.clv])
            .collect())
    }
    let context = || format!("fitting {}", counts.label());
    let values = match counts {
        ModelKind::Bgnbd => scores(
            &BgNbd::fit(rows, options).with_context(context)?.model,
            spend,
            rows,
            horizon,
            clv,
        )?,
        ModelKind::Mbgnbd => scores(
            &MbgNbd::fit(rows, options).with_context(context)?.model,
            spend,
            rows,
            horizon,
            clv,
        )?,
        ModelKind::Pnbd => scores(
            &ParetoNbd::fit(rows, options).with_context(context)?.model,
            spend,
            rows,
            horizon,
            clv,
        )?,
        ModelKind::GammaGamma => bail!("--counts must be a purchase-count model"),
    };
    Ok(Table {
        columns: vec!["expected_purchases", "p_alive", "expected_spend", "clv"],
        values,
    })
}

fn render(
    ids: &[String],
    rows: &[Summary],
    table: &Table,
    format: PredictFormat,
) -> Result<String> {
    match format {
        PredictFormat::Csv => {
            let mut out = format!(
                "customer_id,frequency,recency,T,{}\n",
                table.columns.join(",")
            );
            for ((id, s), values) in ids.iter().zip(rows).zip(&table.values) {
                let _ = write!(out, "{id},{},{},{}", s.frequency, s.recency, s.t);
                for v in values {
                    let _ = write!(out, ",{v:.6}");
                }
                out.push('\n');
            }
            Ok(out)
        }
        PredictFormat::Json => {
            let items: Vec<Value> = ids
                .iter()
                .zip(rows)
                .zip(&table.values)
                .map(|((id, s), values)| {
                    let mut obj = json!({
                        "customer_id": id,
                        "frequency": s.frequency,
                        "recency": s.recency,
                        "T": s.t,
                    });
                    for (c, v) in table.columns.iter().zip(values) {
                        obj[*c] = json!(v);
                    }
                    obj
                })
                .collect();
            Ok(format!("{}\n", serde_json::to_string_pretty(&items)?))
        }
    }
}
