"""Peer of `models/bgnbd_fit_1m_vs_lifetimes`: one whole Python process that reads the
summaries CSV, fits BG/NBD with lifetimes (one row per customer, as its documentation
shows) and exits. The caller times the process from start to exit.

python3 lifetimes_once.py SUMMARY.csv
Prints one JSON object: {"params": {...}, "version": ..., "peak_rss_kib": ...}, or
{"missing": "why"} when lifetimes cannot be imported.
"""
import json
import resource
import sys

try:
    import pandas as pd
    import lifetimes
    from lifetimes import BetaGeoFitter
except Exception as e:  # the peer is optional
    print(json.dumps({"missing": f"lifetimes is not importable: {e}"}))
    sys.exit(0)

df = pd.read_csv(sys.argv[1])
model = BetaGeoFitter().fit(df["frequency"], df["recency"], df["T"])
print(json.dumps({
    "params": {k: float(v) for k, v in model.params_.items()},
    "version": lifetimes.__version__,
    # Linux reports ru_maxrss in KiB.
    "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
