"""Claims: the objects, the CLI listing, and the seed-swap test every chapter must pass."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from pruning_utils.claims import Claim, all_claims, evaluate, numbers_report, report
from pruning_utils.cli import claims_table, main, reproduce
from pruning_utils.experiments import EXPERIMENTS, NOTEBOOKS, get_experiment

ROOT = Path(__file__).resolve().parents[1]
#: the seed the swap test runs every chapter with (the chapters use seed 0)
SWAP_SEED = 1000


def _claim(**kw):
    base = dict(id="a_claim", statement="IMP beats random", paper="frankle2019lottery",
                check=lambda r: (r["x"] > 1, {"x": r["x"]}))
    base.update(kw)
    return Claim(**base)


def test_verdict_lines_and_numbers():
    c = _claim()
    v = evaluate([c], {"x": 2.5})
    assert report(v) == "[holds] IMP beats random"
    assert report(evaluate([c], {"x": 0.5})) == "[does not hold] IMP beats random"
    assert "x = 2.5" in numbers_report(v)


@pytest.mark.parametrize("kw,match", [
    ({"id": "Bad Id"}, "'id'"),
    ({"statement": "holds at sparsity 0.9"}, "decimal"),
    ({"statement": "  "}, "'statement'"),
    ({"paper": ""}, "'paper'"),
    ({"check": 3}, "'check'"),
])
def test_bad_claims_rejected(kw, match):
    with pytest.raises(ValueError, match=match):
        _claim(**kw)


def test_bad_check_return_is_a_type_error():
    with pytest.raises(TypeError, match="a_claim"):
        _claim(check=lambda r: True).evaluate({})
    with pytest.raises(TypeError, match="bool"):
        _claim(check=lambda r: ("yes", {})).evaluate({})


def test_repeated_ids_rejected():
    with pytest.raises(ValueError, match="repeated"):
        evaluate([_claim(), _claim()], {"x": 1})


def test_every_chapter_declares_claims_with_known_papers():
    bib = (ROOT / "references.bib").read_text()
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    chapters = {ch for ch, _ in all_claims()}
    assert chapters == set(EXPERIMENTS)
    for ch, c in all_claims():
        assert c.paper in keys, f"{ch}:{c.id} cites {c.paper!r}, not in references.bib"
    for ch in EXPERIMENTS:
        ids = [c.id for c in get_experiment(ch).CLAIMS]
        assert len(ids) == len(set(ids))


def _checked_lines(stem):
    """Verdict lines printed by the committed notebook's # NBVAL_CHECK_OUTPUT cells."""
    nb = nbformat.read(ROOT / "chapters" / f"{stem}.ipynb", as_version=4)
    lines = []
    for cell in nb.cells:
        if cell.cell_type == "code" and "NBVAL_CHECK_OUTPUT" in cell.source:
            for o in cell.get("outputs", []):
                lines += o.get("text", "").splitlines()
    return lines


@pytest.mark.parametrize("chapter", list(EXPERIMENTS))
def test_chapter_prints_every_claim_as_a_verdict(chapter):
    lines = _checked_lines(NOTEBOOKS[chapter])
    for c in get_experiment(chapter).CLAIMS:
        hits = [ln for ln in lines if ln in (f"[holds] {c.statement}", f"[does not hold] {c.statement}")]
        assert len(hits) == 1, f"{chapter}: claim {c.id!r} is not printed once in a checked cell"


@pytest.mark.parametrize("stem", sorted(NOTEBOOKS.values()))
def test_checked_cells_print_no_decimal_number(stem):
    """Nothing a different CPU could change is compared: no decimal number in a checked output."""
    for line in _checked_lines(stem):
        assert not re.search(r"\d\.\d", line), f"{stem}: checked output prints a decimal: {line!r}"


@pytest.mark.parametrize("chapter", list(EXPERIMENTS))
def test_claims_survive_a_change_of_seed(chapter):
    """The default profile with another seed gives every claim the verdict the committed chapter prints.

    A change of seed moves a trained network's numbers as much as a change of
    machine does; a verdict that flips here would flip on a reader's machine.
    """
    exp = get_experiment(chapter)
    result = exp.run(**{**exp.PROFILES["default"], "seed": SWAP_SEED, "device": "cpu"})
    lines = _checked_lines(NOTEBOOKS[chapter])
    flipped = []
    for v in evaluate(exp.CLAIMS, result):
        committed = "holds" if f"[holds] {v.claim.statement}" in lines else "does not hold"
        if v.word != committed:
            flipped.append(f"{v.claim.id}: chapter says {committed}, seed {SWAP_SEED} says {v.word}; "
                           f"{numbers_report([v])}")
    assert not flipped, "\n".join(flipped)


def test_claims_table_lists_every_claim_and_stored_verdicts(tmp_path):
    text = claims_table(results_dir=tmp_path)
    for _, c in all_claims():
        assert c.statement in text
    assert text.count("no stored result") == len(all_claims())
    # a result stored by `reproduce` is evaluated, claim by claim
    tiny = dict(dataset="digits", epochs=2, rounds=3, prune_fraction=0.5, seeds=1, batch_size=64,
                diagram_rounds=2, device="cpu")
    reproduce("topology", "default", tiny, out_dir=tmp_path, run_root=tmp_path / "runs")
    text = claims_table(results_dir=tmp_path)
    block = text.split("\ntopology:")[1].split("\n" + "lenses:")[0]   # this chapter's lines only
    n = len(get_experiment("topology").CLAIMS)
    assert block.count("default (cpu): ") == n
    assert "no stored result" not in block


def test_cli_claims_runs(capsys, tmp_path):
    assert main(["claims", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "foundations:" in out and "koopman:" in out and "topology:" in out
