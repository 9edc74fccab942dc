"""Tests for pruning_utils.scores, pruning_utils.params and pruning_utils.store."""

import json

import pytest
import torch
import torch.nn.functional as F

from pruning_utils.masks import apply_masks, masks_from_scores
from pruning_utils.models import build_model, prunable_layers
from pruning_utils.params import Bool, Choice, Float, FloatList, Int, Str, validate
from pruning_utils.scores import magnitude_scores, random_scores, snip_scores
from pruning_utils.store import ResultStore, atomic_write_text


def tiny(seed=0):
    return build_model("mlp", input_shape=(1, 1, 5), hidden=(4,), num_classes=3, seed=seed)


def half_masks(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    return masks_from_scores({n: torch.rand(m.weight.shape, generator=g)
                              for n, m in prunable_layers(model).items()}, 0.5)


# ---------------------------------------------------------------------------
# scores


def test_magnitude_scores():
    model = tiny()
    w = {n: m.weight.detach().clone() for n, m in prunable_layers(model).items()}
    s = magnitude_scores(model)
    assert list(s) == ["0.weight", "2.weight"]
    assert all(torch.equal(s[n], w[n].abs()) for n in w)
    masks = half_masks(model)
    apply_masks(model, masks)
    s = magnitude_scores(model)
    for n in w:
        assert torch.equal(s[n], (w[n] * masks[n]).abs())
        assert bool((s[n][~masks[n]] == 0).all())
        assert bool((s[n][masks[n]] > 0).all())
        assert not s[n].requires_grad
    # a copy, not a view of the weights
    s["0.weight"].fill_(5.0)
    assert not bool((prunable_layers(model)["0.weight"].weight_orig == 5.0).any())


def test_random_scores():
    model = tiny()
    a, b, c = random_scores(model, 0), random_scores(model, 0), random_scores(model, 1)
    assert list(a) == ["0.weight", "2.weight"]
    for n, m in prunable_layers(model).items():
        assert a[n].shape == m.weight.shape
        assert torch.equal(a[n], b[n])
        assert not torch.equal(a[n], c[n])
        assert float(a[n].min()) >= 0.0 and float(a[n].max()) < 1.0
    # independent of the weights and of the global RNG
    torch.manual_seed(0)
    d = random_scores(tiny(seed=3), 0)
    assert all(torch.equal(a[n], d[n]) for n in a)
    for bad in (1.5, True, "0", None):
        with pytest.raises(ValueError, match="'seed'"):
            random_scores(model, bad)


def _manual_forward(params, x):
    w1, b1, w2, b2 = params
    return F.linear(torch.relu(F.linear(x.flatten(1), w1, b1)), w2, b2)


@pytest.mark.parametrize("masked", [False, True])
def test_snip_scores_by_hand(masked):
    torch.manual_seed(0)
    model = tiny()
    x, y = torch.randn(6, 1, 1, 5), torch.tensor([0, 1, 2, 0, 1, 2])
    masks = half_masks(model) if masked else None
    if masked:
        apply_masks(model, masks)
    # effective weights as leaves, forward written out by hand
    m0, m2 = model[0], model[2]
    eff = lambda m, n: (m.weight_orig * m.weight_mask if masked else m.weight)  # noqa: E731
    w1 = eff(m0, "0").detach().clone().requires_grad_(True)
    w2 = eff(m2, "2").detach().clone().requires_grad_(True)
    b1, b2 = m0.bias.detach().clone(), m2.bias.detach().clone()
    loss = F.cross_entropy(_manual_forward((w1, b1, w2, b2), x), y)
    loss.backward()
    expected = {"0.weight": (w1 * w1.grad).abs().detach(), "2.weight": (w2 * w2.grad).abs().detach()}

    s = snip_scores(model, x, y)
    assert list(s) == ["0.weight", "2.weight"]
    for n in expected:
        torch.testing.assert_close(s[n], expected[n])
        assert float(s[n].sum()) > 0
        if masked:
            assert bool((s[n][~masks[n]] == 0).all())
    # .grad is left alone
    assert all(p.grad is None for p in model.parameters())


def test_snip_scores_bad_batch():
    model = tiny()
    with pytest.raises(ValueError, match="'x' and 'y'"):
        snip_scores(model, torch.randn(4, 5), torch.tensor([0, 1]))
    with pytest.raises(ValueError):
        snip_scores(model, torch.randn(0, 5), torch.zeros(0, dtype=torch.long))


# ---------------------------------------------------------------------------
# params.validate

SCHEMA = {
    "n": Int(3, 1, 10),
    "lr": Float(0.1, 0.0, 1.0, low_inclusive=False),
    "act": Choice("relu", ("relu", "tanh")),
    "flag": Bool(False),
    "tag": Str("x"),
    "fracs": FloatList((0.5,), 0.0, 1.0, high_inclusive=False),
    "opt": Int(None, 0, None, allow_none=True),
}


def test_validate_defaults_and_coercion():
    out = validate({}, SCHEMA)
    assert out == {"n": 3, "lr": 0.1, "act": "relu", "flag": False, "tag": "x", "fracs": (0.5,), "opt": None}
    assert validate(None, SCHEMA) == out
    out = validate({"n": 10, "lr": 1, "fracs": [0, 0.25], "opt": 4, "act": "tanh", "flag": True, "tag": ""}, SCHEMA)
    assert out["lr"] == 1.0 and isinstance(out["lr"], float)
    assert out["fracs"] == (0.0, 0.25) and all(isinstance(v, float) for v in out["fracs"])
    assert out["n"] == 10 and out["opt"] == 4 and out["flag"] is True and out["tag"] == ""


def test_validate_unknown_name_lists_known():
    with pytest.raises(ValueError) as e:
        validate({"nn": 3, "zz": 1}, SCHEMA)
    msg = str(e.value)
    assert "'nn'" in msg and "'zz'" in msg
    assert "known parameters are: act, flag, fracs, lr, n, opt, tag" in msg


@pytest.mark.parametrize("name,value,allowed", [
    ("n", 0, "1 <= x <= 10"),
    ("n", 11, "1 <= x <= 10"),
    ("n", 2.0, "an integer"),
    ("n", True, "an integer"),
    ("n", "3", "an integer"),
    ("n", None, "an integer"),
    ("lr", 0.0, "0.0 < x <= 1.0"),
    ("lr", 1.5, "0.0 < x <= 1.0"),
    ("lr", float("nan"), "a number"),
    ("lr", float("inf"), "a number"),
    ("lr", "0.1", "a number"),
    ("lr", False, "a number"),
    ("act", "gelu", "one of 'relu', 'tanh'"),
    ("act", None, "one of 'relu', 'tanh'"),
    ("flag", 1, "True or False"),
    ("flag", "True", "True or False"),
    ("tag", 3, "a string"),
    ("fracs", [], "a non-empty list of numbers"),
    ("fracs", [0.5, 1.0], "each x < 1.0"),
    ("fracs", [-0.1], "0.0 <= each x"),
    ("fracs", "0.5", "list of numbers"),
    ("fracs", [True], "list of numbers"),
    ("fracs", 0.5, "list of numbers"),
    ("opt", -1, "0 <= x, or None"),
    ("opt", 1.5, "or None"),
])
def test_validate_rejects(name, value, allowed):
    with pytest.raises(ValueError) as e:
        validate({name: value}, SCHEMA)
    msg = str(e.value)
    assert f"parameter {name!r}" in msg
    assert repr(value) in msg
    assert allowed in msg


def test_validate_accepts_boundaries():
    assert validate({"n": 1}, SCHEMA)["n"] == 1
    assert validate({"lr": 1.0}, SCHEMA)["lr"] == 1.0
    assert validate({"fracs": (0.0, 0.999)}, SCHEMA)["fracs"] == (0.0, 0.999)
    assert validate({"opt": None}, SCHEMA)["opt"] is None
    assert validate({"opt": 10**12}, SCHEMA)["opt"] == 10**12
    assert validate({"fracs": []}, {"fracs": FloatList((), min_len=0)})["fracs"] == ()


# ---------------------------------------------------------------------------
# ResultStore


def test_result_store_in_memory():
    s = ResultStore()
    assert "a" not in s
    s.put("a", {"x": (1, 2), "y": 0.5})
    assert "a" in s and s["a"] == {"x": [1, 2], "y": 0.5}  # JSON-normalised
    with pytest.raises(KeyError):
        s["b"]
    with pytest.raises(TypeError):
        s.put("bad", torch.zeros(2))  # not JSON


def test_result_store_file_resume(tmp_path):
    path = tmp_path / "sub" / "res.json"
    meta = {"seed": 0, "sizes": (1, 2)}
    s = ResultStore(path, meta)
    calls = []

    def work(v):
        def fn():
            calls.append(v)
            return {"value": v}
        return fn

    assert s.get_or_run("p1", work(1)) == {"value": 1}
    assert s.get_or_run("p2", work(2)) == {"value": 2}
    assert calls == [1, 2]
    saved = json.loads(path.read_text())
    assert saved == {"meta": {"seed": 0, "sizes": [1, 2]}, "data": {"p1": {"value": 1}, "p2": {"value": 2}}}
    assert not list(path.parent.glob("*.tmp"))

    # reopened with the same meta: finished pieces are not run again
    s2 = ResultStore(path, {"seed": 0, "sizes": [1, 2]})
    assert "p1" in s2 and s2["p2"] == {"value": 2}
    assert s2.get_or_run("p1", work(99)) == {"value": 1}
    assert s2.get_or_run("p3", work(3)) == {"value": 3}
    assert calls == [1, 2, 3]
    assert json.loads(path.read_text())["data"]["p3"] == {"value": 3}

    # other meta: refused, file unchanged
    before = path.read_text()
    with pytest.raises(ValueError, match="other parameters"):
        ResultStore(path, {"seed": 1, "sizes": [1, 2]})
    assert path.read_text() == before


def test_atomic_write_text(tmp_path):
    p = tmp_path / "a" / "b.txt"
    atomic_write_text(p, "one")
    atomic_write_text(p, "two")
    assert p.read_text() == "two"
    assert sorted(x.name for x in p.parent.iterdir()) == ["b.txt"]


def test_snip_scores_batched_equals_full_batch():
    from pruning_utils.data import load_dataset
    from pruning_utils.models import build_model
    from pruning_utils.scores import snip_scores
    x, y = load_dataset("synthetic", n=100, dim=20, classes=4)
    net = build_model("mlp", input_shape=(1, 1, 20), hidden=(16,), num_classes=4, seed=0).double()
    full = snip_scores(net, x.double(), y)
    chunked = snip_scores(net, x.double(), y, batch_size=32)  # 32 + 32 + 32 + 4
    for k in full:
        assert torch.allclose(full[k], chunked[k], rtol=1e-10, atol=1e-14)
    with pytest.raises(ValueError, match="'batch_size'"):
        snip_scores(net, x.double(), y, batch_size=0)


def test_choice_does_not_confuse_bools_and_ints():
    from pruning_utils.params import Choice, validate
    schema = {"bf16": Choice("auto", ("auto", True, False)), "k": Choice(1, (1, 2))}
    assert validate({"bf16": True}, schema)["bf16"] is True
    for bad in ({"bf16": 1}, {"bf16": 0}, {"k": True}):
        with pytest.raises(ValueError, match="expected one of"):
            validate(bad, schema)
