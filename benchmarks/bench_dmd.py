"""Exact DMD by the method of snapshots (pruning_utils.koopman.dmd) against a thin-SVD DMD.

A synthetic float64 trajectory x_t = theta* + sum_j Re(c_j lambda_j^t v_j) in R^N
with KNOWN eigenvalues (the fixed point at 1, five real ones and three
complex pairs with |lambda| in [0.5, 1)) is decomposed twice, in one run, on
the same threads:

  (a) ours: float64 Gram matrix S S^T (T x T) in column chunks, T x T
      eigenproblems, one product of the snapshots with a small matrix for the
      modes;
  (b) baseline, the textbook exact DMD as PyDMD computes it:
      U, s, Vh = svd(X, full_matrices=False); Atilde = U^H Y V S^-1; eig;
      modes = Y V S^-1 W / lambda. It runs in torch (MKL's gesdd), which was
      faster here than numpy's svd (1.1 s vs 2.9 s at N = 1e6, T = 50).

Both compute the eigenvalues AND all r modes, with the same r (the known
number of modes). Prints best-of-repeats wall times, the ratio, and the
eigenvalue differences (between the two, and against the known values).

    python benchmarks/bench_dmd.py [--n 1000000] [--t 50] [--repeats 3] [--seed 0]
"""

from __future__ import annotations

import argparse
import cmath
import math
import time

import torch

from pruning_utils.koopman import dmd, dmd_decomposition

REAL = (0.97, 0.9, 0.8, 0.65, 0.5)
PAIRS = ((0.95, 0.1), (0.85, 0.5), (0.7, 1.2))  # (modulus, angle)


def known_eigenvalues():
    eigs = [1.0 + 0j] + [complex(m) for m in REAL]
    for rho, om in PAIRS:
        eigs += [cmath.rect(rho, om), cmath.rect(rho, -om)]
    return torch.tensor(eigs, dtype=torch.complex128)


def trajectory(n: int, t: int, seed: int) -> torch.Tensor:
    """(T, N) float64: S = P B with P (T x r) the known time courses, B (r x N) random directions."""
    g = torch.Generator().manual_seed(seed)
    r = 1 + len(REAL) + 2 * len(PAIRS)
    B = torch.randn(r, n, generator=g, dtype=torch.float64)
    B[0] += 1.0  # theta* not centred
    ts = torch.arange(t, dtype=torch.float64)
    cols = [torch.ones(t, dtype=torch.float64)] + [m ** ts for m in REAL]
    for rho, om in PAIRS:  # 2 Re((a + i b) lambda^t) = 2 rho^t (cos(om t) a - sin(om t) b)
        cols += [2 * rho ** ts * torch.cos(om * ts), -2 * rho ** ts * torch.sin(om * ts)]
    P = torch.stack(cols, 1)
    return P @ B


def svd_dmd(S: torch.Tensor, r: int):
    """Baseline: exact DMD by a thin SVD of the full X (as PyDMD), eigenvalues and modes."""
    X, Y = S[:-1].T, S[1:].T                          # (N, T-1) views, column-major in memory
    U, s, Vh = torch.linalg.svd(X, full_matrices=False)
    U, s, V = U[:, :r], s[:r], Vh[:r].T
    Atilde = (U.T @ Y) @ V / s                        # U^H Y V S^-1
    lam, W = torch.linalg.eig(Atilde)
    modes = ((Y @ V) / s).to(torch.complex128) @ W / lam
    return lam, modes


def best_time(fn, repeats):
    best, out = math.inf, None
    for _ in range(repeats):
        out = None  # free the previous result before the next run
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def match(a: torch.Tensor, b: torch.Tensor):
    """Pair each eigenvalue of ``a`` with its nearest in ``b``; max relative difference, and whether
    the pairing is one-to-one."""
    d = (a[:, None] - b[None, :]).abs()
    j = d.argmin(1)
    rel = (a - b[j]).abs() / b[j].abs()
    return float(rel.max()), len(set(j.tolist())) == len(j), j


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="weights per snapshot (N)")
    ap.add_argument("--t", type=int, default=50, help="snapshots (T)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.n < 20 or args.t < 16 or args.repeats < 1:
        ap.error("need --n >= 20, --t >= 16 (the known system has 12 modes) and --repeats >= 1")

    known = known_eigenvalues()
    r = known.numel()
    S = trajectory(args.n, args.t, args.seed)
    print(f"N = {args.n:,}  T = {args.t}  r = {r} (known modes)  float64  "
          f"snapshots {S.numel() * 8 / 2**30:.2f} GiB  torch {torch.__version__}  threads {torch.get_num_threads()}")

    t_ours, (lam_ours, modes_ours) = best_time(lambda: dmd(S, rank=r), args.repeats)
    t_base, (lam_base, modes_base) = best_time(lambda: svd_dmd(S, r), args.repeats)
    t_auto, d_auto = best_time(lambda: dmd_decomposition(S), 1)

    ratio = t_base / t_ours
    rel_between, one_to_one, j = match(lam_ours, lam_base)
    rel_ours_known, ok1, _ = match(lam_ours, known)
    rel_base_known, ok2, _ = match(lam_base, known)
    cos = [float(torch.vdot(modes_ours[:, i], modes_base[:, j[i]]).abs()
                 / (modes_ours[:, i].norm() * modes_base[:, j[i]].norm())) for i in range(r)]
    print(f"ours      (method of snapshots): {t_ours:8.3f} s  best of {args.repeats}")
    print(f"baseline  (thin SVD of X)      : {t_base:8.3f} s  best of {args.repeats}")
    print(f"ratio baseline / ours          : {ratio:8.2f}x")
    print(f"max rel. eigenvalue difference, ours vs baseline : {rel_between:.2e}")
    print(f"max rel. eigenvalue error, ours vs known         : {rel_ours_known:.2e}")
    print(f"max rel. eigenvalue error, baseline vs known     : {rel_base_known:.2e}")
    print(f"modes, min |cos| ours vs baseline                : {min(cos):.12f}")
    print(f"ours with rank=None: numerical rank {d_auto.rank} "
          f"(sigma_{d_auto.rank + 1}/sigma_1 = "
          f"{float(d_auto.singular_values[min(d_auto.rank, args.t - 2)] / d_auto.singular_values[0]):.1e}), "
          f"{t_auto:.3f} s incl. amplitudes")
    same = rel_between < 1e-6 and one_to_one and ok1 and ok2
    print(f"{'PASS' if same else 'FAIL'}: same eigenvalues to 1e-6 relative")
    print(f"{'PASS' if ratio >= 3 else 'FAIL'}: at least 3x faster ({ratio:.2f}x)")
    return 0 if (same and ratio >= 3) else 1


if __name__ == "__main__":
    raise SystemExit(main())
