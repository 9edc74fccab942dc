"""Pruning scores: one non-negative number per weight, higher = more worth keeping.

A score is separate from the masking rule (as in Synaptic-Flow): pass any of
these to :func:`pruning_utils.masks.masks_from_scores`. Keys are the unpruned
model's parameter names; values are shaped like the weights. Weights already
masked score as their effective value (zero).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .masks import effective_weights
from .models import prunable_layers

__all__ = ["magnitude_scores", "random_scores", "snip_scores"]


def magnitude_scores(model: nn.Module) -> dict:
    """``|w|`` of every prunable weight (global magnitude pruning when ranked globally)."""
    return {n: w.abs().clone() for n, w in effective_weights(model).items()}


def random_scores(model: nn.Module, seed: int) -> dict:
    """Independent uniform scores from a generator seeded by ``seed`` (random pruning).

    Drawn on the CPU in layer order, so the same seed gives the same scores on
    every device.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"parameter 'seed' = {seed!r} is not allowed; expected an integer")
    g = torch.Generator().manual_seed(seed)
    return {n: torch.rand(w.shape, generator=g).to(w.device)
            for n, w in effective_weights(model).items()}


def snip_scores(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn=F.cross_entropy) -> dict:
    """SNIP / sensitivity-based pruning scores ``|w * dL/dw|`` on one batch ``(x, y)``.

    Gradients are taken with ``torch.autograd.grad``, so the model's ``.grad``
    fields are left untouched.
    """
    if x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError(f"parameters 'x' and 'y' must hold the same, non-zero number of examples; "
                         f"got {x.shape[0]} and {y.shape[0]}")
    layers = prunable_layers(model)
    leaves = {n: (m.weight_orig if hasattr(m, "weight_orig") else m.weight) for n, m in layers.items()}
    loss = loss_fn(model(x), y)
    grads = torch.autograd.grad(loss, list(leaves.values()))
    weights = effective_weights(model)
    return {n: (weights[n] * g).abs().detach() for n, g in zip(leaves, grads)}
