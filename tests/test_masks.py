"""Tests for pruning_utils.masks: exact counts, tie-breaking, scopes, the
torch.nn.utils.prune layout, reports."""

import io
import math
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils import prune

from pruning_utils.masks import (apply_masks, dense_state_dict, effective_weights, get_masks,
                                 mask_overlap, masks_from_scores, remove_masks, sparsity_report)
from pruning_utils.models import build_model, prunable_layers


def small_mlp(seed=0):
    return build_model("mlp", input_shape=(1, 1, 12), hidden=(10, 8), num_classes=3, seed=seed)


def random_masks(model, sparsity=0.5, seed=0):
    g = torch.Generator().manual_seed(seed)
    scores = {n: torch.rand(m.weight.shape, generator=g) for n, m in prunable_layers(model).items()}
    return masks_from_scores(scores, sparsity)


def removed_count(masks):
    return sum(int((~m).sum()) for m in masks.values())


# ---------------------------------------------------------------------------
# exact counts


@settings(max_examples=30, deadline=None, database=None)
@given(shapes=st.lists(st.lists(st.integers(1, 7), min_size=1, max_size=3), min_size=1, max_size=4),
       sparsity=st.floats(0.0, 1.0, exclude_max=True),
       seed=st.integers(0, 2**16),
       levels=st.sampled_from([3, 1000]))
def test_exact_counts_global_and_layerwise(shapes, sparsity, seed, levels):
    g = torch.Generator().manual_seed(seed)
    # few levels -> many ties; many levels -> mostly distinct scores
    scores = {f"l{i}.weight": torch.randint(0, levels, tuple(s), generator=g).float()
              for i, s in enumerate(shapes)}
    n = sum(s.numel() for s in scores.values())

    glob = masks_from_scores(scores, sparsity, scope="global")
    assert set(glob) == set(scores)
    for k in scores:
        assert glob[k].dtype == torch.bool and glob[k].shape == scores[k].shape
    assert removed_count(glob) == round(sparsity * n)
    # every kept score is >= every removed score
    kept = torch.cat([scores[k][glob[k]] for k in scores])
    gone = torch.cat([scores[k][~glob[k]] for k in scores])
    if kept.numel() and gone.numel():
        assert kept.min() >= gone.max()

    lw = masks_from_scores(scores, sparsity, scope="layerwise")
    for k, s in scores.items():
        assert int((~lw[k]).sum()) == round(sparsity * s.numel())
        kept, gone = s[lw[k]], s[~lw[k]]
        if kept.numel() and gone.numel():
            assert kept.min() >= gone.max()


def test_exact_count_uses_python_round():
    scores = {"a": torch.arange(10.0)}
    # round(0.25 * 10) = round(2.5) = 2 (Python rounds half to even)
    assert removed_count(masks_from_scores(scores, 0.25)) == round(2.5) == 2
    assert removed_count(masks_from_scores(scores, 0.35)) == 4  # round(3.5) = 4
    assert removed_count(masks_from_scores(scores, 0.0)) == 0
    m = masks_from_scores(scores, 0.3)
    assert m["a"].tolist() == [False] * 3 + [True] * 7


# ---------------------------------------------------------------------------
# ties


def test_tie_break_explicit_global():
    scores = {"a": torch.tensor([[2.0, 1.0], [1.0, 3.0]]), "b": torch.tensor([1.0, 0.5])}
    # remove 3 of 6: b[1] (0.5), then the ties at 1.0 in order a[0,1], a[1,0], b[0]
    m = masks_from_scores(scores, 0.5)
    assert m["a"].tolist() == [[True, False], [False, True]]
    assert m["b"].tolist() == [True, False]
    # remove 4: the last tied entry b[0] goes too
    m = masks_from_scores(scores, 4 / 6)
    assert m["a"].tolist() == [[True, False], [False, True]]
    assert m["b"].tolist() == [False, False]
    # remove 2: only the first of the tied entries (a[0,1])
    m = masks_from_scores(scores, 2 / 6)
    assert m["a"].tolist() == [[True, False], [True, True]]
    assert m["b"].tolist() == [True, False]


def test_tie_break_layer_order_follows_dict_order():
    a, b = torch.ones(3), torch.ones(3)
    m = masks_from_scores({"a": a, "b": b}, 0.5)
    assert m["a"].tolist() == [False, False, False] and m["b"].tolist() == [True] * 3
    m = masks_from_scores({"b": b, "a": a}, 0.5)
    assert m["b"].tolist() == [False, False, False] and m["a"].tolist() == [True] * 3


def test_tie_break_layerwise_row_major():
    scores = {"a": torch.zeros(2, 3), "b": torch.tensor([5.0, 5.0, 5.0, 1.0])}
    m = masks_from_scores(scores, 0.5, scope="layerwise")
    assert m["a"].tolist() == [[False, False, False], [True, True, True]]
    assert m["b"].tolist() == [False, True, True, False]  # 1.0 first, then the first 5.0


def test_deterministic_repeat():
    g = torch.Generator().manual_seed(1)
    scores = {"a": torch.randint(0, 3, (20, 7), generator=g).float(),
              "b": torch.randint(0, 3, (33,), generator=g).float()}
    for scope in ("global", "layerwise"):
        m1 = masks_from_scores(scores, 0.37, scope)
        m2 = masks_from_scores({k: v.clone() for k, v in scores.items()}, 0.37, scope)
        assert all(torch.equal(m1[k], m2[k]) for k in scores)


# ---------------------------------------------------------------------------
# global vs layer-wise


def test_global_vs_layerwise_on_tiny_layer():
    g = torch.Generator().manual_seed(0)
    scores = {"big": 10.0 + torch.rand(10, 10, generator=g), "tiny": 1e-3 * torch.rand(10, generator=g)}
    glob = masks_from_scores(scores, 0.1, "global")  # removes round(0.1 * 110) = 11
    assert int(glob["tiny"].sum()) == 0  # emptied
    assert int((~glob["big"]).sum()) == 1
    lw = masks_from_scores(scores, 0.1, "layerwise")
    assert int(lw["tiny"].sum()) == 9  # keeps its share
    assert int((~lw["big"]).sum()) == 10
    # the one big entry removed globally is the smallest big score
    assert scores["big"][~glob["big"]].item() == scores["big"].min().item()


# ---------------------------------------------------------------------------
# current= keeps removed entries removed


@pytest.mark.parametrize("scope", ["global", "layerwise"])
def test_current_keeps_removed_removed(scope):
    g = torch.Generator().manual_seed(3)
    s1 = {"a": torch.rand(8, 9, generator=g), "b": torch.rand(17, generator=g)}
    m1 = masks_from_scores(s1, 0.5, scope)
    # new scores that rank the removed entries highest: without current= they would come back
    s2 = {k: torch.where(m1[k], torch.rand(v.shape, generator=g), 10 + torch.rand(v.shape, generator=g))
          for k, v in s1.items()}
    free = masks_from_scores(s2, 0.6, scope)
    assert any(bool((~m1[k] & free[k]).any()) for k in s1)
    m2 = masks_from_scores(s2, 0.6, scope, current=m1)
    for k in s1:
        assert not bool((~m1[k] & m2[k]).any()), "a removed entry came back"
    if scope == "global":
        assert removed_count(m2) == round(0.6 * 89)
    else:
        for k, v in s1.items():
            assert int((~m2[k]).sum()) == round(0.6 * v.numel())
    # among the entries still kept, the lowest new scores were removed
    newly = torch.cat([s2[k][m1[k] & ~m2[k]] for k in s1])
    still = torch.cat([s2[k][m2[k]] for k in s1])
    if scope == "global":
        assert newly.max() <= still.min()


def test_current_missing_name():
    s = {"a": torch.rand(4), "b": torch.rand(4)}
    with pytest.raises(ValueError, match="current"):
        masks_from_scores(s, 0.5, current={"a": torch.ones(4, dtype=torch.bool)})


# ---------------------------------------------------------------------------
# bad inputs


@pytest.mark.parametrize("bad", [1.0, -0.1, True, 1.5, float("nan"), "0.5", None])
def test_bad_sparsity(bad):
    with pytest.raises(ValueError, match="sparsity"):
        masks_from_scores({"a": torch.rand(4)}, bad)


def test_bad_scope():
    with pytest.raises(ValueError, match="scope") as e:
        masks_from_scores({"a": torch.rand(4)}, 0.5, scope="foo")
    assert "global" in str(e.value) and "layerwise" in str(e.value)


@pytest.mark.parametrize("scores", [{}, {"a": torch.tensor([1.0, float("nan")])}, {"a": [1.0, 2.0]}, [torch.rand(3)]])
def test_bad_scores(scores):
    with pytest.raises(ValueError, match="scores"):
        masks_from_scores(scores, 0.5)


def test_minus_inf_scores_allowed():
    m = masks_from_scores({"a": torch.tensor([0.0, -math.inf, 1.0, -math.inf])}, 0.5)
    assert m["a"].tolist() == [True, False, True, False]


# ---------------------------------------------------------------------------
# apply_masks / get_masks / remove


def test_apply_masks_prune_layout():
    model = small_mlp()
    masks = random_masks(model, 0.6)
    dense = {n: m.weight.detach().clone() for n, m in prunable_layers(model).items()}
    out = apply_masks(model, masks)
    assert out is model
    assert prune.is_pruned(model)
    params = dict(model.named_parameters())
    buffers = dict(model.named_buffers())
    for name, module in prunable_layers(model).items():
        prefix = name[: -len("weight")]
        assert prefix + "weight_orig" in params
        assert prefix + "weight" not in params
        assert buffers[prefix + "weight_mask"].dtype == module.weight_orig.dtype
        assert torch.equal(buffers[prefix + "weight_mask"].bool(), masks[name])
        assert torch.equal(module.weight_orig, dense[name])  # the parameter itself is untouched
        model(torch.randn(2, 12))
        assert torch.equal(module.weight, dense[name] * masks[name])
    # the masked function is the dense function with masked weights
    x = torch.randn(5, 1, 1, 12)
    ref = small_mlp()
    with torch.no_grad():
        for name, module in prunable_layers(ref).items():
            module.weight.mul_(masks[name])
    assert torch.equal(model(x), ref(x))


def test_reapply_replaces_mask():
    model = small_mlp()
    m1 = random_masks(model, 0.5, seed=1)
    m2 = {k: ~v for k, v in m1.items()}  # complement: a product would be all zero
    apply_masks(model, m1)
    apply_masks(model, m2)
    got = get_masks(model)
    assert all(torch.equal(got[k], m2[k]) for k in m2)
    x = torch.randn(4, 12)
    ref = small_mlp()
    with torch.no_grad():
        for name, module in prunable_layers(ref).items():
            module.weight.mul_(m2[name])
    assert torch.equal(model(x), ref(x))
    # still one pruning hook per layer
    for module in prunable_layers(model).values():
        hooks = [h for h in module._forward_pre_hooks.values() if isinstance(h, prune.BasePruningMethod)]
        assert len(hooks) == 1


def test_get_masks_round_trip_and_unpruned():
    model = small_mlp()
    got = get_masks(model)
    assert all(v.dtype == torch.bool and bool(v.all()) for v in got.values())
    assert list(got) == ["0.weight", "2.weight", "4.weight"]
    masks = random_masks(model, 0.3)
    apply_masks(model, masks)
    got = get_masks(model)
    assert list(got) == list(masks)
    assert all(torch.equal(got[k], masks[k]) for k in masks)
    # get_masks returns copies
    got["0.weight"][:] = False
    assert bool(get_masks(model)["0.weight"].any())


def test_apply_masks_bad_name_and_shape():
    model = small_mlp()
    with pytest.raises(ValueError, match="nope.weight"):
        apply_masks(model, {"nope.weight": torch.ones(3, 3, dtype=torch.bool)})
    with pytest.raises(ValueError, match="shape"):
        apply_masks(model, {"0.weight": torch.ones(3, 3, dtype=torch.bool)})


def test_state_dict_round_trip():
    model = small_mlp(seed=0)
    masks = random_masks(model, 0.7)
    apply_masks(model, masks)
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)
    assert any(k.endswith("weight_orig") for k in state) and any(k.endswith("weight_mask") for k in state)

    fresh = small_mlp(seed=5)  # other weights
    apply_masks(fresh, {k: torch.ones_like(v) for k, v in masks.items()})  # other masks
    fresh.load_state_dict(state)
    x = torch.randn(6, 12)
    assert torch.equal(fresh(x), model(x))
    got = get_masks(fresh)
    assert all(torch.equal(got[k], masks[k]) for k in masks)


def test_remove_masks_keeps_function_and_zeros():
    model = small_mlp()
    masks = random_masks(model, 0.6)
    apply_masks(model, masks)
    x = torch.randn(7, 12)
    before = model(x).detach()
    remove_masks(model)
    assert not prune.is_pruned(model)
    names = dict(model.named_parameters())
    assert not any(k.endswith("_orig") for k in names)
    assert not any(k.endswith("_mask") for k, _ in model.named_buffers())
    for name, module in prunable_layers(model).items():
        assert isinstance(module.weight, nn.Parameter)
        assert bool((module.weight[~masks[name]] == 0).all())
        assert int((module.weight != 0).sum()) == int(masks[name].sum())  # random init has no exact zeros
    assert torch.equal(model(x), before)


def test_prune_remove_directly():
    model = small_mlp()
    masks = random_masks(model, 0.4)
    apply_masks(model, masks)
    x = torch.randn(3, 12)
    before = model(x).detach()
    for module in prunable_layers(model).values():
        prune.remove(module, "weight")
    assert torch.equal(model(x), before)
    for name, module in prunable_layers(model).items():
        assert bool((module.weight[~masks[name]] == 0).all())


def test_effective_weights():
    model = small_mlp()
    dense = {n: m.weight.detach().clone() for n, m in prunable_layers(model).items()}
    eff = effective_weights(model)
    assert all(torch.equal(eff[k], dense[k]) for k in dense)
    masks = random_masks(model, 0.5)
    apply_masks(model, masks)
    eff = effective_weights(model)
    assert all(torch.equal(eff[k], dense[k] * masks[k]) for k in dense)


# ---------------------------------------------------------------------------
# reports


def test_sparsity_report_counts():
    model = small_mlp()  # weights 12*10, 10*8, 8*3
    masks = masks_from_scores({n: torch.rand(m.weight.shape) for n, m in prunable_layers(model).items()},
                              0.5, "layerwise")
    apply_masks(model, masks)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rep = sparsity_report(model)
    assert rep["total"] == 120 + 80 + 24
    assert rep["kept"] == 60 + 40 + 12
    assert rep["sparsity"] == pytest.approx(0.5)
    assert rep["layers"]["0.weight"] == {"total": 120, "kept": 60, "sparsity": 0.5}
    assert rep["layers"]["4.weight"]["kept"] == 12
    assert rep["collapsed"] == []
    rep2 = sparsity_report(masks)
    assert rep2 == rep
    # unpruned model
    rep = sparsity_report(small_mlp())
    assert rep["kept"] == rep["total"] == 224 and rep["sparsity"] == 0.0


def test_sparsity_report_layer_collapse_warning():
    masks = {"a": torch.tensor([True, False, True]), "b": torch.zeros(2, 2, dtype=torch.bool)}
    with pytest.warns(RuntimeWarning, match="layer collapse.*b"):
        rep = sparsity_report(masks)
    assert rep["collapsed"] == ["b"]
    assert rep["kept"] == 2 and rep["total"] == 7
    assert rep["sparsity"] == pytest.approx(5 / 7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rep = sparsity_report(masks, warn=False)
    assert rep["collapsed"] == ["b"]


def test_mask_overlap():
    a = {"x": torch.tensor([True, True, False, False]), "y": torch.tensor([[True, False]])}
    b = {"x": torch.tensor([True, False, False, True]), "y": torch.tensor([[True, True]])}
    # agree on x[0], x[2], y[0,0] -> 3 of 6
    assert mask_overlap(a, b) == pytest.approx(0.5)
    assert mask_overlap(a, a) == 1.0
    assert mask_overlap(a, {k: ~v for k, v in a.items()}) == 0.0
    with pytest.raises(ValueError):
        mask_overlap(a, {"x": a["x"]})


def test_dense_state_dict():
    model = small_mlp()
    masks = random_masks(model, 0.5)
    apply_masks(model, masks)
    state = dense_state_dict(model)
    plain = small_mlp(seed=9)
    assert set(state) == set(plain.state_dict())
    for name, module in prunable_layers(model).items():
        assert torch.equal(state[name], (module.weight_orig * module.weight_mask).detach())
        assert not state[name].requires_grad
    plain.load_state_dict(state)
    x = torch.randn(5, 12)
    assert torch.equal(plain(x), model(x))
    # a copy: changing it leaves the model alone
    state["0.weight"].fill_(7.0)
    assert not bool((model.get_submodule("0").weight_orig == 7.0).all())
    # an unpruned model gives its plain state
    un = small_mlp()
    st_ = dense_state_dict(un)
    assert all(torch.equal(st_[k], v) for k, v in un.state_dict().items())


def test_current_removing_more_than_target_is_an_error():
    scores = {"a": torch.arange(10.0), "b": torch.arange(10.0)}
    current = masks_from_scores(scores, 0.5, "global")
    with pytest.raises(ValueError, match="'sparsity'.*already removes 10"):
        masks_from_scores(scores, 0.3, "global", current=current)
    # layer-wise: a layer already sparser than the target is refused too
    lw = {"a": torch.arange(10.0) < 2, "b": torch.ones(10, dtype=torch.bool)}
    with pytest.raises(ValueError, match="in 'a'"):
        masks_from_scores(scores, 0.5, "layerwise", current=lw)
    # equal to the current sparsity is fine and changes nothing
    again = masks_from_scores(scores, 0.5, "global", current=current)
    assert all(torch.equal(again[k], current[k]) for k in scores)


def test_plus_inf_scores_are_protected():
    inf = float("inf")
    scores = {"a": torch.tensor([inf, 1.0, 2.0, inf]), "b": torch.tensor([0.5, inf])}
    m = masks_from_scores(scores, 0.5, "global")  # removes 3 of the 3 finite entries
    assert m["a"].tolist() == [True, False, False, True] and m["b"].tolist() == [False, True]
    with pytest.raises(ValueError, match="'sparsity'.*only 3 are not protected"):
        masks_from_scores(scores, 0.67, "global")  # would remove 4
    with pytest.raises(ValueError, match="in 'a'"):
        masks_from_scores(scores, 0.9, "layerwise")  # 'a' has two removable entries, must remove 4


def test_numpy_sparsity_and_empty_overlap():
    import numpy as np
    scores = {"a": torch.arange(10.0)}
    assert int((~masks_from_scores(scores, np.float32(0.3))["a"]).sum()) == 3
    with pytest.raises(ValueError, match="empty"):
        mask_overlap({}, {})


def test_kept_overlap_and_its_chance_level():
    from pruning_utils.masks import kept_overlap
    a = {"w": torch.tensor([True, True, False, False])}
    b = {"w": torch.tensor([True, False, True, False])}
    assert kept_overlap(a, b) == 0.5
    assert kept_overlap(a, a) == 1.0
    # two independent random masks at 90% sparsity share about 10% of their kept entries
    g = torch.Generator().manual_seed(0)
    ra = masks_from_scores({"w": torch.rand(100_000, generator=g)}, 0.9)
    rb = masks_from_scores({"w": torch.rand(100_000, generator=g)}, 0.9)
    assert abs(kept_overlap(ra, rb) - 0.1) < 0.01
    with pytest.raises(ValueError, match="keeps no entry"):
        kept_overlap({"w": torch.zeros(3, dtype=torch.bool)}, {"w": torch.ones(3, dtype=torch.bool)})


def test_jaccard_and_its_chance_level():
    from pruning_utils.masks import jaccard, jaccard_chance
    a = {"w": torch.tensor([True, True, False, False]), "v": torch.tensor([True, False])}
    b = {"w": torch.tensor([True, False, True, False]), "v": torch.tensor([True, False])}
    assert jaccard(a, b) == pytest.approx(2 / 4)            # {w0, v0} shared, {w0, w1, w2, v0} in either
    assert jaccard(a, a) == 1.0
    # chance given the per-layer counts: E|A & B| = 2*2/4 + 1*1/2 = 1.5; |A| + |B| = 6
    assert jaccard_chance(a, b) == pytest.approx(1.5 / (6 - 1.5))
    # against the Monte Carlo mean of independent random placements with the same per-layer counts
    g = torch.Generator().manual_seed(0)
    big_a = {"x": torch.rand(4000, generator=g) < 0.3, "y": torch.rand(500, generator=g) < 0.8}
    counts = {k: int(m.sum()) for k, m in big_a.items()}
    sims = []
    for _ in range(200):
        rb = {}
        for k, m in big_a.items():
            z = torch.zeros(m.numel(), dtype=torch.bool)
            z[torch.randperm(m.numel(), generator=g)[:counts[k]]] = True
            rb[k] = z
        sims.append(jaccard(big_a, rb))
    assert jaccard_chance(big_a, big_a) == pytest.approx(sum(sims) / len(sims), rel=0.01)
    with pytest.raises(ValueError, match="'a' and 'b'"):
        jaccard(a, {"w": a["w"]})
    with pytest.raises(ValueError, match="shapes"):
        jaccard_chance(a, {"w": a["w"], "v": torch.tensor([True, False, True])})


def test_jaccard_max_is_what_the_counts_allow():
    from pruning_utils.masks import jaccard, jaccard_max
    a = {"x": torch.tensor([True, True, True, False]), "y": torch.tensor([True, False])}
    b = {"x": torch.tensor([False, True, False, False]), "y": torch.tensor([True, True])}
    assert jaccard_max(a, b) == pytest.approx((1 + 1) / (3 + 2))
    nested = {"x": torch.tensor([True, False, False, False]), "y": torch.tensor([True, False])}
    bigger = {"x": torch.tensor([True, True, True, False]), "y": torch.tensor([True, True])}
    assert jaccard(nested, bigger) == jaccard_max(nested, bigger)        # reached when one lies inside the other
    assert jaccard_max(a, a) == 1.0
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        u = {"x": torch.rand(50, generator=g) < 0.3, "y": torch.rand(20, generator=g) < 0.7}
        v = {"x": torch.rand(50, generator=g) < 0.6, "y": torch.rand(20, generator=g) < 0.2}
        assert jaccard(u, v) <= jaccard_max(u, v) <= 1.0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([-math.inf, -1.0, -0.0, 0.0, 0.25, 1.0, 2.5, math.inf, math.nan]), min_size=1,
                max_size=60), st.data(), st.sampled_from([torch.float32, torch.float64, torch.int64]))
def test_lowest_is_the_stable_sorts_first_k(values, data, dtype):
    """The selection in ``_lowest`` removes exactly the first k of a stable sort (ties to the lower index,
    -0.0 equal to 0.0, NaN highest), for every k."""
    from pruning_utils.masks import _lowest

    if dtype == torch.int64:
        values = [int(v) if math.isfinite(v) else 7 for v in values]
    flat = torch.tensor(values, dtype=dtype)
    k = data.draw(st.integers(-1, len(values) + 1))
    expected = torch.zeros(len(values), dtype=torch.bool)
    if k > 0:
        expected[torch.sort(flat, stable=True).indices[:k]] = True
    assert _lowest(flat, k).tolist() == expected.tolist()
