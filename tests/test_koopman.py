"""Tests for pruning_utils.koopman: exact DMD by the method of snapshots against
known dynamics and against a thin-SVD DMD, Koopman magnitude / gradient
pruning on systems whose fixed point and gradient are known, and the
snapshot recorder inside the training loop."""

import math

import numpy as np
import pytest
import torch

from pruning_utils import koopman
from pruning_utils.data import load_dataset
from pruning_utils.koopman import (SnapshotRecorder, dmd, dmd_decomposition, flatten_weights, kgp_scores,
                                   kmp_scores, koopman_fixed_point, unflatten)
from pruning_utils.masks import apply_masks, effective_weights, masks_from_scores
from pruning_utils.models import build_model, prunable_layers
from pruning_utils.scores import magnitude_scores
from pruning_utils.train import Callback, TrainConfig, train


def gen(seed):
    return torch.Generator().manual_seed(seed)


def trajectory(eigs, coefs, T, N=1000, seed=0, dtype=torch.float64):
    """x_t = sum_j c_j mu_j^t v_j for real mu_j; returns (snapshots (T, N), V (N, k))."""
    V = torch.randn(N, len(eigs), generator=gen(seed), dtype=torch.float64)
    t = torch.arange(T, dtype=torch.float64)[:, None]
    mu = torch.tensor(eigs, dtype=torch.float64)
    S = (mu ** t * torch.tensor(coefs, dtype=torch.float64)) @ V.T
    return S.to(dtype), V


def abs_cos(a, b):
    a, b = a.to(torch.complex128).cpu(), b.to(torch.complex128).cpu()
    return float((torch.vdot(a, b).abs() / (a.norm() * b.norm())))


def match(found, expected):
    """Largest distance from an expected eigenvalue to the nearest found one, and vice versa."""
    f = torch.as_tensor(found, dtype=torch.complex128).cpu()
    e = torch.as_tensor(expected, dtype=torch.complex128).cpu()
    d = (f[:, None] - e[None, :]).abs()
    return max(float(d.min(0).values.max()), float(d.min(1).values.max()))


# ---------------------------------------------------------------------------
# DMD against known dynamics


def test_real_eigenvalues_modes_amplitudes_reconstruction():
    eigs, coefs = [1.0, 0.9, 0.5], [2.0, -1.0, 3.0]
    S, V = trajectory(eigs, coefs, T=20)
    d = dmd_decomposition(S)
    assert d.rank == 3 and d.eigvals.dtype == torch.complex128 and d.modes.dtype == torch.complex128
    assert d.modes.shape == (1000, 3) and d.amplitudes.shape == (3,) and d.singular_values.shape == (19,)
    # sorted by decreasing modulus, so in the order given
    assert torch.allclose(d.eigvals, torch.tensor(eigs, dtype=torch.complex128), rtol=0, atol=1e-8)
    assert d.eigvals.imag.abs().max() < 1e-12
    for j in range(3):
        assert abs_cos(d.modes[:, j], V[:, j]) > 1 - 1e-8
        # the amplitude times the mode is the mode's exact contribution c_j v_j at t = 0
        contrib = (d.amplitudes[j] * d.modes[:, j]).real
        assert torch.allclose(contrib, coefs[j] * V[:, j], rtol=0, atol=1e-8 * V.abs().max())
    rec = d.reconstruct(range(20))
    assert rec.shape == (20, 1000)
    assert float((rec - S).abs().max()) < 1e-9 * float(S.abs().max())
    assert torch.allclose(d.reconstruct(7), S[7], rtol=0, atol=1e-9 * float(S.abs().max()))
    eigvals, modes = dmd(S)
    assert torch.equal(eigvals, d.eigvals) and torch.equal(modes, d.modes)
    # numpy input works the same
    e_np, _ = dmd(S.numpy())
    assert torch.equal(e_np, d.eigvals)


def test_complex_pair_rotation_contraction():
    N, T, rho, omega = 800, 25, 0.95, 0.3
    g = gen(1)
    z = torch.complex(*torch.randn(2, N, generator=g, dtype=torch.float64))
    theta = torch.randn(N, generator=g, dtype=torch.float64)
    v = torch.randn(N, generator=g, dtype=torch.float64)
    lam = rho * complex(math.cos(omega), math.sin(omega))
    S = torch.stack([theta + 2 * (z * lam ** t).real + 0.7 ** t * v for t in range(T)])
    d = dmd_decomposition(S)
    assert d.rank == 4
    assert match(d.eigvals, [1.0, lam, lam.conjugate(), 0.7]) < 1e-8
    pos = int(torch.argmin((d.eigvals - lam).abs()))
    assert abs(abs(complex(d.eigvals[pos])) - rho) < 1e-9
    assert abs(np.angle(complex(d.eigvals[pos])) - omega) < 1e-9
    # the pair is adjacent, positive imaginary part first, with conjugate modes
    assert d.eigvals[pos].imag > 0 and torch.equal(d.eigvals[pos + 1], d.eigvals[pos].conj())
    assert torch.allclose(d.modes[:, pos + 1], d.modes[:, pos].conj())
    assert abs_cos(d.modes[:, pos], z) > 1 - 1e-8
    # the pair's amplitudes reproduce z: b phi = z at t = 0
    assert torch.allclose(d.amplitudes[pos] * d.modes[:, pos], z, rtol=0, atol=1e-8)
    assert float((d.reconstruct(list(range(T))) - S).abs().max()) < 1e-9


def test_rank_deficient_snapshots():
    S, _ = trajectory([1.0, 0.8, 0.6], [1.0, 2.0, -1.5], T=30, N=500, seed=2)
    d = dmd_decomposition(S)
    assert d.rank == 3 and d.eigvals.shape == (3,)
    rel = d.singular_values / d.singular_values[0]
    assert float(rel[3]) < 1e-7 < float(rel[2])
    assert match(d.eigvals, [1.0, 0.8, 0.6]) < 1e-8
    e2, m2 = dmd(S, rank=2)
    assert e2.shape == (2,) and m2.shape == (500, 2)
    with pytest.warns(RuntimeWarning, match="numerical rank 3"):
        e5, _ = dmd(S, rank=5)
    assert e5.shape == (5,)
    # an explicit rtol can only lower the rank
    assert dmd(S, rtol=0.5)[0].shape[0] < 3


def test_float32_snapshots():
    S, V = trajectory([1.0, 0.9, 0.5], [2.0, -1.0, 3.0], T=20, dtype=torch.float32)
    eigvals, modes = dmd(S)
    assert eigvals.dtype == torch.complex128 and modes.dtype == torch.complex64
    assert eigvals.shape == (3,)
    assert float((eigvals - torch.tensor([1.0, 0.9, 0.5], dtype=torch.complex128)).abs().max()) < 1e-5
    for j in range(3):
        assert abs_cos(modes[:, j], V[:, j]) > 1 - 1e-5


def test_chunked_gram_matches_one_product(monkeypatch):
    S, _ = trajectory([1.0, 0.9, 0.5, 0.3], [1.0, 1.0, 1.0, 1.0], T=12, N=1000, seed=3)
    S32 = S.float()
    ref = dmd_decomposition(S32)
    monkeypatch.setattr(koopman, "GRAM_CHUNK", 7)  # chunks that do not divide N
    monkeypatch.setattr(koopman, "MODE_CHUNK", 13)
    small = dmd_decomposition(S32)
    assert torch.allclose(small.eigvals, ref.eigvals, rtol=0, atol=1e-10)
    assert torch.allclose(small.modes, ref.modes, rtol=1e-5, atol=1e-5 * float(ref.modes.abs().max()))
    assert torch.allclose(kmp_scores(S32).double(), kmp_scores(S).double(), rtol=1e-5, atol=1e-6)


def svd_dmd(S, r):
    """Textbook exact DMD (Tu et al. 2014) by a thin SVD of X, in numpy."""
    S = S.numpy()
    X, Y = S[:-1].T, S[1:].T
    U, s, Vh = np.linalg.svd(X, full_matrices=False)
    U, s, V = U[:, :r], s[:r], Vh[:r].conj().T
    At = U.conj().T @ Y @ V / s
    lam, W = np.linalg.eig(At)
    return lam, (Y @ V / s) @ W / lam


def test_agrees_with_thin_svd_dmd():
    g = gen(4)
    T, N, k = 16, 600, 9
    S = torch.randn(T, k, generator=g, dtype=torch.float64) @ torch.randn(k, N, generator=g, dtype=torch.float64)
    lam_ref, modes_ref = svd_dmd(S, k)
    eigvals, modes = dmd(S)  # numerical rank = k
    assert eigvals.shape == (k,)
    assert match(eigvals, lam_ref) < 1e-8
    for i in range(k):
        j = int(np.argmin(np.abs(lam_ref - complex(eigvals[i]))))
        assert abs_cos(modes[:, i], torch.from_numpy(modes_ref[:, j])) > 1 - 1e-8
    # full-rank data, explicit rank: same truncation, same eigenvalues
    S = torch.randn(T, N, generator=g, dtype=torch.float64)
    lam_ref, _ = svd_dmd(S, 10)
    assert match(dmd(S, rank=10)[0], lam_ref) < 1e-8


# ---------------------------------------------------------------------------
# KMP and KGP


def affine_contraction(N=1000, T=25, seed=5):
    """x_t = theta* + A^t (x_0 - theta*), A of rank 4 with a real pair and a complex pair."""
    g = gen(seed)
    theta = torch.randn(N, generator=g, dtype=torch.float64)
    Q = torch.randn(N, 4, generator=g, dtype=torch.float64)
    rho, om = 0.85, 0.4
    B = torch.tensor([[0.9, 0, 0, 0], [0, 0.6, 0, 0],
                      [0, 0, rho * math.cos(om), -rho * math.sin(om)],
                      [0, 0, rho * math.sin(om), rho * math.cos(om)]], dtype=torch.float64)
    A = Q @ B @ torch.linalg.pinv(Q)  # rank 4; x_0 - theta* also has a part in A's null space
    x = theta + 3 * torch.randn(N, generator=g, dtype=torch.float64)
    S = [x]
    for _ in range(T - 1):
        x = theta + A @ (x - theta)
        S.append(x)
    eigs = [1.0, 0.9, 0.6, rho * complex(math.cos(om), math.sin(om)), rho * complex(math.cos(om), -math.sin(om)), 0.0]
    return torch.stack(S), theta, eigs


def test_kmp_recovers_fixed_point_of_affine_contraction():
    S, theta, eigs = affine_contraction()
    d = dmd_decomposition(S)
    # theta*, 4 decaying modes and the null-space part of x_0 (eigenvalue 0, present only at t = 0)
    assert d.rank == 6 and match(d.eigvals, eigs) < 1e-8
    assert float((d.reconstruct(0) - S[0]).abs().max()) < 1e-9  # the projected mode of eigenvalue 0
    assert float((d.reconstruct(list(range(len(S)))) - S).abs().max()) < 1e-9
    fp = koopman_fixed_point(S)
    assert fp.shape == theta.shape and fp.dtype == torch.float64
    assert float((fp - theta).abs().max()) < 1e-9 * float(theta.abs().max())
    kmp = kmp_scores(S)
    assert bool((kmp >= 0).all()) and torch.allclose(kmp, theta.abs(), rtol=0, atol=1e-9)
    for s in (0.5, 0.9):
        assert torch.equal(masks_from_scores({"w": kmp}, s)["w"], masks_from_scores({"w": theta.abs()}, s)["w"])
    # the last snapshot is not yet theta*: plain magnitude pruning of it gives another mask
    assert not torch.equal(masks_from_scores({"w": S[-1].abs()}, 0.9)["w"],
                           masks_from_scores({"w": theta.abs()}, 0.9)["w"])
    # float32 snapshots: the same fixed point to float32 accuracy
    fp32 = koopman_fixed_point(S.float())
    assert fp32.dtype == torch.float32
    assert float((fp32.double() - theta).abs().max()) < 1e-4 * float(theta.abs().max())


def test_fixed_point_of_complex_nearest_eigenvalue_doubles_the_pair():
    N, T = 500, 30
    g = gen(6)
    z = torch.complex(*torch.randn(2, N, generator=g, dtype=torch.float64))
    v = torch.randn(N, generator=g, dtype=torch.float64)
    lam = 0.99 * complex(math.cos(0.05), math.sin(0.05))  # nearest 1, complex
    S = torch.stack([2 * (z * lam ** t).real + 0.5 ** t * v for t in range(T)])
    fp = koopman_fixed_point(S)
    assert torch.allclose(fp, 2 * z.real, rtol=0, atol=1e-8)  # = the pair's joint contribution at t = 0


def gradient_descent(N=1000, T=20, eta=0.1, seed=7):
    """GD on L = 0.5 (x - theta*)^T H (x - theta*), H diagonal with 4 distinct curvatures."""
    g = gen(seed)
    theta = torch.randn(N, generator=g, dtype=torch.float64)
    h = torch.tensor([0.5, 1.0, 2.0, 4.0], dtype=torch.float64)[torch.randint(0, 4, (N,), generator=g)]
    x = theta + torch.randn(N, generator=g, dtype=torch.float64)
    S = []
    for _ in range(T):
        S.append(x)
        x = x - eta * h * (x - theta)
    S = torch.stack(S)
    return S, (S - theta) * h, eta  # snapshots, gradients at every snapshot, step size


def test_kgp_is_gradient_pruning_on_gradient_descent():
    S, grads, eta = gradient_descent()
    T = S.shape[0]
    assert dmd(S)[0].shape == (5,)  # theta* and one mode per curvature
    delta = kgp_scores(S, weighted=False)
    assert torch.allclose(delta, (eta * grads[-1]).abs(), rtol=0, atol=1e-10)
    ref = (S[-1] * eta * grads[-1]).abs()
    kgp = kgp_scores(S)
    assert torch.allclose(kgp, ref, rtol=0, atol=1e-10)
    for s in (0.5, 0.9):
        assert torch.equal(masks_from_scores({"w": kgp}, s)["w"],
                           masks_from_scores({"w": (S[-1] * grads[-1]).abs()}, s)["w"])
    # any time t: the predicted increment is x_{t+1} - x_t
    assert torch.allclose(kgp_scores(S, t=5, weighted=False), (S[6] - S[5]).abs(), rtol=0, atol=1e-10)
    assert torch.allclose(kgp_scores(S, t=3), (S[3] * (S[4] - S[3])).abs(), rtol=0, atol=1e-10)
    # KGP differs from KMP (different criteria)
    assert not torch.equal(masks_from_scores({"w": kgp}, 0.5)["w"], masks_from_scores({"w": kmp_scores(S)}, 0.5)["w"])
    assert kgp_scores(S, t=T - 1).shape == (S.shape[1],)


# ---------------------------------------------------------------------------
# recording during training

SYN = dict(n=256, dim=20, classes=4)
TCFG = TrainConfig(epochs=2, batch_size=32, lr=0.05, momentum=0.9, seed=0, eval_every=0)  # 16 steps


def mlp():
    return build_model("mlp", input_shape=(1, 1, 20), hidden=(32, 16), num_classes=4, seed=0)


@pytest.fixture(scope="module")
def data():
    return load_dataset("synthetic", **SYN)


class Saver(Callback):
    """Keeps flatten_weights of the model after every step (and at the start)."""

    def __init__(self):
        self.saved = {}

    def on_train_start(self, s):
        self.saved[s.step] = flatten_weights(s.model).clone()

    def on_step_end(self, s):
        self.saved[s.step] = flatten_weights(s.model).clone()


def test_recorder_rows_equal_the_weights_at_those_steps(data):
    net = mlp()
    n = sum(w.numel() for w in effective_weights(net).values())
    a = SnapshotRecorder(net, start_step=0, length=5)
    b = SnapshotRecorder(net, start_step=3, length=4, every=2)
    c = SnapshotRecorder(net, start_step=10, length=20)  # longer than the run: never full
    ptrs = [r.buffer.data_ptr() for r in (a, b, c)]
    assert a.buffer.shape == (5, n) and a.buffer.dtype == torch.float32 and a.buffer.device == torch.device("cpu")
    assert a.snapshots.shape == (0, n) and a.steps == [] and not a.full
    saver = Saver()
    train(net, data, TCFG, callbacks=[a, b, c, saver])
    assert a.full and a.steps == [0, 1, 2, 3, 4]
    assert b.full and b.steps == [3, 5, 7, 9]
    assert not c.full and c.steps == list(range(10, 17)) and c.snapshots.shape == (7, n)
    for r in (a, b, c):
        assert r.snapshots.data_ptr() == r.buffer.data_ptr()
        for row, step in zip(r.snapshots, r.steps):
            assert torch.equal(row, saver.saved[step])
    assert [r.buffer.data_ptr() for r in (a, b, c)] == ptrs  # allocated once
    assert not torch.equal(a.snapshots[0], a.snapshots[-1])  # the weights did move
    # unflatten: keyed and shaped like masks; round trip with the module-level helpers
    parts = a.unflatten(a.snapshots[-1])
    assert list(parts) == list(prunable_layers(net)) == ["0.weight", "2.weight", "4.weight"]
    assert all(parts[k].shape == w.shape for k, w in effective_weights(net).items())
    assert torch.equal(torch.cat([p.reshape(-1) for p in parts.values()]), a.snapshots[-1])
    now = unflatten(flatten_weights(net), net)
    assert all(torch.equal(now[k], w) for k, w in effective_weights(net).items())
    # the intended use: scores from the trajectory -> masks of the model
    masks = masks_from_scores(a.unflatten(kmp_scores(a.snapshots)), 0.5)
    assert sum(int((~m).sum()) for m in masks.values()) == round(0.5 * n)
    apply_masks(net, masks)


def test_recorder_records_masked_weights_as_zero(data):
    net = mlp()
    masks = masks_from_scores(magnitude_scores(net), 0.6)
    apply_masks(net, masks)
    rec = SnapshotRecorder(net, start_step=4, length=3, every=3, dtype=torch.float64)
    saver = Saver()
    train(net, data, TCFG, callbacks=[rec, saver], stop_step=12)
    assert rec.steps == [4, 7, 10] and rec.buffer.dtype == torch.float64
    removed = ~torch.cat([m.reshape(-1) for m in masks.values()])
    assert bool((rec.snapshots[:, removed] == 0).all())
    assert bool((rec.snapshots[:, ~removed] != 0).all())
    for row, step in zip(rec.snapshots, rec.steps):
        assert torch.equal(row, saver.saved[step].double())
    # kept names and shapes even though the layers now hold weight_orig / weight_mask
    assert all(v.shape == masks[k].shape for k, v in rec.unflatten(rec.snapshots[0]).items())


def test_recorder_across_train_calls_and_gaps(data):
    net = mlp()
    rec = SnapshotRecorder(net, start_step=2, length=6)
    train(net, data, TCFG, callbacks=[rec], stop_step=4)
    assert rec.steps == [2, 3, 4]
    train(net, data, TCFG, callbacks=[rec], start_step=4, stop_step=9)  # step 4 is not recorded twice
    assert rec.steps == [2, 3, 4, 5, 6, 7] and rec.full
    late = SnapshotRecorder(net, start_step=2, length=3)
    with pytest.raises(RuntimeError, match="after step 2"):
        train(net, data, TCFG, callbacks=[late], start_step=5)
    rec.reset()
    assert rec.steps == [] and not rec.full and rec.next_step == 2


def test_recorder_bad_arguments():
    net = mlp()
    for kwargs, name in ((dict(start_step=-1, length=3), "start_step"), (dict(start_step=0, length=1), "length"),
                         (dict(start_step=0, length=3, every=0), "every"),
                         (dict(start_step=1.5, length=3), "start_step"),
                         (dict(start_step=0, length=True), "length"),
                         (dict(start_step=0, length=3, dtype=torch.int64), "dtype"),
                         (dict(start_step=0, length=3, device="gpu:x"), "device")):
        with pytest.raises(ValueError, match=name):
            SnapshotRecorder(net, **kwargs)
    with pytest.raises(ValueError, match="model"):
        SnapshotRecorder(torch.nn.ReLU(), 0, 3)
    rec = SnapshotRecorder(net, 0, 3)
    with pytest.raises(ValueError, match="vec"):
        rec.unflatten(torch.zeros(5))
    with pytest.raises(ValueError, match="vec"):
        unflatten(torch.zeros(2, 3), net)


# ---------------------------------------------------------------------------
# validation


def test_bad_inputs_raise_naming_the_parameter():
    S, _ = trajectory([1.0, 0.5], [1.0, 1.0], T=6, N=50)
    bad = S.clone()
    bad[2, 3] = float("nan")
    inf = S.clone()
    inf[0, 0] = float("inf")
    for args, kwargs, name in (((S[0],), {}, "snapshots"), ((S[:1],), {}, "snapshots"),
                               ((bad,), {}, "snapshots"), ((inf,), {}, "snapshots"),
                               ((S.to(torch.complex128),), {}, "snapshots"), (([[1.0, 2.0]],), {}, "snapshots"),
                               ((S,), dict(rank=0), "rank"), ((S,), dict(rank=6), "rank"),
                               ((S,), dict(rank=2.0), "rank"), ((S,), dict(rank=True), "rank"),
                               ((S,), dict(rtol=-1.0), "rtol"), ((torch.zeros(4, 10),), {}, "snapshots")):
        for f in (dmd, kmp_scores, kgp_scores):
            with pytest.raises(ValueError, match=name):
                f(*args, **kwargs)
    with pytest.raises(ValueError, match="NaN"):
        dmd(bad)
    with pytest.raises(ValueError, match="rank"):  # only 2 non-zero singular values
        dmd(S, rank=4)
    with pytest.raises(ValueError, match="'t'"):
        kgp_scores(S, t=-1)
    with pytest.raises(ValueError, match="weighted"):
        kgp_scores(S, weighted="yes")
    with pytest.raises(ValueError, match="'t'"):
        dmd_decomposition(S).reconstruct(-2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    S, theta, _ = affine_contraction()
    for dtype in (torch.float64, torch.float32):
        cpu = dmd_decomposition(S.to(dtype))
        gpu = dmd_decomposition(S.to(dtype).cuda())
        assert gpu.modes.is_cuda and gpu.eigvals.is_cuda
        assert match(gpu.eigvals, cpu.eigvals) < (1e-8 if dtype == torch.float64 else 1e-5)
        assert kmp_scores(S.to(dtype).cuda()).is_cuda
        assert torch.allclose(kmp_scores(S.to(dtype).cuda()).cpu().double(), theta.abs(), atol=1e-4)


# ---------------------------------------------------------------------------
# precision floor, null models, trivial estimators


def test_float32_noise_floor_matches_the_measured_rounding_error():
    g = torch.Generator().manual_seed(3)
    S64 = 1.0 + 0.3 * torch.randn(25, 40_000, generator=g, dtype=torch.float64)
    S32 = S64.float()
    E = (S32.double() - S64)[:-1]                      # the rounding error of X, exactly
    measured = torch.linalg.matrix_norm(E, ord=2).item()
    floor = koopman.float32_noise_floor(S32)
    assert 0.8 < floor / measured < 1.25


def test_random_walk_null_has_the_increment_statistics():
    g = torch.Generator().manual_seed(4)
    T, N = 200, 500
    mu, sd = 0.01 * torch.randn(N, generator=g), 0.1 + torch.rand(N, generator=g)
    S = torch.cumsum(mu + sd * torch.randn(T, N, generator=g), 0)
    W = koopman.random_walk_like(S, seed=1)
    assert W.shape == S.shape and torch.equal(W[0], S[0])
    d = W[1:] - W[:-1]
    dr = S[1:] - S[:-1]
    assert torch.allclose(d.std(0), dr.std(0), rtol=0.25)
    assert (d.mean(0) - dr.mean(0)).abs().max() < 4 * dr.std(0).max() / (T - 1) ** 0.5
    assert not torch.equal(W, koopman.random_walk_like(S, seed=2))
    assert torch.equal(W, koopman.random_walk_like(S, seed=1))


def test_shuffled_increments_keep_the_steps_and_the_end_point():
    S = torch.cumsum(torch.randn(30, 50, generator=torch.Generator().manual_seed(5), dtype=torch.float64), 0)
    P = koopman.shuffled_increments(S, seed=0)
    assert torch.equal(P[0], S[0])
    assert torch.allclose(P[-1], S[-1], atol=1e-12)
    a = torch.sort((S[1:] - S[:-1])[:, 0]).values
    b = torch.sort((P[1:] - P[:-1])[:, 0]).values
    assert torch.allclose(a, b, atol=1e-12)
    assert not torch.allclose(P, S)


def test_mean_and_linear_extrapolation():
    t = torch.arange(10, dtype=torch.float64)[:, None]
    S = 2.0 + 3.0 * t * torch.ones(1, 4, dtype=torch.float64)   # a straight line
    assert torch.allclose(koopman.window_mean(S), torch.full((4,), 2.0 + 3.0 * 4.5, dtype=torch.float64))
    assert torch.allclose(koopman.linear_extrapolation(S, horizon=5), torch.full((4,), 2.0 + 3.0 * 14,
                                                                                   dtype=torch.float64))
    assert torch.allclose(koopman.linear_extrapolation(S, horizon=5, last=2), koopman.linear_extrapolation(S, 5))
    with pytest.raises(ValueError, match="'last'"):
        koopman.linear_extrapolation(S, 5, last=10)
    with pytest.raises(ValueError, match="'horizon'"):
        koopman.linear_extrapolation(S, -1)
    with pytest.raises(ValueError, match="'seed'"):
        koopman.random_walk_like(S, seed="a")
