"""Iterative magnitude pruning (IMP) with rewinding, checkpointed every round.

Round 0 trains the dense network from its initialisation and remembers the
weights at step ``k`` (``rewind_step``; ``k = 0`` is the initialisation, the
original lottery-ticket setting of Frankle & Carbin 2019). Every later round
removes ``prune_fraction`` of the weights still kept, by magnitude (or any
score), then retrains:

* ``rewind_weights=True``: from the weights at step ``k`` (weight rewinding,
  Frankle et al. 2020), with the LR schedule replayed from step ``k``;
* ``rewind_weights=False, rewind_lr=True``: from the trained weights, with the
  LR schedule replayed from step ``k`` (learning-rate rewinding, Renda et al. 2020);
* ``rewind_lr=False``: the ``T - k`` retraining steps use the schedule's final
  learning rate (fine-tuning, Han et al. 2015).

With ``run_dir`` every round is saved atomically (temp file, then rename) and a
second call with the same arguments resumes after the last finished round;
on the CPU the resumed run is bitwise identical to an uninterrupted one.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from .masks import SCOPES, apply_masks, dense_state_dict, masks_from_scores, sparsity_report
from .params import Bool, Choice, Float, Int, validate
from .scores import magnitude_scores
from .train import StateRecorder, TrainConfig, evaluate, lr_at, train

__all__ = ["IMPConfig", "run_imp", "train_pruned", "imp_sparsities", "load_round"]

IMP_SCHEMA = {
    "rounds": Int(5, 0, None, help="pruning rounds after the dense round 0"),
    "prune_fraction": Float(0.2, 0.0, 1.0, low_inclusive=False, high_inclusive=False,
                            help="fraction of the remaining weights removed per round"),
    "scope": Choice("global", SCOPES),
    "rewind_step": Int(0, 0, None, help="optimizer step whose weights (and LR) rounds rewind to"),
    "rewind_weights": Bool(True),
    "rewind_lr": Bool(True),
}


@dataclass(frozen=True)
class IMPConfig:
    rounds: int = 5
    prune_fraction: float = 0.2
    scope: str = "global"
    rewind_step: int = 0
    rewind_weights: bool = True
    rewind_lr: bool = True

    def __post_init__(self):
        for k, v in validate(asdict(self), IMP_SCHEMA).items():
            object.__setattr__(self, k, v)

    def replace(self, **changes) -> "IMPConfig":
        return replace(self, **changes)


def imp_sparsities(rounds: int, prune_fraction: float) -> list:
    """Target sparsity after each round ``r = 0..rounds``: ``1 - (1 - p)^r``."""
    return [1.0 - (1.0 - prune_fraction) ** r for r in range(rounds + 1)]


def _atomic_save(obj, path: Path):
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _fingerprint(state: dict) -> str:
    h = hashlib.sha256()
    for k in sorted(state):
        h.update(k.encode())
        h.update(state[k].detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _steps_per_epoch(train_data, config: TrainConfig) -> int:
    return train_data[0].shape[0] // config.batch_size


def train_pruned(model: nn.Module, start_state: dict, masks: dict, train_data, test_data,
                 train_config: TrainConfig, start_step: int = 0, rewind_lr: bool = True,
                 callbacks=()):
    """Retrain one masked network: a copy of ``model`` loaded with ``start_state``
    (unpruned layout), masked, trained from ``start_step`` to the end.

    ``rewind_lr=False`` replaces the schedule by its final learning rate.
    Returns ``(trained model, history, {"test_accuracy", "test_loss"})``.
    """
    net = copy.deepcopy(model)
    net.load_state_dict(start_state)
    device = next(net.parameters()).device
    apply_masks(net, {n: m.to(device) for n, m in masks.items()})
    config = train_config
    if not rewind_lr:
        spe = _steps_per_epoch(train_data, train_config)
        final = lr_at(train_config, train_config.epochs * spe - 1, spe)
        config = train_config.replace(schedule="constant", lr=final, warmup_epochs=0.0)
    history = train(net, train_data, config, test_data=test_data, start_step=start_step,
                    callbacks=callbacks)
    # train() always evaluates after its last step
    return net, history, {"test_accuracy": history["test_accuracy"][-1],
                          "test_loss": history["test_loss"][-1]}


def _curve(history: dict) -> dict:
    """The learning curve a round keeps: epochs and test accuracies of its evaluations."""
    return {"epoch": [float(e) for e in history["epoch"]],
            "test_accuracy": [float(a) for a in history["test_accuracy"]]}


def load_round(run_dir, r: int) -> dict:
    """One saved round of a run: ``round``, ``masks``, ``state`` (trained, dense layout), ``metrics``."""
    return torch.load(Path(run_dir) / f"round_{r:03d}.pt", weights_only=True)


def run_imp(model: nn.Module, train_data, test_data, train_config: TrainConfig,
            imp_config: IMPConfig, run_dir=None,
            scores_fn: Callable[[nn.Module], dict] = magnitude_scores,
            callbacks=(), on_round: Callable[[dict], None] | None = None) -> dict:
    """Iterative pruning of ``model`` (its initialisation; it is not modified).

    Returns ``{"rounds": [per-round metrics], "masks": [masks per round],
    "states": [trained state per round, unpruned layout, CPU], "rewind_state": ...,
    "dense_state": ..., "init_state": ...}``. Each round's metrics:
    ``round``, ``target_sparsity``, ``sparsity`` (achieved), ``kept``,
    ``test_accuracy``, ``test_loss``, and ``curve``: the test accuracy at each evaluated epoch
    (``{"epoch": [...], "test_accuracy": [...]}``; with ``eval_every = 0`` only the last).
    ``on_round`` is called with each round's metrics as it finishes (also for rounds loaded on resume).
    """
    if not isinstance(train_config, TrainConfig):
        raise ValueError("parameter 'train_config' must be a TrainConfig")
    if not isinstance(imp_config, IMPConfig):
        raise ValueError("parameter 'imp_config' must be an IMPConfig")
    spe = _steps_per_epoch(train_data, train_config)
    total = train_config.epochs * spe
    k = imp_config.rewind_step
    if k >= total:  # rewinding to the last step would leave nothing to retrain
        raise ValueError(f"parameter 'rewind_step' = {k} is not allowed; training has {total} steps, so "
                         f"expected 0 <= rewind_step < {total}")
    device = next(model.parameters()).device
    init_state = dense_state_dict(model)
    targets = imp_sparsities(imp_config.rounds, imp_config.prune_fraction)

    run_dir = Path(run_dir) if run_dir is not None else None
    done = []
    rewind_state = None
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        meta = {"imp": {k_: v for k_, v in asdict(imp_config).items() if k_ != "rounds"},
                "train": {k_: v for k_, v in train_config.to_dict().items() if k_ != "progress"},
                "init_fingerprint": _fingerprint(init_state),
                "train_data_fingerprint": _fingerprint({"x": train_data[0], "y": train_data[1]}),
                "test_data_fingerprint": _fingerprint({"x": test_data[0], "y": test_data[1]}),
                "scores_fn": f"{getattr(scores_fn, '__module__', '?')}.{getattr(scores_fn, '__qualname__', repr(scores_fn))}"}
        meta_path = run_dir / "config.json"
        if meta_path.exists():
            old = json.loads(meta_path.read_text())
            if old != json.loads(json.dumps(meta)):
                raise ValueError(f"run_dir {str(run_dir)!r} holds a run with a different configuration or "
                                 f"initialisation; use a new folder or delete it to start over")
        else:
            tmp = meta_path.with_name("config.json.tmp")
            tmp.write_text(json.dumps(meta, indent=2, sort_keys=True))
            os.replace(tmp, meta_path)
        r = 0
        while (run_dir / f"round_{r:03d}.pt").exists() and r <= imp_config.rounds:
            done.append(load_round(run_dir, r))
            r += 1
        if (run_dir / "rewind.pt").exists():
            rewind_state = torch.load(run_dir / "rewind.pt", weights_only=True)["state"]

    rounds, all_masks, all_states = [], [], []
    dense_state = None
    prev_state = prev_masks = None
    for r in range(imp_config.rounds + 1):
        if r < len(done):
            saved = done[r]
            metrics, masks, state = saved["metrics"], saved["masks"], saved["state"]
            metrics.setdefault("curve", {"epoch": [], "test_accuracy": []})   # saved before curves were kept
        elif r == 0:
            net = copy.deepcopy(model)
            snap = StateRecorder([k])
            history = train(net, train_data, train_config, test_data=test_data, callbacks=[snap, *callbacks])
            rewind_state = snap.states[k]
            ev = evaluate(net, test_data, bf16=train_config.bf16)
            masks = {n: torch.ones_like(w, dtype=torch.bool) for n, w in magnitude_scores(net).items()}
            state = dense_state_dict(net)
            metrics = {"round": 0, "target_sparsity": 0.0, "sparsity": 0.0,
                       "kept": sum(int(m.sum()) for m in masks.values()),
                       "test_accuracy": ev["accuracy"], "test_loss": ev["loss"], "curve": _curve(history)}
            if run_dir is not None:
                _atomic_save({"state": rewind_state, "step": k}, run_dir / "rewind.pt")
                _atomic_save({"round": 0, "masks": masks, "state": state, "metrics": metrics},
                             run_dir / "round_000.pt")
        else:
            scorer = copy.deepcopy(model)
            scorer.load_state_dict(prev_state)
            apply_masks(scorer, {n: m.to(device) for n, m in prev_masks.items()})
            masks = masks_from_scores(scores_fn(scorer), targets[r], imp_config.scope, current=prev_masks)
            masks = {n: m.cpu() for n, m in masks.items()}
            start = rewind_state if imp_config.rewind_weights else prev_state
            net, history, ev = train_pruned(model, start, masks, train_data, test_data, train_config,
                                            start_step=k, rewind_lr=imp_config.rewind_lr,
                                            callbacks=callbacks)
            state = dense_state_dict(net)
            rep = sparsity_report(masks, warn=False)
            metrics = {"round": r, "target_sparsity": targets[r], "sparsity": rep["sparsity"],
                       "kept": rep["kept"], "test_accuracy": ev["test_accuracy"],
                       "test_loss": ev["test_loss"], "curve": _curve(history)}
            if run_dir is not None:
                _atomic_save({"round": r, "masks": masks, "state": state, "metrics": metrics},
                             run_dir / f"round_{r:03d}.pt")
        if r == 0:
            dense_state = state
        rounds.append(metrics)
        all_masks.append(masks)
        all_states.append(state)
        prev_state, prev_masks = state, masks
        if on_round is not None:
            on_round(metrics)
    return {"rounds": rounds, "masks": all_masks, "states": all_states, "rewind_state": rewind_state,
            "dense_state": dense_state, "init_state": init_state}
