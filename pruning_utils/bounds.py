"""High-probability bounds on the output gap of a pruned random ReLU network, and their Monte Carlo check.

Setting (this book's, in the spirit of Qian & Klabjan, ICML 2021, whose exact
statements could not be read here). A *target* fully connected ReLU network
without biases,

    f(x) = W_L relu(W_{L-1} ... relu(W_1 x)),   W_l in R^{n_l x n_{l-1}},

has independent weights ``N(0, s_l^2)``, ``s_l^2 = c / n_{l-1}`` (``c = 2``, He
scaling). It is pruned in place, ``W~_l = W_l o A_l``:

* ``"random"``: ``A = M``, a mask keeping each weight with probability ``p``
  independently of everything else;
* ``"random_rescaled"``: ``A = M / p`` (survivors rescaled, ``E[W~] = W``);
* ``"magnitude"``: ``A = 1{|W| >= t_l}``, ``t_l`` the threshold with
  ``P(|w| < t_l) = q`` (``q = 1 - p`` the pruning rate).

The *gap* is ``G = sup_{|x| <= 1} |f(x) - f~(x)|`` over the unit ball of
inputs. :func:`fcn_gap_bound` returns a number ``b`` with ``P(G <= b) >= 1 - delta``
(Theorem 2 of chapter 03, proved there; constants are this book's, not the
paper's). Its proof, in four steps:

1. *One input, one layer.* Given everything before layer ``l``, the rows of
   the pre-activation gap ``W e + (W o (1 - A)) z~`` are independent and
   (sub-)Gaussian with explicit variance proxies, where ``e`` is the hidden
   gap and ``z~`` the pruned network's activation; Laurent & Massart's
   chi-square tail bounds their squared norm.
2. *Through the layers.* ReLU is 1-Lipschitz and ``relu(0) = 0``, so the
   bounds on ``|e|`` and ``|z~|`` propagate layer by layer.
3. *The masks.* Column sums of ``A`` and ``1 - A`` enter; Hoeffding bounds
   them for random masks.
4. *All inputs.* A union over an ``eps``-net of the input ball, and the
   Lipschitz constants of ``f`` and ``f~`` (Gordon's inequality and Gaussian
   concentration for the operator norms) for the points between.

Monte Carlo: :func:`sample_fcn`, :func:`prune`, :func:`fcn_forward` (all ``B``
sampled networks of a setting at once, batched matrix products) and
:func:`sup_gap` (sampling plus projected gradient ascent from many starts);
:func:`sample_conv`, :func:`prune_conv`, :func:`conv_forward` and
:func:`conv_gap_bound` for one convolutional layer.
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np
import torch
from scipy import optimize, special, stats

__all__ = ["METHODS", "he_scales", "magnitude_threshold", "truncated_proxy", "chi_tail", "operator_norm_bound",
           "layer_gap_bound", "fcn_gap_bound", "conv_gap_bound", "gordon_gap_bound", "blind_gap_bound",
           "exceedance_allowance", "sample_fcn", "prune", "fcn_forward", "exact_layer_gap", "sup_gap",
           "sample_conv", "prune_conv", "conv_forward"]

METHODS = ("random", "random_rescaled", "magnitude")
#: the net spacings the bound chooses from (a union over all of them is paid for)
EPS_GRID = (0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002)


def _pos_int(x, name):
    if isinstance(x, bool) or not isinstance(x, numbers.Integral) or x < 1:
        raise ValueError(f"parameter {name!r} = {x!r} is not allowed; expected a positive integer")
    return int(x)


def _unit(x, name):
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not (0 < x < 1):
        raise ValueError(f"parameter {name!r} = {x!r} is not allowed; expected a number in (0, 1)")
    return float(x)


def _pos(x, name):
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not (0 < x < math.inf):
        raise ValueError(f"parameter {name!r} = {x!r} is not allowed; expected a positive number")
    return float(x)


def _method(method):
    if method not in METHODS:
        raise ValueError(f"parameter 'method' = {method!r} is not allowed; expected one of {', '.join(METHODS)}")
    return method


def _widths(widths):
    try:
        w = [_pos_int(v, "widths") for v in widths]
    except TypeError:
        raise ValueError(f"parameter 'widths' = {widths!r} is not allowed; expected (n_0, ..., n_L)") from None
    if len(w) < 2:
        raise ValueError(f"parameter 'widths' = {widths!r} is not allowed; expected (n_0, ..., n_L) with L >= 1")
    return w


# ---------------------------------------------------------------------------
# building blocks


def he_scales(widths, c: float = 2.0) -> list:
    """Weight standard deviations ``s_l = sqrt(c / n_{l-1})`` for widths ``(n_0, ..., n_L)``."""
    return [math.sqrt(_pos(c, "c") / n) for n in _widths(widths)[:-1]]


def magnitude_threshold(s: float, rate: float) -> float:
    """The ``t`` with ``P(|w| < t) = rate`` for ``w ~ N(0, s^2)``: ``s Phi^-1((1 + rate) / 2)``."""
    return _pos(s, "s") * float(stats.norm.ppf((1 + _unit(rate, "rate")) / 2))


@functools.lru_cache(maxsize=4096)
def _truncated_proxy(s: float, t: float) -> float:
    return _truncated_proxy_uncached(s, t)


def truncated_proxy(s: float, t: float) -> float:
    """Sub-Gaussian variance proxy ``nu`` of ``X = w 1{|w| < t}``, ``w ~ N(0, s^2)``: what magnitude pruning removes.

    ``nu^2 = sup_theta 2 ln E e^{theta X} / theta^2``, with
    ``E e^{theta X} = P(|w| >= t) + e^{theta^2 s^2/2} (Phi(tau - theta s) - Phi(-tau - theta s))``,
    ``tau = t / s``, evaluated in logs. ``X`` is symmetric with
    ``E cosh(theta X) <= E cosh(theta w)``, so ``nu <= s``; ``|X| < t`` gives
    ``nu <= t`` (Hoeffding's lemma). The sup is found on a log grid of ``theta``
    refined by a bounded search; the result carries a relative margin of
    ``1e-6`` and never exceeds ``min(s, t)``. Cached: every bound calls it once per layer.
    """
    return _truncated_proxy(_pos(s, "s"), _pos(t, "t"))


def _log_scaled_inner(a: float, tau: float) -> float:
    """``log(e^{a^2/2} (Phi(tau - a) - Phi(-tau - a)))`` without cancellation, for any ``a >= 0``.

    For ``a > tau`` it uses ``e^{a^2/2} Phi(-(a -+ tau)) = erfcx((a -+ tau)/sqrt 2) e^{+-a tau - tau^2/2} / 2``,
    exact with no huge exponent, so ``a`` may be many thousands (small pruning rates put the supremum there).
    """
    if a <= tau + 1.0:
        inner = stats.norm.cdf(tau - a) - stats.norm.cdf(-tau - a)
        return a * a / 2 + math.log(inner)
    la = math.log(special.erfcx((a - tau) / math.sqrt(2))) + a * tau
    lb = math.log(special.erfcx((a + tau) / math.sqrt(2))) - a * tau
    return math.log(0.5) - tau * tau / 2 + la + math.log1p(-math.exp(lb - la))


def _truncated_proxy_uncached(s: float, t: float) -> float:
    tau = t / s
    log_tail = math.log(2.0) + stats.norm.logsf(tau)

    def ratio(log_th):
        th = math.exp(log_th)
        log_mgf = np.logaddexp(log_tail, _log_scaled_inner(th * s, tau))
        return 2 * float(log_mgf) / (th * th)

    # The supremum sits near theta s ~ 1/tau^2 for small rates (X is then nearly a two-point variable on +-t
    # scaled down by P(|w| < t)); the grid reaches well past it for every rate in (0, 1).
    hi = max(1e3, 1e3 / (tau * tau))
    grid = np.linspace(math.log(1e-3 / s), math.log(hi / s), 900)
    vals = np.array([ratio(g) for g in grid])
    i = int(np.argmax(vals))
    if i == len(grid) - 1:
        raise RuntimeError(f"truncated_proxy: the supremum lies beyond the search grid (s = {s}, t = {t})")
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    res = optimize.minimize_scalar(lambda g: -ratio(g), bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-10})
    var = s * s * ((1 - math.exp(log_tail)) - 2 * tau * stats.norm.pdf(tau))  # the theta -> 0 limit
    nu2 = max(float(vals[i]), -float(res.fun), var) * (1 + 1e-6)
    return min(math.sqrt(nu2), s, t)


def chi_tail(weights_sum: float, weights_max: float, u: float) -> float:
    """``sqrt(sum w + 2 sqrt(u sum w max w) + 2 u max w)``: with probability ``>= 1 - e^-u``,
    ``sqrt(sum_i w_i g_i^2)`` is below this for independent ``g_i`` with ``E e^{l g^2} <= (1 - 2l)^-1/2``
    (standard normals, or sub-Gaussians of proxy 1): Laurent & Massart's Lemma 1, with
    ``sum w^2 <= max w * sum w``."""
    if weights_sum < 0 or weights_max < 0 or u < 0:
        raise ValueError("parameters of chi_tail must be >= 0")
    return math.sqrt(weights_sum + 2 * math.sqrt(u * weights_sum * weights_max) + 2 * u * weights_max)


def operator_norm_bound(n: int, m: int, s: float, eta: float, a_max: float = 1.0) -> float:
    """``||W o A||_2 <= s a_max (sqrt n + sqrt m + sqrt(2 ln(1/eta)))`` w.p. ``>= 1 - eta``.

    ``W`` n x m with iid ``N(0, s^2)`` entries, ``A`` fixed (or independent of
    ``W``) with ``|A_ij| <= a_max``. Gordon's (Slepian's) comparison gives
    ``E||W o A|| <= s a_max (sqrt n + sqrt m)``, and the norm is
    ``s a_max``-Lipschitz in the standard Gaussian entries.
    """
    return _pos(s, "s") * a_max * (math.sqrt(_pos_int(n, "n")) + math.sqrt(_pos_int(m, "m"))
                                   + math.sqrt(2 * math.log(1 / _unit(eta, "eta"))))


def _hoeffding(n: int, eta: float) -> float:
    """A Binomial(n, p) count is within ``sqrt(n ln(2/eta) / 2)`` of ``n p`` w.p. ``>= 1 - eta``."""
    return math.sqrt(n * math.log(2 / eta) / 2)


def _column_stats(n: int, method: str, rate: float, h: float) -> dict:
    """Bounds on the column sums the proof needs, for a layer with ``n`` rows; ``h`` the Hoeffding slack.

    ``b = 1 - A`` (what is removed, as a multiplier of ``W``), ``A`` the kept multiplier.
    Returns ``beta1 >= max_l |sum_i b_il|``, ``beta2 >= max_l sum_i b_il^2``,
    ``alpha2 >= max_l sum_i A_il^2``, ``b_max``, ``a_max``.
    """
    p, q = 1 - rate, rate
    removed_hi = min(n, q * n + h)
    removed_lo = max(0.0, q * n - h)
    if method == "random":                   # b in {1 removed, 0 kept}, A in {0, 1}
        return {"beta1": removed_hi, "beta2": removed_hi, "alpha2": min(n, p * n + h), "b_max": 1.0, "a_max": 1.0}
    r = q / p                                # rescaled: b in {1 removed, -q/p kept}, A in {0, 1/p}
    beta1 = max(abs(R - (n - R) * r) for R in (removed_lo, removed_hi))
    beta2 = max(R + (n - R) * r * r for R in (removed_lo, removed_hi))
    return {"beta1": beta1, "beta2": beta2, "alpha2": min(n, p * n + h) / p ** 2, "b_max": max(1.0, r),
            "a_max": 1.0 / p}


# ---------------------------------------------------------------------------
# the theorems


def _per_point(widths, s, method, rate, u, stats_):
    """Steps 1-2: bounds (E_L, Z_L) on |f(x) - f~(x)| and |f~(x)| at one input |x| <= 1 (events e^-u each)."""
    E, Z = 0.0, 1.0
    for l in range(len(widths) - 1):
        n = widths[l + 1]
        if method == "magnitude":
            t = magnitude_threshold(s[l], rate)
            nu = truncated_proxy(s[l], t)
            # rows: sum_j w_ij (e_j + 1{|w_ij| < t} z~_j), proxy (s E + nu Z)^2; kept part: proxy s^2 Z^2
            E_new = (s[l] * E + nu * Z) * chi_tail(n, 1.0, u)
            Z_new = s[l] * Z * chi_tail(n, 1.0, u)
        else:
            c = stats_[l]
            sum_d = n * E * E + 2 * c["beta1"] * E * Z + c["beta2"] * Z * Z
            max_d = (E + c["b_max"] * Z) ** 2
            E_new = s[l] * chi_tail(sum_d, max_d, u)
            Z_new = s[l] * Z * chi_tail(c["alpha2"], c["a_max"] ** 2, u)
        E, Z = E_new, Z_new
    return E, Z


def _lipschitz(widths, s, method, rate, eta):
    """Bounds on Lip(f) and Lip(f~) (products of operator norms), each norm w.p. >= 1 - eta."""
    lf, lp = 1.0, 1.0
    for l in range(len(widths) - 1):
        n, m = widths[l + 1], widths[l]
        w = operator_norm_bound(n, m, s[l], eta)
        lf *= w
        if method == "magnitude":  # W~ = W - E with |E_ij| < t: ||E|| <= ||E||_F <= t sqrt(n m)
            lp *= w + magnitude_threshold(s[l], rate) * math.sqrt(n * m)
        else:
            a_max = 1.0 if method == "random" else 1.0 / (1 - rate)
            lp *= operator_norm_bound(n, m, s[l], eta, a_max)
    return lf, lp


def fcn_gap_bound(widths, method: str, rate: float, delta: float, c: float = 2.0, detail: bool = False,
                  input_net: bool = True):
    """Theorem 2: ``P(sup_{|x|<=1} |f(x) - f~(x)| <= bound) >= 1 - delta`` for a pruned random ReLU network.

    ``widths = (n_0, ..., n_L)``; weights ``N(0, c / n_{l-1})``; every layer
    pruned at ``rate`` by ``method`` (see the module docstring). The failure
    probability ``delta`` is split in three equal parts: Hoeffding bounds on
    the masks' column sums (random methods), the ``2 L`` per-layer events at
    every point of every net of ``EPS_GRID``, and the ``2 L`` operator norms.
    The bound is the smallest over ``eps`` in ``EPS_GRID`` of
    ``E_L(u_eps) + eps (Lip f + Lip f~)``, with
    ``u_eps = ln(len(EPS_GRID) 2 L N_eps / (delta/3))``, ``N_eps <= (1 + 2/eps)^n_0``
    the size of an ``eps``-net of the input ball, and ``E_L`` the per-input
    bound of steps 1-2. With ``detail`` a dict with ``bound``, ``eps``, ``per_point``
    and ``lipschitz_term``.

    ``input_net=False`` is a *mutant* kept to test the tests: step 4 deleted
    (no net over the inputs, no Lipschitz term), so it bounds the gap at one
    fixed input, not the sup over the ball. A test of the theorem that the
    mutant passes as well cannot see that step.
    """
    _method(method)
    rate, delta = _unit(rate, "rate"), _unit(delta, "delta")
    widths = _widths(widths)
    s = he_scales(widths, c)
    L = len(widths) - 1
    d = delta / 3
    stats_ = None
    if method != "magnitude":
        n_cols = sum(widths[:-1])
        eta_c = d / n_cols
        stats_ = [_column_stats(widths[l + 1], method, rate, _hoeffding(widths[l + 1], eta_c)) for l in range(L)]
    if not isinstance(input_net, bool):
        raise ValueError(f"parameter 'input_net' = {input_net!r} is not allowed; expected True or False")
    if not input_net:
        E, _ = _per_point(widths, s, method, rate, math.log(2 * L / d), stats_)
        best = {"bound": E, "eps": None, "per_point": E, "lipschitz_term": 0.0}
        return best if detail else best["bound"]
    lf, lp = _lipschitz(widths, s, method, rate, d / (2 * L))
    best = None
    for eps in EPS_GRID:
        log_net = widths[0] * math.log(1 + 2 / eps)
        u = log_net + math.log(len(EPS_GRID) * 2 * L / d)
        E, _ = _per_point(widths, s, method, rate, u, stats_)
        total = E + eps * (lf + lp)
        if best is None or total < best["bound"]:
            best = {"bound": total, "eps": eps, "per_point": E, "lipschitz_term": eps * (lf + lp)}
    return best if detail else best["bound"]


def layer_gap_bound(n_in: int, n_out: int, method: str, rate: float, delta: float, c: float = 2.0,
                    input_net: bool = True) -> float:
    """Theorem 1: one layer, ``sup_{|x|<=1} |(W - W~) x| = ||W - W~||_2``; :func:`fcn_gap_bound` with ``L = 1``."""
    return fcn_gap_bound((n_in, n_out), method, rate, delta, c, input_net=input_net)


def gordon_gap_bound(n_in: int, n_out: int, method: str, rate: float, delta: float, c: float = 2.0) -> float:
    """A bound on ``||W - W~||_2`` that does not use the rate except through the largest multiplier.

    For random masks ``W - W~ = W o B`` with ``B = 1 - A`` independent of ``W``
    and ``|B_ij| <= b_max`` (1 unrescaled, ``max(1, q/p)`` rescaled), so Gordon's
    comparison (:func:`operator_norm_bound`) gives ``s b_max (sqrt n_in + sqrt n_out
    + sqrt(2 ln 1/delta))`` w.p. ``>= 1 - delta``, whatever the count of removed
    weights. Magnitude pruning's difference is not a masked Gaussian matrix
    (the mask depends on ``W``); there is no such one-line bound for it here.
    """
    _method(method)
    if method == "magnitude":
        raise ValueError("parameter 'method' = 'magnitude' is not allowed here; expected 'random' or "
                         "'random_rescaled' (the mask must be independent of the weights)")
    rate = _unit(rate, "rate")
    b_max = 1.0 if method == "random" else max(1.0, rate / (1 - rate))
    s = he_scales((_pos_int(n_in, "n_in"), _pos_int(n_out, "n_out")), c)[0]
    return operator_norm_bound(n_out, n_in, s, _unit(delta, "delta"), b_max)


def blind_gap_bound(widths, method: str, rate: float, delta: float, c: float = 2.0) -> float:
    """The pruning-blind bound ``Lip f + Lip f~``: ``|f(x) - f~(x)| <= |f(x)| + |f~(x)|`` on the unit ball.

    The products of Gordon bounds on the ``2 L`` operator norms (the same as
    step 4 of :func:`fcn_gap_bound` uses), each at ``delta / (2 L)``: a bound
    any theorem about the *gap* should beat.
    """
    _method(method)
    rate, delta = _unit(rate, "rate"), _unit(delta, "delta")
    widths = _widths(widths)
    L = len(widths) - 1
    lf, lp = _lipschitz(widths, he_scales(widths, c), method, rate, delta / (2 * L))
    return lf + lp


def exceedance_allowance(n: int, delta: float, level: float) -> int:
    """The most of ``n`` independent draws that may exceed a valid ``(1 - delta)``-bound: the count ``k`` with
    ``P(Binomial(n, delta) > k) <= level``. A bound exceeded more often is refuted at that level."""
    n, delta, level = _pos_int(n, "n"), _unit(delta, "delta"), _unit(level, "level")
    return int(stats.binom.ppf(1 - level, n, delta))


def conv_gap_bound(c_in: int, c_out: int, k: int, method: str, rate: float, delta: float, c: float = 2.0,
                   input_net: bool = True) -> float:
    """Theorem 3: one conv layer (stride 1, zero padding), ``sup_{|x|<=1} |conv_{W - W~}(x)|`` w.p. ``>= 1 - delta``.

    Weights ``N(0, c / (c_in k^2))``. A zero-padded convolution is the sum over
    the ``k^2`` kernel offsets of a channel-mixing ``c_out x c_in`` matrix
    applied to a shifted copy of the input, and a zero-padded shift has norm at
    most one, so the gap is at most the sum of the ``k^2`` matrices' norms; each
    is a one-layer gap (:func:`fcn_gap_bound` with widths ``(c_in, c_out)`` and
    the conv's weight scale) at ``delta / k^2``. The input's size does not enter.
    """
    c_in, c_out, k = _pos_int(c_in, "c_in"), _pos_int(c_out, "c_out"), _pos_int(k, "k")
    # widths (c_in, c_out) with c' = c / k^2 gives s^2 = c / (c_in k^2), the conv's weight variance
    return k * k * fcn_gap_bound((c_in, c_out), method, rate, _unit(delta, "delta") / (k * k), c / (k * k),
                                 input_net=input_net)


# ---------------------------------------------------------------------------
# Monte Carlo: sampled targets, pruning, the empirical sup gap


def sample_fcn(widths, n_targets: int, seed: int, c: float = 2.0, device="cpu") -> list:
    """``n_targets`` targets at once: a list of ``(B, n_l, n_{l-1})`` float32 weight tensors."""
    g = torch.Generator().manual_seed(int(seed))
    s = he_scales(widths, c)
    widths = _widths(widths)
    B = _pos_int(n_targets, "n_targets")
    return [(s[l] * torch.randn(B, widths[l + 1], widths[l], generator=g)).to(device) for l in range(len(s))]


def prune(weights: list, method: str, rate: float, seed: int, scales=None) -> list:
    """Prune every layer at ``rate`` by ``method``; ``scales`` (the ``s_l``) are needed for ``"magnitude"``."""
    _method(method)
    rate = _unit(rate, "rate")
    if method == "magnitude":
        if scales is None:
            raise ValueError("parameter 'scales' is required for method 'magnitude' (the weights' s_l)")
        return [w * (w.abs() >= magnitude_threshold(s, rate)) for w, s in zip(weights, scales)]
    g = torch.Generator().manual_seed(int(seed))
    out = []
    for w in weights:
        keep = (torch.rand(w.shape, generator=g) >= rate).to(w.device)
        out.append(w * keep / ((1 - rate) if method == "random_rescaled" else 1.0))
    return out


def fcn_forward(weights: list, x: torch.Tensor) -> torch.Tensor:
    """All networks at once: ``x`` ``(B, R, n_0)`` -> ``(B, R, n_L)``, ReLU between layers, no biases."""
    h = x
    for i, w in enumerate(weights):
        h = torch.bmm(h, w.transpose(1, 2))
        if i < len(weights) - 1:
            h = torch.relu(h)
    return h


def exact_layer_gap(weights: list, pruned: list) -> torch.Tensor:
    """The exact sup gap of one-layer networks, ``||W - W~||_2`` (largest singular value): ``(B,)``."""
    if len(weights) != 1 or len(pruned) != 1:
        raise ValueError(f"parameters 'weights' and 'pruned' must hold one layer each, got {len(weights)} and "
                         f"{len(pruned)}")
    return torch.linalg.matrix_norm((weights[0] - pruned[0]).double(), ord=2)


def sample_conv(c_in: int, c_out: int, k: int, n_targets: int, seed: int, c: float = 2.0, device="cpu"):
    """``(B, c_out, c_in, k, k)`` kernels with entries ``N(0, c / (c_in k^2))``."""
    g = torch.Generator().manual_seed(int(seed))
    s = math.sqrt(c / (c_in * k * k))
    return (s * torch.randn(n_targets, c_out, c_in, k, k, generator=g)).to(device)


def prune_conv(kernels: torch.Tensor, method: str, rate: float, seed: int, c: float = 2.0) -> torch.Tensor:
    """Prune conv kernels ``(B, c_out, c_in, k, k)`` entry by entry, as :func:`prune`."""
    s = math.sqrt(c / (kernels.shape[2] * kernels.shape[3] * kernels.shape[4]))
    return prune([kernels], method, rate, seed, [s])[0]


def conv_forward(kernels: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """All kernels at once (one grouped convolution): ``x`` ``(B, R, c_in, H, W)`` -> ``(B, R, c_out, H, W)``."""
    B, R, ci, H, W_ = x.shape
    co, k = kernels.shape[1], kernels.shape[-1]
    inp = x.permute(1, 0, 2, 3, 4).reshape(R, B * ci, H, W_)
    out = torch.nn.functional.conv2d(inp, kernels.reshape(B * co, ci, k, k), padding=k // 2, groups=B)
    return out.reshape(R, B, co, H, W_).permute(1, 0, 2, 3, 4)


def sup_gap(gap_fn, in_shape, n_targets: int, samples: int = 256, starts: int = 8, steps: int = 40,
            lr: float = 1.0, seed: int = 0, device="cpu") -> torch.Tensor:
    """Estimate ``sup_{|x| <= 1} |gap_fn(x)|`` for ``n_targets`` networks at once: ``(B,)``.

    ``gap_fn`` maps inputs ``(B, R, *in_shape)`` to gaps ``(B, R, ...)``
    (``f(x) - f~(x)`` of each network). ``samples`` random unit inputs per
    network are scored; the best ``starts`` are improved by projected gradient
    ascent on the unit sphere (steps of length ``lr`` along the normalised
    gradient, ``steps`` of them, the step halved every ``steps // 3``); the best
    value seen is returned: a lower estimate of the sup. A ReLU network without
    biases is positively homogeneous, so the sup over the ball is on the sphere.
    """
    g = torch.Generator().manual_seed(int(seed))
    B = _pos_int(n_targets, "n_targets")
    in_shape = tuple(in_shape)
    d = int(np.prod(in_shape))
    view = (1,) * len(in_shape)

    def unit(v):
        return v / v.flatten(2).norm(dim=2).clamp_min(1e-12).view(*v.shape[:2], *view)

    def value(v):
        return gap_fn(v).flatten(2).norm(dim=2)

    with torch.no_grad():
        x = unit(torch.randn(B, samples, *in_shape, generator=g).to(device))
        vals = value(x)
        best = vals.max(1).values
        top = vals.topk(min(starts, samples), dim=1).indices
        x = torch.gather(x.flatten(2), 1, top[:, :, None].expand(-1, -1, d)).view(B, -1, *in_shape)
    step = lr
    for i in range(steps):
        if steps >= 3 and i > 0 and i % max(1, steps // 3) == 0:
            step /= 2
        x = x.detach().requires_grad_(True)
        v = value(x)
        grad, = torch.autograd.grad(v.sum(), x)
        with torch.no_grad():
            best = torch.maximum(best, v.max(1).values)
            gn = grad.flatten(2).norm(dim=2).clamp_min(1e-12).view(*grad.shape[:2], *view)
            x = unit(x + step * grad / gn)
    with torch.no_grad():
        best = torch.maximum(best, value(x).max(1).values)
    return best
