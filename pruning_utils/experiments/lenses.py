"""Chapter 06: five lenses on one network, and sanity checks as one-liners.

Two networks, each trained once per seed: LeNet-300-100 (``mlp``) and a small
conv net with BatchNorm (``conv``: two 3x3 convs of ``conv_width`` channels,
BatchNorm, ReLU, one max-pool, a linear head). From each, masks at matched
sparsities by every method of the book, all from the library:

* trained weights: ``gmp`` (global magnitude), ``snip_trained`` (SNIP scores of
  the trained network), ``kmp_late`` and ``kgp`` (Koopman magnitude and
  gradient pruning of the last ``window`` steps), ``kmp_early`` (a window
  starting after the first epoch);
* iterative: ``imp`` (IMP, rewinding to initialisation, ``prune_fraction`` per
  round) and ``mst_imp`` (IMP that never cuts an edge of the spanning tree);
* at initialisation: ``sbp`` (SNIP on a class-balanced batch), ``grasp``,
  ``synflow`` (``synflow_rounds`` rounds), ``random``;
* structured (``conv`` only): ``spline`` (this book's spline criterion on the
  trained network's channels), at the channel ratio whose kept weight count
  is closest to the matched sparsity.

The matched sparsities are IMP's after each round in ``rounds``. For every
pair of masks: the Jaccard index of the kept sets and its chance level given
the two masks' layer-wise counts. For every mask: layer-wise kept fractions,
whether a path joins input to output and how many hidden units the input
reaches through kept weights (as the mask is, and shuffled), the accuracy of
the trained network with the mask applied (one shot), and
:func:`pruning_utils.sanity.sanity_checks`: retrained from initialisation as
it is and shuffled within layers at every matched sparsity; re-initialised
and inverted (where the method has a score) at the highest. The BatchNorm
net's early-bird check: ``|gamma|`` channel masks (half the channels, one
global threshold) and the spline partition of the test set at every epoch
against the end of training.

``CLAIMS`` turn the result into verdicts.
"""

from __future__ import annotations

import copy
import itertools
import time

import numpy as np

from ..claims import Claim, Control, Statistic
from ..data import dataset_info, load_dataset
from ..imp import IMPConfig, imp_sparsities, run_imp
from ..koopman import SnapshotRecorder, kgp_scores, kmp_scores
from ..masks import apply_masks, collapse_report, dense_state_dict, jaccard, jaccard_chance, masks_from_scores
from ..models import build_model
from ..params import Choice, Float, FloatList, Int, validate
from ..sanity import sanity_checks, shuffle_within_layers
from ..scores import (class_balanced_batch, grasp_scores, magnitude_scores, random_scores, snip_scores,
                      synflow_masks)
from ..spline import (activation_codes, channel_masks, keep_from_scores, partition_distance, slimming_scores,
                      spline_scores)
from ..topology import mst_preserving_scores, prunability_bound
from ..train import StateRecorder, TrainConfig, evaluate, resolve_device, train
from .common import RUNTIME_SCHEMA

SCHEMA = {
    "mlp_dataset": Choice("mnist5k", ("mnist5k", "digits", "mnist", "fashion-mnist")),
    "conv_dataset": Choice("digits", ("digits", "mnist5k", "mnist", "fashion-mnist")),
    "conv_width": Int(32, 1, 1024, help="channels of both convs of the BatchNorm net"),
    "epochs": Int(8, 2, 1000, help="training epochs of every run (dense, IMP rounds, retraining)"),
    "batch_size": Int(128, 1, 4096),
    "lr": Float(0.05, 0.0, 10.0, low_inclusive=False),
    "prune_fraction": Float(0.6, 0.0, 1.0, low_inclusive=False, high_inclusive=False,
                            help="fraction of the remaining weights IMP removes per round"),
    "rounds": FloatList((2, 4), 1, 50, help="IMP rounds whose sparsities every method is matched to"),
    "window": Int(30, 3, 10_000, help="snapshots (one per step) in each Koopman window"),
    "per_class": Int(10, 1, 1000, help="images per class in the scoring batch of SBP and GraSP"),
    "synflow_rounds": Int(100, 1, 10_000),
    "seeds": Int(2, 1, 20),
    "seed": Int(0, 0, 10**6),
    **RUNTIME_SCHEMA,
}

PROFILES = {
    # the chapter's defaults: LeNet-300-100 on mnist5k and the BatchNorm conv net on digits, two seeds
    "default": {},
    # full MNIST for both networks, a wider conv net, three seeds: minutes on a GPU
    "paper": {"mlp_dataset": "mnist", "conv_dataset": "mnist", "conv_width": 64, "download": True,
              "epochs": 20, "rounds": (2, 4, 6), "window": 100, "seeds": 3, "progress": True},
}

NETWORKS = ("mlp", "conv")
#: methods, in the order of the chapter's tables; ``spline`` only on the BatchNorm net
METHODS = ("gmp", "snip_trained", "kmp_late", "kgp", "kmp_early", "imp", "mst_imp", "sbp", "grasp", "synflow",
           "random", "spline")
AT_INIT = ("sbp", "grasp", "synflow")
#: pairs the book's theory says must agree, with the chapter that says why
PREDICTED = {("kmp_late", "gmp"): "01: at convergence the Koopman fixed point is the final weights"}


def _build(net, info, p, seed, device):
    if net == "mlp":
        return build_model("lenet300100", info["shape"], info["classes"], seed=seed).to(device)
    return build_model("conv2", info["shape"], info["classes"], seed=seed, width=p["conv_width"], head=(),
                       batchnorm=True).to(device)


def _matched_spline(model, scores, target_kept):
    """Channel keep-vectors (global ratio) whose kept weight count is closest to ``target_kept``."""
    best = None
    for ratio in np.linspace(0.0, 0.98, 99):
        keep = keep_from_scores(scores, float(ratio))
        mk = channel_masks(model, keep)
        kept = sum(int(m.sum()) for m in mk.values())
        if best is None or abs(kept - target_kept) < abs(best[0] - target_kept):
            best = (kept, mk)
    return best[1]


def train_config(p: dict, seed: int, n_train: int) -> TrainConfig:
    """The dense training schedule of ``run`` for one seed and a training set of ``n_train`` images."""
    return TrainConfig(epochs=p["epochs"], batch_size=min(p["batch_size"], n_train), lr=p["lr"],
                       momentum=0.9, schedule="step", milestones=(0.5 * p["epochs"], 0.75 * p["epochs"]),
                       seed=seed, eval_every=0, progress=p["progress"])


def _one_network(net, p, seed, device):
    name = p["mlp_dataset"] if net == "mlp" else p["conv_dataset"]
    info = dataset_info(name)
    train_data = load_dataset(name, True, p["data_root"], p["download"], device)
    test_data = load_dataset(name, False, p["data_root"], p["download"], device)
    cfg = train_config(p, seed, len(train_data[1]))
    spe = len(train_data[1]) // cfg.batch_size      # the training loop drops the last partial batch
    total = spe * p["epochs"]
    if p["window"] > total - spe + 1:
        raise ValueError(f"parameter 'window' = {p['window']} is not allowed; the late window must fit in "
                         f"training ({total} steps, {spe} per epoch)")
    model = _build(net, info, p, seed, device)
    init_state = dense_state_dict(model)
    reinit_state = dense_state_dict(_build(net, info, p, seed + 10_000, device))
    xb, yb = class_balanced_batch(*train_data, per_class=p["per_class"], seed=seed)

    # pruning-at-initialisation scores, on the initialisation (train mode, as at the start of training)
    init_scores = {"sbp": snip_scores(model, xb, yb), "grasp": grasp_scores(model, xb, yb),
                   "random": random_scores(model, seed + 3)}
    model.zero_grad(set_to_none=True)

    # dense training, recording an early and a late window and (BatchNorm net) the state after every epoch
    trained = _build(net, info, p, seed, device)
    trained.load_state_dict(init_state)
    early = SnapshotRecorder(trained, spe, p["window"])
    late = SnapshotRecorder(trained, total - p["window"] + 1, p["window"])
    states = StateRecorder([e * spe for e in range(p["epochs"] + 1)] if net == "conv" else [])
    train(trained, train_data, cfg, callbacks=[early, late, states])
    if not (early.full and late.full):
        raise RuntimeError(f"a Koopman window was not filled (steps {early.steps[:1]}.., {late.steps[:1]}..)")
    dense_acc = evaluate(trained, test_data)["accuracy"]
    trained.eval()
    scores = {"gmp": magnitude_scores(trained), "snip_trained": snip_scores(trained, xb, yb),
              "kmp_late": late.unflatten(kmp_scores(late.snapshots)), "kgp": late.unflatten(kgp_scores(late.snapshots)),
              "kmp_early": early.unflatten(kmp_scores(early.snapshots)), **init_scores}
    scores = {k: {n: v.detach().to(device) for n, v in sc.items()} for k, sc in scores.items()}
    # the control for late KMP: plain magnitudes of the weights at the late window's first step
    window_start = {n: v.detach().clone().to(device) for n, v in late.unflatten(late.snapshots[0].abs()).items()}

    # IMP and MST-preserving IMP, rewinding to the initialisation
    icfg = IMPConfig(rounds=int(max(p["rounds"])), prune_fraction=p["prune_fraction"], scope="global", rewind_step=0)
    imp = run_imp(_build(net, info, p, seed, device), train_data, test_data, cfg, icfg)
    targets = imp_sparsities(icfg.rounds, icfg.prune_fraction)
    # MST-preserving IMP only up to the prunability bound (past it no mask keeps the whole tree)
    bound = prunability_bound(model)
    mst_rounds = max([r for r in range(icfg.rounds + 1) if targets[r] <= bound])
    mst = run_imp(_build(net, info, p, seed, device), train_data, test_data, cfg, icfg.replace(rounds=mst_rounds),
                  scores_fn=mst_preserving_scores) if mst_rounds > 0 else {"masks": []}

    out = {"dense_accuracy": dense_acc, "sparsities": [], "methods": {}, "jaccard": {}, "chance": {}}
    for r in (int(x) for x in p["rounds"]):
        s = targets[r]
        out["sparsities"].append(s)
        masks = {k: masks_from_scores(scores[k], s) for k in ("gmp", "snip_trained", "kmp_late", "kgp", "kmp_early",
                                                              "sbp", "grasp", "random")}
        masks["imp"] = {n: m.to(device) for n, m in imp["masks"][r].items()}
        if r < len(mst["masks"]):
            masks["mst_imp"] = {n: m.to(device) for n, m in mst["masks"][r].items()}
        masks["synflow"] = synflow_masks(_build(net, info, p, seed, device), info["shape"], s,
                                         rounds=p["synflow_rounds"])
        if net == "conv":
            n_total = sum(m.numel() for m in masks["gmp"].values())
            masks["spline"] = _matched_spline(trained, spline_scores(trained), round((1 - s) * n_total))
        for k, mk in masks.items():
            probe = _build(net, info, p, seed, device)
            probe.load_state_dict(dense_state_dict(trained))
            apply_masks(probe, mk)
            n_kept = sum(int(m.sum()) for m in mk.values())
            checks = ("original", "shuffle")
            if s == max(targets[int(x)] for x in p["rounds"]):    # the other two checks at the highest sparsity
                checks += ("reinit",) + (("invert",) if k in scores and k != "random" else ())
            rep, rep_shuffled = collapse_report(mk), collapse_report(shuffle_within_layers(mk, seed + 7))
            san = sanity_checks(_build(net, info, p, seed, device), init_state, mk, train_data, test_data, cfg,
                                scores=scores.get(k), reinit_state=reinit_state, seed=seed + 7, checks=checks)
            out["methods"].setdefault(k, {})[str(s)] = {
                "kept": n_kept, "sparsity": 1 - n_kept / sum(m.numel() for m in mk.values()),
                "kept_per_layer": [float(m.float().mean()) for m in mk.values()],
                "passes_signal": rep["passes_signal"],
                # hidden units joined to the input by kept weights, as they are and shuffled (same seed as the check)
                "reachable_units": _reachable(rep), "reachable_units_shuffled": _reachable(rep_shuffled),
                "oneshot_accuracy": evaluate(probe, test_data)["accuracy"],
                "sanity": {c: {"test_accuracy": v["test_accuracy"], "best_accuracy": v["best_accuracy"]}
                           for c, v in san.items()}}
        out["jaccard"][str(s)] = {f"{a}|{b}": jaccard(masks[a], masks[b]) for a, b in itertools.combinations(masks, 2)}
        out["chance"][str(s)] = {f"{a}|{b}": jaccard_chance(masks[a], masks[b])
                                 for a, b in itertools.combinations(masks, 2)}
        ws = masks_from_scores(window_start, s)
        out["jaccard"][str(s)]["gmp|gmp_window_start"] = jaccard(masks["gmp"], ws)
        out["chance"][str(s)]["gmp|gmp_window_start"] = jaccard_chance(masks["gmp"], ws)
    out["layers"] = list(scores["gmp"])

    if net == "conv":  # early bird: |gamma| channel masks and the spline partition at every epoch against the end
        kb = keep_from_scores(slimming_scores(trained), 0.5)
        mb, codes_b = channel_masks(trained, kb), activation_codes(trained, test_data[0])
        eb = {"epoch": [], "channel_jaccard": [], "channel_chance": [], "partition_distance": []}
        for e in range(p["epochs"] + 1):
            at = _build(net, info, p, seed, device)
            at.load_state_dict(states.states[e * spe])
            at.eval()
            ma = channel_masks(at, keep_from_scores(slimming_scores(at), 0.5))
            eb["epoch"].append(e)
            eb["channel_jaccard"].append(jaccard(ma, mb))
            eb["channel_chance"].append(jaccard_chance(ma, mb))
            eb["partition_distance"].append(partition_distance(activation_codes(at, test_data[0]), codes_b))
        out["early_bird"] = eb
    return out


def _reachable(rep):
    vals = [v["reachable_outputs"] for v in list(rep["layers"].values())[:-1]]
    return None if any(v is None for v in vals) else int(sum(vals))


def run(**params) -> dict:
    p = validate(params, SCHEMA)
    t0 = time.perf_counter()
    device = resolve_device(p["device"])
    if max(p["rounds"]) != int(max(p["rounds"])) or any(r != int(r) for r in p["rounds"]):
        raise ValueError(f"parameter 'rounds' = {list(p['rounds'])!r} is not allowed; expected whole rounds")
    out = {"networks": {}}
    for net in NETWORKS:
        out["networks"][net] = {"per_seed": []}
        for i in range(p["seeds"]):
            seed = p["seed"] + i
            row = _one_network(net, p, seed, device)
            row["seed"] = seed
            out["networks"][net]["per_seed"].append(row)
    out.update({"params": p, "device": str(device), "wall_time_s": time.perf_counter() - t0})
    return out


# ---------------------------------------------------------------------------
# claims

def _rows(r):
    for net, d in r["networks"].items():
        for row in d["per_seed"]:
            yield net, row


def _late_kmp(r):
    stats = []
    for net, d in r["networks"].items():
        rows = d["per_seed"]
        for k in range(len(rows[0]["sparsities"])):
            j = [row["jaccard"][str(row["sparsities"][k])]["gmp|kmp_late"] for row in rows]
            stats.append(Statistic(f"{net}, matched sparsity {k + 1}: Jaccard of late KMP and GMP", j, 0.9))
    chance = {f"{net}, seed {row['seed']}: chance levels": [row["chance"][str(s)]["gmp|kmp_late"]
                                                            for s in row["sparsities"]]
              for net, row in _rows(r)}
    return stats, chance


def _window_start_for_late_kmp(r):
    """The result with late KMP's Jaccard against GMP replaced by that of GMP at the late window's first step."""
    out = copy.deepcopy(r)
    for d in out["networks"].values():
        for row in d["per_seed"]:
            for js in row["jaccard"].values():
                js["gmp|kmp_late"] = js["gmp|gmp_window_start"]
    return out


def _shuffle_gaps(r, method, net, k):
    """Per seed: original minus shuffled retrained accuracy of ``method`` at the ``k``-th matched sparsity."""
    out = []
    for row in r["networks"][net]["per_seed"]:
        san = row["methods"][method][str(row["sparsities"][k])]["sanity"]
        out.append(san["original"]["test_accuracy"] - san["shuffle"]["test_accuracy"])
    return np.array(out)


def _pai_shuffle_mlp(r):
    last = len(r["networks"]["mlp"]["per_seed"][0]["sparsities"]) - 1
    stats = []
    for m in AT_INIT:
        g = _shuffle_gaps(r, m, "mlp", 0)
        stats += [Statistic(f"{m}, lowest matched sparsity: original minus shuffled", g, 0.05, above=False,
                            over="mean"),
                  Statistic(f"{m}, lowest matched sparsity: shuffled minus original", -g, 0.05, above=False,
                            over="mean"),
                  Statistic(f"{m}, highest matched sparsity: original minus shuffled",
                            _shuffle_gaps(r, m, "mlp", last), 0.10, over="mean")]
    return stats


def _pai_shuffle_conv(r):
    n = len(r["networks"]["conv"]["per_seed"][0]["sparsities"])
    stats = [Statistic(f"SBP, GraSP, SynFlow at matched sparsity {k + 1}: original minus shuffled, mean of the "
                       f"three", np.mean([_shuffle_gaps(r, m, "conv", k) for m in AT_INIT], 0), 0.05,
                       above=False, over="mean") for k in range(n)]
    stats.append(Statistic("IMP at the highest matched sparsity: original minus shuffled",
                           _shuffle_gaps(r, "imp", "conv", n - 1), 0.10, over="mean"))
    return stats


def _early_bird(r):
    lift, nums = [], {}
    for row in r["networks"]["conv"]["per_seed"]:
        e = row["early_bird"]
        q = (len(e["epoch"]) - 1) // 4   # a quarter of training
        j, c = e["channel_jaccard"][q], e["channel_chance"][q]
        nums[f"seed {row['seed']}, epoch {e['epoch'][q]}: channel Jaccard, chance"] = [j, c]
        lift.append(j - c)
    return [Statistic("channel Jaccard a quarter through training minus chance", lift, 0.3)], nums


CLAIMS = [
    Claim("late_kmp_equals_gmp",
          "Chapter 01's prediction: on both networks, every seed and every matched sparsity, Koopman magnitude "
          "pruning of the last window and global magnitude pruning of the trained weights keep sets with a "
          "Jaccard index of at least nine tenths",
          "redman2022operator", _late_kmp,
          control=Control("magnitudes at the window's first step",
                          "GMP of the weights at the first step of the last window: if they agree with the final GMP "
                          "as well, the weights had stopped moving before the window and KMP has nothing to add",
                          _window_start_for_late_kmp)),
    Claim("pai_shuffle_mlp",
          "On LeNet-300-100, shuffling the masks of SBP, GraSP and SynFlow within each layer changes the retrained "
          "accuracy by less than 5 points at the lower matched sparsity and costs more than 10 points at the "
          "highest (each method, mean over seeds)",
          "frankle2021missing", _pai_shuffle_mlp),
    Claim("pai_shuffle_conv",
          "On the BatchNorm conv net, at both matched sparsities, shuffled SBP, GraSP and SynFlow masks retrain to "
          "at most 5 points below the originals (mean over the three methods and seeds), while shuffling IMP's "
          "mask at the highest sparsity costs more than 10 points",
          "frankle2021missing", _pai_shuffle_conv),
    Claim("early_bird_channels_settle",
          "Chapter 02's prediction: on the BatchNorm net, the channel mask from the BatchNorm scales a quarter of "
          "the way through training overlaps the final one by more than chance plus three tenths in Jaccard index, "
          "every seed",
          "you2020drawing", _early_bird),
]
