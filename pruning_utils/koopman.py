"""Koopman analysis of weight trajectories: exact DMD, Koopman magnitude and gradient pruning.

Redman et al. (ICLR 2022, arXiv 2110.14856) record the prunable weights after
every step of a window of training, fit a linear (Koopman) model
``x_{t+1} ~ A x_t`` to the trajectory by exact dynamic mode decomposition
(DMD; Tu et al. 2014), and prune with the mode whose eigenvalue is nearest 1:
that mode approximates the fixed point ``theta*`` the trajectory is heading
for. Conventions (DESIGN.md section 3):

- ``snapshots`` are time-major, shape ``(T, N)``: row ``t`` is the flattened
  weight vector ``x_t``. In the maths below ``X = [x_0 ... x_{T-2}]`` and
  ``Y = [x_1 ... x_{T-1}]`` are ``N x (T-1)`` matrices of columns.
- :func:`dmd` returns eigenvalues ``(r,)`` (complex128) and exact DMD modes
  ``(N, r)`` (complex64 for float32 snapshots, complex128 for float64);
  :func:`kmp_scores` and :func:`kgp_scores` return one non-negative score per
  entry, shape ``(N,)``.

Method of snapshots. ``N`` (weights) is huge and ``T`` (time steps) small, so
nothing of size ``N x N`` or an SVD of the ``N x (T-1)`` matrix is ever
formed. One pass over the data accumulates the ``T x T`` Gram matrix
``M = S S^T`` in float64 (in column chunks, so memory stays
``O(chunk * T)``); ``X^T X``, ``X^T Y`` and ``X^T x_0`` are blocks of it.
Everything after that is ``T x T`` linear algebra, plus one matrix product of
the snapshots with a small coefficient matrix to form the modes. Kmp and kgp
scores need only a matrix-vector product, not the modes themselves.

:class:`SnapshotRecorder` is a :class:`pruning_utils.train.Callback` that
records the weights during training into one preallocated buffer, on the
device, ready for these functions.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .masks import effective_weights
from .meter import note_structure
from .models import prunable_layers
from .train import Callback

__all__ = ["dmd", "dmd_decomposition", "DMD", "koopman_fixed_point", "kmp_scores", "kgp_scores",
           "SnapshotRecorder", "flatten_weights", "unflatten", "default_rtol", "float32_noise_floor",
           "random_walk_like", "shuffled_increments", "window_mean", "linear_extrapolation"]

#: columns of the snapshots cast to float64 at a time while accumulating the Gram matrix
GRAM_CHUNK = 1 << 15
#: rows of the modes computed per matrix product on the CPU (keeps the output slab in cache)
MODE_CHUNK = 1 << 13
#: an eigenvalue with ``|lambda| < TINY_EIGENVALUE * max|lambda|`` counts as zero (see :func:`dmd_decomposition`)
TINY_EIGENVALUE = 1e-12


# ---------------------------------------------------------------------------
# validation


def _as_snapshots(snapshots) -> torch.Tensor:
    """Validate and return the snapshots as a 2-D real floating tensor (no copy when possible)."""
    if isinstance(snapshots, np.ndarray):
        if not (np.issubdtype(snapshots.dtype, np.floating) or np.issubdtype(snapshots.dtype, np.integer)):
            raise ValueError(f"parameter 'snapshots' has dtype {snapshots.dtype}; expected a real "
                             f"floating-point array of shape (T, N)")
        snapshots = torch.from_numpy(np.ascontiguousarray(snapshots))
    if not torch.is_tensor(snapshots):
        raise ValueError(f"parameter 'snapshots' is a {type(snapshots).__name__}; expected a tensor or "
                         f"numpy array of shape (T, N), one flattened weight vector per row")
    if snapshots.is_complex() or snapshots.dtype == torch.bool:
        raise ValueError(f"parameter 'snapshots' has dtype {snapshots.dtype}; expected real floating-point values")
    if snapshots.dim() != 2:
        raise ValueError(f"parameter 'snapshots' has shape {tuple(snapshots.shape)}; expected a 2-D "
                         f"tensor (T, N): time-major, one flattened weight vector per row")
    T, N = snapshots.shape
    if T < 2:
        raise ValueError(f"parameter 'snapshots' has T = {T} row(s); expected T >= 2 snapshots "
                         f"(DMD needs at least one pair x_t -> x_t+1)")
    if N < 1:
        raise ValueError("parameter 'snapshots' has N = 0 columns; expected at least one weight")
    snapshots = snapshots.detach()
    if snapshots.dtype not in (torch.float32, torch.float64):
        # integers -> float64 (exact); half precisions -> float32 for the mode products
        snapshots = snapshots.to(torch.float64 if not snapshots.is_floating_point() else torch.float32)
    return snapshots


def _check_rank(rank, T: int):
    if rank is None:
        return None
    if isinstance(rank, bool) or not isinstance(rank, numbers.Integral) or not (1 <= rank <= T - 1):
        raise ValueError(f"parameter 'rank' = {rank!r} is not allowed; expected None (numerical rank) "
                         f"or an integer with 1 <= rank <= T - 1 = {T - 1}")
    return int(rank)


def _check_rtol(rtol):
    if rtol is None:
        return None
    if isinstance(rtol, bool) or not isinstance(rtol, numbers.Real) or not (0.0 <= rtol < 1.0):
        raise ValueError(f"parameter 'rtol' = {rtol!r} is not allowed; expected None (default) or a "
                         f"number with 0 <= rtol < 1")
    return float(rtol)


def default_rtol(n: int) -> float:
    """Default relative cut-off for the numerical rank of ``N``-dimensional snapshots.

    ``10 * sqrt(eps_64) * N**0.25`` (about ``8e-7`` for ``N = 1e3``, ``5e-6``
    for ``N = 1e6``). Why: the Gram matrix ``X^T X`` is accumulated in
    float64, each entry a sum of ``N`` products, with relative rounding error
    of about ``sqrt(N) * eps_64`` (errors of a long sum add up like a random
    walk). A perturbation of size ``delta * sigma_1**2`` of ``X^T X`` creates
    spurious singular values up to ``sqrt(delta) * sigma_1``, i.e. about
    ``N**0.25 * sqrt(eps_64) * sigma_1``; measured floors for exactly
    low-rank data were 1.5e-8 (N = 1e3) to 1.3e-7 (N = 1e6) times
    ``sigma_1``, float32 snapshots included (their own rounding, relative
    ``eps_32 = 1.2e-7``, lands at the same level). The factor 10 is the
    margin. Components below the cut-off could not be trusted anyway: they
    enter the reduced operator divided by ``sigma_i**2``.
    """
    return 10.0 * math.sqrt(np.finfo(np.float64).eps) * float(n) ** 0.25


# ---------------------------------------------------------------------------
# the small problem


def _gram(S: torch.Tensor) -> torch.Tensor:
    """``S S^T`` in float64 on ``S``'s device, accumulated over column chunks of ``S``."""
    T, N = S.shape
    chunk = GRAM_CHUNK
    M = torch.zeros(T, T, dtype=torch.float64, device=S.device)
    if S.dtype == torch.float64 and S.device.type == "cuda":
        return M.addmm_(S, S.T)  # nothing to cast; one product is fastest on a GPU
    for j in range(0, N, chunk):
        c = S[:, j:j + chunk].to(torch.float64)  # a view for float64 input, a (T, chunk) cast otherwise
        M.addmm_(c, c.T)
    return M


def _project(S: torch.Tensor, coeffs: torch.Tensor) -> torch.Tensor:
    """``S^T @ coeffs`` in float64 (``coeffs`` real, ``(T, k)``): returns ``(N, k)`` float64 (a transposed view)."""
    T, N = S.shape
    chunk = GRAM_CHUNK
    ct = coeffs.to(device=S.device, dtype=torch.float64).T.contiguous()  # (k, T)
    if S.dtype == torch.float64:
        return (ct @ S).T
    out = torch.empty(ct.shape[0], N, dtype=torch.float64, device=S.device)
    for j in range(0, N, chunk):
        torch.mm(ct, S[:, j:j + chunk].to(torch.float64), out=out[:, j:j + chunk])
    return out.T


@dataclass
class _Core:
    """Everything DMD needs except the ``N``-sized modes (all on the CPU, float64/complex128).

    Mode ``i`` is ``phi_i = S^T coeffs[:, i]`` (``S`` the ``(T, N)`` snapshots).
    """

    eigvals: torch.Tensor       # (r,) complex128, sorted by decreasing modulus
    coeffs: torch.Tensor        # (T, r) complex128
    amplitudes: torch.Tensor    # (r,) complex128
    singular_values: torch.Tensor  # (T-1,) float64, all of X's, decreasing
    projected: torch.Tensor     # (r,) bool: True where the eigenvalue counted as zero


def _core(S: torch.Tensor, rank, rtol) -> _Core:
    T, N = S.shape
    rank = _check_rank(rank, T)
    rtol = _check_rtol(rtol)
    M = _gram(S)
    diag = torch.diagonal(M)
    if not bool(torch.isfinite(diag).all()):
        if not bool(torch.isfinite(S).all()):
            raise ValueError("parameter 'snapshots' contains NaN or infinite values; expected finite weights")
        raise ValueError("parameter 'snapshots' has values so large that their squares overflow float64; "
                         "rescale the snapshots")
    M = M.cpu()
    M = 0.5 * (M + M.T)
    XtX, XtY, Xtx0 = M[:-1, :-1], M[:-1, 1:], M[:-1, 0]

    ev, V = torch.linalg.eigh(XtX)                     # ascending
    ev, V = ev.flip(0), V.flip(1)                      # descending
    sigma = ev.clamp(min=0.0).sqrt()
    if float(sigma[0]) == 0.0:
        raise ValueError("parameter 'snapshots' is all zeros in its first T - 1 rows; DMD needs a "
                         "non-zero trajectory")
    tol = (default_rtol(N) if rtol is None else rtol) * float(sigma[0])
    numerical = int((sigma > tol).sum())
    if rank is None:
        r = numerical
    else:
        r = rank
        positive = int((sigma > 0).sum())
        if r > positive:
            raise ValueError(f"parameter 'rank' = {rank} exceeds the number of non-zero singular values "
                             f"of the snapshots ({positive}; numerical rank {numerical}); expected "
                             f"rank <= {positive}, or None for the numerical rank")
        if r > numerical:
            warnings.warn(f"rank = {r} exceeds the numerical rank {numerical} of the snapshots "
                          f"(singular values below {tol / float(sigma[0]):.1e} * sigma_1 are rounding "
                          f"noise); the extra eigenvalues are not meaningful", RuntimeWarning, stacklevel=3)
    Vr, sr = V[:, :r], sigma[:r]
    VS = Vr / sr                                       # V Sigma^-1, (T-1, r)
    Atilde = VS.T @ XtY @ VS                           # Sigma^-1 V^T X^T Y V Sigma^-1, (r, r)
    lam, W = torch.linalg.eig(Atilde)                  # complex128; W columns of unit norm
    order = torch.sort(-lam.abs(), stable=True).indices  # conjugate pairs stay adjacent
    lam, W = lam[order], W[:, order]

    G = VS.to(torch.complex128) @ W                    # V Sigma^-1 W, (T-1, r)
    scale = lam.abs().max()
    if float(scale) > 0:
        projected = lam.abs() < TINY_EIGENVALUE * scale
    else:  # every eigenvalue is zero
        projected = torch.ones(r, dtype=torch.bool)
    coeffs = torch.zeros(T, r, dtype=torch.complex128)
    exact = ~projected
    # exact modes: phi = Y V Sigma^-1 w / lambda (rows 1..T-1 of S are Y)
    coeffs[1:, exact] = G[:, exact] / lam[exact]
    # eigenvalue ~ 0: the projected mode phi = U w = X V Sigma^-1 w (rows 0..T-2 are X)
    coeffs[:-1, projected] = G[:, projected]

    # amplitudes: U^H phi_i = w_i for both kinds of mode, so x_0 ~ Phi b projected on U gives
    # W b = U^H x_0 = Sigma^-1 V^T (X^T x_0)
    z = ((Vr.T @ Xtx0) / sr).to(torch.complex128)
    try:
        b = torch.linalg.solve(W, z)
    except RuntimeError:  # W exactly singular (defective reduced operator): least squares
        b = torch.linalg.pinv(W) @ z
    return _Core(lam, coeffs, b, sigma, projected)


def _modes(S: torch.Tensor, coeffs: torch.Tensor) -> torch.Tensor:
    """``S^T coeffs`` (``(N, r)`` complex) in ``S``'s precision, real and imaginary parts as one real product."""
    T, N = S.shape
    r = coeffs.shape[1]
    cdtype = torch.complex128 if S.dtype == torch.float64 else torch.complex64
    # columns interleaved (Re c_1, Im c_1, Re c_2, ...): the (N, 2r) real product IS the complex
    # (N, r) result in memory (view_as_real), so no copy of the N-sized output is needed
    R = torch.view_as_real(coeffs).reshape(T, 2 * r).to(device=S.device, dtype=S.dtype)
    modes = torch.empty(N, r, dtype=cdtype, device=S.device)
    out = torch.view_as_real(modes).view(N, 2 * r)
    if S.device.type == "cuda":
        torch.mm(S.T, R, out=out)
    else:
        for j in range(0, N, MODE_CHUNK):  # row slabs: far faster than one tall product on the CPU
            torch.mm(S[:, j:j + MODE_CHUNK].T, R, out=out[j:j + MODE_CHUNK])
    return modes


# ---------------------------------------------------------------------------
# public DMD


@dataclass
class DMD:
    """An exact DMD of a trajectory: ``x_t ~ Re(sum_i phi_i lambda_i**t b_i)``.

    Attributes
    ----------
    eigvals : torch.Tensor
        ``(r,)`` complex128, the DMD eigenvalues ``lambda_i``, sorted by
        decreasing modulus; a complex-conjugate pair is adjacent, positive
        imaginary part first.
    modes : torch.Tensor
        ``(N, r)`` complex (complex64 for float32 snapshots, complex128 for
        float64), the modes ``phi_i`` as columns, on the snapshots' device.
    amplitudes : torch.Tensor
        ``(r,)`` complex128, the amplitudes ``b_i`` that fit ``x_0``.
    singular_values : torch.Tensor
        ``(T-1,)`` float64, ALL singular values of ``X`` (decreasing), not
        only the ``r`` kept: they show where the rank was cut.
    """

    eigvals: torch.Tensor
    modes: torch.Tensor
    amplitudes: torch.Tensor
    singular_values: torch.Tensor

    @property
    def rank(self) -> int:
        """Number of modes ``r``."""
        return int(self.eigvals.shape[0])

    def reconstruct(self, t) -> torch.Tensor:
        """The model's state at time ``t``: ``Re(sum_i phi_i lambda_i**t b_i)``.

        ``t`` is an integer time (0 = the first snapshot; beyond ``T - 1``
        extrapolates), or a sequence of them; returns ``(N,)`` or
        ``(len(t), N)`` in the modes' real precision.
        """
        single = isinstance(t, numbers.Integral) and not isinstance(t, bool)
        times = [t] if single else (list(t) if isinstance(t, (list, tuple, range)) else [])
        if not times or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0
                            for s in times):
            raise ValueError(f"parameter 't' = {t!r} is not allowed; expected an integer time >= 0 "
                             f"or a non-empty list of them")
        lam, b = self.eigvals.cpu(), self.amplitudes.cpu()
        w = torch.stack([_powers(lam, int(s)) * b for s in times], 1)  # (r, k)
        x = (self.modes @ w.to(device=self.modes.device, dtype=self.modes.dtype)).real.T
        return x[0] if single else x


def _powers(lam: torch.Tensor, t: int) -> torch.Tensor:
    """``lambda**t`` for integer ``t >= 0`` (``0**0 = 1``)."""
    if t == 0:
        return torch.ones_like(lam)
    return lam ** t


def dmd_decomposition(snapshots, rank=None, *, rtol=None) -> DMD:
    """Exact DMD (Tu et al. 2014) by the method of snapshots, with amplitudes.

    Parameters
    ----------
    snapshots : torch.Tensor or numpy.ndarray
        ``(T, N)``, ``T >= 2``, finite, time-major: row ``t`` is ``x_t``. CPU or
        CUDA; results come back on the same device.
    rank : int, optional
        Number of modes ``r``, ``1 <= rank <= T - 1``. ``None`` (default): the
        numerical rank of ``X``, the number of singular values
        ``sigma_i > rtol * sigma_1``. This is the paper's "no truncation":
        only directions lost to rounding are dropped. An explicit rank above
        the numerical rank warns; above the number of non-zero singular
        values it is an error.
    rtol : float, optional
        Relative cut-off for ``rank=None``; default :func:`default_rtol`
        (``10 sqrt(eps_64) N**0.25``, 8e-7 at ``N = 1e3``, 5e-6 at ``N = 1e6``).

    Returns
    -------
    DMD
        eigenvalues, modes, amplitudes and the singular values of ``X``.

    Notes
    -----
    With ``S`` the snapshots and ``M = S S^T`` (float64, accumulated in
    chunks of ``GRAM_CHUNK`` columns), ``X^T X = M[:-1, :-1]``,
    ``X^T Y = M[:-1, 1:]`` and ``X^T x_0 = M[:-1, 0]``. From
    ``X^T X = V Sigma^2 V^T`` (the ``r`` largest) the POD basis is
    ``U = X V Sigma^-1`` (never formed) and the reduced operator
    ``Atilde = U^T Y V Sigma^-1 = Sigma^-1 V^T (X^T Y) V Sigma^-1``;
    ``Atilde w_i = lambda_i w_i``. Exact modes
    ``phi_i = Y V Sigma^-1 w_i / lambda_i``.

    Amplitudes: ``U^H phi_i = Sigma^-1 V^T X^T Y V Sigma^-1 w_i / lambda_i =
    Atilde w_i / lambda_i = w_i``. Projecting ``x_0 = Phi b`` onto ``U``
    therefore gives ``W b = U^H x_0``, so
    ``b = W^-1 Sigma^-1 V^T (X^T x_0)``: no extra pass over the data.

    Eigenvalue zero: when ``|lambda_i| < 1e-12 max|lambda|`` the exact mode
    is undefined (and ``Y V Sigma^-1 w_i`` is zero, up to rounding, whenever
    ``Y``'s columns lie in the span of ``X``'s). Such a mode is replaced by the
    projected mode ``phi_i = U w_i = X V Sigma^-1 w_i``, as Tu et al. suggest;
    then ``U^H phi_i = w_i`` still holds, the amplitudes stay right, and
    ``Phi b`` reproduces ``x_0`` when the snapshots' span is invariant. Its
    contribution vanishes for ``t >= 1`` anyway (``0**t = 0``).

    Precision: the Gram matrix is exact to float64 rounding, which resolves
    singular values down to about ``1e-7 sigma_1`` (the method of snapshots
    squares the condition number; a thin SVD of ``X`` resolves about
    ``1e-15 sigma_1`` but costs ~10x more). The modes are one product of the
    snapshots with a ``(T, 2r)`` real matrix, in the snapshots' precision.
    """
    S = _as_snapshots(snapshots)
    core = _core(S, rank, rtol)
    dev = S.device
    return DMD(eigvals=core.eigvals.to(dev), modes=_modes(S, core.coeffs),
               amplitudes=core.amplitudes.to(dev), singular_values=core.singular_values.to(dev))


def dmd(snapshots, rank=None, *, rtol=None):
    """Exact DMD eigenvalues and modes of a trajectory (method of snapshots).

    Parameters
    ----------
    snapshots : torch.Tensor or numpy.ndarray
        ``(T, N)``, ``T >= 2``, one flattened weight vector per row.
    rank : int, optional
        ``1 <= rank <= T - 1``; ``None`` = numerical rank (see
        :func:`dmd_decomposition`, which documents the algorithm).
    rtol : float, optional
        Relative singular-value cut-off for ``rank=None``.

    Returns
    -------
    eigvals : torch.Tensor
        ``(r,)`` complex128, sorted by decreasing modulus.
    modes : torch.Tensor
        ``(N, r)`` complex64 (float32 snapshots) or complex128 (float64),
        column ``i`` the exact DMD mode of ``eigvals[i]``.
    """
    d = dmd_decomposition(snapshots, rank, rtol=rtol)
    return d.eigvals, d.modes


# ---------------------------------------------------------------------------
# Koopman pruning scores


def _nearest_one(core: _Core):
    """Index of the eigenvalue nearest 1, and the factor 2 when it is one of a complex pair.

    The eigen-solver of the real reduced operator returns real eigenvalues with
    an imaginary part of exactly zero and complex ones in exact conjugate
    pairs, so any non-zero imaginary part means a partner exists; testing
    ``!= 0`` (not ``> tol``) also counts a nearly real pair (two nearly equal
    real eigenvalues split into ``a +- 1e-12 i``) as the pair it is.
    """
    i = int(torch.argmin((core.eigvals - 1.0).abs()))
    return i, (2.0 if float(core.eigvals[i].imag) != 0.0 else 1.0)


def koopman_fixed_point(snapshots, rank=None, *, rtol=None) -> torch.Tensor:
    """The Koopman estimate of the fixed point ``theta*`` of a trajectory, ``(N,)``.

    ``x_t = sum_i phi_i lambda_i**t b_i``: modes with ``|lambda_i| < 1`` die
    out, and the mode with ``lambda = 1`` is what remains. The function
    returns ``Re(b_1 phi_1)`` for the eigenvalue ``lambda_1`` nearest 1. If
    that eigenvalue is complex (any non-zero imaginary part: the eigen-solver
    of a real operator returns real eigenvalues with imaginary part exactly
    0), its conjugate partner is equally near and contributes the conjugate,
    so the result is ``2 Re(b_1 phi_1)``, the pair's joint contribution at
    ``t = 0``; of the pair, the member with positive imaginary part is used.

    Computed as one product of the snapshots with a ``T``-vector in float64
    (``phi_1 = S^T c_1``), without forming the other modes. Returned in the
    snapshots' precision (float32 or float64), on their device. Parameters as
    in :func:`dmd`.
    """
    S = _as_snapshots(snapshots)
    core = _core(S, rank, rtol)
    i, factor = _nearest_one(core)
    c = (factor * (core.coeffs[:, i] * core.amplitudes[i]).real)[:, None]
    return _project(S, c)[:, 0].to(S.dtype)


def kmp_scores(snapshots, rank=None, *, rtol=None) -> torch.Tensor:
    """Koopman magnitude pruning scores (Redman et al. 2022): ``|koopman_fixed_point(snapshots)|``.

    One non-negative score per entry, ``(N,)``; rank the scores globally to
    prune. For a trajectory ``x_t = theta* + A**t (x_0 - theta*)`` with ``A``
    a contraction whose range the snapshots capture, this is ``|theta*|``
    exactly (up to rounding), i.e. global magnitude pruning of the weights the
    training converges to. See :func:`koopman_fixed_point`.
    """
    return koopman_fixed_point(snapshots, rank, rtol=rtol).abs()


def kgp_scores(snapshots, rank=None, t=None, weighted=True, *, rtol=None) -> torch.Tensor:
    """Koopman gradient pruning scores, ``(N,)``, non-negative.

    Derivation. The DMD model ``x_t = sum_i phi_i lambda_i**t b_i`` predicts
    the one-step increment

        ``Delta(t) = x_{t+1} - x_t = Re sum_i (lambda_i - 1) lambda_i**t b_i phi_i``.

    Under plain gradient descent ``x_{t+1} - x_t = -eta grad L(x_t)``, so
    ``Delta(t) = -eta g(t)`` with ``g(t)`` the Koopman estimate of the
    gradient at time ``t`` (the fixed-point mode, ``lambda = 1``, contributes
    nothing: only the modes still moving carry gradient). With
    ``weighted=True`` the score is ``|xhat_t * Delta(t)|``, ``xhat_t`` the
    Koopman reconstruction at ``t``, which equals ``eta |theta * dL/dtheta|``:
    it ranks exactly like the gradient-pruning score ``|theta * dL/dtheta|``
    (SNIP, ShrinkBench's GlobalMagGrad) because ``eta > 0`` is one factor for
    all entries. With ``weighted=False`` the score is ``|Delta(t)|``
    (gradient magnitude). With momentum or a changing learning rate the
    increment is ``-eta_t`` times the momentum buffer (an average of recent
    gradients), and ``Delta`` estimates that instead.

    Parameters
    ----------
    snapshots, rank, rtol
        As in :func:`dmd`.
    t : int, optional
        Time (row index) at which to evaluate; default ``T - 1``, the last
        snapshot. Any integer ``t >= 0`` (beyond ``T - 1`` extrapolates).
    weighted : bool
        ``|xhat_t * Delta(t)|`` (default) or ``|Delta(t)|``.
    """
    S = _as_snapshots(snapshots)
    T = S.shape[0]
    if t is None:
        t = T - 1
    if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 0:
        raise ValueError(f"parameter 't' = {t!r} is not allowed; expected None (the last snapshot, "
                         f"t = {T - 1}) or an integer t >= 0")
    if not isinstance(weighted, bool):
        raise ValueError(f"parameter 'weighted' = {weighted!r} is not allowed; expected True or False")
    core = _core(S, rank, rtol)
    pt = _powers(core.eigvals, int(t)) * core.amplitudes            # lambda**t b
    delta_c = (core.coeffs @ ((core.eigvals - 1.0) * pt)).real      # (T,)
    if not weighted:
        return _project(S, delta_c[:, None])[:, 0].abs().to(S.dtype)
    xhat_c = (core.coeffs @ pt).real
    both = _project(S, torch.stack([xhat_c, delta_c], 1))
    return (both[:, 0] * both[:, 1]).abs().to(S.dtype)


# ---------------------------------------------------------------------------
# precision, null models and trivial estimators (what KMP must beat)


def float32_noise_floor(snapshots) -> float:
    """Expected largest singular value of the float32 rounding error of ``X`` (``(T-1) x N``).

    Storing a weight ``x`` in float32 rounds it by up to half its unit in the
    last place, ``ulp(x) = np.spacing(x)``: an error uniform on
    ``[-ulp/2, ulp/2]``, variance ``ulp**2 / 12``. For ``N >> T`` the
    ``N x (T-1)`` error matrix ``E`` of ``X`` has all its singular values near
    ``||E||_F / sqrt(T-1)`` (Marchenko-Pastur: within a factor
    ``1 +- sqrt((T-1)/N)``), so the floor returned is
    ``sqrt(sum ulp**2 / 12 / (T-1)) * (1 + sqrt((T-1)/N))``. Singular values
    of the snapshots at or below it are indistinguishable from the rounding of
    float32 storage. Computed on the CPU in float64.
    """
    S = _as_snapshots(snapshots)
    X = S[:-1].detach().to("cpu", torch.float32).numpy()
    T1, N = X.shape
    ulp = np.spacing(np.abs(X)).astype(np.float64)
    return float(math.sqrt(float((ulp ** 2).sum()) / 12.0 / T1) * (1.0 + math.sqrt(T1 / N)))


def _generator(seed) -> torch.Generator:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"parameter 'seed' = {seed!r} is not allowed; expected an integer")
    return torch.Generator().manual_seed(int(seed))


def random_walk_like(snapshots, seed: int) -> torch.Tensor:
    """A random walk with the per-coordinate increment statistics of ``snapshots``: a null model.

    With increments ``d_t = x_{t+1} - x_t`` (``t < T-1``), per-coordinate mean
    ``mu`` and standard deviation ``s`` over time, returns ``(T, N)``
    snapshots ``x'_0 = x_0``, ``x'_{t+1} = x'_t + mu + s * eps_t``,
    ``eps_t ~ N(0, I)`` independent: the same drift and step sizes, no
    dynamics at all (no fixed point, no decaying modes). Noise is drawn on the
    CPU from ``seed`` in float32; the result has the snapshots' dtype and
    device.
    """
    S = _as_snapshots(snapshots)
    T, N = S.shape
    if T < 3:
        raise ValueError(f"parameter 'snapshots' has T = {T}; expected T >= 3 (two increments give a spread)")
    d = (S[1:] - S[:-1]).double()
    mu, sd = d.mean(0), d.std(0)
    eps = torch.randn(T - 1, N, generator=_generator(seed)).to(S.device, torch.float64)
    walk = torch.cumsum(mu + sd * eps, 0) + S[0].double()
    return torch.cat([S[:1], walk.to(S.dtype)], 0)


def shuffled_increments(snapshots, seed: int) -> torch.Tensor:
    """The trajectory with its increments put in a random order in time: a null model.

    ``x'_0 = x_0``, ``x'_t = x_0 + sum_{k < t} d_{pi(k)}`` for a random
    permutation ``pi`` (one for all coordinates, from ``seed``): every step of
    the real run is kept, its temporal order is destroyed. The last snapshot
    equals the real one up to rounding, so GMP of the last snapshot is
    unchanged; only what DMD reads from the order can differ.
    """
    S = _as_snapshots(snapshots)
    T = S.shape[0]
    d = (S[1:] - S[:-1]).double()
    perm = torch.randperm(T - 1, generator=_generator(seed)).to(S.device)
    walk = torch.cumsum(d[perm], 0) + S[0].double()
    return torch.cat([S[:1], walk.to(S.dtype)], 0)


def window_mean(snapshots) -> torch.Tensor:
    """The mean of the snapshots, ``(N,)``: the simplest estimate of where a noisy run sits."""
    S = _as_snapshots(snapshots)
    return S.double().mean(0).to(S.dtype)


def linear_extrapolation(snapshots, horizon: int, last: int | None = None) -> torch.Tensor:
    """Straight-line forecast: ``x_{T-1} + horizon * v``, ``v`` the mean step over the last ``last`` steps.

    ``v = (x_{T-1} - x_{T-1-last}) / last``, the least-effort trend estimate
    (default ``last = T - 1``, the whole window). ``horizon`` is in steps,
    ``>= 0``. Returns ``(N,)`` in the snapshots' dtype.
    """
    S = _as_snapshots(snapshots)
    T = S.shape[0]
    horizon = _check_int(horizon, "horizon", 0)
    last = T - 1 if last is None else last
    if isinstance(last, bool) or not isinstance(last, numbers.Integral) or not (1 <= last <= T - 1):
        raise ValueError(f"parameter 'last' = {last!r} is not allowed; expected None or an integer "
                         f"with 1 <= last <= T - 1 = {T - 1}")
    v = (S[-1].double() - S[-1 - last].double()) / last
    return (S[-1].double() + horizon * v).to(S.dtype)


# ---------------------------------------------------------------------------
# recording trajectories


def _layer_shapes(model: nn.Module) -> dict:
    shapes = {}
    for name, module in prunable_layers(model).items():
        w = module.weight_orig if hasattr(module, "weight_orig") else module.weight
        shapes[name] = tuple(w.shape)
    return shapes


def flatten_weights(model: nn.Module) -> torch.Tensor:
    """The effective (masked) prunable weights of ``model`` as one vector ``(N,)``, in layer order."""
    ws = effective_weights(model)
    if not ws:
        raise ValueError("parameter 'model' has no prunable (Linear/Conv) weights")
    return torch.cat([w.reshape(-1) for w in ws.values()])


def _unflatten(vec, shapes: dict) -> dict:
    if not torch.is_tensor(vec) or vec.dim() != 1:
        raise ValueError(f"parameter 'vec' must be a 1-D tensor of length {sum(map(math.prod, shapes.values()))}")
    n = sum(math.prod(s) for s in shapes.values())
    if vec.shape[0] != n:
        raise ValueError(f"parameter 'vec' has length {vec.shape[0]}; the model has {n} prunable weights")
    out, start = {}, 0
    for name, shape in shapes.items():
        size = math.prod(shape)
        out[name] = vec[start:start + size].view(shape)
        start += size
    return out


def unflatten(vec: torch.Tensor, model: nn.Module) -> dict:
    """Split a vector ``(N,)`` into ``{name: tensor shaped like the weight}``, keyed like masks.

    The inverse of :func:`flatten_weights`; the values are views of ``vec``.
    """
    return _unflatten(vec, _layer_shapes(model))


def _check_int(value, name, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"parameter {name!r} = {value!r} is not allowed; expected an integer >= {low}")
    return int(value)


#: the name under which snapshot buffers report their size to a meter (:func:`pruning_utils.meter.note_structure`)
SNAPSHOTS = "Koopman snapshot windows"


class SnapshotRecorder(Callback):
    """Record the prunable weights during :func:`pruning_utils.train.train` into one buffer.

    Records ``length`` snapshots at global steps ``start_step``,
    ``start_step + every``, ..., where "the weights at step ``s``" are the
    weights after ``s`` optimizer steps (``s = 0`` is the initialisation).
    Each row is :func:`flatten_weights` of the model: the effective weights
    (masked entries are zero), Linear/Conv layers in model order.

    Parameters
    ----------
    model : nn.Module
        The network that will be trained (fixes ``N`` and the layer order).
    start_step : int
        First global step recorded, ``>= 0``.
    length : int
        Number of snapshots ``T``, ``>= 2``.
    every : int
        Steps between snapshots, ``>= 1``.
    device : str or torch.device, optional
        Where the buffer lives; default the model's parameter device.
    dtype : torch.dtype
        Floating dtype of the buffer (default float32).

    Notes
    -----
    The buffer ``(length, N)`` is allocated once, at construction; recording
    copies into it (no allocation per step beyond the masked product).
    Training must pass through every recorded step: if a run starts after a
    step still to be recorded, ``on_train_start`` raises, since a window
    with a gap would break DMD's uniform time step. Steps seen again later
    (e.g. after rewinding) are not recorded twice; :meth:`reset` starts over.

    Example
    -------
    >>> rec = SnapshotRecorder(model, start_step=100, length=20)  # doctest: +SKIP
    >>> train(model, data, cfg, callbacks=[rec])             # doctest: +SKIP
    >>> masks = masks_from_scores(rec.unflatten(kmp_scores(rec.snapshots)), 0.9)  # doctest: +SKIP
    """

    def __init__(self, model: nn.Module, start_step: int, length: int, every: int = 1,
                 device=None, dtype: torch.dtype = torch.float32):
        if not isinstance(model, nn.Module):
            raise ValueError(f"parameter 'model' is a {type(model).__name__}; expected an nn.Module")
        self.start_step = _check_int(start_step, "start_step", 0)
        self.length = _check_int(length, "length", 2)
        self.every = _check_int(every, "every", 1)
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise ValueError(f"parameter 'dtype' = {dtype!r} is not allowed; expected a floating torch dtype "
                             f"such as torch.float32 or torch.float64")
        self.shapes = _layer_shapes(model)
        if not self.shapes:
            raise ValueError("parameter 'model' has no prunable (Linear/Conv) weights to record")
        if device is None:
            device = next(model.parameters()).device
        try:
            device = torch.device(device)
        except (RuntimeError, TypeError) as e:
            raise ValueError(f"parameter 'device' = {device!r} is not allowed; expected None, 'cpu', "
                             f"'cuda' or a torch.device") from e
        self.n = sum(math.prod(s) for s in self.shapes.values())
        self.buffer = torch.empty(self.length, self.n, device=device, dtype=dtype)
        self._steps: list = []
        note_structure(SNAPSHOTS, self.buffer.nbytes, owner=self)   # buffers alive at once add up

    # -- results -------------------------------------------------------------

    @property
    def snapshots(self) -> torch.Tensor:
        """The rows recorded so far, ``(k, N)``: a view of the buffer."""
        return self.buffer[:len(self._steps)]

    @property
    def steps(self) -> list:
        """Global steps of the recorded rows."""
        return list(self._steps)

    @property
    def full(self) -> bool:
        """True once all ``length`` snapshots are recorded."""
        return len(self._steps) == self.length

    @property
    def next_step(self):
        """The next global step to record (None when full)."""
        return None if self.full else self.start_step + len(self._steps) * self.every

    def unflatten(self, vec: torch.Tensor) -> dict:
        """Split ``(N,)`` into ``{name: tensor shaped like the weight}`` (views), keyed like masks."""
        return _unflatten(vec, self.shapes)

    def reset(self):
        """Forget what was recorded (the buffer is kept and overwritten)."""
        self._steps = []

    # -- recording -----------------------------------------------------------

    def record(self, model: nn.Module, step: int):
        """Copy ``model``'s effective weights into the next row, as the weights at ``step``."""
        if self.full:
            raise RuntimeError("SnapshotRecorder is full; call reset() to record again")
        row = self.buffer[len(self._steps)]
        start = 0
        ws = effective_weights(model)
        if list(ws) != list(self.shapes):
            raise ValueError("parameter 'model' has different prunable layers from the model the "
                             "recorder was built for")
        with torch.no_grad():
            for w in ws.values():
                size = w.numel()
                row[start:start + size].copy_(w.reshape(-1))
                start += size
        self._steps.append(int(step))

    def _maybe_record(self, state, at_start: bool):
        nxt = self.next_step
        if nxt is None:
            return
        if state.step == nxt:
            self.record(state.model, state.step)
        elif state.step > nxt and at_start:
            raise RuntimeError(f"SnapshotRecorder: training starts at step {state.step}, after step {nxt} "
                               f"that is still to be recorded (start_step={self.start_step}, every="
                               f"{self.every}); a window with a gap is not a trajectory DMD can use")

    def on_train_start(self, state):
        self._maybe_record(state, at_start=True)

    def on_step_end(self, state):
        self._maybe_record(state, at_start=False)
