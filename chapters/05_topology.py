# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 Topology: what iterative magnitude pruning keeps
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pruning-theory-reproduced/pruning-theory-reproduced/blob/main/chapters/05_topology.ipynb)
#
# Balwani and Krzyston {cite}`balwani2022zeroth` look at a network's weights as a
# graph and ask what its simplest topological summary, zeroth-order persistent
# homology, says about iterative magnitude pruning (IMP). The summary turns out
# to be a familiar object, the maximum spanning tree of $|w|$; IMP tends to keep
# that tree; and keeping it exactly puts a hard ceiling on how far a network can
# be pruned. This chapter builds persistent homology in dimension zero from
# scratch, computes it two ways that must agree, and tests the three claims on
# LeNet-300-100.

# %%
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("pruning_utils") is None:  # Colab: install the book's package
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q",
                           "git+https://github.com/pruning-theory-reproduced/pruning-theory-reproduced"])

# %% [markdown]
# **Learning goals.** After this chapter you can
#
# 1. build the weight graph of a network and its filtration;
# 2. compute zeroth-order persistence by hand with union-find, and explain why
#    its deaths are exactly the edges of a maximum spanning tree of $|w|$;
# 3. derive the prunability bound $1 - (|V|-1)/|E|$ and evaluate it for
#    LeNet-300-100;
# 4. measure how many tree edges IMP keeps, against random pruning, and what
#    an IMP that never cuts a tree edge costs or gains.
#
# **Time:** about 25 minutes to read; the experiment runs in about a minute on
# a 2-core CPU.
#
# **Paper:** A. H. Balwani and J. Krzyston, *Zeroth-Order Topological Insights
# into Iterative Magnitude Pruning*, TAG-ML workshop at ICML 2022
# {cite}`balwani2022zeroth`. IMP as in chapter 00 {cite}`frankle2019lottery`.

# %% [markdown]
# ## The idea in plain words
#
# Draw every neuron as a dot and every weight as a line between two dots. Now
# add the lines one at a time, strongest $|w|$ first, and watch the dots join
# into clusters. Each time a line joins two clusters that were apart, one
# cluster "dies" at that moment; a line inside a cluster changes nothing. The
# list of those moments is the zeroth-order persistence diagram. The lines that
# did the joining form a tree through the strongest weights: the maximum
# spanning tree. If pruning removes only lines that never joined anything, the
# diagram does not change at all.

# %% [markdown]
# ## Derivation
#
# ### The weight graph and its filtration
#
# Nodes $V$: the neurons of every layer, inputs and outputs included (biases
# are left out). Edges $E$: every non-zero weight $w_e$ between adjacent layers.
# Give each edge the value
#
# $$ f(e) = 1 - \frac{|w_e|}{\max_{e'} |w_{e'}|} \in [0, 1], $$
#
# so the strongest weight enters at $0$ and the weakest near $1$. The
# *filtration* is the family of subgraphs $G_\varepsilon = (V, \{e : f(e) \le
# \varepsilon\})$, growing with $\varepsilon$; every node is present from
# $\varepsilon = 0$.
#
# ### Zeroth-order persistence
#
# $H_0$ of $G_\varepsilon$ counts its connected components. As $\varepsilon$
# grows, components only merge. Every node is *born* at $0$; when an edge joins
# two components, one of them *dies* at that edge's value (which one does not
# matter here, since all births are equal). Components that never merge live
# forever. The diagram is the multiset of (birth, death) pairs: $|V| - c$
# finite pairs $(0, f(e))$ and $c$ pairs $(0, \infty)$, where $c$ is the number
# of components of the full graph.
#
# ### Why it is a maximum spanning tree
#
# Process edges in increasing $f$ (decreasing $|w|$) and keep a union-find
# structure of components: an edge whose endpoints lie in different
# components records a death and merges them; an edge inside one component is
# skipped. That is *exactly* Kruskal's algorithm for a minimum spanning forest
# of $f$, i.e. a **maximum spanning forest of $|w|$**. So
#
# $$ \text{finite deaths} = \{ f(e) : e \in \text{MST} \}, \qquad
#    |\text{MST}| = |V| - c . $$
#
# Two consequences. Removing a non-tree edge leaves the forest, hence the
# diagram, unchanged (Kruskal never used it). Removing a tree edge changes it:
# the forest must take a weaker edge or split a component.
#
# ### The prunability bound
#
# To keep the zeroth-order topology exactly, a mask must keep all $|V| - c$
# tree edges, so at most $|E| - (|V| - c)$ edges can go:
#
# $$ s_{\max} = 1 - \frac{|V| - c}{|E|} . $$
#
# For LeNet-300-100 without biases, $|V| = 784 + 300 + 100 + 10 = 1194$,
# $|E| = 784\cdot300 + 300\cdot100 + 100\cdot10 = 266{,}200$ and $c = 1$:
# $s_{\max} = 1 - 1193/266200 \approx 99.55\%$. For a single layer with $n_\text{in}
# \cdot n_\text{out}$ weights its own tree needs $n_\text{in} + n_\text{out} - 1$,
# which gives the per-layer bounds computed below.
#
# ### MST-preserving IMP
#
# Give every edge of the current network's spanning forest the score $+\infty$
# and every other weight its magnitude; IMP with these scores never prunes a
# tree edge, so its diagram's deaths can only move (the surviving weights are
# retrained), never because an edge was cut. It is not a new loop: it is
# `run_imp(..., scores_fn=mst_preserving_scores)`.

# %% [markdown]
# ## Zeroth-order persistence by hand, checked against the library
#
# A small random three-layer graph, with union-find written out.

# %%
import numpy as np
import torch

g = torch.Generator().manual_seed(0)
small = [torch.randn(4, 3, generator=g), torch.randn(2, 4, generator=g)]  # (out, in), input layer first


def diagram_by_hand(weights):
    """Zeroth-order persistence of the weight graph, by union-find (Kruskal)."""
    sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    offsets = np.cumsum([0] + sizes)
    top = max(float(w.abs().max()) for w in weights)
    edges = []  # (filtration value, node a, node b)
    for layer, w in enumerate(weights):
        for o in range(w.shape[0]):
            for i in range(w.shape[1]):
                if w[o, i] != 0:
                    edges.append((1 - abs(float(w[o, i])) / top, offsets[layer] + i, offsets[layer + 1] + o))
    parent = list(range(offsets[-1]))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    deaths = []
    for value, a, b in sorted(edges):
        ra, rb = find(a), find(b)
        if ra != rb:  # the edge joins two components: one of them dies here
            parent[ra] = rb
            deaths.append(value)
    components = len({find(a) for a in range(offsets[-1])})
    return np.array([[0.0, d] for d in sorted(deaths)] + [[0.0, np.inf]] * components)


from pruning_utils.topology import weight_graph, zeroth_order_diagram

by_hand = diagram_by_hand(small)
print("by hand:\n", np.round(by_hand, 4))
for method in ("ripser", "mst"):
    lib = zeroth_order_diagram(small, method=method)
    print(f"library, method={method!r}: same as by hand {np.allclose(lib, by_hand, rtol=0, atol=1e-6)}")

# %% [markdown]
# Pruning a non-tree edge leaves the diagram unchanged; pruning a tree edge
# changes it. Checked on every edge of the small graph:

# %%
# NBVAL_CHECK_OUTPUT
from pruning_utils.topology import spanning_forest

graph = weight_graph(small)
tree = spanning_forest(graph)
base = zeroth_order_diagram(small, method="mst")
unchanged = []
for e in range(graph.n_edges):
    cut = [w.clone() for w in small]
    layer, pos = graph.edge_layer[e], graph.edge_pos[e]
    cut[layer].view(-1)[pos] = 0.0
    d = zeroth_order_diagram(cut, method="mst")
    unchanged.append(d.shape == base.shape and np.array_equal(d, base))
unchanged = np.array(unchanged)
print(f"{graph.n_edges} edges, {tree.sum()} in the tree (|V| - 1 = {graph.n_nodes - 1})")
print("every non-tree edge can be pruned without changing the diagram:", bool(unchanged[~tree].all()))
print("pruning any tree edge changes the diagram:", bool((~unchanged[tree]).all()))

# %% [markdown]
# ## The bound for LeNet-300-100

# %%
from pruning_utils.models import build_model
from pruning_utils.topology import prunability_bound

lenet = build_model("lenet300100", seed=0)
g_lenet = weight_graph(lenet)
print(f"|V| = {g_lenet.n_nodes}, |E| = {g_lenet.n_edges}, "
      f"bound 1 - (|V| - 1)/|E| = {prunability_bound(lenet):.5f}")
for name, b in prunability_bound(lenet, per_layer=True).items():
    print(f"  layer {name}: per-layer bound {b:.5f}")

# %% [markdown]
# ## The experiment
#
# LeNet-300-100 on `mnist5k`, trained as in chapter 00. For each seed, two IMP
# runs from the same initialisation, rewinding to it every round: plain IMP
# (magnitude scores) and MST-preserving IMP. The schedule, 40% of the remaining
# weights per round for 10 rounds, ends at 99.40% sparsity, below the bound
# (MST-preserving IMP cannot go past it). Per round we record the accuracy,
# the fraction of the dense network's tree edges still kept (random pruning
# would keep a fraction $1 - s$ of any fixed set of edges), the fraction of the
# pruned network's own tree kept, and, for four rounds, the zeroth-order
# diagram computed both by ripser and by the spanning-forest path.

# %% tags=["parameters"]
dataset = "mnist5k"
epochs = 10
lr = 0.1
rounds = 10
prune_fraction = 0.4
seeds = 2
seed = 0
tolerance = 1.0
device = "auto"

# %%
from pruning_utils.experiments import topology
from pruning_utils.params import validate

params = validate(dict(dataset=dataset, epochs=epochs, lr=lr, rounds=rounds, prune_fraction=prune_fraction,
                       seeds=seeds, seed=seed, tolerance=tolerance, device=device), topology.SCHEMA)

# %%
import time

t0 = time.perf_counter()
result = topology.run(**params)
print(f"wall time {time.perf_counter() - t0:.1f} s on {result['device']}")

# %%
# NBVAL_CHECK_OUTPUT
n_diagrams = sum(len(s[v]["diagrams"]) for s in result["per_seed"] for v in topology.VARIANTS)
print(f"ripser and the spanning-forest path give identical diagrams (at ripser's float32 precision) "
      f"on all {n_diagrams} networks:", result["diagrams_identical"])
sp = np.array(result["sparsities"])
imp_kept = np.array(result["mean"]["imp"]["dense_tree_kept"])
mst_current = np.array(result["mean"]["mst_imp"]["current_tree_kept"])
print("plain IMP keeps more of the dense tree than random pruning at every round:",
      bool((imp_kept[1:] > 1 - sp[1:]).all()))
print("... and at least 5 times the random fraction from 90% sparsity on:",
      bool((imp_kept[sp >= 0.9] >= 5 * (1 - sp[sp >= 0.9])).all()))
print("MST-preserving IMP keeps every tree edge of the network it prunes, every round:",
      bool((mst_current == 1.0).all()))

# %%
import matplotlib.pyplot as plt

from pruning_utils.plotting import METHOD_STYLE, dense_lines, remaining_axis, use_style

use_style()
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
ax = axes[0]
remaining = remaining_axis(ax, sp)
imp_st, mst_st, rnd_st = METHOD_STYLE["imp"], METHOD_STYLE["mst_imp"], METHOD_STYLE["random"]
ax.plot(remaining, 100 * imp_kept, color=imp_st["color"], marker=imp_st["marker"],
        label="plain IMP: dense tree kept")
ax.plot(remaining, 100 * np.array(result["mean"]["imp"]["current_tree_kept"]), color=imp_st["color"], ls="--",
        marker=imp_st["marker"], mfc="white", label="plain IMP: current tree kept")
ax.plot(remaining, 100 * np.array(result["mean"]["mst_imp"]["dense_tree_kept"]), color=mst_st["color"],
        marker=mst_st["marker"], label="MST-preserving IMP: dense tree kept")
ax.plot(remaining, 100 * (1 - sp), color=rnd_st["color"], marker=rnd_st["marker"],
        label="random pruning: 1 - sparsity")
ax.set_yscale("log")
ax.set_ylabel("tree edges kept (%)")
ax.legend(fontsize=8, loc="lower left")
ax.set_title("(a) tree edges kept")
ax = axes[1]
remaining_axis(ax, sp)
for v, lab in (("imp", "plain IMP"), ("mst_imp", "MST-preserving IMP")):
    st = METHOD_STYLE[v]
    ax.plot(remaining, 100 * np.array(result["mean"][v]["accuracy"]), color=st["color"], marker=st["marker"],
            label=lab)
dense_lines(ax, 100 * result["dense_accuracy"], result["tolerance_points"])
ax.axvline(100 * (1 - result["bound"]), color="#d1495b", lw=1, ls=":", label="prunability bound")
ax.set_ylabel("test accuracy (%)")
ax.legend(fontsize=8, loc="lower left")
ax.set_title("(b) accuracy")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Figure 1.** (a) Percentage of tree edges kept after each IMP round, against
# the percentage of weights remaining (log scales): of the dense trained
# network's maximum spanning tree (solid), and of the tree of the network each
# round prunes (dashed, plain IMP); grey, what random pruning keeps of any fixed
# set of edges. (b) Test accuracy after retraining, both IMP variants; red
# dotted, the prunability bound. Means over seeds.

# %%
rows = [f"| {100 * s:6.2f} | {100 * (1 - s):6.2f} | {100 * result['mean']['imp']['dense_tree_kept'][i]:5.1f} | "
        f"{100 * result['mean']['imp']['current_tree_kept'][i]:5.1f} | "
        f"{100 * result['mean']['imp']['accuracy'][i]:5.1f} | {100 * result['mean']['mst_imp']['accuracy'][i]:5.1f} |"
        for i, s in enumerate(sp)]
print("| sparsity % | random keeps % | IMP: dense tree kept % | IMP: current tree kept % "
      "| IMP acc. | MST-IMP acc. |")
print("|---|---|---|---|---|---|")
print("\n".join(rows))
first = result["first_sparsity_below"]
for v in topology.VARIANTS:
    f = first[v]
    print(f"{v}: " + (f"first falls {result['tolerance_points']:g} point below dense at sparsity {f:.4f}"
                      if f is not None else f"within {result['tolerance_points']:g} point of dense up to {sp[-1]:.4f}"))
print(f"prunability bound {result['bound']:.4f}")

# %% [markdown]
# Finally, the diagrams themselves. All births are 0, so a diagram is its list
# of deaths; plotted sorted, it is the profile of the spanning tree's edge
# values $1 - |w|/\max|w|$, one curve per round.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
cmap = plt.get_cmap("viridis")
for ax, v, title in zip(axes, topology.VARIANTS, ("plain IMP", "MST-preserving IMP")):
    diags = result["per_seed"][0][v]["diagrams"]
    for j, (r, d) in enumerate(sorted(diags.items(), key=lambda kv: int(kv[0]))):
        deaths = np.array(d["deaths"])
        ax.plot(np.arange(1, len(deaths) + 1), deaths, color=cmap(j / max(1, len(diags) - 1)),
                label=f"round {r} ({100 * sp[int(r)]:.1f}% sparse), {d['infinite_bars']} inf. bar(s)")
    ax.set_xlabel("bar (sorted by death)")
    ax.set_title(f"{title}, seed {result['params']['seed']}")
    ax.legend(fontsize=7, loc="lower right")
axes[0].set_ylabel("death  $1 - |w| / \\max|w|$")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Figure 2.** Zeroth-order persistence diagrams of the trained network at four
# IMP rounds, drawn as sorted death values (all births are 0), with the number of
# infinite bars (connected components, isolated input pixels included). Left:
# plain IMP; right: MST-preserving IMP.

# %% [markdown]
# ## What the paper reports, what we measure here
#
# | | Balwani & Krzyston (2022) | here (default parameters) |
# |---|---|---|
# | zeroth-order PH of the weight graph | equals the maximum spanning tree of $\lvert w\rvert$ | derived above; ripser and the spanning-forest path agree exactly on every network of this chapter, at ripser's float32 precision (checked output) |
# | IMP and the tree | IMP tends to preserve the tree's edges | plain IMP keeps far more of the dense tree than random pruning would (checked output, Figure 1a) |
# | bound | LeNet-300-100 can be pruned to at most $1 - 1193/266200 \approx 99.55\%$ while keeping its zeroth-order topology | the same number, computed from the graph; plain IMP on `mnist5k` falls one point below dense at the sparsity printed above |
# | MST-preserving IMP | keeps the topology by construction | keeps every tree edge of the network it prunes (checked output), and its diagram keeps a single infinite bar while plain IMP's splits into hundreds of components (isolated input pixels; Figure 2); its accuracy matches plain IMP's at moderate sparsity and falls below it near the bound (Figure 1b, table): the protected tree spends weights on input pixels that carry no signal |
#
# Our scale is smaller than the paper's (4,000 training images, 10 epochs, two
# seeds), and the paper's exact IMP schedule and per-layer versus whole-network
# choices are not reproduced from its text; `tree_masks(..., per_layer=True)`
# gives the per-layer variant.

# %% [markdown]
# ## The paper's scale
#
# The `paper` profile runs the same comparison on the full MNIST with Frankle &
# Carbin's LeNet-300-100 setting (Adam $1.2\cdot10^{-3}$, batch 60, 50 epochs),
# 20% per round for 23 rounds (99.41%, just under the bound), three seeds:
#
# ```bash
# python -m pruning_utils reproduce topology --profile paper
# ```
#
# The benchmark `benchmarks/bench_topology.py` times ripser against the
# spanning-forest path on LeNet-300-100's graph and on a graph of about $10^7$
# edges.

# %%
from pruning_utils.provenance import describe_provenance, read_result

stored = read_result("topology", "paper", results_dir="../results")
if stored is None:
    print("No paper-scale result stored yet: run the command above on a GPU machine.")
else:
    res = stored["result"]
    print("paper profile:", describe_provenance(stored["provenance"]))
    print("first sparsity 1 point below dense:", res["first_sparsity_below"])

# %% [markdown]
# ## Exercises
#
# 1. **Per layer.** Compute `tree_masks(net, per_layer=True)` for the dense
#    trained network and repeat the "tree edges kept" measurement. Is IMP's
#    preference for tree edges a whole-network or a per-layer effect?
# 2. **Ties.** Quantise the weights of a trained network to 4 bits and compute
#    the diagram again. Why is the diagram still well defined although the
#    spanning tree no longer is?
# 3. **Beyond the bound.** Continue plain IMP past 99.55%. Which layer's
#    nodes become isolated first (count the infinite bars), and what happens to
#    accuracy when an output neuron loses its last edge?
# 4. **A different filtration.** Replace $1 - |w|/\max|w|$ by $-|w|$ or by
#    $1/|w|$. Which parts of this chapter change, and which cannot?
# 5. **Random tree.** Protect a random spanning tree instead of the maximum one
#    (score $+\infty$ on its edges). Does accuracy at 99% sparsity depend on
#    *which* tree is kept?
#
# ## References
#
# Balwani and Krzyston {cite}`balwani2022zeroth` for the topology of IMP;
# Frankle and Carbin {cite}`frankle2019lottery` for IMP and LeNet-300-100.
# Full entries are in the [bibliography](../bibliography.md).
