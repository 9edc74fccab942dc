"""The max-affine spline view of a ReLU network: partitions, early birds, spline pruning.

A ReLU network is a continuous piecewise-affine function (a max-affine spline
operator, Balestriero & Baraniuk): every unit ``i`` of a layer with
pre-activation ``h_i(x) = a_i . x + c_i`` splits that layer's input space
along the hyperplane ``{h_i = 0}``, and the pattern of signs of all units,
the *activation code* of an input, names the affine region it falls in.
Two networks partition a set of inputs the same way exactly when their codes
agree on it. You, Balestriero et al. (TMLR 2022) use this to detect
early-bird tickets: when the codes of a fixed probe set stop changing from
epoch to epoch, the partition, and with it the subnetwork worth keeping, has
settled.

This module:

* :func:`activation_codes`: codes "BatchNorm output > 0" at every BatchNorm
  (or "pre-activation > 0" at every ReLU for a network without BatchNorm),
  recorded by forward hooks in eval mode, batch by batch, packed 8 units per
  byte (:class:`Codes`);
* :func:`partition_distance`: per-layer normalised Hamming distance between
  two codes, averaged over layers with equal weight;
* :func:`canvas`: the authors' probe set, ``alpha x0 + beta x1`` on a grid;
* :class:`SplineEarlyBird` and :class:`MaskEarlyBird`: the two early-bird
  detectors, one interface, usable as :func:`pruning_utils.train.train`
  callbacks;
* structured (unit / channel) pruning: :func:`channel_groups` (which weights
  produce and read each BatchNorm's channels), :func:`channel_masks` (a
  keep-vector per group turned into weight masks for
  :func:`pruning_utils.masks.apply_masks`), and three channel scores:
  :func:`slimming_scores` (``|gamma|``, network slimming, what the early-bird
  papers use), :func:`channel_l1_scores` (magnitude of each channel's
  incoming weights) and :func:`spline_scores` (this book's re-derivation of a
  spline pruning criterion: the paper's is not public); :func:`keep_from_scores`
  turns channel scores into keep-vectors, layer-wise or global;
* :func:`training_flops`: the FLOPs of a training schedule, dense or with a
  structured mask, from the model itself.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections import deque
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .masks import apply_masks
from .meter import note_structure
from .models import prunable_layers
from .train import Callback

__all__ = ["Codes", "activation_codes", "partition_distance", "same_partition", "without_units", "canvas", "SplineEarlyBird", "MaskEarlyBird",
           "channel_groups", "channel_masks", "slimming_scores", "channel_l1_scores", "spline_scores",
           "keep_from_scores", "folded_hyperplanes", "forward_flops", "training_flops", "L1GammaPenalty",
           "code_bytes_per_input", "CODES"]

_BN = (nn.BatchNorm1d, nn.BatchNorm2d)
#: number of set bits of every byte value
_POPCOUNT = torch.tensor([bin(i).count("1") for i in range(256)], dtype=torch.int64)


# ---------------------------------------------------------------------------
# activation codes and the distance between partitions


@dataclass
class Codes:
    """Activation codes of ``n`` inputs: per layer a packed ``uint8`` tensor ``(n, ceil(units / 8))``.

    ``units[name]`` is the number of units (features x positions) of a
    layer; bit ``j`` of a row (``numpy.packbits`` order, most significant
    first) is 1 where unit ``j`` is active.
    """

    packed: dict
    units: dict

    @property
    def n(self) -> int:
        return int(next(iter(self.packed.values())).shape[0]) if self.packed else 0

    @property
    def nbytes(self) -> int:
        """Bytes the packed codes take."""
        return sum(int(v.nbytes) for v in self.packed.values())

    def unpack(self, name: str) -> torch.Tensor:
        """The boolean codes ``(n, units)`` of one layer."""
        bits = np.unpackbits(self.packed[name].numpy(), axis=1, count=self.units[name])
        return torch.from_numpy(bits.astype(bool))

    def bits(self) -> torch.Tensor:
        """All layers' codes side by side, ``(n, total units)``, layers in recording order."""
        return torch.cat([self.unpack(k) for k in self.packed], 1)


def same_partition(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Do two code matrices (inputs x bits, e.g. :meth:`Codes.bits`) group the inputs into the same regions?

    True exactly when the map from ``a``'s distinct rows to ``b``'s is a
    bijection on the inputs: as many regions in each as in the two together.
    """
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"parameters 'a' and 'b' code {a.shape[0]} and {b.shape[0]} inputs; expected the same inputs")
    na, nb = len(torch.unique(a, dim=0)), len(torch.unique(b, dim=0))
    return na == nb == len(torch.unique(torch.cat([a, b], 1), dim=0))


def _code_sites(model: nn.Module):
    bns = [(n, m) for n, m in model.named_modules() if isinstance(m, _BN)]
    if bns:
        return bns, "output"
    relus = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.ReLU)]
    if not relus:
        raise ValueError("parameter 'model' has no BatchNorm and no nn.ReLU module; expected a ReLU network "
                         "(activation codes are read at BatchNorm outputs or ReLU inputs)")
    return relus, "input"


def activation_codes(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> Codes:
    """Activation codes of the inputs ``x`` (the spline partition they fall in).

    At every BatchNorm the code is "BatchNorm output > 0" (the sign pattern
    the following ReLU applies; the authors' choice); a network without
    BatchNorm is read at the input of every ``nn.ReLU`` module. The model runs
    in eval mode (restored afterwards) under ``torch.no_grad``, ``batch_size``
    inputs at a time; codes are packed on the CPU as they come, so memory is
    ``n * units / 8`` bytes plus one batch.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"parameter 'model' is a {type(model).__name__}; expected an nn.Module")
    if not torch.is_tensor(x) or x.dim() < 2 or x.shape[0] == 0:
        raise ValueError("parameter 'x' must be a tensor of at least one input, shape (n, ...)")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"parameter 'batch_size' = {batch_size!r} is not allowed; expected a positive integer")
    sites, where = _code_sites(model)
    chunks = {n: [] for n, _ in sites}
    units = {}

    def hook(name):
        def fn(module, inputs, output):
            t = output if where == "output" else inputs[0]
            b = (t.detach() > 0).reshape(t.shape[0], -1)
            units[name] = b.shape[1]
            chunks[name].append(torch.from_numpy(np.packbits(b.cpu().numpy(), axis=1)))
        return fn

    handles = [m.register_forward_hook(hook(n)) for n, m in sites]
    was_training = model.training
    model.eval()
    dev = next(model.parameters()).device
    try:
        with torch.no_grad():
            for i in range(0, x.shape[0], batch_size):
                model(x[i:i + batch_size].to(dev))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    codes = Codes({n: torch.cat(c) for n, c in chunks.items() if c}, units)
    note_structure(CODES, codes.nbytes, owner=codes)      # sets alive at once (a detector's window) add up
    return codes


#: the name under which activation codes report their size to a meter (:func:`pruning_utils.meter.note_structure`)
CODES = "activation codes (packed)"


def code_bytes_per_input(model: nn.Module, input_shape) -> int:
    """Bytes :func:`activation_codes` takes per input of ``model`` (``input_shape`` without the batch): one
    forward pass of a zero input."""
    shape = tuple(input_shape)
    dev = next(model.parameters()).device
    sites, where = _code_sites(model)
    units = {}

    def hook(name):
        def fn(module, inputs, output):
            t = output if where == "output" else inputs[0]
            units[name] = t[0].numel()
        return fn

    handles = [m.register_forward_hook(hook(n)) for n, m in sites]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, *shape, device=dev))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return sum((u + 7) // 8 for u in units.values())


def partition_distance(a: Codes, b: Codes, per_layer: bool = False):
    """Normalised Hamming distance between two partitions of the same inputs.

    For each layer, the fraction of (input, unit) pairs whose bits differ; the
    result is the mean over layers, each layer weighted equally (the authors'
    choice). Identical codes give 0, complementary codes give 1.
    ``per_layer=True`` returns ``{layer: distance}`` instead.
    """
    if not isinstance(a, Codes) or not isinstance(b, Codes):
        raise ValueError("parameters 'a' and 'b' must be Codes from activation_codes")
    if set(a.packed) != set(b.packed) or a.units != b.units:
        raise ValueError("parameters 'a' and 'b' come from different layers; expected codes of one architecture")
    if a.n != b.n:
        raise ValueError(f"parameters 'a' and 'b' hold {a.n} and {b.n} inputs; expected the same probe set")
    out = {}
    for name, pa in a.packed.items():
        diff = torch.bitwise_xor(pa, b.packed[name])
        out[name] = int(_POPCOUNT[diff.long()].sum()) / (a.n * a.units[name])
    if per_layer:
        return out
    return float(np.mean(list(out.values())))


def canvas(x0: torch.Tensor, x1: torch.Tensor, n: int = 100) -> torch.Tensor:
    """The authors' probe set: ``alpha x0 + beta x1`` for alpha, beta each on ``linspace(0, 1, n)``.

    ``n * n`` inputs shaped like ``x0`` (not a convex combination: both
    coefficients run over [0, 1] independently). Row-major in (alpha, beta).
    """
    if not (torch.is_tensor(x0) and torch.is_tensor(x1)) or x0.shape != x1.shape:
        raise ValueError("parameters 'x0' and 'x1' must be tensors of one input each, of the same shape")
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"parameter 'n' = {n!r} is not allowed; expected an integer >= 2")
    t = torch.linspace(0, 1, n, dtype=x0.dtype, device=x0.device)
    al, be = torch.meshgrid(t, t, indexing="ij")
    shape = (n * n,) + (1,) * x0.dim()
    return al.reshape(shape) * x0 + be.reshape(shape) * x1


# ---------------------------------------------------------------------------
# structured (channel) masks


def channel_groups(model: nn.Module) -> list:
    """Each BatchNorm's channels and the weights that produce and read them.

    Returns ``[(bn_name, producer, consumer)]``: ``producer`` is the weight
    name whose output rows (out features / out channels) are the BatchNorm's
    channels, or ``None`` (e.g. a pre-activation block's first BatchNorm, which
    normalises the residual stream); ``consumer`` the weight whose input
    columns (in features / in channels) read them. A model may define
    ``channel_groups()`` itself (:class:`pruning_utils.models.PreResNetCifar`
    does); otherwise the model must be a chain in registration order
    (``weight -> BatchNorm -> ReLU [-> pool] -> weight``, as MLP with
    ``batchnorm=True``, VGG and the conv nets with ``batchnorm=True`` are), with
    the channel counts matching, or a Linear reading the flattened channels
    (its inputs a multiple of the channels, channel-major as ``flatten`` lays them out).
    """
    if hasattr(model, "channel_groups"):
        return list(model.channel_groups())
    weights = prunable_layers(model)
    order = [(n, m) for n, m in model.named_modules() if isinstance(m, _BN) or m in weights.values()]
    wname = {id(m): k for k, m in weights.items()}
    groups = []
    for i, (n, m) in enumerate(order):
        if not isinstance(m, _BN):
            continue
        c = m.num_features
        prev = order[i - 1][1] if i > 0 else None
        nxt = order[i + 1][1] if i + 1 < len(order) else None
        out_dim = (getattr(prev, "out_features", None) or getattr(prev, "out_channels", None)) if prev is not None else None
        in_dim = (getattr(nxt, "in_features", None) or getattr(nxt, "in_channels", None)) if nxt is not None else None
        flattened = isinstance(nxt, nn.Linear) and in_dim is not None and in_dim % c == 0  # conv -> flatten -> Linear
        if nxt is None or isinstance(nxt, _BN) or (in_dim != c and not flattened):
            raise ValueError(f"parameter 'model': cannot tell which weight reads the channels of {n!r}; expected a "
                             f"chain weight -> BatchNorm -> weight (MLP with batchnorm, VGG) or a model with "
                             f"a channel_groups() method")
        producer = wname[id(prev)] if prev is not None and not isinstance(prev, _BN) and out_dim == c else None
        groups.append((n, producer, wname[id(nxt)]))
    if not groups:
        raise ValueError("parameter 'model' has no BatchNorm layer; channel pruning here works on BatchNorm channels")
    return groups


def channel_masks(model: nn.Module, keep: dict) -> dict:
    """Weight masks that remove whole channels: ``{bn_name: bool (channels,)}`` -> ``{weight name: mask}``.

    A removed channel loses its producer's output row (if it has a producer)
    and its consumer's input column(s), so it neither computes nor is read:
    the network is exactly the narrower network. Weights that no group
    touches get all-True masks. Pass the result to
    :func:`pruning_utils.masks.apply_masks`.
    """
    groups = {g[0]: g for g in channel_groups(model)}
    layers = prunable_layers(model)
    masks = {}
    for name, m in layers.items():
        w = m.weight_orig if hasattr(m, "weight_orig") else m.weight
        masks[name] = torch.ones_like(w, dtype=torch.bool)
    for bn, k in keep.items():
        if bn not in groups:
            raise ValueError(f"parameter 'keep' names {bn!r}, not a BatchNorm of a channel group; expected "
                             f"names among {', '.join(groups)}")
        k = torch.as_tensor(k, dtype=torch.bool).reshape(-1)
        _, producer, consumer = groups[bn]
        m_c = masks[consumer]
        c = k.numel()
        if m_c.shape[1] % c != 0:
            raise ValueError(f"parameter 'keep'[{bn!r}] has {c} entries; {consumer!r} reads {m_c.shape[1]} inputs")
        rep = m_c.shape[1] // c  # a Linear after a flatten reads each channel rep times
        col = k.to(m_c.device).repeat_interleave(rep)
        m_c &= col.view(1, -1, *([1] * (m_c.dim() - 2)))
        if producer is not None:
            m_p = masks[producer]
            if m_p.shape[0] != c:
                raise ValueError(f"parameter 'keep'[{bn!r}] has {c} entries; {producer!r} has {m_p.shape[0]} outputs")
            m_p &= k.to(m_p.device).view(-1, *([1] * (m_p.dim() - 1)))
    return masks


def without_units(model: nn.Module, bn_name: str, units) -> nn.Module:
    """A copy of ``model`` (eval mode) with the given channels of one BatchNorm group removed by :func:`channel_masks`."""
    pruned = copy.deepcopy(model)
    keep = {bn_name: torch.ones(pruned.get_submodule(bn_name).num_features, dtype=torch.bool)}
    keep[bn_name][torch.as_tensor(units, dtype=torch.long)] = False
    apply_masks(pruned, channel_masks(pruned, keep))
    return pruned.eval()


def _bn(model, name):
    return dict(model.named_modules())[name]


def slimming_scores(model: nn.Module) -> dict:
    """``|gamma|`` of every grouped BatchNorm channel (network slimming; the early-bird tickets' score)."""
    return {bn: _bn(model, bn).weight.detach().abs().cpu().clone() for bn, _, _ in channel_groups(model)}


def channel_l1_scores(model: nn.Module) -> dict:
    """Magnitude channel score: the L1 norm of the channel's producer row, else of its consumer columns."""
    layers = prunable_layers(model)
    out = {}
    for bn, producer, consumer in channel_groups(model):
        c = _bn(model, bn).num_features
        if producer is not None:
            w = layers[producer].weight.detach().abs().cpu()
            out[bn] = w.reshape(c, -1).sum(1)
        else:
            w = layers[consumer].weight.detach().abs().cpu()
            out[bn] = w.transpose(0, 1).reshape(c, -1).sum(1)
    return out


def folded_hyperplanes(model: nn.Module) -> dict:
    """Each grouped channel's hyperplane ``a . x + c = 0`` with its BatchNorm folded in, normalised.

    For a channel with producer weight row ``w`` and bias ``b`` followed by
    BatchNorm ``(gamma, beta, mu, sigma)`` (eval statistics), the
    pre-activation is ``gamma (w . x + b - mu) / sigma + beta``: normal
    ``a = gamma w / sigma``, offset ``c = gamma (b - mu) / sigma + beta``
    (for a conv, ``w`` is the flattened kernel and ``x`` a patch). Returns
    ``{bn: (channels, d + 1)}`` rows ``(a, c) / ||a||``: the hyperplane, scaled
    to unit normal, so that two units draw the same hyperplane exactly when
    their rows are equal or opposite. Groups with no producer are skipped.
    """
    layers = prunable_layers(model)
    out = {}
    for bn_name, producer, _ in channel_groups(model):
        if producer is None:
            continue
        bn = _bn(model, bn_name)
        mod = layers[producer]
        w = (mod.weight_orig * mod.weight_mask if hasattr(mod, "weight_mask") else mod.weight).detach().double().cpu()
        w = w.reshape(w.shape[0], -1)
        b = mod.bias.detach().double().cpu() if mod.bias is not None else torch.zeros(w.shape[0], dtype=torch.float64)
        sd = torch.sqrt(bn.running_var.detach().double().cpu() + bn.eps)
        g = bn.weight.detach().double().cpu() if bn.weight is not None else torch.ones_like(sd)
        beta = bn.bias.detach().double().cpu() if bn.bias is not None else torch.zeros_like(sd)
        a = (g / sd)[:, None] * w
        c = g * (b - bn.running_mean.detach().double().cpu()) / sd + beta
        norm = a.norm(dim=1, keepdim=True).clamp_min(1e-300)
        out[bn_name] = torch.cat([a, c[:, None]], 1) / norm
    return out


def _greedy_redundancy(h: torch.Tensor) -> torch.Tensor:
    """Removal order scores for one layer's unit hyperplanes ``h`` (units, d + 1).

    Distance between units ``i`` and ``j``: ``min(|h_i - h_j|, |h_i + h_j|)``
    (sign-invariant: ``h`` and ``-h`` draw the same hyperplane). Greedy: remove
    the unit whose nearest remaining unit is closest (ties: lowest index; the
    distances are computed exactly enough for a duplicated or negated unit to be
    at distance 0 from its twin, so such ties are real ties),
    recording that distance as its score; repeat. A duplicated unit is removed
    first with score ~0 and its twin then scores by its next neighbour, so
    pruning never removes both copies of a hyperplane before other units.
    Scores are made non-decreasing along the removal order (running maximum),
    so "remove the k lowest" is always a prefix of the greedy order.
    """
    u = h.shape[0]
    if u == 1:
        return torch.tensor([math.inf], dtype=torch.float64)
    # pairwise differences computed directly, not through the matrix-product expansion cdist uses for more than
    # 25 units: identical (or negated) hyperplanes then get a distance of exactly 0 and the matrix is exactly
    # symmetric, so equal distances are equal and the lowest index really goes first
    exact = "donot_use_mm_for_euclid_dist"
    d = torch.minimum(torch.cdist(h, h, compute_mode=exact), torch.cdist(h, -h, compute_mode=exact))
    d.fill_diagonal_(math.inf)
    alive = torch.ones(u, dtype=torch.bool)
    scores = torch.full((u,), math.inf, dtype=torch.float64)
    level = 0.0
    for _ in range(u - 1):
        dd = d[alive][:, alive]
        near = dd.min(1).values
        idx_alive = torch.nonzero(alive).flatten()
        j = int(torch.argmin(near))
        level = max(level, float(near[j]))
        scores[idx_alive[j]] = level
        alive[idx_alive[j]] = False
    return scores  # the last unit standing keeps +inf


def spline_scores(model: nn.Module, normalise: bool = True) -> dict:
    """Spline redundancy score of every channel (this book's criterion, in the paper's spirit).

    A unit matters to the spline partition through its hyperplane. If another
    unit of the same layer draws (nearly) the same hyperplane, up to sign,
    removing one of the two leaves the partition (nearly) unchanged. The
    score is the greedy redundancy (below) of the
    folded, unit-normal hyperplanes of :func:`folded_hyperplanes`: low =
    redundant = pruned first. Greedy redundancy: the distance between units
    ``i`` and ``j`` is ``min(|h_i - h_j|, |h_i + h_j|)`` (``h`` and ``-h`` draw
    the same hyperplane); repeatedly remove the unit whose nearest remaining
    unit is closest and record that distance (made non-decreasing) as its
    score, so a duplicated pair loses one member first and the survivor is
    then scored by its next neighbour. With ``normalise`` each layer's finite scores
    are divided by their median, so that layers can be ranked together
    (global pruning); layer-wise pruning is unaffected. Groups with no
    producer (no hyperplane of their own) are scored by ``|gamma|`` relative
    to its median, so they can still be ranked.
    """
    planes = folded_hyperplanes(model)
    out = {}
    for bn, producer, _ in channel_groups(model):
        if bn in planes:
            s = _greedy_redundancy(planes[bn])
        else:
            s = _bn(model, bn).weight.detach().abs().double().cpu()
        if normalise:
            fin = s[torch.isfinite(s)]
            med = float(fin.median()) if fin.numel() else 1.0
            s = s / (med if med > 0 else 1.0)
        out[bn] = s
    return out


def keep_from_scores(scores: dict, ratio: float, scope: str = "global", count: str = "round") -> dict:
    """Keep-vectors removing the fraction ``ratio`` of channels with the lowest scores.

    ``scope="layerwise"``: ``n(ratio, c)`` channels of every group, but at
    least one kept; ``"global"``: ``n(ratio, total)`` lowest over all groups
    together (one threshold, as network slimming), never emptying a group (its
    highest-scoring channel is kept). Ties: the earlier channel goes first.
    ``count``: ``"round"`` removes ``n = round(ratio * c)`` (this book's
    tickets and criteria); ``"authors"`` removes ``n = int(ratio * c) + 1``, as
    network slimming's and the early-bird papers' code do (the threshold is the
    score at sorted index ``int(c * ratio)``, and every channel at or below it
    goes): one channel more than ``round`` whenever ``ratio * c`` is a whole number.
    """
    if isinstance(ratio, bool) or not isinstance(ratio, numbers.Real) or not (0.0 <= ratio < 1.0):
        raise ValueError(f"parameter 'ratio' = {ratio!r} is not allowed; expected a number with 0 <= ratio < 1")
    if scope not in ("global", "layerwise"):
        raise ValueError(f"parameter 'scope' = {scope!r} is not allowed; expected 'global' or 'layerwise'")
    if count not in ("round", "authors"):
        raise ValueError(f"parameter 'count' = {count!r} is not allowed; expected 'round' or 'authors'")

    def n_removed(c):
        return int(round(ratio * c)) if count == "round" else int(ratio * c) + 1

    keep = {}
    if scope == "layerwise":
        for n, s in scores.items():
            k = min(n_removed(s.numel()), s.numel() - 1)
            order = torch.sort(s.double(), stable=True).indices
            kv = torch.ones(s.numel(), dtype=torch.bool)
            kv[order[:k]] = False
            keep[n] = kv
        return keep
    names = list(scores)
    flat = torch.cat([scores[n].double().reshape(-1) for n in names])
    # protect each group's best channel
    start = 0
    protect = torch.zeros_like(flat, dtype=torch.bool)
    for n in names:
        c = scores[n].numel()
        protect[start + int(torch.argmax(scores[n].double()))] = True
        start += c
    k = min(n_removed(flat.numel()), int((~protect).sum()))
    work = torch.where(protect, torch.full_like(flat, math.inf), flat)
    order = torch.sort(work, stable=True).indices
    kv = torch.ones_like(flat, dtype=torch.bool)
    kv[order[:k]] = False
    start = 0
    for n in names:
        c = scores[n].numel()
        keep[n] = kv[start:start + c].clone()
        start += c
    return keep


# ---------------------------------------------------------------------------
# early-bird detectors


class _EarlyBird(Callback):
    """Shared logic: call :meth:`update` once per epoch (or use as a train callback)."""

    def __init__(self):
        self.history = []          # one entry per update: the distance statistic (None until comparable)
        self.epochs = []
        self.triggered_epoch = None

    @property
    def triggered(self) -> bool:
        return self.triggered_epoch is not None

    def update(self, model: nn.Module, epoch: int) -> bool:
        stat = self._statistic(model)
        self.history.append(stat)
        self.epochs.append(int(epoch))
        if self.triggered_epoch is None and stat is not None and self._fires(stat):
            self.triggered_epoch = int(epoch)
        return self.triggered

    def on_epoch_end(self, state):
        # state.epoch is the 0-based index of the epoch just finished: report epochs counted from 1
        self.update(state.model, state.epoch + 1)


class SplineEarlyBird(_EarlyBird):
    """The spline early-bird detector (You, Balestriero et al.): codes of a fixed probe set each epoch.

    After each epoch the codes of ``probe`` (e.g. :func:`canvas`) are
    compared with those of the last ``window`` epochs; the statistic is the
    largest of those ``window`` distances (:func:`partition_distance`), and
    the early bird is the first epoch where it is below ``threshold``
    (authors: 3 epochs, 0.16). ``history`` holds ``None`` until ``window``
    earlier codes exist.
    """

    def __init__(self, probe: torch.Tensor, threshold: float = 0.16, window: int = 3, batch_size: int = 1024):
        super().__init__()
        if not torch.is_tensor(probe):
            raise ValueError("parameter 'probe' must be a tensor of inputs, e.g. canvas(x0, x1)")
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(f"parameter 'window' = {window!r} is not allowed; expected an integer >= 1")
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not (0 < threshold <= 1):
            raise ValueError(f"parameter 'threshold' = {threshold!r} is not allowed; expected 0 < threshold <= 1")
        self.probe, self.threshold, self.window, self.batch_size = probe, float(threshold), window, batch_size
        self.queue = deque(maxlen=window)

    def _statistic(self, model):
        codes = activation_codes(model, self.probe, self.batch_size)
        stat = (max(partition_distance(codes, q) for q in self.queue) if len(self.queue) == self.window
                else None)
        self.queue.append(codes)
        return stat

    def _fires(self, stat):
        return stat < self.threshold


class MaskEarlyBird(_EarlyBird):
    """The original early-bird detector (You et al., ICLR 2020): channel masks from ``|gamma|``.

    Each epoch: a global channel mask removing the fraction ``ratio`` of
    BatchNorm channels with the smallest ``|gamma|``; a queue of the last
    ``queue`` masks; the statistic is the largest distance (fraction of
    differing entries) between the newest mask and the others, and the early
    bird is the first epoch where it is at most ``threshold`` with the queue
    full (authors: 5 masks, 0.1). ``count`` is :func:`keep_from_scores`'s:
    ``"authors"`` (the default) removes ``int(ratio * total) + 1`` channels as
    their code does, ``"round"`` the book's ``round(ratio * total)``.
    """

    def __init__(self, ratio: float = 0.5, queue: int = 5, threshold: float = 0.1, count: str = "authors"):
        super().__init__()
        if isinstance(queue, bool) or not isinstance(queue, int) or queue < 2:
            raise ValueError(f"parameter 'queue' = {queue!r} is not allowed; expected an integer >= 2")
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not (0 <= threshold <= 1):
            raise ValueError(f"parameter 'threshold' = {threshold!r} is not allowed; expected 0 <= threshold <= 1")
        if isinstance(ratio, bool) or not isinstance(ratio, numbers.Real) or not (0 <= ratio < 1):
            raise ValueError(f"parameter 'ratio' = {ratio!r} is not allowed; expected a number with 0 <= ratio < 1")
        if count not in ("round", "authors"):
            raise ValueError(f"parameter 'count' = {count!r} is not allowed; expected 'round' or 'authors'")
        self.ratio, self.threshold, self.count = ratio, float(threshold), count
        self.masks = deque(maxlen=queue)

    def mask(self, model) -> torch.Tensor:
        keep = keep_from_scores(slimming_scores(model), self.ratio, "global", count=self.count)
        return torch.cat([keep[n] for n in keep])

    def _statistic(self, model):
        self.masks.append(self.mask(model))
        if len(self.masks) < self.masks.maxlen:
            return None
        newest = self.masks[-1]
        return max(float((m != newest).double().mean()) for m in list(self.masks)[:-1])

    def _fires(self, stat):
        return stat <= self.threshold


class L1GammaPenalty(Callback):
    """Sparsity on BatchNorm scales during the early-bird search: ``s * sign(gamma)`` added to gamma's gradient.

    As the authors do (network slimming's update before the optimizer step):
    the subgradient of ``s * |gamma|`` joins the loss's gradient after the
    backward pass, so it passes through momentum (and weight decay) like the
    rest of the gradient. ``s = 1e-4`` in their code. (Earlier versions of this
    book applied ``gamma -= lr * s * sign(gamma)`` after the step, without
    momentum: about ten times weaker under momentum 0.9.)
    """

    def __init__(self, strength: float = 1e-4):
        if isinstance(strength, bool) or not isinstance(strength, numbers.Real) or strength < 0:
            raise ValueError(f"parameter 'strength' = {strength!r} is not allowed; expected a number >= 0")
        self.strength = float(strength)

    def on_after_backward(self, state):
        with torch.no_grad():
            for m in state.model.modules():
                if isinstance(m, _BN) and m.weight is not None and m.weight.requires_grad:
                    g = self.strength * torch.sign(m.weight)
                    if m.weight.grad is None:
                        m.weight.grad = g
                    else:
                        m.weight.grad.add_(g)


# ---------------------------------------------------------------------------
# FLOPs


def forward_flops(model: nn.Module, input_shape, masks: dict | None = None) -> int:
    """FLOPs of one forward pass of one input: 2 per multiply-add of every Linear/Conv weight kept.

    Counted with forward hooks on a zero input of shape ``(1, *input_shape)``:
    a conv contributes ``2 * kept weights * output positions``, a Linear
    ``2 * kept weights``, where "kept" is the number of True entries of
    ``masks[name]`` (all weights without masks). A structured mask makes this
    exactly the FLOPs of the narrower network. Normalisation, activations and
    biases are left out (a few percent at most).
    """
    layers = prunable_layers(model)
    counts = {}

    def hook(name):
        def fn(module, inputs, output):
            positions = int(np.prod(output.shape[2:])) if output.dim() > 2 else 1
            w = module.weight_orig if hasattr(module, "weight_orig") else module.weight
            kept = int(masks[name].sum()) if masks is not None and name in masks else w.numel()
            counts[name] = 2 * kept * positions
        return fn

    handles = [m.register_forward_hook(hook(n)) for n, m in layers.items()]
    was = model.training
    model.eval()
    dev = next(model.parameters()).device
    try:
        with torch.no_grad():
            model(torch.zeros((1, *input_shape), device=dev))
    finally:
        for h in handles:
            h.remove()
        model.train(was)
    return int(sum(counts.values()))


def training_flops(model: nn.Module, input_shape, n_train: int, epochs: float, masks: dict | None = None) -> float:
    """FLOPs of ``epochs`` epochs of training on ``n_train`` inputs: 3 x forward per input.

    The backward pass costs about twice the forward (gradients with respect
    to inputs and to weights), the usual estimate; the early-bird papers count
    training FLOPs the same way up to that constant, which cancels in every
    ratio this book reports.
    """
    return 3.0 * forward_flops(model, input_shape, masks) * n_train * epochs
