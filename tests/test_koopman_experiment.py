"""Chapter 01's experiment: parameters, window placement, the fast mask path, a tiny deterministic run."""

from __future__ import annotations

import pytest
import torch

from pruning_utils.claims import evaluate
from pruning_utils.experiments import koopman
from pruning_utils.masks import kept_overlap, masks_from_scores


def test_window_ends():
    # 31 steps per epoch, 8 epochs: one window ends at every epoch
    assert koopman.window_ends(248, 31, 8, 30, 1) == [31, 62, 93, 124, 155, 186, 217, 248]
    # a window longer than the first epoch ends no earlier than step window - 1; ends merge
    assert koopman.window_ends(248, 31, 8, 40, 1) == [39, 62, 93, 124, 155, 186, 217, 248]
    # every 3rd epoch, and always the end of training
    assert koopman.window_ends(248, 31, 8, 30, 3) == [93, 186, 248]


def test_window_longer_than_training_is_rejected():
    with pytest.raises(ValueError, match="'window'"):
        koopman.run(dataset="digits", epochs=2, batch_size=256, window=100, device="cpu")


def test_keep_ranks_give_the_masks_of_masks_from_scores():
    g = torch.Generator().manual_seed(0)
    v = torch.randn(1000, generator=g).abs()
    v[::7] = v[0]  # ties: the earlier entry must go first, as in masks_from_scores
    w = torch.randn(1000, generator=g).abs()
    ra, rb = koopman.keep_ranks(v), koopman.keep_ranks(w)
    for s in (0.0, 0.5, 0.9, 0.97):
        k = round(s * 1000)
        ma, mb = masks_from_scores({"w": v}, s)["w"], masks_from_scores({"w": w}, s)["w"]
        assert torch.equal(ra >= k, ma)
        assert koopman.kept_overlaps(ra, rb, [s])[0] == pytest.approx(kept_overlap({"w": ma}, {"w": mb}))


TINY = dict(dataset="digits", model="lenet300100", epochs=3, batch_size=64, window=6, compressions=[2, 8],
            agreement_sparsity=0.5, seeds=2, device="cpu")


def test_tiny_run_shapes_determinism_and_claims():
    a, b = koopman.run(**TINY), koopman.run(**TINY)
    assert a["per_seed"] == b["per_seed"]
    spe = a["steps_per_epoch"]
    assert a["window_ends"] == [spe, 2 * spe, 3 * spe]
    assert len(a["per_seed"]) == 2 and a["per_seed"][0]["seed"] == 0 and a["per_seed"][1]["seed"] == 1
    for s in a["per_seed"]:
        assert len(s["windows"]) == 3
        for row in s["windows"]:
            assert row["last_step"] - row["first_step"] == 5
            assert len(row["singular_values"]) == 5 and 1 <= row["rank"] <= 5
            assert set(row["prediction"]) == set(koopman.ESTIMATORS)
            for vals in row["prediction"].values():
                assert len(vals) == len(a["grid"]) and all(0.0 <= x <= 1.0 for x in vals)
        # the last window ends with training: its GMP mask IS the final mask
        assert s["windows"][-1]["prediction"]["gmp"] == [1.0] * len(a["grid"])
        assert set(s["accuracy"]) == {"early", "mid", "late"}
        assert len(s["accuracy"]["late"]["kmp"]["finetuned"]) == 2
        # the dense run's learning curve, one test accuracy per epoch, its last the final accuracy
        assert s["dense_curve"]["epoch"] == [1, 2, 3]
        assert s["dense_curve"]["test_accuracy"][-1] == pytest.approx(s["dense_accuracy"])
    verdicts = evaluate(koopman.CLAIMS, a)
    assert len(verdicts) == len(koopman.CLAIMS)


def test_claims_can_fail():
    """Each claim's check answers from the numbers: a result built to break it gets 'does not hold'."""
    r = koopman.run(**{**TINY, "seeds": 1, "accuracy_windows": "late"})
    i = r["grid"].index(r["agreement_sparsity"])
    for w in r["per_seed"][0]["windows"]:
        w["kmp_gmp_kept_overlap"][i] = 0.5
        w["kgp_gp_kept_overlap"][i] = 0.95
        w["prediction"]["kmp"][i] = 0.2
        w["dist_to_1_random_walk"] = 0.5
    v = {x.claim.id: x.holds for x in evaluate(koopman.CLAIMS, r)}
    assert v["late_kmp_is_gmp"] is False
    assert v["kgp_matches_gp"] is True
    assert v["early_kmp_beats_null_models"] is False
    assert v["random_walk_has_eigenvalue_near_one"] is False


def test_margin_exceeds_measured_seed_noise():
    """MARGIN is set from seed noise: at least 1.5 times the largest range, over seeds, of an estimator compared with
    itself under the next seed (the claims' controls) in the stored default run."""
    from pathlib import Path

    from pruning_utils.provenance import read_result
    stored = read_result("koopman", "default", results_dir=Path(__file__).resolve().parents[1] / "results")
    if stored is None:
        pytest.skip("no stored default result")
    ranges = {}
    for v in evaluate([c for c in koopman.CLAIMS if c.id in ("early_kmp_beats_gmp", "early_kmp_beats_window_mean",
                                                             "early_kmp_beats_linear_extrapolation")],
                      stored["result"]):
        vals = v.control.statistics[0].values
        ranges[v.claim.id] = max(vals) - min(vals)
    assert len(ranges) == 3 and koopman.MARGIN >= 1.5 * max(ranges.values()), ranges
