"""Pruning scores: one number per weight, higher = more worth keeping (non-negative except GraSP's).

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

__all__ = ["magnitude_scores", "random_scores", "snip_scores", "grasp_scores", "synflow_scores",
           "synflow_masks", "class_balanced_batch"]


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


def class_balanced_batch(x: torch.Tensor, y: torch.Tensor, per_class: int = 10, seed: int = 0):
    """``per_class`` examples of every class, drawn without replacement from a generator seeded by ``seed``.

    The data-dependent scores at initialisation (SNIP/SBP, GraSP) are computed
    on such a batch in Hayou et al.'s code (10 images per class). Classes in
    increasing order; a class with fewer examples than ``per_class`` is an
    error that names it.
    """
    if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 1:
        raise ValueError(f"parameter 'per_class' = {per_class!r} is not allowed; expected a positive integer")
    g = torch.Generator().manual_seed(int(seed))
    idx = []
    for c in torch.unique(y.cpu()).tolist():
        where = torch.nonzero(y.cpu() == c).flatten()
        if where.numel() < per_class:
            raise ValueError(f"class {c} has {where.numel()} examples; parameter 'per_class' = {per_class} needs more")
        idx.append(where[torch.randperm(where.numel(), generator=g)[:per_class]])
    idx = torch.cat(idx).to(x.device)
    return x[idx], y[idx]


def grasp_scores(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn=F.cross_entropy,
                 temperature: float = 200.0) -> dict:
    """GraSP (Wang et al., ICLR 2020) as keep-scores: ``theta * (H g)``, higher = keep.

    ``g = dL/dtheta`` and ``H g`` the Hessian-gradient product of the loss on
    ``(x, y)`` (double backward), the logits divided by ``temperature`` first:
    the authors' code uses ``T = 200``, which softens the softmax at
    initialisation so that the loss's curvature is not dominated by a few
    confident outputs (``temperature=1`` is the plain loss). GraSP removes the
    weights whose removal reduces the gradient norm least, i.e. with the largest
    ``-theta * H g``; as a keep-score that is ``theta * H g`` (any real number:
    ``masks_from_scores`` keeps the highest). The model runs in whatever mode it
    is in. Not reproduced from the authors' code: it re-draws the linear layers'
    weights (Xavier normal) before scoring by default, and computes ``g`` and
    ``H g`` on the two halves of the batch separately.
    """
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ValueError(f"parameter 'temperature' = {temperature!r} is not allowed; expected a number > 0")
    layers = prunable_layers(model)
    leaves = [(m.weight_orig if hasattr(m, "weight_orig") else m.weight) for m in layers.values()]
    loss = loss_fn(model(x) / temperature, y)
    g = torch.autograd.grad(loss, leaves, create_graph=True)
    z = sum((gi * gi.detach()).sum() for gi in g)
    hg = torch.autograd.grad(z, leaves)
    weights = effective_weights(model)
    return {k: (weights[k] * h).detach() for k, h in zip(layers, hg)}


_ELEMENTWISE = (nn.Tanh, nn.ELU, nn.GELU, nn.Sigmoid, nn.LeakyReLU, nn.SiLU, nn.Softplus, nn.Hardtanh, nn.SELU,
                nn.CELU, nn.Mish, nn.Hardswish, nn.Hardsigmoid, nn.Softsign, nn.Tanhshrink)


def _copy(model: nn.Module) -> nn.Module:
    """``copy.deepcopy`` that also works on a model pruned by ``torch.nn.utils.prune`` (whose computed
    ``weight`` attribute is not a graph leaf and cannot be deep-copied: it is set aside and recomputed)."""
    import copy
    pruned = [m for m in model.modules() if hasattr(m, "weight_orig") and hasattr(m, "weight_mask")]
    saved = [m.__dict__.pop("weight", None) for m in pruned]
    try:
        net = copy.deepcopy(model)
    finally:
        for m, w in zip(pruned, saved):
            if w is not None:
                m.weight = w
    for m in net.modules():
        if hasattr(m, "weight_orig") and hasattr(m, "weight_mask"):
            m.weight = m.weight_orig * m.weight_mask
    return net


def _linearise(net: nn.Module) -> None:
    """Replace every elementwise activation module of ``net`` by the identity, in place."""
    for name, child in net.named_children():
        if isinstance(child, _ELEMENTWISE):
            setattr(net, name, nn.Identity())
        else:
            _linearise(child)


def synflow_scores(model: nn.Module, input_shape) -> dict:
    """SynFlow (Tanaka et al., NeurIPS 2020), one shot: ``|theta * dR/dtheta|`` with
    ``R = 1^T (prod_l |W_l|) 1`` computed on a copy of the model.

    The copy has every parameter replaced by its absolute value, BatchNorm in
    eval mode, every elementwise activation module (tanh, ELU, GELU, sigmoid,
    ...) replaced by the identity, float64 (the product over layers overflows
    float32 in deep nets), and sees one all-ones input of ``input_shape``.
    Data-free. ``R`` is defined on the linearised network: with positive
    weights and inputs a ReLU is already the identity, but a tanh would
    saturate and starve the early layers of score. (SynFlow proper repeats
    this over 100 rounds of pruning; this is one round.)
    """
    net = _copy(model).double().eval()
    _linearise(net)
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    layers = prunable_layers(net)
    leaves = [(m.weight_orig if hasattr(m, "weight_orig") else m.weight) for m in layers.values()]
    dev = leaves[0].device
    r = net(torch.ones((1, *tuple(input_shape)), dtype=torch.float64, device=dev)).sum()
    grads = torch.autograd.grad(r, leaves)
    weights = effective_weights(net)
    orig = effective_weights(model)
    return {k: (weights[k] * gr).abs().to(orig[k].dtype).detach() for k, gr in zip(layers, grads)}


def synflow_masks(model: nn.Module, input_shape, sparsity: float, rounds: int = 100, invert: bool = False) -> dict:
    """SynFlow proper: ``rounds`` rounds of :func:`synflow_scores` and global pruning on a copy, the
    sparsity after round ``k`` being ``1 - (1 - sparsity)^(k / rounds)`` (Tanaka et al.'s exponential schedule).

    Scores are recomputed on the pruned copy each round, which is what keeps
    SynFlow from emptying the widest layer: one round at high sparsity
    (``rounds=1``) removes whole layers, because every layer's scores sum to
    the same ``R`` and a layer with many weights has small scores each.
    ``model`` is not changed. Returns ``{name: bool tensor}``, ``True`` = kept.
    ``invert=True`` is Frankle et al.'s inversion of an iterative method: every round keeps the weights SynFlow
    scores *lowest* among those still kept (the same schedule).
    """
    from .masks import apply_masks, check_sparsity, masks_from_scores
    sparsity = check_sparsity(sparsity)
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"parameter 'rounds' = {rounds!r} is not allowed; expected an integer >= 1")
    if not isinstance(invert, bool):
        raise ValueError(f"parameter 'invert' = {invert!r} is not allowed; expected True or False")
    net = _copy(model)
    masks = None
    for k in range(1, rounds + 1):
        scores = synflow_scores(net, input_shape)
        if invert:
            scores = {n: -v for n, v in scores.items()}
        masks = masks_from_scores(scores, 1.0 - (1.0 - sparsity) ** (k / rounds), current=masks)
        apply_masks(net, masks)
    return masks
