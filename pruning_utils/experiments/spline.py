"""Chapter 02: the max-affine spline view of pruning and early-bird tickets (You, Balestriero et al., TMLR 2022).

For each seed:

1. **Search.** Train the dense network for the whole schedule with an L1
   penalty on the BatchNorm scales (the early-bird papers' search run) and
   both early-bird detectors attached: the spline detector (activation codes
   of a canvas ``alpha x0 + beta x1`` of two test images of different
   classes; early bird when the largest partition distance to the last
   ``spline_window`` epochs is below ``spline_threshold``) and the original
   mask detector (global ``|gamma|`` channel masks at ``ratio``; early bird
   when the newest mask is within ``mask_threshold`` of the other
   ``mask_queue - 1``). The state at the spline detector's epoch is kept.
2. **Tickets.** Channel masks from ``|gamma|`` at ``ratio`` (global, as the
   early-bird papers): the early-bird ticket from the state at the spline
   early-bird epoch, the full-training ticket from the trained network. Each
   is retrained from the same initialisation for the whole schedule (no
   penalty), so the two differ only in their mask. The control:
   ``random_tickets`` random channel masks with the early-bird ticket's
   per-layer counts (its widths), retrained the same way. The harder
   comparison: the same three kinds of ticket with ``hard_ratio`` of every
   layer's channels removed (layer-wise ``|gamma|``), where a ticket costs
   accuracy against the dense network, and two random draws of the same
   widths.
3. **FLOPs.** Training FLOPs of the early-bird pipeline (search up to the
   early-bird epoch, the detector's canvas forward passes at every epoch up
   to it, then the ticket for the whole schedule) against the usual
   train-prune-retrain pipeline (dense training, then the same ticket) and
   against dense training alone, computed from the model
   (:func:`pruning_utils.spline.training_flops`).
4. **Channel criteria.** On the fully trained network: channels removed at
   each of ``ratios``, layer-wise and global, by the spline criterion (this
   book's), ``|gamma|``, the L1 norm of the channel's weights and at random;
   test accuracy right after pruning and after ``finetune_epochs``. For the
   global ranking every criterion's scores are divided by their layer's
   median, as the spline criterion's are (raw ``|gamma|`` ranked globally can
   empty a layer at high ratios; the tickets keep network slimming's raw
   ranking).

``CLAIMS`` turn the result into verdicts.
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch

from ..claims import Claim, Control, Statistic, not_measured
from ..data import HELD, dataset_info
from ..masks import apply_masks, dense_state_dict, sparsity_report
from ..models import build_model
from ..params import Choice, Float, FloatList, Int, validate
from ..spline import (CODES, L1GammaPenalty, MaskEarlyBird, SplineEarlyBird, canvas, channel_l1_scores, channel_masks,
                      code_bytes_per_input,
                      forward_flops, keep_from_scores, slimming_scores, spline_scores, training_flops)
from ..train import Callback, TrainConfig, evaluate, train
from .common import RUNTIME_SCHEMA, check_model, dataset_bytes, load_data, swap_seeds

SCHEMA = {
    "dataset": Choice("mnist5k", ("mnist5k", "digits", "mnist", "fashion-mnist", "cifar10", "cifar100")),
    "model": Choice("mlpbn", ("mlpbn", "smallconv", "vgg11", "vgg16", "preresnet20", "preresnet56", "preresnet110")),
    "width": Int(128, 2, 100_000, help="mlpbn: units per hidden layer; smallconv: channels of the first conv "
                                        "(the second has twice as many)"),
    "depth": Int(3, 1, 100, help="mlpbn: hidden layers"),
    "epochs": Int(30, 4, 1000),
    "batch_size": Int(128, 1, 4096),
    "lr": Float(0.1, 0.0, 10.0, low_inclusive=False),
    "momentum": Float(0.9, 0.0, 1.0, high_inclusive=False),
    "weight_decay": Float(1e-4, 0.0, 0.1),
    "augment": Choice("none", ("none", "crop_flip")),
    "l1_gamma": Float(1e-4, 0.0, 1.0, help="L1 penalty on BatchNorm scales during the search run"),
    "ratio": Float(0.5, 0.0, 1.0, high_inclusive=False, help="fraction of channels the tickets remove"),
    "spline_threshold": Float(0.16, 0.0, 1.0, low_inclusive=False),
    "spline_window": Int(3, 1, 100),
    "mask_threshold": Float(0.1, 0.0, 1.0),
    "mask_queue": Int(5, 2, 100),
    "canvas_size": Int(100, 2, 1000, help="the canvas holds canvas_size^2 probe images"),
    "ratios": FloatList((0.3, 0.5, 0.7), 0.0, 1.0, high_inclusive=False,
                        help="channel ratios for the criterion comparison"),
    "random_tickets": Int(2, 0, 100, help="random channel masks of the early-bird ticket's widths, per seed"),
    "hard_ratio": Float(0.9, 0.0, 1.0, high_inclusive=False,
                        help="fraction of every layer's channels removed in the harder ticket comparison"),
    "finetune_epochs": Int(2, 0, 100),
    "finetune_lr": Float(0.01, 0.0, 10.0, low_inclusive=False),
    "seeds": Int(3, 1, 20),
    "seed": Int(0, 0, 10**6),
    **RUNTIME_SCHEMA,
}

PROFILES = {
    # the chapter's defaults: a BatchNorm MLP (3 x 128) on mnist5k, three seeds, about a minute on a 2-core CPU
    "default": {},
    # the early-bird papers' CIFAR setting: SGD 0.1, momentum 0.9, wd 1e-4, x0.1 at epochs 80 and 120 of 160
    "paper": {"dataset": "cifar10", "download": True, "model": "vgg16", "epochs": 160, "augment": "crop_flip",
              "finetune_epochs": 5, "seeds": 1, "progress": True},
    "paper_preresnet": {"dataset": "cifar100", "download": True, "model": "preresnet56", "epochs": 160,
                        "augment": "crop_flip", "finetune_epochs": 5, "seeds": 1, "progress": True},
    # the whole of Fashion-MNIST on the two-convolution BatchNorm net (8 and 16 channels): channels, as the
    # early-bird papers prune, where a CPU can train it; 20 epochs (LeNet-300-100 on these images settled by
    # then, chapter 00's curve; this run stores its own dense accuracy per epoch), three seeds
    "full": {"dataset": "fashion-mnist", "model": "smallconv", "width": 8, "epochs": 20, "progress": True},
}

#: what a smoke run cuts (:mod:`pruning_utils.smoke`): every loop to a few steps, the model and batch kept
SMOKE = {"epochs": 4, "finetune_epochs": 1, "random_tickets": 1, "canvas_size": 10, "ratios": (0.5,), "seeds": 1}

CRITERIA = ("spline", "gamma", "l1", "random")
SCOPES = ("layerwise", "global")


class _KeepStateAt(Callback):
    """Keeps the model's state at the epoch a detector first fires."""

    def __init__(self, detector):
        self.detector = detector
        self.state = None

    def on_epoch_end(self, state):
        if self.state is None and self.detector.triggered_epoch == state.epoch + 1:
            self.state = dense_state_dict(state.model)


def _probe(test_data, n, device):
    """Two test images of different classes (the first of class 0 and the first of another class)."""
    x, y = test_data
    i0 = int(torch.nonzero(y == y[0])[0])
    i1 = int(torch.nonzero(y != y[0])[0])
    return canvas(x[i0].float(), x[i1].float(), n).to(device)


def _per_layer_median(scores):
    """Each layer's scores divided by their median: the normalisation the spline criterion uses, so that the
    global comparison ranks every criterion the same way (layer-wise pruning is unaffected)."""
    out = {}
    for n, v in scores.items():
        med = float(v.double().median())
        out[n] = v.double() / (med if med > 0 else 1.0)
    return out


def _scores(criterion, model, seed):
    if criterion == "spline":
        return spline_scores(model)
    if criterion == "gamma":
        return _per_layer_median(slimming_scores(model))
    if criterion == "l1":
        return _per_layer_median(channel_l1_scores(model))
    g = torch.Generator().manual_seed(seed)
    return {n: torch.rand(s.shape, generator=g) for n, s in slimming_scores(model).items()}


def _random_keep(keep, g):
    """Random channels with the per-layer counts of ``keep`` ({layer: list of bools})."""
    out = {}
    for k, v in keep.items():
        kv = torch.zeros(len(v), dtype=torch.bool)
        kv[torch.randperm(len(v), generator=g)[:int(sum(v))]] = True
        out[k] = kv
    return out


def _retrain_ticket(build, init, keep, train_data, test_data, cfg):
    """Test accuracy of the channel ticket ``keep`` retrained from ``init`` with ``cfg``."""
    ticket = build()
    ticket.load_state_dict(init)
    apply_masks(ticket, channel_masks(ticket, keep))
    return train(ticket, train_data, cfg.replace(eval_every=0), test_data=test_data)["test_accuracy"][-1]


def train_config(p: dict, seed: int = 0) -> TrainConfig:
    """The search (dense, L1 on gamma) and ticket training schedule of ``run`` (``p``: validated parameters)."""
    return TrainConfig(epochs=p["epochs"], batch_size=p["batch_size"], lr=p["lr"], momentum=p["momentum"],
                       weight_decay=p["weight_decay"], schedule="step",
                       milestones=(0.5 * p["epochs"], 0.75 * p["epochs"]), augment=p["augment"],
                       eval_every=1, progress=p["progress"], seed=seed)


def finetune_config(cfg: TrainConfig, p: dict) -> TrainConfig:
    """The fine-tuning schedule after one-shot channel pruning: ``cfg`` at a constant ``finetune_lr``."""
    return cfg.replace(epochs=max(1, p["finetune_epochs"]), schedule="constant", lr=p["finetune_lr"],
                       milestones=(), eval_every=0)


def model_builder(p: dict, info: dict, device="cpu"):
    """``build(seed=None)``: the chapter's network for validated parameters ``p`` and dataset ``info`` (the
    BatchNorm MLP of ``width`` x ``depth``, the BatchNorm conv net of ``width`` channels, or the named model),
    on ``device``."""
    if p["model"] == "mlpbn":
        def build(seed=None):
            return build_model("mlp", info["shape"], info["classes"], seed=seed,
                               hidden=(p["width"],) * p["depth"], batchnorm=True).to(device)
    elif p["model"] == "smallconv":
        def build(seed=None):
            return build_model("smallconv", info["shape"], info["classes"], seed=seed, width=p["width"]).to(device)
    else:
        def build(seed=None):
            return build_model(p["model"], info["shape"], info["classes"], seed=seed).to(device)
    return build


def training_steps(p: dict, sizes) -> dict:
    """Optimizer steps of ``run(**p)`` (``p`` validated; ``sizes(dataset)``: its training and test images), per
    seed: the search run, the two tickets, the random tickets, the harder comparison's two tickets and two random
    ones (all of the schedule's length), and each criterion's fine-tuning at each ratio in both scopes. Tickets
    train masked full-width networks, so every step costs a dense step. A smoke run checks the count against
    the steps it made; the projection multiplies it by their time."""
    spe = sizes(p["dataset"])[0] // p["batch_size"]
    trainings = 1 + 2 + p["random_tickets"] + 2 + 2
    finetune = len(CRITERIA) * len(SCOPES) * len(p["ratios"]) * p["finetune_epochs"]
    return {"training": p["seeds"] * spe * (p["epochs"] * trainings + finetune)}


def memory_structures(p: dict, sizes) -> dict:
    """Bytes of the run's largest structures: the dataset on the device, and the spline detector's canvas
    codes (packed bits of every BatchNorm unit of ``canvas_size^2`` images) for the window's epochs and the
    current one, on the host."""
    info = dataset_info(p["dataset"])
    per_input = code_bytes_per_input(model_builder(p, info)(), info["shape"])
    return {HELD: dataset_bytes(p["dataset"], sizes),
            CODES: (p["spline_window"] + 1) * p["canvas_size"] ** 2 * per_input}


def run(**params) -> dict:
    p = validate(params, SCHEMA)
    if p["model"] != "mlpbn":
        check_model(p, p["model"])
    t0 = time.perf_counter()
    device, info, train_data, test_data = load_data(p)
    build = model_builder(p, info, device)
    n_train = train_data[0].shape[0]
    cfg = train_config(p)
    ft = finetune_config(cfg, p)
    probe = _probe(test_data, p["canvas_size"], device)

    per_seed = []
    for i in range(p["seeds"]):
        seed = p["seed"] + i
        model = build(seed)
        init = dense_state_dict(model)
        spline_eb = SplineEarlyBird(probe, p["spline_threshold"], p["spline_window"])
        mask_eb = MaskEarlyBird(p["ratio"], p["mask_queue"], p["mask_threshold"])
        keeper = _KeepStateAt(spline_eb)
        hist = train(model, train_data, cfg.replace(seed=seed), test_data=test_data,
                     callbacks=[L1GammaPenalty(p["l1_gamma"]), spline_eb, mask_eb, keeper])
        eb_epoch = spline_eb.triggered_epoch or p["epochs"]
        eb_state = keeper.state if keeper.state is not None else dense_state_dict(model)
        final_state = dense_state_dict(model)

        tickets = {}
        for name, state in (("early_bird", eb_state), ("full", final_state)):
            net = build()
            net.load_state_dict(state)
            keep = keep_from_scores(slimming_scores(net), p["ratio"], "global")
            masks = channel_masks(net, keep)
            ticket = build()
            ticket.load_state_dict(init)
            apply_masks(ticket, masks)
            h = train(ticket, train_data, cfg.replace(seed=seed + 1, eval_every=0), test_data=test_data)
            tickets[name] = {"keep": {k: v.tolist() for k, v in keep.items()}, "test_accuracy": h["test_accuracy"][-1],
                             "weight_sparsity": sparsity_report(masks, warn=False)["sparsity"],
                             "forward_flops": forward_flops(ticket, info["shape"], masks)}
        # the control: random channels of the early-bird ticket's per-layer counts, retrained the same way
        g = torch.Generator().manual_seed(10_007 * seed + 1)
        random_acc = []
        for _ in range(p["random_tickets"]):
            random_acc.append(_retrain_ticket(build, init, _random_keep(tickets["early_bird"]["keep"], g), train_data,
                                              test_data, cfg.replace(seed=seed + 1)))
        tickets["random_same_widths"] = {"test_accuracy": random_acc}

        # the harder comparison: hard_ratio of every layer's channels removed, where tickets cost accuracy
        hard = {"ratio": p["hard_ratio"]}
        for name, state in (("early_bird", eb_state), ("full", final_state)):
            net = build()
            net.load_state_dict(state)
            keep = keep_from_scores(slimming_scores(net), p["hard_ratio"], "layerwise")
            hard[name] = _retrain_ticket(build, init, keep, train_data, test_data, cfg.replace(seed=seed + 1))
            hard[f"{name}_keep"] = {k: v.tolist() for k, v in keep.items()}
        hard["random_same_widths"] = [
            _retrain_ticket(build, init, _random_keep(hard["early_bird_keep"], g), train_data, test_data,
                            cfg.replace(seed=seed + 1)) for _ in range(2)]
        tickets["hard"] = hard
        overlap = np.mean([np.mean(np.array(tickets["early_bird"]["keep"][k]) == np.array(tickets["full"]["keep"][k]))
                           for k in tickets["full"]["keep"]])
        # the spline detector's cost: one forward pass of the dense network per canvas image, every epoch up to
        # the one it fires at (an early-bird pipeline stops the search and the detector there)
        dense_fwd = forward_flops(build(), info["shape"])
        detector = float(dense_fwd) * probe.shape[0] * eb_epoch
        ticket_masks = channel_masks(build(), {k: torch.tensor(v) for k, v in tickets["early_bird"]["keep"].items()})
        E = p["epochs"]
        eb_search = training_flops(build(), info["shape"], n_train, eb_epoch)
        eb_ticket = training_flops(build(), info["shape"], n_train, E, ticket_masks)
        eb_flops = eb_search + detector + eb_ticket
        std_flops = (training_flops(build(), info["shape"], n_train, E)
                     + training_flops(build(), info["shape"], n_train, E, ticket_masks))
        dense_flops = training_flops(build(), info["shape"], n_train, E)

        # channel criteria on the fully trained network
        criteria = {}
        for crit in CRITERIA:
            for scope in SCOPES:
                rows = {"pruned": [], "finetuned": []}
                for ratio in p["ratios"]:
                    net = build()
                    net.load_state_dict(final_state)
                    keep = keep_from_scores(_scores(crit, net, seed * 1000 + int(100 * ratio)), ratio, scope)
                    apply_masks(net, channel_masks(net, keep))
                    rows["pruned"].append(evaluate(net, test_data)["accuracy"])
                    if p["finetune_epochs"] > 0:
                        h = train(net, train_data, ft.replace(seed=seed + 2), test_data=test_data)
                        rows["finetuned"].append(h["test_accuracy"][-1])
                criteria[f"{crit}/{scope}"] = rows

        per_seed.append({
            "seed": seed, "dense_accuracy": hist["test_accuracy"][-1], "test_accuracy_per_epoch": hist["test_accuracy"],
            "spline_distance": spline_eb.history, "mask_distance": mask_eb.history,
            "spline_eb_epoch": spline_eb.triggered_epoch, "mask_eb_epoch": mask_eb.triggered_epoch,
            "ticket_epoch": eb_epoch, "tickets": tickets, "ticket_channel_agreement": float(overlap),
            "flops": {"dense_forward": dense_fwd, "ticket_forward": tickets["early_bird"]["forward_flops"],
                      "early_bird_training": eb_flops, "early_bird_search": eb_search, "detector": detector,
                      "early_bird_ticket_training": eb_ticket, "train_prune_retrain": std_flops,
                      "dense_training": dense_flops},
            "criteria": criteria,
        })
    return {"epochs": p["epochs"], "ratios": list(p["ratios"]), "ratio": p["ratio"], "per_seed": per_seed,
            "params": p, "device": str(device), "wall_time_s": time.perf_counter() - t0}


# ---------------------------------------------------------------------------
# claims; decided per seed (see pruning_utils.claims), verdicts only

#: how far above its settled level the spline statistic may be when the detector fires: twice its lowest value
#: before the first learning-rate drop (the drop itself makes every later distance smaller)
SETTLED = 2.0


def _first_phase_low(r, s):
    """The lowest spline statistic before the first learning-rate drop (epochs up to half of training)."""
    vals = [d for d in s["spline_distance"][:r["epochs"] // 2] if d is not None]
    return min(vals) if vals else None


def _eb_early(r):
    E = r["epochs"]
    ep = [s["spline_eb_epoch"] for s in r["per_seed"]]
    # a detector that never fired counts as epoch E + 1 (fails); "first half" is epoch <= E / 2, for whole
    # epochs the same as < floor(E / 2) + 1/2
    vals = [E + 1 if e is None else e for e in ep]
    ratio = []
    for s, e in zip(r["per_seed"], ep):
        low = _first_phase_low(r, s)
        d = s["spline_distance"][e - 1] if e is not None else None
        ratio.append(float("inf") if d is None or not low else d / low)
    ratio = [min(x, 1e6) for x in ratio]
    earliest = [next((i + 1 for i, d in enumerate(s["spline_distance"]) if d is not None), None) for s in r["per_seed"]]
    return [Statistic("spline early-bird epoch (epochs + 1 where it never fired)", vals, E // 2 + 0.5, above=False),
            Statistic("spline statistic at the early-bird epoch / its lowest before the first learning-rate drop",
                      ratio, SETTLED, above=False)], \
        {"spline early-bird epoch per seed": ep, "earliest epoch the window allows": earliest,
         "mask early-bird epoch per seed": [s["mask_eb_epoch"] for s in r["per_seed"]], "epochs": E,
         "spline statistic at the early-bird epoch": [s["spline_distance"][e - 1] if e else None
                                                     for s, e in zip(r["per_seed"], ep)],
         "its lowest before the first learning-rate drop": [_first_phase_low(r, s) for s in r["per_seed"]]}


def _earliest_allowed(r):
    """The result with each seed's early-bird epoch moved to the first epoch the detector's window allows."""
    def assign(s, src):
        s["spline_eb_epoch"] = next((i + 1 for i, d in enumerate(src["spline_distance"]) if d is not None), None)
    return swap_seeds(r, assign, next_seed=False)


#: how much less accurate the early-bird ticket may be than the full-training ticket: two points. Measured
#: on two CPUs with seeds 0-2, the mean difference was +0.1 and +0.07 points with two standard errors of 0.2
#: and 1.3 points: a one-point margin sits within the seed noise on one of them (the verdict came out robust
#: on one machine and not on the other); two points clear it on both.
TICKET_MARGIN = 0.02


def _eb_ticket(r):
    eb = np.array([s["tickets"]["early_bird"]["test_accuracy"] for s in r["per_seed"]])
    full = np.array([s["tickets"]["full"]["test_accuracy"] for s in r["per_seed"]])
    return [Statistic("early-bird minus full-training ticket accuracy", (eb - full).tolist(), -TICKET_MARGIN,
                      over="mean")], \
        {"early-bird ticket accuracy per seed": eb.tolist(), "full-training ticket": full.tolist()}


def _random_tickets(r):
    """The result with the early-bird ticket's accuracy replaced by the mean of the random same-width tickets'."""
    def assign(s, src):
        s["tickets"]["early_bird"]["test_accuracy"] = float(np.mean(src["tickets"]["random_same_widths"]["test_accuracy"]))
    return swap_seeds(r, assign, next_seed=False)


#: how much more accurate than random channels of its widths the early-bird ticket must be at the harder ratio
HARD_MARGIN = 0.01


def _hard(r):
    eb = np.array([s["tickets"]["hard"]["early_bird"] for s in r["per_seed"]])
    rnd = np.array([s["tickets"]["hard"]["random_same_widths"][0] for s in r["per_seed"]])
    return [Statistic("early-bird minus random same-width ticket, harder ratio", (eb - rnd).tolist(), HARD_MARGIN,
                      over="mean")], \
        {"harder ratio": r["per_seed"][0]["tickets"]["hard"]["ratio"],
         "dense accuracy": [s["dense_accuracy"] for s in r["per_seed"]],
         "early-bird ticket": eb.tolist(), "full-training ticket": [s["tickets"]["hard"]["full"] for s in r["per_seed"]],
         "random same-width tickets": [s["tickets"]["hard"]["random_same_widths"] for s in r["per_seed"]]}


def _second_random_draw(r):
    """The harder comparison with the early-bird ticket replaced by the second random draw of its widths."""
    def assign(s, src):
        s["tickets"]["hard"]["early_bird"] = src["tickets"]["hard"]["random_same_widths"][1]
    return swap_seeds(r, assign, next_seed=False)


def _flops(r):
    f = [s["flops"] for s in r["per_seed"]]
    ratio = [x["train_prune_retrain"] / x["early_bird_training"] for x in f]
    return [Statistic("train-prune-retrain FLOPs / early-bird FLOPs, detector charged", ratio, 1.0)], \
        {"dense training FLOPs / early-bird FLOPs, detector charged":
             [x["dense_training"] / x["early_bird_training"] for x in f],
         "train-prune-retrain FLOPs / early-bird FLOPs, detector not charged":
             [x["train_prune_retrain"] / (x["early_bird_training"] - x.get("detector", 0.0)) for x in f],
         "detector's share of the early-bird pipeline": [x.get("detector", 0.0) / x["early_bird_training"] for x in f]}


def _crit(r, crit, scope, key="finetuned"):
    """Accuracies of one criterion and scope: seeds x ratios (None where not measured at every ratio)."""
    a = np.array([s["criteria"][f"{crit}/{scope}"][key] for s in r["per_seed"]], dtype=float)
    if a.ndim != 2 or a.shape[1] != len(r["ratios"]):
        return None
    return a


#: accuracy margin (as a fraction) for the channel-criterion comparisons: 3 points; on a 1,000-image test set
#: with three seeds and three ratios, smaller differences move with the seed
MARGIN = 0.03


def _criterion_stats(r, other, threshold, above):
    acc = {(c, scope): _crit(r, c, scope) for c in ("spline", other) for scope in SCOPES}
    if any(a is None for a in acc.values()):
        return not_measured("no accuracy after fine-tuning at every ratio: set 'finetune_epochs' > 0")
    d = {scope: acc[("spline", scope)] - acc[(other, scope)] for scope in SCOPES}
    stats = [Statistic(f"spline minus {other}, {scope}, after fine-tuning, mean over ratios", v.mean(1).tolist(),
                       threshold, above=above, over="mean") for scope, v in d.items()]
    nums = {"ratios": r["ratios"], **{f"spline minus {other}, {k}, after fine-tuning, mean over seeds per ratio":
                                      v.mean(0).tolist() for k, v in d.items()}}
    return stats, nums


def _criterion_swap(r, by, next_seed):
    """The result with the spline criterion's accuracies replaced by ``by``'s, of the same seed or (``next_seed``)
    of the next one (seed i gets seed i + 1's, cyclically)."""
    def assign(s, src):
        for scope in SCOPES:
            s["criteria"][f"spline/{scope}"] = copy.deepcopy(src["criteria"][f"{by}/{scope}"])
    return swap_seeds(r, assign, next_seed)


def _not_worse_than_gamma(r):
    return _criterion_stats(r, "gamma", -MARGIN, above=True)


def _beats_random(r):
    return _criterion_stats(r, "random", MARGIN, above=True)


CLAIMS = [
    Claim("spline_early_bird_found_early",
          "The spline early-bird detector fires in the first half of training, at a partition that has settled: "
          "its statistic there is at most twice its lowest value before the first learning-rate drop, every seed",
          "you2022spline", _eb_early,
          control=Control("the earliest epoch the window allows",
                          "The detector's statistic read at the first epoch its window allows instead of where it "
                          "fired: if that passed as well, the epoch would say nothing the window does not",
                          _earliest_allowed)),
    Claim("early_bird_ticket_matches_full_ticket",
          "The early-bird ticket, retrained from the same initialisation, is at most two points less accurate "
          "than the ticket drawn after full training (mean over seeds)",
          "you2022spline", _eb_ticket,
          control=Control("random tickets of the same widths",
                          "Random channels with the early-bird ticket's per-layer counts, retrained from the same "
                          "initialisation with the same schedule: if they also came within two points, the ticket's "
                          "widths, not the channels it picks, would be what matches",
                          _random_tickets)),
    Claim("early_bird_ticket_beats_random_channels",
          "With the share hard_ratio of every layer's channels removed (nine tenths by default), where a ticket "
          "costs accuracy against the dense "
          "network, the early-bird ticket retrained from the initialisation is more accurate than random channels of "
          "the same widths by more than one point (mean over seeds)",
          "you2020drawing", _hard,
          control=Control("another draw of random channels",
                          "A second random draw of the same widths in the early-bird ticket's place: the margin must "
                          "exceed what one random draw gains over another", _second_random_draw)),
    Claim("early_bird_saves_training_flops",
          "Training with the early-bird ticket, the detector's canvas passes charged, costs fewer FLOPs than "
          "training, pruning and retraining the same ticket, every seed",
          "you2022spline", _flops, kind="check",
          note="follows from the early-bird epoch, the ticket's width and the canvas size once the detector fires "
               "before the last epoch; the ratios, with and without the detector, are in the numbers"),
    Claim("spline_criterion_matches_gamma",
          "After fine-tuning, our spline channel criterion is at most three points less accurate than "
          "BatchNorm-scale pruning, layer-wise and global (mean over seeds and ratios)",
          "you2022spline", _not_worse_than_gamma,
          control=Control("random channel pruning",
                          "Random channels of the same per-layer counts, fine-tuned the same way, in the spline "
                          "criterion's place: if they also came within three points of BatchNorm-scale pruning, "
                          "matching it would say nothing about the criterion",
                          lambda r: _criterion_swap(r, "random", next_seed=False))),
    Claim("spline_criterion_beats_random",
          "After fine-tuning, our spline channel criterion is more accurate than random channel pruning by more "
          "than three points, layer-wise and global (mean over seeds and ratios)",
          "you2022spline", _beats_random,
          control=Control("random channel pruning under another seed",
                          "Random channel pruning of the next seed in the spline criterion's place: the margin must "
                          "exceed random pruning's own change from seed to seed",
                          lambda r: _criterion_swap(r, "random", next_seed=True))),
]
