"""Signal propagation at initialisation: the edge of chaos, and the rescaling trick (Hayou et al., ICLR 2021).

A wide network with weights ``N(0, sigma_w^2 / fan_in)`` and biases
``N(0, sigma_b^2)`` maps the variance ``q`` of a pre-activation and the
correlation ``c`` of two inputs' pre-activations layer by layer:

    q' = sigma_b^2 + sigma_w^2 E[phi(sqrt(q) Z)^2],
    c' = (sigma_b^2 + sigma_w^2 E[phi(u_1) phi(u_2)]) / q*,

``u_1 = sqrt(q*) Z_1``, ``u_2 = sqrt(q*) (c Z_1 + sqrt(1 - c^2) Z_2)``. At the
fixed point ``q*`` the slope of the correlation map at ``c = 1`` is
``chi = sigma_w^2 E[phi'(sqrt(q*) Z)^2]``: ``chi < 1`` is the *ordered* phase
(all inputs' correlations go to 1, gradients vanish), ``chi > 1`` the
*chaotic* phase, and ``chi = 1`` the **edge of chaos** (EOC), where
:func:`edge_of_chaos` puts ``sigma_w`` for a given ``sigma_b``. Expectations
are adaptive quadratures split at 0 (the correlation map, a 2-D integral,
uses a 201 x 201 Gauss-Hermite rule); no constant is tabulated.

:func:`rescale_` is the rescaling trick for pruned networks: every kept unit's
incoming weights scaled back to the squared norm the unpruned layer has in
expectation.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
import torch
from scipy import integrate, optimize
from torch import nn

from .models import prunable_layers

__all__ = ["ACTIVATIONS", "activation_fns", "gauss_expect", "variance_map", "q_star", "correlation_map", "chi",
           "edge_of_chaos", "sigma_w_for_chi", "phase", "init_", "eoc_init_", "ordered_init_", "rescale_"]

#: activations known by name: (phi, phi'), numpy-vectorised
ACTIVATIONS = {
    "relu": (lambda x: np.maximum(x, 0.0), lambda x: (x > 0).astype(float)),
    "tanh": (np.tanh, lambda x: 1.0 - np.tanh(x) ** 2),
    "elu": (lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))),
            lambda x: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0.0)))),
    "linear": (lambda x: x, lambda x: np.ones_like(x)),
    "softplus": (lambda x: np.logaddexp(0.0, x), lambda x: 1.0 / (1.0 + np.exp(-x))),
    "sigmoid": (lambda x: 1.0 / (1.0 + np.exp(-x)), lambda x: np.exp(-x) / (1.0 + np.exp(-x)) ** 2),
}
#: positively homogeneous activations: q* has a closed form and chi does not depend on q
_HOMOGENEOUS = {"relu", "linear"}



def activation_fns(activation):
    """``(phi, phi')`` for a name in ``ACTIVATIONS`` or a pair of numpy-vectorised callables."""
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ValueError(f"parameter 'activation' = {activation!r} is not allowed; expected one of "
                             f"{', '.join(ACTIVATIONS)} or a pair (phi, dphi) of vectorised functions")
        return ACTIVATIONS[activation]
    if isinstance(activation, tuple) and len(activation) == 2 and all(callable(f) for f in activation):
        return activation
    raise ValueError(f"parameter 'activation' = {activation!r} is not allowed; expected one of "
                     f"{', '.join(ACTIVATIONS)} or a pair (phi, dphi) of vectorised functions")


def gauss_expect(fn, q: float) -> float:
    """``E[fn(sqrt(q) Z)]``, ``Z ~ N(0, 1)``: adaptive quadrature on each side of 0.

    Split at 0 because activations are not smooth there (ReLU's derivative
    jumps, ELU's second derivative does): a Gauss-Hermite rule, exact for
    polynomials, converges slowly across a kink (201 nodes put ELU's edge of
    chaos at 1.2211 instead of 1.2293).
    """
    sq = math.sqrt(q)

    def g(z):
        return float(fn(sq * z)) * math.exp(-0.5 * z * z)

    with warnings.catch_warnings():  # a tolerance at the roundoff level is reported, not a failure
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        lo = integrate.quad(g, -np.inf, 0.0, epsabs=1e-14, epsrel=1e-12, limit=200)[0]
        hi = integrate.quad(g, 0.0, np.inf, epsabs=1e-14, epsrel=1e-12, limit=200)[0]
    return (lo + hi) / math.sqrt(2 * math.pi)


def _check_sigma(x, name, allow_zero=True):
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(x) or x < 0 or \
            (x == 0 and not allow_zero):
        raise ValueError(f"parameter {name!r} = {x!r} is not allowed; expected a number "
                         f"{'>= 0' if allow_zero else '> 0'}")
    return float(x)


def variance_map(activation, sigma_w: float, sigma_b: float, q: float) -> float:
    """``q' = sigma_b^2 + sigma_w^2 E[phi(sqrt(q) Z)^2]``."""
    phi, _ = activation_fns(activation)
    return _check_sigma(sigma_b, "sigma_b") ** 2 + _check_sigma(sigma_w, "sigma_w") ** 2 * \
        gauss_expect(lambda x: phi(x) ** 2, _check_sigma(q, "q"))


def q_star(activation, sigma_w: float, sigma_b: float) -> float:
    """The fixed point of the variance map (``inf`` where the variance grows without bound).

    For ReLU (and the identity) ``E[phi(sqrt(q) Z)^2] = q/2`` (``q``), so
    ``q* = sigma_b^2 / (1 - sigma_w^2 / 2)`` in closed form (``inf`` if
    ``sigma_w^2 >= 2``; ``0`` if ``sigma_b = 0``). Otherwise the root of
    ``q' - q`` above ``sigma_b^2`` by Brent's method (``inf`` if the map stays
    above the diagonal up to ``1e12``).
    """
    sw, sb = _check_sigma(sigma_w, "sigma_w"), _check_sigma(sigma_b, "sigma_b")
    if isinstance(activation, str) and activation in _HOMOGENEOUS:
        gain = 0.5 if activation == "relu" else 1.0
        if sb == 0:
            return 0.0
        return math.inf if sw * sw * gain >= 1 else sb * sb / (1 - sw * sw * gain)
    def h(q):
        return variance_map(activation, sw, sb, q) - q

    lo = sb * sb
    if h(lo) <= 0:           # only possible when phi(0) = 0 and sigma_b = 0: q* = 0 is the fixed point
        return lo
    hi = max(1.0, 2 * lo)
    while h(hi) > 0:
        hi *= 4
        if hi > 1e12:
            return math.inf
    return optimize.brentq(h, lo, hi, xtol=1e-14, rtol=1e-13)


def chi(activation, sigma_w: float, sigma_b: float) -> float:
    """``chi = sigma_w^2 E[phi'(sqrt(q*) Z)^2]``: the slope of the correlation map at ``c = 1``."""
    _, dphi = activation_fns(activation)
    sw = _check_sigma(sigma_w, "sigma_w")
    if isinstance(activation, str) and activation in _HOMOGENEOUS:
        return sw * sw * (0.5 if activation == "relu" else 1.0)
    q = q_star(activation, sw, sigma_b)
    if not math.isfinite(q):
        raise ValueError(f"q* is infinite for sigma_w = {sw}, sigma_b = {sigma_b}: no correlation map there")
    return sw * sw * gauss_expect(lambda x: dphi(x) ** 2, q)


#: Gauss-Legendre rule for the pieces of the 2-D integral of ``correlation_map``: each piece is smooth (the kinks
#: at ``u1 = 0`` and ``u2 = 0`` are piece boundaries) and the Gaussian weight is below 1e-21 beyond ``_Z_MAX``
_LEG_X, _LEG_W = np.polynomial.legendre.leggauss(160)
_Z_MAX = 10.0


def _legendre(a, b):
    """Nodes and weights of the Gauss-Legendre rule on ``[a, b]`` (arrays: one interval per entry)."""
    a, b = np.asarray(a, dtype=float)[..., None], np.asarray(b, dtype=float)[..., None]
    half = 0.5 * (b - a)
    return a + half * (_LEG_X + 1.0), half * _LEG_W


def correlation_map(activation, sigma_w: float, sigma_b: float, c: float) -> float:
    """``c' = (sigma_b^2 + sigma_w^2 E[phi(u_1) phi(u_2)]) / q*`` at the variance fixed point.

    ``(u_1, u_2)`` is Gaussian with variance ``q*`` and correlation ``c``: ``u_1 = sqrt(q*) z_1``,
    ``u_2 = sqrt(q*) (c z_1 + sqrt(1 - c^2) z_2)``. The expectation is integrated piece by piece, split where
    an activation has its kink (``u_1 = 0``, and for each ``z_1`` the ``z_2`` where ``u_2 = 0``), with a
    Gauss-Legendre rule on each smooth piece, for the reason :func:`gauss_expect` splits at 0: one Gauss-Hermite
    rule across ReLU's kink was off by about 2e-3; this agrees with the arc-cosine closed form to about 1e-12
    (tested).
    """
    phi, _ = activation_fns(activation)
    if isinstance(c, bool) or not isinstance(c, numbers.Real) or not (-1 <= c <= 1):
        raise ValueError(f"parameter 'c' = {c!r} is not allowed; expected a correlation in [-1, 1]")
    q = q_star(activation, sigma_w, sigma_b)
    if not math.isfinite(q) or q == 0:
        raise ValueError(f"q* = {q} for sigma_w = {sigma_w}, sigma_b = {sigma_b}: the correlation map needs a "
                         f"finite, positive fixed point")
    sq, c = math.sqrt(q), float(c)
    sn = math.sqrt(max(0.0, 1.0 - c * c))
    density = 1.0 / math.sqrt(2.0 * math.pi)
    total = 0.0
    for lo, hi in ((-_Z_MAX, 0.0), (0.0, _Z_MAX)):          # z_1 on each side of u_1's kink
        z1, w1 = _legendre(lo, hi)
        w1 = w1 * density * np.exp(-0.5 * z1 ** 2)
        u1 = phi(sq * z1)
        if sn == 0.0:                                       # c = +-1: u_2 = c u_1
            total += float(np.sum(w1 * u1 * phi(sq * c * z1)))
            continue
        kink = np.clip(-c * z1 / sn, -_Z_MAX, _Z_MAX)       # z_2 where u_2 = 0, for each z_1
        inner = np.zeros_like(z1)
        for a, b in ((np.full_like(z1, -_Z_MAX), kink), (kink, np.full_like(z1, _Z_MAX))):
            z2, w2 = _legendre(a, b)
            w2 = w2 * density * np.exp(-0.5 * z2 ** 2)
            inner += np.sum(w2 * phi(sq * (c * z1[:, None] + sn * z2)), axis=1)
        total += float(np.sum(w1 * u1 * inner))
    return float((sigma_b ** 2 + sigma_w ** 2 * total) / q)


def edge_of_chaos(activation, sigma_b: float = 0.0):
    """``(sigma_w, q*)`` with ``chi = 1`` at the variance fixed point, for a given ``sigma_b``.

    Solved by Brent's method on ``chi(sigma_w) - 1``. ReLU gives
    ``sigma_w = sqrt(2)`` for any ``sigma_b`` (``chi = sigma_w^2 / 2``), with
    ``q* = inf`` for ``sigma_b > 0`` and ``q* = 0`` (any variance is then kept)
    for ``sigma_b = 0``; tanh at ``sigma_b = 0.2`` gives ``sigma_w = 1.3041``.
    """
    sb = _check_sigma(sigma_b, "sigma_b")
    activation_fns(activation)
    if isinstance(activation, str) and activation in _HOMOGENEOUS:
        sw = math.sqrt(2.0) if activation == "relu" else 1.0
        return sw, (0.0 if sb == 0 else math.inf)

    def f(sw):
        if not math.isfinite(q_star(activation, sw, sb)):
            return 1.0  # the variance explodes: past the edge
        return chi(activation, sw, sb) - 1.0

    lo, hi = 0.1, 0.5
    while f(hi) < 0:
        lo, hi = hi, hi * 1.5
        if hi > 100:
            raise ValueError(f"no edge of chaos found for {activation!r} at sigma_b = {sb} (chi < 1 up to sigma_w = 100)")
    if f(lo) > 0:
        raise ValueError(f"no edge of chaos found for {activation!r} at sigma_b = {sb} (chi > 1 already at sigma_w = {lo})")
    sw = optimize.brentq(f, lo, hi, xtol=1e-13, rtol=1e-13)
    return sw, q_star(activation, sw, sb)


def sigma_w_for_chi(activation, chi_target: float, sigma_b: float) -> float:
    """The ``sigma_w`` at which ``chi(activation, sigma_w, sigma_b) = chi_target`` (Brent's method; ``chi`` grows
    with ``sigma_w`` at fixed ``sigma_b``). ``chi_target = 1`` is :func:`edge_of_chaos`; below 1 the point lies in
    the ordered phase, above 1 in the chaotic one."""
    if isinstance(chi_target, bool) or not isinstance(chi_target, numbers.Real) or not chi_target > 0:
        raise ValueError(f"parameter 'chi_target' = {chi_target!r} is not allowed; expected a number > 0")
    sb = _check_sigma(sigma_b, "sigma_b")
    activation_fns(activation)
    if isinstance(activation, str) and activation in _HOMOGENEOUS:
        return math.sqrt(chi_target / (0.5 if activation == "relu" else 1.0))

    def f(sw):
        if not math.isfinite(q_star(activation, sw, sb)):
            return 1.0
        return chi(activation, sw, sb) - chi_target

    lo, hi = 1e-3, 0.5
    while f(hi) < 0:
        lo, hi = hi, hi * 1.5
        if hi > 100:
            raise ValueError(f"parameter 'chi_target' = {chi_target} is not reached for {activation!r} at "
                             f"sigma_b = {sb} up to sigma_w = 100")
    if f(lo) > 0:
        raise ValueError(f"parameter 'chi_target' = {chi_target} is below chi at sigma_w = {lo} for {activation!r}")
    return optimize.brentq(f, lo, hi, xtol=1e-13, rtol=1e-13)


def phase(activation, sigma_w: float, sigma_b: float, tol: float = 1e-6) -> str:
    """``"ordered"`` (``chi < 1``), ``"chaotic"`` (``chi > 1``) or ``"edge"`` (``|chi - 1| <= tol``)."""
    x = chi(activation, sigma_w, sigma_b)
    return "edge" if abs(x - 1) <= tol else ("ordered" if x < 1 else "chaotic")


# ---------------------------------------------------------------------------
# initialisation and the rescaling trick


def init_(model: nn.Module, sigma_w: float, sigma_b: float, seed: int | None = None) -> nn.Module:
    """Every Linear/Conv weight ``N(0, sigma_w^2 / fan_in)``, every bias ``N(0, sigma_b^2)``; in place.

    ``fan_in`` counts the kernel (``in_channels * k * k``). BatchNorm layers
    are left as they are. ``seed`` draws from a private generator.
    """
    sw, sb = _check_sigma(sigma_w, "sigma_w"), _check_sigma(sigma_b, "sigma_b")
    g = torch.Generator().manual_seed(int(seed)) if seed is not None else None
    with torch.no_grad():
        for name, m in prunable_layers(model).items():
            w = m.weight_orig if hasattr(m, "weight_orig") else m.weight
            fan_in = w[0].numel()
            w.copy_(torch.randn(w.shape, generator=g).to(w) * (sw / math.sqrt(fan_in)))
            if m.bias is not None:
                m.bias.copy_(torch.randn(m.bias.shape, generator=g).to(m.bias) * sb)
    return model


def eoc_init_(model: nn.Module, activation="relu", sigma_b: float = 0.0, seed: int | None = None) -> nn.Module:
    """Initialise on the edge of chaos of ``activation`` (:func:`edge_of_chaos`) at ``sigma_b``; in place."""
    sw, _ = edge_of_chaos(activation, sigma_b)
    return init_(model, sw, sigma_b, seed)


def ordered_init_(model: nn.Module, activation="relu", sigma_w: float = 1.0, sigma_b: float = 1.0,
                  seed: int | None = None) -> nn.Module:
    """Initialise in the ordered phase (default ``sigma_w = 1, sigma_b = 1``); refuses a point that is not ordered."""
    if phase(activation, sigma_w, sigma_b) != "ordered":
        raise ValueError(f"parameters 'sigma_w' = {sigma_w}, 'sigma_b' = {sigma_b} are not in the ordered phase "
                         f"of {activation!r} (chi = {chi(activation, sigma_w, sigma_b):.4f} >= 1)")
    return init_(model, sigma_w, sigma_b, seed)


def rescale_(model: nn.Module, masks: dict, target: float = 2.0) -> dict:
    """The rescaling trick: each kept unit's incoming kept weights scaled to squared norm ``target``; in place.

    Unpruned, a row of a layer initialised ``N(0, sigma_w^2 / fan_in)`` has
    expected squared norm ``sigma_w^2``; pruning shrinks it. For a Linear
    layer every output unit's kept weights are multiplied by
    ``rho_i = sqrt(target / sum_j W_ij^2 m_ij)``; for a conv layer one factor
    per (output channel, kernel position), to ``target / k^2`` (the
    unpruned expectation of that slice). Rows with nothing kept are left at
    zero. ``target = sigma_w^2`` restores the forward variance (2 for ReLU at
    the edge of chaos). The authors' code (``pruner/SNIP.py`` and
    ``pruner/GraSP.py`` of ``sAviOr287/imagenet_ICLR``) fixes the activation
    to ReLU, so it uses 4 (``sigma_w^4`` for ReLU) for every activation, with
    ``sqrt(S / c) + 1e-3`` in the denominator; for convolutions its GraSP.py
    aims each slice at ``c / k^2``, as here, and its SNIP.py at ``c``
    (``target = c * k^2`` here). Behind BatchNorm a factor common to a
    channel cancels, so on such nets only the ratios matter. Works on the
    weight (or ``weight_orig`` when masks are applied). Returns the factors,
    ``{name: tensor}``.
    """
    tgt = _check_sigma(target, "target", allow_zero=False)
    layers = prunable_layers(model)
    factors = {}
    with torch.no_grad():
        for name, mask in masks.items():
            if name not in layers:
                raise ValueError(f"parameter 'masks' names {name!r}, not a prunable weight; expected names among "
                                 f"{', '.join(layers)}")
            m = layers[name]
            w = m.weight_orig if hasattr(m, "weight_orig") else m.weight
            mk = mask.to(w.device).bool()
            if mk.shape != w.shape:
                raise ValueError(f"parameter 'masks'[{name!r}] has shape {tuple(mk.shape)}; the weight has {tuple(w.shape)}")
            kept = w * mk
            if w.dim() == 2:
                energy = (kept ** 2).sum(1, keepdim=True)                        # (out, 1)
                goal = tgt
            else:
                energy = (kept ** 2).sum(1, keepdim=True)                        # (out, 1, k, k)
                goal = tgt / w[0, 0].numel()
            rho = torch.where(energy > 0, torch.sqrt(goal / energy.clamp_min(1e-300)), torch.zeros_like(energy))
            w.mul_(torch.where(mk, rho.expand_as(w), torch.ones_like(w)))
            if hasattr(m, "weight_mask"):
                m.weight = m.weight_orig * m.weight_mask
            factors[name] = rho.squeeze(1).cpu()
    return factors
