"""Chapter 05: zeroth-order topology of iterative magnitude pruning (Balwani & Krzyston, 2022).

For each seed: plain IMP (magnitude scores) and MST-preserving IMP (magnitude
scores with the current network's maximum-spanning-forest edges protected),
both through :func:`pruning_utils.imp.run_imp` with the same initialisation,
schedule and rewinding. Per round it records

* test accuracy after retraining;
* the fraction of the dense trained network's tree edges still kept, against
  the random-pruning baseline ``1 - sparsity``;
* the fraction of the tree edges of the network being pruned (the previous
  round's trained network) that the new mask keeps;
* the zeroth-order persistence diagram of the trained network, by ripser and
  by the spanning-forest path, and whether the two agree exactly (at ripser's
  float32 precision: the float64 forest diagram rounded to float32).

Plus the prunability bound ``1 - (|V| - 1) / |E|`` (whole network and per
layer) against the sparsity at which IMP falls ``tolerance`` points below dense.
"""

from __future__ import annotations

import time

import numpy as np

from ..imp import IMPConfig, imp_sparsities, run_imp
from ..models import build_model
from ..params import Choice, Float, Int, validate
from ..topology import (mst_preserving_scores, prunability_bound, tree_edges_kept, tree_masks,
                        zeroth_order_diagram)
from ..train import TrainConfig
from .common import RUNTIME_SCHEMA, first_below, load_data

SCHEMA = {
    "dataset": Choice("mnist5k", ("mnist5k", "digits", "mnist", "fashion-mnist")),
    "model": Choice("lenet300100", ("lenet300100",)),
    "epochs": Int(10, 1, 1000),
    "batch_size": Int(128, 1, 4096),
    "optimizer": Choice("sgd", ("sgd", "adam")),
    "lr": Float(0.1, 0.0, 10.0, low_inclusive=False),
    "momentum": Float(0.9, 0.0, 1.0, high_inclusive=False),
    "rounds": Int(10, 1, 50, help="IMP rounds; keep 1 - (1 - prune_fraction)^rounds below the bound"),
    "prune_fraction": Float(0.4, 0.0, 0.9, low_inclusive=False),
    "seeds": Int(2, 1, 20),
    "seed": Int(0, 0, 10**6),
    "tolerance": Float(1.0, 0.0, 100.0, low_inclusive=False, help="accuracy drop in points"),
    "diagram_rounds": Int(4, 1, 50, help="how many rounds (evenly spaced, first and last included) get diagrams"),
    **RUNTIME_SCHEMA,
}

PROFILES = {
    "default": {},
    # Frankle & Carbin's LeNet-300-100 setting on the full MNIST, 20% per round, up to the bound
    "paper": {"dataset": "mnist", "download": True, "optimizer": "adam", "lr": 1.2e-3, "batch_size": 60,
              "epochs": 50, "rounds": 23, "prune_fraction": 0.2, "seeds": 3, "progress": True},
}

VARIANTS = ("imp", "mst_imp")


def _diagram_summary(net_or_weights) -> dict:
    a = zeroth_order_diagram(net_or_weights, method="ripser")
    b = zeroth_order_diagram(net_or_weights, method="mst")
    # ripser computes in float32: the spanning-forest diagram rounded to float32 must match it exactly
    b32 = b.astype(np.float32).astype(np.float64)
    finite = b[np.isfinite(b[:, 1]), 1]
    return {"identical": bool(a.shape == b.shape and np.array_equal(a, b32)),
            "deaths": finite.tolist(), "infinite_bars": int(np.isinf(b[:, 1]).sum())}


def run(**params) -> dict:
    p = validate(params, SCHEMA)
    t0 = time.perf_counter()
    device, info, train_data, test_data = load_data(p)
    targets = imp_sparsities(p["rounds"], p["prune_fraction"])

    def fresh():
        return build_model(p["model"], info["shape"], info["classes"]).to(device)

    bound = prunability_bound(fresh())
    layer_bounds = prunability_bound(fresh(), per_layer=True)
    if targets[-1] >= bound:
        raise ValueError(f"parameters 'rounds' = {p['rounds']} and 'prune_fraction' = {p['prune_fraction']} "
                         f"reach sparsity {targets[-1]:.4f}, at or above the prunability bound {bound:.4f}; "
                         f"expected a schedule that stays below it (MST-preserving IMP cannot go further)")
    cfg = TrainConfig(epochs=p["epochs"], batch_size=p["batch_size"], optimizer=p["optimizer"], lr=p["lr"],
                      momentum=p["momentum"], eval_every=0, progress=p["progress"])
    # global scope only: a layer-wise rule could be forced to cut a protected tree edge in a small layer
    icfg = IMPConfig(rounds=p["rounds"], prune_fraction=p["prune_fraction"], scope="global")
    diag_rounds = sorted(set(np.linspace(0, p["rounds"], min(p["diagram_rounds"], p["rounds"] + 1))
                             .round().astype(int).tolist()))

    per_seed = []
    for i in range(p["seeds"]):
        seed = p["seed"] + i
        model = build_model(p["model"], info["shape"], info["classes"], seed=seed).to(device)
        out = {}
        for variant in VARIANTS:
            scores_fn = mst_preserving_scores if variant == "mst_imp" else None
            kwargs = {"scores_fn": scores_fn} if scores_fn else {}
            res = run_imp(model, train_data, test_data, cfg.replace(seed=seed), icfg, **kwargs)
            nets = []
            for state, masks in zip(res["states"], res["masks"]):
                net = fresh()
                net.load_state_dict(state)
                nets.append(net)
            dense_tree = tree_masks(nets[0])
            trees = [tree_masks(net) for net in nets]
            row = {"accuracy": [r["test_accuracy"] for r in res["rounds"]],
                   "sparsity": [r["sparsity"] for r in res["rounds"]],
                   "dense_tree_kept": [tree_edges_kept(dense_tree, m) for m in res["masks"]],
                   "current_tree_kept": [1.0] + [tree_edges_kept(trees[r - 1], res["masks"][r])
                                                 for r in range(1, len(nets))],
                   "diagrams": {}}
            for r in diag_rounds:
                row["diagrams"][str(r)] = _diagram_summary(nets[r])
            row["all_identical"] = all(d["identical"] for d in row["diagrams"].values())
            out[variant] = row
        per_seed.append(out)

    def mean(variant, key):
        return np.mean([s[variant][key] for s in per_seed], axis=0).tolist()

    summary = {v: {k: mean(v, k) for k in ("accuracy", "sparsity", "dense_tree_kept", "current_tree_kept")}
               for v in VARIANTS}
    dense_acc = summary["imp"]["accuracy"][0]
    return {
        "sparsities": targets, "bound": bound, "layer_bounds": layer_bounds,
        "dense_accuracy": dense_acc, "tolerance_points": p["tolerance"],
        "first_sparsity_below": {v: first_below(targets, summary[v]["accuracy"], dense_acc, p["tolerance"])
                                 for v in VARIANTS},
        "mean": summary, "per_seed": per_seed, "diagram_rounds": diag_rounds,
        "diagrams_identical": all(s[v]["all_identical"] for s in per_seed for v in VARIANTS),
        "params": p, "device": str(device), "wall_time_s": time.perf_counter() - t0,
    }
