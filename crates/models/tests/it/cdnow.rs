//! The CDNOW summary (2,357 customers, weeks) against the published BG/NBD estimates and
//! `lifetimes` 0.11.3 (tests/data/lifetimes_reference.json, made by
//! tests/data/gen_lifetimes_reference.py).

use regulars_models::gamma_gamma::{ClvOptions, customer_lifetime_value};
use regulars_models::summary::parse_csv;
use regulars_models::{
    BgNbd, CountModel, FitOptions, GammaGamma, MbgNbd, Parameters, ParetoNbd, Summary,
};
use serde_json::Value;

fn rows() -> Vec<Summary> {
    parse_csv(include_str!("../data/cdnow_customers_summary.csv"))
        .unwrap()
        .into_iter()
        .map(|(_, s)| s)
        .collect()
}

fn reference() -> Value {
    serde_json::from_str(include_str!("../data/lifetimes_reference.json")).unwrap()
}

fn params(v: &Value, names: &[&str]) -> Vec<f64> {
    names
        .iter()
        .map(|n| v["params"][n].as_f64().unwrap())
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn close(what: &str, got: f64, want: f64, rel: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs().max(1e-12),
        "{what}: got {got}, want {want}"
    );
}

/// Standard errors against lifetimes' (the inverse Hessian of the same likelihood in
/// log-parameters, mapped by the delta method), where lifetimes reports them.
fn check_standard_errors(key: &str, names: &[&str], se: Option<Vec<f64>>, r: &Value) {
    let Some(reference) = r["standard_errors"].as_object() else {
        return;
    };
    let se = se.unwrap();
    for (name, got) in names.iter().zip(se) {
        let want = reference[*name].as_f64().unwrap();
        close(&format!("{key} SE({name})"), got, want, 1e-2);
    }
}

fn sample(reference: &Value, rows: &[Summary]) -> Vec<Summary> {
    reference["sample_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| rows[i.as_u64().unwrap() as usize])
        .collect()
}

/// Fitted parameters and log-likelihood against lifetimes; predictions at lifetimes'
/// parameters against lifetimes' own predictions (so the formulas are checked tightly,
/// apart from the optimiser).
fn check_count_model<M: CountModel + Parameters>(
    key: &str,
    fitted: (M, f64, Option<Vec<f64>>),
    reference: &Value,
) {
    let r = &reference[key];
    let (model, ll, se) = fitted;
    check_standard_errors(key, M::NAMES, se, r);
    for (name, (got, want)) in M::NAMES
        .iter()
        .zip(model.values().into_iter().zip(params(r, M::NAMES)))
    {
        close(&format!("{key} {name}"), got, want, 2e-3);
    }
    close(
        &format!("{key} log-likelihood"),
        ll,
        r["log_likelihood"].as_f64().unwrap(),
        1e-7,
    );
    let at_reference = M::from_values(&params(r, M::NAMES));
    let rows = rows();
    let customers = sample(reference, &rows);
    let horizon = reference["horizon"].as_f64().unwrap();
    for (i, (c, want)) in customers
        .iter()
        .zip(floats(&r["expected_purchases"]))
        .enumerate()
    {
        let got = at_reference.expected_purchases(horizon, c).unwrap();
        close(&format!("{key} E[Y] customer {i}"), got, want, 1e-8);
    }
    for (i, (c, want)) in customers.iter().zip(floats(&r["p_alive"])).enumerate() {
        let got = at_reference.p_alive(c).unwrap();
        close(&format!("{key} P(alive) customer {i}"), got, want, 1e-8);
    }
    for (t, want) in r["expected_purchases_new"].as_object().unwrap() {
        let got = at_reference
            .expected_purchases_new(t.parse().unwrap())
            .unwrap();
        close(
            &format!("{key} E[X({t})]"),
            got,
            want.as_f64().unwrap(),
            1e-8,
        );
    }
    if let Some(pmf) = r.get("probability_of_purchases_t39") {
        for (n, want) in floats(pmf).into_iter().enumerate() {
            let got = at_reference
                .probability_of_purchases(horizon, n as u32)
                .unwrap();
            close(&format!("{key} P(X(39) = {n})"), got, want, 1e-8);
        }
    }
}

#[test]
fn bgnbd_matches_the_published_estimates_and_lifetimes() {
    let fitted = BgNbd::fit(&rows(), &FitOptions::default()).unwrap();
    let m = fitted.model;
    // Fader, Hardie & Lee (2005), table 1.
    close("r", m.r, 0.243, 5e-3);
    close("alpha", m.alpha, 4.414, 5e-3);
    close("a", m.a, 0.793, 5e-3);
    close("b", m.b, 2.426, 5e-3);
    close("LL", fitted.stats.log_likelihood, -9582.4, 1e-5);
    let se = fitted.stats.standard_errors.clone().unwrap();
    // Standard errors are finite, positive and smaller than the estimates here.
    for (s, p) in se.iter().zip(m.values()) {
        assert!(*s > 0.0 && *s < p, "SE {s} for {p}");
    }
    assert_eq!(fitted.stats.observations, 2357.0);
    assert!(fitted.stats.distinct_rows < 2357);
    check_count_model(
        "bgnbd",
        (m, fitted.stats.log_likelihood, fitted.stats.standard_errors),
        &reference(),
    );
}

#[test]
fn mbgnbd_matches_lifetimes() {
    let fitted = MbgNbd::fit(&rows(), &FitOptions::default()).unwrap();
    check_count_model(
        "mbgnbd",
        (
            fitted.model,
            fitted.stats.log_likelihood,
            fitted.stats.standard_errors.clone(),
        ),
        &reference(),
    );
}

#[test]
fn pareto_nbd_matches_lifetimes() {
    let fitted = ParetoNbd::fit(&rows(), &FitOptions::default()).unwrap();
    check_count_model(
        "pnbd",
        (
            fitted.model,
            fitted.stats.log_likelihood,
            fitted.stats.standard_errors.clone(),
        ),
        &reference(),
    );
    assert!(fitted.stats.standard_errors.is_some());
}

#[test]
fn gamma_gamma_and_clv_match_lifetimes() {
    let reference = reference();
    let r = &reference["gamma_gamma"];
    let rows = rows();
    let fitted = GammaGamma::fit(&rows, &FitOptions::default()).unwrap();
    check_standard_errors(
        "gamma_gamma",
        GammaGamma::NAMES,
        fitted.stats.standard_errors.clone(),
        r,
    );
    for (name, (got, want)) in ["p", "q", "v"].iter().zip(
        fitted
            .model
            .values()
            .into_iter()
            .zip(params(r, &["p", "q", "v"])),
    ) {
        close(name, got, want, 2e-3);
    }
    close(
        "Gamma-Gamma LL",
        fitted.stats.log_likelihood,
        r["log_likelihood"].as_f64().unwrap(),
        1e-7,
    );
    let gg = GammaGamma::from_values(&params(r, &["p", "q", "v"]));
    let bg = BgNbd::from_values(&params(&reference["bgnbd"], BgNbd::NAMES));
    let customers = sample(&reference, &rows);
    let weeks = ClvOptions {
        months: 12,
        monthly_discount: 0.01,
        units_per_month: 4.345,
    };
    for (i, c) in customers.iter().enumerate() {
        let spend = gg.expected_spend(c).unwrap();
        close(
            &format!("spend {i}"),
            spend,
            floats(&r["expected_spend"])[i],
            1e-8,
        );
        let clv = customer_lifetime_value(&bg, &gg, c, &weeks).unwrap();
        close(
            &format!("CLV {i}"),
            clv,
            floats(&r["clv_bgnbd_12_months"])[i],
            1e-7,
        );
    }
}

#[test]
fn models_are_compared_by_information_criteria() {
    let rows = rows();
    let bg = BgNbd::fit(&rows, &FitOptions::default()).unwrap().stats;
    let pareto = ParetoNbd::fit(&rows, &FitOptions::default()).unwrap().stats;
    assert_eq!(bg.aic(), 8.0 - 2.0 * bg.log_likelihood);
    assert!((bg.bic() - (4.0 * 2357f64.ln() - 2.0 * bg.log_likelihood)).abs() < 1e-9);
    // On CDNOW BG/NBD fits slightly better than Pareto/NBD with as many parameters.
    assert!(bg.aic() < pareto.aic());
}
