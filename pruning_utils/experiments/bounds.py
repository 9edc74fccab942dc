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
  ``conv_size`` x ``conv_size`` inputs) at each rate;
* ``layer``: one fully connected layer, ``layer_inputs`` inputs to
  ``layer_outputs`` outputs, at each rate, where the sup gap is exact (the
  operator norm ``||W - W~||_2``, :func:`pruning_utils.bounds.exact_layer_gap`).

All three methods (``random``, ``random_rescaled``, ``magnitude``) in every
sweep. Beside the theorem's bound every setting records the *mutant* bound
(step 4 of the proof deleted: ``input_net=False``), the pruning-blind bound
``Lip f + Lip f~`` (:func:`pruning_utils.bounds.blind_gap_bound`) and, for one
layer and random masks, Gordon's bound on the pruned difference
(:func:`pruning_utils.bounds.gordon_gap_bound`), and for each the number of
targets whose gap exceeds it. ``CLAIMS`` turn the result into verdicts: a bound
is refuted where more targets exceed it than a binomial tolerance allows
(:func:`pruning_utils.bounds.exceedance_allowance`, at family-wise level
``level`` split over the claim's tests).
"""

from __future__ import annotations

import copy
import itertools
import math
import time

import numpy as np
import torch

from .. import bounds as B
from ..claims import Claim, Control, Plan, Statistic, not_measured
from ..meter import note_structure, work
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
    "layer_inputs": FloatList((16, 64, 256), 1, 100_000, help="inputs of the one-layer sweep (exact gaps)"),
    "layer_outputs": Int(16, 1, 100_000, help="outputs of the one-layer sweep"),
    "level": Float(0.01, 0.0, 1.0, low_inclusive=False, high_inclusive=False,
                   help="family-wise level at which a bound is refuted by its exceedance counts"),
    "folds": Int(5, 3, 1000, help="disjoint groups of the targets, independent replicates the claims are "
                                    "decided on (the seeds of this chapter)"),
    "chunk_mb": Int(1024, 1, 10**7, help="memory (MB) one chunk of targets may take in the gap search (weights, "
                                          "pruned weights, activations); more targets run in several chunks"),
    "seed": Int(0, 0, 10**6),
    "device": Choice("auto", ("auto", "cpu", "cuda")),
}

PROFILES = {
    # the chapter's defaults: 500 targets per setting, about a minute on a 2-core CPU
    "default": {},
    # wider, deeper, more targets, a finer gap search: a GPU makes these cheap
    "paper": {"widths": (64, 256, 1024, 4096), "width": 1024, "depths": (1, 2, 4, 8), "targets": 2000,
              "samples": 1024, "starts": 32, "steps": 100, "conv_channels": 32, "conv_size": 32,
              "layer_inputs": (64, 256, 1024, 4096), "layer_outputs": 64},
    # the book's larger CPU scale (this chapter trains nothing, so it has no dataset to change): widths to 512,
    # depths to 6, one-layer inputs to 1,024, the default's targets and search (about 5 minutes here)
    "full": {"widths": (64, 128, 256, 512), "depths": (1, 2, 3, 4, 6), "layer_inputs": (16, 64, 256, 1024)},
}

#: confirmation plan (pruning_utils.confirm): looks after 1, 2 and 3 runs on fresh seeds, each run a new draw of
#: targets split into ``folds`` groups, so 5, 10 and 15 replicates at the default
CONFIRM = {"default": Plan((1, 2, 3)), "full": Plan((1, 2, 3))}

#: what a smoke run cuts (:mod:`pruning_utils.smoke`): few targets and ascent steps, the profile's sizes kept
SMOKE = {"targets": 10, "samples": 8, "starts": 2, "steps": 2, "folds": 3}


def _int_list(xs):
    return [int(round(x)) for x in xs]


#: the named work a run does (:class:`pruning_utils.meter.work`), counted in multiply-adds: a smoke run times it
GAP_SEARCH, LAYER_NORMS = "gap search (multiply-adds)", "exact layer norms (multiply-adds)"
STRUCTURE = "target and pruned weights, one chunk"


def _fcn_sizes(widths):
    """Weights of one network (= multiply-adds per input) and its units per input, past the input layer."""
    return sum(a * b for a, b in zip(widths[:-1], widths[1:])), sum(widths[1:])


def _conv_sizes(p):
    c, n = p["conv_channels"], p["conv_size"]
    return c * c * 9, c * c * 9 * n * n, c * n * n      # weights, multiply-adds per input, units per input


def _search_units(p, macs: int) -> int:
    """Multiply-adds of one target's gap search: the samples through both networks, then each start's ascent
    steps (a forward and a backward pass, about three forwards) and a last evaluation."""
    return 2 * macs * (p["samples"] + p["starts"] * (3 * p["steps"] + 1))


def _chunks(p, per_target_bytes: int, seed: int):
    """``(targets, seed)`` of each chunk of the targets: as many as fit in ``chunk_mb``. One chunk keeps the
    setting's seed (the results of runs that fit are those of a run without chunks); chunk ``c > 0`` gets its
    own seed from ``(seed, c)``."""
    n = p["targets"]
    size = max(1, min(n, (p["chunk_mb"] << 20) // max(1, per_target_bytes)))
    out = []
    for c, start in enumerate(range(0, n, size)):
        s = seed if c == 0 else int(np.random.SeedSequence([seed, c]).generate_state(1)[0])
        out.append((min(size, n - start), s))
    return out


def _fcn_target_bytes(p, widths) -> int:
    """Estimated bytes per target in the gap search (float32): both networks' weights, the samples' widest
    activations (two networks and their difference), and the ascent's activations kept for the backward pass."""
    weights, units = _fcn_sizes(widths)
    return 4 * (2 * weights + p["samples"] * (widths[0] + 3 * max(widths)) + 6 * p["starts"] * units)


def _setting(p, widths, method, rate, seed, device):
    """Gaps of ``targets`` pruned networks and the bound at each delta."""
    macs = _fcn_sizes(widths)[0]
    parts = []
    for n, s in _chunks(p, _fcn_target_bytes(p, widths), seed):
        W = B.sample_fcn(widths, n, s, device=device)
        P = B.prune(W, method, rate, s + 1, B.he_scales(widths))
        note_structure(STRUCTURE, sum(w.nbytes for w in W) + sum(w.nbytes for w in P))
        with work(GAP_SEARCH, n * _search_units(p, macs)):
            parts.append(B.sup_gap(lambda x: B.fcn_forward(W, x) - B.fcn_forward(P, x), (widths[0],), n,
                                   samples=p["samples"], starts=p["starts"], steps=p["steps"], seed=s + 2,
                                   device=device))
        W = P = None                       # freed before the next chunk is drawn
    gaps = torch.cat(parts)
    bounds = {"theorem": [B.fcn_gap_bound(widths, method, rate, d) for d in p["deltas"]],
              "mutant": [B.fcn_gap_bound(widths, method, rate, d, input_net=False) for d in p["deltas"]],
              "blind": [B.blind_gap_bound(widths, method, rate, d) for d in p["deltas"]]}
    return _summary(gaps, bounds, p["deltas"], p["folds"])


def _layer_setting(p, n_in, method, rate, seed, device):
    """One layer: the exact sup gap ``||W - W~||_2`` of ``targets`` pruned layers against every bound."""
    widths = [n_in, p["layer_outputs"]]
    parts = []
    for n, s in _chunks(p, 16 * n_in * widths[1], seed):    # weights, pruned, their difference in float64
        W = B.sample_fcn(widths, n, s, device=device)
        P = B.prune(W, method, rate, s + 1, B.he_scales(widths))
        note_structure(STRUCTURE, W[0].nbytes + P[0].nbytes)
        with work(LAYER_NORMS, n * n_in * widths[1] * min(widths)):
            parts.append(B.exact_layer_gap(W, P))
        W = P = None                       # freed before the next chunk is drawn
    gaps = torch.cat(parts)
    bounds = {"theorem": [B.layer_gap_bound(n_in, widths[1], method, rate, d) for d in p["deltas"]],
              "mutant": [B.layer_gap_bound(n_in, widths[1], method, rate, d, input_net=False) for d in p["deltas"]],
              "blind": [B.blind_gap_bound(widths, method, rate, d) for d in p["deltas"]]}
    if method != "magnitude":
        bounds["gordon"] = [B.gordon_gap_bound(n_in, widths[1], method, rate, d) for d in p["deltas"]]
    return _summary(gaps, bounds, p["deltas"], p["folds"])


def _conv_setting(p, method, rate, seed, device):
    c, n = p["conv_channels"], p["conv_size"]
    weights, macs, units = _conv_sizes(p)
    parts = []
    for m, s in _chunks(p, 4 * (2 * weights + 4 * p["samples"] * units + 6 * p["starts"] * units), seed):
        K = B.sample_conv(c, c, 3, m, s, device=device)
        Kp = B.prune_conv(K, method, rate, s + 1)
        note_structure(STRUCTURE, K.nbytes + Kp.nbytes)
        with work(GAP_SEARCH, m * _search_units(p, macs)):
            parts.append(B.sup_gap(lambda x: B.conv_forward(K, x) - B.conv_forward(Kp, x), (c, n, n), m,
                                   samples=p["samples"], starts=p["starts"], steps=p["steps"], seed=s + 2,
                                   device=device))
        K = Kp = None
    gaps = torch.cat(parts)
    bounds = {"theorem": [B.conv_gap_bound(c, c, 3, method, rate, d) for d in p["deltas"]],
              "mutant": [B.conv_gap_bound(c, c, 3, method, rate, d, input_net=False) for d in p["deltas"]]}
    return _summary(gaps, bounds, p["deltas"], p["folds"])


def _ratio(bound: float, gap: float) -> float:
    """``bound / gap``; infinite where the gap is 0 and the bound is not (0 / 0 is 1: the bound is exact)."""
    if gap > 0:
        return bound / gap
    return 1.0 if bound == 0 else math.inf


def _summary(gaps, bounds, deltas, folds):
    """``bounds``: name -> one bound per delta. The theorem's bounds and ratios stay where earlier results had
    them (``"bounds"``, ``"ratio"``), the others are under ``"other_bounds"``; every bound's exceedance count
    (of ``"n"`` targets) is under ``"count"``."""
    g = gaps.detach().cpu().double().numpy()
    parts = np.array_split(g, folds)   # targets are i.i.d.: disjoint groups are independent replicates
    th = bounds["theorem"]
    return {"folds": {"mean": [float(x.mean()) for x in parts]},
            "n": int(g.size), "mean": float(g.mean()), "std": float(g.std()), "max": float(g.max()),
            "quantiles": {str(d): float(np.quantile(g, 1 - d)) for d in deltas},
            "bounds": {str(d): b for d, b in zip(deltas, th)},
            # a gap quantile of 0 (a network so small that pruning left its output unchanged): no finite ratio
        "ratio": {str(d): _ratio(b, float(np.quantile(g, 1 - d))) for d, b in zip(deltas, th)},
            "other_bounds": {name: {str(d): b for d, b in zip(deltas, bs)} for name, bs in bounds.items()
                             if name != "theorem"},
            "count": {name: {str(d): int((g > b).sum()) for d, b in zip(deltas, bs)} for name, bs in bounds.items()}}


def run(**params) -> dict:
    p = validate(params, SCHEMA)
    if p["folds"] > p["targets"]:
        raise ValueError(f"parameter 'folds' = {p['folds']} is not allowed; expected at most 'targets' = "
                         f"{p['targets']}")
    t0 = time.perf_counter()
    device = resolve_device(p["device"])
    n0, nL = p["input_dim"], p["output_dim"]
    out = {"width": {}, "depth": {}, "rate": {}, "conv": {}, "layer": {}}
    # a fresh seed for every setting (no upper end: a confirmation's seeds start at 100,000)
    seeds = itertools.count(p["seed"] * 10_000 + 7, 101)
    layer_seeds = itertools.count(p["seed"] * 10_000 + 5_007, 101)  # apart, so the other sweeps keep theirs
    for method in B.METHODS:
        out["width"][method] = [_setting(p, [n0] + [w] * p["depth"] + [nL], method, p["rate"], next(seeds), device)
                                for w in _int_list(p["widths"])]
        out["depth"][method] = [_setting(p, [n0] + [p["width"]] * d + [nL], method, p["rate"], next(seeds), device)
                                for d in _int_list(p["depths"])]
        out["rate"][method] = [_setting(p, [n0] + [p["width"]] * p["depth"] + [nL], method, q, next(seeds), device)
                               for q in p["rates"]]
        out["conv"][method] = [_conv_setting(p, method, q, next(seeds), device) for q in p["rates"]]
        out["layer"][method] = [_layer_setting(p, n, method, q, next(layer_seeds), device)
                                for n in _int_list(p["layer_inputs"]) for q in p["rates"]]
    return {"sweeps": out, "widths": _int_list(p["widths"]), "depths": _int_list(p["depths"]),
            "layer_inputs": _int_list(p["layer_inputs"]), "layer_outputs": p["layer_outputs"],
            "rates": list(p["rates"]), "deltas": list(p["deltas"]), "methods": list(B.METHODS),
            "params": p, "device": str(device), "wall_time_s": time.perf_counter() - t0}


def _settings(p):
    """Every setting ``run`` measures, in its order: ``("fcn", widths)``, ``("conv", None)`` or
    ``("layer", widths)``, one per method and point of each sweep."""
    n0, nL = p["input_dim"], p["output_dim"]
    out = []
    for _ in B.METHODS:
        out += [("fcn", [n0] + [w] * p["depth"] + [nL]) for w in _int_list(p["widths"])]
        out += [("fcn", [n0] + [p["width"]] * d + [nL]) for d in _int_list(p["depths"])]
        out += [("fcn", [n0] + [p["width"]] * p["depth"] + [nL]) for _ in p["rates"]]
        out += [("conv", None) for _ in p["rates"]]
        out += [("layer", [n, p["layer_outputs"]]) for n in _int_list(p["layer_inputs"]) for _ in p["rates"]]
    return out


def work_units(p: dict, sizes=None) -> dict:
    """The work ``run(**p)`` does (``p`` validated), in multiply-adds: the gap searches and the exact one-layer
    norms (:class:`pruning_utils.meter.work`). This chapter trains nothing; a smoke run checks the count
    against what it measured and projects a profile's length from the time per unit."""
    search = norms = 0
    for kind, widths in _settings(p):
        if kind == "layer":
            norms += p["targets"] * widths[0] * widths[1] * min(widths)
        else:
            macs = _conv_sizes(p)[1] if kind == "conv" else _fcn_sizes(widths)[0]
            search += p["targets"] * _search_units(p, macs)
    return {GAP_SEARCH: search, LAYER_NORMS: norms}


def memory_structures(p: dict, sizes=None) -> dict:
    """Bytes of the largest structure: one chunk of target and pruned weights (``chunk_mb`` caps a chunk's
    estimated total, activations included)."""
    largest = 0
    for kind, widths in _settings(p):
        if kind == "layer":
            per, weights = 16 * widths[0] * widths[1], widths[0] * widths[1]
        elif kind == "conv":
            weights, _, units = _conv_sizes(p)
            per = 4 * (2 * weights + 4 * p["samples"] * units + 6 * p["starts"] * units)
        else:
            weights, per = _fcn_sizes(widths)[0], _fcn_target_bytes(p, widths)
        largest = max(largest, max(n for n, _ in _chunks(p, per, 0)) * 2 * 4 * weights)
    return {STRUCTURE: largest}


# ---------------------------------------------------------------------------
# claims

#: the sweeps whose sup gap is a sampled lower estimate (several layers, or one conv layer)
ESTIMATED = ("width", "depth", "rate", "conv")


def _all_settings(r, sweeps=ESTIMATED):
    for sweep in sweeps:
        for method, rows in r["sweeps"].get(sweep, {}).items():
            for i, row in enumerate(rows):
                yield f"{sweep}/{method}/{i}", row


def _fold_means(rows):
    """Per setting of a sweep, the mean gap of each fold: array (settings, folds)."""
    return np.array([row["folds"]["mean"] for row in rows])


def _exceedances(r, sweeps, bound="theorem"):
    """Statistic: the largest excess of a setting's exceedance count over its binomial allowance, over the
    settings of ``sweeps`` and every delta; the family-wise level is split evenly over those tests."""
    rows = list(_all_settings(r, sweeps))
    if not rows:
        return not_measured(f"no setting in the sweeps {list(sweeps)}")
    tests = len(rows) * len(r["deltas"])
    level = r["params"]["level"] / tests
    worst, where, over = None, None, 0
    for key, row in rows:
        for d in r["deltas"]:
            excess = row["count"][bound][str(d)] - B.exceedance_allowance(row["n"], d, level)
            over += excess > 0
            if worst is None or excess > worst:
                worst, where = excess, f"{key}, delta {d}"
    return [Statistic(f"largest exceedance count minus its binomial allowance ({bound} bound)", [worst], 0.5,
                      above=False, over="exact")], \
        {"tests": tests, "level per test": level, "tests refuted": over, "worst test": where}


def _count_swap(r, sweeps, bound):
    """The result with the theorem's exceedance counts replaced by ``bound``'s (the mutant's)."""
    out = copy.deepcopy(r)
    for sweep in sweeps:
        for rows in out["sweeps"].get(sweep, {}).values():
            for row in rows:
                row["count"]["theorem"] = copy.deepcopy(row["count"][bound])
    return out


def _mutant(sweeps):
    return Control("the mutant bound",
                   "The same bound with the proof's last step deleted (no net over the inputs, no Lipschitz term): "
                   "a bound on the gap at one input, not on the sup; a test it passes cannot see that step",
                   lambda r: _count_swap(r, sweeps, "mutant"))


def _bound_holds(r):
    stats, nums = _exceedances(r, ESTIMATED)
    nums["bound / (1 - delta) quantile of the gap: smallest"] = min(row["ratio"][str(d)] for _, row in
                                                                   _all_settings(r) for d in r["deltas"])
    return stats, nums


def _layer_holds(r):
    return _exceedances(r, ("layer",))


def _beats(r, other, sweeps, methods):
    """Check: the theorem's bound below ``other``'s in every setting of ``sweeps`` (``methods``) and delta."""
    rel = []
    for sweep in sweeps:
        for m in methods:
            for row in r["sweeps"].get(sweep, {}).get(m, []):
                rel += [(row["other_bounds"][other][str(d)] - row["bounds"][str(d)]) / row["other_bounds"][other][str(d)]
                        for d in r["deltas"]]
    if not rel:
        return not_measured(f"no setting with the {other} bound")
    rel = np.array(rel)
    return [Statistic(f"smallest relative room of the {other} bound over the theorem's", [float(rel.min())], 0.0,
                      over="exact")], {"settings and deltas": int(rel.size), "where the theorem is lower": int((rel > 0).sum())}


#: relative change a trend must exceed to count (measured gaps are means over hundreds of targets)
TREND = 0.05


def _decreasing_with_width(r):
    if len(r["widths"]) < 2:
        return not_measured("a trend with width needs at least two 'widths'")
    stats = []
    for m in r["methods"]:
        f = _fold_means(r["sweeps"]["width"][m])
        stats.append(Statistic(f"{m}: mean gap at the widest / at the narrowest width", f[-1] / f[0], 1 - TREND,
                               above=False))
    return stats, {"widths": r["widths"]}


def _increasing_with_rate(r):
    if len(r["rates"]) < 2:
        return not_measured("a trend with the rate needs at least two 'rates'")
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
    if len(r["rates"]) < 2:
        return not_measured("a trend with the rate needs at least two 'rates'")
    stats = []
    for m in r["methods"]:
        b = np.array([row["bounds"][str(r["deltas"][0])] for row in r["sweeps"]["rate"][m]])
        stats.append(Statistic(f"{m}: smallest relative rise of the bound from one rate to the next",
                               [float((b[1:] / b[:-1]).min() - 1)], 0.0, over="exact"))
    return stats


_TOL = ("than a binomial tolerance allows (a valid bound is exceeded by a Binomial(targets, delta) count; refuted "
        "at a 1% family-wise level, split over the settings and confidence levels)")
_SECOND = "follows from second moments"

CLAIMS = [
    Claim("layer_bound_holds",
          "Theorem 1 on one layer, where the worst-case gap is exact (an operator norm): in no setting and at no "
          f"confidence level do more sampled targets exceed the bound {_TOL}",
          "this_book", _layer_holds, control=_mutant(("layer",)),
          note="The test with teeth: the mutant bound, the same proof without the net over the inputs, is "
               "exceeded far more often than the tolerance allows where the layer has many inputs."),
    Claim("bound_holds",
          "Theorem 2 and Theorem 3 on several layers and on a conv layer: in no setting and at no confidence level "
          f"do more sampled targets exceed the bound {_TOL}",
          "this_book", _bound_holds, control=_mutant(ESTIMATED),
          note="Not discriminating: the sup gap here is a sampled lower estimate and the bound has several times "
               "the room it needs, so the mutant passes too; the one-layer claim is the one with teeth."),
    Claim("layer_bound_beats_gordon",
          "Theorem 1's bound is below Gordon's bound on the pruned difference, which uses the rate only through "
          "the largest multiplier, in every one-layer setting with random masks and every confidence level",
          "this_book", lambda r: _beats(r, "gordon", ("layer",), ("random", "random_rescaled")), kind="check",
          note="a comparison of two formulas: where it does not hold, the theorem is beaten by a one-line bound"),
    Claim("bound_beats_blind",
          "Theorem 2's bound is below the pruning-blind bound, the sum of the two networks' Lipschitz bounds, in "
          "every fully connected setting and confidence level",
          "this_book", lambda r: _beats(r, "blind", ("width", "depth", "rate", "layer"), tuple(B.METHODS)),
          kind="check", note="a comparison of two formulas"),
    Claim("gap_decreases_with_width",
          "At a fixed pruning rate the mean measured gap decreases as the hidden layers widen, for every method "
          "(by more than 5% from the narrowest to the widest, every group of targets)",
          "this_book", _decreasing_with_width),
    Claim("gap_increases_with_rate",
          "The mean measured gap grows with the pruning rate for every method: it never falls by more than 5% "
          "from one rate to the next and rises by more than 5% from the lowest rate to the highest (mean over groups "
          "of targets)",
          "this_book", _increasing_with_rate, kind="check",
          note=f"{_SECOND}: the removed part of each row has variance proportional to the rate"),
    Claim("magnitude_below_random",
          "At every pruning rate up to 70%, magnitude pruning leaves a mean gap more than 5% below random "
          "pruning's (every group of targets)",
          "this_book", _magnitude_below_random, kind="check",
          note=f"{_SECOND}: the weights below the threshold carry less than the rate's share of the variance"),
    Claim("rescaling_enlarges_gap",
          "Rescaling the survivors of random pruning by the inverse keep probability enlarges the mean worst-case "
          "gap by more than 5% at every pruning rate from 30% on (every group of targets)",
          "this_book", _rescaling_costs, kind="check",
          note=f"{_SECOND}: the rescaled difference has variance q/p per weight against q"),
    Claim("bound_grows_with_rate",
          "Like the measured gap, the bound grows with the pruning rate, for every method",
          "this_book", _bound_tracks_rate, kind="check", note="a property of the formula, checked on its values"),
]
