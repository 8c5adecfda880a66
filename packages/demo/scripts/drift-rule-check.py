"""How the demo's drift rule behaves on its data (numbers quoted in monitoring-setup.ts and the README).

Two-sample KS at p <= 0.05 on the four inputs, a 200-row current window (10 s at 20 requests/s)
against a Seattle reference: the share of evaluations where at least half / three quarters of the
inputs drift, before the shift (false alarms) and as New York days fill the window.
Run: python3 packages/demo/scripts/drift-rule-check.py (numpy, scipy).
"""
import csv
from pathlib import Path

import numpy as np
from scipy.stats import ks_2samp

ROOT = Path(__file__).resolve().parents[3]
rows = list(csv.DictReader(open(ROOT / "node_modules/vega-datasets/data/weather.csv")))
F = ["precipitation", "temp_max", "temp_min", "wind"]
sea = np.array([[float(r[f]) for f in F] for r in rows if r["location"] == "Seattle" and r["date"] >= "2014"])
ny = np.array([[float(r[f]) for f in F] for r in rows if r["location"] != "Seattle"])
rng = np.random.default_rng(1)


def share(ref, cur):
    return np.mean([ks_2samp(ref[:, j], cur[:, j]).pvalue <= 0.05 for j in range(4)])


for nref in (600, 2000):
    s = np.array([share(sea[rng.integers(0, len(sea), nref)], sea[rng.integers(0, len(sea), 200)]) for _ in range(2000)])
    print(f"before the shift, reference {nref}: P(share >= 0.5) {np.mean(s >= 0.5):.4f}, P(share >= 0.75) {np.mean(s >= 0.75):.4f}")
for mix in (0.25, 0.5, 0.75, 1.0):
    s = []
    for _ in range(300):
        k = int(200 * mix)
        cur = np.vstack([ny[rng.integers(0, len(ny), k)], sea[rng.integers(0, len(sea), 200 - k)]])
        s.append(share(sea[rng.integers(0, len(sea), 2000)], cur))
    s = np.array(s)
    print(f"window {mix:.0%} New York: P(share >= 0.5) {np.mean(s >= 0.5):.3f}, P(share >= 0.75) {np.mean(s >= 0.75):.3f}")
