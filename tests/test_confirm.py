"""Claims frozen before the data that decides them: definition digests, the sequential rule, confirmations."""

import json
import math
import re

import numpy as np
import pytest

import pruning_utils.claims as C
from pruning_utils.claims import Claim, Control, Plan, Statistic, definition, digest, evaluate, t_quantile
from pruning_utils.cli import claims_table, main, reproduce
from pruning_utils.confirm import CONFIRM_SEED_BASE, SEED_GAP, confirm, latest_confirmation, next_seed
from pruning_utils.experiments import (EXPERIMENTS, get_experiment, judge, scales_table, shown, stored_report,
                                       stored_verdicts)

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY_TOPOLOGY = dict(dataset="digits", epochs=2, rounds=3, prune_fraction=0.5, batch_size=64, diagram_rounds=2,
                     device="cpu")


# ---------------------------------------------------------------------------
# a claim's definition and its digest

def test_definition_ignores_comments_docstrings_and_layout_but_not_code():
    a = 'def f(r):\n    """Doc."""\n    # a comment\n    return [S("x", r["x"], 0.5)]  # trailing\n'
    b = 'def f(r):\n    return [S("x",\n              r["x"], 0.5)]\n'
    c = 'def f(r):\n    return [S("x", r["x"], 0.6)]\n'
    assert C._normalise(a) == C._normalise(b)
    assert C._normalise(a) != C._normalise(c)


def test_definition_follows_constants_and_helpers():
    """A margin read from a module constant enters by value, the experiment's helpers by source; the rule too."""
    exp = get_experiment("foundations")
    claim = next(c for c in exp.CLAIMS if c.id == "imp_beyond_oneshot")
    d = definition(claim)
    assert d["definitions"]["pruning_utils.experiments.foundations.ONESHOT_MARGIN"] == repr(exp.ONESHOT_MARGIN)
    assert "pruning_utils.experiments.foundations._per_seed" in d["definitions"]
    assert "pruning_utils.experiments.foundations._another_seed" in d["control"]["definitions"]
    assert set(d["rule"]) >= {"MIN_SEEDS", "Statistic.robust", "Verdict.word"}
    assert re.fullmatch(r"[0-9a-f]{16}", digest(claim))
    assert len({digest(c) for _, c in [(ch, c) for ch in EXPERIMENTS for c in get_experiment(ch).CLAIMS]}) == \
        sum(len(get_experiment(ch).CLAIMS) for ch in EXPERIMENTS)


def test_digest_of_a_lambda_check_changes_with_its_threshold():
    one = Claim("c", "x passes", "this_book", lambda r: [Statistic("x", r["x"], 0.5)])
    two = Claim("c", "x passes", "this_book", lambda r: [Statistic("x", r["x"], 0.7)])
    assert digest(one) != digest(two)
    assert digest(one) == digest(Claim("c", "x passes", "this_book", one.check, note="a note is commentary"))
    assert digest(one) != digest(Claim("c", "x passes, reworded", "this_book", one.check))


def test_every_stored_result_was_judged_by_todays_claims():
    """Every stored result keeps, per claim, the digest of the definition that judged it and the word it got;
    today's claims are those definitions, and give those words (else a claim was edited without a rerun, and
    the book shows it as edited: see the next test)."""
    stale = []
    for row in stored_verdicts(ROOT / "results"):
        for where, entries in (("exploration", row["verdicts"]), ("confirmation", row["confirmations"])):
            for prof, e in entries.items():
                if e["status"] != "as run" or e["word"] != e["now"]:
                    stale.append(f"{row['chapter']}/{row['claim'].id} {where} {prof}: {e}")
    assert not stale, "\n".join(stale)


def test_an_edited_margin_marks_every_stored_result_of_its_claim(monkeypatch):
    """Edit one margin: every stored result of that claim (default, full, its confirmation) shows as judged by
    an edited claim, with the word it had, in the claims table, the chapter's table and the scorecard's rows;
    no other claim moves."""
    exp = get_experiment("foundations")
    monkeypatch.setattr(exp, "ONESHOT_MARGIN", exp.ONESHOT_MARGIN / 4)
    rows = [r for r in stored_verdicts(ROOT / "results") if r["chapter"] == "foundations"]
    for r in rows:
        entries = list(r["verdicts"].values()) + list(r["confirmations"].values())
        assert entries
        for e in entries:
            if r["claim"].id == "imp_beyond_oneshot":
                assert e["status"] == "edited" and "claim edited since this run" in shown(e)
            else:
                assert e["status"] == "as run" and "edited" not in shown(e)
    table = scales_table("foundations", ROOT / "results")
    row = next(ln for ln in table.splitlines() if ln.startswith("imp_beyond_oneshot"))
    assert row.count("[claim edited since this run; rerun]") == row.count("[") >= 2
    assert "imp_beyond_oneshot: edited since this run" in stored_report("foundations", "full", ROOT / "results")
    text = claims_table(ROOT / "results")
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("  imp_beyond_oneshot ["))
    stored = [ln for ln in lines[start + 1:] if ln.startswith("      ")]
    stored = stored[:next((i for i, ln in enumerate(lines[start + 1:]) if not ln.startswith("      ")), len(stored))]
    assert len(stored) >= 2 and all("[claim edited since this run; rerun]" in ln for ln in stored)


# ---------------------------------------------------------------------------
# the sequential rule

def test_t_quantile_matches_scipy():
    from scipy import stats
    for df in (1, 2, 3, 4, 7, 19, 60):
        for p in (0.6, 0.975, 0.99, 0.9983):
            assert t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-7)
            assert t_quantile(1 - p, df) == pytest.approx(stats.t.ppf(1 - p, df), rel=1e-7)
    with pytest.raises(ValueError, match="p = "):
        t_quantile(1.0, 3)


def test_each_rule_null_rates_are_upper_bounds():
    """The table the plan spends alpha with: re-simulated (normal values on the threshold), each entry lies at or
    above the simulated chance, within Monte Carlo error."""
    rng = np.random.default_rng(7)
    for n in range(2, 9):
        x = rng.standard_normal((1_000_000, n))
        same = (x > 0).all(1) | (x < 0).all(1)
        rate = (same & (np.abs(x).min(1) > x.max(1) - x.min(1))).mean()
        assert rate <= C.each_null_rate(n) + 3 * math.sqrt(C.each_null_rate(n) / 1e6) + 2e-6, n
        assert rate >= C.each_null_rate(n) / 3 - 2e-6, n        # and not a bound so loose it means nothing
    assert C.each_null_rate(20) == C.each_null_rate(8)


def _decision_rate(plan, over, shift, trials=4000, seed=0, naive=False):
    """How often a confirmation under ``plan`` decides a statistic whose seeds are N(shift, 1) around a threshold
    of 0 (with a control that always fails, so the claim's word is the statistic's)."""
    rng = np.random.default_rng(seed)
    decided = 0
    for _ in range(trials):
        values = rng.standard_normal(plan.cap) + shift
        for j, n in enumerate(plan.looks):
            s = Statistic("x", values[:n], 0.0, over=over)
            s = C._Looked(s.name, s.values, s.threshold, s.above, s.over, band=2.0 if over == "mean" else 1.0) \
                if naive else plan.judged(s, j)
            if s.robust:
                decided += 1
                break
    return decided / trials


@pytest.mark.parametrize("over", ["mean", "each"])
def test_sequential_rule_keeps_its_promise_on_a_claim_at_its_threshold(over):
    """A statistic sitting exactly on its threshold: over all looks together the plan decides it (either way)
    at most alpha of the time (Monte Carlo, 4,000 confirmations, three standard errors of slack); the naive
    rule (two standard errors at every look, as exploration judges one run) breaks that promise for means,
    which is what the accounting is for; and an effect of two standard deviations (four for the each rule) is decided most of the time
    (a rule that never decides would keep any promise)."""
    plan = Plan((3, 5, 8), alpha=0.05)
    rate = _decision_rate(plan, over, 0.0)
    print(f"{over}: decided {rate:.4f} of claims on their threshold (promised at most {plan.alpha})")
    assert rate <= plan.alpha + 3 * math.sqrt(plan.alpha * (1 - plan.alpha) / 4000)
    if over == "mean":
        naive = _decision_rate(plan, over, 0.0, naive=True)
        print(f"naive 2-SE rule at every look: {naive:.4f}")
        assert naive > 2 * plan.alpha
    effect = {"mean": 2.0, "each": 4.0}[over]     # the each rule (nearest seed beyond the spread) needs more
    assert _decision_rate(plan, over, effect, trials=1000, seed=1) > 0.5


def test_plan_validation_and_bands():
    with pytest.raises(ValueError, match="parameter 'looks'"):
        Plan((3, 3))
    with pytest.raises(ValueError, match="parameter 'looks'"):
        Plan(())
    with pytest.raises(ValueError, match="parameter 'alpha'"):
        Plan((3,), alpha=1.5)
    plan = Plan((3, 5, 8))
    s = Statistic("m", [1.0, 2.0, 3.0], 0.0, over="mean")
    assert plan.band(s, 0) == pytest.approx(t_quantile(1 - 0.05 / 6, 2))
    e = Statistic("e", [1.0, 2.0, 3.0], 0.0)
    assert plan.band(e, 0) == 1.0
    assert math.isinf(Plan((2, 3), alpha=0.05).band(Statistic("e", [1.0, 2.0], 0.0), 0))   # 2 seeds: 20% > alpha


def test_needed_seeds_for_an_undecided_claim():
    plan = Plan((3,))
    c = Claim("c", "x above zero", "this_book", lambda r: [Statistic("x", r["x"], 0.0, over="mean")])
    v = plan.verdict(evaluate([c], {"x": [0.2, 1.0, 0.6]})[0], 0)
    assert v.word == "not robust"
    n = plan.needed(v, 3)
    assert n is not None and n > 3
    # at that many seeds with the same mean and spread, a single look at alpha decides it
    vals = np.resize([0.2, 1.0, 0.6], n)
    vals = (vals - vals.mean()) / vals.std(ddof=1) * 0.4 + 0.6
    assert Plan((n,)).verdict(evaluate([c], {"x": list(vals)})[0], 0).word == "holds, no control"
    e = Claim("e", "x above zero", "this_book", lambda r: [Statistic("x", r["x"], 0.0)])
    assert plan.needed(plan.verdict(evaluate([e], {"x": [-0.1, 1.0, 0.6]})[0], 0), 3) is None


# ---------------------------------------------------------------------------
# confirmation runs

def test_exploration_refuses_confirmation_seeds(tmp_path):
    with pytest.raises(ValueError, match="parameter 'seed' = 99999 .*reserved for confirmations"):
        reproduce("topology", "default", {**TINY_TOPOLOGY, "seed": CONFIRM_SEED_BASE - 1, "seeds": 2},
                  out_dir=tmp_path, run_root=tmp_path / "runs")
    assert main(["reproduce", "topology", "--set", f"seed={CONFIRM_SEED_BASE}", "--out", str(tmp_path)]) == 2
    with pytest.raises(ValueError, match="parameter 'seeds' cannot be set for a confirmation"):
        confirm("topology", "default", {"seeds": 2}, out_dir=tmp_path)


def test_confirmation_runs_resumes_and_never_reuses_a_seed(tmp_path, monkeypatch):
    """A tiny confirmation of chapter 05: seeds from the reserved range, added look by look; the stored file has
    every call's result and each claim's digest and word, and judging it again replays the same words; an
    interrupted confirmation resumes without rerunning a finished call; the next confirmation takes new seeds."""
    exp = get_experiment("topology")
    real_run, calls = exp.run, []

    def counting(**p):
        calls.append(p["seed"])
        if len(calls) == 2 and not getattr(counting, "failed", False):
            counting.failed = True
            raise KeyboardInterrupt("stopped")
        return real_run(**p)

    monkeypatch.setattr(exp, "run", counting)
    plan = Plan((1, 2))
    with pytest.raises(KeyboardInterrupt):
        confirm("topology", "default", TINY_TOPOLOGY, out_dir=tmp_path / "results", run_root=tmp_path / "runs",
                plan=plan)
    path = confirm("topology", "default", TINY_TOPOLOGY, out_dir=tmp_path / "results", run_root=tmp_path / "runs",
                   plan=plan)
    assert calls == [CONFIRM_SEED_BASE, CONFIRM_SEED_BASE + 1, CONFIRM_SEED_BASE + 1]   # the first call kept
    data = json.loads(path.read_text())
    assert path.name == "default-1.json" and data["result"]["seeds"] == [CONFIRM_SEED_BASE, CONFIRM_SEED_BASE + 1]
    assert data["provenance"]["parameters"]["seed"] == CONFIRM_SEED_BASE
    claims = list(exp.CLAIMS)
    assert set(data["claims"]) == {c.id for c in claims}
    for c, e in zip(claims, judge(claims, data)):
        assert e["status"] == "as run" and e["word"] == e["now"], c.id
        assert data["claims"][c.id]["digest"] == digest(c)
    assert next_seed("topology", tmp_path / "results", tmp_path / "runs") == CONFIRM_SEED_BASE + 1 + SEED_GAP
    calls.clear()
    path2 = confirm("topology", "default", TINY_TOPOLOGY, out_dir=tmp_path / "results", run_root=tmp_path / "runs",
                    plan=Plan((1,)))
    assert path2.name == "default-2.json" and calls == [CONFIRM_SEED_BASE + 1 + SEED_GAP]
    assert latest_confirmation("topology", "default", tmp_path / "results")["result"]["index"] == 2
    table = scales_table("topology", tmp_path / "results")
    assert "confirmed (default)" in table.splitlines()[0] and "not stored; python -m pruning_utils reproduce " \
        "topology --profile default --confirm" not in table


def test_confirmation_stops_when_every_claim_is_decided(tmp_path, monkeypatch):
    """Claims decided at the first look: no second look runs."""
    exp = get_experiment("topology")
    monkeypatch.setattr(exp, "CLAIMS", [Claim("always", "a check that holds", "this_book",
                                              lambda r: [Statistic("one", [1.0], 0.5, over="exact")], kind="check")])
    calls = []
    monkeypatch.setattr(exp, "run", lambda **p: calls.append(p["seed"]) or {"device": "cpu"})
    path = confirm("topology", "default", {}, out_dir=tmp_path, run_root=tmp_path / "runs", plan=Plan((1, 2, 3)))
    data = json.loads(path.read_text())
    assert calls == [CONFIRM_SEED_BASE] and data["claims"]["always"]["word"] == "holds"
    assert data["claims"]["always"]["look"] == 0


def test_stored_results_ran_their_profiles_parameters():
    """Every stored result, exploration or confirmation, ran its profile as the experiment declares it today
    (where-and-how parameters aside; a confirmation's seeds are its plan's): a profile changed since a run makes
    that run another experiment's, to be rerun (a confirmation: on new seeds)."""
    from pruning_utils.confirm import confirmations
    from pruning_utils.params import validate
    from pruning_utils.provenance import read_result
    runtime = {"device", "progress", "run_dir", "data_root", "download"}
    stale = []
    for ch in EXPERIMENTS:
        exp = get_experiment(ch)
        stored = [(p, read_result(ch, p, ROOT / "results"), runtime) for p in exp.PROFILES]
        stored += [(p.stem.rsplit("-", 1)[0], json.loads(p.read_text()), runtime | {"seed", "seeds"})
                   for p in confirmations(ch, ROOT / "results")]
        for prof, data, skip in stored:
            if data is None:
                continue
            ran = data["provenance"]["parameters"]
            now = validate(exp.PROFILES[prof], exp.SCHEMA)
            diff = {k for k in set(ran) | set(now) if k not in skip and
                    json.loads(json.dumps(ran.get(k))) != json.loads(json.dumps(now.get(k)))}
            if diff:
                stale.append(f"{ch} {prof}: {sorted(diff)}")
    assert not stale, "\n".join(stale)
