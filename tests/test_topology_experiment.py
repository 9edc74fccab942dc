"""Chapter 05's experiment: parameters, the bound, a tiny deterministic run."""

from __future__ import annotations

import pytest

from pruning_utils.claims import evaluate
from pruning_utils.experiments import topology


def test_tiny_run_goes_past_the_bound():
    # digits: 64 inputs, |V| = 64 + 300 + 100 + 10, |E| = 64*300 + 300*100 + 100*10, bound 99.06%;
    # 0.4^5 keeps 1.02%: round 5 is below the bound, round 6 (0.41% kept) past it
    kw = dict(dataset="digits", epochs=2, rounds=6, prune_fraction=0.6, seeds=1, batch_size=64,
              diagram_rounds=2, device="cpu")
    a, b = topology.run(**kw), topology.run(**kw)
    assert a["mean"] == b["mean"]
    assert a["bound"] == pytest.approx(1 - (474 - 1) / 50200)
    assert a["mst_rounds"] == 5
    assert len(a["mean"]["imp"]["accuracy"]) == 7 and len(a["mean"]["mst_imp"]["accuracy"]) == 6
    assert a["diagrams_identical"] is True
    assert a["diagram_rounds"] == [0, 5]
    assert a["mean"]["mst_imp"]["current_tree_kept"] == [1.0] * 6
    seed0 = a["per_seed"][0]
    assert seed0["mst_imp"]["isolated_nodes"][-1] == [0, 0, 0, 0]  # the tree keeps every node connected
    assert len(seed0["imp"]["isolated_nodes"][0]) == 4
    # one-shot masks of the dense network keep all of its tree at the first round
    assert a["mean"]["imp"]["oneshot_dense_tree_kept"][0] == 1.0
    assert seed0["tied_magnitudes_dense"] >= 0
    # the matched null of one round: a random cut of 60% of the remaining weights keeps about 40% of the tree of
    # the network it cuts (two draws, different), IMP's magnitude cut keeps more
    for key in ("random_cut_current_tree_kept", "random_cut_current_tree_kept_2"):
        rc = seed0["imp"][key]
        assert rc[0] == 1.0 and all(0.2 < x < 0.6 for x in rc[1:6]), rc
    assert seed0["imp"]["random_cut_current_tree_kept"] != seed0["imp"]["random_cut_current_tree_kept_2"]
    assert all(a_ > b_ for a_, b_ in zip(seed0["imp"]["current_tree_kept"][1:6],
                                        seed0["imp"]["random_cut_current_tree_kept"][1:6]))
    verdicts = {v.claim.id: v.holds for v in evaluate(topology.CLAIMS, a)}
    assert verdicts["ripser_equals_spanning_forest"] and verdicts["mst_imp_keeps_tree"]


def _accuracy_result(imp, mst, bound=0.95):
    """A stored-result shape with given per-seed accuracies (plain IMP over every round, MST-IMP up to the bound)."""
    sp = [1 - 0.6 ** r for r in range(len(imp[0]))]
    return {"sparsities": sp, "bound": bound, "mst_rounds": max(r for r, s in enumerate(sp) if s < bound),
            "tolerance_points": 1.0,
            "per_seed": [{"imp": {"accuracy": list(a)}, "mst_imp": {"accuracy": list(m)}} for a, m in zip(imp, mst)]}


def test_bound_claim_is_judged_against_the_last_round_below_the_bound():
    claim = [c for c in topology.CLAIMS if c.id == "accuracy_past_bound"]
    # sparsities 0, 40, 64, 78.4, 87.0, 92.2, 95.3%: one round (95.3%) past a 95% bound
    cliff = _accuracy_result([[0.95, 0.95, 0.95, 0.95, 0.95, 0.948, 0.80]] * 2 + [[0.95, 0.95, 0.95, 0.95, 0.95,
                                                                                     0.947, 0.82]],
                             [[0.95] * 6] * 3)
    assert evaluate(claim, cliff)[0].word == "holds"
    # accuracy already gone in the round before the bound: the bound is not what the claim sees
    slope = _accuracy_result([[0.95, 0.95, 0.94, 0.92, 0.90, 0.85, 0.80]] * 2 + [[0.95, 0.95, 0.94, 0.92, 0.90,
                                                                                     0.86, 0.81]],
                             [[0.95] * 6] * 3)
    assert evaluate(claim, slope)[0].word == "not discriminating"


def test_no_gain_claim_needs_the_power_to_see_one_round_of_imp():
    claim = [c for c in topology.CLAIMS if c.id == "mst_imp_no_accuracy_gain"]
    imp = [[0.95, 0.95, 0.94, 0.92, 0.88, 0.80, 0.70]] * 2 + [[0.95, 0.95, 0.94, 0.92, 0.88, 0.81, 0.70]]
    same = _accuracy_result(imp, [a[:6] for a in imp])
    assert evaluate(claim, same)[0].word == "holds"          # no gain, and one IMP round is a visible gain
    flat = [[0.95] * 7] * 2 + [[0.951] * 7]                   # rounds that cost nothing: no power to see a gain
    assert evaluate(claim, _accuracy_result(flat, [a[:6] for a in flat]))[0].word == "not discriminating"
    gain = _accuracy_result(imp, [[x + 0.03 for x in a[:6]] for a in imp])
    assert evaluate(claim, gain)[0].word == "does not hold"
