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

__all__ = ["CHECKS", "EXTRA_CHECKS", "shuffle_within_layers", "invert_masks", "sanity_checks", "informative_inputs",
           "input_groups", "random_labels", "random_pixels", "smart_ratio_masks"]

#: The variants :func:`sanity_checks` trains by default, in this order.
CHECKS = ("original", "shuffle", "reinit", "invert")
#: Variants it trains only when asked, here ``"shuffle_informative"`` (a shuffle within groups, see
#: :func:`input_groups`).
EXTRA_CHECKS = ("shuffle_informative",)

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


def shuffle_within_layers(masks: Mapping[str, torch.Tensor], seed: int, groups: Mapping | None = None) -> dict:
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
    groups : dict, optional
        ``{name: integer tensor of that mask's shape}``: in a layer named here,
        entries are permuted only among entries of the same group (each group
        keeps its count), e.g. a first layer's weights that read pixels which
        vary in the data among themselves, and those that read constant pixels
        among themselves (:func:`input_groups`). Layers not named are shuffled
        whole, exactly as without ``groups``.

    Returns
    -------
    dict
        ``{name: bool tensor}`` in the order of ``masks``.
    """
    _check_masks(masks)
    seed = _check_seed(seed)
    groups = {} if groups is None else groups
    if not isinstance(groups, Mapping):
        raise ValueError(f"parameter 'groups' = {type(groups).__name__} is not allowed; expected a dict "
                         f"{{layer name: integer tensor of the mask's shape}} or None")
    for name, gr in groups.items():
        if name not in masks:
            raise ValueError(f"parameter 'groups' names layer {name!r}, which 'masks' lacks; expected names from "
                             f"{', '.join(map(repr, masks))}")
        if not torch.is_tensor(gr) or gr.is_floating_point() or gr.dtype == torch.bool \
                or tuple(gr.shape) != tuple(masks[name].shape):
            raise ValueError(f"parameter 'groups'[{name!r}] is not allowed; expected an integer tensor of shape "
                             f"{tuple(masks[name].shape)}")
    out = {}
    for i, (name, m) in enumerate(masks.items()):
        g = torch.Generator().manual_seed((seed * _SEED_MIX + i) % (2 ** 63))
        if name not in groups:
            perm = torch.randperm(m.numel(), generator=g).to(m.device)
            out[name] = m.reshape(-1)[perm].reshape(m.shape)
            continue
        flat, gid = m.reshape(-1).cpu(), groups[name].reshape(-1).cpu()
        new = flat.clone()
        for v in torch.unique(gid):
            idx = torch.nonzero(gid == v).reshape(-1)
            new[idx] = flat[idx[torch.randperm(idx.numel(), generator=g)]]
        out[name] = new.reshape(m.shape).to(m.device)
    return out


def informative_inputs(x: torch.Tensor, min_fraction: float = 0.05) -> torch.Tensor:
    """Which input features carry information about the examples ``x`` (first axis: examples): a bool tensor
    of one example's size, flattened, ``True`` where the feature differs from its most common value in more
    than ``min_fraction`` of the examples (``0``: wherever it varies at all).

    On MNIST-like images most border pixels are background in (nearly) every image: of mnist5k's 784 pixels,
    127 never change, and 396 are off the background in more than 5% of the training images. A weight that reads
    a pixel which barely changes acts as little more than a bias, and a shuffle that moves kept weights onto such
    pixels wastes them.
    """
    if not torch.is_tensor(x) or x.ndim < 2 or x.shape[0] < 2:
        raise ValueError(f"parameter 'x' is not allowed; expected a tensor of at least two examples "
                         f"(first axis), got {tuple(x.shape) if torch.is_tensor(x) else type(x).__name__}")
    if isinstance(min_fraction, bool) or not isinstance(min_fraction, (int, float)) or not 0 <= min_fraction < 1:
        raise ValueError(f"parameter 'min_fraction' = {min_fraction!r} is not allowed; expected a number in [0, 1)")
    f = x.reshape(x.shape[0], -1).cpu()
    mode = torch.mode(f, dim=0).values
    return (f != mode).double().mean(0) > min_fraction


def input_groups(masks: Mapping[str, torch.Tensor], layer: str, inputs: torch.Tensor) -> dict:
    """Groups for :func:`shuffle_within_layers`: in ``layer`` (a fully connected layer of shape
    ``(outputs, inputs)``), group 1 for the weights that read an input where ``inputs`` is ``True`` (e.g.
    :func:`informative_inputs`), group 0 for the rest. ``{layer: integer tensor of the mask's shape}``."""
    _check_masks(masks)
    if layer not in masks:
        raise ValueError(f"parameter 'layer' = {layer!r} is not allowed; expected one of {', '.join(map(repr, masks))}")
    m = masks[layer]
    if m.ndim != 2 or not torch.is_tensor(inputs) or inputs.dtype != torch.bool or inputs.numel() != m.shape[1]:
        raise ValueError(f"parameter 'inputs' is not allowed; expected a bool tensor of {m.shape[1] if m.ndim == 2 else '?'} "
                         f"entries, one per input of the fully connected layer {layer!r} (shape {tuple(m.shape)})")
    return {layer: inputs.reshape(1, -1).expand(m.shape[0], -1).long().to(m.device).contiguous()}


def random_labels(y: torch.Tensor, seed: int, classes: int | None = None) -> torch.Tensor:
    """Labels drawn uniformly from ``classes`` (default ``y.max() + 1``), one per entry of ``y``: Su et al.'s
    (NeurIPS 2020) first check on the data a pruning-at-initialisation method scores with."""
    seed = _check_seed(seed)
    if not torch.is_tensor(y) or y.ndim != 1 or y.numel() == 0:
        raise ValueError("parameter 'y' is not allowed; expected a non-empty 1-d tensor of labels")
    classes = int(y.max()) + 1 if classes is None else classes
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 2:
        raise ValueError(f"parameter 'classes' = {classes!r} is not allowed; expected an integer >= 2")
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, classes, (y.numel(),), generator=g).to(y.device, y.dtype)


def random_pixels(x: torch.Tensor, seed: int) -> torch.Tensor:
    """Each example's entries permuted by a permutation of its own (Zhang et al.'s "random pixels", ICLR 2017):
    Su et al.'s second check. Every example keeps its values, not their places."""
    seed = _check_seed(seed)
    if not torch.is_tensor(x) or x.ndim < 2:
        raise ValueError("parameter 'x' is not allowed; expected a tensor of examples (first axis)")
    g = torch.Generator().manual_seed(seed)
    flat = x.reshape(x.shape[0], -1)
    perm = torch.argsort(torch.rand(flat.shape, generator=g), dim=1).to(x.device)
    return torch.gather(flat, 1, perm).reshape(x.shape)


def smart_ratio_masks(like: Mapping[str, torch.Tensor], sparsity: float, seed: int, last_keep: float = 0.3) -> dict:
    """Su et al.'s random tickets with "smart ratios" (NeurIPS 2020): random positions, per-layer keep
    fractions set by depth.

    With the prunable layers ``l = 1..L`` in order, the last layer (the classifier) keeps ``last_keep`` of its
    weights (Su et al.'s 30% for a VGG's linear layers), or half the budget where that would take more; every
    other layer keeps a fraction proportional to ``((L - l + 1)^2 + (L - l + 1)) / l^2`` (a quadratic decay with
    depth, their rule for a VGG's convolutions), scaled so that ``round((1 - sparsity) * total)`` entries are
    kept in all, and capped at the whole layer, what a capped layer cannot take going to the others in the same
    proportions (and the classifier whatever is left when all of them are whole). Positions within each layer
    are uniformly random. The rule was made for a VGG's thirteen
    convolutions; on a net of three layers it decays steeply (LeNet-300-100's middle layer keeps about an eighth
    of the first layer's fraction). ``like``: ``{name: tensor}`` in layer order (masks or weights: only the
    shapes are read). Returns ``{name: bool tensor}``.
    """
    from .masks import check_sparsity
    sparsity = check_sparsity(sparsity)
    seed = _check_seed(seed)
    if isinstance(last_keep, bool) or not isinstance(last_keep, (int, float)) or not 0 < last_keep <= 1:
        raise ValueError(f"parameter 'last_keep' = {last_keep!r} is not allowed; expected a number in (0, 1]")
    if not isinstance(like, Mapping) or len(like) < 2 or not all(torch.is_tensor(v) for v in like.values()):
        raise ValueError("parameter 'like' is not allowed; expected a dict {name: tensor} of at least two layers, "
                         "in layer order")
    names = list(like)
    n = torch.tensor([like[k].numel() for k in names], dtype=torch.float64)
    L = len(names)
    depth = torch.arange(1, L + 1, dtype=torch.float64)
    w = ((L - depth + 1) ** 2 + (L - depth + 1)) / depth ** 2
    target = round((1.0 - sparsity) * float(n.sum()))
    frac = torch.ones(L, dtype=torch.float64)
    frac[-1] = min(float(last_keep), 0.5 * target / float(n[-1]))
    free = torch.ones(L, dtype=torch.bool)
    free[-1] = False
    for _ in range(L):                        # water-filling: cap at 1, share the rest among the uncapped layers
        budget = target - float((n * frac)[~free].sum())
        frac[free] = w[free] * budget / float((w * n)[free].sum())
        over = free & (frac > 1)
        if not bool(over.any()):
            break
        frac[over] = 1.0
        free &= ~over
        if not bool(free.any()):
            break
    left = target - float((n * frac).sum())
    if left > 0:                              # every other layer whole: the classifier takes the rest
        frac[-1] = min(1.0, float(frac[-1]) + left / float(n[-1]))
    counts = torch.minimum(torch.floor(frac.clamp(min=0) * n), n).long()
    rest = target - int(counts.sum())
    order = torch.argsort(-(frac * n - counts), stable=True)     # largest remainders first
    for i in order.tolist():
        if rest <= 0:
            break
        if counts[i] < n[i]:
            counts[i] += 1
            rest -= 1
    out = {}
    for i, k in enumerate(names):
        g = torch.Generator().manual_seed((seed * _SEED_MIX + i) % (2 ** 63))
        flat = torch.zeros(like[k].numel(), dtype=torch.bool)
        flat[torch.randperm(flat.numel(), generator=g)[:int(counts[i])]] = True
        out[k] = flat.reshape(like[k].shape).to(like[k].device)
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
    allowed = ", ".join(map(repr, CHECKS + EXTRA_CHECKS))
    if isinstance(checks, str) or not isinstance(checks, (tuple, list)) or len(checks) == 0:
        raise ValueError(f"parameter 'checks' = {checks!r} is not allowed; expected a non-empty tuple "
                         f"of names from {allowed}")
    for c in checks:
        if c not in CHECKS + EXTRA_CHECKS:
            raise ValueError(f"parameter 'checks' names {c!r}, which is not allowed; expected names "
                             f"from {allowed}")
    if len(set(checks)) != len(checks):
        raise ValueError(f"parameter 'checks' = {checks!r} is not allowed; expected each name at most once")
    return tuple(checks)


def sanity_checks(model: nn.Module, init_state: dict, masks: Mapping[str, torch.Tensor], train_data,
                  test_data, train_config: TrainConfig, *, scores: Mapping[str, torch.Tensor] | None = None,
                  reinit_state: dict | None = None, seed: int = 0, checks=CHECKS, groups: Mapping | None = None,
                  inverted: Mapping[str, torch.Tensor] | None = None) -> dict:
    """Train ``masks`` and its sanity-check variants; compare their accuracies.

    Every variant is trained by :func:`pruning_utils.imp.train_pruned` from
    step 0 with the same ``train_config``:

    * ``"original"``: ``masks`` as given, from ``init_state``;
    * ``"shuffle"``: ``shuffle_within_layers(masks, seed)``, from ``init_state``;
    * ``"reinit"``: ``masks`` as given, from ``reinit_state``, a fresh draw of
      the same initialisation (e.g. the same architecture built with another
      seed), which re-initialises the kept weights;
    * ``"invert"``: ``invert_masks(scores, masks)``, from ``init_state``, or
      ``inverted`` where given (a method whose inversion is not one ranking,
      such as iterative SynFlow run on inverted scores);
    * ``"shuffle_informative"`` (only when asked):
      ``shuffle_within_layers(masks, seed, groups)``, from ``init_state``.

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
        Which variants to train, names from ``CHECKS`` and ``EXTRA_CHECKS``.
    groups : dict, optional
        Groups of ``"shuffle_informative"`` (see :func:`input_groups`).
    inverted : dict, optional
        The inverted masks, in place of ``invert_masks(scores, masks)``.

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
    if "shuffle_informative" in checks and groups is None:
        raise ValueError("parameter 'groups' = None is not allowed with the 'shuffle_informative' check; expected "
                         "{layer name: integer tensor} (see input_groups), or leave 'shuffle_informative' out of 'checks'")
    if inverted is not None:
        _check_masks(inverted, "inverted")
    if "invert" in checks and scores is None and inverted is None:
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
        elif c == "shuffle_informative":
            variants[c] = (shuffle_within_layers(masks, seed, groups), init_state)
        else:
            variants[c] = (dict(inverted) if inverted is not None else invert_masks(scores, masks), init_state)

    results = {}
    for c, (m, state) in variants.items():
        _, history, final = train_pruned(model, state, m, train_data, test_data, train_config)
        results[c] = {"test_accuracy": final["test_accuracy"],
                      "best_accuracy": max(history["test_accuracy"]),
                      "kept_per_layer": {n: int(v.sum()) / v.numel() for n, v in m.items()}}
    return results
