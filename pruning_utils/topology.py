"""Zeroth-order topology of a network's weight graph, and IMP that keeps it.

Balwani & Krzyston ("Zeroth-Order Topological Insights into Iterative
Magnitude Pruning", TAG-ML at ICML 2022, arXiv 2206.06563) read a
feed-forward network as a graph and compute its zeroth-order persistent
homology. Conventions (DESIGN.md section 3):

- **Weight graph.** Nodes are neurons, layer by layer: the input features,
  every hidden unit, the outputs. Weight ``w`` of layer ``l`` is an edge
  between a node of layer ``l`` and a node of layer ``l + 1`` with
  filtration value ``f(w) = 1 - |w| / max|w|``, the maximum taken over the
  whole network. Weights that are exactly zero (pruned) are not edges; biases
  are ignored. ``weights`` are ``(out, in)`` matrices, input layer first.
- **Persistence.** Every node is born at 0. Adding the edges in order of
  increasing ``f`` (decreasing ``|w|``) merges components; by the elder rule
  each merge kills one bar, at the value of the merging edge. The merging
  edges are the edges of the minimum spanning forest of ``f``, i.e. the
  maximum spanning forest of ``|w|`` (Kruskal's algorithm *is* the elder
  rule here). So the diagram is one bar ``(0, f(e))`` per forest edge ``e``
  and one bar ``(0, inf)`` per connected component (isolated nodes
  included): ``|V| - c`` finite bars and ``c`` infinite ones.
- **The bound.** A forest on ``|V|`` nodes with ``c`` components has
  ``|V| - c`` edges, and keeping exactly those keeps the diagram (the largest
  weight is a forest edge, so the normalisation ``max|w|`` is kept too). The
  largest sparsity that keeps the zeroth-order topology is therefore
  ``1 - (|V| - c) / N`` with ``N`` the number of weights; for LeNet-300-100
  without biases ``1 - 1193 / 266200 = 0.99552``.

Two ways to the diagram, which :func:`zeroth_order_diagram` returns in one
canonical form (rows sorted by death, infinite bars last, births 0):

- ``method="ripser"``: :func:`ripser.ripser` on the sparse distance matrix
  :meth:`WeightGraph.to_sparse` (Vietoris-Rips of a graph = its clique
  complex; in degree 0 only the edges matter). ripser computes in float32 and
  omits bars of zero length, see :func:`zeroth_order_diagram`.
- ``method="mst"``: the spanning forest (:func:`spanning_forest`), exact in
  float64. Kruskal (:func:`scipy.sparse.csgraph.minimum_spanning_tree` on
  edge ranks) runs on few candidates: each layer's forest is found among its
  heaviest ``4 * (in + out)`` edges plus the edges those leave crossing, and
  the network's forest among the union of the layer forests. Both steps are
  exact (cycle property); on a 1.1e7-edge graph this is about 25x faster
  than Kruskal on all edges, and than ripser (``benchmarks/bench_topology.py``).

**Convolutions** (a choice of this package; the paper treats fully connected
nets). A ``Conv2d`` weight ``(out, in, kh, kw)`` becomes a *channel graph*:
one node per channel, one edge per (output channel, input channel) pair with
``|w| = max`` over the kernel of ``|w|``; the edge exists while any kernel
entry is kept. A ``Linear`` layer that follows a conv layer with ``C`` output
channels and ``in_features = C * H * W`` has its columns grouped per channel
(channel-major, the order of ``torch.flatten``) and reduced by ``max |w|``
likewise. Its input layer is then the ``C`` channels. For a reduced edge,
``edge_pos`` points at the entry that attains the maximum (the first one, in
row-major order, on ties), and that entry is what :func:`tree_masks` marks:
keeping it keeps the edge's ``|w|``. Only chains are graphs here: skip
connections (ResNets) are not edges, and a model whose prunable weights do
not chain (``in`` of layer ``l + 1`` = ``out`` of layer ``l``) is refused.

:func:`mst_preserving_scores` is the paper's modified IMP as a score
function: ``run_imp(..., scores_fn=mst_preserving_scores)`` never prunes an
edge of the current network's spanning forest, as long as each round's
target sparsity stays at or below :func:`prunability_bound`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import torch
from scipy import sparse
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from torch import nn

from .masks import effective_weights

__all__ = ["WeightGraph", "weight_graph", "zeroth_order_diagram", "spanning_forest", "tree_masks",
           "prunability_bound", "mst_preserving_scores", "tree_edges_kept", "isolated_nodes", "METHODS"]

#: the allowed values of ``method`` in :func:`zeroth_order_diagram`
METHODS = ("ripser", "mst")
#: graphs with more edges than this (and than ``2 * FILTER_FACTOR * n_nodes``) get the
#: heaviest-edges prefilter in the spanning-forest computation (same result, faster)
FILTER_MIN_EDGES = 1 << 16
#: the prefilter keeps the ``FILTER_FACTOR * n_nodes`` heaviest edges (plus those they leave crossing)
FILTER_FACTOR = 4


# ---------------------------------------------------------------------------
# the graph


@dataclass
class WeightGraph:
    """The weight graph of a feed-forward network (see the module docstring).

    Attributes
    ----------
    n_nodes : int
        Number of nodes, ``sum(layer_sizes)``.
    layer_sizes : list of int
        Nodes per layer, input layer first (channels for conv layers).
    offsets : list of int
        Index of the first node of each layer.
    rows, cols : numpy.ndarray of int64
        Endpoints of each edge: ``rows`` in layer ``l``, ``cols`` in layer
        ``l + 1`` (so ``rows < cols``).
    values : numpy.ndarray of float64
        Filtration value ``1 - |w| / max|w|`` of each edge, in ``[0, 1)``.
    abs_weights : numpy.ndarray of float64
        ``|w|`` of each edge (max over the kernel for reduced conv edges).
    edge_layer : numpy.ndarray of int64
        Index of the weight matrix each edge comes from.
    edge_pos : numpy.ndarray of int64
        Flat row-major index of the edge's entry in its original weight
        (``out * in`` for a matrix; for a reduced edge, the entry of largest
        ``|w|``).
    names : list of str
        Parameter names (``"0.weight"``) when built from a model or a dict,
        else ``"layer0"``, ``"layer1"``, ...
    shapes : list of tuple of int
        Shapes of the original weights.
    max_abs : float
        ``max|w|`` over the network (0.0 when there is no edge).

    Edges are ordered by layer, then by ``edge_pos`` (row-major in the
    ``(out, in)`` matrix); this order breaks ties in :func:`spanning_forest`.
    """

    n_nodes: int
    layer_sizes: list
    offsets: list
    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    abs_weights: np.ndarray
    edge_layer: np.ndarray
    edge_pos: np.ndarray
    names: list
    shapes: list
    max_abs: float = 0.0
    devices: list = field(default=None, repr=False)

    @property
    def n_edges(self) -> int:
        """Number of edges (non-zero weights, or non-zero kernels for conv layers)."""
        return int(self.rows.shape[0])

    def to_sparse(self) -> sparse.coo_matrix:
        """``(n_nodes, n_nodes)`` upper-triangular COO matrix of the filtration values.

        Explicit zeros are kept: the edge of largest ``|w|`` has value exactly
        0 and is an edge, unlike a missing entry. This is the sparse distance
        matrix ripser takes (``distance_matrix=True``); ripser reads the
        entries with ``row < col`` as undirected edges and the diagonal as
        vertex births (none here: every node is born at 0).
        """
        return sparse.coo_matrix((self.values, (self.rows, self.cols)),
                                 shape=(self.n_nodes, self.n_nodes))


def _bad(msg: str):
    raise ValueError(f"parameter 'model_or_weights' {msg}")


def _collect(model_or_weights):
    """``(names, arrays, devices)``: |weights| as float64 numpy arrays, in layer order."""
    obj = model_or_weights
    if isinstance(obj, nn.Module):
        weights = effective_weights(obj)
        if not weights:
            _bad("is a model with no Linear or Conv layer; expected a feed-forward network")
        names, items = list(weights), list(weights.values())
    elif isinstance(obj, Mapping):
        names, items = [str(k) for k in obj], list(obj.values())
    elif isinstance(obj, (list, tuple)):
        names, items = [f"layer{i}" for i in range(len(obj))], list(obj)
    else:
        _bad(f"is a {type(obj).__name__}; expected an nn.Module, a list of 2-D weights (out, in) "
             f"input layer first, a dict {{name: weight}}, or a WeightGraph")
    if not items:
        _bad("holds no weights; expected at least one weight matrix (out, in)")
    arrays, devices = [], []
    for name, w in zip(names, items):
        if torch.is_tensor(w):
            if w.is_complex() or w.dtype == torch.bool:
                _bad(f"[{name!r}] has dtype {w.dtype}; expected real weights")
            devices.append(w.device)
            a = w.detach().to("cpu", torch.float64).abs().numpy()
        elif isinstance(w, np.ndarray):
            if not (np.issubdtype(w.dtype, np.floating) or np.issubdtype(w.dtype, np.integer)):
                _bad(f"[{name!r}] has dtype {w.dtype}; expected real weights")
            devices.append(None)
            a = np.abs(w.astype(np.float64))
        else:
            _bad(f"[{name!r}] is a {type(w).__name__}; expected a tensor or a numpy array")
        if a.ndim < 2 or a.size == 0:
            _bad(f"[{name!r}] has shape {tuple(a.shape)}; expected a non-empty 2-D weight (out, in) "
                 f"or a conv weight (out, in, *kernel)")
        if a.size and not np.isfinite(a).all():
            _bad(f"[{name!r}] contains NaN or infinite values; expected finite weights")
        arrays.append(a)
    return names, arrays, devices


def _reduce_groups(a: np.ndarray, groups: int):
    """Max over the last axis of ``a`` viewed as ``(out, in, groups)``: ``(values, argmax)``."""
    out, n_in = a.shape[0], a.shape[1]
    flat = a.reshape(out, n_in, groups)
    arg = flat.argmax(axis=2)  # first maximum on ties
    red = np.take_along_axis(flat, arg[:, :, None], axis=2)[:, :, 0]
    pos = (np.arange(out)[:, None] * n_in + np.arange(n_in)[None, :]) * groups + arg
    return red, pos


def weight_graph(model_or_weights) -> WeightGraph:
    """Build the weight graph of a feed-forward network.

    Parameters
    ----------
    model_or_weights : nn.Module, list of weights, dict, or WeightGraph
        A model (its prunable weights, :func:`pruning_utils.masks.effective_weights`,
        in model order, so masked entries are zero and not edges), a list of
        weights input layer first, or a dict ``{name: weight}`` in layer
        order. A weight is a 2-D tensor or array ``(out, in)`` or a conv
        weight ``(out, in, *kernel)``. A WeightGraph is returned as is.

    Returns
    -------
    WeightGraph
        Nodes: ``in`` of the first layer, then ``out`` of every layer.

    Notes
    -----
    Conv layers become channel graphs: one edge per (out channel, in
    channel) pair, ``|w| = max`` over the kernel; a Linear layer right after
    a conv layer with ``C`` output channels and ``in_features = C * H * W``
    has its columns grouped per channel (channel-major, as ``torch.flatten``
    orders them) and reduced by ``max |w|``; ``in_features = C`` (after
    global pooling) needs no grouping. ``edge_pos`` of a reduced edge is the
    flat index of its largest entry (first on ties).

    Raises
    ------
    ValueError
        If the shapes do not chain (``in`` of layer ``l + 1`` must equal
        ``out`` of layer ``l``), a weight is not at least 2-D, not real, or
        not finite.
    """
    if isinstance(model_or_weights, WeightGraph):
        return model_or_weights
    names, arrays, devices = _collect(model_or_weights)
    shapes = [tuple(int(d) for d in a.shape) for a in arrays]
    sizes = [shapes[0][1]]
    reduced, positions = [], []
    prev_conv = False
    for l, (name, a) in enumerate(zip(names, arrays)):
        out, n_in = a.shape[0], a.shape[1]
        if a.ndim > 2:  # conv: (out, in, *kernel) -> channel graph
            red, pos = _reduce_groups(a.reshape(out, n_in, -1), int(np.prod(a.shape[2:], dtype=np.int64)))
            node_in = n_in
        elif prev_conv and n_in != sizes[-1]:  # Linear after conv: group columns per channel
            c = sizes[-1]
            if n_in % c != 0:
                _bad(f"[{name!r}] has in_features = {n_in}, which is not a multiple of the "
                     f"{c} channels of the conv layer before it; expected in_features = C * H * W")
            red, pos = _reduce_groups(a.reshape(out, c, n_in // c), n_in // c)
            node_in = c
        else:
            red, pos = a, None
            node_in = n_in
        if node_in != sizes[-1]:
            _bad(f"does not chain: {name!r} has shape {shapes[l]} (in = {node_in}) but the layer "
                 f"before it has {sizes[-1]} outputs; expected a feed-forward chain, input layer "
                 f"first, with in of layer l+1 = out of layer l (skip connections are not supported)")
        sizes.append(out)
        reduced.append(red)
        positions.append(pos)
        prev_conv = a.ndim > 2
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    rows, cols, absw, layer, epos = [], [], [], [], []
    for l, (red, pos) in enumerate(zip(reduced, positions)):
        n_in = red.shape[1]
        flat = red.reshape(-1)
        nz = np.flatnonzero(flat)
        rows.append(offsets[l] + nz % n_in)
        cols.append(offsets[l + 1] + nz // n_in)
        absw.append(flat[nz])
        layer.append(np.full(nz.shape[0], l, dtype=np.int64))
        epos.append(nz if pos is None else pos.reshape(-1)[nz])
    absw = np.concatenate(absw).astype(np.float64, copy=False)
    max_abs = float(absw.max()) if absw.size else 0.0
    values = 1.0 - absw / max_abs if absw.size else np.zeros(0)
    return WeightGraph(n_nodes=int(offsets[-1]), layer_sizes=[int(s) for s in sizes],
                       offsets=[int(o) for o in offsets[:-1]],
                       rows=np.concatenate(rows).astype(np.int64, copy=False),
                       cols=np.concatenate(cols).astype(np.int64, copy=False),
                       values=values, abs_weights=absw,
                       edge_layer=np.concatenate(layer), edge_pos=np.concatenate(epos).astype(np.int64, copy=False),
                       names=names, shapes=shapes, max_abs=max_abs, devices=devices)


# ---------------------------------------------------------------------------
# spanning forest and diagram


def _forest_direct(n_nodes: int, rows: np.ndarray, cols: np.ndarray, abs_weights: np.ndarray) -> np.ndarray:
    """Maximum spanning forest of ``|w|`` as a boolean mask over the edges (Kruskal on all edges).

    The edges are ranked by ``|w|`` decreasing, ties by edge index (stable
    sort); scipy's minimum spanning tree then runs on the ranks ``1..m``
    (distinct integers, exact in float64, and never 0, which scipy would
    read as a missing edge), so the forest is unique and tree edges map back
    to edge indices exactly.
    """
    m = rows.shape[0]
    tree = np.zeros(m, dtype=bool)
    if m == 0:
        return tree
    order = np.argsort(-abs_weights, kind="stable")
    rank = np.empty(m, dtype=np.int64)
    rank[order] = np.arange(m, dtype=np.int64)
    W = sparse.csr_matrix(((rank + 1).astype(np.float64), (rows, cols)), shape=(n_nodes, n_nodes))
    T = minimum_spanning_tree(W)
    tree[order[T.data.astype(np.int64) - 1]] = True
    return tree


def _forest(n_nodes: int, rows: np.ndarray, cols: np.ndarray, abs_weights: np.ndarray) -> np.ndarray:
    """Maximum spanning forest of ``|w|``, same result as :func:`_forest_direct`, faster on dense graphs.

    A forest has at most ``n_nodes - 1`` edges, far fewer than a dense
    layer's ``in * out``. Let ``S`` be the ``FILTER_FACTOR * n_nodes``
    heaviest edges (all edges with ``|w| >= t``, a prefix of Kruskal's
    order). An edge outside ``S`` whose endpoints ``S`` already connects
    closes a cycle of heavier edges and is in no maximum spanning forest; so
    the forest of ``S`` plus the edges that join different components of
    ``S`` is the forest of the whole graph, with the same tie-breaks (the
    candidates keep their relative order). Sorting ``O(n)`` candidates
    instead of all ``m`` edges is what makes this fast.
    """
    m = rows.shape[0]
    k = FILTER_FACTOR * n_nodes
    if m <= max(FILTER_MIN_EDGES, 2 * k):
        return _forest_direct(n_nodes, rows, cols, abs_weights)
    t = np.partition(abs_weights, m - k)[m - k]  # the k-th largest |w|
    top = abs_weights >= t
    S = sparse.csr_matrix((np.ones(int(top.sum())), (rows[top], cols[top])), shape=(n_nodes, n_nodes))
    labels = connected_components(S, directed=False)[1]
    cand = np.flatnonzero(top | (labels[rows] != labels[cols]))
    tree = np.zeros(m, dtype=bool)
    tree[cand[_forest_direct(n_nodes, rows[cand], cols[cand], abs_weights[cand])]] = True
    return tree


def _layer_slices(g: WeightGraph):
    """Edge index ranges of each layer (edges are stored layer by layer)."""
    bounds = np.searchsorted(g.edge_layer, np.arange(len(g.names) + 1), side="left")
    return [slice(int(bounds[l]), int(bounds[l + 1])) for l in range(len(g.names))]


def _per_layer_forest(g: WeightGraph) -> np.ndarray:
    """Union over layers of the forest of each layer's bipartite graph (in + out nodes)."""
    tree = np.zeros(g.n_edges, dtype=bool)
    for l, s in enumerate(_layer_slices(g)):
        n_in = g.layer_sizes[l]
        rows = g.rows[s] - g.offsets[l]
        cols = g.cols[s] - g.offsets[l + 1] + n_in
        tree[s] = _forest(n_in + g.layer_sizes[l + 1], rows, cols, g.abs_weights[s])
    return tree


def _whole_forest(g: WeightGraph) -> np.ndarray:
    """The whole network's forest, found among the edges of the per-layer forests.

    An edge outside its layer's forest closes a cycle of heavier edges of
    that layer, so it is in no forest of the whole network either: the
    whole-network forest lies in the union of the per-layer forests (same
    tie-breaks: a layer's edge order is the network's, restricted). That
    union has fewer than ``2 * n_nodes`` edges.
    """
    if len(g.names) == 1:
        return _per_layer_forest(g)
    cand = np.flatnonzero(_per_layer_forest(g))
    tree = np.zeros(g.n_edges, dtype=bool)
    tree[cand[_forest_direct(g.n_nodes, g.rows[cand], g.cols[cand], g.abs_weights[cand])]] = True
    return tree


def _forest_of(g: WeightGraph, per_layer: bool) -> np.ndarray:
    return _per_layer_forest(g) if per_layer else _whole_forest(g)


def spanning_forest(graph) -> np.ndarray:
    """Edges of the maximum spanning forest of ``|w|`` (minimum of the filtration values).

    Parameters
    ----------
    graph : WeightGraph, or anything :func:`weight_graph` accepts

    Returns
    -------
    numpy.ndarray of bool, shape (n_edges,)
        ``True`` on the forest's edges: ``n_nodes - c`` of them, ``c`` the
        number of connected components.

    Notes
    -----
    Ties are broken deterministically: among edges of equal ``|w|`` the one
    that comes first in the graph's edge order (layer, then row-major
    position in the ``(out, in)`` weight) is taken first, as Kruskal's
    algorithm would with a stable sort. Other tie-breaks give other forests
    but the same diagram.
    """
    g = weight_graph(graph)
    return _whole_forest(g)


def _canonical(deaths: np.ndarray) -> np.ndarray:
    deaths = np.sort(np.asarray(deaths, dtype=np.float64))
    return np.stack([np.zeros_like(deaths), deaths], axis=1)


def zeroth_order_diagram(weights, method: str = "ripser") -> np.ndarray:
    """Zeroth-order persistence diagram of the weight graph.

    Parameters
    ----------
    weights : nn.Module, list of weights, dict, or WeightGraph
        See :func:`weight_graph`.
    method : {"ripser", "mst"}
        ``"ripser"``: ``ripser.ripser(graph.to_sparse(), maxdim=0,
        distance_matrix=True)``. ``"mst"``: the values of the spanning
        forest's edges (:func:`spanning_forest`), plus one infinite bar per
        component.

    Returns
    -------
    numpy.ndarray, float64, shape (n_nodes, 2)
        ``(birth, death)`` rows: births all 0.0, one finite death per forest
        edge (``n_nodes - c`` rows, zero-length bars included), then ``c``
        rows with death ``inf``; sorted by death ascending.

    Notes
    -----
    ripser computes in float32: its finite deaths are the float32 roundings
    of the filtration values (returned here as float64). Rounding is
    monotone, so the float64 forest is also a minimum forest of the rounded
    values and the two methods agree exactly at float32 precision:
    ``ripser == mst.astype(np.float32).astype(np.float64)``, elementwise.
    ``"mst"`` is exact in float64.

    ripser omits bars of zero length (death == birth). Here that is every
    forest edge of value 0 (the largest weight, and any weight tied with it;
    a positive float64 value never rounds to float32 zero). They are put
    back as ``(0, 0)`` rows: their number is ``n_nodes - c`` minus ripser's
    finite bars, ``c`` being ripser's number of infinite bars.
    """
    if method not in METHODS:
        raise ValueError(f"parameter 'method' = {method!r} is not allowed; expected one of "
                         f"{', '.join(repr(m) for m in METHODS)}")
    g = weight_graph(weights)
    if method == "mst":
        tree = _whole_forest(g)
        n_inf = g.n_nodes - int(tree.sum())
        deaths = np.concatenate([g.values[tree], np.full(n_inf, np.inf)])
        return _canonical(deaths)
    try:
        from ripser import ripser
    except ImportError as e:  # pragma: no cover - ripser is a dependency, but not on every machine
        raise ImportError("method='ripser' needs the ripser package (pip install ripser); "
                          "method='mst' gives the same diagram without it") from e
    dgm = np.asarray(ripser(g.to_sparse(), maxdim=0, distance_matrix=True)["dgms"][0], dtype=np.float64)
    deaths = dgm[:, 1] if dgm.size else np.zeros(0)
    finite = deaths[np.isfinite(deaths)]
    n_inf = deaths.shape[0] - finite.shape[0]
    n_zero = g.n_nodes - n_inf - finite.shape[0]
    if n_zero < 0 or (dgm.size and np.any(dgm[:, 0] != 0.0)):  # pragma: no cover - ripser changed
        raise RuntimeError("ripser returned an unexpected diagram for the weight graph")
    return _canonical(np.concatenate([np.zeros(n_zero), finite, np.full(n_inf, np.inf)]))


# ---------------------------------------------------------------------------
# trees as masks, the bound, MST-preserving IMP


def _check_per_layer(per_layer) -> bool:
    if not isinstance(per_layer, bool):
        raise ValueError(f"parameter 'per_layer' = {per_layer!r} is not allowed; expected True or False")
    return per_layer


def tree_masks(model_or_weights, per_layer: bool = False) -> dict:
    """The spanning forest as masks: ``{name: bool tensor shaped like the weight}``.

    Parameters
    ----------
    model_or_weights : nn.Module, list of weights, dict, or WeightGraph
        See :func:`weight_graph`.
    per_layer : bool
        ``False``: the forest of the whole network (``|V| - c`` edges).
        ``True``: the union of the forests of each layer's bipartite graph
        taken separately (``in + out - c_l`` edges in layer ``l``).

    Returns
    -------
    dict
        ``True`` on the forest's entries. For reduced conv edges one entry
        per edge is marked, its entry of largest ``|w|``: keeping it keeps the
        edge with the same ``|w|``. Tensors are on the weights' devices (CPU
        for numpy input or a WeightGraph built from it).
    """
    per_layer = _check_per_layer(per_layer)
    g = weight_graph(model_or_weights)
    tree = _forest_of(g, per_layer)
    devices = g.devices or [None] * len(g.names)
    out = {}
    for l, s in enumerate(_layer_slices(g)):
        m = np.zeros(int(np.prod(g.shapes[l], dtype=np.int64)), dtype=bool)
        m[g.edge_pos[s][tree[s]]] = True
        t = torch.from_numpy(m.reshape(g.shapes[l]))
        out[g.names[l]] = t.to(devices[l]) if devices[l] is not None else t
    return out


def prunability_bound(model_or_weights, per_layer: bool = False):
    """Largest sparsity that keeps the zeroth-order topology exactly.

    Keeping the ``|V| - c`` forest edges (``c`` connected components,
    isolated nodes included) keeps the diagram, and no forest edge can go
    without changing it; so at most ``1 - (|V| - c) / N`` of the ``N``
    weights can be removed (for a dense fully connected net ``N = |E|`` and
    ``c = 1``; LeNet-300-100: ``1 - 1193 / 266200``). ``N`` counts every
    entry of the weights, pruned or not, conv kernels entry by entry, so the
    bound is a sparsity in the unit ``masks_from_scores`` uses.

    Parameters
    ----------
    model_or_weights : nn.Module, list of weights, dict, or WeightGraph
        See :func:`weight_graph`.
    per_layer : bool
        ``True``: ``{name: 1 - (in + out - c_l) / N_l}`` for each layer's
        bipartite graph on its own (``c_l`` its components, ``N_l`` its
        number of weights).

    Returns
    -------
    float, or dict of float when ``per_layer``
    """
    per_layer = _check_per_layer(per_layer)
    g = weight_graph(model_or_weights)
    sizes = [int(np.prod(s, dtype=np.int64)) for s in g.shapes]
    tree = _forest_of(g, per_layer)
    if not per_layer:
        return 1.0 - int(tree.sum()) / sum(sizes)
    return {g.names[l]: 1.0 - int(tree[s].sum()) / sizes[l] for l, s in enumerate(_layer_slices(g))}


def mst_preserving_scores(model: nn.Module, per_layer: bool = False) -> dict:
    """Magnitude scores with the current spanning forest's entries set to ``+inf``.

    ``run_imp(..., scores_fn=mst_preserving_scores)`` is then IMP that never
    prunes an edge of the forest of the network it scores (Balwani &
    Krzyston's modified IMP); for ``per_layer=True`` use
    ``functools.partial(mst_preserving_scores, per_layer=True)``.

    The forest can only be kept while the target sparsity stays at or below
    :func:`prunability_bound` of the scored network: past it,
    ``masks_from_scores`` refuses (``ValueError``) rather than cut a
    ``+inf`` entry.

    Parameters
    ----------
    model : nn.Module
    per_layer : bool
        Protect the per-layer forests instead of the whole network's.

    Returns
    -------
    dict
        ``{name: float tensor}`` like :func:`pruning_utils.scores.magnitude_scores`.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"parameter 'model' is a {type(model).__name__}; expected an nn.Module")
    weights = effective_weights(model)
    tree = tree_masks(model, per_layer=per_layer)
    return {n: torch.where(tree[n].to(w.device), torch.full_like(w, math.inf), w.abs())
            for n, w in weights.items()}


def tree_edges_kept(tree: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor]) -> float:
    """Fraction of the forest's entries that ``masks`` keeps.

    Parameters
    ----------
    tree : dict
        Masks from :func:`tree_masks`.
    masks : dict
        Boolean masks (``True`` = kept) with at least the same keys and shapes.

    Returns
    -------
    float
        ``(#entries True in both) / (#entries True in tree)``; 1.0 for an
        empty tree.
    """
    if not isinstance(tree, Mapping):
        raise ValueError("parameter 'tree' must be a dict {name: bool tensor} from tree_masks")
    if not isinstance(masks, Mapping):
        raise ValueError("parameter 'masks' must be a dict {name: bool tensor}")
    total = kept = 0
    for n, t in tree.items():
        if n not in masks:
            raise ValueError(f"parameter 'masks' has no mask for {n!r}; it names: {', '.join(map(str, masks))}")
        m = torch.as_tensor(masks[n])
        if tuple(m.shape) != tuple(t.shape):
            raise ValueError(f"parameter 'masks'[{n!r}] has shape {tuple(m.shape)}; the tree has {tuple(t.shape)}")
        t = torch.as_tensor(t).bool().cpu()
        total += int(t.sum())
        kept += int((t & m.bool().cpu()).sum())
    return kept / total if total else 1.0


def isolated_nodes(model_or_weights) -> list:
    """Number of nodes with no edge left, per node layer (inputs first, outputs last).

    A node is isolated when every weight into it and out of it is zero
    (pruned): it is a connected component of its own, one infinite bar of
    the zeroth-order diagram. An input pixel that no kept weight reads, a
    hidden unit with no kept weight at all, an output with no kept input.

    Parameters
    ----------
    model_or_weights : nn.Module, list of weights, dict, or WeightGraph
        See :func:`weight_graph`.

    Returns
    -------
    list of int
        ``len(layer_sizes)`` counts.
    """
    g = weight_graph(model_or_weights)
    degree = np.bincount(g.rows, minlength=g.n_nodes) + np.bincount(g.cols, minlength=g.n_nodes)
    bounds = np.cumsum([0] + list(g.layer_sizes))
    return [int((degree[a:b] == 0).sum()) for a, b in zip(bounds[:-1], bounds[1:])]
