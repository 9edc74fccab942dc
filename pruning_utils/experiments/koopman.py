"""Chapter 01: Koopman magnitude and gradient pruning (Redman et al., ICLR 2022).

One training run records the flattened prunable weights after every batch in
three windows of ``window`` snapshots: early, mid and late in training. For
each window:

* KMP against GMP: masks from ``kmp_scores`` of the window and from the
  magnitudes at the window's last snapshot, at every sparsity of the grid;
  their agreement (fraction of weights on which the masks agree) and the
  overlap of their kept sets;
* accuracy against compression for both masks, right after pruning the
  network as it was at the window's end and after ``finetune_epochs`` of
  fine-tuning;
* KGP against gradient pruning (``|theta * dL/dtheta|`` with the gradient of
  the mean loss over the whole training set at the window's end, in eval
  mode): agreement, and accuracy right after pruning.
"""

from __future__ import annotations

import time

import torch

from ..koopman import SnapshotRecorder, dmd_decomposition, kgp_scores, kmp_scores
from ..masks import apply_masks, mask_overlap, masks_from_scores
from ..models import build_model
from ..params import Choice, Float, FloatList, Int, validate
from ..scores import snip_scores
from ..train import StateRecorder, TrainConfig, evaluate, train
from .common import RUNTIME_SCHEMA, load_data

SCHEMA = {
    "dataset": Choice("mnist5k", ("mnist5k", "digits", "mnist", "fashion-mnist", "cifar10")),
    "model": Choice("lenet300100", ("lenet300100", "mnistnet", "resnet20")),
    "epochs": Int(8, 2, 1000),
    "batch_size": Int(128, 1, 4096),
    "lr": Float(0.05, 0.0, 10.0, low_inclusive=False),
    "momentum": Float(0.9, 0.0, 1.0, high_inclusive=False),
    "weight_decay": Float(0.0, 0.0, 0.1),
    "augment": Choice("none", ("none", "crop_flip")),
    "window": Int(40, 3, 100_000, help="snapshots per window (one per batch)"),
    "early_end": Float(0.05, 0.0, 1.0, low_inclusive=False, help="where the early window ends, as a fraction of training"),
    "mid_end": Float(0.5, 0.0, 1.0, low_inclusive=False, help="where the mid window ends, as a fraction of training"),
    "compressions": FloatList((2, 4, 8, 16, 32, 64), 1.0, 1e6, help="compression ratios N / kept"),
    "agreement_sparsity": Float(0.9, 0.0, 1.0, high_inclusive=False,
                                help="sparsity at which the headline agreement is reported"),
    "finetune_epochs": Int(1, 0, 100),
    "finetune_lr": Float(0.01, 0.0, 10.0, low_inclusive=False),
    "accuracy_windows": Choice("all", ("all", "late")),
    "seed": Int(0, 0, 10**6),
    **RUNTIME_SCHEMA,
}

PROFILES = {
    # the chapter's defaults: LeNet-300-100 on mnist5k, well under a minute on a 2-core CPU
    "default": {},
    # the chapter's second network: the MnistNet of Redman et al. (conv 20, conv 50, fc 500, fc 10)
    "default_mnistnet": {"model": "mnistnet", "epochs": 6, "accuracy_windows": "late"},
    # paper scale: MnistNet on MNIST and ResNet-20 on CIFAR-10 (Redman et al., Fig. 1)
    "paper": {"dataset": "mnist", "download": True, "model": "mnistnet", "epochs": 20,
              "batch_size": 128, "lr": 0.05, "window": 100, "progress": True},
    "paper_resnet20": {"dataset": "cifar10", "download": True, "model": "resnet20", "epochs": 160,
                       "batch_size": 128, "lr": 0.1, "weight_decay": 1e-4, "augment": "crop_flip",
                       "window": 100, "finetune_lr": 0.01, "progress": True},
}

WINDOWS = ("early", "mid", "late")


def window_bounds(total_steps: int, window: int, early_end: float, mid_end: float) -> dict:
    """First and last recorded step of each window (snapshot steps, inclusive)."""
    bounds = {}
    for name, frac in (("early", early_end), ("mid", mid_end), ("late", 1.0)):
        end = max(window - 1, int(round(frac * total_steps)))
        end = min(end, total_steps)
        bounds[name] = (end - (window - 1), end)
    return bounds


def _accuracy(model_fn, state, masks, train_data, test_data, ft_cfg, finetune_epochs):
    net = model_fn()
    net.load_state_dict(state)
    apply_masks(net, masks)
    before = evaluate(net, test_data)["accuracy"]
    after = None
    if finetune_epochs > 0:
        hist = train(net, train_data, ft_cfg, test_data=test_data)
        after = hist["test_accuracy"][-1]
    return before, after


def run(**params) -> dict:
    p = validate(params, SCHEMA)
    t0 = time.perf_counter()
    device, info, train_data, test_data = load_data(p)
    spe = train_data[0].shape[0] // p["batch_size"]
    total = p["epochs"] * spe
    if p["window"] > total + 1:
        raise ValueError(f"parameter 'window' = {p['window']} is not allowed; training has only "
                         f"{total} steps, so at most {total + 1} snapshots")
    cfg = TrainConfig(epochs=p["epochs"], batch_size=p["batch_size"], lr=p["lr"], momentum=p["momentum"],
                      weight_decay=p["weight_decay"], schedule="step",
                      milestones=(0.5 * p["epochs"], 0.75 * p["epochs"]), augment=p["augment"],
                      seed=p["seed"], eval_every=0, progress=p["progress"])
    ft_cfg = cfg.replace(epochs=p["finetune_epochs"] or 1, schedule="constant", lr=p["finetune_lr"],
                         milestones=(), seed=p["seed"] + 1)

    def model_fn():
        return build_model(p["model"], info["shape"], info["classes"]).to(device)

    model = build_model(p["model"], info["shape"], info["classes"], seed=p["seed"]).to(device)
    bounds = window_bounds(total, p["window"], p["early_end"], p["mid_end"])
    recorders = {w: SnapshotRecorder(model, b[0], p["window"]) for w, b in bounds.items()}
    states = StateRecorder([b[1] for b in bounds.values()])
    train(model, train_data, cfg, callbacks=[*recorders.values(), states])
    dense_final = evaluate(model, test_data)["accuracy"]

    sparsities = [1.0 - 1.0 / c for c in p["compressions"]]
    grid = sorted(set(sparsities) | {p["agreement_sparsity"]})
    out_windows = {}
    for w in WINDOWS:
        rec, (first, last) = recorders[w], bounds[w]
        snaps = rec.snapshots
        dec = dmd_decomposition(snaps)
        kmp = rec.unflatten(kmp_scores(snaps))
        gmp = rec.unflatten(snaps[-1].abs())
        kgp = rec.unflatten(kgp_scores(snaps))
        net = model_fn()
        net.load_state_dict(states.states[last])
        dense_acc = evaluate(net, test_data)["accuracy"]
        net.eval()  # the gradient of the network as it is (BatchNorm statistics frozen)
        gp = snip_scores(net, *train_data, batch_size=1024)
        row = {"first_step": first, "last_step": last, "epoch": last / spe, "dense_accuracy": dense_acc,
               "eigvals": [[float(z.real), float(z.imag)] for z in dec.eigvals.cpu()],
               "rank": int(dec.eigvals.numel()),
               "eig_nearest_1": float(dec.eigvals[torch.argmin((dec.eigvals - 1).abs())].real),
               "sparsities": grid, "kmp_gmp_agreement": [], "kmp_gmp_kept_overlap": [],
               "kgp_gp_agreement": [], "kgp_gp_kept_overlap": []}
        for s in grid:
            for a, b, key in ((kmp, gmp, "kmp_gmp"), (kgp, gp, "kgp_gp")):
                ma, mb = masks_from_scores(a, s), masks_from_scores(b, s)
                row[f"{key}_agreement"].append(mask_overlap(ma, mb))
                kept_a = sum(int(m.sum()) for m in ma.values())
                both = sum(int((ma[n] & mb[n]).sum()) for n in ma)
                row[f"{key}_kept_overlap"].append(both / kept_a)
        if p["accuracy_windows"] == "all" or w == "late":
            acc = {k: {"pruned": [], "finetuned": []} for k in ("kmp", "gmp", "kgp", "gp")}
            for s in sparsities:
                for name, sc in (("kmp", kmp), ("gmp", gmp)):
                    before, after = _accuracy(model_fn, states.states[last], masks_from_scores(sc, s),
                                              train_data, test_data, ft_cfg, p["finetune_epochs"])
                    acc[name]["pruned"].append(before)
                    acc[name]["finetuned"].append(after)
                for name, sc in (("kgp", kgp), ("gp", gp)):
                    before, _ = _accuracy(model_fn, states.states[last], masks_from_scores(sc, s),
                                          train_data, test_data, ft_cfg, 0)
                    acc[name]["pruned"].append(before)
            row["accuracy"] = acc
        out_windows[w] = row

    at = grid.index(p["agreement_sparsity"])
    return {
        "model": p["model"], "dataset": p["dataset"], "steps_per_epoch": spe, "total_steps": total,
        "dense_accuracy": dense_final, "compressions": list(p["compressions"]), "sparsities": sparsities,
        "windows": out_windows,
        "headline": {w: {"kmp_gmp_agreement": out_windows[w]["kmp_gmp_agreement"][at],
                         "kgp_gp_agreement": out_windows[w]["kgp_gp_agreement"][at]} for w in WINDOWS},
        "params": p, "device": str(device), "wall_time_s": time.perf_counter() - t0,
    }
