"""pruning_utils.spline: codes, distances, detectors, structured masks, the spline criterion, FLOPs."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from pruning_utils import spline
from pruning_utils.claims import evaluate
from pruning_utils.experiments import spline as spline_exp
from pruning_utils.masks import apply_masks
from pruning_utils.models import build_model


def _mlp(seed=0, hidden=(16, 8)):
    return build_model("mlp", (1, 4, 4), 3, seed=seed, hidden=hidden, batchnorm=True)


def _x(n=300, seed=0):
    return torch.randn(n, 1, 4, 4, generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------------------
# codes and distance


def test_codes_are_the_signs_of_the_batchnorm_outputs_and_pack_round_trip():
    net = _mlp().eval()
    x = _x()
    codes = spline.activation_codes(net, x, batch_size=64)   # several batches
    assert codes.units == {"1": 16, "4": 8} and codes.n == 300
    with torch.no_grad():
        h1 = net[1](net[0](x.flatten(1)))
    assert torch.equal(codes.unpack("1"), h1 > 0)
    assert codes.packed["1"].dtype == torch.uint8 and codes.packed["1"].shape == (300, 2)


def test_codes_restore_training_mode_and_read_relus_without_batchnorm():
    net = _mlp().train()
    spline.activation_codes(net, _x())
    assert net.training
    plain = build_model("mlp", (1, 4, 4), 3, seed=0, hidden=(5,))
    c = spline.activation_codes(plain, _x())
    with torch.no_grad():
        pre = plain[0](_x().flatten(1))
    assert torch.equal(c.unpack("1"), pre > 0)


def test_distance_identical_zero_complement_one_and_per_layer_mean():
    net = _mlp().eval()
    a = spline.activation_codes(net, _x())
    assert spline.partition_distance(a, a) == 0.0
    comp = spline.Codes({k: torch.from_numpy(np.packbits(~a.unpack(k).numpy(), axis=1))
                         for k in a.packed}, dict(a.units))
    assert spline.partition_distance(a, comp) == pytest.approx(1.0)
    # flip every bit of one layer only: that layer 1, the other 0, mean 0.5 (layers weigh equally)
    half = spline.Codes({"1": comp.packed["1"], "4": a.packed["4"]}, dict(a.units))
    assert spline.partition_distance(a, half, per_layer=True) == {"1": 1.0, "4": 0.0}
    assert spline.partition_distance(a, half) == pytest.approx(0.5)


def test_distance_rejects_mismatched_codes():
    a = spline.activation_codes(_mlp().eval(), _x(10))
    b = spline.activation_codes(_mlp().eval(), _x(11))
    with pytest.raises(ValueError, match="same probe set"):
        spline.partition_distance(a, b)
    with pytest.raises(ValueError, match="'a' and 'b'"):
        spline.partition_distance(a, "codes")


def test_canvas():
    x0, x1 = torch.ones(1, 2, 2), 2 * torch.ones(1, 2, 2)
    c = spline.canvas(x0, x1, n=3)
    assert c.shape == (9, 1, 2, 2)
    # alpha, beta in {0, 0.5, 1}: values alpha + 2 beta
    assert sorted(c[:, 0, 0, 0].tolist()) == sorted(a + 2 * b for a in (0, .5, 1) for b in (0, .5, 1))
    with pytest.raises(ValueError, match="'n'"):
        spline.canvas(x0, x1, n=1)


# ---------------------------------------------------------------------------
# detectors on made-up sequences


class _Scripted(spline.SplineEarlyBird):
    """The spline detector fed with made-up codes instead of a model's."""

    def __init__(self, seq, **kw):
        super().__init__(torch.zeros(1, 1), **kw)
        self.seq = iter(seq)

    def _statistic(self, model):
        codes = next(self.seq)
        stat = (max(spline.partition_distance(codes, q) for q in self.queue)
                if len(self.queue) == self.window else None)
        self.queue.append(codes)
        return stat


def _codes(bits):
    b = np.array(bits, dtype=bool)[None, :]
    return spline.Codes({"l": torch.from_numpy(np.packbits(b, axis=1))}, {"l": b.shape[1]})


def test_spline_detector_fires_when_all_of_the_last_window_are_close():
    ten = lambda k: _codes([1] * k + [0] * (10 - k))  # noqa: E731  distance |k - k'| / 10
    seq = [ten(0), ten(5), ten(10), ten(9), ten(9), ten(8), ten(9)]
    det = _Scripted(seq, threshold=0.16, window=3)
    fired = [det.update(None, e + 1) for e in range(len(seq))]
    # epoch 4: distances to (0, 5, 10) codes = 0.9, 0.4, 0.1 -> no; epoch 5: to (5, 10, 9) = .4 ...
    # epoch 6 (k=8): to (10, 9, 9) = .2, .1, .1 -> no; epoch 7 (k=9): to (9, 9, 8) = 0, 0, .1 -> yes
    assert det.history[:3] == [None, None, None]
    assert det.history[3] == pytest.approx(0.9)
    assert det.triggered_epoch == 7 and fired == [False] * 6 + [True]


def test_mask_detector_needs_a_full_queue_and_all_distances_small():
    net = _mlp()
    det = spline.MaskEarlyBird(ratio=0.5, queue=3, threshold=0.1)
    bn = net[1]
    gammas = [torch.arange(16.0), torch.arange(16.0), torch.arange(16.0).flip(0), torch.arange(16.0).flip(0),
              torch.arange(16.0).flip(0)]
    with torch.no_grad():
        net[4].weight.fill_(100.0)  # layer 4 always kept: only layer 1's mask moves
        for e, g in enumerate(gammas):
            bn.weight.copy_(g)
            det.update(net, e + 1)
    assert det.history[:2] == [None, None]
    assert det.history[2] > 0.1 and det.history[3] > 0.1
    assert det.history[4] == 0.0 and det.triggered_epoch == 5


def test_detector_is_a_train_callback():
    from pruning_utils.train import TrainConfig, train
    x, y = _x(256), torch.randint(0, 3, (256,), generator=torch.Generator().manual_seed(1))
    net = _mlp()
    det = spline.SplineEarlyBird(_x(50), threshold=1.0, window=1)
    train(net, (x, y), TrainConfig(epochs=3, batch_size=64), callbacks=[det])
    assert det.epochs == [1, 2, 3] and det.triggered_epoch == 2 and net.training


# ---------------------------------------------------------------------------
# structured masks, criteria


def test_channel_masks_equal_the_narrow_network():
    net = _mlp().eval()
    keep = {"1": torch.tensor([True, False] * 8), "4": torch.tensor([True] * 4 + [False] * 4)}
    masks = spline.channel_masks(net, keep)
    assert masks["0.weight"][1].sum() == 0 and masks["0.weight"][0].all()
    assert masks["3.weight"][:, 1].sum() == 0 and masks["3.weight"][5].sum() == 0
    assert masks["6.weight"][:, 5].sum() == 0
    pruned = apply_masks(copy.deepcopy(net), masks)
    # the narrow network built by hand computes the same outputs
    narrow = build_model("mlp", (1, 4, 4), 3, hidden=(8, 4), batchnorm=True).eval()
    k1, k2 = keep["1"], keep["4"]
    with torch.no_grad():
        narrow[0].weight.copy_(net[0].weight[k1]); narrow[0].bias.copy_(net[0].bias[k1])
        for a, b, k in ((narrow[1], net[1], k1), (narrow[4], net[4], k2)):
            for attr in ("weight", "bias", "running_mean", "running_var"):
                getattr(a, attr).copy_(getattr(b, attr)[k])
        narrow[3].weight.copy_(net[3].weight[k2][:, k1]); narrow[3].bias.copy_(net[3].bias[k2])
        narrow[6].weight.copy_(net[6].weight[:, k2]); narrow[6].bias.copy_(net[6].bias)
        x = _x(20)
        assert torch.allclose(pruned(x), narrow(x), atol=1e-6)


def test_channel_groups_of_vgg_and_preresnet_and_errors():
    vgg = build_model("vgg11", (3, 32, 32), 10)
    groups = spline.channel_groups(vgg)
    assert groups[0] == ("features.1", "features.0.weight", "features.4.weight")
    assert groups[-1][2] == "classifier.weight"
    pre = build_model("preresnet20", (3, 32, 32), 10)
    masks = spline.channel_masks(pre, spline.keep_from_scores(spline.slimming_scores(pre), 0.5))
    apply_masks(pre, masks)
    assert pre(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    with pytest.raises(ValueError, match="no BatchNorm"):
        spline.channel_groups(build_model("mlp", (1, 4, 4), 3, hidden=(5,)))
    with pytest.raises(ValueError, match="'keep'"):
        spline.channel_masks(_mlp(), {"nope": torch.ones(3, dtype=torch.bool)})


def test_spline_criterion_finds_duplicated_and_sign_flipped_units():
    net = _mlp(hidden=(12,)).eval()
    with torch.no_grad():
        net[0].weight[7] = -3.0 * net[0].weight[2]     # sign-flipped, scaled copy of unit 2
        net[0].bias[7] = -3.0 * net[0].bias[2]
        net[0].weight[9] = 0.5 * net[0].weight[4]       # positive copy of unit 4
        net[0].bias[9] = 0.5 * net[0].bias[4]
    s = spline.spline_scores(net, normalise=False)["1"]
    first_two = set(torch.argsort(s)[:2].tolist())
    assert first_two in ({2, 4}, {2, 9}, {7, 4}, {7, 9})  # one member of each pair, never both of one
    keep = spline.keep_from_scores({"1": s}, 2 / 12, "layerwise")["1"]
    assert keep[2] != keep[7] and keep[4] != keep[9]
    # with BatchNorm statistics measured on data (unit 7's mean is -3 times unit 2's, its variance 9
    # times), folding keeps the two hyperplanes identical up to sign
    net.train()
    with torch.no_grad():
        net(_x(2000, seed=3))
    net.eval()
    assert abs(float(net[1].running_mean[7] + 3 * net[1].running_mean[2])) < 1e-4
    assert float(spline.spline_scores(net, normalise=False)["1"].min()) < 1e-5


def test_keep_from_scores_counts_and_protection():
    scores = {"a": torch.tensor([3.0, 1.0, 2.0, 0.5]), "b": torch.tensor([0.1, 0.2])}
    lw = spline.keep_from_scores(scores, 0.5, "layerwise")
    assert lw["a"].tolist() == [True, False, True, False] and lw["b"].tolist() == [False, True]
    gl = spline.keep_from_scores(scores, 0.5, "global")
    assert sum(int((~k).sum()) for k in gl.values()) == 3
    assert gl["b"].any()  # a group is never emptied
    with pytest.raises(ValueError, match="'ratio'"):
        spline.keep_from_scores(scores, 1.0)
    with pytest.raises(ValueError, match="'scope'"):
        spline.keep_from_scores(scores, 0.5, "per-layer")


def test_flops_dense_and_structured():
    net = _mlp()
    dense = spline.forward_flops(net, (1, 4, 4))
    assert dense == 2 * (16 * 16 + 16 * 8 + 8 * 3)
    keep = {"1": torch.tensor([True] * 8 + [False] * 8), "4": torch.ones(8, dtype=torch.bool)}
    masks = spline.channel_masks(net, keep)
    assert spline.forward_flops(net, (1, 4, 4), masks) == 2 * (8 * 16 + 8 * 8 + 8 * 3)
    conv = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False))
    assert spline.forward_flops(conv, (1, 5, 5)) == 2 * 36 * 25
    assert spline.training_flops(net, (1, 4, 4), 100, 2) == 3 * dense * 100 * 2


def test_l1_penalty_goes_through_the_gradient_and_momentum():
    """The penalty's subgradient joins gamma's gradient before the step (as the authors' updateBN), so under
    momentum it accumulates like the loss's gradient. On zero inputs every BatchNorm normalises to zero, so the
    loss gives gamma no gradient at all and only the penalty moves it: after k SGD steps with momentum m, by
    lr * s * sum_j (1 - m^j) / (1 - m) per sign (5.61 lr s for k = 3, m = 0.9), where a penalty applied after
    the step without momentum would move it by k lr s."""
    from pruning_utils.train import TrainConfig, train
    net = _mlp()
    before = net[1].weight.detach().clone()
    cfg = TrainConfig(epochs=1, batch_size=64, lr=0.1, momentum=0.9, weight_decay=0.0, schedule="constant",
                      eval_every=0)
    train(net, (torch.zeros(192, 1, 4, 4), torch.randint(0, 3, (192,))), cfg, callbacks=[spline.L1GammaPenalty(0.5)])
    factor = sum((1 - 0.9 ** j) / (1 - 0.9) for j in (1, 2, 3))
    assert torch.allclose(before - net[1].weight.detach(), 0.1 * 0.5 * factor * torch.sign(before), atol=1e-5)
    with pytest.raises(ValueError, match="strength"):
        spline.L1GammaPenalty(-1.0)


# ---------------------------------------------------------------------------
# the experiment


def test_tiny_experiment_run_and_claims():
    kw = dict(dataset="digits", width=16, depth=2, epochs=6, batch_size=64, canvas_size=5, ratios=[0.5],
              finetune_epochs=1, seeds=1, device="cpu", spline_threshold=1.0)
    a, b = spline_exp.run(**kw), spline_exp.run(**kw)
    assert a["per_seed"] == b["per_seed"]
    s = a["per_seed"][0]
    assert s["spline_eb_epoch"] == 4  # threshold 1: fires as soon as three earlier epochs exist
    assert len(s["spline_distance"]) == 6 and s["spline_distance"][:3] == [None] * 3
    assert set(s["criteria"]) == {f"{c}/{sc}" for c in spline_exp.CRITERIA for sc in spline_exp.SCOPES}
    assert s["flops"]["early_bird_training"] < s["flops"]["train_prune_retrain"]
    f = s["flops"]
    # the detector is charged: one dense forward pass per canvas image and epoch up to the early bird
    canvas_images = kw.get("canvas_size", spline_exp.SCHEMA["canvas_size"].default) ** 2
    assert f["detector"] == f["dense_forward"] * canvas_images * s["spline_eb_epoch"]
    assert f["early_bird_training"] == f["early_bird_search"] + f["detector"] + f["early_bird_ticket_training"]
    # the control tickets: as many as asked for, each an accuracy
    assert len(s["tickets"]["random_same_widths"]["test_accuracy"]) == kw.get("random_tickets", 2)
    # the harder comparison: layer-wise tickets at hard_ratio, two random draws of the early-bird ticket's widths
    hard = s["tickets"]["hard"]
    assert hard["ratio"] == 0.9 and len(hard["random_same_widths"]) == 2
    assert [sum(v) for v in hard["early_bird_keep"].values()] == [round(0.1 * 16)] * 2   # 90% of each layer gone
    verdicts = evaluate(spline_exp.CLAIMS, a)
    assert len(verdicts) == len(spline_exp.CLAIMS)
    # one seed: every statistic has one value per seed, and no verdict on one seed is robust
    assert all(st.n == 1 for v in verdicts for st in v.statistics)
    assert {v.word for v in verdicts} == {"not robust"}


def _fake_result(eb_epochs, spline_acc, other_acc, epochs=30):
    """A made-up result of three seeds: the fields the claims read."""
    ratios = [0.3, 0.5, 0.7]
    seeds = []
    for i, e in enumerate(eb_epochs):
        crit = {f"{c}/{sc}": {"pruned": [0.5] * 3,
                              "finetuned": [spline_acc[i] if c == "spline" else other_acc[i]] * 3}
                for c in spline_exp.CRITERIA for sc in spline_exp.SCOPES}
        seeds.append({"spline_eb_epoch": e, "mask_eb_epoch": 8, "dense_accuracy": 0.95,
                      "spline_distance": [None] * 3 + [0.05 + 0.001 * i] * (epochs - 3),
                      "tickets": {"early_bird": {"test_accuracy": 0.94 + 0.001 * i}, "full": {"test_accuracy": 0.94},
                                  "random_same_widths": {"test_accuracy": [0.90 + 0.001 * i, 0.89]},
                                  "hard": {"ratio": 0.9, "early_bird": 0.90 + 0.001 * i, "full": 0.9,
                                           "random_same_widths": [0.85 + 0.002 * i, 0.851]}},
                      "flops": {"train_prune_retrain": 3.0 + 0.01 * i, "early_bird_training": 1.0,
                                "dense_training": 2.0},
                      "criteria": crit})
    return {"epochs": epochs, "ratios": ratios, "ratio": 0.5, "per_seed": seeds}


def test_claims_are_decided_per_seed():
    r = _fake_result([4, 5, 5], [0.95, 0.951, 0.952], [0.90, 0.902, 0.901])
    v = {x.claim.id: x for x in evaluate(spline_exp.CLAIMS, r)}
    # here random channels are exactly as good as gamma's, so matching gamma cannot tell the criterion from them
    # (a flat spline statistic is as settled at the earliest epoch as anywhere: the early-bird claim's control
    # passes too)
    assert {k: x.word for k, x in v.items()} == {
        "spline_early_bird_found_early": "not discriminating", "early_bird_ticket_matches_full_ticket":
        "holds", "early_bird_ticket_beats_random_channels": "holds", "early_bird_saves_training_flops": "holds",
        "spline_criterion_matches_gamma": "not discriminating", "spline_criterion_beats_random": "holds"}
    # a statistic still falling at the early bird (four times its later level) fails the "settled" part
    falling = _fake_result([4, 5, 5], [0.9] * 3, [0.9] * 3)
    for s in falling["per_seed"]:
        s["spline_distance"] = [None] * 3 + [0.2, 0.2, 0.2] + [0.05] * 24
    vf = evaluate(spline_exp.CLAIMS[:1], falling)[0]
    assert vf.word == "does not hold" and vf.statistics[1].values == pytest.approx((4.0, 4.0, 4.0))
    # with random channels ten points below gamma's, its control fails and the claim holds
    worse = _fake_result([4, 5, 5], [0.95, 0.951, 0.952], [0.90, 0.902, 0.901])
    for i, s in enumerate(worse["per_seed"]):
        for sc in spline_exp.SCOPES:
            s["criteria"][f"random/{sc}"]["finetuned"] = [0.80 + 0.001 * i] * 3
    m = next(x for x in evaluate(spline_exp.CLAIMS, worse) if x.claim.id == "spline_criterion_matches_gamma")
    assert m.word == "holds" and m.control.subject_word == "does not hold"
    assert all(st.n == 3 for x in v.values() for st in x.statistics)
    # layer-wise and global are separate statistics
    assert len(v["spline_criterion_beats_random"].statistics) == 2
    # epoch 15 of 30 is in the first half, 16 is not
    v15 = evaluate(spline_exp.CLAIMS[:1], _fake_result([15, 15, 15], [0.9] * 3, [0.9] * 3))[0]
    assert v15.holds
    v16 = evaluate(spline_exp.CLAIMS[:1], _fake_result([4, 5, 16], [0.9] * 3, [0.9] * 3))[0]
    assert not v16.holds
    # a detector that never fired fails the claim (as epoch epochs + 1), robustly
    never = evaluate(spline_exp.CLAIMS[:1], _fake_result([None, None, None], [0.9] * 3, [0.9] * 3))[0]
    assert never.statistics[0].values == (31.0,) * 3 and never.word == "does not hold"
    claim = {c.id: c for c in spline_exp.CLAIMS}
    # no fine-tuning: the criterion claims say so instead of deciding on NaN
    r0 = _fake_result([4, 5, 5], [0.9] * 3, [0.9] * 3)
    for s in r0["per_seed"]:
        for rows in s["criteria"].values():
            rows["finetuned"] = []
    v0 = evaluate([claim["spline_criterion_matches_gamma"]], r0)[0]
    assert v0.word == "does not hold" and "finetune_epochs" in v0.numbers["not measured"]


def _grid_codes(net, n=120):
    t = torch.linspace(-2, 2, n)
    grid = torch.stack(torch.meshgrid(t, t, indexing="xy"), -1).reshape(-1, 1, 1, 2)
    return spline.activation_codes(net, grid, batch_size=10_000).bits()


def test_pruning_a_last_layer_unit_removes_exactly_its_boundary():
    """The partition after pruning unit k equals the partition of the codes without bit k
    (last hidden layer); for a first-layer unit the later boundaries move, so it differs."""
    net = build_model("mlp", (1, 1, 2), 2, seed=3, hidden=(6, 6), batchnorm=True).eval()
    codes = _grid_codes(net)
    drop = lambda c, j: torch.cat([c[:, :j], c[:, j + 1:]], 1)  # noqa: E731
    for k in range(6):
        assert spline.same_partition(_grid_codes(spline.without_units(net, "4", k)), drop(codes, 6 + k))
    assert not all(spline.same_partition(_grid_codes(spline.without_units(net, "1", k)), drop(codes, k)) for k in range(6))


def test_same_partition_is_a_relabelling_test():
    a = torch.tensor([[0, 1], [0, 1], [1, 0]], dtype=torch.bool)
    b = torch.tensor([[1], [1], [0]], dtype=torch.bool)          # same grouping, other labels
    c = torch.tensor([[1], [0], [0]], dtype=torch.bool)          # another grouping
    assert spline.same_partition(a, b) and not spline.same_partition(a, c)
    with pytest.raises(ValueError, match="same inputs"):
        spline.same_partition(a, b[:2])


def test_channel_groups_of_a_conv_net_with_batchnorm_and_a_flattening_head():
    net = build_model("conv2", (1, 8, 8), 10, seed=0, width=8, head=(), batchnorm=True)
    groups = spline.channel_groups(net)
    assert groups == [("features.1", "features.0.weight", "features.3.weight"),
                      ("features.4", "features.3.weight", "classifier.0.weight")]
    keep = {"features.1": torch.ones(8, dtype=torch.bool), "features.4": torch.arange(8) != 2}
    masks = spline.channel_masks(net, keep)
    # channel 2 of the second conv: its output row, and the 4 x 4 = 16 head inputs it feeds after the flatten
    assert not masks["features.3.weight"][2].any() and masks["features.3.weight"][[0, 1, 3]].all()
    cols = masks["classifier.0.weight"].any(0)
    assert not cols[32:48].any() and cols[:32].all() and cols[48:].all()
    # masking the channel equals zeroing its BatchNorm output (the network is the narrower one)
    x = torch.randn(5, 1, 8, 8)
    net.eval()
    pruned = copy.deepcopy(net)
    apply_masks(pruned, masks)
    ref = copy.deepcopy(net)
    with torch.no_grad():
        ref.features[4].weight[2] = 0.0
        ref.features[4].bias[2] = 0.0
    assert torch.allclose(pruned(x), ref(x), atol=1e-6)


def test_keep_from_scores_counts_as_the_book_or_as_the_authors():
    """round(ratio * c) channels removed (the book's tickets), or int(ratio * c) + 1 as network slimming's
    threshold index removes them (the original early-bird detector's default here)."""
    scores = {"a": torch.arange(10, dtype=torch.float64), "b": torch.arange(10, 20, dtype=torch.float64)}
    book = spline.keep_from_scores(scores, 0.25, "global")
    authors = spline.keep_from_scores(scores, 0.25, "global", count="authors")
    assert sum(int((~k).sum()) for k in book.values()) == 5            # round(0.25 * 20)
    assert sum(int((~k).sum()) for k in authors.values()) == 6         # int(0.25 * 20) + 1
    lw = spline.keep_from_scores(scores, 0.5, "layerwise", count="authors")
    assert [int((~k).sum()) for k in lw.values()] == [6, 6]
    with pytest.raises(ValueError, match="count"):
        spline.keep_from_scores(scores, 0.5, "global", count="floor")
    assert spline.MaskEarlyBird().count == "authors"
    with pytest.raises(ValueError, match="count"):
        spline.MaskEarlyBird(count="nearest")


def test_greedy_redundancy_ties_go_to_the_lowest_index():
    """Duplicated and negated units are at distance exactly 0 from their twins (cdist's matrix-product path,
    taken above 25 units, would give them rounding noise instead and decide the order by it), so among tied
    units the lowest index is removed first, as documented."""
    from pruning_utils.spline import _greedy_redundancy
    g = torch.Generator().manual_seed(0)
    for trial in range(10):       # 64 units of 129 coefficients: cdist's matrix-product path leaves such
        h = 3 * torch.randn(64, 129, generator=g, dtype=torch.float64)    # twins off 0 in about half the trials
        h[30] = h[4]
        h[12] = -h[20]
        s = _greedy_redundancy(h)
        assert s[4] == 0.0 and s[12] == 0.0                    # the lower index of each pair, at exactly 0
        assert s[30] > 0 and s[20] > 0                         # the twins then score by their next neighbour
        assert int(torch.argsort(s, stable=True)[0]) == 4      # and the first of all ties goes first
