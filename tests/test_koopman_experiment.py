"""Chapter 01's experiment: parameters, window placement, a tiny deterministic run."""

from __future__ import annotations

import pytest

from pruning_utils.experiments import koopman


def test_window_bounds():
    b = koopman.window_bounds(total_steps=248, window=40, early_end=0.05, mid_end=0.5)
    assert b == {"early": (0, 39), "mid": (85, 124), "late": (209, 248)}
    assert all(last - first == 39 for first, last in b.values())


def test_window_longer_than_training_is_rejected():
    with pytest.raises(ValueError, match="'window'"):
        koopman.run(dataset="digits", epochs=2, batch_size=256, window=100, device="cpu")


TINY = dict(dataset="digits", model="lenet300100", epochs=3, batch_size=64, window=6, compressions=[2, 8],
            agreement_sparsity=0.5, device="cpu")


def test_tiny_run_shapes_and_determinism():
    a, b = koopman.run(**TINY), koopman.run(**TINY)
    assert a["windows"] == b["windows"]
    for w in koopman.WINDOWS:
        row = a["windows"][w]
        assert row["last_step"] - row["first_step"] == 5
        assert len(row["kmp_gmp_agreement"]) == len(row["sparsities"]) == 2
        assert all(0.0 <= x <= 1.0 for x in row["kmp_gmp_agreement"] + row["kgp_gp_agreement"])
        assert abs(row["eig_nearest_1"] - 1.0) < 0.05
        acc = row["accuracy"]
        assert len(acc["kmp"]["pruned"]) == len(acc["gmp"]["finetuned"]) == 2
    # at 50% the late window of a 3-epoch run already agrees closely
    assert a["headline"]["late"]["kmp_gmp_agreement"] > 0.95
