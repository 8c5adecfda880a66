#!/usr/bin/env python3
"""Golden fixtures for @inferlog/analysis drift statistics.

Writes JSON under packages/analysis/fixtures/. Uses numpy and scipy only: Evidently's conventions
(binning, empty-bin fill, default method choice, normed Wasserstein, pooled Z test, chi-squared
against reference shares, embedding drift methods) are re-implemented here with numpy from their
published definitions, independently of the TypeScript code, and every p-value comes from scipy.

Run from the repository root:  python3 packages/analysis/scripts/make-drift-fixtures.py
The output is deterministic (seeded generators); tests compare at relative error 1e-6.
"""

import json
import math
import os

import numpy as np
from scipy import special, stats
from scipy.spatial import distance

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")


def clean(x):
    """JSON-safe floats: +inf becomes None (the reply carries null), numpy scalars become Python."""
    if isinstance(x, dict):
        return {k: clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    if isinstance(x, (np.floating, float)):
        x = float(x)
        if math.isinf(x) or math.isnan(x):
            return None
        return x
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, np.ndarray):
        return clean(x.tolist())
    return x


# ---------------------------------------------------------------- Evidently conventions (numpy)


def value_keys(ref, cur):
    return sorted(set(np.unique(ref).tolist()) | set(np.unique(cur).tolist()))


def binned_shares(ref, cur, numerical, fill):
    """Evidently get_binned_data: Sturges bins over ref ∪ cur when numerical with > 20 distinct
    reference values, else shares of each value of the union; optional empty-bin fill."""
    if numerical and len(np.unique(ref)) > 20:
        edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        r = np.histogram(ref, edges)[0] / len(ref)
        c = np.histogram(cur, edges)[0] / len(cur)
    else:
        keys = value_keys(ref, cur)
        r = np.array([np.sum(ref == k) for k in keys]) / len(ref)
        c = np.array([np.sum(cur == k) for k in keys]) / len(cur)
    r = r.astype(float)
    c = c.astype(float)
    if fill:
        for a in (r, c):
            m = a[a != 0].min()
            a[a == 0] = m / 10**6 if m <= 0.0001 else 0.0001
    return r, c


def psi(ref, cur, numerical):
    r, c = binned_shares(ref, cur, numerical, True)
    return float(np.sum((r - c) * np.log(r / c)))


def js(ref, cur, numerical):
    r, c = binned_shares(ref, cur, numerical, False)
    return float(distance.jensenshannon(r, c))


def wasserstein_norm(ref, cur):
    return float(stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001))


def chisq(ref, cur):
    keys = value_keys(ref, cur)
    k_norm = len(cur) / len(ref)
    f_exp = np.array([np.sum(ref == k) * k_norm for k in keys], dtype=float)
    f_obs = np.array([np.sum(cur == k) for k in keys], dtype=float)
    with np.errstate(divide="ignore"):
        stat = float(np.sum((f_obs - f_exp) ** 2 / f_exp))
    p = float(stats.chi2.sf(stat, len(keys) - 1)) if len(keys) > 1 else 1.0
    return stat, p


def ztest(ref, cur):
    if len(np.unique(ref)) == 1 and len(np.unique(cur)) == 1 and np.unique(ref)[0] == np.unique(cur)[0]:
        return 0.0, 1.0
    first = value_keys(ref, cur)[0]
    p1 = np.mean(ref != first)
    p2 = np.mean(cur != first)
    n1, n2 = len(ref), len(cur)
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    # 2·norm.sf(|z|) is Evidently's 2·(1 − Φ(|z|)) without its cancellation.
    return float(z), float(2 * stats.norm.sf(abs(z)))


def ks(ref, cur):
    r = stats.ks_2samp(ref, cur)
    return float(r.statistic), float(r.pvalue)


def default_method(kind, ref, cur):
    n_unique = len(set(np.unique(ref).tolist()) | set(np.unique(cur).tolist()))
    if len(ref) <= 1000:
        if kind == "numerical" and n_unique > 5:
            return "ks"
        return "chisquare" if n_unique > 2 else "z"
    if kind == "numerical" and n_unique > 5:
        return "wasserstein"
    return "jensenshannon"


THRESHOLDS = {"ks": 0.05, "chisquare": 0.05, "z": 0.05, "wasserstein": 0.1, "jensenshannon": 0.1, "psi": 0.1}


def run_method(method, kind, ref, cur):
    numerical = kind == "numerical"
    if method == "ks":
        s, p = ks(ref, cur)
        return s, p
    if method == "chisquare":
        return chisq(ref, cur)
    if method == "z":
        return ztest(ref, cur)
    if method == "wasserstein":
        return wasserstein_norm(ref, cur), None
    if method == "jensenshannon":
        return js(ref, cur, numerical), None
    return psi(ref, cur, numerical), None


def drift_of(method, stat, p, threshold):
    if method in ("ks", "chisquare", "z"):
        return p <= threshold
    return stat >= threshold


# ---------------------------------------------------------------- cases


def column_json(kind, values):
    """Numerical values as a list; categorical as {category: count} in first-seen order (cheap)."""
    if kind == "numerical":
        return {"kind": "numerical", "values": [float(v) for v in values]}
    order = []
    counts = {}
    for v in values:
        if v not in counts:
            order.append(v)
            counts[v] = 0
        counts[v] += 1
    return {"kind": "categorical", "counts": [[k, counts[k]] for k in order]}


def method_cases(rng):
    cases = []

    def add(name, kind, ref, cur, methods):
        expected = {}
        for m in methods:
            s, p = run_method(m, kind, ref, cur)
            expected[m] = {"statistic": s, "p_value": p}
        cases.append({"name": name, "reference": column_json(kind, ref), "current": column_json(kind, cur), "expected": expected})

    allnum = ["ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi"]
    add("normal shift, small", "numerical", rng.normal(0, 1, 200).round(4), rng.normal(0.3, 1, 150).round(4), ["ks", "wasserstein", "jensenshannon", "psi"])
    add("no drift, equal sizes", "numerical", rng.normal(5, 2, 300).round(3), rng.normal(5, 2, 300).round(3), ["ks", "wasserstein", "jensenshannon", "psi"])
    add("ks exact with ties", "numerical", rng.integers(0, 30, 400).astype(float), rng.integers(2, 32, 350).astype(float), ["ks", "wasserstein", "psi", "jensenshannon"])
    add("ks exact, tiny samples", "numerical", np.array([1.0, 2.0, 3.0]), np.array([2.5, 4.0, 5.0, 6.0]), ["ks", "wasserstein"])
    add("ks exact at the 10000 limit", "numerical", rng.normal(0, 1, 10000).round(3), rng.normal(0.02, 1, 9000).round(3), ["ks"])
    add("ks asymptotic, n ≤ 140 after scaling", "numerical", rng.normal(0, 1, 10001).round(3), rng.normal(0.4, 1, 60).round(3), ["ks"])
    add("ks asymptotic, large", "numerical", rng.normal(0, 1, 12000).round(3), rng.normal(0.03, 1.02, 11000).round(3), ["ks", "wasserstein", "psi", "jensenshannon"])
    add("ks asymptotic with ties", "numerical", rng.integers(0, 40, 15000).astype(float), rng.integers(0, 41, 900).astype(float), ["ks", "psi", "jensenshannon"])
    add("few unique numerical values (value-keyed PSI)", "numerical", rng.choice([1.0, 2.0, 3.0, 4.0], 500, p=[0.1, 0.2, 0.3, 0.4]), rng.choice([1.0, 2.0, 3.0, 5.0], 400, p=[0.25, 0.25, 0.25, 0.25]), allnum)
    add("two numerical values", "numerical", rng.choice([0.0, 1.0], 300, p=[0.7, 0.3]), rng.choice([0.0, 1.0], 250, p=[0.6, 0.4]), ["z", "chisquare", "psi", "jensenshannon", "ks"])
    gap_ref = np.concatenate([rng.uniform(0, 10, 500), rng.uniform(90, 100, 500)]).round(3)
    gap_cur = np.concatenate([rng.uniform(0, 10, 300), rng.uniform(40, 60, 100), rng.uniform(90, 100, 300)]).round(3)
    add("empty bins in reference (PSI fill 0.0001)", "numerical", gap_ref, gap_cur, ["psi", "jensenshannon", "wasserstein", "ks"])
    tail_ref = np.concatenate([rng.normal(0, 1, 20000), [60.0]]).round(3)
    tail_cur = rng.normal(0, 1, 3000).round(3)
    add("rare bin (PSI fill smallest/1e6)", "numerical", tail_ref, tail_cur, ["psi", "jensenshannon"])
    add("constant reference (std floor 0.001)", "numerical", np.full(50, 3.0), rng.normal(3, 0.01, 40).round(4), ["wasserstein", "ks"])
    cats = np.array(["a", "b", "c", "d"])
    add("categorical, four categories", "categorical", rng.choice(cats, 800, p=[0.4, 0.3, 0.2, 0.1]), rng.choice(cats, 600, p=[0.3, 0.3, 0.2, 0.2]), ["chisquare", "z", "psi", "jensenshannon"])
    add("categorical, category only in current", "categorical", rng.choice(cats[:3], 500), rng.choice(cats, 400), ["chisquare", "z", "psi", "jensenshannon"])
    add("categorical, category only in reference", "categorical", rng.choice(cats, 500), rng.choice(cats[:3], 400), ["chisquare", "psi", "jensenshannon"])
    add("categorical, two categories", "categorical", rng.choice(cats[:2], 1000, p=[0.8, 0.2]), rng.choice(cats[:2], 700, p=[0.75, 0.25]), ["z", "chisquare", "psi", "jensenshannon"])
    add("categorical, one identical value", "categorical", np.array(["x"] * 30), np.array(["x"] * 20), ["z"])
    big = np.array(["c%02d" % i for i in range(30)])
    w = rng.dirichlet(np.ones(30))
    add("categorical, thirty categories, large", "categorical", rng.choice(big, 5000, p=w), rng.choice(big, 4000, p=rng.dirichlet(np.ones(30))), ["chisquare", "psi", "jensenshannon"])
    return cases


def default_cases(rng):
    """computeDrift without methods: Evidently's choice, thresholds, drift_share and dataset_drift."""
    out = []
    for name, n_ref, n_cur in [("small reference (≤ 1000 rows)", 600, 500), ("large reference (> 1000 rows)", 3000, 2500)]:
        fields = {
            "input.age": ("numerical", rng.normal(40, 10, n_ref).round(1), rng.normal(43, 10, n_cur).round(1)),
            "input.rooms": ("numerical", rng.choice([1.0, 2.0, 3.0, 4.0], n_ref), rng.choice([1.0, 2.0, 3.0, 4.0], n_cur, p=[0.1, 0.2, 0.3, 0.4])),
            "input.flag": ("numerical", rng.choice([0.0, 1.0], n_ref), rng.choice([0.0, 1.0], n_cur)),
            "input.country": ("categorical", rng.choice(np.array(["fr", "de", "it"]), n_ref), rng.choice(np.array(["fr", "de", "it", "es"]), n_cur)),
            "output.label": ("categorical", rng.choice(np.array(["yes", "no"]), n_ref, p=[0.3, 0.7]), rng.choice(np.array(["yes", "no"]), n_cur, p=[0.32, 0.68])),
            "output.score": ("numerical", rng.beta(2, 5, n_ref).round(4), rng.beta(2, 5, n_cur).round(4)),
        }
        results = []
        drifted = 0
        for field, (kind, ref, cur) in fields.items():
            m = default_method(kind, ref, cur)
            s, p = run_method(m, kind, ref, cur)
            d = drift_of(m, s, p, THRESHOLDS[m])
            drifted += int(d)
            results.append({"field": field, "kind": kind, "method": m, "statistic": s, "p_value": p, "threshold": THRESHOLDS[m], "drift": d, "n_reference": len(ref), "n_current": len(cur)})
        share = drifted / len(fields)
        out.append(
            {
                "name": name,
                "reference": {f: column_json(k, r) for f, (k, r, _) in fields.items()},
                "current": {f: column_json(k, c) for f, (k, _, c) in fields.items()},
                "expected": {"fields": results, "drift_share": share, "dataset_drift": share >= 0.5},
            }
        )
    return out


def embedding_cases(rng):
    cases = []
    for name, shift, n_ref, n_cur, dim in [("no drift", 0.0, 120, 100, 8), ("shifted", 0.4, 150, 90, 6), ("few components shift", 0.0, 200, 160, 10)]:
        x = rng.normal(0, 1, (n_ref, dim)).astype(np.float32)
        y = rng.normal(shift, 1, (n_cur, dim)).astype(np.float32)
        if name == "few components shift":
            y[:, :3] += np.float32(0.8)
        xd = x.astype(np.float64)
        yd = y.astype(np.float64)
        dist = float(np.linalg.norm(xd.mean(axis=0) - yd.mean(axis=0)))
        ratio = float(np.mean([wasserstein_norm(xd[:, j], yd[:, j]) >= 0.1 for j in range(dim)]))
        gamma = 0.05
        pooled = np.vstack([xd, yd])
        sq = ((pooled[:, None, :] - pooled[None, :, :]) ** 2).sum(-1)
        k = np.exp(-gamma * sq)
        m, n = n_ref, n_cur
        kxx, kyy, kxy = k[:m, :m], k[m:, m:], k[:m, m:]
        mmd2u = (kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.sum() / (m * n)
        cross = np.sqrt(((xd[:, None, :] - yd[None, :, :]) ** 2).sum(-1))
        cases.append(
            {
                "name": name,
                "dim": dim,
                "reference": x.astype(np.float64).tolist(),
                "current": y.astype(np.float64).tolist(),
                "expected": {"distance": dist, "ratio": ratio, "mmd_gamma": gamma, "mmd2u": float(mmd2u), "median_cross_distance": float(np.median(cross))},
            }
        )
    return cases


def distribution_cases(rng):
    kstwo = []
    smirnov = []
    for n in [1, 2, 5, 10, 40, 100, 140, 141, 500, 2000, 20000, 100000, 100001, 250000, 2000000]:
        xs = np.concatenate([rng.uniform(0, 1, 4), np.sqrt(rng.uniform(0.05, 5, 8) / n), [0.6 / n, 0.9 / n, 1.0 / n, 0.5]])
        for x in xs:
            x = float(min(max(x, 1e-6), 0.999))
            kstwo.append({"n": n, "x": x, "sf": float(stats.kstwo.sf(x, n))})
            smirnov.append({"n": n, "x": x, "sf": float(special.smirnov(n, x))})
    edges = []
    for size, lo, hi in [(1000, -3.2, 4.1), (1048576, 0.0, 1.0), (37, 5.0, 5.5), (5, 2.0, 2.0)]:
        data = np.concatenate([[lo, hi], rng.uniform(lo, hi, size - 2)]) if size > 2 else np.array([lo, hi])
        edges.append({"min": lo, "max": hi, "size": size, "edges": np.histogram_bin_edges(data, bins="sturges").tolist()})
    ps = rng.uniform(0, 0.2, 12)
    corrections = {
        "p": ps.tolist(),
        "bonferroni": np.minimum(1, ps * len(ps)).tolist(),
        "benjamini-hochberg": stats.false_discovery_control(ps, method="bh").tolist(),
    }
    return {"kstwo": kstwo, "smirnov": smirnov, "sturges_edges": edges, "corrections": corrections}


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240610)
    files = {
        "drift-methods.json": method_cases(rng),
        "drift-defaults.json": default_cases(rng),
        "drift-embeddings.json": embedding_cases(rng),
        "drift-distributions.json": distribution_cases(rng),
    }
    for name, data in files.items():
        with open(os.path.join(OUT, name), "w") as f:
            json.dump({"generator": "scripts/make-drift-fixtures.py", "numpy": np.__version__, "scipy": __import__("scipy").__version__, "cases": clean(data)}, f, separators=(",", ":"))
        print(name, os.path.getsize(os.path.join(OUT, name)), "bytes")


if __name__ == "__main__":
    main()
