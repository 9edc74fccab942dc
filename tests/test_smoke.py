"""Smoke mode: every chapter's every profile runs its whole pipeline, cut down, on stand-in data of its shape."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

from pruning_utils import data
from pruning_utils.cli import main
from pruning_utils.experiments import EXPERIMENTS, get_experiment
from pruning_utils.smoke import full_params, projection_table, smoke, smoke_notebook, smoke_params, smoke_report
from pruning_utils.train import measure_steps, train

PROFILES = [(c, p) for c in EXPERIMENTS for p in get_experiment(c).PROFILES]


def test_every_profile_of_every_chapter_runs_in_smoke_mode(capsys):
    """The paper profiles too (CIFAR-shaped data for CIFAR profiles, their real models), offline, on the CPU."""
    t0, failures, lines = time.perf_counter(), [], []
    for chapter, profile in PROFILES:
        try:
            r = smoke(chapter, profile, device="cpu", max_batch=16)
        except Exception as e:             # collect them all, then fail with every one named
            failures.append(f"{chapter} --profile {profile}: {type(e).__name__}: {e}")
            continue
        assert r["claims"] == len(get_experiment(chapter).CLAIMS)
        assert r["peak_rss_bytes"] > 0 and set(r["phases"]) >= {"training", "claims"}
        lines.append(f"  {chapter:16s} {profile:16s} {r['wall_s']:6.1f} s, {r['steps']} steps, "
                     f"peak {r['peak_rss_bytes'] / 2**20:.0f} MB")
    total = time.perf_counter() - t0
    with capsys.disabled():
        print(f"\nsmoke runs: {len(PROFILES) - len(failures)} of {len(PROFILES)} profiles of {len(EXPERIMENTS)} "
              f"chapters passed in {total:.0f} s\n" + "\n".join(lines))
    assert not failures, "\n".join(failures)


def test_smoke_parameters_keep_the_profile_and_cut_the_loops():
    p = smoke_params("pruning_at_init", "paper_resnet32")
    assert p["cifar_model"] == "resnet32" and p["cifar_width"] == 32           # the profile's model
    assert p["cifar_epochs"] == 2 and p["seeds"] == 1 and p["download"] is False
    k = smoke_params("koopman", "paper_resnet20")
    assert k["model"] == "resnet20" and k["dataset"] == "cifar10" and k["epochs"] == 2 and k["window"] == 3
    with pytest.raises(ValueError, match="profile 'nope'"):
        smoke_params("koopman", "nope")


def test_stand_in_data_has_the_real_shape_reads_nothing_and_ends_with_its_block(tmp_path):
    with data.stand_in_data(20, 10):
        x, y = data.load_dataset("cifar100", True, root=tmp_path)        # no CIFAR anywhere: nothing is read
        xt, _ = data.load_dataset("mnist", False, root=tmp_path)
    assert tuple(x.shape) == (20, 3, 32, 32) and set(y.tolist()) == set(range(20))
    assert tuple(xt.shape) == (10, 1, 28, 28)
    assert not any(tmp_path.iterdir())
    with pytest.raises(FileNotFoundError):                              # outside the block: the real loader
        data.load_dataset("cifar100", True, root=tmp_path)
    with pytest.raises(ValueError, match="'n_train'"):
        data.stand_in_data(0, 10)


def test_step_meter_counts_every_training_step():
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
    x, y = torch.randn(40, 1, 1, 4), torch.arange(40) % 2
    with measure_steps() as m:
        train(net, (x, y), epochs=3, batch_size=8)
        train(net, (x, y), epochs=1, batch_size=20)
    assert (m.steps, m.calls) == (3 * 5 + 2, 2) and m.seconds > 0
    assert [(s, b) for s, _, b in m.log] == [(15, 8), (2, 20)]


def test_cli_smoke_writes_nothing_and_a_failure_exits_non_zero(tmp_path, capsys, monkeypatch):
    out, runs = tmp_path / "results", tmp_path / "runs"
    assert main(["reproduce", "topology", "--smoke", "--device", "cpu", "--out", str(out), "--runs", str(runs)]) == 0
    text = capsys.readouterr().out
    assert "smoke run of topology --profile default on cpu: passed" in text and "peak host memory" in text
    assert not out.exists() and not runs.exists()
    exp = get_experiment("topology")

    def broken(**params):
        raise RuntimeError("the analysis after training broke")

    monkeypatch.setattr(exp, "run", broken)
    assert main(["reproduce", "topology", "--smoke", "--device", "cpu"]) == 1
    assert "failed: RuntimeError: the analysis after training broke" in capsys.readouterr().err


def test_capped_batches_make_no_projection_but_the_formulas_are_checked(monkeypatch):
    r = smoke("foundations", "default", device="cpu", max_batch=16)
    text = smoke_report(r)
    assert text.startswith("smoke run of foundations --profile default on cpu: passed")
    assert "projection" not in r and "hours" not in text
    exp = get_experiment("foundations")
    real = exp.training_steps
    monkeypatch.setattr(exp, "training_steps", lambda p, sizes: {"training": real(p, sizes)["training"] + 1})
    with pytest.raises(RuntimeError, match="formulas count"):
        smoke("foundations", "default", device="cpu", max_batch=16)


def test_projection_multiplies_the_profiles_counts_by_the_measured_step_time():
    r = smoke("topology", "default", device="cpu")
    pr = r["projection"]
    exp = get_experiment("topology")
    info = data.dataset_info("mnist5k")
    sizes = (info["train_size"], info["test_size"])
    full = exp.training_steps(full_params("topology", "default"), lambda name: sizes)
    assert pr["groups"]["training"]["steps"] == full["training"] > r["steps"]
    per = pr["groups"]["training"]["seconds_per_step"]
    assert per > 0 and abs(pr["hours"] - full["training"] * per / 3600) < 1e-12
    assert pr["structures"] == {data.HELD: sum(sizes) * (4 * 784 + 8)}   # float32 images, int64 labels
    assert "would take about" in smoke_report(r)


def test_a_memory_formula_that_disagrees_with_the_run_fails(monkeypatch):
    exp = get_experiment("koopman")
    real = exp.memory_structures
    monkeypatch.setattr(exp, "memory_structures",
                        lambda p, sizes: {k: v + (k != data.HELD) for k, v in real(p, sizes).items()})
    with pytest.raises(RuntimeError, match="memory_structures does not match"):
        smoke("koopman", "default", device="cpu", max_batch=16)


def test_smoke_notebook_caps_batches_with_an_integer_and_refuses_other_values():
    p = smoke_notebook("spline", {"model": "vgg11", "dataset": "cifar10"}, 16)
    try:
        assert p["batch_size"] == 16 and p["epochs"] == 4 and p["model"] == "vgg11"
        x, _ = data.load_dataset("cifar10", True)              # stand-in data from now on in this process
        assert tuple(x.shape[1:]) == (3, 32, 32)
    finally:
        data._STAND_IN = None
    for bad in (0, 2.5, "yes"):
        with pytest.raises(ValueError, match="'smoke'"):
            smoke_notebook("spline", {}, bad)


def test_projection_table_reads_the_stored_projections(tmp_path):
    import json
    folder = tmp_path / "projection"
    folder.mkdir()
    from pruning_utils.smoke import _counts_now

    now = _counts_now(get_experiment("topology"), "topology", "paper")
    report = {"chapter": "topology", "profile": "paper",
              "projection": {"groups": {g: {"steps": n, "seconds_per_step": 0.002} for g, n in now.items()},
                             "hours": 4.3, "unmeasured": [], "structures": {data.HELD: 2 * 10**8}}}
    prov = {"device": {"cpu_count": 2}, "finished_utc": "2026-12-04T16:00:00+00:00"}
    (folder / "cpu.json").write_text(json.dumps({"provenance": prov, "table": [], "reports": [report]}))
    text = projection_table("topology", results_dir=tmp_path)
    assert "2-core CPU, 2026-12-04" in text and f"{sum(now.values()):,}" in text and "4.3 h" in text
    assert "not measured" in text                                       # the default profile has no report
    assert "fits" in text and "stale" not in text
    # a projection of other parameters than the profile's today is marked, never shown as the profile's
    g = next(iter(now))
    report["projection"]["groups"][g]["steps"] += 1
    (folder / "cpu.json").write_text(json.dumps({"provenance": prov, "table": [], "reports": [report]}))
    text = projection_table("topology", results_dir=tmp_path)
    assert "stale: profile changed" in text and "4.3 h" not in text and "stale: projected for other" in text
    assert projection_table("koopman", results_dir=tmp_path).startswith("no projection stored for koopman")
