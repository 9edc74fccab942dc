"""pruning_utils.bounds: the bound functions against hand computations, the gap estimator against
closed forms, the Monte Carlo pieces, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from pruning_utils import bounds as B
from pruning_utils.claims import evaluate
from pruning_utils.experiments import bounds as bounds_exp


def test_chi_tail_and_operator_norm_by_hand():
    assert B.chi_tail(4.0, 1.0, 2.0) == pytest.approx(math.sqrt(4 + 2 * math.sqrt(8) + 4))
    assert B.operator_norm_bound(9, 16, 0.5, math.exp(-2)) == pytest.approx(0.5 * (3 + 4 + 2))
    assert B.operator_norm_bound(9, 16, 0.5, math.exp(-2), a_max=2.0) == pytest.approx(2 * 0.5 * 9)


def test_magnitude_threshold_removes_the_rate():
    t = B.magnitude_threshold(0.3, 0.4)
    assert 2 * stats.norm.cdf(t / 0.3) - 1 == pytest.approx(0.4)


def test_truncated_proxy_between_variance_and_caps():
    for s, q in ((1.0, 0.1), (1.0, 0.5), (0.2, 0.9)):
        t = B.magnitude_threshold(s, q)
        var = integrate.quad(lambda z: (s * z) ** 2 * stats.norm.pdf(z), -t / s, t / s)[0]
        nu = B.truncated_proxy(s, t)
        assert var <= nu ** 2 * (1 + 1e-9)
        assert nu <= min(s, t) + 1e-12
        # the proxy really bounds the MGF on a grid of theta
        for th in np.linspace(0.1, 20, 50) / s:
            mgf = integrate.quad(lambda z: math.exp(th * s * z) * stats.norm.pdf(z), -t / s, t / s)[0] \
                + 2 * stats.norm.sf(t / s)
            assert mgf <= math.exp(th * th * nu * nu / 2) * (1 + 1e-9)


def _brute_force_proxy(s, t):
    """sqrt of sup_theta 2 ln E e^{theta X} / theta^2 for X = w 1{|w| < t}: the MGF by quadrature (in logs,
    e^{theta t} factored out), the sup over a log grid of theta s from 1e-3 to 1e8."""
    log_tail = math.log(2 * stats.norm.sf(t / s))
    best = 0.0
    for a in np.geomspace(1e-3, 1e8, 200):
        th = a / s
        inner = integrate.quad(lambda w: math.exp(th * (w - t)) * stats.norm.pdf(w, scale=s), -t, t,
                               epsabs=0, epsrel=1e-10, limit=200)[0]
        lm = np.logaddexp(log_tail, th * t + math.log(inner)) if inner > 0 else log_tail
        best = max(best, 2 * lm / th ** 2)
    return math.sqrt(best)


@pytest.mark.parametrize("q", [0.002, 0.005, 0.5])
def test_truncated_proxy_is_the_supremum_down_to_small_rates(q):
    """Against a brute-force MGF: never below it (a proxy too small is no bound), and within 1e-3 above.
    Small rates put the supremum at theta s of thousands (about 2650 at q = 0.005): a grid that stops at
    1e3 gave a nu^2 six times too small there."""
    import warnings
    s = 0.7
    t = B.magnitude_threshold(s, q)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = _brute_force_proxy(s, t)
    nu = B.truncated_proxy(s, t)
    assert ref * (1 - 1e-6) <= nu <= ref * (1 + 1e-3), (nu, ref)


def test_one_layer_bound_matches_the_formula_by_hand():
    n0 = n1 = 8
    q, delta = 0.3, 0.1
    s, d = math.sqrt(2 / n0), delta / 3
    h = math.sqrt(n1 * math.log(2 / (d / n0)) / 2)
    beta2 = min(n1, q * n1 + h)
    gordon = s * (math.sqrt(n1) + math.sqrt(n0) + math.sqrt(2 * math.log(2 / d)))
    best = math.inf
    for eps in B.EPS_GRID:
        u = n0 * math.log(1 + 2 / eps) + math.log(len(B.EPS_GRID) * 2 / d)
        best = min(best, s * math.sqrt(beta2 + 2 * math.sqrt(u * beta2) + 2 * u) + eps * 2 * gordon)
    assert B.layer_gap_bound(n0, n1, "random", q, delta) == pytest.approx(best)
    detail = B.fcn_gap_bound((n0, n1), "random", q, delta, detail=True)
    assert detail["bound"] == pytest.approx(detail["per_point"] + detail["lipschitz_term"])


def test_bound_monotone_in_delta_and_method_order():
    w = (16, 64, 64, 4)
    b = [B.fcn_gap_bound(w, "random", 0.5, d) for d in (0.01, 0.05, 0.2)]
    assert b[0] > b[1] > b[2]
    assert B.fcn_gap_bound(w, "magnitude", 0.5, 0.05) < B.fcn_gap_bound(w, "random", 0.5, 0.05) \
        < B.fcn_gap_bound(w, "random_rescaled", 0.5, 0.05)


def test_conv_bound_is_the_sum_over_offsets():
    one = B.fcn_gap_bound((4, 4), "random", 0.5, 0.05 / 9, c=2.0 / 9)
    assert B.conv_gap_bound(4, 4, 3, "random", 0.5, 0.05) == pytest.approx(9 * one)


@pytest.mark.parametrize("method", B.METHODS)
def test_estimator_finds_the_exact_sup_of_a_linear_gap(method):
    """One layer: sup over the unit ball of |(W - W~) x| is the largest singular value."""
    W = B.sample_fcn([12, 9], 200, seed=3)
    P = B.prune(W, method, 0.4, seed=4, scales=B.he_scales([12, 9]))
    exact = torch.linalg.matrix_norm(W[0] - P[0], ord=2)
    est = B.sup_gap(lambda x: B.fcn_forward(W, x) - B.fcn_forward(P, x), (12,), 200)
    assert (est <= exact * (1 + 1e-5)).all()
    assert ((exact - est) / exact).max() < 0.02


def test_estimator_on_a_relu_network_with_a_known_sup():
    """f(x) = relu(u.x), f~ = 0: the sup over the ball of |f - f~| is |u|."""
    u = torch.randn(50, 1, 7, generator=torch.Generator().manual_seed(0))
    W = [u, torch.ones(50, 1, 1)]
    P = [torch.zeros_like(u), torch.ones(50, 1, 1)]
    est = B.sup_gap(lambda x: B.fcn_forward(W, x) - B.fcn_forward(P, x), (7,), 50)
    assert torch.allclose(est, u.flatten(1).norm(dim=1), rtol=1e-4)


def test_batched_forward_and_pruning():
    W = B.sample_fcn([5, 7, 3], 4, seed=0)
    x = torch.randn(4, 6, 5)
    y = B.fcn_forward(W, x)
    for b in range(4):
        ref = torch.relu(x[b] @ W[0][b].T) @ W[1][b].T
        assert torch.allclose(y[b], ref, atol=1e-6)
    big = B.sample_fcn([200, 200], 2, seed=0)
    for method in ("random", "random_rescaled"):
        P = B.prune(big, method, 0.3, seed=1)
        kept = (P[0] != 0).double().mean().item()
        assert abs(kept - 0.7) < 0.01
        vals = (P[0][P[0] != 0] / big[0][P[0] != 0]).unique()
        assert torch.allclose(vals, torch.tensor([1.0 if method == "random" else 1 / 0.7]))
    P = B.prune(big, "magnitude", 0.3, seed=0, scales=B.he_scales([200, 200]))
    assert abs((P[0] == 0).double().mean().item() - 0.3) < 0.01
    with pytest.raises(ValueError, match="'scales'"):
        B.prune(big, "magnitude", 0.3, seed=0)


def test_grouped_conv_equals_separate_convs():
    K = B.sample_conv(3, 2, 3, 4, seed=0)
    x = torch.randn(4, 5, 3, 6, 6)
    y = B.conv_forward(K, x)
    for b in range(4):
        ref = torch.nn.functional.conv2d(x[b], K[b], padding=1)
        assert torch.allclose(y[b], ref, atol=1e-5)


def test_bound_holds_on_a_small_monte_carlo():
    widths = (6, 16, 3)
    for method in B.METHODS:
        W = B.sample_fcn(widths, 300, seed=7)
        P = B.prune(W, method, 0.5, seed=8, scales=B.he_scales(widths))
        g = B.sup_gap(lambda x: B.fcn_forward(W, x) - B.fcn_forward(P, x), (6,), 300)
        assert (g > B.fcn_gap_bound(widths, method, 0.5, 0.05)).double().mean() <= 0.05


@pytest.mark.parametrize("call,match", [
    (lambda: B.fcn_gap_bound((4,), "random", 0.5, 0.05), "'widths'"),
    (lambda: B.fcn_gap_bound((4, 4), "lottery", 0.5, 0.05), "'method'"),
    (lambda: B.fcn_gap_bound((4, 4), "random", 1.0, 0.05), "'rate'"),
    (lambda: B.fcn_gap_bound((4, 4), "random", 0.5, 0.0), "'delta'"),
    (lambda: B.truncated_proxy(-1.0, 1.0), "'s'"),
    (lambda: B.sample_fcn((4, 0), 3, 0), "'widths'"),
])
def test_bad_input_names_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_tiny_experiment_run_and_claims():
    kw = dict(input_dim=4, output_dim=2, width=8, widths=[8, 16], depths=[1], rates=[0.3, 0.6], deltas=[0.1],
              conv_channels=2, conv_size=4, targets=20, samples=8, starts=2, steps=3, layer_inputs=[4, 32],
              layer_outputs=4, device="cpu")
    a, b = bounds_exp.run(**kw), bounds_exp.run(**kw)
    assert a["sweeps"] == b["sweeps"]
    assert set(a["sweeps"]) == {"width", "depth", "rate", "conv", "layer"}
    assert len(a["sweeps"]["rate"]["magnitude"]) == 2
    layer = a["sweeps"]["layer"]
    assert len(layer["random"]) == 4 and "gordon" in layer["random"][0]["count"]
    assert "gordon" not in layer["magnitude"][0]["count"]
    # the mutant bound is below the theorem's, so it is exceeded at least as often, and on 32 inputs by most
    for rows in layer.values():
        for row in rows:
            assert row["count"]["mutant"]["0.1"] >= row["count"]["theorem"]["0.1"]
    assert layer["random"][-1]["count"]["mutant"]["0.1"] > 10
    assert len(evaluate(bounds_exp.CLAIMS, a)) == len(bounds_exp.CLAIMS)


def test_exact_layer_gap_is_the_operator_norm_and_sup_gap_stays_below_it():
    W = B.sample_fcn([12, 5], 20, seed=3)
    P = B.prune(W, "random", 0.5, seed=4)
    exact = B.exact_layer_gap(W, P)
    est = B.sup_gap(lambda x: B.fcn_forward(W, x) - B.fcn_forward(P, x), (12,), 20, samples=64, starts=4, steps=30)
    assert torch.all(est.double() <= exact * (1 + 1e-5))
    assert torch.all(est.double() >= 0.9 * exact)       # one layer: gradient ascent finds the top singular vector
    with pytest.raises(ValueError, match="weights"):
        B.exact_layer_gap(W + W, P)


def test_the_mutant_bound_drops_the_net_and_is_below_the_theorem():
    for method in B.METHODS:
        full = B.fcn_gap_bound([16, 32, 4], method, 0.5, 0.05, detail=True)
        mut = B.fcn_gap_bound([16, 32, 4], method, 0.5, 0.05, detail=True, input_net=False)
        assert mut["lipschitz_term"] == 0.0 and mut["eps"] is None
        assert mut["bound"] < full["per_point"] < full["bound"]
    with pytest.raises(ValueError, match="input_net"):
        B.fcn_gap_bound([4, 4], "random", 0.5, 0.05, input_net="no")


def test_gordon_and_blind_bounds():
    # Gordon ignores the count of removed weights: the same for every rate without rescaling
    assert B.gordon_gap_bound(16, 16, "random", 0.1, 0.05) == B.gordon_gap_bound(16, 16, "random", 0.9, 0.05)
    # and it holds: exact gaps of random pruning exceed it rarely
    W = B.sample_fcn([16, 16], 400, seed=5)
    g = B.exact_layer_gap(W, B.prune(W, "random", 0.5, seed=6))
    assert (g > B.gordon_gap_bound(16, 16, "random", 0.5, 0.05)).double().mean() <= 0.05
    with pytest.raises(ValueError, match="method"):
        B.gordon_gap_bound(16, 16, "magnitude", 0.5, 0.05)
    # blind bound on one layer: Gordon's bounds on ||W|| and on ||W~|| at delta / 2 each, added
    sc = math.sqrt(2 / 16)
    w = B.operator_norm_bound(16, 16, sc, 0.025)
    assert B.blind_gap_bound((16, 16), "random", 0.5, 0.05) == pytest.approx(2 * w)
    assert B.blind_gap_bound((16, 16), "random_rescaled", 0.75, 0.05) == pytest.approx(
        w + B.operator_norm_bound(16, 16, sc, 0.025, a_max=4.0))
    assert B.blind_gap_bound((16, 16), "magnitude", 0.5, 0.05) == pytest.approx(
        2 * w + B.magnitude_threshold(sc, 0.5) * 16)


def test_exceedance_allowance_is_the_binomial_critical_count():
    from scipy import stats
    k = B.exceedance_allowance(500, 0.05, 0.001)
    assert stats.binom.sf(k, 500, 0.05) <= 0.001 < stats.binom.sf(k - 1, 500, 0.05)
    with pytest.raises(ValueError, match="level"):
        B.exceedance_allowance(500, 0.05, 0.0)


def test_the_gap_search_runs_its_targets_in_chunks_that_fit():
    """Chapter 03's paper profile drew 2,000 targets of 4,096-wide networks at once (134 GB): targets now run in
    chunks of at most ``chunk_mb``; a setting that fits in one chunk keeps its seeds and results."""
    from pruning_utils.experiments import bounds as bx
    from pruning_utils.meter import measure_steps
    from pruning_utils.params import validate

    p = validate({"targets": 50, "samples": 4, "starts": 1, "steps": 1}, bx.SCHEMA)
    per = bx._fcn_target_bytes(p, [16, 64, 4])
    assert bx._chunks(p, per, 7) == [(50, 7)]                           # fits: one chunk, the setting's seed
    small = {**p, "chunk_mb": 1}
    chunks = bx._chunks(small, 300_000, 7)
    assert sum(n for n, _ in chunks) == 50 and len(chunks) == 17 and chunks[0] == (3, 7)
    assert len({s for _, s in chunks}) == len(chunks)                   # a seed of its own per chunk
    one = bx._setting(p, [16, 64, 4], "random", 0.5, 11, "cpu")
    again = bx._setting({**p, "chunk_mb": 10**6}, [16, 64, 4], "random", 0.5, 11, "cpu")
    assert one == again
    with measure_steps() as m:
        split = bx._setting({**p, "chunk_mb": 1, "samples": 2000}, [16, 64, 4], "random", 0.5, 11, "cpu")
    assert split["n"] == 50 and m.groups[bx.GAP_SEARCH]["calls"] > 1
    assert m.structures[bx.STRUCTURE] < 2 * 1024 ** 2
