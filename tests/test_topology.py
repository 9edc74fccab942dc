"""Tests for pruning_utils.topology: the weight graph, zeroth-order persistence by
ripser and by the spanning forest (which must agree), invariance under pruning
non-tree edges, the prunability bound, MST-preserving IMP, and the conv convention.

ripser computes in float32: its deaths are compared with the float32 rounding of
the exact (float64) forest values, and must equal them exactly."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import connected_components
from torch import nn

from pruning_utils.data import load_dataset
from pruning_utils.imp import IMPConfig, load_round, run_imp
from pruning_utils.masks import apply_masks, effective_weights, masks_from_scores
from pruning_utils.models import build_model
from pruning_utils import topology
from pruning_utils.scores import magnitude_scores
from pruning_utils.topology import (WeightGraph, mst_preserving_scores, prunability_bound, spanning_forest,
                                    tree_edges_kept, tree_masks, weight_graph, zeroth_order_diagram)
from pruning_utils.train import TrainConfig


def f32(d):
    """A diagram rounded as ripser rounds it (float32), back in float64."""
    return d.astype(np.float32).astype(np.float64)


def both(w):
    """(ripser, mst) diagrams; asserts the canonical form and that they agree at float32 precision."""
    a = zeroth_order_diagram(w, method="ripser")
    b = zeroth_order_diagram(w, method="mst")
    for d in (a, b):
        assert d.dtype == np.float64 and d.ndim == 2 and d.shape[1] == 2
        assert np.all(d[:, 0] == 0.0)
        assert np.all(d[1:, 1] >= d[:-1, 1])  # sorted by death, infs last
    assert np.array_equal(a, f32(b)), "ripser and the spanning forest disagree"
    return a, b


def n_components(g: WeightGraph) -> int:
    return connected_components(g.to_sparse(), directed=False)[0]


def kruskal_deaths(weights):
    """Independent reference: plain Kruskal with union-find over a dense edge list, float64 values."""
    mats = [np.abs(np.asarray(w, dtype=np.float64)) for w in weights]
    sizes = [mats[0].shape[1]] + [m.shape[0] for m in mats]
    off = np.concatenate([[0], np.cumsum(sizes)])
    top = max((m.max() for m in mats if m.size), default=0.0)
    edges = [(1.0 - m[o, i] / top, off[l] + i, off[l + 1] + o)
             for l, m in enumerate(mats) for o in range(m.shape[0]) for i in range(m.shape[1]) if m[o, i] != 0]
    parent = list(range(off[-1]))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    deaths = []
    for v, a, b in sorted(edges):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
            deaths.append(v)
    return sorted(deaths) + [math.inf] * (off[-1] - len(deaths))


# ---------------------------------------------------------------------------
# hand-computed


W1 = np.array([[1.0, -0.5], [0.25, 0.0]])   # (out=2, in=2); the 0 is pruned
W2 = np.array([[0.75, -0.125]])             # (out=1, in=2)


def test_hand_computed_2_2_1():
    # nodes: inputs 0, 1; hidden 2, 3; output 4. Edges and f = 1 - |w| / 1:
    #   0-2: 0   1-2: 0.5   0-3: 0.75   2-4: 0.25   3-4: 0.875
    # Kruskal by f: 0-2 (0), 2-4 (0.25), 1-2 (0.5), 0-3 (0.75); 3-4 closes a cycle.
    g = weight_graph([W1, W2])
    assert (g.n_nodes, g.layer_sizes, g.offsets, g.n_edges) == (5, [2, 2, 1], [0, 2, 4], 5)
    assert g.rows.tolist() == [0, 1, 0, 2, 3] and g.cols.tolist() == [2, 2, 3, 4, 4]
    assert g.values.tolist() == [0.0, 0.5, 0.75, 0.25, 0.875]
    assert g.edge_layer.tolist() == [0, 0, 0, 1, 1] and g.edge_pos.tolist() == [0, 1, 2, 0, 1]
    assert g.names == ["layer0", "layer1"] and g.shapes == [(2, 2), (1, 2)]
    assert all(a.dtype == np.int64 for a in (g.rows, g.cols, g.edge_layer, g.edge_pos))
    S = g.to_sparse()
    assert S.shape == (5, 5) and S.nnz == 5 and S.toarray()[0, 2] == 0.0  # the explicit zero is kept
    expected = np.array([[0, 0], [0, 0.25], [0, 0.5], [0, 0.75], [0, math.inf]])
    a, b = both([W1, W2])
    assert np.array_equal(a, expected) and np.array_equal(b, expected)
    assert spanning_forest(g).tolist() == [True, True, True, True, False]
    t = tree_masks([torch.tensor(W1), torch.tensor(W2)])
    assert t["layer0"].tolist() == [[True, True], [True, False]] and t["layer1"].tolist() == [[True, False]]
    assert prunability_bound([W1, W2]) == pytest.approx(1 - 4 / 6)
    # the dict form names the layers
    assert weight_graph({"a": W1, "b": W2}).names == ["a", "b"]


def test_isolated_nodes_are_infinite_bars():
    # input 1 has no kept weight; hidden unit 2 has neither inputs nor outputs
    w1 = np.array([[0.9, 0.0], [0.3, 0.0], [0.0, 0.0]])
    w2 = np.array([[0.2, 0.6, 0.0]])
    g = weight_graph([w1, w2])
    assert g.n_nodes == 6 and g.n_edges == 4 and n_components(g) == 3
    a, b = both([w1, w2])
    assert int(np.isinf(a[:, 1]).sum()) == 3
    assert np.array_equal(b[:, 1], [0.0, 1 - 0.6 / 0.9, 1 - 0.3 / 0.9, math.inf, math.inf, math.inf])
    assert prunability_bound([w1, w2]) == pytest.approx(1 - 3 / 9)


def test_degenerate_graphs():
    # all weights equal: every value is 0, ripser reports no finite bar at all
    w = [np.ones((3, 4)), -np.ones((2, 3))]
    a, b = both(w)
    assert np.array_equal(a, b) and a.shape == (9, 2) and int(np.isinf(a[:, 1]).sum()) == 1
    assert np.all(a[:-1, 1] == 0.0)
    # no edge at all
    z = [np.zeros((3, 4)), np.zeros((2, 3))]
    a, b = both(z)
    assert np.array_equal(a, b) and a.shape == (9, 2) and np.all(np.isinf(a[:, 1]))
    assert weight_graph(z).n_edges == 0 and prunability_bound(z) == 1.0
    assert all(not bool(m.any()) for m in tree_masks(z).values())


# ---------------------------------------------------------------------------
# the two methods agree (and agree with a plain Kruskal)


def random_layers(sizes, seed, prune, levels):
    """float32 weights for layer sizes ``sizes``; a fraction ``prune`` zeroed; with ``levels``,
    |w| in {1, ..., levels}: many ties, several maxima."""
    rng = np.random.default_rng(seed)
    ws = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        w = rng.standard_normal((n_out, n_in))
        if levels is not None:
            w = np.sign(w) * rng.integers(1, levels + 1, size=w.shape)
        w[rng.random(w.shape) < prune] = 0.0
        ws.append(w.astype(np.float32))
    return ws


@st.composite
def layered(draw):
    return random_layers(draw(st.lists(st.integers(1, 12), min_size=2, max_size=5)),
                         draw(st.integers(0, 2 ** 31 - 1)), draw(st.sampled_from([0.0, 0.3, 0.7, 0.95])),
                         draw(st.sampled_from([None, 2, 5])))


@settings(max_examples=150, deadline=None, derandomize=True)
@given(layered())
def test_methods_agree_on_random_graphs(ws):
    a, b = both(ws)
    g = weight_graph(ws)
    c = n_components(g)
    assert a.shape == (g.n_nodes, 2)
    assert int(np.isfinite(b[:, 1]).sum()) == g.n_nodes - c
    assert int(spanning_forest(g).sum()) == g.n_nodes - c
    assert np.array_equal(b[:, 1], kruskal_deaths(ws))  # exact in float64
    # torch input gives the same graph
    assert np.array_equal(zeroth_order_diagram([torch.from_numpy(w) for w in ws], "mst"), b)


def test_fast_forest_is_plain_kruskal(monkeypatch):
    """The prefilter (heaviest edges first) and the per-layer candidates give exactly the forest
    of Kruskal on all edges, ties included; the filter is forced on for these small graphs."""
    monkeypatch.setattr(topology, "FILTER_MIN_EDGES", 0)
    monkeypatch.setattr(topology, "FILTER_FACTOR", 1)
    rng = np.random.default_rng(0)
    for seed in range(80):
        sizes = rng.integers(1, 13, size=rng.integers(2, 6)).tolist()
        ws = random_layers(sizes, seed, [0.0, 0.3, 0.7][seed % 3], [None, 2, 5][(seed // 3) % 3])
        g = weight_graph(ws)
        assert np.array_equal(spanning_forest(g), topology._forest_direct(g.n_nodes, g.rows, g.cols, g.abs_weights))
        for l, m in enumerate(tree_masks(ws, per_layer=True).values()):
            gl = weight_graph([ws[l]])
            direct = np.zeros(m.numel(), dtype=bool)
            direct[gl.edge_pos[topology._forest_direct(gl.n_nodes, gl.rows, gl.cols, gl.abs_weights)]] = True
            assert np.array_equal(m.numpy().reshape(-1), direct)


def test_fast_forest_is_plain_kruskal_lenet():
    """At LeNet's size the prefilter is on by default; layers of very different scales too."""
    ws = [w.numpy() for w in effective_weights(build_model("lenet300100", seed=0)).values()]
    for case in (ws, [ws[0] * 1e-3, ws[1], ws[2] * 10], [ws[0], ws[1] * 1e-3, ws[2]]):
        g = weight_graph(case)
        assert g.n_edges > 2 * topology.FILTER_FACTOR * g.n_nodes and g.n_edges > topology.FILTER_MIN_EDGES
        assert np.array_equal(spanning_forest(g), topology._forest_direct(g.n_nodes, g.rows, g.cols, g.abs_weights))


@pytest.fixture(scope="module")
def lenet():
    return build_model("lenet300100", seed=0)


@pytest.fixture(scope="module")
def pruned_lenet():
    net = build_model("lenet300100", seed=0)
    apply_masks(net, masks_from_scores(magnitude_scores(net), 0.9))
    return net


def test_lenet_methods_agree(lenet, pruned_lenet):
    a, b = both(lenet)
    g = weight_graph(lenet)
    assert (g.n_nodes, g.n_edges) == (1194, 266200)
    assert g.names == ["0.weight", "2.weight", "4.weight"]
    assert int(np.isinf(a[:, 1]).sum()) == 1 and int(np.isfinite(a[:, 1]).sum()) == 1193
    assert a[0, 1] == 0.0  # the largest weight's bar, which ripser itself omits
    assert not np.array_equal(a, b)  # ripser really is float32 ...
    assert np.abs(a[:-1, 1] - b[:-1, 1]).max() < 1e-7  # ... and only that far off
    a, b = both(pruned_lenet)
    gp = weight_graph(pruned_lenet)
    assert gp.n_edges == round(0.1 * 266200)  # pruned entries are not edges
    assert int(np.isfinite(b[:, 1]).sum()) == gp.n_nodes - n_components(gp)


# ---------------------------------------------------------------------------
# pruning non-tree edges keeps the diagram, pruning a tree edge changes it


def drop(ws, layer, pos):
    out = [w.copy() for w in ws]
    out[layer].reshape(-1)[pos] = 0.0
    return out


def test_non_tree_edges_do_not_matter_small():
    rng = np.random.default_rng(1)
    ws = [rng.standard_normal((5, 4)), rng.standard_normal((3, 5)), rng.standard_normal((2, 3))]
    g = weight_graph(ws)
    tree = spanning_forest(g)
    base = zeroth_order_diagram(g, "mst")
    assert (~tree).sum() == g.n_edges - (g.n_nodes - 1) > 0
    for e in range(g.n_edges):
        d = zeroth_order_diagram(drop(ws, g.edge_layer[e], g.edge_pos[e]), "mst")
        if tree[e]:
            assert not np.array_equal(d, base), f"pruning tree edge {e} left the diagram unchanged"
        else:
            assert np.array_equal(d, base), f"pruning non-tree edge {e} changed the diagram"
    # all non-tree edges at once: only the forest is left, same diagram (ripser too)
    kept = [w * m.numpy() for w, m in zip(ws, tree_masks(ws).values())]
    assert np.array_equal(zeroth_order_diagram(kept, "mst"), base)
    assert np.array_equal(zeroth_order_diagram(kept, "ripser"), f32(base))


def test_non_tree_edges_do_not_matter_lenet(lenet):
    ws = [w.numpy() for w in effective_weights(lenet).values()]
    g = weight_graph(ws)
    tree = spanning_forest(g)
    base = zeroth_order_diagram(g, "mst")
    rng = np.random.default_rng(0)
    for e in rng.choice(np.flatnonzero(~tree), 8, replace=False):
        assert np.array_equal(zeroth_order_diagram(drop(ws, g.edge_layer[e], g.edge_pos[e]), "mst"), base)
    for e in rng.choice(np.flatnonzero(tree), 4, replace=False):
        assert not np.array_equal(zeroth_order_diagram(drop(ws, g.edge_layer[e], g.edge_pos[e]), "mst"), base)
    # keep only the forest: 1193 weights, same diagram
    net = build_model("lenet300100", seed=0)
    t = tree_masks(net)
    assert sum(int(m.sum()) for m in t.values()) == 1193
    apply_masks(net, t)
    assert np.array_equal(zeroth_order_diagram(net, "mst"), base)


# ---------------------------------------------------------------------------
# the bound, and the forest as masks


def test_prunability_bound_lenet(lenet, pruned_lenet):
    assert prunability_bound(lenet) == pytest.approx(1 - 1193 / 266200, abs=1e-15)
    assert round(prunability_bound(lenet), 5) == 0.99552
    per = prunability_bound(lenet, per_layer=True)
    assert list(per) == ["0.weight", "2.weight", "4.weight"]
    assert per["0.weight"] == pytest.approx(1 - (784 + 300 - 1) / (784 * 300))
    assert per["2.weight"] == pytest.approx(1 - (300 + 100 - 1) / (300 * 100))
    assert per["4.weight"] == pytest.approx(1 - (100 + 10 - 1) / (100 * 10))
    g = weight_graph(pruned_lenet)
    assert prunability_bound(pruned_lenet) == pytest.approx(1 - (g.n_nodes - n_components(g)) / 266200)


def test_tree_masks_per_layer_vs_whole(lenet):
    whole = tree_masks(lenet)
    per = tree_masks(lenet, per_layer=True)
    assert sum(int(m.sum()) for m in whole.values()) == 1194 - 1
    assert [int(m.sum()) for m in per.values()] == [784 + 300 - 1, 300 + 100 - 1, 100 + 10 - 1]
    assert all(m.dtype == torch.bool and m.shape == w.shape
               for m, w in zip(per.values(), effective_weights(lenet).values()))
    # each per-layer mask spans its bipartite layer graph
    for (name, m), w in zip(per.items(), effective_weights(lenet).values()):
        g = weight_graph([w * m])
        assert n_components(g) == 1 and g.n_edges == g.n_nodes - 1
    # an edge outside its layer's forest closes a heavier cycle in that layer, hence in the
    # network: the whole-network forest lies inside the union of the per-layer forests
    assert tree_edges_kept(whole, per) == 1.0
    assert tree_edges_kept(per, whole) == pytest.approx(1193 / (1083 + 399 + 109))


def test_scores_at_and_above_the_bound(lenet):
    """At the bound exactly the forest survives; one entry more would have to cut a +inf (tree)
    entry, which masks_from_scores refuses; cutting one by hand changes the diagram."""
    scores = mst_preserving_scores(lenet)
    tree = tree_masks(lenet)
    assert all(bool(torch.isinf(scores[n][tree[n]]).all()) for n in tree)
    assert all(bool(torch.isfinite(scores[n][~tree[n]]).all()) for n in tree)
    bound = prunability_bound(lenet)
    at = masks_from_scores(scores, bound)
    assert tree_edges_kept(tree, at) == 1.0
    assert all(torch.equal(at[n], tree[n]) for n in tree)
    with pytest.raises(ValueError, match="'sparsity'.*protected by a \\+inf score"):
        masks_from_scores(scores, bound + 1.0 / 266200)
    # the same step done by hand: drop the weakest tree edge as well
    lenet_weights = effective_weights(lenet)
    above = {n: m.clone() for n, m in at.items()}
    tree_vals = [(float(lenet_weights[n].abs()[tree[n]].min()), n) for n in tree]
    _, weakest_layer = min(tree_vals)
    w = lenet_weights[weakest_layer].abs()
    pos = torch.where(tree[weakest_layer], w, torch.full_like(w, float("inf"))).argmin()
    above[weakest_layer].view(-1)[pos] = False
    assert tree_edges_kept(tree, above) == pytest.approx(1 - 1 / 1193)
    net = build_model("lenet300100", seed=0)
    base = zeroth_order_diagram(net, "mst")
    assert np.array_equal(zeroth_order_diagram(apply_masks(net, at), "mst"), base)
    assert not np.array_equal(zeroth_order_diagram(apply_masks(net, above), "mst"), base)


# ---------------------------------------------------------------------------
# MST-preserving IMP


SYN = dict(n=256, dim=20, classes=4, separation=3.0, seed=0)
TCFG = TrainConfig(epochs=2, batch_size=32, lr=0.05, momentum=0.9, weight_decay=5e-4, seed=0)
ICFG = IMPConfig(rounds=4, prune_fraction=0.5)  # sparsity up to 0.9375; bound 1 - 71/1216 = 0.9416


def small_mlp():
    return build_model("mlp", input_shape=(1, 1, 20), hidden=(32, 16), num_classes=4, seed=0)


def scored_trees(run_dir, rounds):
    """Forest of the network each round r >= 1 scored: round r-1's trained weights under its masks."""
    trees = []
    for r in range(1, rounds + 1):
        prev = load_round(run_dir, r - 1)
        net = small_mlp()
        net.load_state_dict(prev["state"])
        apply_masks(net, prev["masks"])
        trees.append(tree_masks(net))
    return trees


def test_mst_preserving_imp_keeps_the_forest(tmp_path):
    tr, te = load_dataset("synthetic", **SYN), load_dataset("synthetic", train=False, **SYN)
    assert prunability_bound(small_mlp()) == pytest.approx(1 - 71 / 1216)
    kept = {}
    for label, fn in (("mst", mst_preserving_scores), ("plain", magnitude_scores)):
        res = run_imp(small_mlp(), tr, te, TCFG, ICFG, run_dir=tmp_path / label, scores_fn=fn)
        trees = scored_trees(tmp_path / label, ICFG.rounds)
        kept[label] = [tree_edges_kept(t, m) for t, m in zip(trees, res["masks"][1:])]
        assert res["rounds"][-1]["sparsity"] == pytest.approx(0.9375, abs=1e-3)
    assert kept["mst"] == [1.0] * ICFG.rounds
    assert min(kept["plain"]) < 1.0, kept


# ---------------------------------------------------------------------------
# conv convention


def test_conv_channel_graph():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 2 * 2, 4))  # 4x4 input
    assert net(torch.randn(1, 2, 4, 4)).shape == (1, 4)
    with torch.no_grad():
        net[0].weight[1, 0] = 0.0          # kernel (out 1, in 0) all pruned: no edge
        net[0].weight[2, 1] = 0.0
        net[0].weight[2, 1, 2, 0] = 0.01   # one entry left: the edge exists, |w| = 0.01
    g = weight_graph(net)
    assert g.layer_sizes == [2, 3, 4] and g.n_nodes == 9 and g.offsets == [0, 2, 5]
    assert g.names == ["0.weight", "3.weight"] and g.shapes == [(3, 2, 3, 3), (4, 12)]
    assert g.n_edges == 3 * 2 - 1 + 4 * 3
    conv = net[0].weight.detach().abs().double()
    lin = net[3].weight.detach().abs().double()
    for e in range(g.n_edges):
        if g.edge_layer[e] == 0:
            o, c = g.cols[e] - 2, g.rows[e]
            assert g.abs_weights[e] == conv[o, c].max()
            assert conv.reshape(-1)[g.edge_pos[e]] == conv[o, c].max()
            assert g.edge_pos[e] // 9 == o * 2 + c
        else:
            o, c = g.cols[e] - 5, g.rows[e] - 2
            assert g.abs_weights[e] == lin[o, 4 * c:4 * c + 4].max()  # channel-major groups of H*W = 4
            assert lin.reshape(-1)[g.edge_pos[e]] == g.abs_weights[e]
            assert c * 4 <= g.edge_pos[e] % 12 < c * 4 + 4
    assert 0.01 == pytest.approx(g.abs_weights[(g.rows == 1) & (g.cols == 4)].item())
    a, b = both(net)
    assert int(np.isfinite(b[:, 1]).sum()) == 8
    # the forest marks one entry per edge; keeping only those keeps the diagram
    t = tree_masks(net)
    assert sum(int(m.sum()) for m in t.values()) == 8
    assert prunability_bound(net) == pytest.approx(1 - 8 / (54 + 48))
    apply_masks(net, t)
    assert np.array_equal(zeroth_order_diagram(net, "mst"), b)
    # a conv net of the zoo chains
    g5 = weight_graph(build_model("lenet5", seed=0))
    assert g5.layer_sizes == [1, 20, 50, 500, 10]
    with pytest.raises(ValueError, match="model_or_weights.*multiple"):
        weight_graph([np.ones((3, 2, 3, 3)), np.ones((4, 10))])


# ---------------------------------------------------------------------------
# bad inputs


def test_bad_inputs():
    with pytest.raises(ValueError, match="'method'.*'ripser', 'mst'"):
        zeroth_order_diagram([W1, W2], method="kruskal")
    with pytest.raises(ValueError, match="'per_layer'"):
        tree_masks([W1, W2], per_layer="yes")
    with pytest.raises(ValueError, match="'per_layer'"):
        prunability_bound([W1, W2], per_layer=1)
    with pytest.raises(ValueError, match="'model_or_weights'.*chain"):
        weight_graph([np.ones((3, 2)), np.ones((2, 4))])
    with pytest.raises(ValueError, match="'model_or_weights'.*2-D"):
        weight_graph([np.ones(3)])
    with pytest.raises(ValueError, match="'model_or_weights'.*NaN"):
        weight_graph([np.array([[1.0, np.nan]])])
    with pytest.raises(ValueError, match="'model_or_weights'"):
        weight_graph([])
    with pytest.raises(ValueError, match="'model_or_weights'"):
        weight_graph("lenet")
    with pytest.raises(ValueError, match="'model_or_weights'.*no Linear"):
        weight_graph(nn.ReLU())
    with pytest.raises(ValueError, match="'model_or_weights'"):
        zeroth_order_diagram([["a"]])
    with pytest.raises(ValueError, match="'model'"):
        mst_preserving_scores([W1, W2])
    t = tree_masks([W1, W2])
    with pytest.raises(ValueError, match="'masks'.*layer1"):
        tree_edges_kept(t, {"layer0": t["layer0"]})
    with pytest.raises(ValueError, match="'masks'.*shape"):
        tree_edges_kept(t, {"layer0": t["layer0"], "layer1": torch.ones(2, 1, dtype=torch.bool)})


def test_isolated_nodes_per_layer():
    from pruning_utils.topology import isolated_nodes
    w1 = torch.ones(3, 4)
    w1[:, 0] = 0.0           # input 0 reads nothing
    w2 = torch.ones(2, 3)
    w1[1] = 0.0              # hidden 1 has no input ...
    w2[:, 1] = 0.0           # ... and no output: isolated
    w2[0] = 0.0              # output 0 has no input
    assert isolated_nodes([w1, w2]) == [1, 1, 1]
    assert isolated_nodes([torch.ones(3, 4), torch.ones(2, 3)]) == [0, 0, 0]


def test_a_tie_lets_a_tree_edge_go_without_changing_the_diagram():
    """With distinct |w| every tree edge matters; with a tie an equal edge can take a cut edge's place."""
    from pruning_utils.topology import spanning_forest
    g = torch.Generator().manual_seed(0)
    small = [torch.randn(4, 3, generator=g), torch.randn(2, 4, generator=g)]
    small[0][:, 2] = 1e-3                 # four equal, weakest edges at input node 2
    graph = weight_graph(small)
    tree = spanning_forest(graph)
    base = zeroth_order_diagram(small, method="mst")
    unchanged_tree_edges = 0
    for e in np.flatnonzero(tree):
        cut = [w.clone() for w in small]
        cut[graph.edge_layer[e]].view(-1)[graph.edge_pos[e]] = 0.0
        d = zeroth_order_diagram(cut, method="mst")
        unchanged_tree_edges += int(d.shape == base.shape and np.array_equal(d, base))
    assert unchanged_tree_edges >= 1
