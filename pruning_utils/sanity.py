"""Sanity checks for pruning masks: does the choice of weights within a layer matter?

Frankle, Dziugaite, Roy and Carbin, "Pruning neural networks at
initialization: why are we missing the mark?" (ICLR 2021) ask of a pruning
method whether its masks carry more information than their layer-wise
sparsities. They train the pruned network again with the masks altered:

* ``shuffle``: each layer's mask entries randomly permuted within the layer
  (same per-layer sparsity, random positions);
* ``reinit``: the same masks, but the kept weights re-drawn from the
  initialisation distribution;
* ``invert``: in each layer, keep as many weights as the method does, but the
  ones it scored lowest.

If a variant trains as well as the original masks, the method's choice of
*which* weights to keep (or their values) did not matter at that sparsity;
only how many it kept in each layer did. Here the three checks work on any
masks (``{name: bool tensor}``, ``True`` = kept; see
:func:`pruning_utils.masks.masks_from_scores`), and :func:`sanity_checks`
trains every variant with :func:`pruning_utils.imp.train_pruned` under one
training configuration, so differences come from the masks and weights only.
"""

from __future__ import annotations

import numbers
from typing import Mapping

import torch
from torch import nn

from .imp import train_pruned
from .masks import _check_scores
from .train import TrainConfig

__all__ = ["CHECKS", "shuffle_within_layers", "invert_masks", "sanity_checks"]

#: The variants :func:`sanity_checks` can train, in its default order.
CHECKS = ("original", "shuffle", "reinit", "invert")

_SEED_MIX = 1_000_003  # seed and layer index -> one generator seed per layer


def _check_masks(masks, name: str = "masks") -> None:
    if not isinstance(masks, Mapping) or len(masks) == 0:
        raise ValueError(f"parameter {name!r} = {type(masks).__name__} is not allowed; "
                         f"expected a non-empty dict {{parameter name: bool tensor}}")
    for k, m in masks.items():
        if not torch.is_tensor(m) or m.dtype != torch.bool:
            what = f"a tensor of dtype {m.dtype}" if torch.is_tensor(m) else f"a {type(m).__name__}"
            raise ValueError(f"parameter {name!r}[{k!r}] is {what}; expected a bool tensor (True = kept)")


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"parameter 'seed' = {seed!r} is not allowed; expected an integer >= 0")
    return int(seed)


def shuffle_within_layers(masks: Mapping[str, torch.Tensor], seed: int) -> dict:
    """Randomly permute each layer's mask entries within that layer.

    Every layer is flattened, permuted by a uniformly random permutation and
    reshaped, so it keeps exactly as many entries as before, with the same
    shape, dtype (bool) and device, but at random positions: the layer-wise
    sparsities survive, the method's choice within each layer does not.
    Layers are shuffled independently, each with a private CPU generator
    seeded from ``seed`` and the layer's index, so the result depends only on
    ``seed`` (the same on every device) and the global random state is left
    untouched.

    Parameters
    ----------
    masks : dict
        ``{name: bool tensor}``, ``True`` = kept.
    seed : int
        Integer ``>= 0``.

    Returns
    -------
    dict
        ``{name: bool tensor}`` in the order of ``masks``.
    """
    _check_masks(masks)
    seed = _check_seed(seed)
    out = {}
    for i, (name, m) in enumerate(masks.items()):
        g = torch.Generator().manual_seed((seed * _SEED_MIX + i) % (2 ** 63))
        perm = torch.randperm(m.numel(), generator=g).to(m.device)
        out[name] = m.reshape(-1)[perm].reshape(m.shape)
    return out


def invert_masks(scores: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor]) -> dict:
    """Per layer, keep as many entries as ``masks`` does, but the lowest-scoring ones.

    This is the weights the method rated worst, at the method's own
    layer-wise sparsities. Ties break deterministically: the flattened scores
    are sorted stably, so among equal scores the entry that comes first
    (row-major position) is kept first.

    Parameters
    ----------
    scores : dict
        ``{name: tensor}`` of real scores, higher = more worth keeping
        (as from :mod:`pruning_utils.scores`).
    masks : dict
        ``{name: bool tensor}``, ``True`` = kept; the same names and shapes as
        ``scores``.

    Returns
    -------
    dict
        ``{name: bool tensor}`` in the order of ``masks``, on the masks' devices.
    """
    _check_scores(scores)
    _check_masks(masks)
    missing = [n for n in masks if n not in scores]
    if missing:
        raise ValueError(f"parameter 'scores' has no entry for layer {missing[0]!r} of 'masks'; "
                         f"expected the same layer names as 'masks': {', '.join(map(repr, masks))}")
    extra = [n for n in scores if n not in masks]
    if extra:
        raise ValueError(f"parameter 'scores' has layer {extra[0]!r}, which 'masks' lacks; "
                         f"expected the same layer names as 'masks': {', '.join(map(repr, masks))}")
    out = {}
    for name, m in masks.items():
        s = scores[name]
        if tuple(s.shape) != tuple(m.shape):
            raise ValueError(f"parameter 'scores'[{name!r}] has shape {tuple(s.shape)}; expected the shape "
                             f"of 'masks'[{name!r}], {tuple(m.shape)}")
        k = int(m.sum())
        flat = s.detach().reshape(-1).double().cpu()
        kept = torch.zeros(flat.numel(), dtype=torch.bool)
        if k > 0:
            kept[torch.sort(flat, stable=True).indices[:k]] = True
        out[name] = kept.reshape(m.shape).to(m.device)
    return out


def _check_checks(checks) -> tuple:
    allowed = ", ".join(map(repr, CHECKS))
    if isinstance(checks, str) or not isinstance(checks, (tuple, list)) or len(checks) == 0:
        raise ValueError(f"parameter 'checks' = {checks!r} is not allowed; expected a non-empty tuple "
                         f"of names from {allowed}")
    for c in checks:
        if c not in CHECKS:
            raise ValueError(f"parameter 'checks' names {c!r}, which is not allowed; expected names "
                             f"from {allowed}")
    if len(set(checks)) != len(checks):
        raise ValueError(f"parameter 'checks' = {checks!r} is not allowed; expected each name at most once")
    return tuple(checks)


def sanity_checks(model: nn.Module, init_state: dict, masks: Mapping[str, torch.Tensor], train_data,
                  test_data, train_config: TrainConfig, *, scores: Mapping[str, torch.Tensor] | None = None,
                  reinit_state: dict | None = None, seed: int = 0, checks=CHECKS) -> dict:
    """Train ``masks`` and its sanity-check variants; compare their accuracies.

    Every variant is trained by :func:`pruning_utils.imp.train_pruned` from
    step 0 with the same ``train_config``:

    * ``"original"``: ``masks`` as given, from ``init_state``;
    * ``"shuffle"``: ``shuffle_within_layers(masks, seed)``, from ``init_state``;
    * ``"reinit"``: ``masks`` as given, from ``reinit_state``, a fresh draw of
      the same initialisation (e.g. the same architecture built with another
      seed), which re-initialises the kept weights;
    * ``"invert"``: ``invert_masks(scores, masks)``, from ``init_state``.

    All requested variants are validated (and their masks built) before any
    training starts.

    Parameters
    ----------
    model : torch.nn.Module
        The architecture (copied, not modified).
    init_state : dict
        State dict in the unpruned layout (as from
        :func:`pruning_utils.masks.dense_state_dict`).
    masks : dict
        ``{name: bool tensor}``, ``True`` = kept: the pruning method's masks.
    train_data, test_data : tuple
        ``(x, y)`` tensors on the model's device.
    train_config : pruning_utils.train.TrainConfig
        Used unchanged for every variant.
    scores : dict, optional
        The method's scores; needed by ``"invert"``.
    reinit_state : dict, optional
        The re-drawn initialisation (unpruned layout); needed by ``"reinit"``.
    seed : int
        Seed of ``"shuffle"``, integer ``>= 0``.
    checks : tuple of str
        Which variants to train, names from ``CHECKS``.

    Returns
    -------
    dict
        ``{check: {"test_accuracy": final accuracy, "best_accuracy": best over
        the evaluated epochs, "kept_per_layer": {name: kept fraction}}}`` in
        the order of ``checks``.
    """
    checks = _check_checks(checks)
    _check_masks(masks)
    seed = _check_seed(seed)
    if not isinstance(model, nn.Module):
        raise ValueError(f"parameter 'model' = {type(model).__name__} is not allowed; expected a torch.nn.Module")
    if not isinstance(train_config, TrainConfig):
        raise ValueError(f"parameter 'train_config' = {type(train_config).__name__} is not allowed; "
                         f"expected a TrainConfig")
    if not isinstance(init_state, Mapping):
        raise ValueError(f"parameter 'init_state' = {type(init_state).__name__} is not allowed; "
                         f"expected a state dict in the unpruned layout")
    if "invert" in checks and scores is None:
        raise ValueError("parameter 'scores' = None is not allowed with the 'invert' check; expected the "
                         "pruning method's scores {name: tensor}, or leave 'invert' out of 'checks'")
    if "reinit" in checks:
        if reinit_state is None:
            raise ValueError("parameter 'reinit_state' = None is not allowed with the 'reinit' check; expected "
                             "a state dict of a fresh initialisation (e.g. the same architecture built with "
                             "another seed), or leave 'reinit' out of 'checks'")
        if not isinstance(reinit_state, Mapping):
            raise ValueError(f"parameter 'reinit_state' = {type(reinit_state).__name__} is not allowed; "
                             f"expected a state dict in the unpruned layout")

    variants = {}
    for c in checks:
        if c == "original":
            variants[c] = (dict(masks), init_state)
        elif c == "shuffle":
            variants[c] = (shuffle_within_layers(masks, seed), init_state)
        elif c == "reinit":
            variants[c] = (dict(masks), reinit_state)
        else:
            variants[c] = (invert_masks(scores, masks), init_state)

    results = {}
    for c, (m, state) in variants.items():
        _, history, final = train_pruned(model, state, m, train_data, test_data, train_config)
        results[c] = {"test_accuracy": final["test_accuracy"],
                      "best_accuracy": max(history["test_accuracy"]),
                      "kept_per_layer": {n: int(v.sum()) / v.numel() for n, v in m.items()}}
    return results
