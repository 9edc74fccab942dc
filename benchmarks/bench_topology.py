"""Zeroth-order persistence of a weight graph: ripser vs the spanning-forest path.

Both run, in one process and on the same WeightGraph, on

  (a) LeNet-300-100 at initialisation (1,194 nodes, 266,200 edges);
  (b) a random dense layered graph of about 1e7 edges (layers 784, 4000, 2000, 100:
      11,336,000 edges), Gaussian weights.

  ripser : ripser.ripser(graph.to_sparse(), maxdim=0, distance_matrix=True) plus
           the canonical form (pruning_utils.topology.zeroth_order_diagram(g, "ripser"));
  mst    : the maximum spanning forest of |w| (zeroth_order_diagram(g, "mst")): each
           layer's forest among its 4 * (in + out) heaviest edges plus the edges they
           leave crossing, then the network's forest among the union of the layer
           forests; scipy's minimum_spanning_tree on edge ranks. The baseline of the ratio.
  kruskal: for reference, scipy's minimum_spanning_tree on the ranks of ALL edges
           (no prefilter); its forest must be the same, edge for edge.

Prints best-of-repeats wall times (graph construction timed apart), the ratio
ripser / mst, and whether the diagrams are identical: exactly at float32
precision (ripser computes in float32), and the largest difference in float64.

    python benchmarks/bench_topology.py [--repeats 3] [--big-repeats 2] [--layers 784 4000 2000 100] [--seed 0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from pruning_utils.models import build_model
from pruning_utils.topology import _forest_direct, spanning_forest, weight_graph, zeroth_order_diagram


def best_of(fn, repeats: int):
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def compare(label: str, weights, repeats: int):
    t_build, g = best_of(lambda: weight_graph(weights), 1)
    t_r, a = best_of(lambda: zeroth_order_diagram(g, "ripser"), repeats)
    t_m, b = best_of(lambda: zeroth_order_diagram(g, "mst"), repeats)
    t_k, k = best_of(lambda: _forest_direct(g.n_nodes, g.rows, g.cols, g.abs_weights), 1)
    same_forest = np.array_equal(k, spanning_forest(g))
    same32 = np.array_equal(a, b.astype(np.float32).astype(np.float64))
    fin = np.isfinite(b[:, 1])
    diff = float(np.abs(a[fin, 1] - b[fin, 1]).max()) if fin.any() else 0.0
    print(f"{label}: {g.n_nodes:,} nodes, {g.n_edges:,} edges (graph built in {t_build:.2f} s)")
    print(f"  ripser {t_r:8.3f} s   mst {t_m:8.3f} s   ratio ripser/mst {t_r / t_m:6.2f}x   "
          f"(best of {repeats})")
    print(f"  kruskal on all edges {t_k:.3f} s (once): {t_k / t_m:.1f}x the mst path; same forest: {same_forest}")
    print(f"  diagrams: {a.shape[0]:,} bars, {int((~fin).sum())} infinite; identical at float32 "
          f"precision: {same32}; exactly equal in float64: {np.array_equal(a, b)} "
          f"(max |difference| {diff:.1e})")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--big-repeats", type=int, default=2)
    p.add_argument("--layers", type=int, nargs="+", default=[784, 4000, 2000, 100])
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    compare("(a) LeNet-300-100", build_model("lenet300100", seed=args.seed), args.repeats)
    g = torch.Generator().manual_seed(args.seed)
    ws = [torch.randn(o, i, generator=g) for i, o in zip(args.layers, args.layers[1:])]
    compare(f"(b) random layers {'-'.join(map(str, args.layers))}", ws, args.big_repeats)


if __name__ == "__main__":
    main()
