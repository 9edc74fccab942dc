"""pruning_utils.eoc, the new scores and the collapse check."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from torch import nn

from pruning_utils import eoc
from pruning_utils.masks import apply_masks, collapse_report, masks_from_scores, sparsity_report
from pruning_utils.models import build_model, prunable_layers
from pruning_utils.scores import class_balanced_batch, grasp_scores, random_scores, snip_scores, synflow_scores


# ---------------------------------------------------------------------------
# the edge of chaos


def test_edge_of_chaos_values():
    sw, q = eoc.edge_of_chaos("tanh", 0.2)
    assert abs(sw - 1.3041) < 1e-3 and q > 0
    assert abs(eoc.chi("tanh", sw, 0.2) - 1) < 1e-9
    # the authors' hard-coded value sits just inside the ordered phase
    assert abs(eoc.chi("tanh", 1.2981, 0.2) - 0.9967) < 1e-4
    sw_elu, _ = eoc.edge_of_chaos("elu", 0.2)
    assert abs(sw_elu - 1.2293) < 1e-3
    assert abs(eoc.chi("elu", 1.22459, 0.2) - 0.9972) < 1e-4
    sw_relu, q_relu = eoc.edge_of_chaos("relu", 0.0)
    assert sw_relu == math.sqrt(2.0) and q_relu == 0.0  # the closed form sigma_w^2 = 2, not a root-finder
    assert eoc.edge_of_chaos("relu", 0.3)[1] == math.inf
    # tanh without biases: the classical sigma_w = 1, q* = 0
    sw0, q0 = eoc.edge_of_chaos("tanh", 0.0)
    assert abs(sw0 - 1) < 1e-9 and q0 == 0.0


def test_fixed_point_and_maps():
    sw, q = eoc.edge_of_chaos("tanh", 0.2)
    assert eoc.variance_map("tanh", sw, 0.2, q) == pytest.approx(q, rel=1e-10)
    # c = 1 is a fixed point of the correlation map; at the edge its slope there is 1
    assert eoc.correlation_map("tanh", sw, 0.2, 1.0) == pytest.approx(1.0, abs=1e-8)
    h = 1e-4
    slope = (eoc.correlation_map("tanh", sw, 0.2, 1.0) - eoc.correlation_map("tanh", sw, 0.2, 1 - h)) / h
    assert slope == pytest.approx(1.0, abs=5e-3)
    # ReLU's correlation map against the arc-cosine kernel's closed form (Cho and Saul): split at the kinks, the
    # quadrature is exact to roundoff; one Gauss-Hermite rule across the kink was off by about 2e-3
    sw_r, sb_r = 1.2, 0.5
    qr = eoc.q_star("relu", sw_r, sb_r)
    for c in (-1.0, -0.7, -0.2, 0.0, 0.3, 0.8, 0.99, 0.9999, 1.0):
        e = qr / (2 * math.pi) * (math.sqrt(1 - c * c) + (math.pi - math.acos(c)) * c)
        assert eoc.correlation_map("relu", sw_r, sb_r, c) == pytest.approx((sb_r ** 2 + sw_r ** 2 * e) / qr, abs=1e-10)
    # ReLU's variance map is linear: q' = sigma_b^2 + sigma_w^2 q / 2
    assert eoc.variance_map("relu", 1.5, 0.3, 2.0) == pytest.approx(0.09 + 2.25)


def test_custom_activation_and_phases():
    pair = (lambda x: torch.tanh(torch.as_tensor(x)).numpy(), lambda x: 1 - torch.tanh(torch.as_tensor(x)).numpy() ** 2)
    assert eoc.edge_of_chaos(pair, 0.2)[0] == pytest.approx(eoc.edge_of_chaos("tanh", 0.2)[0], abs=1e-8)
    assert eoc.phase("tanh", 1.0, 1.0) == "ordered"
    assert eoc.phase("tanh", 3.0, 0.2) == "chaotic"
    assert eoc.phase("relu", math.sqrt(2), 0.0) == "edge"
    with pytest.raises(ValueError, match="'activation'"):
        eoc.edge_of_chaos("swishy", 0.2)
    with pytest.raises(ValueError, match="'sigma_b'"):
        eoc.edge_of_chaos("tanh", -1.0)
    with pytest.raises(ValueError, match="ordered phase"):
        eoc.ordered_init_(build_model("mlp", (1, 4, 4), 3, hidden=(8,)), "tanh", sigma_w=3.0, sigma_b=0.2)


def test_eoc_init_keeps_the_variance_through_depth():
    """A deep tanh MLP at the edge of chaos keeps q near q* for 30 layers; measured, not assumed."""
    sw, q = eoc.edge_of_chaos("tanh", 0.2)
    net = build_model("mlp", (1, 1, 500), 10, hidden=(500,) * 30, activation="tanh")
    eoc.eoc_init_(net, "tanh", 0.2, seed=0)
    x = torch.randn(200, 500, generator=torch.Generator().manual_seed(1)) * math.sqrt(q)
    h = x
    variances = []
    with torch.no_grad():
        for m in net:
            h = m(h)
            if isinstance(m, nn.Linear):
                variances.append(float(h.var()))
    assert all(abs(v / q - 1) < 0.15 for v in variances[5:-1])


def test_init_scales():
    net = build_model("mlp", (1, 1, 400), 10, hidden=(400,))
    eoc.init_(net, 1.5, 0.5, seed=0)
    assert float(net[0].weight.detach().var()) == pytest.approx(1.5 ** 2 / 400, rel=0.02)
    assert float(net[0].bias.detach().std()) == pytest.approx(0.5, rel=0.15)


# ---------------------------------------------------------------------------
# rescaling


def test_rescale_restores_row_norms_and_keeps_masks():
    net = build_model("mlp", (1, 1, 64), 10, hidden=(32,))
    eoc.init_(net, math.sqrt(2), 0.0, seed=0)
    masks = masks_from_scores(random_scores(net, 0), 0.8)
    apply_masks(net, masks)
    masks["0.weight"][3] = False  # a row with nothing kept stays at zero
    apply_masks(net, masks)
    eoc.rescale_(net, masks, target=2.0)
    w = net[0].weight
    norms = (w ** 2).sum(1)
    alive = masks["0.weight"].any(1)
    assert torch.allclose(norms[alive], torch.full_like(norms[alive], 2.0), rtol=1e-5)
    assert float(norms[3]) == 0.0
    assert torch.equal(net[0].weight_mask.bool(), masks["0.weight"])
    conv = nn.Sequential(nn.Conv2d(4, 3, 3))
    cm = {"0.weight": torch.rand(3, 4, 3, 3, generator=torch.Generator().manual_seed(0)) > 0.5}
    eoc.rescale_(conv, cm, target=2.0)
    kept = conv[0].weight * cm["0.weight"]
    per = (kept ** 2).sum(1)  # (out, k, k)
    nz = cm["0.weight"].any(1)
    assert torch.allclose(per[nz], torch.full_like(per[nz], 2.0 / 9), rtol=1e-5)
    with pytest.raises(ValueError, match="'masks'"):
        eoc.rescale_(net, {"nope": torch.ones(2, dtype=torch.bool)})


# ---------------------------------------------------------------------------
# scores against hand-computed gradients


def test_scores_against_hand_computed_gradients():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 2, bias=False))
    x, y = torch.randn(5, 3), torch.tensor([0, 1, 1, 0, 1])
    W = net[0].weight.detach()
    # SNIP: dL/dW of mean cross-entropy = (softmax - onehot)^T x / n
    p = torch.softmax(x @ W.T, 1)
    grad = (p - nn.functional.one_hot(y, 2).float()).T @ x / 5
    assert torch.allclose(snip_scores(net, x, y)["0.weight"], (W * grad).abs(), atol=1e-6)
    # GraSP: theta * (H g) with the Hessian of the loss in the flattened weights
    flat = W.reshape(-1).clone()
    loss = lambda v: nn.functional.cross_entropy(x @ v.view(2, 3).T, y)  # noqa: E731
    H = torch.autograd.functional.hessian(loss, flat)
    g = torch.autograd.functional.jacobian(loss, flat)
    assert torch.allclose(grasp_scores(net, x, y, temperature=1.0)["0.weight"].reshape(-1), flat * (H @ g), atol=1e-6)
    # with Wang et al.'s temperature (the default, T = 200) the logits are divided by T before the loss
    loss_t = lambda v: nn.functional.cross_entropy(x @ v.view(2, 3).T / 200.0, y)  # noqa: E731
    Ht = torch.autograd.functional.hessian(loss_t, flat)
    gt = torch.autograd.functional.jacobian(loss_t, flat)
    assert torch.allclose(grasp_scores(net, x, y)["0.weight"].reshape(-1), flat * (Ht @ gt), atol=1e-12, rtol=1e-4)
    assert not torch.allclose(grasp_scores(net, x, y)["0.weight"], grasp_scores(net, x, y, temperature=1.0)["0.weight"])
    with pytest.raises(ValueError, match="'temperature'"):
        grasp_scores(net, x, y, temperature=0)
    # SynFlow on a two-layer linear net: R = 1^T |W2| |W1| 1, dR/dW1_ij = sum_k |W2_ki|
    two = nn.Sequential(nn.Linear(3, 4, bias=False), nn.Linear(4, 2, bias=False))
    W1, W2 = two[0].weight.detach(), two[1].weight.detach()
    s = synflow_scores(two, (3,))
    assert torch.allclose(s["0.weight"], W1.abs() * W2.abs().sum(0)[:, None], atol=1e-6)
    assert torch.allclose(s["1.weight"], W2.abs() * W1.abs().sum(1)[None, :], atol=1e-6)
    # R is defined on the linearised net: a tanh net scores as its linear twin, and in a bias-free chain
    # every layer's scores sum to R (SynFlow's conservation law), however deep and saturating
    deep = build_model("mlp", (1, 1, 20), 3, hidden=(30,) * 8, activation="tanh", bias=False)
    for m in prunable_layers(deep).values():
        nn.init.normal_(m.weight, std=3.0)
    lin = build_model("mlp", (1, 1, 20), 3, hidden=(30,) * 8, activation="linear", bias=False)
    lin.load_state_dict(deep.state_dict())
    sd, sl = synflow_scores(deep, (1, 1, 20)), synflow_scores(lin, (1, 1, 20))
    sums = torch.tensor([float(v.double().sum()) for v in sd.values()])
    assert all(torch.allclose(sd[k], sl[k]) for k in sd)
    assert torch.allclose(sums, sums[0].expand_as(sums), rtol=1e-4)


def test_class_balanced_batch():
    x = torch.arange(100.0)[:, None]
    y = torch.arange(100) % 4
    xb, yb = class_balanced_batch(x, y, per_class=5, seed=0)
    assert xb.shape == (20, 1) and torch.bincount(yb).tolist() == [5, 5, 5, 5]
    assert torch.equal(xb[:, 0].long() % 4, yb)
    with pytest.raises(ValueError, match="'per_class'"):
        class_balanced_batch(x, y, per_class=26)


# ---------------------------------------------------------------------------
# the collapse check


def test_collapse_report_finds_a_cut_path():
    net = build_model("mlp", (1, 1, 6), 3, hidden=(5, 4))
    masks = {n: torch.ones_like(m.weight, dtype=torch.bool) for n, m in prunable_layers(net).items()}
    rep = collapse_report(masks)
    assert rep["passes_signal"] is True and rep["first_cut"] is None
    # cut every path: layer 2 keeps weights only from hidden units 0-1, which layer 0 no longer feeds
    masks["0.weight"][:2] = False
    masks["2.weight"][:] = False
    masks["2.weight"][:, :2] = True
    rep = collapse_report(masks)
    assert rep["collapsed"] == [] and rep["passes_signal"] is False and rep["first_cut"] == "2.weight"
    with pytest.warns(RuntimeWarning, match="no path"):
        sparsity_report(masks)
    masks["4.weight"][:] = False
    with pytest.warns(RuntimeWarning, match="no weight kept in 4.weight"):
        sparsity_report(masks)
    # a residual network's masks do not chain: only empty layers are reported
    res = build_model("resnet20", (3, 32, 32), 10)
    rm = {n: torch.ones_like(m.weight, dtype=torch.bool) for n, m in prunable_layers(res).items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sparsity_report(rm)


def test_synflow_masks_iterate_and_avoid_the_one_shot_collapse():
    from pruning_utils.scores import synflow_masks
    net = build_model("mlp", (1, 1, 400), 10, seed=0, hidden=(40,) * 4)
    one = masks_from_scores(synflow_scores(net, (1, 1, 400)), 0.97)
    many = synflow_masks(net, (1, 1, 400), 0.97, rounds=50)
    total = sum(m.numel() for m in many.values())
    assert sum(int((~m).sum()) for m in many.values()) == round(0.97 * total)
    assert collapse_report(one)["passes_signal"] is False       # one round empties the 400-input layer
    assert collapse_report(many)["passes_signal"] is True
    assert synflow_masks(net, (1, 1, 400), 0.97, rounds=1).keys() == one.keys()
    assert all(torch.equal(a, b) for a, b in zip(synflow_masks(net, (1, 1, 400), 0.97, rounds=1).values(),
                                                 one.values()))
    assert not hasattr(prunable_layers(net)["0.weight"], "weight_mask")      # the model is not changed
    with pytest.raises(ValueError, match="'rounds'"):
        synflow_masks(net, (1, 1, 400), 0.9, rounds=0)
    # inverted (Frankle et al.): every round keeps the lowest scores; one round is the one-shot ranking reversed
    inv = synflow_masks(net, (1, 1, 400), 0.97, rounds=1, invert=True)
    low = masks_from_scores({n: -v for n, v in synflow_scores(net, (1, 1, 400)).items()}, 0.97)
    assert all(torch.equal(a, b) for a, b in zip(inv.values(), low.values()))
    inv50 = synflow_masks(net, (1, 1, 400), 0.97, rounds=50, invert=True)
    assert sum(int(m.sum()) for m in inv50.values()) == sum(int(m.sum()) for m in many.values())
    assert sum(int((a & b).sum()) for a, b in zip(inv50.values(), many.values())) < \
        0.2 * sum(int(m.sum()) for m in many.values())
    with pytest.raises(ValueError, match="'invert'"):
        synflow_masks(net, (1, 1, 400), 0.9, invert="yes")
