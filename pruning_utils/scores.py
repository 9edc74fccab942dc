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


def snip_scores(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn=F.cross_entropy,
                batch_size: int | None = None) -> dict:
    """SNIP / sensitivity-based pruning scores ``|w * dL/dw|`` on the examples ``(x, y)``.

    ``L`` is the mean loss over all of ``(x, y)``. With ``batch_size`` the
    gradient is accumulated over chunks of that many examples (same result up
    to float rounding, bounded memory); ``loss_fn`` must then average over its
    batch, as ``F.cross_entropy`` does by default. The model runs in whatever
    mode it is in (call ``model.eval()`` first to freeze BatchNorm statistics).
    Gradients are taken with ``torch.autograd.grad``, so the model's ``.grad``
    fields are left untouched.
    """
    if x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError(f"parameters 'x' and 'y' must hold the same, non-zero number of examples; "
                         f"got {x.shape[0]} and {y.shape[0]}")
    n = x.shape[0]
    if batch_size is None:
        batch_size = n
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"parameter 'batch_size' = {batch_size!r} is not allowed; expected a positive integer or None")
    layers = prunable_layers(model)
    leaves = {k: (m.weight_orig if hasattr(m, "weight_orig") else m.weight) for k, m in layers.items()}
    grads = None
    for i in range(0, n, batch_size):
        xb, yb = x[i:i + batch_size], y[i:i + batch_size]
        loss = loss_fn(model(xb), yb) * (xb.shape[0] / n)
        g = torch.autograd.grad(loss, list(leaves.values()))
        grads = list(g) if grads is None else [a + b for a, b in zip(grads, g)]
    weights = effective_weights(model)
    return {k: (weights[k] * g).abs().detach() for k, g in zip(leaves, grads)}
