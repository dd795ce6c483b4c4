"""Peer of the `models/bgnbd_fit` benchmark: Python lifetimes fitting BG/NBD on the same
simulated customers, timed inside this process.

python3 lifetimes_fit.py SUMMARY.csv REPEATS
Prints one JSON object: {"seconds": best wall time of a fit, "grouped_seconds": the same
with identical rows grouped into weights first, "params": {...}, "version": ...}, or
{"missing": "why"} when lifetimes cannot be imported.
"""
import json
import sys
import time

try:
    import numpy as np
    import pandas as pd
    import lifetimes
    from lifetimes import BetaGeoFitter
except Exception as e:  # the peer is optional
    print(json.dumps({"missing": f"lifetimes is not importable: {e}"}))
    sys.exit(0)

path, repeats = sys.argv[1], int(sys.argv[2])
df = pd.read_csv(path)
f, r, T = df["frequency"].values, df["recency"].values, df["T"].values


def best(fn):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model = fn()
        times.append(time.perf_counter() - start)
    return min(times), model


seconds, model = best(lambda: BetaGeoFitter().fit(f, r, T))


def grouped_fit():
    g = df.groupby(["frequency", "recency", "T"]).size().reset_index(name="weights")
    return BetaGeoFitter().fit(g["frequency"], g["recency"], g["T"], weights=g["weights"])


grouped_seconds, _ = best(grouped_fit)
print(json.dumps({
    "seconds": seconds,
    "grouped_seconds": grouped_seconds,
    "params": {k: float(v) for k, v in model.params_.items()},
    "version": lifetimes.__version__,
}))
