#!/usr/bin/env python3
"""Golden fixtures for the monitoring statistics of @inferlog/analysis.

Reference values come from numpy and scipy only (no code shared with the TypeScript under test).
Run from anywhere:  python3 packages/analysis/scripts/make-monitoring-fixtures.py
It rewrites packages/analysis/fixtures/monitoring-*.json deterministically (fixed seeds).
"""
import json
import os

import numpy as np
from scipy import stats

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures')
rng = np.random.default_rng(20261201)


def r6(xs):
    """Round to 6 significant digits so the JSON stays small; the rounded data is the data."""
    return [float(f'{x:.6g}') for x in xs]


def write(name, obj):
    path = os.path.join(OUT, name)
    with open(path, 'w') as f:
        json.dump(obj, f, separators=(',', ':'))
        f.write('\n')
    print(f'wrote {path} ({os.path.getsize(path)} bytes)')


# --- percentiles on skewed latency-like data ------------------------------------------------------
QS = [0.5, 0.9, 0.99]
sets = []
lognormal = r6(rng.lognormal(mean=np.log(80), sigma=0.6, size=4000))
bimodal = r6(np.concatenate([rng.lognormal(np.log(40), 0.25, 3000), rng.lognormal(np.log(900), 0.5, 600)]))
pareto = r6((rng.pareto(1.5, 3000) + 1) * 20)
for name, data in [('lognormal', lognormal), ('bimodal', bimodal), ('pareto', pareto)]:
    x = np.array(data)
    sets.append({'name': name, 'values': data, 'quantiles': {str(q): float(np.quantile(x, q)) for q in QS}})
# Whole weights: the same as the data repeated by weight (how 1/sample_rate enters the sketch).
wvals = r6(rng.lognormal(np.log(200), 0.8, 1500))
wts = [int(w) for w in rng.choice([1, 2, 10], size=1500, p=[0.6, 0.3, 0.1])]
rep = np.repeat(np.array(wvals), wts)
sets.append({'name': 'weighted', 'values': wvals, 'weights': wts, 'quantiles': {str(q): float(np.quantile(rep, q)) for q in QS}})
write('monitoring-percentiles.json', {'relative_accuracy': 0.01, 'sets': sets})

# --- Wilson intervals (scipy's binomtest) ---------------------------------------------------------
wilson = []
for k, n, conf in [(0, 10, 0.95), (1, 10, 0.95), (5, 10, 0.95), (10, 10, 0.95), (37, 120, 0.95), (412, 1000, 0.95),
                   (3, 2000, 0.95), (81, 97, 0.9), (50, 100, 0.99)]:
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=conf, method='wilson')
    wilson.append({'k': k, 'n': n, 'confidence': conf, 'value': k / n, 'ci_low': float(ci.low), 'ci_high': float(ci.high)})

# --- t intervals of a mean (scipy's ttest_1samp) --------------------------------------------------
t_intervals = []
for n, conf in [(2, 0.95), (5, 0.95), (30, 0.95), (250, 0.95), (40, 0.9)]:
    x = r6(rng.gamma(2.0, 3.0, n))
    res = stats.ttest_1samp(np.array(x), 0.0)
    ci = res.confidence_interval(confidence_level=conf)
    t_intervals.append({'values': x, 'confidence': conf, 'value': float(np.mean(x)), 'ci_low': float(ci.low), 'ci_high': float(ci.high)})

# --- two-proportion z test (pooled) and Newcombe's hybrid score interval --------------------------
two_prop = []
for xa, na, xb, nb in [(45, 500, 70, 520), (10, 100, 10, 100), (0, 50, 4, 60), (300, 1000, 270, 1000)]:
    pa, pb = xa / na, xb / nb
    pool = (xa + xb) / (na + nb)
    se = np.sqrt(pool * (1 - pool) * (1 / na + 1 / nb))
    z = (pb - pa) / se
    ca = stats.binomtest(xa, na).proportion_ci(0.95, 'wilson')
    cb = stats.binomtest(xb, nb).proportion_ci(0.95, 'wilson')
    d = pb - pa
    two_prop.append({
        'a': [xa, na], 'b': [xb, nb], 'diff': d, 'z': float(z),
        'p_two_sided': float(2 * stats.norm.sf(abs(z))), 'p_less': float(stats.norm.cdf(z)), 'p_greater': float(stats.norm.sf(z)),
        'ci_low': float(d - np.sqrt((pb - cb.low) ** 2 + (ca.high - pa) ** 2)),
        'ci_high': float(d + np.sqrt((cb.high - pb) ** 2 + (pa - ca.low) ** 2)),
    })

# --- Welch t test (scipy's ttest_ind, equal_var=False), difference b − a -------------------------
welch = []
for na, nb, shift in [(20, 25, 0.8), (200, 150, 0.1), (8, 40, 2.0)]:
    a = r6(rng.normal(10, 2, na))
    b = r6(rng.normal(10 + shift, 3.5, nb))
    res = stats.ttest_ind(np.array(b), np.array(a), equal_var=False)
    ci = res.confidence_interval(0.95)
    welch.append({'a': a, 'b': b, 'diff': float(np.mean(b) - np.mean(a)), 't': float(res.statistic), 'df': float(res.df),
                  'p_value': float(res.pvalue), 'ci_low': float(ci.low), 'ci_high': float(ci.high)})

# --- Benjamini–Hochberg (scipy's false_discovery_control) -----------------------------------------
bh = []
for ps in [[0.01, 0.04, 0.03, 0.005, 0.2, 0.5, 0.0001], [0.9, 0.8, 0.05], [0.02]]:
    bh.append({'p': ps, 'q': [float(q) for q in stats.false_discovery_control(ps, method='bh')]})

# --- chi-square goodness of fit (SRM) -------------------------------------------------------------
chi = []
for obs, share in [([5040, 4960], [0.5, 0.5]), ([5300, 4700], [0.5, 0.5]), ([2100, 7900], [0.2, 0.8])]:
    total = sum(obs)
    res = stats.chisquare(obs, f_exp=[total * s for s in share])
    chi.append({'observed': obs, 'shares': share, 'statistic': float(res.statistic), 'p_value': float(res.pvalue)})

# --- weighted mean (Hájek) with its linearization variance, written out with numpy -----------------
wmean = []
for n in [12, 300]:
    x = r6(rng.normal(50, 12, n))
    w = [float(v) for v in rng.choice([1.0, 2.0, 1 / 0.3, 10.0], size=n)]
    xa, wa = np.array(x), np.array(w)
    m = np.sum(wa * xa) / np.sum(wa)
    var = n / (n - 1) * np.sum(wa ** 2 * (xa - m) ** 2) / np.sum(wa) ** 2
    neff = np.sum(wa) ** 2 / np.sum(wa ** 2)
    half = stats.t.ppf(0.975, neff - 1) * np.sqrt(var)
    wmean.append({'values': x, 'weights': w, 'value': float(m), 'ci_low': float(m - half), 'ci_high': float(m + half)})

write('monitoring-stats.json', {'wilson': wilson, 't_intervals': t_intervals, 'two_proportion': two_prop, 'welch': welch,
                                'benjamini_hochberg': bh, 'chi_square': chi, 'weighted_mean': wmean})

# --- classification: F1 (macro, per class), precision, recall, accuracy; ECE and Brier --------------
classes = ['cat', 'dog', 'bird', 'fish']
n = 800
actual = rng.choice(classes, size=n, p=[0.4, 0.3, 0.2, 0.1])
noise = rng.random(n)
predicted = np.where(noise < 0.72, actual, rng.choice(classes, size=n, p=[0.25, 0.35, 0.3, 0.1]))
conf = np.round(np.clip(np.where(predicted == actual, rng.beta(6, 2, n), rng.beta(3, 3, n)), 0, 1), 4)
weights = rng.choice([1.0, 2.0, 5.0], size=n, p=[0.7, 0.2, 0.1])


def classification(w):
    labels = sorted(set(actual) | set(predicted), key=classes.index)
    per = {}
    f1s, ps, rs = [], [], []
    for c in labels:
        tp = np.sum(w * ((actual == c) & (predicted == c)))
        fp = np.sum(w * ((actual != c) & (predicted == c)))
        fn = np.sum(w * ((actual == c) & (predicted != c)))
        p = tp / (tp + fp) if tp + fp > 0 else 0.0
        r = tp / (tp + fn) if tp + fn > 0 else 0.0
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn > 0 else 0.0
        per[c] = {'precision': float(p), 'recall': float(r), 'f1': float(f1), 'support': float(np.sum(w * (actual == c)))}
        f1s.append(f1), ps.append(p), rs.append(r)
    correct = (actual == predicted).astype(float)
    bins = np.minimum((conf * 10).astype(int), 9)
    ece = 0.0
    for b in range(10):
        m = bins == b
        if np.any(m):
            ece += abs(np.sum(w[m] * correct[m]) - np.sum(w[m] * conf[m])) / np.sum(w)
    return {
        'accuracy': float(np.sum(w * correct) / np.sum(w)),
        'f1_macro': float(np.mean(f1s)), 'precision_macro': float(np.mean(ps)), 'recall_macro': float(np.mean(rs)),
        'per_class': per,
        'ece': float(ece), 'brier': float(np.sum(w * (conf - correct) ** 2) / np.sum(w)),
    }


# Binary: score is P(true); the top-label Brier equals the usual binary Brier score.
nb = 500
y = rng.random(nb) < 0.35
p_true = np.round(np.clip(np.where(y, rng.beta(4, 2, nb), rng.beta(2, 4, nb)), 0, 1), 4)
pred_true = p_true >= 0.5
binary = {'p_true': [float(v) for v in p_true], 'actual': [bool(v) for v in y],
          'brier': float(np.mean((p_true - y) ** 2)), 'accuracy': float(np.mean(pred_true == y))}

# Regression: MAE and RMSE, plain and weighted.
yt = r6(rng.normal(100, 15, 400))
yp = r6(np.array(yt) + rng.normal(2, 6, 400))
rw = [float(v) for v in rng.choice([1.0, 4.0], size=400, p=[0.8, 0.2])]
e = np.array(yp) - np.array(yt)
regression = {'actual': yt, 'predicted': yp, 'weights': rw,
              'mae': float(np.mean(np.abs(e))), 'rmse': float(np.sqrt(np.mean(e ** 2))),
              'mae_weighted': float(np.average(np.abs(e), weights=rw)), 'rmse_weighted': float(np.sqrt(np.average(e ** 2, weights=rw))),
              'mae_ci': [float(v) for v in stats.ttest_1samp(np.abs(e), 0).confidence_interval(0.95)],
              'mse_ci': [float(v) for v in stats.ttest_1samp(e ** 2, 0).confidence_interval(0.95)]}

write('monitoring-quality.json', {
    'classification': {'actual': [str(v) for v in actual], 'predicted': [str(v) for v in predicted],
                       'confidence': [float(v) for v in conf], 'weights': [float(v) for v in weights],
                       'unweighted': classification(np.ones(n)), 'weighted': classification(weights)},
    'binary': binary,
    'regression': regression,
})
