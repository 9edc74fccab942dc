"""From scores to masks, and masks onto models.

Conventions (DESIGN.md section 3): scores and masks are dicts keyed by the
unpruned model's parameter names (``"0.weight"``); masks are boolean, ``True``
means kept; ``sparsity`` is the fraction removed, in [0, 1).

Masks are applied through ``torch.nn.utils.prune``: the parameter becomes
``weight_orig``, the mask a ``weight_mask`` buffer, and ``weight`` is
recomputed as their product before every forward pass. So ``state_dict``,
``prune.is_pruned`` and ``prune.remove`` behave as PyTorch users expect.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Mapping

import torch
from torch import nn
from torch.nn.utils import prune

from .models import prunable_layers

__all__ = ["masks_from_scores", "apply_masks", "get_masks", "sparsity_report",
           "remove_masks", "effective_weights", "mask_overlap", "kept_overlap", "jaccard", "jaccard_chance", "jaccard_max",
           "collapse_report",
           "check_sparsity", "dense_state_dict"]

SCOPES = ("global", "layerwise")


def check_sparsity(sparsity, name: str = "sparsity") -> float:
    if isinstance(sparsity, bool) or not isinstance(sparsity, numbers.Real) or not (0.0 <= sparsity < 1.0):
        raise ValueError(f"parameter {name!r} = {sparsity!r} is not allowed; "
                         f"expected a fraction removed with 0 <= {name} < 1")
    return float(sparsity)


def _check_scores(scores: Mapping[str, torch.Tensor]):
    if not isinstance(scores, Mapping) or len(scores) == 0:
        raise ValueError("parameter 'scores' must be a non-empty dict {parameter name: tensor}")
    for k, v in scores.items():
        if not torch.is_tensor(v):
            raise ValueError(f"parameter 'scores'[{k!r}] is a {type(v).__name__}; expected a tensor")
        if v.is_complex() or torch.isnan(v).any():
            raise ValueError(f"parameter 'scores'[{k!r}] contains NaN or complex values; "
                             f"expected real scores (-inf allowed)")


def _lowest(flat: torch.Tensor, k: int) -> torch.Tensor:
    """Boolean mask of the ``k`` lowest entries; ties go to the lower index.

    The same set as the first ``k`` of a stable sort (NaN counts as the highest), found by selection: the
    ``k``-th lowest value ``t``, everything below it, and the first of the entries equal to ``t`` by index
    until ``k`` are removed (several times faster than sorting a network's scores)."""
    n = flat.numel()
    removed = torch.zeros(n, dtype=torch.bool, device=flat.device)
    if k <= 0:
        return removed
    if k >= n:
        return ~removed
    if flat.dtype == torch.bool or (flat.is_floating_point() and bool(torch.isnan(flat).any())):
        order = torch.sort(flat, stable=True).indices  # stable: equal scores keep index order
        removed[order[:k]] = True
        return removed
    t = torch.kthvalue(flat, k).values
    below = flat < t
    ties = flat == t
    need = k - int(below.sum())
    return below | (ties & (torch.cumsum(ties, 0) <= need))


def masks_from_scores(scores: Mapping[str, torch.Tensor], sparsity: float, scope: str = "global",
                      current: Mapping[str, torch.Tensor] | None = None) -> dict:
    """Keep the highest scores, remove exactly ``round(sparsity * n)`` entries.

    ``scope="global"`` ranks all entries together (``n`` = all entries);
    ``"layerwise"`` removes ``round(sparsity * n_l)`` in every layer. Ties break
    deterministically: among equal scores the entry that comes first (layer
    order of ``scores``, then row-major position) is removed first.
    ``current``: masks already in force; their removed entries stay removed
    (scored ``-inf``), as iterative pruning needs; a ``sparsity`` that would
    remove fewer entries than ``current`` already does is an error. A score of
    ``+inf`` protects its entry: a ``sparsity`` that would have to remove a
    protected entry is an error too.
    Returns ``{name: bool tensor}``, ``True`` = kept, on the scores' devices.
    """
    _check_scores(scores)
    sparsity = check_sparsity(sparsity)
    if scope not in SCOPES:
        raise ValueError(f"parameter 'scope' = {scope!r} is not allowed; expected one of {', '.join(SCOPES)}")
    names = list(scores)
    flat = {}
    for n in names:
        s = scores[n].detach().reshape(-1).double()
        if current is not None:
            if n not in current:
                raise ValueError(f"parameter 'current' has no mask for {n!r}")
            s = torch.where(current[n].reshape(-1).to(s.device).bool(), s,
                            torch.full_like(s, -float("inf")))
        flat[n] = s
    if current is not None:
        # never bring back what is already removed: the target must remove at least as much
        groups = [names] if scope == "global" else [[n] for n in names]
        for group in groups:
            size = sum(flat[n].numel() for n in group)
            k = int(round(sparsity * size))
            gone = sum(int((~current[n].bool()).sum()) for n in group)
            if gone > k:
                where = "in total" if scope == "global" else f"in {group[0]!r}"
                raise ValueError(f"parameter 'sparsity' = {sparsity} removes {k} entries {where}, but "
                                 f"'current' already removes {gone}; expected a sparsity at least "
                                 f"as high as the current one")
    # +inf marks an entry that must be kept (a protected edge): never remove one
    groups = [names] if scope == "global" else [[n] for n in names]
    for group in groups:
        size = sum(flat[n].numel() for n in group)
        k = int(round(sparsity * size))
        removable = sum(int((flat[n] != float("inf")).sum()) for n in group)
        if k > removable:
            where = "in total" if scope == "global" else f"in {group[0]!r}"
            raise ValueError(f"parameter 'sparsity' = {sparsity} removes {k} entries {where}, but only "
                             f"{removable} are not protected by a +inf score; expected a sparsity of at "
                             f"most {removable / size:.6f}")
    masks = {}
    if scope == "global":
        device = flat[names[0]].device
        cat = torch.cat([flat[n].to(device) for n in names])
        k = int(round(sparsity * cat.numel()))
        kept = ~_lowest(cat, k)
        start = 0
        for n in names:
            size = flat[n].numel()
            masks[n] = kept[start:start + size].view_as(scores[n]).to(scores[n].device)
            start += size
    else:
        for n in names:
            k = int(round(sparsity * flat[n].numel()))
            masks[n] = (~_lowest(flat[n], k)).view_as(scores[n])
    return masks


def apply_masks(model: nn.Module, masks: Mapping[str, torch.Tensor]) -> nn.Module:
    """Apply boolean masks through ``torch.nn.utils.prune`` (in place; returns the model).

    A layer already pruned gets its ``weight_mask`` replaced (not multiplied):
    pass the full mask you want in force.
    """
    layers = prunable_layers(model)
    for name, mask in masks.items():
        if name not in layers:
            raise ValueError(f"mask for {name!r} does not name a prunable weight of this model; "
                             f"prunable weights are: {', '.join(layers)}")
        module = layers[name]
        shape = (module.weight_orig if prune.is_pruned(module) and hasattr(module, "weight_orig")
                 else module.weight).shape
        if tuple(mask.shape) != tuple(shape):
            raise ValueError(f"mask for {name!r} has shape {tuple(mask.shape)}; the weight has {tuple(shape)}")
        if hasattr(module, "weight_mask"):
            with torch.no_grad():
                module.weight_mask.copy_(mask.to(module.weight_mask))
                module.weight = module.weight_orig * module.weight_mask
        else:
            prune.custom_from_mask(module, "weight",
                                   mask.to(device=module.weight.device, dtype=module.weight.dtype))
    return model


def get_masks(model: nn.Module) -> dict:
    """Boolean masks of every prunable weight (all ``True`` for an unpruned layer)."""
    out = {}
    for name, module in prunable_layers(model).items():
        if hasattr(module, "weight_mask"):
            out[name] = module.weight_mask.detach().bool().clone()
        else:
            out[name] = torch.ones_like(module.weight, dtype=torch.bool)
    return out


def effective_weights(model: nn.Module) -> dict:
    """The weights the network computes with (``weight_orig * weight_mask`` when pruned)."""
    out = {}
    for name, module in prunable_layers(model).items():
        if hasattr(module, "weight_mask"):
            out[name] = (module.weight_orig * module.weight_mask).detach()
        else:
            out[name] = module.weight.detach()
    return out


def remove_masks(model: nn.Module) -> nn.Module:
    """Make pruning permanent (``prune.remove`` on every pruned layer)."""
    for module in prunable_layers(model).values():
        if prune.is_pruned(module) and hasattr(module, "weight_mask"):
            prune.remove(module, "weight")
    return model


def sparsity_report(model_or_masks, warn: bool = True) -> dict:
    """Per-layer and total counts of kept weights.

    Accepts a model or a masks dict. Returns ``{"layers": {name: {"total",
    "kept", "sparsity"}}, "total", "kept", "sparsity", "collapsed"}``;
    ``collapsed`` lists layers with nothing kept (the network then computes a
    constant), and a warning says so unless ``warn=False``.
    """
    masks = get_masks(model_or_masks) if isinstance(model_or_masks, nn.Module) else model_or_masks
    layers, total, kept = {}, 0, 0
    for name, m in masks.items():
        n, k = m.numel(), int(m.bool().sum())
        layers[name] = {"total": n, "kept": k, "sparsity": 1.0 - k / n}
        total += n
        kept += k
    collapsed = [n for n, r in layers.items() if r["kept"] == 0]
    if collapsed and warn:
        warnings.warn(f"layer collapse: no weight kept in {', '.join(collapsed)}", RuntimeWarning,
                      stacklevel=2)
    elif warn:
        rep = collapse_report(masks)
        if rep["passes_signal"] is False:
            warnings.warn(f"layer collapse: every layer keeps weights, but no path of kept weights joins the "
                          f"input to the output (first cut at {rep['first_cut']})", RuntimeWarning, stacklevel=2)
    return {"layers": layers, "total": total, "kept": kept,
            "sparsity": 1.0 - kept / total if total else 0.0, "collapsed": collapsed}


def _unit_links(m: torch.Tensor) -> torch.Tensor:
    """``(out, in)`` boolean: is any weight kept between output unit/channel ``o`` and input ``i``?"""
    m = m.bool()
    return m.reshape(m.shape[0], m.shape[1], -1).any(2) if m.dim() > 2 else m


def collapse_report(masks: Mapping[str, torch.Tensor]) -> dict:
    """Can signal still pass? Layer by layer, which units keep a path of kept weights from the input.

    For masks of a chain of layers (each layer's inputs are the previous
    layer's outputs, as in an MLP or VGG; a Linear after a flatten reads each
    channel ``in / out_prev`` times), an output unit is *reachable* when some
    kept weight joins it to a reachable input; the network's inputs are all
    reachable. Returns ``{"layers": {name: {"kept", "alive_outputs",
    "reachable_outputs"}}, "collapsed": [layers with nothing kept],
    "passes_signal": bool, "first_cut": name or None}``. For masks that do not
    chain (residual networks), ``reachable_outputs`` is ``None`` and
    ``passes_signal`` is ``None``: only empty layers are detected.
    """
    if not isinstance(masks, Mapping) or not masks:
        raise ValueError("parameter 'masks' must be a non-empty dict {name: bool tensor}")
    names = list(masks)
    out = {}
    reach = None
    chain = True
    first_cut = None
    for i, name in enumerate(names):
        if masks[name].dim() < 2:  # not a weight matrix: only emptiness can be checked
            chain = False
            out[name] = {"kept": int(masks[name].bool().sum()), "alive_outputs": None, "reachable_outputs": None}
            continue
        links = _unit_links(masks[name].cpu())
        row = {"kept": int(masks[name].bool().sum()), "alive_outputs": int(links.any(1).sum()),
               "reachable_outputs": None}
        if chain:
            if reach is None:
                reach_in = torch.ones(links.shape[1], dtype=torch.bool)
            elif links.shape[1] == reach.numel():
                reach_in = reach
            elif links.shape[1] % reach.numel() == 0:
                reach_in = reach.repeat_interleave(links.shape[1] // reach.numel())
            else:
                chain = False
            if chain:
                reach = (links & reach_in[None, :]).any(1)
                row["reachable_outputs"] = int(reach.sum())
                if first_cut is None and row["reachable_outputs"] == 0:
                    first_cut = name
        out[name] = row
    collapsed = [n for n, r in out.items() if r["kept"] == 0]
    return {"layers": out, "collapsed": collapsed,
            "passes_signal": (first_cut is None) if chain else None, "first_cut": first_cut if chain else None}


def mask_overlap(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor]) -> float:
    """Fraction of entries on which two masks agree (kept in both or removed in both)."""
    if set(a) != set(b):
        raise ValueError("the two masks name different parameters")
    if not a:
        raise ValueError("parameters 'a' and 'b' are empty; expected masks of at least one parameter")
    same = sum(int((a[n].bool() == b[n].bool().to(a[n].device)).sum()) for n in a)
    return same / sum(a[n].numel() for n in a)


def kept_overlap(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor]) -> float:
    """Share of the entries kept by ``a`` that ``b`` keeps too: ``|A & B| / |A|``.

    For two masks that keep the same number of entries this is symmetric, and
    its chance level (``b`` random, independent of ``a``) is the kept
    fraction ``1 - sparsity``, not the ``s**2 + (1 - s)**2`` of
    :func:`mask_overlap`, which counts agreeing removals too and so is close
    to 1 at high sparsity whatever the masks.
    """
    if set(a) != set(b):
        raise ValueError("the two masks name different parameters")
    if not a:
        raise ValueError("parameters 'a' and 'b' are empty; expected masks of at least one parameter")
    kept = sum(int(a[n].bool().sum()) for n in a)
    if kept == 0:
        raise ValueError("parameter 'a' keeps no entry; the kept-set overlap is undefined")
    both = sum(int((a[n].bool() & b[n].bool().to(a[n].device)).sum()) for n in a)
    return both / kept


def _pair(a, b):
    if not isinstance(a, Mapping) or not isinstance(b, Mapping) or not a:
        raise ValueError("parameters 'a' and 'b' must be non-empty dicts {name: bool tensor}")
    if set(a) != set(b):
        raise ValueError("parameters 'a' and 'b' name different parameters")
    for n in a:
        if tuple(a[n].shape) != tuple(b[n].shape):
            raise ValueError(f"parameters 'a' and 'b' have shapes {tuple(a[n].shape)} and {tuple(b[n].shape)} "
                             f"for {n!r}")


def jaccard(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor]) -> float:
    """Jaccard index of the kept sets, ``|A & B| / |A | B|`` over all layers (1 when both keep nothing)."""
    _pair(a, b)
    both = sum(int((a[n].bool() & b[n].bool().to(a[n].device)).sum()) for n in a)
    either = sum(int((a[n].bool() | b[n].bool().to(a[n].device)).sum()) for n in a)
    return both / either if either else 1.0


def jaccard_chance(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor]) -> float:
    """The Jaccard index two masks would have by chance, given only how many entries each keeps per layer.

    Each layer's kept entries placed uniformly at random, independently:
    ``E|A & B| = sum_l k_l m_l / n_l`` and the index is taken as
    ``E|A & B| / (|A| + |B| - E|A & B|)`` (the ratio of expectations; exact
    in the limit of large layers). Agreement beyond this level is agreement
    about *which* weights, not just about how many per layer.
    """
    _pair(a, b)
    ka = sum(int(a[n].bool().sum()) for n in a)
    kb = sum(int(b[n].bool().sum()) for n in b)
    both = sum(int(a[n].bool().sum()) * int(b[n].bool().sum()) / a[n].numel() for n in a)
    either = ka + kb - both
    return both / either if either > 0 else 1.0


def jaccard_max(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor]) -> float:
    """The largest Jaccard index two masks with these per-layer counts can have.

    In each layer the overlap is at most ``min(k_l, m_l)`` and the union at
    least ``max(k_l, m_l)``, both reached at once when the smaller kept set
    lies inside the larger, so the best index is
    ``sum_l min(k_l, m_l) / sum_l max(k_l, m_l)``: 1 only where the two masks
    keep the same number in every layer. An excess over chance measured as
    ``(J - chance) / (1 - chance)`` can reach 1 only then; against
    ``(J - chance) / (best - chance)`` it is measured against what the counts
    allow (1 when both keep nothing).
    """
    _pair(a, b)
    lo = sum(min(int(a[n].bool().sum()), int(b[n].bool().sum())) for n in a)
    hi = sum(max(int(a[n].bool().sum()), int(b[n].bool().sum())) for n in a)
    return lo / hi if hi else 1.0


def dense_state_dict(model: nn.Module) -> dict:
    """The model's state in the unpruned layout: ``weight = weight_orig * weight_mask``, no masks.

    Tensors are detached CPU copies; ``load_state_dict`` of an unpruned model of
    the same architecture accepts it.
    """
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    for name, module in prunable_layers(model).items():
        if hasattr(module, "weight_mask"):
            prefix = name[: -len("weight")]
            state[name] = state.pop(prefix + "weight_orig") * state.pop(prefix + "weight_mask")
    return state
