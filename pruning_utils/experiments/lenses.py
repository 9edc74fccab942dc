"""Chapter 06: five lenses on one network, sanity checks as one-liners, and your own method through them.

Two networks on the same data (``dataset``, 28x28 mnist5k by default), each
trained once per seed: LeNet-300-100 (``mlp``) and a small conv net with
BatchNorm (``conv``: :class:`pruning_utils.models.SmallConvNet` of
``conv_width`` channels). From each, masks at matched sparsities by every
method of the book, all from the library:

* trained weights: ``gmp`` (global magnitude), ``snip_trained`` (SNIP scores of
  the trained network), ``kmp_late`` and ``kgp`` (Koopman magnitude and
  gradient pruning of the last ``window`` steps), ``kmp_early`` (a window
  starting after the first epoch);
* iterative: ``imp`` (IMP, rewinding to initialisation, ``prune_fraction`` per
  round) and ``mst_imp`` (IMP that never cuts an edge of the spanning tree);
* at initialisation: ``sbp`` (SNIP on a class-balanced batch), ``grasp``,
  ``synflow`` (``synflow_rounds`` rounds), ``random`` (one global threshold on
  random scores: about the same fraction of every layer) and ``smart_ratio``
  (Su et al.'s random tickets: random positions, keep fractions decaying with
  depth, :func:`pruning_utils.sanity.smart_ratio_masks`);
* structured (``conv`` only): ``spline`` (this book's spline criterion on the
  trained network's channels), at the channel ratio whose kept weight count
  is closest to the matched sparsity;
* the reader's own, through :func:`compare`.

The matched sparsities are IMP's after each round in ``rounds``. For every
pair of masks: the Jaccard index of the kept sets, its chance level and the
best the two masks' layer-wise counts allow. For every mask: layer-wise kept
fractions, whether a path joins input to output and how many hidden units the
input reaches through kept weights (as the mask is, and shuffled), the
accuracy of the trained network with the mask applied (one shot), and the
trainings it took to find. The methods in ``RETRAINED`` (and the reader's)
are retrained from initialisation at every matched sparsity; at the highest,
through :func:`pruning_utils.sanity.sanity_checks`: shuffled within layers,
shuffled among informative inputs only (LeNet's first layer: the weights on
pixels off the background in more than ``informative_fraction`` of the
training images among themselves, the rest among themselves), re-initialised, inverted (SynFlow:
run again on inverted scores); SBP and GraSP also scored on the batch with
random labels and with random pixels (Su et al.'s checks). The BatchNorm net's
early-bird check: ``|gamma|`` channel masks (half the channels, one global
threshold) and the spline partition of the test set at every epoch against
the end of training.

``CLAIMS`` turn the result into verdicts.
"""

from __future__ import annotations

import copy
import importlib
import itertools
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
from torch import nn

from ..claims import Claim, Control, Statistic
from ..data import HELD, dataset_info, load_dataset
from ..imp import IMPConfig, imp_sparsities, run_imp
from ..koopman import SNAPSHOTS, SnapshotRecorder, kgp_scores, kmp_scores
from ..masks import (apply_masks, collapse_report, dense_state_dict, jaccard, jaccard_chance, jaccard_max,
                     masks_from_scores)
from ..models import build_model, prunable_layers
from ..params import Choice, Float, FloatList, Int, validate
from ..sanity import (input_groups, random_labels, random_pixels, sanity_checks, shuffle_within_layers,
                      smart_ratio_masks, informative_inputs)
from ..scores import (class_balanced_batch, grasp_scores, magnitude_scores, random_scores, snip_scores,
                      synflow_masks)
from ..spline import (CODES, activation_codes, channel_masks, keep_from_scores, partition_distance, slimming_scores,
                      spline_scores)
from ..topology import mst_preserving_scores, prunability_bound
from ..meter import step_group
from ..train import StateRecorder, TrainConfig, evaluate, resolve_device, train
from .common import RUNTIME_SCHEMA, dataset_bytes, imp_steps, prunable_count

__all__ = ["SCHEMA", "PROFILES", "CLAIMS", "METHODS", "RETRAINED", "LensContext", "run", "compare",
           "compare_table", "compare_figure", "load_scores_fn", "pair_value", "kappa"]

SCHEMA = {
    "dataset": Choice("mnist5k", ("mnist5k", "mnist", "fashion-mnist", "digits"),
                      help="the same images for both networks (digits: 8x8, for quick tests)"),
    "conv_width": Int(8, 1, 1024, help="channels of the BatchNorm net's first conv (the second has twice as many)"),
    "epochs": Int(8, 2, 1000, help="training epochs of every run (dense, IMP rounds, retraining)"),
    "batch_size": Int(128, 1, 4096),
    "lr": Float(0.05, 0.0, 10.0, low_inclusive=False),
    "prune_fraction": Float(0.6, 0.0, 1.0, low_inclusive=False, high_inclusive=False,
                            help="fraction of the remaining weights IMP removes per round"),
    "rounds": FloatList((2, 4), 1, 50, help="IMP rounds whose sparsities every method is matched to"),
    "window": Int(30, 3, 10_000, help="snapshots (one per step) in each Koopman window"),
    "per_class": Int(10, 1, 1000, help="images per class in the scoring batch of SBP and GraSP"),
    "informative_fraction": Float(0.05, 0.0, 1.0, high_inclusive=False,
                                  help="an input is informative where it is off its most common value in more than "
                                       "this fraction of the training images (the informative-input shuffle)"),
    "synflow_rounds": Int(100, 1, 10_000),
    "seeds": Int(3, 1, 20),
    "seed": Int(0, 0, 10**6),
    **RUNTIME_SCHEMA,
}

PROFILES = {
    # the chapter's defaults: LeNet-300-100 and the BatchNorm conv net on mnist5k, three seeds (the fewest the
    # claims' rule can call robust)
    "default": {},
    # full MNIST for both networks, a wider conv net, three seeds: minutes on a GPU
    "paper": {"dataset": "mnist", "conv_width": 32, "download": True, "epochs": 20, "rounds": (2, 4, 6),
              "window": 100, "seeds": 3, "progress": True},
    # the whole of Fashion-MNIST for both networks, three seeds, the default's 8 epochs per training (LeNet-300-100
    # at lr 0.05 reached 88.0% at epoch 8 in one 25-epoch run here, 88.4-89.2% from epoch 16: 20 epochs would
    # cost 2.5x a run that is already the book's longest)
    "full": {"dataset": "fashion-mnist", "seeds": 3, "progress": True},
}

#: what a smoke run cuts (:mod:`pruning_utils.smoke`): every loop to a few steps, the models and batch kept
SMOKE = {"epochs": 2, "rounds": (1, 2), "window": 3, "synflow_rounds": 2, "per_class": 1, "seeds": 1}

NETWORKS = ("mlp", "conv")
#: methods, in the order of the chapter's tables; ``spline`` only on the BatchNorm net
METHODS = ("gmp", "snip_trained", "kmp_late", "kgp", "kmp_early", "imp", "mst_imp", "sbp", "grasp", "synflow",
           "random", "smart_ratio", "spline")
AT_INIT = ("sbp", "grasp", "synflow")
#: methods retrained from initialisation (the others get one-shot accuracy, overlaps and layer profiles)
RETRAINED = ("gmp", "imp", "sbp", "grasp", "synflow", "random", "smart_ratio")
#: pairs the book's theory says must agree, with the chapter that says why
PREDICTED = {("kmp_late", "gmp"): "01: at convergence the Koopman fixed point is the final weights"}


@dataclass
class LensContext:
    """What a reader's score function sees (:func:`compare`): ``net`` ("mlp" or "conv"), the network at
    initialisation (``init``, train mode) and after dense training (``trained``, eval mode; the same
    architecture), the class-balanced scoring batch ``batch = (x, y)``, the training data and the seed."""

    net: str
    init: nn.Module
    trained: nn.Module
    batch: tuple
    train_data: tuple
    seed: int


def _build(net, info, p, seed, device):
    if net == "mlp":
        return build_model("lenet300100", info["shape"], info["classes"], seed=seed).to(device)
    return build_model("smallconv", info["shape"], info["classes"], seed=seed, width=p["conv_width"]).to(device)


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


def _cost(method, r, spe, total, window):
    """Trainings (of the schedule's length) used to find ``method``'s mask at IMP round ``r``."""
    if method in ("imp", "mst_imp"):
        return float(r)
    if method == "kmp_early":
        return (spe + window) / total
    if method in ("sbp", "grasp", "synflow", "random", "smart_ratio"):
        return 0.0
    return 1.0


def _check_extra(extra):
    if extra is None:
        return {}
    if not isinstance(extra, dict):
        raise ValueError(f"parameter 'scores_fn' is not allowed; expected a function, got {type(extra).__name__}")
    for name, fn in extra.items():
        if not isinstance(name, str) or not name or name in METHODS or "|" in name:
            raise ValueError(f"parameter 'name' = {name!r} is not allowed; expected a non-empty name without '|' "
                             f"that is not one of the book's methods ({', '.join(METHODS)})")
        if not callable(fn):
            raise ValueError(f"parameter 'scores_fn' = {fn!r} is not allowed; expected a function "
                             f"scores_fn(ctx: LensContext) -> {{layer name: tensor}}")
    return extra


def _one_network(net, p, seed, device, extra):
    name = p["dataset"]
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
    xb_pix = random_pixels(xb, seed + 11)
    yb_lab = random_labels(yb, seed + 13, info["classes"])

    # pruning-at-initialisation scores, on the initialisation (train mode, as at the start of training); SBP and
    # GraSP also on the batch with random labels and with random pixels (Su et al.)
    init_scores = {"sbp": snip_scores(model, xb, yb), "grasp": grasp_scores(model, xb, yb),
                   "random": random_scores(model, seed + 3)}
    corrupted = {(m, c): fn(model, xx, yy) for m, fn in (("sbp", snip_scores), ("grasp", grasp_scores))
                 for c, xx, yy in (("random_labels", xb, yb_lab), ("random_pixels", xb_pix, yb))}
    model.zero_grad(set_to_none=True)

    # dense training, recording an early and a late window and (BatchNorm net) the state after every epoch
    trained = _build(net, info, p, seed, device)
    trained.load_state_dict(init_state)
    early = SnapshotRecorder(trained, spe, p["window"])
    late = SnapshotRecorder(trained, total - p["window"] + 1, p["window"])
    states = StateRecorder([e * spe for e in range(p["epochs"] + 1)] if net == "conv" else [])
    # test accuracy after every epoch, to show where training settled (evaluation draws no random numbers)
    hist = train(trained, train_data, cfg.replace(eval_every=1), test_data=test_data, callbacks=[early, late, states])
    if not (early.full and late.full):
        raise RuntimeError(f"a Koopman window was not filled (steps {early.steps[:1]}.., {late.steps[:1]}..)")
    dense_acc = evaluate(trained, test_data)["accuracy"]
    trained.eval()
    scores = {"gmp": magnitude_scores(trained), "snip_trained": snip_scores(trained, xb, yb),
              "kmp_late": late.unflatten(kmp_scores(late.snapshots)), "kgp": late.unflatten(kgp_scores(late.snapshots)),
              "kmp_early": early.unflatten(kmp_scores(early.snapshots)), **init_scores}
    layer_names = list(prunable_layers(model))
    for k, fn in extra.items():
        at_init = _build(net, info, p, seed, device)
        at_init.load_state_dict(init_state)
        sc = fn(LensContext(net=net, init=at_init, trained=copy.deepcopy(trained), batch=(xb, yb),
                            train_data=train_data, seed=seed))
        if not isinstance(sc, dict) or list(sc) != layer_names:
            raise ValueError(f"the scores of {k!r} are not allowed; expected a dict {{layer name: tensor}} with the "
                             f"layers {', '.join(layer_names)} in this order, got "
                             f"{list(sc) if isinstance(sc, dict) else type(sc).__name__}")
        scores[k] = sc
    scores = {k: {n: v.detach().to(device) for n, v in sc.items()} for k, sc in scores.items()}
    corrupted = {k: {n: v.detach().to(device) for n, v in sc.items()} for k, sc in corrupted.items()}
    # the control for late KMP: plain magnitudes of the weights at the late window's first step
    window_start = {n: v.detach().clone().to(device) for n, v in late.unflatten(late.snapshots[0].abs()).items()}
    # informative inputs: the first layer's weights that read a pixel varying in the training set (LeNet only;
    # a convolution's weights read every pixel)
    varying = informative_inputs(train_data[0], p["informative_fraction"])
    first = layer_names[0]

    # IMP and MST-preserving IMP, rewinding to the initialisation
    icfg = IMPConfig(rounds=int(max(p["rounds"])), prune_fraction=p["prune_fraction"], scope="global", rewind_step=0)
    imp = run_imp(_build(net, info, p, seed, device), train_data, test_data, cfg, icfg)
    targets = imp_sparsities(icfg.rounds, icfg.prune_fraction)
    # MST-preserving IMP only up to the prunability bound (past it no mask keeps the whole tree)
    bound = prunability_bound(model)
    mst_rounds = max([r for r in range(icfg.rounds + 1) if targets[r] <= bound])
    mst = run_imp(_build(net, info, p, seed, device), train_data, test_data, cfg, icfg.replace(rounds=mst_rounds),
                  scores_fn=mst_preserving_scores) if mst_rounds > 0 else {"masks": []}

    retrained = RETRAINED + tuple(extra)
    s_top = max(targets[int(x)] for x in p["rounds"])
    out = {"dense_accuracy": dense_acc, "dense_curve": {"epoch": hist["epoch"], "test_accuracy": hist["test_accuracy"]}, "sparsities": [], "methods": {}, "jaccard": {}, "chance": {}, "best": {},
           "informative_inputs": int(varying.sum()), "inputs": int(varying.numel())}
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
        masks["smart_ratio"] = smart_ratio_masks(masks["gmp"], s, seed + 5)
        if net == "conv":
            n_total = sum(m.numel() for m in masks["gmp"].values())
            masks["spline"] = _matched_spline(trained, spline_scores(trained), round((1 - s) * n_total))
        for k in extra:
            masks[k] = masks_from_scores(scores[k], s)
        for k, mk in masks.items():
            probe = _build(net, info, p, seed, device)
            probe.load_state_dict(dense_state_dict(trained))
            apply_masks(probe, mk)
            n_kept = sum(int(m.sum()) for m in mk.values())
            rep, rep_shuffled = collapse_report(mk), collapse_report(shuffle_within_layers(mk, seed + 7))
            entry = {"kept": n_kept, "sparsity": 1 - n_kept / sum(m.numel() for m in mk.values()),
                     "kept_per_layer": [float(m.float().mean()) for m in mk.values()],
                     "passes_signal": rep["passes_signal"],
                     # hidden units joined to the input by kept weights, as they are and shuffled (same seed)
                     "reachable_units": _reachable(rep), "reachable_units_shuffled": _reachable(rep_shuffled),
                     "oneshot_accuracy": evaluate(probe, test_data)["accuracy"],
                     "cost_trainings": _cost(k, r, spe, total, p["window"]),
                     "sanity": {}}
            if k in retrained:
                checks = ("original",)
                if s == s_top and k not in ("random", "smart_ratio"):   # shuffling a random mask changes nothing
                    checks += ("shuffle",) + (("shuffle_informative",) if net == "mlp" else ())
                    if k in ("gmp", "imp", "sbp") or k in extra:
                        checks += ("reinit",)
                    if k in scores or k == "synflow":
                        checks += ("invert",)
                inverted = (synflow_masks(_build(net, info, p, seed, device), info["shape"], s,
                                          rounds=p["synflow_rounds"], invert=True)
                            if k == "synflow" and "invert" in checks else None)
                san = sanity_checks(_build(net, info, p, seed, device), init_state, mk, train_data, test_data, cfg,
                                    scores=scores.get(k), reinit_state=reinit_state, seed=seed + 7, checks=checks,
                                    groups=input_groups(mk, first, varying) if net == "mlp" else None,
                                    inverted=inverted)
                entry["sanity"] = {c: {"test_accuracy": v["test_accuracy"], "best_accuracy": v["best_accuracy"]}
                                   for c, v in san.items()}
                if s == s_top and (k, "random_labels") in corrupted:
                    for c in ("random_labels", "random_pixels"):
                        mc = masks_from_scores(corrupted[(k, c)], s)
                        v = sanity_checks(_build(net, info, p, seed, device), init_state, mc, train_data, test_data,
                                          cfg, checks=("original",))["original"]
                        entry["sanity"][c] = {"test_accuracy": v["test_accuracy"], "best_accuracy": v["best_accuracy"],
                                              "jaccard_with_original": jaccard(mc, mk)}
            out["methods"].setdefault(k, {})[str(s)] = entry
        pairs = list(itertools.combinations(masks, 2))
        out["jaccard"][str(s)] = {f"{a}|{b}": jaccard(masks[a], masks[b]) for a, b in pairs}
        out["chance"][str(s)] = {f"{a}|{b}": jaccard_chance(masks[a], masks[b]) for a, b in pairs}
        out["best"][str(s)] = {f"{a}|{b}": jaccard_max(masks[a], masks[b]) for a, b in pairs}
        ws = masks_from_scores(window_start, s)
        out["jaccard"][str(s)]["gmp|gmp_window_start"] = jaccard(masks["gmp"], ws)
        out["chance"][str(s)]["gmp|gmp_window_start"] = jaccard_chance(masks["gmp"], ws)
        out["best"][str(s)]["gmp|gmp_window_start"] = jaccard_max(masks["gmp"], ws)
    out["layers"] = layer_names

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


#: each network's name for its training steps (:class:`pruning_utils.meter.step_group`)
NETWORK_NAMES = {"mlp": "LeNet-300-100", "conv": "BatchNorm conv net (smallconv)"}


def _model_args(net, p):
    return ("lenet300100", {}) if net == "mlp" else ("smallconv", {"width": p["conv_width"]})


def _checks_trained(net, k, at_top, extra_names=()) -> int:
    """Trainings :func:`_one_network` runs for method ``k`` at one sparsity (``at_top``: the highest): the
    original mask, and at the highest its sanity checks and Su et al.'s corrupted-data masks."""
    if k not in RETRAINED + tuple(extra_names):
        return 0
    n = 1
    if at_top and k not in ("random", "smart_ratio"):
        scored = ("gmp", "snip_trained", "kmp_late", "kgp", "kmp_early", "sbp", "grasp", "random", "synflow")
        n += 1 + (net == "mlp") + (k in ("gmp", "imp", "sbp") or k in extra_names) + (k in scored or k in extra_names)
    if at_top and k in AT_INIT and k != "synflow":
        n += 2
    return n


def training_steps(p: dict, sizes) -> dict:
    """Optimizer steps of ``run(**p)`` (``p`` validated; ``sizes(dataset)``: its training and test images) per
    network, all seeds: the dense training, IMP, MST-preserving IMP up to the prunability bound, and every
    retrained mask with its sanity checks (each of the schedule's length). A smoke run checks the counts
    against the steps it made; the projection multiplies each by its network's time per step."""
    n = sizes(p["dataset"])[0]
    total = p["epochs"] * (n // min(p["batch_size"], n))
    info = dataset_info(p["dataset"])
    rounds = [int(r) for r in p["rounds"]]
    targets = imp_sparsities(max(rounds), p["prune_fraction"])
    s_top = max(targets[r] for r in rounds)
    out = {}
    for net in NETWORKS:
        name, kw = _model_args(net, p)
        bound = prunability_bound(build_model(name, info["shape"], info["classes"], **kw))
        mst_rounds = max(r for r in range(max(rounds) + 1) if targets[r] <= bound)
        trainings = 1                                    # the dense run; IMP's and MST-IMP's below
        for r in rounds:
            methods = [m for m in METHODS if m != "spline" or net == "conv"]
            methods = [m for m in methods if m != "mst_imp" or (mst_rounds > 0 and r <= mst_rounds)]
            trainings += sum(_checks_trained(net, k, targets[r] == s_top) for k in methods)
        steps = trainings * total + imp_steps(total, max(rounds)) + (imp_steps(total, mst_rounds) if mst_rounds else 0)
        out[NETWORK_NAMES[net]] = p["seeds"] * steps
    return out


def memory_structures(p: dict, sizes) -> dict:
    """Bytes of the run's largest structures: the dataset on the device, the two Koopman windows (early and
    late, allocated together, float32) of the larger network, and the conv net's activation codes of the test
    set (the trained network's and one epoch's at a time, packed)."""
    from ..spline import code_bytes_per_input
    info = dataset_info(p["dataset"])
    weights = {}
    for net in NETWORKS:
        name, kw = _model_args(net, p)
        weights[net] = prunable_count(name, info["shape"], info["classes"], **kw)
    name, kw = _model_args("conv", p)
    per_input = code_bytes_per_input(build_model(name, info["shape"], info["classes"], **kw), info["shape"])
    windows = 2 * p["window"] * 4 * max(weights.values())
    codes = 2 * sizes(p["dataset"])[1] * per_input
    return {HELD: dataset_bytes(p["dataset"], sizes), SNAPSHOTS: windows, CODES: codes}


def _run(p, extra):
    t0 = time.perf_counter()
    device = resolve_device(p["device"])
    if max(p["rounds"]) != int(max(p["rounds"])) or any(r != int(r) for r in p["rounds"]):
        raise ValueError(f"parameter 'rounds' = {list(p['rounds'])!r} is not allowed; expected whole rounds")
    out = {"networks": {}}
    for net in NETWORKS:
        out["networks"][net] = {"per_seed": []}
        for i in range(p["seeds"]):
            seed = p["seed"] + i
            with step_group(NETWORK_NAMES[net]):
                row = _one_network(net, p, seed, device, extra)
            row["seed"] = seed
            out["networks"][net]["per_seed"].append(row)
    out.update({"params": p, "device": str(device), "wall_time_s": time.perf_counter() - t0})
    if extra:
        out["extra_methods"] = list(extra)
    return out


def run(**params) -> dict:
    """Chapter 06's experiment (the module's description) with ``params`` validated against ``SCHEMA``: both
    networks, every seed, every method of the book; ``CLAIMS`` read the result."""
    return _run(validate(params, SCHEMA), {})


def compare(scores_fn: Callable[[LensContext], dict], name: str = "yours", **params) -> dict:
    """Your own pruning score through the same pipeline as the book's methods, at the same matched sparsities.

    ``scores_fn(ctx)`` gets a :class:`LensContext` (the network at initialisation and trained, the scoring
    batch, the training data, the seed) and returns ``{layer name: tensor}`` for every prunable layer, in the
    order of :func:`pruning_utils.models.prunable_layers`, higher = keep (one global threshold makes the mask).
    It is called once per network and seed, after dense training. ``params`` are this experiment's (``SCHEMA``).
    The result is :func:`pruning_utils.experiments.lenses.run`'s with the method ``name`` added: its masks, Jaccard indices against every method
    with their chance and best-possible levels, one-shot and retrained accuracy, layer-wise profile and every
    sanity check (shuffle, shuffle among informative inputs, reinit, invert). Read it with
    :func:`compare_table` and :func:`compare_figure`; the claims ignore it.
    """
    if not callable(scores_fn):
        raise ValueError(f"parameter 'scores_fn' = {scores_fn!r} is not allowed; expected a function "
                         f"scores_fn(ctx: LensContext) -> {{layer name: tensor}}")
    return _run(validate(params, SCHEMA), _check_extra({name: scores_fn}))


def load_scores_fn(spec: str):
    """``"module:function"`` -> the function (the CLI's ``--scores``); a clear error where either is missing."""
    if not isinstance(spec, str) or spec.count(":") != 1 or not all(spec.split(":")):
        raise ValueError(f"parameter 'scores' = {spec!r} is not allowed; expected 'module:function', e.g. "
                         f"'my_scores:movement' for a function movement in my_scores.py")
    mod, fn = spec.split(":")
    try:
        module = importlib.import_module(mod)
    except ImportError as e:
        raise ValueError(f"parameter 'scores' = {spec!r}: cannot import module {mod!r} ({e}); run from the folder "
                         f"that holds it or put it on PYTHONPATH") from None
    if not callable(getattr(module, fn, None)):
        raise ValueError(f"parameter 'scores' = {spec!r}: module {mod!r} has no function {fn!r}")
    return getattr(module, fn)


def pair_value(row, s, a, b, key):
    """One seed's ``key`` ("jaccard", "chance" or "best") for methods ``a`` and ``b`` at sparsity ``s``, in either
    order (``None`` where the pair was not measured)."""
    d = row[key][str(s)]
    return d.get(f"{a}|{b}", d.get(f"{b}|{a}"))


def kappa(rows, s, a, b, against: str = "best") -> float:
    """Mean over the seeds ``rows`` of the excess overlap over chance of ``a`` and ``b`` at sparsity ``s``:
    ``(J - chance) / (best - chance)`` (1 = as close as the per-layer counts allow), or ``/ (1 - chance)`` with
    ``against="one"``; ``nan`` where the counts leave no room above chance."""
    vals = []
    for r in rows:
        j, c, top = (pair_value(r, s, a, b, k) for k in ("jaccard", "chance", "best"))
        room = (top if against == "best" else 1.0) - c
        vals.append((j - c) / room if room > 1e-12 else float("nan"))
    return float(np.mean(vals))


def compare_table(result: dict, name: str) -> str:
    """One table per network of method ``name`` (added by :func:`compare`) against every other: per matched
    sparsity, the Jaccard index with chance and best-possible levels and ``kappa = (J - chance) / (best -
    chance)`` (1 = as close as the counts allow; mean over seeds, :func:`pruning_utils.experiments.lenses.kappa`); then its one-shot and retrained accuracy with every sanity
    check beside GMP's, IMP's and SBP's, the cost in trainings, and its layer-wise kept fractions. Means over
    seeds."""
    if name not in result.get("extra_methods", []):
        raise ValueError(f"parameter 'name' = {name!r} is not allowed; expected a method added by compare(): "
                         f"{', '.join(result.get('extra_methods', [])) or 'none in this result'}")
    lines = []
    for net, d in result["networks"].items():
        rows = d["per_seed"]
        lines.append(f"{net} ({len(rows)} seed{'s' * (len(rows) > 1)}), method {name!r}")
        others = [m for m in (*METHODS, *result["extra_methods"]) if m != name and m in rows[0]["methods"]]
        for s in rows[0]["sparsities"]:
            lines.append(f"  sparsity {100 * s:.2f}%: {'against':14s}{'Jaccard':>9s}{'chance':>8s}{'best':>7s}{'kappa':>7s}")
            for m in others:
                if str(s) not in rows[0]["methods"][m]:
                    continue
                j, c, b = (np.mean([pair_value(r, s, name, m, k) for r in rows]) for k in ("jaccard", "chance", "best"))
                lines.append(f"    {'':14s}{m:14s}{j:9.3f}{c:8.3f}{b:7.3f}{kappa(rows, s, name, m):7.2f}")
        checks = ("original", "shuffle", "shuffle_informative", "reinit", "invert")
        heads = ("one shot", "original", "shuffle", "informative", "reinit", "invert")
        lines.append(f"  accuracy (mean over seeds){'':5s}" + "".join(f"{c:>12s}" for c in heads) + f"{'cost':>7s}")
        for s in rows[0]["sparsities"]:
            for m in (name, "gmp", "imp", "sbp"):
                e = [r["methods"][m][str(s)] for r in rows]
                vals = [np.mean([x["oneshot_accuracy"] for x in e])]
                vals += [np.mean([x["sanity"][c]["test_accuracy"] for x in e]) if c in e[0]["sanity"] else None
                         for c in checks]
                lines.append(f"    {100 * s:6.2f}% {m:22s}" + "".join(f"{v:12.3f}" if v is not None else f"{'-':>12s}"
                                                                    for v in vals)
                             + f"{np.mean([x['cost_trainings'] for x in e]):7.2f}")
        s = rows[0]["sparsities"][-1]
        kept = np.mean([r["methods"][name][str(s)]["kept_per_layer"] for r in rows], 0)
        lines.append(f"  kept per layer at {100 * s:.2f}%: " + ", ".join(f"{n} {k:.4f}" for n, k in zip(rows[0]["layers"], kept)))
    return "\n".join(lines)


def compare_figure(result: dict, name: str):
    """A figure of method ``name`` (added by :func:`compare`): kappa against every method at the highest matched
    sparsity, and retrained accuracy under each sanity check beside GMP, IMP and SBP, one row per network."""
    import matplotlib.pyplot as plt
    compare_table(result, name)          # the same check of ``name``
    fig, axes = plt.subplots(len(result["networks"]), 2, figsize=(13, 3.6 * len(result["networks"])), squeeze=False)
    checks = ("original", "shuffle", "shuffle_informative", "reinit", "invert")
    for i, (net, d) in enumerate(result["networks"].items()):
        rows = d["per_seed"]
        s = rows[0]["sparsities"][-1]
        others = [m for m in (*METHODS, *result["extra_methods"]) if m != name and str(s) in rows[0]["methods"].get(m, {})]
        axes[i, 0].bar(range(len(others)), [kappa(rows, s, name, m) for m in others], color="#1b6ca8")
        axes[i, 0].set_xticks(range(len(others)), others, rotation=60, ha="right", fontsize=8)
        axes[i, 0].set_ylabel(r"$\kappa$ against the best the counts allow")
        axes[i, 0].set_title(f"{net}: {name} against every method, {100 * s:.2f}%")
        ms = [name, "gmp", "imp", "sbp"]
        width = 0.8 / len(checks)
        for k, c in enumerate(checks):
            vals = [np.mean([r["methods"][m][str(s)]["sanity"][c]["test_accuracy"] for r in rows])
                    if c in rows[0]["methods"][m][str(s)]["sanity"] else np.nan for m in ms]
            axes[i, 1].bar(np.arange(len(ms)) + k * width, [100 * v for v in vals], width, label=c)
        axes[i, 1].set_xticks(np.arange(len(ms)) + 0.4 - width / 2, ms)
        axes[i, 1].set_ylabel("retrained test accuracy (%)")
        axes[i, 1].set_ylim(0, 100)
        axes[i, 1].legend(fontsize=7, ncol=3)
    fig.tight_layout()
    return fig


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


def _top(row):
    return str(row["sparsities"][-1])


def _acc(row, method, check):
    return row["methods"][method][_top(row)]["sanity"][check]["test_accuracy"]


#: how many points a change to a mask may cost and still count as "no change": 5 points
NO_CHANGE = 0.05


def _gap_stats(r, nets, methods, check, what):
    """Per network and method: original minus ``check``'s retrained accuracy at the highest matched sparsity
    (per seed), against the 5-point bar (a claim that the change costs less)."""
    stats = []
    for net in nets:
        rows = r["networks"][net]["per_seed"]
        for m in methods:
            g = [_acc(row, m, "original") - _acc(row, m, check) for row in rows]
            stats.append(Statistic(f"{net}, {m}: original minus {what}, highest matched sparsity", g, NO_CHANGE,
                                   above=False, over="mean"))
    return stats


def _imp_shuffled_in_place(check, methods):
    """The control of a claim that ``check`` costs ``methods`` less than 5 points: IMP's own gap under a
    layer-wise shuffle (``check="shuffle"``) or the given shuffle, in each method's place. If that too is under
    5 points, no change of mask costs anything visible at this sparsity and the claim's test has no power."""
    def swap(r):
        out = copy.deepcopy(r)
        for d in out["networks"].values():
            for row in d["per_seed"]:
                imp = row["methods"]["imp"][_top(row)]["sanity"]
                ctl = check if check in imp else "shuffle"
                for m in methods:
                    san = row["methods"][m][_top(row)]["sanity"]
                    san["original"] = copy.deepcopy(imp["original"])
                    for c in ("shuffle", "shuffle_informative", "random_labels", "random_pixels"):
                        if c in san:
                            san[c] = {**san[c], "test_accuracy": imp[ctl]["test_accuracy"],
                                      "best_accuracy": imp[ctl]["best_accuracy"]}
        return out
    return swap


def _pai_shuffle(net):
    return lambda r: _gap_stats(r, (net,), AT_INIT, "shuffle", "shuffled within layers")


def _pai_shuffle_informative(r):
    return _gap_stats(r, ("mlp",), AT_INIT, "shuffle_informative", "shuffled among informative inputs")


def _corrupted_data(r):
    stats = []
    for c, what in (("random_labels", "scored with random labels"), ("random_pixels", "scored on random pixels")):
        stats += _gap_stats(r, NETWORKS, ("sbp", "grasp"), c, what)
    nums = {f"{net}, seed {row['seed']}: Jaccard of SBP/GraSP masks scored on random labels, random pixels with the "
            f"real batch's": [row["methods"][m][_top(row)]["sanity"][c]["jaccard_with_original"]
                              for m in ("sbp", "grasp") for c in ("random_labels", "random_pixels")]
            for net, row in _rows(r)}
    return stats, nums


def _smart_ratio(r, net):
    rows = r["networks"][net]["per_seed"]
    g = [_acc(row, "smart_ratio", "original") - np.mean([_acc(row, m, "original") for m in AT_INIT]) for row in rows]
    stats = [Statistic(f"{net}: smart-ratio random ticket minus the mean of SBP, GraSP, SynFlow, retrained, "
                       f"highest matched sparsity", g, -NO_CHANGE, over="mean")]
    nums = {f"{net}, seed {row['seed']}: kept per layer, smart ratio, uniform random":
            [row["methods"]["smart_ratio"][_top(row)]["kept_per_layer"],
             row["methods"]["random"][_top(row)]["kept_per_layer"]] for row in rows}
    return stats, nums


def _uniform_for_smart(r):
    out = copy.deepcopy(r)
    for _, row in _rows(out):
        row["methods"]["smart_ratio"][_top(row)]["sanity"]["original"] = \
            copy.deepcopy(row["methods"]["random"][_top(row)]["sanity"]["original"])
    return out


def _early_bird(r):
    lift, nums = [], {}
    for row in r["networks"]["conv"]["per_seed"]:
        e = row["early_bird"]
        q = (len(e["epoch"]) - 1) // 4   # a quarter of training
        j, c = e["channel_jaccard"][q], e["channel_chance"][q]
        nums[f"seed {row['seed']}, epoch {e['epoch'][q]}: channel Jaccard, chance"] = [j, c]
        lift.append(j - c)
    return [Statistic("channel Jaccard a quarter through training minus chance", lift, 0.3)], nums


def _epoch0_for_quarter(r):
    """The result with the quarter-way channel mask's overlap replaced by that of the mask at initialisation."""
    out = copy.deepcopy(r)
    for row in out["networks"]["conv"]["per_seed"]:
        e = row["early_bird"]
        q = (len(e["epoch"]) - 1) // 4
        e["channel_jaccard"][q], e["channel_chance"][q] = e["channel_jaccard"][0], e["channel_chance"][0]
    return out


_IMP_CONTROL = ("IMP's mask shuffled, in each method's place",
                "IMP's mask, which carries what training found, shuffled the same way: if shuffling it also cost "
                "less than five points, no change of mask would show at this sparsity and the check could not fail")

_UNIFORM = ("Random masks with about the same fraction in every layer (one global threshold on random scores) in "
            "the smart ratio's place: if they also came within five points, the layer ratios would not be what "
            "matches")

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
          "Frankle et al.'s finding on LeNet-300-100 (mnist5k, the chapter's training length): at the highest "
          "matched sparsity, shuffling the masks of SBP, GraSP and SynFlow within each layer costs each less than "
          "5 points of retrained accuracy (mean over seeds)",
          "frankle2021missing", _pai_shuffle("mlp"),
          control=Control(_IMP_CONTROL[0], _IMP_CONTROL[1], _imp_shuffled_in_place("shuffle", AT_INIT))),
    Claim("pai_shuffle_informative_mlp",
          "On LeNet-300-100, shuffled only among the first layer's weights that read informative pixels (off "
          "the background in more than 5% of the training images; the others among themselves), the masks of SBP, GraSP and SynFlow retrain "
          "to less than 5 points below the originals at the highest matched sparsity (each, mean over seeds)",
          "frankle2021missing", _pai_shuffle_informative,
          control=Control("IMP's mask shuffled the same way, in each method's place", _IMP_CONTROL[1],
                          _imp_shuffled_in_place("shuffle_informative", AT_INIT))),
    Claim("pai_shuffle_conv",
          "Frankle et al.'s finding on the BatchNorm conv net (the same data): at the highest matched sparsity, "
          "shuffling the masks of SBP, GraSP and SynFlow within each layer costs each less than 5 points of "
          "retrained accuracy (mean over seeds)",
          "frankle2021missing", _pai_shuffle("conv"),
          control=Control(_IMP_CONTROL[0], _IMP_CONTROL[1], _imp_shuffled_in_place("shuffle", AT_INIT))),
    Claim("pai_ignores_corrupted_data",
          "Su et al.'s finding, on both networks: SBP and GraSP scored on the batch with random labels, and on the "
          "batch with each image's pixels randomly permuted, give masks that retrain to less than 5 points below "
          "those scored on the real batch at the highest matched sparsity (each, mean over seeds)",
          "su2020sanity", _corrupted_data,
          control=Control(_IMP_CONTROL[0], _IMP_CONTROL[1], _imp_shuffled_in_place("shuffle", ("sbp", "grasp")))),
    Claim("smart_ratio_mlp",
          "Su et al.'s finding on LeNet-300-100: random tickets with smart ratios retrain to at most 5 points below "
          "the mean of SBP, GraSP and SynFlow at the highest matched sparsity (mean over seeds)",
          "su2020sanity", lambda r: _smart_ratio(r, "mlp"),
          control=Control("uniform random masks", _UNIFORM, _uniform_for_smart)),
    Claim("smart_ratio_conv",
          "Su et al.'s finding on the BatchNorm conv net: random tickets with smart ratios retrain to at most 5 points "
          "below the mean of SBP, GraSP and SynFlow at the highest matched sparsity (mean over seeds)",
          "su2020sanity", lambda r: _smart_ratio(r, "conv"),
          control=Control("uniform random masks", _UNIFORM, _uniform_for_smart)),
    Claim("early_bird_channels_settle",
          "Chapter 02's prediction: on the BatchNorm net, the channel mask from the BatchNorm scales a quarter of "
          "the way through training overlaps the final one by more than chance plus three tenths in Jaccard index, "
          "every seed",
          "you2020drawing", _early_bird,
          control=Control("the mask at initialisation",
                          "The channel mask of the untrained network (its BatchNorm scales all start at one, so the "
                          "ranking is the layer's order) in the quarter-way mask's place: if it overlapped the final "
                          "mask as much, the final mask would not have been found by training",
                          _epoch0_for_quarter)),
]
