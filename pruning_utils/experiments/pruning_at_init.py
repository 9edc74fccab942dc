"""Chapter 04: robust pruning at initialization, the edge of chaos (Hayou, Ton, Doucet, Teh, ICLR 2021).

Six measurements, each cheap at the default scale:

1. ``eoc``: the edge of chaos solved for tanh and ELU at ``sigma_b`` and for
   ReLU (:func:`pruning_utils.eoc.edge_of_chaos`), with ``chi`` at the
   authors' hard-coded values.
2. ``propagation``: the measured pre-activation variance through deep MLPs
   (tanh at the edge of chaos and in the ordered phase, ReLU at the edge of
   chaos) against the variance map iterated from the first layer's value.
3. ``collapse``: SBP (SNIP scores ``|w dL/dw|`` on a class-balanced batch, one
   global threshold, last layer included) on tanh MLPs of each depth in
   ``depths``, at three initialisations: the edge of chaos, a far-ordered
   point (``ordered_sigma_w``, ``ordered_sigma_b``) and a chaotic one
   (``chaotic_chi`` at ``sigma_b``): at each of ``sparsities``, whether a path
   of kept weights still joins input to output
   (:func:`pruning_utils.masks.collapse_report`) and how many layers kept
   nothing, and (bisection on the kept count) the smallest kept fraction
   that still leaves a path. ``sweep``: the same at ``sweep_depth`` across
   ``chi_sweep`` (``sigma_w`` solved for each ``chi`` at ``sigma_b``) and the
   edge.
4. ``rescale``: deep ReLU MLPs at the edge of chaos pruned at
   ``rescale_sparsity`` by random masks and by SBP masks, over
   ``variance_draws`` independent networks: the forward variance of the last
   layer relative to the dense network on isotropic Gaussian inputs, as a
   gain per layer (geometric mean over draws), without rescaling, rescaled to
   ``sigma_w^2`` and to the authors' 4; how far ReLU acts as the identity on
   the units that feed kept weights; then the first draw's masks trained with and
   without rescaling for ``epochs``. ``rescale_conv``: the trick where the
   paper uses it, on a conv net with BatchNorm (``smallconv``, ReLU edge of
   chaos): SBP's masks at ``conv_sparsity`` trained unrescaled, unrescaled
   under another data order (the control), rescaled in every layer (the
   authors' practice, the classifier included) and rescaled in the
   convolutions only; and how far BatchNorm cancels the rescaling's constant
   (the features with slices rescaled to ``c / k^2``, this library's and the
   authors' GraSP.py, against ``c = 4`` per slice, their SNIP.py).
5. ``resnet``: per-block gradient norms of ResNet against Stable ResNet at
   initialisation, at each depth of ``resnet_depths`` (random images and
   labels: a property of the initialisation, not of data), and SBP's
   layer-wise kept fractions on both at ``resnet_sparsity`` (the dataset's
   images resized to 32 x 32, three channels).
6. ``methods``: SBP, GraSP, SynFlow (100 rounds), magnitude and random pruning
   of one EOC-initialised tanh MLP at each of ``method_sparsities``,
   rescaled, and SBP without rescaling, each trained for ``epochs``: best and
   final test accuracy.

``CLAIMS`` turn the result into verdicts.
"""

from __future__ import annotations

import copy
import math
import time

import numpy as np
import torch
from pathlib import Path

from torch import nn

from .. import eoc
from ..claims import Claim, Control, Statistic
from ..masks import apply_masks, collapse_report, masks_from_scores
from ..models import MODELS, build_model, prunable_layers
from ..data import HELD, dataset_info, load_dataset
from ..meter import step_group
from ..params import Choice, Float, FloatList, Int, Str, validate
from ..store import ResultStore
from ..scores import (class_balanced_batch, grasp_scores, magnitude_scores, random_scores, snip_scores,
                      synflow_masks)
from ..train import TrainConfig, train
from .common import RUNTIME_SCHEMA, dataset_bytes, load_data, swap_seeds

SCHEMA = {
    "dataset": Choice("mnist5k", ("mnist5k", "digits", "mnist", "fashion-mnist")),
    "width": Int(100, 2, 100_000, help="hidden width of every MLP"),
    "depths": FloatList((5, 10, 20, 40, 60), 1, 1000, help="hidden layers of the collapse experiment"),
    "sparsities": FloatList((0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995), 0.0, 1.0, high_inclusive=False),
    "sigma_b": Float(0.2, 0.0, 10.0, help="bias scale of the tanh edge of chaos"),
    "ordered_sigma_w": Float(1.0, 0.0, 10.0, low_inclusive=False),
    "ordered_sigma_b": Float(1.0, 0.0, 10.0),
    "chaotic_chi": Float(1.15, 1.0, 10.0, low_inclusive=False,
                         help="chi of the chaotic point of the collapse experiment (tanh at sigma_b)"),
    "chi_sweep": FloatList((0.4, 0.7, 0.9, 1.1, 1.3), 0.05, 10.0,
                           help="chi of the off-edge points of the collapse sweep (tanh at sigma_b; 1 is the edge)"),
    "sweep_depth": Int(60, 1, 1000, help="hidden layers of the collapse sweep across chi"),
    "propagation_depth": Int(50, 1, 10_000),
    "rescale_depth": Int(20, 1, 1000),
    "rescale_sparsity": Float(0.9, 0.0, 1.0, low_inclusive=False, high_inclusive=False),
    "variance_draws": Int(16, 1, 10_000, help="independent networks and masks for the variance gain"),
    "conv_width": Int(8, 1, 1024, help="channels of the first convolution of the BatchNorm conv net (smallconv)"),
    "conv_sparsity": Float(0.98, 0.0, 1.0, low_inclusive=False, high_inclusive=False,
                           help="sparsity of SBP's masks on the BatchNorm conv net"),
    "method_depth": Int(10, 1, 1000),
    "method_sparsities": FloatList((0.9, 0.98), 0.0, 1.0, low_inclusive=False, high_inclusive=False),
    "synflow_rounds": Int(100, 1, 10_000),
    "resnet_depths": FloatList((20, 56), 20, 56, help="ResNet depths for the gradient-norm test: 20, 32 or 56"),
    "resnet_sparsity": Float(0.9, 0.0, 1.0, low_inclusive=False, high_inclusive=False),
    "per_class": Int(10, 1, 1000, help="images per class in the scoring batch"),
    "cifar_model": Choice("none", ("none", "resnet20", "resnet32", "resnet56", "resnet110"),
                          help="the ResNet of the CIFAR comparison (none: skip it)"),
    "cifar_dataset": Choice("cifar10", ("cifar10", "cifar100")),
    "cifar_width": Int(32, 1, 1024, help="channels of the first ResNet stage (the paper's ResNet-32: 32, 64, 128)"),
    "cifar_sparsities": FloatList((0.9, 0.95, 0.98), 0.0, 1.0, low_inclusive=False, high_inclusive=False),
    "cifar_epochs": Int(160, 1, 10_000),
    "cifar_batch_size": Int(128, 1, 100_000),
    "cifar_lr": Float(0.1, 0.0, 10.0, low_inclusive=False),
    "cifar_weight_decay": Float(1e-4, 0.0, 1.0),
    "run_dir": Str(None, allow_none=True, help="folder for the CIFAR runs' results; rerun resumes"),
    "epochs": Int(5, 1, 1000),
    "lr": Float(0.05, 0.0, 10.0, low_inclusive=False),
    "seeds": Int(3, 1, 20),
    "seed": Int(0, 0, 10**6),
    **RUNTIME_SCHEMA,
}

PROFILES = {
    "default": {},
    # the MLP experiments at the depth and width of the paper's figures, on full MNIST; the paper's
    # ResNet-32/50 CIFAR tables need CIFAR training, which this experiment does not run (see the chapter)
    "paper": {"dataset": "mnist", "download": True, "width": 512, "depths": (10, 25, 50, 100),
              "rescale_depth": 50, "method_depth": 20, "method_sparsities": (0.9, 0.95, 0.98),
              "resnet_depths": (20, 32, 56), "epochs": 20, "seeds": 3, "progress": True},
    # the paper's CIFAR-10 protocol on ResNet-32 (stage widths 32/64/128): 19 trainings of 160 epochs per seed
    "paper_resnet32": {"cifar_model": "resnet32", "cifar_width": 32, "cifar_dataset": "cifar10", "download": True,
                       "cifar_sparsities": (0.9, 0.95, 0.98), "cifar_epochs": 160, "seeds": 1, "progress": True},
    # the whole of Fashion-MNIST (offline, Debian's package) for the MLP and conv settings at the default sizes,
    # 10 epochs (twice the default's), three seeds
    "full": {"dataset": "fashion-mnist", "epochs": 10, "progress": True},
}

#: the MLP trainings' batch size (fixed in :func:`train_config`): a smoke run's stand-in data holds two of them
SMOKE_MIN_BATCH = 128


def SMOKE(p):
    """What a smoke run cuts (:mod:`pruning_utils.smoke`): the smallest depth of each grid, two sparsities, two
    epochs, one seed, one variance draw, two SynFlow rounds; widths, models and batch sizes kept."""
    d = min(p["depths"])
    return {"depths": (d,), "sweep_depth": int(d), "chi_sweep": (min(p["chi_sweep"]),), "sparsities": (0.9, 0.99),
            "variance_draws": 1, "method_sparsities": (max(p["method_sparsities"]),), "synflow_rounds": 2,
            "resnet_depths": (min(p["resnet_depths"]),), "cifar_sparsities": (min(p["cifar_sparsities"]),),
            "cifar_epochs": 2, "epochs": 2, "per_class": 1, "seeds": 1}

METHODS = ("sbp", "grasp", "synflow", "magnitude", "random")
CIFAR_METHODS = ("dense", "sbp", "sbp_sr", "grasp", "synflow", "magnitude", "random")


def _mlp(info, depth, width, activation, seed, device):
    return build_model("mlp", info["shape"], info["classes"], seed=seed, hidden=(width,) * depth,
                       activation=activation).to(device)


def _preactivation_variances(net, x):
    """Variance of every Linear layer's output (pre-activation) over the batch and units."""
    out, h = [], x.flatten(1)
    with torch.no_grad():
        for m in net:
            h = m(h)
            if isinstance(m, nn.Linear):
                out.append(float(h.var()))
    return out


def _log_variances(net, x):
    """Natural log of every Linear layer's output variance, for a bias-free ReLU network.

    Such a network is positively homogeneous, so each layer's output can be
    divided by its own standard deviation before the next layer and the logs
    added up: exact, where the variances themselves would underflow (a pruned,
    unrescaled 50-layer network loses a factor of ten per layer). ``-inf`` once
    a layer's output is exactly zero.
    """
    lin = [m for m in net if isinstance(m, nn.Linear)]
    if any(m.bias is not None and bool(m.bias.detach().abs().max() > 0) for m in lin):
        raise ValueError("_log_variances needs a bias-free network (every bias zero)")
    out, h, s = [], x.flatten(1).double(), 0.0
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                w = m.weight.double()
                h = h @ w.t()
                v = float(h.var())
                if v == 0.0:
                    return out + [-math.inf] * (len(lin) - len(out))
                out.append(math.log(v) + s)
                h, s = h / math.sqrt(v), s + math.log(v)
            else:
                h = m(h)
    return out


def _theory_variances(activation, sigma_w, sigma_b, q0, depth):
    q, out = q0, [q0]
    for _ in range(depth - 1):
        q = eoc.variance_map(activation, sigma_w, sigma_b, q)
        out.append(q)
    return out


def _identity_share(net, masks, x):
    """Per hidden layer ``l``: ``sum_j a_j E[relu(h_j)^2] / sum_j a_j E[h_j^2]`` with ``a_j`` the squared norm of
    unit ``j``'s kept outgoing weights (what the next layer's variance is made of).

    ``1/2`` when the units feeding the next layer are typical (symmetric
    pre-activations), ``1`` when ReLU passes them as the identity (always active).
    """
    lin = [m for m in net if isinstance(m, nn.Linear)]
    out, h = [], x.flatten(1)
    with torch.no_grad():
        for k, m in enumerate(lin[:-1]):
            h = m(h)
            a = (lin[k + 1].weight ** 2).sum(0)
            act = torch.relu(h)
            den = float((a * (h ** 2).mean(0)).sum())
            out.append(float((a * (act ** 2).mean(0)).sum()) / den if den > 0 else None)
            h = act
    return out


def _min_kept_fraction(scores) -> float:
    """The smallest fraction of the weights one global threshold on ``scores`` can keep with a path from input to
    output still open (bisection on the kept count: the masks are nested, so having a path is monotone)."""
    n = sum(v.numel() for v in scores.values())

    def passes(k):
        return collapse_report(masks_from_scores(scores, 1.0 - k / n))["passes_signal"] is not False

    lo, hi = 0, n            # passes(hi) holds (the dense net); find the smallest k that passes
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if passes(mid):
            hi = mid
        else:
            lo = mid
    return hi / n


def _rescale_conv(p, info, train_data, test_data, xb, yb, seed, device, tcfg):
    """SBP's masks of a BatchNorm conv net at ``conv_sparsity``: best accuracy unrescaled (under two data orders),
    rescaled everywhere and in the convolutions only; and the relative change of the conv features in training
    mode between the two conventions for the constant (slices to ``2 / k^2`` and to ``4``)."""
    def fresh():
        net = build_model("smallconv", info["shape"], info["classes"], seed=seed, width=p["conv_width"]).to(device)
        return eoc.init_(net, math.sqrt(2.0), 0.0, seed=seed)

    base = fresh()
    masks = masks_from_scores(snip_scores(base, xb, yb), p["conv_sparsity"])
    convs = {k: v for k, v in masks.items() if v.dim() == 4}
    feats = {}
    for name, target in (("slice_c_over_k2", 2.0), ("slice_4", None)):
        net = fresh()
        apply_masks(net, masks)
        for k, v in convs.items():       # eoc.rescale_ aims each slice at target / k^2: SNIP.py's 4 is 4 k^2 here
            eoc.rescale_(net, {k: v}, target if target is not None else 4.0 * v[0, 0].numel())
        with torch.no_grad():
            feats[name] = net.features(xb)
    diff = float((feats["slice_c_over_k2"] - feats["slice_4"]).abs().max() / feats["slice_4"].abs().max())
    out = {"kept_per_layer": [float(m.float().mean()) for m in masks.values()], "feature_difference": diff,
           "training": {}}
    for name, which, tseed in (("none", None, 1), ("none_other_order", None, 2), ("all", masks, 1),
                               ("convs", convs, 1)):
        net = fresh()
        apply_masks(net, masks)
        if which is not None:
            eoc.rescale_(net, which, 2.0)
        h = train(net, train_data, tcfg.replace(seed=seed + tseed), test_data=test_data)
        out["training"][name] = {"best_accuracy": max(h["test_accuracy"]), "final_accuracy": h["test_accuracy"][-1],
                                 "curve": list(h["test_accuracy"])}
    return out


def _to_rgb32(x):
    """Grey images to 3 x 32 x 32 (bilinear resize, channel copied), for the CIFAR-shaped ResNets."""
    x = torch.nn.functional.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
    return x.expand(-1, 3, -1, -1).contiguous()


def train_config(p: dict, seed: int = 0) -> TrainConfig:
    """The MLP training schedule of ``run`` (``p``: validated parameters)."""
    return TrainConfig(epochs=p["epochs"], batch_size=128, lr=p["lr"], momentum=0.9, eval_every=1,
                       progress=p["progress"], seed=seed)


#: the kinds of network ``run`` trains (:class:`pruning_utils.meter.step_group`): their steps cost differently
RESCALE_MLP, CONV_NET = "ReLU MLP (rescaling, rescale_depth)", "BatchNorm conv net (smallconv)"
METHOD_MLP, RESNET = "tanh MLP (methods, method_depth)", "ResNet (CIFAR)"


def training_steps(p: dict, sizes) -> dict:
    """Optimizer steps of ``run(**p)`` (``p`` validated; ``sizes(dataset)``: its training and test images), per
    kind of network, all seeds: the rescaling MLP's four trainings (random and SBP masks, unrescaled and
    rescaled), the conv net's four, the methods' six per sparsity, and the CIFAR ResNet's dense run and six
    methods per sparsity. A smoke run checks the counts against the steps it made; the projection multiplies
    each by its kind's time per step."""
    spe = sizes(p["dataset"])[0] // 128          # train_config's batch size
    mlp = p["seeds"] * p["epochs"] * spe
    out = {RESCALE_MLP: 4 * mlp, CONV_NET: 4 * mlp, METHOD_MLP: (len(METHODS) + 1) * len(p["method_sparsities"]) * mlp}
    if p["cifar_model"] != "none":
        n = sizes(p["cifar_dataset"])[0]
        runs = 1 + (len(CIFAR_METHODS) - 1) * len(p["cifar_sparsities"])
        out[RESNET] = p["seeds"] * runs * p["cifar_epochs"] * (n // min(p["cifar_batch_size"], n))
    return out


def memory_structures(p: dict, sizes) -> dict:
    """Bytes of the run's largest structure: the datasets on the device (the MLPs' and, with a CIFAR model,
    CIFAR's, held together)."""
    total = dataset_bytes(p["dataset"], sizes)
    if p["cifar_model"] != "none":
        total += dataset_bytes(p["cifar_dataset"], sizes)
    return {HELD: total}


def run(**params) -> dict:
    p = validate(params, SCHEMA)
    bad = [d for d in p["resnet_depths"] if f"resnet{int(d)}" not in MODELS or d != int(d)]
    if bad:
        raise ValueError(f"parameter 'resnet_depths' = {list(p['resnet_depths'])!r} is not allowed; "
                         f"expected depths among 20, 32, 56")
    t0 = time.perf_counter()
    device, info, train_data, test_data = load_data(p)
    sw_tanh, q_tanh = eoc.edge_of_chaos("tanh", p["sigma_b"])
    sw_elu, _ = eoc.edge_of_chaos("elu", p["sigma_b"])
    sw_relu, _ = eoc.edge_of_chaos("relu", 0.0)
    if eoc.phase("tanh", p["ordered_sigma_w"], p["ordered_sigma_b"]) != "ordered":
        raise ValueError(f"parameters 'ordered_sigma_w' = {p['ordered_sigma_w']}, 'ordered_sigma_b' = "
                         f"{p['ordered_sigma_b']} are not in tanh's ordered phase (chi >= 1)")
    out = {"eoc": {"tanh": sw_tanh, "tanh_q_star": q_tanh, "elu": sw_elu, "relu": sw_relu,
                   "chi_tanh_authors": eoc.chi("tanh", 1.2981, p["sigma_b"]),
                   "chi_elu_authors": eoc.chi("elu", 1.22459, p["sigma_b"]),
                   "chi_ordered": eoc.chi("tanh", p["ordered_sigma_w"], p["ordered_sigma_b"])},
           "per_seed": []}
    inits = {"eoc": ("tanh", sw_tanh, p["sigma_b"]),
             "ordered": ("tanh", p["ordered_sigma_w"], p["ordered_sigma_b"])}
    collapse_inits = {**inits, "chaotic": ("tanh", eoc.sigma_w_for_chi("tanh", p["chaotic_chi"], p["sigma_b"]),
                                           p["sigma_b"])}
    if any(abs(c - 1.0) < 1e-9 for c in p["chi_sweep"]):
        raise ValueError(f"parameter 'chi_sweep' = {list(p['chi_sweep'])!r} is not allowed; the edge (chi = 1) is "
                         f"always in the sweep, list the off-edge points only")
    sweep_points = [(c, eoc.sigma_w_for_chi("tanh", c, p["sigma_b"])) for c in sorted(p["chi_sweep"])]
    out["eoc"]["chaotic_sigma_w"] = collapse_inits["chaotic"][1]
    out["eoc"]["sweep"] = [{"chi": c, "sigma_w": sw} for c, sw in sweep_points]
    tcfg = train_config(p)
    sparsities = sorted(p["sparsities"])
    for i in range(p["seeds"]):
        seed = p["seed"] + i
        row = {"seed": seed}
        xb, yb = class_balanced_batch(*train_data, per_class=p["per_class"], seed=seed)
        # probe inputs from their own stream: inputs drawn from the stream that drew the weights correlate with them
        g = torch.Generator().manual_seed(10_007 * (seed + 1))
        gauss = torch.randn(512, *info["shape"], generator=g).to(device)      # the theory's isotropic inputs
        # 2. propagation: measured against the variance map, from the first layer's measured variance
        prop = {}
        for name, (act, sw, sb) in {**inits, "relu_eoc": ("relu", sw_relu, 0.0)}.items():
            net = _mlp(info, p["propagation_depth"], p["width"], act, seed, device)
            eoc.init_(net, sw, sb, seed=seed)
            meas = _preactivation_variances(net, gauss)[:-1]
            prop[name] = {"measured": meas, "theory": _theory_variances(act, sw, sb, meas[0], len(meas))}
        row["propagation"] = prop
        # 3. collapse against depth and sparsity, at the edge, a far-ordered and a chaotic point; and across chi
        def collapse_at(act, sw, sb, d, keep_profiles=True):
            net = _mlp(info, d, p["width"], act, seed, device)
            eoc.init_(net, sw, sb, seed=seed)
            scores = snip_scores(net, xb, yb)
            mks = [masks_from_scores(scores, s) for s in sparsities]
            reps = [collapse_report(m) for m in mks]
            crit = next((s for s, r in zip(sparsities, reps) if r["passes_signal"] is False), None)
            layer_names = list(scores)
            entry = {"depth": d, "critical_sparsity": crit,
                     "passes_signal": [r["passes_signal"] for r in reps],
                     "layers_emptied": [len(r["collapsed"]) for r in reps],
                     "first_cut_layer": [None if r["first_cut"] is None
                                         else layer_names.index(r["first_cut"]) for r in reps]}
            if keep_profiles:
                entry["kept_per_layer"] = [[float(v.float().mean()) for v in m.values()] for m in mks]
            entry["min_kept_fraction"] = _min_kept_fraction(scores)
            return entry

        coll = {name: [collapse_at(act, sw, sb, d) for d in (int(x) for x in p["depths"])]
                for name, (act, sw, sb) in collapse_inits.items()}
        row["collapse"] = coll
        row["sweep"] = [{"chi": c, **collapse_at("tanh", sw, p["sigma_b"], p["sweep_depth"], keep_profiles=False)}
                        for c, sw in sweep_points[:sum(c < 1 for c, _ in sweep_points)]] + \
            [{"chi": 1.0, **collapse_at("tanh", sw_tanh, p["sigma_b"], p["sweep_depth"], keep_profiles=False)}] + \
            [{"chi": c, **collapse_at("tanh", sw, p["sigma_b"], p["sweep_depth"], keep_profiles=False)}
             for c, sw in sweep_points[sum(c < 1 for c, _ in sweep_points):]]
        # 4. rescaling: forward variance (over independent draws) and trainability of a pruned deep ReLU MLP
        resc = {"log_gain": {}, "identity_share": {}}
        for d in range(p["variance_draws"]):
            dseed = 1000 * seed + d
            xd, yd = (xb, yb) if d == 0 else class_balanced_batch(*train_data, per_class=p["per_class"], seed=dseed)
            gd = torch.randn(512, *info["shape"], generator=torch.Generator().manual_seed(10_007 * (dseed + 1)))
            gd = gd.to(device)
            dense = _mlp(info, p["rescale_depth"], p["width"], "relu", dseed, device)
            eoc.init_(dense, sw_relu, 0.0, seed=dseed)
            q_dense = _log_variances(dense, gd)
            mask_sets = {"random": masks_from_scores(random_scores(dense, dseed + 3), p["rescale_sparsity"]),
                         "sbp": masks_from_scores(snip_scores(dense, xd, yd), p["rescale_sparsity"])}
            for mname, masks in mask_sets.items():
                for name, target in (("none", None), ("sigma_w2", sw_relu ** 2), ("authors_4", 4.0)):
                    net = _mlp(info, p["rescale_depth"], p["width"], "relu", dseed, device)
                    net.load_state_dict(dense.state_dict())
                    apply_masks(net, masks)
                    if target is not None:
                        eoc.rescale_(net, masks, target)
                    q = _log_variances(net, gd)
                    key = f"{mname}/{name}"
                    # the pruned/dense variance ratio at the last layer, as a gain per layer
                    resc["log_gain"].setdefault(key, []).append((q[-1] - q_dense[-1]) / len(q))
                    if name == "sigma_w2":
                        resc["identity_share"].setdefault(mname, []).append(_identity_share(net, masks, gd))
                    if d == 0:
                        resc.setdefault("variance_ratio", {})[key] = [math.exp(a - b) for a, b in zip(q, q_dense)]
                        if name != "authors_4":
                            with step_group(RESCALE_MLP):
                                h = train(net, train_data, tcfg.replace(seed=seed + 1), test_data=test_data)
                            resc.setdefault("training", {})[key] = {"best_accuracy": max(h["test_accuracy"]),
                                                                    "final_accuracy": h["test_accuracy"][-1],
                                                                    "curve": list(h["test_accuracy"])}
        resc["gain_per_layer"] = {k: math.exp(float(np.mean(v))) for k, v in resc["log_gain"].items()}
        row["rescale"] = resc
        # 4b. the trick on a conv net with BatchNorm, where the paper uses it
        with step_group(CONV_NET):
            row["rescale_conv"] = _rescale_conv(p, info, train_data, test_data, xb, yb, seed, device, tcfg)
        # 5. ResNet against Stable ResNet: per-block gradient norms at initialisation, SBP's layer-wise sparsity
        gx = torch.randn(32, 3, 32, 32, generator=g).to(device)
        gy = torch.randint(0, 10, (32,), generator=g).to(device)
        rx = _to_rgb32(xb)
        res, kept = {}, {}
        for d in (int(x) for x in p["resnet_depths"]):
            for stable in (False, True):
                key = f"{d}/{'stable' if stable else 'standard'}"
                net = build_model(f"resnet{d}", (3, 32, 32), 10, seed=seed, stable=stable).to(device)
                torch.nn.functional.cross_entropy(net(gx), gy).backward()
                res[key] = [float(m.weight.grad.norm()) for n, m in prunable_layers(net).items()
                            if n.endswith("conv2.weight")]
                mk = masks_from_scores(snip_scores(net, rx, yb), p["resnet_sparsity"])
                kept[key] = {n: float(m.float().mean()) for n, m in mk.items()}
        row["resnet"] = res
        row["resnet_kept"] = kept
        # 6. methods at high sparsity on one EOC-initialised tanh MLP
        base = _mlp(info, p["method_depth"], p["width"], "tanh", seed, device)
        eoc.init_(base, sw_tanh, p["sigma_b"], seed=seed)
        scores = {"sbp": snip_scores(base, xb, yb), "grasp": grasp_scores(base, xb, yb),
                  "magnitude": magnitude_scores(base), "random": random_scores(base, seed + 3)}
        meth = {}
        for s in p["method_sparsities"]:
            masks = {k: masks_from_scores(v, s) for k, v in scores.items()}
            masks["synflow"] = synflow_masks(base, info["shape"], s, rounds=p["synflow_rounds"])
            for name in (*METHODS, "sbp_no_rescale"):
                mk = masks["sbp" if name == "sbp_no_rescale" else name]
                net = _mlp(info, p["method_depth"], p["width"], "tanh", seed, device)
                net.load_state_dict(base.state_dict())
                apply_masks(net, mk)
                if name != "sbp_no_rescale":
                    eoc.rescale_(net, mk, sw_tanh ** 2)
                with step_group(METHOD_MLP):
                    h = train(net, train_data, tcfg.replace(seed=seed + 2), test_data=test_data)
                meth[f"{name}/{s}"] = {"best_accuracy": max(h["test_accuracy"]), "final_accuracy": h["test_accuracy"][-1],
                                       "curve": list(h["test_accuracy"]),
                                       "passes_signal": collapse_report(mk)["passes_signal"],
                                       "kept_per_layer": [float(m.float().mean()) for m in mk.values()]}
        row["methods"] = meth
        out["per_seed"].append(row)
    if p["cifar_model"] != "none":
        out["cifar"] = _cifar(p, device)
    out.update({"params": p, "device": str(device), "wall_time_s": time.perf_counter() - t0})
    return out


def _cifar(p, device):
    """The paper's CIFAR protocol: each method's mask at each sparsity, trained with the paper's schedule.

    SBP scores the standard ResNet, SBP-SR the Stable ResNet (and the Stable
    ResNet is trained); every other method scores and trains the standard one.
    Each run is one piece of a :class:`pruning_utils.store.ResultStore` in
    ``run_dir``: an interrupted run resumes after the last finished training.
    """
    name, ds = p["cifar_model"], p["cifar_dataset"]
    train_data = load_dataset(ds, True, p["data_root"], p["download"], device)
    test_data = load_dataset(ds, False, p["data_root"], p["download"], device)
    classes = dataset_info(ds)["classes"]
    e = p["cifar_epochs"]
    cfg = TrainConfig(epochs=e, batch_size=min(p["cifar_batch_size"], len(train_data[1])), lr=p["cifar_lr"],
                      momentum=0.9, weight_decay=p["cifar_weight_decay"], schedule="step",
                      milestones=(e // 2, (3 * e) // 4), augment="crop_flip", eval_every=1, progress=p["progress"])
    keys = ("cifar_model", "cifar_dataset", "cifar_width", "cifar_epochs", "cifar_batch_size", "cifar_lr",
            "cifar_weight_decay", "per_class", "synflow_rounds")
    run_dir = Path(p["run_dir"]) if p["run_dir"] else None
    store = ResultStore(run_dir / "cifar.json" if run_dir else None, {k: p[k] for k in keys})
    out = {}
    for i in range(p["seeds"]):
        seed = p["seed"] + i
        xb, yb = class_balanced_batch(*train_data, per_class=p["per_class"], seed=seed)

        def fresh(stable=False):
            return build_model(name, (3, 32, 32), classes, seed=seed, width=p["cifar_width"], stable=stable).to(device)

        for method in CIFAR_METHODS:
            for s in ((None,) if method == "dense" else p["cifar_sparsities"]):
                def piece(method=method, s=s):
                    net = fresh(stable=(method == "sbp_sr"))
                    if method != "dense":
                        if method == "synflow":
                            mk = synflow_masks(net, (3, 32, 32), s, rounds=p["synflow_rounds"])
                        else:
                            sc = {"sbp": lambda: snip_scores(net, xb, yb), "sbp_sr": lambda: snip_scores(net, xb, yb),
                                  "grasp": lambda: grasp_scores(net, xb, yb), "magnitude": lambda: magnitude_scores(net),
                                  "random": lambda: random_scores(net, seed + 3)}[method]()
                            mk = masks_from_scores(sc, s)
                        net.zero_grad(set_to_none=True)
                        apply_masks(net, mk)
                    with step_group(RESNET):
                        h = train(net, train_data, cfg.replace(seed=seed + 2), test_data=test_data)
                    return {"best_accuracy": max(h["test_accuracy"]), "final_accuracy": h["test_accuracy"][-1],
                            "passes_signal": None if method == "dense" else collapse_report(mk)["passes_signal"]}
                key = f"{method}/{'dense' if s is None else s}/seed{seed}"
                out[key] = store.get_or_run(key, piece)
    return out


# ---------------------------------------------------------------------------
# claims

def _swap_seeds(r, path_to, path_from, next_seed):
    """The result with each seed's entry at ``path_to`` (keys into its per-seed record) replaced by the entry at
    ``path_from`` of the same seed or (``next_seed``) of the next one (seed i gets seed i + 1's, cyclically)."""
    def assign(s, src):
        for k in path_from:
            src = src[k]
        for k in path_to[:-1]:
            s = s[k]
        s[path_to[-1]] = copy.deepcopy(src)
    return swap_seeds(r, assign, next_seed)


def _standard_for_stable(r):
    def assign(s, src):
        for key in src["resnet"]:
            if key.endswith("/stable"):
                s["resnet"][key] = copy.deepcopy(src["resnet"][key.replace("/stable", "/standard")])
    return swap_seeds(r, assign, next_seed=False)


def _eoc_values(r):
    e = r["eoc"]
    return [Statistic("|tanh sigma_w - 1.3041|", [abs(e["tanh"] - 1.3041)], 1e-3, above=False, over="exact"),
            Statistic("|ELU sigma_w - 1.2293|", [abs(e["elu"] - 1.2293)], 1e-3, above=False, over="exact"),
            Statistic("|ReLU sigma_w - sqrt 2|", [abs(e["relu"] - math.sqrt(2.0))], 1e-12, above=False,
                      over="exact", tolerance=0.0)], {k: e[k] for k in ("tanh", "elu", "relu")}


#: how many times as many weights an off-edge network must need to keep a path open, against the edge of chaos.
#: Decided on the mean of the log ratio over seeds: two draws of the edge-of-chaos network differ by up to a
#: factor of 1.7 (log10 0.23), so with three seeds a control centred on 0 could never clear an every-seed rule
#: robustly; on the mean its two standard errors (about 0.25) sit well below log10(3) = 0.48.
FACTOR = 3.0


def _log_ratio(other, edge):
    return math.log10(other["min_kept_fraction"] / edge["min_kept_fraction"])


def _collapse_vs(other):
    def check(r):
        rows = r["per_seed"]
        deepest = len(rows[0]["collapse"][other]) - 1
        d = rows[0]["collapse"][other][deepest]["depth"]
        vals = [_log_ratio(s["collapse"][other][deepest], s["collapse"]["eoc"][deepest]) for s in rows]
        stats = [Statistic(f"depth {d}: log10 of the smallest kept fraction with a path, {other} over EOC", vals,
                           math.log10(FACTOR), over="mean")]
        nums = {f"depth {c['depth']}: smallest kept fraction with a path, EOC and {other}, per seed":
                [[s["collapse"]["eoc"][k]["min_kept_fraction"], s["collapse"][other][k]["min_kept_fraction"]]
                 for s in rows] for k, c in enumerate(rows[0]["collapse"][other])}
        return stats, nums
    return check


def _another_eoc_draw(key):
    """The result with the ``key`` initialisation's collapse replaced by the next seed's edge-of-chaos one."""
    def assign(s, src):
        s["collapse"][key] = copy.deepcopy(src["collapse"]["eoc"])
    return lambda r: swap_seeds(r, assign, next_seed=True)


def _sweep(r):
    rows = r["per_seed"]
    stats, nums = [], {}
    edge = [next(e for e in s["sweep"] if e["chi"] == 1.0) for s in rows]
    for j, e in enumerate(rows[0]["sweep"]):
        if e["chi"] == 1.0:
            continue
        stats.append(Statistic(f"chi {e['chi']:g}, depth {e['depth']}: log10 of the smallest kept fraction with a "
                               f"path, this point over EOC", [_log_ratio(s["sweep"][j], edge[i])
                                                              for i, s in enumerate(rows)], math.log10(FACTOR),
                               over="mean"))
    nums["smallest kept fraction with a path per chi, per seed"] = {
        f"{e['chi']:g}": [s["sweep"][j]["min_kept_fraction"] for s in rows] for j, e in enumerate(rows[0]["sweep"])}
    return stats, nums


def _another_eoc_in_sweep(r):
    def assign(s, src):
        edge = copy.deepcopy(next(e for e in src["sweep"] if e["chi"] == 1.0))
        for j, e in enumerate(s["sweep"]):
            if e["chi"] != 1.0:
                s["sweep"][j] = {**edge, "chi": e["chi"]}
    return swap_seeds(r, assign, next_seed=True)


def _gains(r, masks):
    return {k: [s["rescale"]["gain_per_layer"][f"{masks}/{k}"] for s in r["per_seed"]]
            for k in ("none", "sigma_w2", "authors_4")}


def _rescale_random(r):
    g = _gains(r, "random")
    return [Statistic("|rescaled gain - 1|, random masks", [abs(x - 1) for x in g["sigma_w2"]], 0.1, above=False),
            Statistic("unrescaled gain, random masks", g["none"], 0.5, above=False)], \
        {f"per-layer variance gain, random masks, {k}": v for k, v in g.items()}


def _rescale_sbp(r):
    g = _gains(r, "sbp")
    return [Statistic("|rescaled gain - 1|, SBP masks", [abs(x - 1) for x in g["sigma_w2"]], 0.1, above=False)], \
        {f"per-layer variance gain, SBP masks, {k}": v for k, v in g.items()}


def _rescale_training(r):
    t = {k: np.array([s["rescale"]["training"][k]["best_accuracy"] for s in r["per_seed"]])
         for k in ("random/none", "random/sigma_w2", "sbp/none", "sbp/sigma_w2")}
    return [Statistic("random masks: rescaled minus unrescaled best accuracy", t["random/sigma_w2"] - t["random/none"],
                      0.2),
            Statistic("SBP masks, rescaled: best accuracy", t["sbp/sigma_w2"], 0.15, above=False)], \
        {f"best accuracy, {k}": v.tolist() for k, v in t.items()}


def _stable(r):
    rows = r["per_seed"]
    spread = {key: [max(s["resnet"][key]) / min(s["resnet"][key]) for s in rows] for key in rows[0]["resnet"]}
    depths = sorted({int(k.split("/")[0]) for k in spread})
    lo, hi = depths[0], depths[-1]
    stats = [Statistic(f"{hi}/stable over {lo}/standard: max / min block gradient norm",
                       [a / b for a, b in zip(spread[f"{hi}/stable"], spread[f"{lo}/standard"])], 1.0, above=False),
             Statistic(f"{hi}/standard over {lo}/standard: max / min block gradient norm",
                       [a / b for a, b in zip(spread[f"{hi}/standard"], spread[f"{lo}/standard"])], 1.0)]
    nums = {f"{k}: max / min block gradient norm, per seed": v for k, v in spread.items()}
    if hi > lo:                            # ResNet-(6n+2) has 3n blocks: the growth as a power of the block count
        blocks = (3 * (lo - 2) // 6, 3 * (hi - 2) // 6)
        nums["exponent of the spread's growth in the number of blocks, standard, per seed"] = [
            math.log(a / b) / math.log(blocks[1] / blocks[0])
            for a, b in zip(spread[f"{hi}/standard"], spread[f"{lo}/standard"])]
    return stats, nums


def _rescale_conv_check(r):
    return [Statistic("relative change of the BatchNorm net's conv features between the two constants",
                      [s["rescale_conv"]["feature_difference"] for s in r["per_seed"]], 1e-3, above=False)], {}


def _rescale_conv_training(r):
    t = {k: np.array([s["rescale_conv"]["training"][k]["best_accuracy"] for s in r["per_seed"]])
         for k in ("none", "none_other_order", "all", "convs")}
    return [Statistic("rescaled in every layer minus unrescaled, best accuracy", t["all"] - t["none"], 0.02,
                      over="mean")], \
        {**{f"best accuracy, {k}": v.tolist() for k, v in t.items()},
         "rescaled in the convolutions only minus unrescaled": (t["convs"] - t["none"]).tolist(),
         "sparsity": r["params"]["conv_sparsity"]}


def _other_order_for_rescaled(r):
    def assign(s, src):
        s["rescale_conv"]["training"]["all"] = copy.deepcopy(src["rescale_conv"]["training"]["none_other_order"])
    return swap_seeds(r, assign, next_seed=False)


def _sbp_rescaled_trains(r):
    s_max = max(r["params"]["method_sparsities"])
    resc = [x["methods"][f"sbp/{s_max}"]["best_accuracy"] for x in r["per_seed"]]
    plain = [x["methods"][f"sbp_no_rescale/{s_max}"]["best_accuracy"] for x in r["per_seed"]]
    return [Statistic("SBP rescaled, best accuracy", resc, 0.2, over="mean"),
            Statistic("SBP not rescaled, best accuracy", plain, 0.15, above=False)], {"sparsity": s_max}


CLAIMS = [
    Claim("edge_of_chaos_values",
          "Solved, not tabulated: the edge of chaos of tanh and of ELU at sigma_b = 1/5 lies within a thousandth "
          "of the values found by quadrature in DESIGN.md, and ReLU's is sigma_w^2 = 2 exactly",
          "hayou2021robust", _eoc_values, kind="check",
          note="a check of the solver against quadrature: the edge of chaos is a property of the activation"),
    Claim("ordered_collapses_first",
          "At the deepest tested depth, SBP with one global threshold needs at least three times as many weights "
          "to keep an input-output path open in the far-ordered tanh network as in the edge-of-chaos one (geometric "
          "mean over seeds)",
          "hayou2021robust", _collapse_vs("ordered"),
          control=Control("another edge-of-chaos draw",
                          "The next seed's edge-of-chaos network in the ordered one's place: the factor must exceed "
                          "what one draw of the same initialisation shows against another",
                          _another_eoc_draw("ordered"))),
    Claim("chaotic_collapses_first",
          "At the deepest tested depth, SBP with one global threshold needs at least three times as many weights "
          "to keep an input-output path open in the chaotic tanh network as in the edge-of-chaos one (geometric "
          "mean over seeds)",
          "hayou2021robust", _collapse_vs("chaotic"),
          control=Control("another edge-of-chaos draw",
                          "The next seed's edge-of-chaos network in the chaotic one's place",
                          _another_eoc_draw("chaotic"))),
    Claim("edge_prunes_furthest",
          "At the sweep's depth, every off-edge point of the chi sweep, ordered and chaotic, needs at least three "
          "times as many weights as the edge of chaos to keep an input-output path open under SBP (geometric mean "
          "over seeds)",
          "hayou2021robust", _sweep,
          control=Control("another edge-of-chaos draw at every point",
                          "The next seed's edge-of-chaos network in every off-edge point's place",
                          _another_eoc_in_sweep)),
    Claim("rescaling_restores_variance_random_masks",
          "With random masks, the rescaling trick brings the pruned ReLU network's per-layer forward-variance gain "
          "within 10% of the dense network's, and without it the gain is below one half (every seed)",
          "hayou2021robust", _rescale_random, kind="check",
          note="Close to construction: the trick fixes each row's squared norm, and a random mask is independent "
               "of the activations. The unrescaled network is the baseline that could have won."),
    Claim("rescaling_restores_variance_sbp_masks",
          "With SBP's masks, the rescaling trick brings the pruned ReLU network's per-layer forward-variance gain "
          "within 10% of the dense network's (every seed)",
          "hayou2021robust", _rescale_sbp,
          control=Control("the same masks without the trick",
                          "SBP's masks with the surviving weights left as they are: the gain the trick has to restore",
                          lambda r: _swap_seeds(r, ("rescale", "gain_per_layer", "sbp/sigma_w2"),
                                                ("rescale", "gain_per_layer", "sbp/none"), next_seed=False)),
          note="SBP keeps the weights fed by the most active units, so a row rescaled to the dense norm carries "
               "more variance than a dense row."),
    Claim("rescaling_trainability_follows_variance",
          "On the deep ReLU network, the rescaling trick lifts random masks' best accuracy by more than 20 points "
          "and leaves SBP's masks below 15% (chance is 10%), every seed",
          "hayou2021robust", _rescale_training,
          control=Control("random masks without the trick under another seed",
                          "The unrescaled random masks of the next seed in the rescaled ones' place: the lift must "
                          "exceed the unrescaled network's own change from seed to seed",
                          lambda r: _swap_seeds(r, ("rescale", "training", "random/sigma_w2"),
                                                ("rescale", "training", "random/none"), next_seed=True)),
          note="Trainability follows the variance gain: about one per layer for rescaled random masks, about two "
               "for rescaled SBP masks, which overflows the signal after tens of layers."),
    Claim("bn_cancels_rescaling_constant",
          "On a conv net with BatchNorm, the rescaling trick's constant does not matter: slices rescaled to c / k^2 "
          "(this library, the authors' GraSP.py) and to 4 (their SNIP.py) give the same conv features to within a "
          "thousandth",
          "hayou2021robust", _rescale_conv_check, kind="check",
          note="True by construction: BatchNorm divides out any factor common to a channel; what is left of the "
               "trick is the ratio between a channel's slices and the classifier's rows."),
    Claim("rescaling_helps_sbp_with_batchnorm",
          "On a small conv net with BatchNorm at the edge of chaos, rescaling SBP's masks in every layer, as the "
          "authors do for VGG, raises the best test accuracy by more than 2 points (mean over seeds)",
          "hayou2021robust", _rescale_conv_training,
          control=Control("the same masks under another data order",
                          "The unrescaled masks trained with another data order in the rescaled ones' place: the "
                          "gain must exceed what retraining the same masks changes",
                          _other_order_for_rescaled)),
    Claim("stable_resnet_flat_gradients",
          "At initialisation the per-block gradient norms of the deepest Stable ResNet spread less (max over min "
          "across blocks) than the shallowest standard ResNet's, and the standard ResNet's spread grows with "
          "depth (every seed)",
          "hayou2021robust", _stable,
          control=Control("the standard ResNet at every depth",
                          "The standard ResNet's block gradient norms in Stable ResNet's place, at the same depths: "
                          "if its deepest spread also stayed below its shallowest, depth would not be what spreads "
                          "them",
                          _standard_for_stable),
          note="No constant is chosen: Stable ResNet is compared with the standard one. With BatchNorm the "
               "standard ResNet's spread grows as a power of the block count (the exponent is in the numbers), "
               "not geometrically."),
    Claim("sbp_rescaled_trains_at_high_sparsity",
          "At the highest tested sparsity, SBP with the rescaling trick trains the edge-of-chaos tanh MLP above "
          "20% accuracy (mean over seeds) while SBP without it stays below 15% (chance is 10%) for every seed",
          "hayou2021robust", _sbp_rescaled_trains,
          control=Control("SBP without the trick under another seed",
                          "The unrescaled SBP masks of the next seed in the rescaled ones' place: the rescaled network "
                          "must train where the unrescaled one, whatever its seed, does not",
                          lambda r: _swap_seeds(r, ("methods", f"sbp/{max(r['params']['method_sparsities'])}"),
                                                ("methods", f"sbp_no_rescale/{max(r['params']['method_sparsities'])}"),
                                                next_seed=True)),
          note="On the mean over seeds for the rescaled masks: at 98% the deep MLP either trains or barely does, "
               "and one seed's best accuracy differs from another's by up to 30 points, more than any margin "
               "above 20% that every seed clears."),
]
