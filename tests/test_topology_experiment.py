"""Chapter 05's experiment: parameters, the bound check, a tiny deterministic run."""

from __future__ import annotations

import pytest

from pruning_utils.experiments import topology


def test_schedule_past_the_bound_is_rejected():
    # 0.6^11 keeps 0.36%: sparsity 99.64% > 99.06%, the bound of LeNet-300-100 on 8x8 digits
    with pytest.raises(ValueError, match="'rounds'.*prunability bound"):
        topology.run(dataset="digits", rounds=11, prune_fraction=0.4, device="cpu")


def test_tiny_run():
    kw = dict(dataset="digits", epochs=2, rounds=3, prune_fraction=0.5, seeds=1, batch_size=64,
              diagram_rounds=2, device="cpu")
    a, b = topology.run(**kw), topology.run(**kw)
    assert a["mean"] == b["mean"]
    assert a["diagrams_identical"] is True
    assert a["diagram_rounds"] == [0, 3]
    mst = a["mean"]["mst_imp"]["current_tree_kept"]
    assert mst == [1.0] * 4
    # digits: 64 inputs, |V| = 64 + 300 + 100 + 10, |E| = 64*300 + 300*100 + 100*10
    assert a["bound"] == pytest.approx(1 - (474 - 1) / 50200)
    assert len(a["mean"]["imp"]["dense_tree_kept"]) == 4
