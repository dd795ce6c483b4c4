"""Reference fits of the CDNOW summary with Python `lifetimes` (0.11.x).

python3 gen_lifetimes_reference.py > lifetimes_reference.json

cdnow_customers_summary.csv is lifetimes' `cdnow_customers_summary_with_transactions.csv`
(2,357 customers, time in weeks) with the header renamed to the analyst CSV's columns.
"""
import json
import os
import numpy as np
import pandas as pd
import lifetimes
from lifetimes import BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter, GammaGammaFitter

here = os.path.dirname(os.path.abspath(__file__))
df = pd.read_csv(os.path.join(here, "cdnow_customers_summary.csv"))
f, r, T = df["frequency"], df["recency"], df["T"]
sample = list(range(0, 2357, 131))  # 18 customers spread over the file
out = {"lifetimes_version": lifetimes.__version__, "sample_rows": sample, "horizon": 39.0}


def count_model(name, model, has_pmf):
    model.fit(f, r, T)
    params = {k: float(v) for k, v in model.params_.items()}
    # Total log-likelihood on the original (unscaled) weeks, from lifetimes' own function.
    values = np.array(list(params.values()))
    ones = np.ones(len(df))
    if name == "pnbd":
        ll = -model._negative_log_likelihood(values, f.values, r.values, T.values, ones, 0.0)
    else:
        ll = -model._negative_log_likelihood(np.log(values), f.values, r.values, T.values, ones, 0.0) * len(df)
    ll = float(ll)
    try:
        se = {k: float(v) for k, v in model.summary["se(coef)"].items()}
    except AttributeError:  # lifetimes' Pareto/NBD fitter reports none
        se = None
    entry = {"params": params, "standard_errors": se, "log_likelihood": ll}
    fs, rs, Ts = f.iloc[sample], r.iloc[sample], T.iloc[sample]
    entry["expected_purchases"] = [float(v) for v in
                                   model.conditional_expected_number_of_purchases_up_to_time(39.0, fs, rs, Ts)]
    entry["p_alive"] = [float(v) for v in model.conditional_probability_alive(fs, rs, Ts)]
    entry["expected_purchases_new"] = {str(t): float(model.expected_number_of_purchases_up_to_time(t))
                                       for t in (1.0, 10.0, 39.0, 78.0)}
    if has_pmf:
        entry["probability_of_purchases_t39"] = [float(model.probability_of_n_purchases_up_to_time(39.0, n))
                                                 for n in range(8)]
    out[name] = entry
    return model


bg = count_model("bgnbd", BetaGeoFitter(), True)
count_model("mbgnbd", ModifiedBetaGeoFitter(), True)
count_model("pnbd", ParetoNBDFitter(), False)

spenders = df[df["frequency"] > 0]
gg = GammaGammaFitter()
gg.fit(spenders["frequency"], spenders["monetary_value"])
fs, ms = df["frequency"].iloc[sample], df["monetary_value"].iloc[sample]
out["gamma_gamma"] = {
    "params": {k: float(v) for k, v in gg.params_.items()},
    "standard_errors": {k: float(v) for k, v in gg.summary["se(coef)"].items()},
    "log_likelihood": float(-gg._negative_log_likelihood(
        np.log(np.array([gg.params_[k] for k in ("p", "q", "v")])), spenders["frequency"].values,
        spenders["monetary_value"].values, np.ones(len(spenders)), 0.0) * len(spenders)),
    "expected_spend": [float(v) for v in gg.conditional_expected_average_profit(fs, ms)],
    # 12 months of 4.345 weeks, 1 % a month, with the BG/NBD fit above.
    "clv_bgnbd_12_months": [float(v) for v in gg.customer_lifetime_value(
        bg, f.iloc[sample], r.iloc[sample], T.iloc[sample], ms, time=12, discount_rate=0.01, freq="W")],
}
print(json.dumps(out, indent=1))
