"""How long and how large each chapter's every profile would be, projected from its smoke run on this machine.

For every profile of every chapter (or those named), one smoke run
(:func:`pruning_utils.smoke.smoke`, batch sizes NOT capped, so each step is
the profile's real step): the profile's whole pipeline cut to a few steps on
stand-in data of its real shape. The smoke run checks each experiment's
step, work and memory formulas against what it measured, then projects: the
profile's counted optimizer steps (per kind of network) and units of work
at the datasets' real sizes, times the time per step measured here. It
prints a markdown table (profile; steps; measured time per step; projected
hours; the largest structure and whether it fits a Colab GPU runtime, about
12 GB of host memory and 15 GB of GPU memory) and writes every report, with
its provenance, as JSON.

    python benchmarks/projection.py [--device cpu] [--batches 4] [--out FILE.json] [chapter[:profile] ...]

The projection leaves out the evaluations after each epoch and the analyses
between trainings (their smoke-scale seconds are in each report's phases):
a lower estimate of the whole run, and only as good as a handful of steps
timed on a possibly busy machine. Run it on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from pruning_utils.experiments import EXPERIMENTS, get_experiment
from pruning_utils.provenance import provenance
from pruning_utils.smoke import WHERE, _fits_colab, smoke


def _size(b: int) -> str:
    return f"{b / 2**30:.2f} GiB" if b >= 2**30 else f"{b / 2**20:.0f} MiB"


def _hours(h) -> str:
    if h is None:
        return "n/a"
    return f"{h * 60:.1f} min" if h < 1 else f"{h:,.1f} h"


def row(r: dict) -> str:
    pr = r["projection"]
    groups = pr["groups"]
    steps = "<br>".join(f"{g}: {v['steps']:,}" for g, v in groups.items())
    per = "<br>".join("n/a" if v["seconds_per_step"] is None else f"{1000 * v['seconds_per_step']:.3g} ms"
                      for v in groups.values())
    structures = pr.get("structures", {})
    if structures:
        name, size = max(structures.items(), key=lambda kv: kv[1])
        largest = (f"{name}: {_size(size)} ({WHERE.get(name, 'host')} on a GPU); Colab GPU runtime: "
                   f"{'fits' if _fits_colab(structures) else 'does not fit'}")
    else:
        largest = "-"
    return f"| {r['chapter']} `{r['profile']}` | {steps} | {per} | {_hours(pr['hours'])} | {largest} |"


def real_training(chapter: str, profile: str, device: str) -> dict:
    """Run ``profile`` for real (nothing stored) and measure its training: steps, their seconds (the steps
    alone, as the projection counts them), the whole run's seconds."""
    from pruning_utils.meter import measure_steps
    from pruning_utils.smoke import full_params

    exp = get_experiment(chapter)
    p = full_params(chapter, profile, device=device)
    t0 = time.perf_counter()
    with measure_steps() as m:
        exp.run(**p)
    return {"steps": m.steps, "training_s": sum(g["step_seconds"] for g in m.groups.values()),
            "wall_s": time.perf_counter() - t0}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("which", nargs="*", help="chapter or chapter:profile (default: every profile)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batches", type=int, default=4, help="batches per epoch of the stand-in data (default 4)")
    ap.add_argument("--out", default=None, help="JSON file for the reports (default: print only)")
    ap.add_argument("--check-real", action="store_true",
                    help="after each projection, run the profile for real and compare its measured training time "
                         "(only for profiles that run in minutes: the defaults)")
    a = ap.parse_args(argv)
    todo = []
    for c in EXPERIMENTS:
        for prof in get_experiment(c).PROFILES:
            if not a.which or c in a.which or f"{c}:{prof}" in a.which:
                todo.append((c, prof))
    reports, lines, t0 = [], [], time.perf_counter()

    def save():                          # after every profile: a run cut short keeps what it measured
        if a.out:
            prov = provenance({"which": a.which, "device": a.device, "batches": a.batches}, a.device,
                              time.perf_counter() - t0)
            Path(a.out).write_text(json.dumps({"provenance": prov, "table": lines, "reports": reports}, indent=1,
                                              default=str) + "\n")

    print("| profile | optimizer steps (or work units) | measured time per step | projected | largest structure |")
    print("|---|---|---|---|---|")
    for c, prof in todo:
        r = smoke(c, prof, device=a.device, batches=a.batches)
        r.pop("params", None)
        reports.append(r)
        line = row(r)
        lines.append(line)
        print(line, flush=True)
        if a.check_real:
            r["real"] = real_training(c, prof, a.device)
            projected = r["projection"]["hours"] * 3600
            counted = sum(g["steps"] for g in r["projection"]["groups"].values())
            real = r["real"]
            print(f"  real run: {real['steps']:,} steps (counted {counted:,}), training {real['training_s']:.0f} s "
                  f"against {projected:.0f} s projected ({real['training_s'] / projected:.2f}x); whole run "
                  f"{real['wall_s']:.0f} s", flush=True)
        save()
    total = time.perf_counter() - t0
    print(f"\n{len(todo)} smoke runs in {total:.0f} s on {platform.processor() or platform.machine()}, "
          f"device {a.device}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
