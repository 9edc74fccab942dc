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
memory (host RSS sampled during the run; the CUDA peak when on a GPU).

It also projects the profile's length and memory on this machine. Each
experiment counts what its ``run`` does: ``training_steps(params, sizes)``
(optimizer steps per kind of network, :class:`pruning_utils.meter.step_group`),
``work_units(params, sizes)`` for work that is not training (chapter 03's gap
searches, in multiply-adds) and ``memory_structures(params, sizes)`` (bytes
of its largest structures: the datasets on the device, Koopman snapshot
windows, packed activation codes), where ``sizes(dataset)`` gives the
training and test images. The smoke run first checks every count against
what it measured (the steps :func:`pruning_utils.train.train` made, the work
timed, the largest structures noted by
:func:`pruning_utils.meter.note_structure`): a formula that disagrees with
the code it describes raises. Then the profile's own counts, at the
datasets' real sizes, times the measured time per step of each kind (each
training call's first step, which pays one-time costs, left out) give the
projection. What it leaves out: the evaluations after each epoch and the
analyses between trainings (their smoke-scale time is in the phases), and
any difference between a cut-down run's step and a long run's (caches,
thermal limits). A failure raises; the CLI's ``reproduce CHAPTER --profile P
--smoke`` prints the report and exits non-zero on any error.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
import time
from pathlib import Path

import torch

from .data import HELD, dataset_info, stand_in_data
from .experiments.bounds import STRUCTURE as BOUNDS_WEIGHTS
from .koopman import SNAPSHOTS
from .spline import CODES
from .experiments import get_experiment
from .params import validate
from .provenance import provenance, read_result, write_result
from .train import measure_steps

__all__ = ["smoke", "smoke_params", "smoke_report", "smoke_notebook", "full_params", "WHERE", "COLAB",
           "projection_table"]

#: a Colab GPU runtime, the reader's likely machine: host memory and GPU memory, in bytes
COLAB = {"host": 12 * 10**9, "device": 15 * 10**9}

#: where each measured structure lives when a profile runs on a GPU (on a CPU all of it is host memory)
WHERE = {HELD: "device", SNAPSHOTS: "device", CODES: "host", BOUNDS_WEIGHTS: "device"}


def smoke_params(chapter: str, profile: str = "default", overrides=None) -> dict:
    """The validated parameters a smoke run of ``profile`` uses: the profile's, then ``overrides``, then the
    experiment's ``SMOKE`` cuts (a dict, or a function of the profile's parameters returning one), offline and
    without progress bars. A cut only ever shortens: where the parameters already hold a smaller whole number
    than the cut (``rounds=1`` against a cut of two rounds), theirs is kept."""
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
    cuts = {k: (min(v, base[k]) if _whole(v) and _whole(base[k]) else v) for k, v in cuts.items()}
    offline = {k: False for k in ("download", "progress") if k in exp.SCHEMA}
    return validate({**base, **cuts, **offline}, exp.SCHEMA)


def _whole(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _stand_in_sizes(exp, p: dict, batches: int = 2) -> tuple:
    """Training and test images of a smoke run's stand-in data: ``batches`` batches of the largest batch size
    (at least the experiment's ``SMOKE_MIN_BATCH``), and enough of every class for the scoring batches."""
    infos = _datasets(p) or [dataset_info("mnist5k")]
    batch = max(_batch_sizes(p) + [getattr(exp, "SMOKE_MIN_BATCH", 1)])
    classes = max(i["classes"] for i in infos)
    n_train = max(batches * batch, 2 * classes * p["per_class"] if "per_class" in p else 0)
    return n_train, max(128, 2 * classes)


def smoke_notebook(chapter: str, params: dict, smoke=True) -> dict:
    """What a chapter notebook run with ``smoke=True`` calls after validating its parameters.

    Returns the smoke run's parameters for the notebook's ``params`` (:func:`smoke_params` of the default
    profile with ``params`` over it: the experiment's ``SMOKE`` cuts, offline) and, for the rest of this
    process (the notebook's kernel), makes every :func:`pruning_utils.data.load_dataset` call return stand-in
    data of the dataset's real shape. Every cell then runs the chapter's whole pipeline, solutions included, in
    seconds and without data; the numbers it prints mean nothing. Stored results are still read as they are.
    ``smoke`` an integer: the same, with every batch size capped at it (the tests' setting for large models).
    """
    exp = get_experiment(chapter)
    p = smoke_params(chapter, "default", params)
    if smoke is not True:
        if isinstance(smoke, bool) or not isinstance(smoke, int) or smoke < 1:
            raise ValueError(f"parameter 'smoke' = {smoke!r} is not allowed; expected False, True or a positive "
                             f"integer (True, with every batch size capped at it)")
        p = _cap_batches(p, smoke, exp.SCHEMA)
    n_train, n_test = _stand_in_sizes(exp, p)
    stand_in_data(n_train, n_test).__enter__()
    return p


def _cap_batches(p: dict, max_batch, schema) -> dict:
    if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
        raise ValueError(f"parameter 'max_batch' = {max_batch!r} is not allowed; expected a positive integer")
    return validate({**p, **{k: min(v, max_batch) for k, v in p.items()
                             if k.endswith("batch_size") and isinstance(v, int)}}, schema)


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
          max_batch: int | None = None, batches: int = 2) -> dict:
    """Run ``profile`` of ``chapter`` in smoke mode (see the module's docstring); return its report.

    ``workdir``: where the result and any checkpoints go (default: a temporary folder, removed afterwards).
    ``max_batch`` caps every ``*batch_size`` parameter (the tests use it to keep large models quick on a CPU;
    the step times are then those of the smaller batch, so no projection is made; the formulas are still
    checked). ``batches``: batches per epoch of the stand-in training data (more: more steps timed, a steadier
    projection, a longer smoke run).
    The report holds ``chapter``, ``profile``, ``params`` (what ran), ``phases`` (seconds), ``steps``,
    ``seconds_per_step``, ``training_calls``, ``peak_rss_bytes``, ``cuda_peak_bytes`` (or None),
    ``claims`` (how many were evaluated), ``device`` and, without ``max_batch``, ``projection``: per kind of
    step or work ``groups[name] = {"steps", "seconds_per_step"}`` at the profile's own parameters, ``hours``
    (their total; None where a kind never ran in the smoke run, listed in ``unmeasured``) and ``structures``
    (bytes of the largest structures at the profile's sizes).
    """
    exp = get_experiment(chapter)
    name = exp.__name__.rsplit(".", 1)[-1]
    p = smoke_params(chapter, profile, overrides)
    if device is not None:
        p = validate({**p, "device": device}, exp.SCHEMA)
    if max_batch is not None:
        p = _cap_batches(p, max_batch, exp.SCHEMA)
    if isinstance(batches, bool) or not isinstance(batches, int) or batches < 1:
        raise ValueError(f"parameter 'batches' = {batches!r} is not allowed; expected a positive integer")
    n_train, n_test = _stand_in_sizes(exp, p, batches)
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
    # the step, work and memory formulas are checked against every smoke run; the projection (the profile's
    # counts times the measured times) only where the batches were not capped
    projection = _projection(exp, name, p, full_params(chapter, profile, overrides, device), meter, n_train, n_test)
    if max_batch is None:
        report["projection"] = projection
    return report


def full_params(chapter: str, profile: str = "default", overrides=None, device=None) -> dict:
    """The validated parameters of the profile itself (what ``reproduce`` would run)."""
    exp = get_experiment(chapter)
    extra = {} if device is None else {"device": device}
    return validate({**exp.PROFILES[profile], **(overrides or {}), **extra}, exp.SCHEMA)


def _real_sizes(name: str) -> tuple:
    info = dataset_info(name)
    return info["train_size"], info["test_size"]


def _counts(exp, p, sizes) -> dict:
    """The steps (or units of work) per group that the experiment's formulas count for parameters ``p`` at
    dataset sizes ``sizes(name) -> (train, test)``."""
    counts = {}
    for fn_name in ("training_steps", "work_units"):
        fn = getattr(exp, fn_name, None)
        if fn is not None:
            counts.update(fn(p, sizes))
    return counts


def _counts_now(exp, name, profile) -> dict:
    """The steps (or units) per group that ``profile``'s parameters count today, at the real datasets' sizes."""
    return _counts(exp, full_params(name, profile), _real_sizes)


def _projection(exp, name, p, full, meter, n_train, n_test) -> dict:
    """Check the experiment's step, work and memory formulas against what the smoke run measured, then apply
    them to the profile's own parameters and datasets: each kind of step (or unit of work) times its measured
    time, and each structure's size."""
    smoke_sizes = lambda _name: (n_train, n_test)                                           # noqa: E731
    counted, full_counts = _counts(exp, p, smoke_sizes), _counts(exp, full, _real_sizes)
    measured = {g: v["steps"] for g, v in meter.groups.items()}
    if {g: c for g, c in counted.items() if c} != measured:
        raise RuntimeError(f"{name}'s formulas count {counted} steps and units for the smoke run's parameters, "
                           f"the run made {measured}: the projection would be wrong")
    groups, seconds, unknown = {}, 0.0, []
    for g, steps in full_counts.items():
        m = meter.groups.get(g)
        if m is None or not m["steps"]:
            if steps:
                unknown.append(g)
            groups[g] = {"steps": steps, "seconds_per_step": None}
            continue
        per = m["warm_seconds"] / m["warm_steps"] if m["warm_steps"] else m["step_seconds"] / m["steps"]
        groups[g] = {"steps": steps, "seconds_per_step": per}
        seconds += steps * per
    out = {"groups": groups, "hours": None if unknown else seconds / 3600.0, "unmeasured": unknown}
    mem = getattr(exp, "memory_structures", None)
    if mem is not None:
        at_smoke = mem(p, smoke_sizes)
        wrong = {k: (at_smoke.get(k), v) for k, v in meter.structures.items() if at_smoke.get(k) != v}
        unnoted = sorted(set(at_smoke) - set(meter.structures))
        if wrong or unnoted:
            raise RuntimeError(f"{name}.memory_structures does not match the smoke run: (formula, measured) "
                               f"bytes {wrong}; never measured: {unnoted}")
        out["structures"] = mem(full, _real_sizes)
    return out


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
    if pr is not None:
        for g, v in pr["groups"].items():
            per = v["seconds_per_step"]
            t = "not measured" if per is None else f"{1000 * per:.3g} ms each, {v['steps'] * per / 3600:.3g} h"
            lines.append(f"  the profile: {g}: {v['steps']:,} steps, {t}")
        if pr["hours"] is not None:
            lines.append(f"  the profile would take about {pr['hours']:.2g} hours on this machine (the counted "
                         f"steps and work at the measured rates; evaluations and analyses not included)")
        for k, v in pr.get("structures", {}).items():
            lines.append(f"  the profile's {k}: {_size(v)}")
    return "\n".join(lines)


def _size(b: int) -> str:
    return f"{b / 2**30:.2f} GiB" if b >= 2**30 else f"{b / 2**20:.1f} MiB"


def _fits_colab(structures: dict) -> bool:
    """Do the structures fit a Colab GPU runtime (the device's on its GPU, the host's in its memory)?"""
    need = {"host": 0, "device": 0}
    for k, v in structures.items():
        need[WHERE.get(k, "host")] += v
    return all(need[k] <= COLAB[k] for k in need)


def _machine(prov: dict) -> str:
    dev = prov.get("device", {}) if isinstance(prov.get("device"), dict) else {}
    when = str(prov.get("finished_utc", ""))[:10]
    what = dev.get("gpu") or f"{dev.get('cpu_count', '?')}-core CPU"
    return f"{what}{', ' + when if when else ''}"


def projection_table(chapter: str, results_dir="results") -> str:
    """The projections stored under ``results_dir/projection/`` (``benchmarks/projection.py``'s files, one per
    machine) for every profile of ``chapter``, as lines to print: the profile's optimizer steps (or units of
    work), the projected time on each machine, and its largest structure with whether everything fits a Colab
    GPU runtime. Says so when none is stored."""
    import json
    exp = get_experiment(chapter)
    name = exp.__name__.rsplit(".", 1)[-1]
    files = sorted(Path(results_dir, "projection").glob("*.json"))
    runs = []
    for f in files:
        d = json.loads(f.read_text())
        by = {r["profile"]: r for r in d["reports"] if r["chapter"] == name}
        if by:
            runs.append((_machine(d["provenance"]), by))
    if not runs:
        return f"no projection stored for {name}: python benchmarks/projection.py {name} --out FILE"
    head = f"{'profile':18s} {'steps or units':>22s} " + " ".join(f"{m[:24]:>24s}" for m, _ in runs)
    lines = ["projected length (counted steps x measured time per step; evaluations and analyses not included)",
             head]
    largest, stale = {}, []
    for prof in exp.PROFILES:
        cells = []
        now = _counts_now(exp, name, prof)
        for _, by in runs:
            r = by.get(prof)
            pr = r.get("projection") if r else None
            if pr is None:
                cells.append(f"{'not measured':>24s}")
                continue
            if {g: v["steps"] for g, v in pr["groups"].items()} != now:
                cells.append(f"{'stale: profile changed':>24s}")
                stale.append(prof)
                continue
            h = pr["hours"]
            cells.append(f"{'n/a' if h is None else (f'{60 * h:.1f} min' if h < 1 else f'{h:,.1f} h'):>24s}")
            if pr.get("structures"):
                largest[prof] = pr["structures"]
        lines.append(f"{prof:18s} {f'{sum(now.values()):,}':>22s} " + " ".join(cells))
    if stale:
        lines.append(f"stale: projected for other parameters than the profile's today "
                     f"({', '.join(sorted(set(stale)))}); python benchmarks/projection.py {name} --out FILE "
                     f"measures it again")
    lines.append("largest structure at the profile's sizes (Colab GPU runtime: 12 GB host memory, 15 GB GPU):")
    for prof, st in largest.items():
        k, v = max(st.items(), key=lambda kv: kv[1])
        lines.append(f"  {prof:16s} {k}: {v / 2**20:,.0f} MiB on the {WHERE.get(k, 'host')}; "
                     f"{'fits' if _fits_colab(st) else 'does NOT fit'}")
    return "\n".join(lines)
