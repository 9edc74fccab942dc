"""Chapter 00's experiment: its parameters, its CLI path and a tiny run."""

from __future__ import annotations

import json

import pytest

from pruning_utils.cli import main, reproduce
from pruning_utils.experiments import foundations, get_experiment


def test_first_below():
    sp = [0.0, 0.5, 0.9]
    assert foundations.first_below(sp, [0.95, 0.945, 0.93], 0.95, 1.0) == 0.9
    assert foundations.first_below(sp, [0.95, 0.941, 0.945], 0.95, 1.0) is None
    assert foundations.first_below(sp, [0.95, 0.939, 0.99], 0.95, 1.0) == 0.5


TINY = {"dataset": "digits", "epochs": 2, "rounds": 2, "seeds": 1, "batch_size": 64, "device": "cpu"}


def test_tiny_run_is_deterministic_and_shaped():
    a = foundations.run(**TINY)
    b = foundations.run(**TINY)
    for m in foundations.METHODS:
        assert a["methods"][m]["accuracy_per_seed"] == b["methods"][m]["accuracy_per_seed"]
        assert len(a["methods"][m]["accuracy_mean"]) == 3
    assert a["sparsities"] == pytest.approx([0.0, 0.4, 0.64])
    assert a["methods"]["imp"]["achieved_sparsity"] == pytest.approx([0.0, 0.4, 0.64], abs=1e-4)
    assert a["dense_accuracy"] > 0.5  # digits, 2 epochs: far above chance (0.1)


def test_reproduce_writes_provenance_and_resumes(tmp_path):
    path = reproduce("00_foundations", "default", TINY, out_dir=tmp_path / "results", run_root=tmp_path / "runs")
    assert path == tmp_path / "results" / "foundations" / "default.json"
    data = json.loads(path.read_text())
    prov = data["provenance"]
    for key in ("commit", "versions", "device", "wall_time_s", "parameters", "finished_utc"):
        assert key in prov
    assert prov["versions"]["torch"] and prov["parameters"]["dataset"] == "digits"
    pieces = tmp_path / "runs" / "foundations" / "default" / "pieces.json"
    assert pieces.exists()
    # a second run finds every piece and every IMP round on disk and gives the same result
    mtime = (tmp_path / "runs" / "foundations" / "default" / "imp_seed0" / "round_002.pt").stat().st_mtime_ns
    path2 = reproduce("foundations", "default", TINY, out_dir=tmp_path / "results", run_root=tmp_path / "runs")
    assert json.loads(path2.read_text())["result"]["methods"] == data["result"]["methods"]
    assert (tmp_path / "runs" / "foundations" / "default" / "imp_seed0" / "round_002.pt").stat().st_mtime_ns == mtime


def test_cli_reports_bad_values(capsys):
    assert main(["reproduce", "foundations", "--set", "epochs=0"]) == 2
    assert "'epochs'" in capsys.readouterr().err
    assert main(["reproduce", "nope"]) == 2
    assert main(["reproduce", "foundations", "--profile", "huge"]) == 2
    with pytest.raises(ValueError):
        get_experiment("99_nothing")
