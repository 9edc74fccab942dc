"""Chapter 03: probabilistic bounds for random and magnitude pruning (Qian & Klabjan, ICML 2021).

For every setting (widths, pruning method, pruning rate), ``targets`` target
networks are sampled at once (He-scaled Gaussian weights), pruned, and the
sup over the unit input ball of the output gap ``|f(x) - f~(x)|`` is estimated
for each (:func:`pruning_utils.bounds.sup_gap`). Each setting's gaps are set
against this book's bound (:func:`pruning_utils.bounds.fcn_gap_bound`,
:func:`pruning_utils.bounds.conv_gap_bound`) at each ``delta``: the fraction of
targets whose gap exceeds the bound, and the bound-to-gap ratio. Sweeps:

* ``width``: hidden width over ``widths`` at depth ``depth`` and rate ``rate``;
* ``depth``: number of hidden layers over ``depths`` at width ``width``;
* ``rate``: pruning rate over ``rates``;
* ``conv``: one convolutional layer (``conv_channels`` in and out, 3 x 3,
  ``conv_size`` x ``conv_size`` inputs) at each rate.

All three methods (``random``, ``random_rescaled``, ``magnitude``) in every
sweep. ``CLAIMS`` turn the result into verdicts.
"""

from __future__ import annotations

import time

import numpy as np

from .. import bounds as B
from ..claims import Claim, Statistic, not_measured
from ..params import Choice, Float, FloatList, Int, validate
from ..train import resolve_device

SCHEMA = {
    "input_dim": Int(16, 1, 10_000),
    "output_dim": Int(4, 1, 10_000),
    "width": Int(128, 1, 100_000, help="hidden width of the depth and rate sweeps"),
    "widths": FloatList((32, 64, 128, 256), 1, 100_000, help="hidden widths of the width sweep"),
    "depth": Int(2, 1, 50, help="hidden layers of the width and rate sweeps"),
    "depths": FloatList((1, 2, 3, 4), 0, 50, help="hidden layers of the depth sweep"),
    "rate": Float(0.5, 0.0, 1.0, low_inclusive=False, high_inclusive=False, help="pruning rate of the width and depth sweeps"),
    "rates": FloatList((0.1, 0.3, 0.5, 0.7, 0.9), 0.0, 1.0, low_inclusive=False, high_inclusive=False),
    "deltas": FloatList((0.01, 0.05, 0.2), 0.0, 1.0, low_inclusive=False, high_inclusive=False),
    "conv_channels": Int(4, 1, 1024),
    "conv_size": Int(8, 1, 512),
    "targets": Int(500, 10, 1_000_000, help="sampled target networks per setting"),
    "samples": Int(96, 1, 100_000, help="random unit inputs per network for the gap estimate"),
    "starts": Int(6, 1, 1000, help="best samples refined by gradient ascent"),
    "steps": Int(25, 0, 10_000, help="gradient-ascent steps"),
    "folds": Int(5, 3, 1000, help="disjoint groups of the targets, independent replicates the claims are "
                                    "decided on (the seeds of this chapter)"),
    "seed": Int(0, 0, 10**6),
    "device": Choice("auto", ("auto", "cpu", "cuda")),
}

PROFILES = {
    # the chapter's defaults: 500 targets per setting, about a minute on a 2-core CPU
    "default": {},
    # wider, deeper, more targets, a finer gap search: a GPU makes these cheap
    "paper": {"widths": (64, 256, 1024, 4096), "width": 1024, "depths": (1, 2, 4, 8), "targets": 2000,
              "samples": 1024, "starts": 32, "steps": 100, "conv_channels": 32, "conv_size": 32},
}


def _int_list(xs):
    return [int(round(x)) for x in xs]


def _setting(p, widths, method, rate, seed, device):
    """Gaps of ``targets`` pruned networks and the bound at each delta."""
    W = B.sample_fcn(widths, p["targets"], seed, device=device)
    P = B.prune(W, method, rate, seed + 1, B.he_scales(widths))
    gaps = B.sup_gap(lambda x: B.fcn_forward(W, x) - B.fcn_forward(P, x), (widths[0],), p["targets"],
                     samples=p["samples"], starts=p["starts"], steps=p["steps"], seed=seed + 2, device=device)
    return _summary(gaps, [B.fcn_gap_bound(widths, method, rate, d) for d in p["deltas"]], p["deltas"],
                    p["folds"])


def _conv_setting(p, method, rate, seed, device):
    c, n = p["conv_channels"], p["conv_size"]
    K = B.sample_conv(c, c, 3, p["targets"], seed, device=device)
    Kp = B.prune_conv(K, method, rate, seed + 1)
    gaps = B.sup_gap(lambda x: B.conv_forward(K, x) - B.conv_forward(Kp, x), (c, n, n), p["targets"],
                     samples=p["samples"], starts=p["starts"], steps=p["steps"], seed=seed + 2, device=device)
    return _summary(gaps, [B.conv_gap_bound(c, c, 3, method, rate, d) for d in p["deltas"]], p["deltas"],
                    p["folds"])


def _summary(gaps, bounds, deltas, folds):
    g = gaps.detach().cpu().double().numpy()
    parts = np.array_split(g, folds)   # targets are i.i.d.: disjoint groups are independent replicates
    return {"folds": {"mean": [float(x.mean()) for x in parts],
                      "exceed": {str(d): [float((x > b).mean()) for x in parts] for d, b in zip(deltas, bounds)}},
            "mean": float(g.mean()), "std": float(g.std()), "max": float(g.max()),
            "quantiles": {str(d): float(np.quantile(g, 1 - d)) for d in deltas},
            "bounds": {str(d): b for d, b in zip(deltas, bounds)},
            "exceed": {str(d): float((g > b).mean()) for d, b in zip(deltas, bounds)},
            "ratio": {str(d): b / float(np.quantile(g, 1 - d)) for d, b in zip(deltas, bounds)}}


def run(**params) -> dict:
    p = validate(params, SCHEMA)
    if p["folds"] > p["targets"]:
        raise ValueError(f"parameter 'folds' = {p['folds']} is not allowed; expected at most 'targets' = "
                         f"{p['targets']}")
    t0 = time.perf_counter()
    device = resolve_device(p["device"])
    n0, nL = p["input_dim"], p["output_dim"]
    out = {"width": {}, "depth": {}, "rate": {}, "conv": {}}
    seeds = iter(range(p["seed"] * 10_000 + 7, 10**9, 101))  # a fresh seed for every setting
    for method in B.METHODS:
        out["width"][method] = [_setting(p, [n0] + [w] * p["depth"] + [nL], method, p["rate"], next(seeds), device)
                                for w in _int_list(p["widths"])]
        out["depth"][method] = [_setting(p, [n0] + [p["width"]] * d + [nL], method, p["rate"], next(seeds), device)
                                for d in _int_list(p["depths"])]
        out["rate"][method] = [_setting(p, [n0] + [p["width"]] * p["depth"] + [nL], method, q, next(seeds), device)
                               for q in p["rates"]]
        out["conv"][method] = [_conv_setting(p, method, q, next(seeds), device) for q in p["rates"]]
    return {"sweeps": out, "widths": _int_list(p["widths"]), "depths": _int_list(p["depths"]),
            "rates": list(p["rates"]), "deltas": list(p["deltas"]), "methods": list(B.METHODS),
            "params": p, "device": str(device), "wall_time_s": time.perf_counter() - t0}


# ---------------------------------------------------------------------------
# claims

def _all_settings(r):
    for sweep, by_method in r["sweeps"].items():
        for method, rows in by_method.items():
            for i, row in enumerate(rows):
                yield f"{sweep}/{method}/{i}", row


def _fold_means(rows):
    """Per setting of a sweep, the mean gap of each fold: array (settings, folds)."""
    return np.array([row["folds"]["mean"] for row in rows])


def _bound_holds(r):
    worst, ratios = None, []
    for _, row in _all_settings(r):
        for d in r["deltas"]:
            e = np.array(row["folds"]["exceed"][str(d)]) - d
            worst = e if worst is None else np.maximum(worst, e)
            ratios.append(row["ratio"][str(d)])
    return [Statistic("largest exceedance fraction minus delta over settings and deltas, per fold", worst, 0.0,
                      above=False)], \
        {"settings": sum(1 for _ in _all_settings(r)),
         "bound / (1 - delta) quantile of the gap: smallest": min(ratios), "largest": max(ratios)}


#: relative change a trend must exceed to count (measured gaps are means over hundreds of targets)
TREND = 0.05


def _decreasing_with_width(r):
    stats = []
    for m in r["methods"]:
        f = _fold_means(r["sweeps"]["width"][m])
        stats.append(Statistic(f"{m}: mean gap at the widest / at the narrowest width", f[-1] / f[0], 1 - TREND,
                               above=False))
    return stats, {"widths": r["widths"]}


def _increasing_with_rate(r):
    stats = []
    for m in r["methods"]:
        f = _fold_means(r["sweeps"]["rate"][m])
        stats += [Statistic(f"{m}: smallest ratio of mean gaps at consecutive rates", (f[1:] / f[:-1]).min(0),
                            1 - TREND, over="mean"),
                  Statistic(f"{m}: mean gap at the highest / at the lowest rate", f[-1] / f[0], 1 + TREND,
                            over="mean")]
    return stats, {"rates": r["rates"]}


def _magnitude_below_random(r):
    sel = [i for i, q in enumerate(r["rates"]) if q <= 0.7]
    if not sel:
        return not_measured("no pruning rate up to 70% in 'rates'")
    mag, rnd = _fold_means(r["sweeps"]["rate"]["magnitude"]), _fold_means(r["sweeps"]["rate"]["random"])
    return [Statistic(f"rate {r['rates'][i]:.0%}: magnitude / random mean gap", mag[i] / rnd[i], 1 - TREND,
                      above=False) for i in sel]


def _rescaling_costs(r):
    sel = [i for i, q in enumerate(r["rates"]) if q >= 0.3]
    if not sel:
        return not_measured("no pruning rate from 30% on in 'rates'")
    resc, rnd = _fold_means(r["sweeps"]["rate"]["random_rescaled"]), _fold_means(r["sweeps"]["rate"]["random"])
    return [Statistic(f"rate {r['rates'][i]:.0%}: rescaled / unrescaled mean gap", resc[i] / rnd[i], 1 + TREND)
            for i in sel]


def _bound_tracks_rate(r):
    stats = []
    for m in r["methods"]:
        b = np.array([row["bounds"][str(r["deltas"][0])] for row in r["sweeps"]["rate"][m]])
        stats.append(Statistic(f"{m}: smallest relative rise of the bound from one rate to the next",
                               [float((b[1:] / b[:-1]).min() - 1)], 0.0, over="exact"))
    return stats


CLAIMS = [
    Claim("bound_holds",
          "In every setting and at every confidence level, the fraction of sampled targets whose measured gap "
          "exceeds the bound is at most delta (every group of targets)",
          "qian2021probabilistic", _bound_holds,
          note="the bound is this book's theorem, not the paper's; its looseness is in the numbers"),
    Claim("gap_decreases_with_width",
          "At a fixed pruning rate the mean measured gap decreases as the hidden layers widen, for every method "
          "(by more than 5% from the narrowest to the widest, every group of targets)",
          "qian2021probabilistic", _decreasing_with_width),
    Claim("gap_increases_with_rate",
          "The mean measured gap grows with the pruning rate for every method: it never falls by more than 5% "
          "from one rate to the next and rises by more than 5% from the lowest rate to the highest (mean over groups "
          "of targets)",
          "qian2021probabilistic", _increasing_with_rate,
          note="On the mean over groups: random pruning's gap barely moves between some consecutive rates, and on "
               "fresh targets (seed 1000) one group of 100 fell 1.5% from one rate to the next, closer to the 5% "
               "bar than the groups' spread; the claim is about the mean gap, which clears it."),
    Claim("magnitude_below_random",
          "At every pruning rate up to 70%, magnitude pruning leaves a mean gap more than 5% below random "
          "pruning's (every group of targets)",
          "qian2021probabilistic", _magnitude_below_random),
    Claim("rescaling_enlarges_gap",
          "Rescaling the survivors of random pruning by the inverse keep probability enlarges the mean worst-case "
          "gap by more than 5% at every pruning rate from 30% on (every group of targets)",
          "qian2021probabilistic", _rescaling_costs),
    Claim("bound_grows_with_rate",
          "Like the measured gap, the bound grows with the pruning rate, for every method",
          "qian2021probabilistic", _bound_tracks_rate, note="a property of the formula, checked on its values"),
]
