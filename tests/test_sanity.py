"""Tests for pruning_utils.sanity: the shuffle / reinit / invert sanity checks of
Frankle et al. (ICLR 2021) on arbitrary masks."""

import pytest
import torch

from pruning_utils import sanity
from pruning_utils.data import load_dataset
from pruning_utils.imp import train_pruned
from pruning_utils.masks import dense_state_dict, kept_overlap, masks_from_scores
from pruning_utils.models import build_model
from pruning_utils.sanity import CHECKS, invert_masks, sanity_checks, shuffle_within_layers
from pruning_utils.scores import magnitude_scores
from pruning_utils.train import TrainConfig


def rand_scores(seed=0):
    """Distinct scores for a small 'network': a matrix, a conv kernel, a bias-like vector."""
    g = torch.Generator().manual_seed(seed)
    return {"a.weight": torch.rand(20, 50, generator=g),
            "b.weight": torch.rand(4, 3, 3, 3, generator=g),
            "c.weight": torch.rand(7, generator=g)}


def kept(m):
    return {n: int(v.sum()) for n, v in m.items()}


# ---------------------------------------------------------------- shuffle

def test_shuffle_preserves_counts_shapes_dtypes_devices():
    masks = masks_from_scores(rand_scores(), 0.7, scope="global")
    out = shuffle_within_layers(masks, seed=0)
    assert list(out) == list(masks)
    assert kept(out) == kept(masks)
    for n in masks:
        assert out[n].shape == masks[n].shape
        assert out[n].dtype == torch.bool
        assert out[n].device == masks[n].device


def test_shuffle_moves_kept_positions():
    # 1000 entries, half kept: a random permutation keeps about half the kept set, not all of it
    masks = masks_from_scores({"w": torch.arange(1000.0).reshape(20, 50)}, 0.5, scope="layerwise")
    out = shuffle_within_layers(masks, seed=1)
    assert kept(out) == {"w": 500}
    assert 0.35 < kept_overlap(masks, out) < 0.65


def test_shuffle_is_uniform_over_positions():
    # every position of a 10-entry layer with 5 kept is kept in about half of 400 shuffles
    m = {"w": torch.tensor([True] * 5 + [False] * 5)}
    freq = torch.stack([shuffle_within_layers(m, s)["w"] for s in range(400)]).double().mean(0)
    assert torch.all((freq > 0.38) & (freq < 0.62)), freq


def test_shuffle_deterministic_per_seed_and_leaves_global_rng_alone():
    masks = masks_from_scores(rand_scores(), 0.5, scope="layerwise")
    before = {n: m.clone() for n, m in masks.items()}
    rng = torch.get_rng_state()
    a = shuffle_within_layers(masks, 3)
    b = shuffle_within_layers(masks, 3)
    c = shuffle_within_layers(masks, 4)
    assert torch.equal(rng, torch.get_rng_state())
    assert all(torch.equal(a[n], b[n]) for n in masks)
    assert any(not torch.equal(a[n], c[n]) for n in masks)
    assert all(torch.equal(masks[n], before[n]) for n in masks)  # input untouched


@pytest.mark.parametrize("masks", [{}, None, [torch.ones(3, dtype=torch.bool)],
                                   {"w": torch.ones(3)}, {"w": [True, False]}])
def test_shuffle_rejects_bad_masks(masks):
    with pytest.raises(ValueError, match="'masks'"):
        shuffle_within_layers(masks, 0)


@pytest.mark.parametrize("seed", [-1, True, 1.5, "0", None])
def test_shuffle_rejects_bad_seed(seed):
    with pytest.raises(ValueError, match="'seed'"):
        shuffle_within_layers({"w": torch.ones(3, dtype=torch.bool)}, seed)


# ---------------------------------------------------------------- invert

def test_invert_keeps_the_k_lowest_scores():
    scores = rand_scores(1)
    masks = masks_from_scores(scores, 0.3, scope="global")
    inv = invert_masks(scores, masks)
    assert list(inv) == list(masks)
    assert kept(inv) == kept(masks)
    for n, s in scores.items():
        k = int(masks[n].sum())
        expected = torch.zeros(s.numel(), dtype=torch.bool)
        expected[torch.argsort(s.reshape(-1))[:k]] = True
        assert inv[n].dtype == torch.bool and inv[n].shape == s.shape
        assert torch.equal(inv[n], expected.view_as(s))


@pytest.mark.parametrize("sparsity", [0.5, 0.6, 0.9])
def test_invert_is_disjoint_from_original_at_high_sparsity(sparsity):
    scores = rand_scores(2)
    masks = masks_from_scores(scores, sparsity, scope="layerwise")
    inv = invert_masks(scores, masks)
    assert kept(inv) == kept(masks)
    for n in masks:
        assert not (inv[n] & masks[n]).any()


def test_invert_breaks_ties_by_position():
    scores = {"w": torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0, 2.0])}
    masks = {"w": torch.tensor([True, False, True, False, False, False])}  # keeps 2
    inv = invert_masks(scores, masks)
    assert inv["w"].tolist() == [False, True, True, False, False, False]
    flat = {"w": torch.zeros(3, 4)}
    m = {"w": torch.zeros(3, 4, dtype=torch.bool)}
    m["w"][2, 1:] = True  # keeps 3
    inv = invert_masks(flat, m)
    assert inv["w"].reshape(-1).tolist() == [True] * 3 + [False] * 9
    assert torch.equal(inv["w"], invert_masks(flat, m)["w"])


def test_invert_ties_follow_position_in_a_large_layer():
    # 5000 scores from {0, 1, 2}: keep all the 0s, then the earliest 1s (an unstable sort would not)
    g = torch.Generator().manual_seed(0)
    s = torch.randint(0, 3, (50, 100), generator=g).float()
    k = int((s == 0).sum()) + 300
    m = torch.zeros(50, 100, dtype=torch.bool)
    m.view(-1)[:k] = True
    inv = invert_masks({"w": s}, {"w": m})["w"].reshape(-1)
    flat = s.reshape(-1)
    ones = torch.nonzero(flat == 1).reshape(-1)
    expected = (flat == 0)
    expected[ones[:300]] = True
    assert torch.equal(inv, expected)


def test_invert_handles_empty_and_full_layers():
    scores = {"a": torch.rand(5), "b": torch.rand(4)}
    masks = {"a": torch.zeros(5, dtype=torch.bool), "b": torch.ones(4, dtype=torch.bool)}
    inv = invert_masks(scores, masks)
    assert kept(inv) == {"a": 0, "b": 4}


def test_invert_rejects_mismatched_keys_and_shapes():
    scores = rand_scores()
    masks = masks_from_scores(scores, 0.5)
    missing = {n: s for n, s in scores.items() if n != "b.weight"}
    with pytest.raises(ValueError, match=r"'scores'.*'b\.weight'"):
        invert_masks(missing, masks)
    with pytest.raises(ValueError, match=r"'scores'.*'extra'"):
        invert_masks({**scores, "extra": torch.rand(3)}, masks)
    bad = {**scores, "a.weight": scores["a.weight"].T}
    with pytest.raises(ValueError, match=r"'scores'\['a\.weight'\].*shape"):
        invert_masks(bad, masks)
    with pytest.raises(ValueError, match="'masks'"):
        invert_masks(scores, {n: m.float() for n, m in masks.items()})
    with pytest.raises(ValueError, match="'scores'"):
        invert_masks({}, masks)


# ---------------------------------------------------------------- sanity_checks

TCFG = TrainConfig(epochs=2, batch_size=64, lr=0.1, seed=0, eval_every=1)


@pytest.fixture(scope="module")
def setup():
    train_data = load_dataset("digits", train=True)
    test_data = load_dataset("digits", train=False)
    model = build_model("mlp", (1, 8, 8), 10, seed=0, hidden=(32,))
    scores = magnitude_scores(model)
    masks = masks_from_scores(scores, 0.8, scope="global")
    reinit = dense_state_dict(build_model("mlp", (1, 8, 8), 10, seed=1, hidden=(32,)))
    return dict(model=model, init_state=dense_state_dict(model), masks=masks, scores=scores,
                reinit_state=reinit, train_data=train_data, test_data=test_data)


def run(setup, **kw):
    s = setup
    return sanity_checks(s["model"], s["init_state"], s["masks"], s["train_data"], s["test_data"], TCFG, **kw)


@pytest.fixture(scope="module")
def full(setup):
    return run(setup, scores=setup["scores"], reinit_state=setup["reinit_state"], seed=0)


def test_sanity_checks_returns_every_check(setup, full):
    assert CHECKS == ("original", "shuffle", "reinit", "invert")
    assert list(full) == list(CHECKS)
    fractions = {n: int(m.sum()) / m.numel() for n, m in setup["masks"].items()}
    for r in full.values():
        assert set(r) == {"test_accuracy", "best_accuracy", "kept_per_layer"}
        assert 0.0 <= r["test_accuracy"] <= 1.0 and 0.0 <= r["best_accuracy"] <= 1.0
        assert r["best_accuracy"] >= r["test_accuracy"]
        assert r["kept_per_layer"] == fractions  # every variant keeps the method's layer-wise sparsities
    assert full["original"]["test_accuracy"] > 0.5  # it learned something: the comparison means something


def test_original_equals_a_direct_train_pruned_run(setup, full):
    s = setup
    _, history, ev = train_pruned(s["model"], s["init_state"], s["masks"], s["train_data"], s["test_data"], TCFG)
    assert full["original"]["test_accuracy"] == ev["test_accuracy"]
    assert full["original"]["best_accuracy"] == max(history["test_accuracy"])


def test_reinit_from_the_same_state_equals_original(setup, full):
    r = run(setup, reinit_state=setup["init_state"], checks=("original", "reinit"))
    assert list(r) == ["original", "reinit"]
    assert r["reinit"] == r["original"] == full["original"]


def test_only_requested_checks_come_back(setup):
    r = run(setup, checks=("original", "shuffle"))  # needs neither scores nor reinit_state
    assert list(r) == ["original", "shuffle"]


def test_variants_are_wired_to_the_right_masks_and_states(setup, monkeypatch):
    calls = []

    def fake(model, start_state, masks, train_data, test_data, train_config, **kw):
        calls.append((start_state, masks, train_config, kw))
        return model, {"test_accuracy": [0.25, 0.5]}, {"test_accuracy": 0.5, "test_loss": 1.0}

    monkeypatch.setattr(sanity, "train_pruned", fake)
    s = setup
    r = run(setup, scores=s["scores"], reinit_state=s["reinit_state"], seed=7,
            checks=("invert", "reinit", "shuffle", "original"))
    assert list(r) == ["invert", "reinit", "shuffle", "original"]
    assert r["invert"] == {"test_accuracy": 0.5, "best_accuracy": 0.5,
                           "kept_per_layer": r["original"]["kept_per_layer"]}
    expected = {"invert": (s["init_state"], invert_masks(s["scores"], s["masks"])),
                "reinit": (s["reinit_state"], s["masks"]),
                "shuffle": (s["init_state"], shuffle_within_layers(s["masks"], 7)),
                "original": (s["init_state"], s["masks"])}
    for (state, masks, cfg, kw), (name, (exp_state, exp_masks)) in zip(calls, expected.items()):
        assert state is exp_state, name
        assert list(masks) == list(exp_masks) and all(torch.equal(masks[n], exp_masks[n]) for n in masks), name
        assert cfg is TCFG and kw == {}, name  # same config, trained from step 0 for every variant


def _no_training(*a, **k):
    raise AssertionError("sanity_checks trained before validating its arguments")


@pytest.mark.parametrize("kw, param", [
    (dict(checks=("original", "prune_more")), "'checks'"),
    (dict(checks="shuffle"), "'checks'"),
    (dict(checks=()), "'checks'"),
    (dict(checks=("original", "original")), "'checks'"),
    (dict(checks=("original", "invert")), "'scores'"),
    (dict(checks=("original", "reinit")), "'reinit_state'"),
    (dict(checks=("shuffle",), seed=-1), "'seed'"),
])
def test_sanity_checks_errors(setup, monkeypatch, kw, param):
    monkeypatch.setattr(sanity, "train_pruned", _no_training)
    with pytest.raises(ValueError, match=param) as e:
        run(setup, **kw)
    if param == "'checks'" and "prune_more" in str(kw):
        assert all(c in str(e.value) for c in CHECKS)  # lists the allowed names


def test_sanity_checks_rejects_mismatched_scores_before_training(setup, monkeypatch):
    monkeypatch.setattr(sanity, "train_pruned", _no_training)
    s = setup
    scores = {n: v for n, v in s["scores"].items() if n != list(s["scores"])[-1]}
    with pytest.raises(ValueError, match="'scores'"):
        run(setup, scores=scores, checks=("original", "invert"))


# ---------------------------------------------------------------- groups, Su et al.'s checks, smart ratios

def test_grouped_shuffle_keeps_each_groups_count_and_moves_within_it():
    g = torch.Generator().manual_seed(3)
    masks = {"a.weight": torch.rand(30, 40, generator=g) < 0.3, "b.weight": torch.rand(5, 30, generator=g) < 0.5}
    varying = torch.zeros(40, dtype=torch.bool)
    varying[10:30] = True
    groups = sanity.input_groups(masks, "a.weight", varying)
    assert groups["a.weight"].shape == masks["a.weight"].shape and groups["a.weight"][:, 10:30].eq(1).all()
    out = shuffle_within_layers(masks, 5, groups)
    for cols in (varying, ~varying):     # each group keeps its count, and its entries move
        assert int(out["a.weight"][:, cols].sum()) == int(masks["a.weight"][:, cols].sum())
        assert not torch.equal(out["a.weight"][:, cols], masks["a.weight"][:, cols])
    # a layer without groups is shuffled exactly as without them
    assert torch.equal(out["b.weight"], shuffle_within_layers(masks, 5)["b.weight"])
    # a group of one entry cannot move; every entry in the constant group stays put when that group is all kept
    masks2 = {"a.weight": masks["a.weight"].clone()}
    masks2["a.weight"][:, ~varying] = True
    assert shuffle_within_layers(masks2, 1, groups)["a.weight"][:, ~varying].all()


@pytest.mark.parametrize("groups", [{"zzz": torch.zeros(2, 2, dtype=torch.long)},
                                    {"a.weight": torch.zeros(2, 3, dtype=torch.long)},
                                    {"a.weight": torch.zeros(20, 50)}, "bad"])
def test_grouped_shuffle_rejects_bad_groups(groups):
    masks = {"a.weight": torch.ones(20, 50, dtype=torch.bool)}
    with pytest.raises(ValueError, match="'groups'"):
        shuffle_within_layers(masks, 0, groups)


def test_informative_inputs_and_input_groups_errors():
    x = torch.zeros(20, 1, 2, 3)
    x[:, 0, 1, 2] = torch.arange(20.0)        # varies in every image
    x[:2, 0, 0, 0] = 1.0                      # off its usual value in 2 of 20 images
    assert sanity.informative_inputs(x, 0.0).tolist() == [True, False, False, False, False, True]
    assert sanity.informative_inputs(x, 0.1).tolist() == [False] * 5 + [True]      # 10% is not more than 10%
    assert sanity.informative_inputs(x, 0.05).tolist() == [True] + [False] * 4 + [True]
    with pytest.raises(ValueError, match="'x'"):
        sanity.informative_inputs(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="'min_fraction'"):
        sanity.informative_inputs(x, -1)
    masks = {"a.weight": torch.ones(4, 6, dtype=torch.bool)}
    with pytest.raises(ValueError, match="'layer'"):
        sanity.input_groups(masks, "b.weight", torch.ones(6, dtype=torch.bool))
    with pytest.raises(ValueError, match="'inputs'"):
        sanity.input_groups(masks, "a.weight", torch.ones(5, dtype=torch.bool))


def test_random_labels_and_pixels():
    y = torch.arange(10).repeat(50)
    r = sanity.random_labels(y, seed=0)
    assert r.shape == y.shape and r.dtype == y.dtype and int(r.min()) >= 0 and int(r.max()) <= 9
    assert (r == y).float().mean() < 0.2                       # about a tenth agree by chance
    assert torch.equal(r, sanity.random_labels(y, seed=0)) and not torch.equal(r, sanity.random_labels(y, seed=1))
    x = torch.randn(6, 1, 4, 4)
    p = sanity.random_pixels(x, seed=0)
    assert p.shape == x.shape
    for i in range(6):        # each image keeps its values, in other places, each by its own permutation
        assert torch.equal(torch.sort(p[i].reshape(-1)).values, torch.sort(x[i].reshape(-1)).values)
        assert not torch.equal(p[i], x[i])
    with pytest.raises(ValueError, match="'classes'"):
        sanity.random_labels(y, 0, classes=1)
    with pytest.raises(ValueError, match="'y'"):
        sanity.random_labels(torch.zeros(2, 2), 0)


@pytest.mark.parametrize("sparsity", [0.5, 0.84, 0.9744, 0.999])
def test_smart_ratio_keeps_the_budget_decays_with_depth_and_caps(sparsity):
    like = {"l1": torch.zeros(300, 784), "l2": torch.zeros(100, 300), "l3": torch.zeros(10, 100)}
    m = sanity.smart_ratio_masks(like, sparsity, seed=0)
    total = sum(v.numel() for v in like.values())
    assert sum(int(v.sum()) for v in m.values()) == round((1 - sparsity) * total)
    frac = [float(v.float().mean()) for v in m.values()]
    assert all(0 <= f <= 1 for f in frac)
    # the decay: layer 1 gets (12 / 1) / (6 / 4) = 8 times layer 2's fraction where neither is capped
    # (up to the rounding of each layer's count to a whole entry)
    k2 = int(m["l2"].sum())
    if frac[0] < 1:
        assert abs(frac[0] - 8.0 * frac[1]) <= 8.0 / 30000 + 2.0 / 235200, (frac, k2)
    # the classifier: 30%, or half the budget where 30% would take more
    want = min(0.3, 0.5 * round((1 - sparsity) * total) / 1000)
    assert frac[2] == pytest.approx(want, abs=2e-3)
    assert torch.equal(m["l1"], sanity.smart_ratio_masks(like, sparsity, seed=0)["l1"])


def test_smart_ratio_caps_a_small_first_layer_and_gives_the_rest_on():
    like = {"c1": torch.zeros(8, 1, 3, 3), "c2": torch.zeros(16, 8, 3, 3), "fc": torch.zeros(10, 784)}
    m = sanity.smart_ratio_masks(like, 0.5, seed=1)
    assert bool(m["c1"].all())                             # capped at the whole layer
    assert sum(int(v.sum()) for v in m.values()) == round(0.5 * sum(v.numel() for v in like.values()))
    with pytest.raises(ValueError, match="'last_keep'"):
        sanity.smart_ratio_masks(like, 0.5, 0, last_keep=0)
    with pytest.raises(ValueError, match="'like'"):
        sanity.smart_ratio_masks({"a": torch.zeros(3)}, 0.5, 0)


def test_shuffle_informative_and_precomputed_inverted_masks_are_wired(setup, monkeypatch):
    calls = []

    def fake(model, start_state, masks, train_data, test_data, train_config, **kw):
        calls.append(masks)
        return model, {"test_accuracy": [0.5]}, {"test_accuracy": 0.5, "test_loss": 1.0}

    monkeypatch.setattr(sanity, "train_pruned", fake)
    s = setup
    first = list(s["masks"])[0]
    varying = torch.zeros(s["masks"][first].shape[1], dtype=torch.bool)
    varying[::2] = True
    groups = sanity.input_groups(s["masks"], first, varying)
    inverted = {n: ~m for n, m in s["masks"].items()}
    run(setup, seed=3, checks=("shuffle_informative", "invert"), groups=groups, inverted=inverted)
    exp = shuffle_within_layers(s["masks"], 3, groups)
    assert all(torch.equal(calls[0][n], exp[n]) for n in exp)
    assert all(torch.equal(calls[1][n], inverted[n]) for n in inverted)
    with pytest.raises(ValueError, match="'groups'"):
        run(setup, checks=("shuffle_informative",))
