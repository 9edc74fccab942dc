"""Chapter 04's experiment: a tiny run of every section, the CIFAR protocol on small files in
torchvision's layout (resumed from its store), and bad parameters."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from pruning_utils import eoc
from pruning_utils.claims import evaluate
from pruning_utils.experiments import pruning_at_init as pai

TINY = dict(dataset="digits", seeds=1, width=16, depths=(2, 6), sparsities=(0.5, 0.9, 0.99), propagation_depth=4,
            rescale_depth=3, variance_draws=2, method_depth=2, method_sparsities=(0.9,), resnet_depths=(20,),
            epochs=1, synflow_rounds=3, per_class=2, chi_sweep=(0.7, 1.3), sweep_depth=3, device="cpu")


def _fake_cifar10(root, n=8):
    folder = root / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(1, 6):
        with open(folder / f"data_batch_{i}", "wb") as f:
            pickle.dump({"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                         "labels": [(n * i + j) % 10 for j in range(n)]}, f)   # every class, for the scoring batch
    with open(folder / "test_batch", "wb") as f:
        pickle.dump({"data": rng.integers(0, 256, (10, 3072), dtype=np.uint8), "labels": list(range(10))}, f)


def test_tiny_run_has_every_section_and_claims_evaluate():
    r = pai.run(**TINY)
    assert r["eoc"]["relu"] == math.sqrt(2.0) and abs(r["eoc"]["tanh"] - 1.3041) < 1e-3
    s = r["per_seed"][0]
    assert set(s["propagation"]) == {"eoc", "ordered", "relu_eoc"}
    assert len(s["propagation"]["eoc"]["measured"]) == len(s["propagation"]["eoc"]["theory"]) == 4
    assert set(s["collapse"]) == {"eoc", "ordered", "chaotic"}
    # the sweep: the off-edge points in order of chi with the edge in its place, at sweep_depth
    assert [e["chi"] for e in s["sweep"]] == [0.7, 1.0, 1.3] and {e["depth"] for e in s["sweep"]} == {3}
    assert [x["chi"] for x in r["eoc"]["sweep"]] == [0.7, 1.3]
    assert [round(eoc.chi("tanh", x["sigma_w"], 0.2), 9) for x in r["eoc"]["sweep"]] == [0.7, 1.3]
    assert eoc.phase("tanh", r["eoc"]["chaotic_sigma_w"], 0.2) == "chaotic"
    for name in ("eoc", "ordered", "chaotic"):
        for row, d in zip(s["collapse"][name], (2, 6)):
            assert row["depth"] == d and len(row["layers_emptied"]) == 3
            assert len(row["kept_per_layer"][0]) == d + 1
            # the first sparsity with no path is the first entry whose path check failed
            first = next((sp for sp, ok in zip((0.5, 0.9, 0.99), row["passes_signal"]) if ok is False), None)
            assert row["critical_sparsity"] == first
    gains = s["rescale"]["gain_per_layer"]
    assert set(gains) == {f"{m}/{k}" for m in ("random", "sbp") for k in ("none", "sigma_w2", "authors_4")}
    # rescaling to 4 instead of 2 doubles every row's squared norm, so exactly doubles the ReLU gain
    assert gains["random/authors_4"] == pytest.approx(2 * gains["random/sigma_w2"], rel=1e-6)
    shares = [x for m in ("random", "sbp") for draw in s["rescale"]["identity_share"][m] for x in draw]
    assert len(shares) == 2 * 2 * 3 and all(0.0 <= x <= 1.0 for x in shares if x is not None)
    assert set(s["rescale"]["training"]) == {"random/none", "random/sigma_w2", "sbp/none", "sbp/sigma_w2"}
    # every training stores its test accuracy after each epoch; best and final are read from that curve
    trainings = (list(s["rescale"]["training"].values()) + list(s["methods"].values())
                 + list(s["rescale_conv"]["training"].values()))
    for t in trainings:
        assert len(t["curve"]) == TINY["epochs"]
        assert t["best_accuracy"] == max(t["curve"]) and t["final_accuracy"] == t["curve"][-1]
    assert set(s["resnet"]) == {"20/standard", "20/stable"} and len(s["resnet"]["20/stable"]) == 9
    # the BatchNorm conv net: four trainings, and the constant divided out by BatchNorm (BN's eps aside)
    rc = s["rescale_conv"]
    assert set(rc["training"]) == {"none", "none_other_order", "all", "convs"} and len(rc["kept_per_layer"]) == 3
    assert 0.0 <= rc["feature_difference"] < 1e-3
    assert set(s["methods"]) == {f"{m}/0.9" for m in (*pai.METHODS, "sbp_no_rescale")}
    assert "cifar" not in r
    verdicts = {v.claim.id: v.holds for v in evaluate(pai.CLAIMS, r)}
    assert set(verdicts) == {c.id for c in pai.CLAIMS} and verdicts["edge_of_chaos_values"]


def test_cifar_protocol_runs_stores_and_resumes(tmp_path, monkeypatch):
    _fake_cifar10(tmp_path)
    kw = dict(TINY, depths=(2,), data_root=str(tmp_path), cifar_model="resnet20", cifar_width=4, cifar_epochs=2,
              cifar_sparsities=(0.9,), cifar_batch_size=16, run_dir=str(tmp_path / "run"))
    a = pai.run(**kw)["cifar"]
    assert set(a) == {"dense/dense/seed0"} | {f"{m}/0.9/seed0" for m in pai.CIFAR_METHODS if m != "dense"}
    assert all(0.0 <= v["best_accuracy"] <= 1.0 and v["final_accuracy"] <= v["best_accuracy"] for v in a.values())
    assert (tmp_path / "run" / "cifar.json").exists()

    def no_training(*args, **kwargs):
        raise AssertionError("a finished training was run again")

    monkeypatch.setattr(pai, "train", lambda net, data, cfg, test_data=None: (
        no_training() if data[0].shape[1] == 3 else {"test_accuracy": [0.1]}))
    assert pai.run(**kw)["cifar"] == a             # every CIFAR piece comes from the store
    with pytest.raises(ValueError, match="other parameters"):
        pai.run(**dict(kw, cifar_epochs=3))


def test_bad_parameters_name_themselves():
    with pytest.raises(ValueError, match="'resnet_depths'"):
        pai.run(**dict(TINY, resnet_depths=(44,)))
    with pytest.raises(ValueError, match="'ordered_sigma_w'"):
        pai.run(**dict(TINY, ordered_sigma_w=3.0, ordered_sigma_b=0.0))
    with pytest.raises(ValueError, match="'cifar_model'"):
        pai.run(**dict(TINY, cifar_model="vgg16"))


def test_chi_sweep_lists_off_edge_points_only():
    with pytest.raises(ValueError, match="'chi_sweep'"):
        pai.run(**{**TINY, "chi_sweep": (0.7, 1.0)})


def test_collapse_claims_compare_the_smallest_kept_fraction_and_their_control_is_another_edge_draw():
    def entry(kept):
        return {"depth": 4, "critical_sparsity": None, "min_kept_fraction": kept}

    edge = [0.010, 0.012, 0.011]
    rows = [{"collapse": {"eoc": [entry(1.0), entry(e)], "ordered": [entry(1.0), entry(0.5)],
                          "chaotic": [entry(1.0), entry(2 * e)]},
             "sweep": [{"chi": 0.7, **entry(0.2)}, {"chi": 1.0, **entry(e)}, {"chi": 1.3, **entry(0.3)}]}
            for e in edge]
    r = {"params": {"sparsities": [0.5, 0.9]}, "per_seed": rows}
    v = {x.claim.id: x for x in evaluate([c for c in pai.CLAIMS if c.id in
                                          ("ordered_collapses_first", "chaotic_collapses_first",
                                           "edge_prunes_furthest")], r)}
    # only the deepest depth counts; ordered needs about 45 times the edge's weights, chaotic twice
    assert v["ordered_collapses_first"].statistics[0].values == pytest.approx([math.log10(0.5 / e) for e in edge])
    assert v["ordered_collapses_first"].word == "holds"           # another edge draw: within 20%, far from 3x
    assert v["chaotic_collapses_first"].word == "does not hold"   # twice is not three times
    assert len(v["edge_prunes_furthest"].statistics) == 2 and v["edge_prunes_furthest"].word == "holds"
    # the smallest kept fraction with a path is found exactly: bisection on a tiny chain
    import torch
    scores = {"a": torch.tensor([[3.0, 0.1], [0.2, 0.3]]), "b": torch.tensor([[0.5, 2.0]])}
    # the two largest (a[0, 0], b[0, 1]) do not join: unit 0 feeds b[0, 0] = 0.5, the third largest
    assert pai._min_kept_fraction(scores) == pytest.approx(3 / 6)
    scores["b"] = torch.tensor([[2.0, 0.5]])
    assert pai._min_kept_fraction(scores) == pytest.approx(2 / 6)          # now they do


def test_batchnorm_rescaling_claim_is_judged_against_another_data_order():
    def row(none, other, rescaled):
        t = {"none": none, "none_other_order": other, "all": rescaled, "convs": none}
        return {"rescale_conv": {"feature_difference": 1e-5,
                                 "training": {k: {"best_accuracy": v, "final_accuracy": v} for k, v in t.items()}}}

    claim = [c for c in pai.CLAIMS if c.id == "rescaling_helps_sbp_with_batchnorm"]
    lifted = {"params": {"conv_sparsity": 0.98}, "per_seed": [row(0.60, 0.61, 0.70), row(0.55, 0.54, 0.66),
                                                                row(0.58, 0.58, 0.69)]}
    assert evaluate(claim, lifted)[0].word == "holds"
    # a lift no bigger than another data order's change is not a lift
    noisy = {"params": {"conv_sparsity": 0.98}, "per_seed": [row(0.60, 0.70, 0.70), row(0.55, 0.66, 0.66),
                                                               row(0.58, 0.69, 0.69)]}
    assert evaluate(claim, noisy)[0].word == "not discriminating"
    hurt = {"params": {"conv_sparsity": 0.98}, "per_seed": [row(0.60, 0.61, 0.50), row(0.55, 0.54, 0.40),
                                                              row(0.58, 0.58, 0.50)]}
    assert evaluate(claim, hurt)[0].word == "does not hold"


def test_stable_resnet_claim_compares_with_the_standard_resnet_not_a_constant():
    def spread(k):                 # block gradient norms whose max / min is k
        return [1.0, float(k)]

    def row(std20, std56, st20, st56):
        return {"resnet": {"20/standard": spread(std20), "56/standard": spread(std56),
                           "20/stable": spread(st20), "56/stable": spread(st56)}}

    claim = [c for c in pai.CLAIMS if c.id == "stable_resnet_flat_gradients"]
    good = {"per_seed": [row(3.2, 22.0, 1.2, 1.5), row(3.3, 21.5, 1.2, 1.5), row(3.2, 22.4, 1.3, 1.4)]}
    v = evaluate(claim, good)[0]
    assert v.word == "holds"
    # 3x the blocks (9 to 27), a spread 6.9 times larger: an exponent near 1.75
    assert v.numbers["exponent of the spread's growth in the number of blocks, standard, per seed"][0] == \
        pytest.approx(math.log(22.0 / 3.2) / math.log(3.0))
    # a Stable ResNet as spread as the shallow standard one fails
    bad = {"per_seed": [row(3.2, 22.0, 1.2, 4.0), row(3.3, 21.5, 1.2, 4.5), row(3.2, 22.4, 1.3, 4.2)]}
    assert evaluate(claim, bad)[0].word == "does not hold"


def test_log_variances_are_exact_where_the_variances_underflow():
    import torch
    from torch import nn
    net = nn.Sequential(nn.Linear(8, 8, bias=False), nn.ReLU(), nn.Linear(8, 8, bias=False))
    x = torch.randn(64, 8, generator=torch.Generator().manual_seed(0))
    direct = [float(net[0](x).double().var()), float(net(x).double().var())]
    assert pai._log_variances(net, x) == pytest.approx([math.log(v) for v in direct], rel=1e-6)   # float32 against float64
    with torch.no_grad():                         # 60 layers losing a factor of 100 each: 1e-120, no underflow
        deep = nn.Sequential(*[m for _ in range(60) for m in (nn.Linear(8, 8, bias=False), nn.ReLU())][:-1])
        for m in deep:
            if isinstance(m, nn.Linear):
                m.weight.mul_(0.1)
    logs = pai._log_variances(deep, x)
    assert len(logs) == 60 and all(math.isfinite(v) for v in logs) and logs[-1] < -200
    biased = nn.Sequential(nn.Linear(8, 8))
    with pytest.raises(ValueError, match="bias-free"):
        pai._log_variances(biased, x)
