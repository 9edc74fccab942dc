"""Chapter 06's experiment: a tiny run of both networks, its bookkeeping, and bad parameters."""

from __future__ import annotations

import pytest

from pruning_utils.claims import evaluate
from pruning_utils.experiments import lenses

TINY = dict(mlp_dataset="digits", conv_dataset="digits", conv_width=4, epochs=3, batch_size=128, rounds=(1, 2),
            prune_fraction=0.5, window=4, per_class=2, synflow_rounds=2, seeds=1, device="cpu")


@pytest.fixture(scope="module")
def tiny():
    return lenses.run(**TINY)


def test_every_method_masks_at_the_matched_sparsities(tiny):
    for net in lenses.NETWORKS:
        row = tiny["networks"][net]["per_seed"][0]
        assert row["sparsities"] == pytest.approx([0.5, 0.75])
        expected = set(lenses.METHODS) - ({"spline"} if net == "mlp" else set())
        assert set(row["methods"]) == expected
        for m, per_s in row["methods"].items():
            for s in row["sparsities"]:
                e = per_s[str(s)]
                if m != "spline":     # unstructured masks remove exactly the matched count (IMP's rounding)
                    assert e["sparsity"] == pytest.approx(s, abs=1e-3)
                assert 0.0 <= e["oneshot_accuracy"] <= 1.0
                hi = s == row["sparsities"][-1]
                want = {"original", "shuffle"} | ({"reinit"} if hi else set())
                if hi and m not in ("imp", "mst_imp", "synflow", "random", "spline"):
                    want.add("invert")
                assert set(e["sanity"]) == want
        # every pair once, each Jaccard and chance in [0, 1]; a mask with itself is not listed
        n = len(row["methods"])
        for s in row["sparsities"]:
            # plus one more pair: GMP of the trained weights against GMP at the late window's first step
            assert len(row["jaccard"][str(s)]) == n * (n - 1) // 2 + 1 == len(row["chance"][str(s)])
            assert "gmp|gmp_window_start" in row["jaccard"][str(s)]
            assert all(0.0 <= v <= 1.0 for v in row["jaccard"][str(s)].values())
    # MST-preserving IMP runs at both sparsities (both below this net's prunability bound); that it keeps the
    # tree is tested in tests/test_topology*.py
    assert set(tiny["networks"]["mlp"]["per_seed"][0]["methods"]["mst_imp"]) == {"0.5", "0.75"}
    eb = tiny["networks"]["conv"]["per_seed"][0]["early_bird"]
    assert eb["epoch"] == [0, 1, 2, 3]
    assert eb["channel_jaccard"][-1] == 1.0 and eb["partition_distance"][-1] == 0.0   # the end against itself
    verdicts = {v.claim.id for v in evaluate(lenses.CLAIMS, tiny)}
    assert verdicts == {c.id for c in lenses.CLAIMS}


def test_bad_parameters_name_themselves():
    with pytest.raises(ValueError, match="'rounds'"):
        lenses.run(**dict(TINY, rounds=(1.5,)))
    with pytest.raises(ValueError, match="'window'"):
        lenses.run(**dict(TINY, window=1000))
