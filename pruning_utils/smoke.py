"""Smoke runs: a profile's whole pipeline, every loop cut to a few steps, on stand-in data of its real shape.

A paper-scale profile takes hours on a GPU; a reader who starts one should
not find out hours in that the analysis after training breaks, or that the
model the schema allows does not exist. :func:`smoke` runs a profile exactly
as ``python -m pruning_utils reproduce`` would (same code path: data, model,
training, rounds, analyses, claims evaluation, writing and reading the
result), with three changes:

* the experiment's ``SMOKE`` overrides cut every loop (two epochs, two
  rounds, one seed, the smallest grids) while the model, the input shape and
  the batch size stay the profile's;
* every dataset is replaced by random tensors of its real image shape and
  class count (:class:`pruning_utils.data.stand_in_data`), two batches of the
  profile's batch size for training, so nothing is read or downloaded;
* everything it writes goes to a temporary folder, never ``results/`` or
  ``runs/``.

It reports each phase's wall time (stand-in data, training, the rest of the
run, claims, writing), the optimizer steps and their mean time, and the peak
memory (host RSS sampled during the run; the CUDA peak when on a GPU). Where
the experiment defines ``training_steps(params)``, it also projects the
profile's training time on this machine: the profile's number of optimizer
steps times the measured time per step. A failure raises; the CLI's
``reproduce CHAPTER --profile P --smoke`` prints the report and exits
non-zero on any error.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
import time
from pathlib import Path

import torch

from .data import dataset_info, stand_in_data
from .experiments import get_experiment
from .params import validate
from .provenance import provenance, read_result, write_result
from .train import measure_steps

__all__ = ["smoke", "smoke_params", "smoke_report"]


def smoke_params(chapter: str, profile: str = "default", overrides=None) -> dict:
    """The validated parameters a smoke run of ``profile`` uses: the profile's, then ``overrides``, then the
    experiment's ``SMOKE`` cuts (a dict, or a function of the profile's parameters returning one), offline and
    without progress bars."""
    exp = get_experiment(chapter)
    name = exp.__name__.rsplit(".", 1)[-1]
    if profile not in exp.PROFILES:
        raise ValueError(f"profile {profile!r} is not defined for {name}; expected one of {', '.join(exp.PROFILES)}")
    base = validate({**exp.PROFILES[profile], **(overrides or {})}, exp.SCHEMA)
    cuts = getattr(exp, "SMOKE", {})
    cuts = cuts(base) if callable(cuts) else cuts
    unknown = sorted(set(cuts) - set(exp.SCHEMA))
    if unknown:
        raise ValueError(f"{name}.SMOKE names parameters the schema does not have: {', '.join(unknown)}")
    offline = {k: False for k in ("download", "progress") if k in exp.SCHEMA}
    return validate({**base, **cuts, **offline}, exp.SCHEMA)


def _batch_sizes(p: dict) -> list:
    return [v for k, v in p.items() if k.endswith("batch_size") and isinstance(v, int)]


def _datasets(p: dict) -> list:
    out = []
    for k, v in p.items():
        if k.endswith("dataset") and isinstance(v, str):
            try:
                out.append(dataset_info(v))
            except ValueError:
                pass
    return out


class _RSSSampler(threading.Thread):
    """Peak resident set size of this process while running (Linux ``/proc``; ``ru_maxrss`` elsewhere)."""

    def __init__(self, every: float = 0.02):
        super().__init__(daemon=True)
        self.every, self.peak, self._halt = every, 0, threading.Event()

    @staticmethod
    def rss() -> int:
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            import resource
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def run(self):
        while not self._halt.is_set():
            self.peak = max(self.peak, self.rss())
            self._halt.wait(self.every)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return max(self.peak, self.rss())


def smoke(chapter: str, profile: str = "default", overrides=None, device=None, workdir=None,
          max_batch: int | None = None) -> dict:
    """Run ``profile`` of ``chapter`` in smoke mode (see the module's docstring); return its report.

    ``workdir``: where the result and any checkpoints go (default: a temporary folder, removed afterwards).
    ``max_batch`` caps every ``*batch_size`` parameter (the tests use it to keep large models quick on a CPU;
    the step times are then those of the smaller batch, so no projection is made).
    The report holds ``chapter``, ``profile``, ``params`` (what ran), ``phases`` (seconds), ``steps``,
    ``seconds_per_step``, ``training_calls``, ``peak_rss_bytes``, ``cuda_peak_bytes`` (or None),
    ``claims`` (how many were evaluated), ``device`` and, where the experiment can count its steps,
    ``projection`` (the profile's optimizer steps and projected training hours on this machine).
    """
    exp = get_experiment(chapter)
    name = exp.__name__.rsplit(".", 1)[-1]
    p = smoke_params(chapter, profile, overrides)
    if device is not None:
        p = validate({**p, "device": device}, exp.SCHEMA)
    if max_batch is not None:
        if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
            raise ValueError(f"parameter 'max_batch' = {max_batch!r} is not allowed; expected a positive integer")
        p = validate({**p, **{k: min(v, max_batch) for k, v in p.items()
                              if k.endswith("batch_size") and isinstance(v, int)}}, exp.SCHEMA)
    infos = _datasets(p) or [dataset_info("mnist5k")]
    batch = max(_batch_sizes(p) + [getattr(exp, "SMOKE_MIN_BATCH", 1)])
    classes = max(i["classes"] for i in infos)
    n_train = max(2 * batch, 2 * classes * p["per_class"] if "per_class" in p else 2 * batch)
    n_test = max(128, 2 * classes)
    with tempfile.TemporaryDirectory(prefix="pruning_utils_smoke_") as tmp:
        folder = Path(workdir) if workdir is not None else Path(tmp)
        if "run_dir" in exp.SCHEMA:
            p = {**p, "run_dir": str(folder / "runs" / name / profile)}
        if "data_root" in exp.SCHEMA:
            p = {**p, "data_root": str(folder / "data")}        # nothing is read from it: a guard
        cuda = torch.cuda.is_available() and p.get("device") in ("auto", "cuda")
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        sampler = _RSSSampler()
        rss0 = sampler.rss()
        sampler.start()
        t0 = time.perf_counter()
        try:
            with stand_in_data(n_train, n_test), measure_steps() as meter:
                result = exp.run(**p)
        finally:
            peak = sampler.stop()
        t_run = time.perf_counter() - t0
        from .claims import evaluate
        t1 = time.perf_counter()
        verdicts = evaluate(exp.CLAIMS, result)
        t_claims = time.perf_counter() - t1
        t2 = time.perf_counter()
        path = folder / "results" / name / f"{profile}.json"
        write_result(path, result, provenance(p, str(result.get("device", p.get("device"))), t_run))
        back = read_result(name, profile, folder / "results")
        if back is None or set(back["result"]) != set(result):
            raise RuntimeError(f"{name}/{profile}: the result written to {path} did not read back whole")
        t_write = time.perf_counter() - t2
    report = {
        "chapter": name, "profile": profile, "params": p, "device": str(result.get("device", p.get("device"))),
        "phases": {"stand-in data and everything but training": t_run - meter.seconds,
                   "training": meter.seconds, "claims": t_claims, "writing and reading the result": t_write},
        "wall_s": t_run + t_claims + t_write,
        "steps": meter.steps, "training_calls": meter.calls, "seconds_per_step": meter.seconds_per_step,
        "peak_rss_bytes": peak, "rss_at_start_bytes": rss0,
        "cuda_peak_bytes": torch.cuda.max_memory_allocated() if cuda else None,
        "claims": len(verdicts), "data": {"train": n_train, "test": n_test},
    }
    counter = getattr(exp, "training_steps", None)
    if counter is not None and max_batch is None:
        full = validate({**exp.PROFILES[profile], **(overrides or {})}, exp.SCHEMA)
        counted = counter(p)
        if counted != meter.steps:
            raise RuntimeError(f"{name}.training_steps counts {counted} optimizer steps for the smoke run's "
                               f"parameters, the run made {meter.steps}: the projection would be wrong")
        steps = counter(full)
        per = meter.seconds_per_step
        report["projection"] = {"steps": steps,
                                "hours": steps * per / 3600.0 if not math.isnan(per) else None}
    return report


def _mb(b):
    return "n/a" if b is None else f"{b / 2**20:.0f} MB"


def smoke_report(report: dict) -> str:
    """The report of :func:`smoke` as the lines the CLI prints."""
    r = report
    lines = [f"smoke run of {r['chapter']} --profile {r['profile']} on {r['device']}: passed "
             f"({r['claims']} claims evaluated; stand-in data {r['data']['train']} training and "
             f"{r['data']['test']} test images of the profile's shape)"]
    for k, v in r["phases"].items():
        lines.append(f"  {k:45s} {v:8.2f} s")
    per = r["seconds_per_step"]
    lines.append(f"  optimizer steps {r['steps']} in {r['training_calls']} trainings"
                 + ("" if math.isnan(per) else f", {1000 * per:.1f} ms per step"))
    lines.append(f"  peak host memory {_mb(r['peak_rss_bytes'])} (at start {_mb(r['rss_at_start_bytes'])}); "
                 f"CUDA peak {_mb(r['cuda_peak_bytes'])}")
    pr = r.get("projection")
    if pr is not None and pr["hours"] is not None:
        lines.append(f"  the profile's training: {pr['steps']} optimizer steps, about {pr['hours']:.2g} hours "
                     f"on this machine (training only, at the measured time per step)")
    return "\n".join(lines)
