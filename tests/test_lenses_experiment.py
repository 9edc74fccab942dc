"""Chapter 06's experiment: a tiny run of both networks with a reader's method, its bookkeeping, bad
parameters, and the controls of its claims."""

from __future__ import annotations

import copy
import sys

import pytest

from pruning_utils.claims import evaluate
from pruning_utils.experiments import lenses
from pruning_utils.models import prunable_layers

TINY = dict(dataset="digits", conv_width=4, epochs=3, batch_size=128, rounds=(1, 2), prune_fraction=0.5, window=4,
            per_class=2, synflow_rounds=2, seeds=1, device="cpu")


def movement(ctx):
    """Weight movement |w_T - w_0|: a method none of the chapters uses."""
    w0 = {k: m.weight.detach() for k, m in prunable_layers(ctx.init).items()}
    return {k: (m.weight.detach() - w0[k]).abs() for k, m in prunable_layers(ctx.trained).items()}


@pytest.fixture(scope="module")
def tiny():
    return lenses.compare(movement, "movement", **TINY)


def test_every_method_masks_at_the_matched_sparsities(tiny):
    assert tiny["extra_methods"] == ["movement"]
    for net in lenses.NETWORKS:
        row = tiny["networks"][net]["per_seed"][0]
        assert row["sparsities"] == pytest.approx([0.5, 0.75])
        # the dense run's learning curve, one test accuracy per epoch, its last the final accuracy
        assert row["dense_curve"]["epoch"] == [1, 2, 3]
        assert row["dense_curve"]["test_accuracy"][-1] == pytest.approx(row["dense_accuracy"])
        expected = (set(lenses.METHODS) - ({"spline"} if net == "mlp" else set())) | {"movement"}
        assert set(row["methods"]) == expected
        for m, per_s in row["methods"].items():
            for s in row["sparsities"]:
                e = per_s[str(s)]
                if m != "spline":     # unstructured masks remove exactly the matched count (IMP's rounding)
                    assert e["sparsity"] == pytest.approx(s, abs=1e-3)
                assert 0.0 <= e["oneshot_accuracy"] <= 1.0
                hi = s == row["sparsities"][-1]
                want = set()
                if m in lenses.RETRAINED or m == "movement":
                    want = {"original"}
                    if hi and m not in ("random", "smart_ratio"):
                        want |= {"shuffle"} | ({"shuffle_informative"} if net == "mlp" else set())
                        want |= {"reinit"} if m in ("gmp", "imp", "sbp", "movement") else set()
                        want |= {"invert"} if m != "imp" else set()
                    if hi and m in ("sbp", "grasp"):
                        want |= {"random_labels", "random_pixels"}
                assert set(e["sanity"]) == want, (net, m, s)
                # the cost to find: IMP's rounds, one training for a trained-weight score, none at initialisation
                assert e["cost_trainings"] == {"imp": row["sparsities"].index(s) + 1,
                                               "mst_imp": row["sparsities"].index(s) + 1,
                                               "sbp": 0, "grasp": 0, "synflow": 0, "random": 0,
                                               "smart_ratio": 0}.get(m, e["cost_trainings"])
        # every pair once, each Jaccard, chance and best in [0, 1], J <= best; a mask with itself is not listed
        n = len(row["methods"])
        for s in row["sparsities"]:
            # plus one more pair: GMP of the trained weights against GMP at the late window's first step
            for key in ("jaccard", "chance", "best"):
                assert len(row[key][str(s)]) == n * (n - 1) // 2 + 1
                assert all(0.0 <= v <= 1.0 for v in row[key][str(s)].values())
            assert all(row["jaccard"][str(s)][k] <= row["best"][str(s)][k] + 1e-12 for k in row["jaccard"][str(s)])
            assert "gmp|gmp_window_start" in row["jaccard"][str(s)]
    mlp = tiny["networks"]["mlp"]["per_seed"][0]
    assert 0 < mlp["informative_inputs"] < mlp["inputs"] == 64          # the digits' border pixels are constant
    # MST-preserving IMP runs at both sparsities (both below this net's prunability bound); that it keeps the
    # tree is tested in tests/test_topology*.py
    assert set(mlp["methods"]["mst_imp"]) == {"0.5", "0.75"}
    eb = tiny["networks"]["conv"]["per_seed"][0]["early_bird"]
    assert eb["epoch"] == [0, 1, 2, 3]
    assert eb["channel_jaccard"][-1] == 1.0 and eb["partition_distance"][-1] == 0.0   # the end against itself
    verdicts = {v.claim.id for v in evaluate(lenses.CLAIMS, tiny)}
    assert verdicts == {c.id for c in lenses.CLAIMS}


def test_a_readers_method_does_not_change_the_books_methods(tiny):
    plain = lenses.run(**TINY)
    for net in lenses.NETWORKS:
        a, b = plain["networks"][net]["per_seed"][0], tiny["networks"][net]["per_seed"][0]
        assert a["methods"] == {k: v for k, v in b["methods"].items() if k != "movement"}


def test_compare_table_and_figure(tiny):
    rows = tiny["networks"]["mlp"]["per_seed"]
    s = rows[0]["sparsities"][-1]
    j, c, b = (lenses.pair_value(rows[0], s, "gmp", "movement", k) for k in ("jaccard", "chance", "best"))
    assert lenses.kappa(rows, s, "movement", "gmp") == pytest.approx((j - c) / (b - c))     # either order
    assert lenses.kappa(rows, s, "gmp", "movement", against="one") == pytest.approx((j - c) / (1 - c))
    text = lenses.compare_table(tiny, "movement")
    assert "movement" in text and "kappa" in text and "smart_ratio" in text
    fig = lenses.compare_figure(tiny, "movement")
    assert len(fig.axes) == 4
    with pytest.raises(ValueError, match="'name'"):
        lenses.compare_table(tiny, "gmp")


def test_compare_rejects_bad_methods():
    with pytest.raises(ValueError, match="'name'"):
        lenses.compare(movement, "gmp", **TINY)
    with pytest.raises(ValueError, match="'scores_fn'"):
        lenses.compare("not a function", "x", **TINY)
    with pytest.raises(ValueError, match="scores of 'half'"):
        lenses.compare(lambda ctx: dict(list(movement(ctx).items())[:1]), "half", **TINY)


def test_load_scores_fn(tmp_path, monkeypatch):
    (tmp_path / "my_scores.py").write_text("def movement(ctx):\n    return {}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert lenses.load_scores_fn("my_scores:movement").__name__ == "movement"
    for spec, what in (("my_scores", "'module:function'"), ("no_such_module_xyz:f", "cannot import"),
                       ("my_scores:nothing", "no function")):
        with pytest.raises(ValueError, match=what):
            lenses.load_scores_fn(spec)
    sys.modules.pop("my_scores", None)


def test_controls_swap_in_imps_gap(tiny):
    """The IMP-shuffle control puts IMP's original and shuffled accuracy in every named method's place."""
    c = {cl.id: cl for cl in lenses.CLAIMS}
    before = copy.deepcopy(tiny)
    r = c["pai_shuffle_mlp"].control.swap(tiny)
    row, orig = r["networks"]["mlp"]["per_seed"][0], tiny["networks"]["mlp"]["per_seed"][0]
    top = str(row["sparsities"][-1])
    for m in lenses.AT_INIT:
        assert row["methods"][m][top]["sanity"]["shuffle"]["test_accuracy"] == \
            orig["methods"]["imp"][top]["sanity"]["shuffle"]["test_accuracy"]
        assert row["methods"][m][top]["sanity"]["original"] == orig["methods"]["imp"][top]["sanity"]["original"]
    r = c["smart_ratio_conv"].control.swap(tiny)
    assert r["networks"]["conv"]["per_seed"][0]["methods"]["smart_ratio"][top]["sanity"]["original"] == \
        tiny["networks"]["conv"]["per_seed"][0]["methods"]["random"][top]["sanity"]["original"]
    r = c["early_bird_channels_settle"].control.swap(tiny)
    e, e0 = r["networks"]["conv"]["per_seed"][0]["early_bird"], tiny["networks"]["conv"]["per_seed"][0]["early_bird"]
    q = (len(e["epoch"]) - 1) // 4
    assert e["channel_jaccard"][q] == e0["channel_jaccard"][0] and e["channel_chance"][q] == e0["channel_chance"][0]
    assert tiny == before                     # the swaps leave the result alone


def test_bad_parameters_name_themselves():
    with pytest.raises(ValueError, match="'rounds'"):
        lenses.run(**dict(TINY, rounds=(1.5,)))
    with pytest.raises(ValueError, match="'window'"):
        lenses.run(**dict(TINY, window=1000))


def test_cli_lenses_runs_a_readers_function(tiny, tmp_path, monkeypatch, capsys):
    from pruning_utils.cli import main
    (tmp_path / "my_scores.py").write_text("def movement(ctx):\n    return {}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    seen = {}

    def fake_compare(fn, name, **params):        # the pipeline itself is the fixture's; here only the wiring
        seen.update(fn=fn.__name__, name=name, params=params)
        return tiny

    monkeypatch.setattr(lenses, "compare", fake_compare)
    out = tmp_path / "mine.json"
    rc = main(["lenses", "--scores", "my_scores:movement", "--set", "dataset=digits", "--set", "seeds=1",
               "--out", str(out), "--figure", str(tmp_path / "mine.png")])
    assert rc == 0
    assert seen["fn"] == "movement" and seen["name"] == "movement" and seen["params"]["dataset"] == "digits"
    text = capsys.readouterr().out
    assert "method 'movement'" in text and out.is_file() and (tmp_path / "mine.png").is_file()
    assert main(["lenses", "--scores", "my_scores"]) == 2
    assert "'module:function'" in capsys.readouterr().err
    assert main(["lenses", "--scores", "my_scores:movement", "--profile", "nope"]) == 2
    sys.modules.pop("my_scores", None)
