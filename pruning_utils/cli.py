"""Command line: ``python -m pruning_utils reproduce <chapter> --profile <name>``.

``reproduce`` runs a chapter's experiment headless and writes
``results/<chapter>/<profile>.json`` with provenance; checkpoints go to
``runs/<chapter>/<profile>/`` so an interrupted run resumes where it stopped.
``reproduce ... --smoke`` runs the same pipeline cut to a few steps on
stand-in data of the profile's real shape and writes nothing (see
:mod:`pruning_utils.smoke`). ``download`` fetches a torchvision dataset; ``list`` shows chapters, profiles
and parameters; ``claims`` lists every claim of the book with its verdict on
each stored result (``--run`` first runs a chapter's default profile where
no result is stored); ``lenses --scores module:function`` runs your own
pruning score through chapter 06's pipeline beside every method of the book
and prints the comparison.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import time
from pathlib import Path

from .claims import evaluate, record
from .confirm import confirm, refuse_reserved_seeds
from .experiments import EXPERIMENTS, get_experiment, headline, shown, stored_verdicts
from .params import describe, validate
from .provenance import provenance, read_result, write_result

__all__ = ["main"]


def _parse_set(items):
    out = {}
    for item in items or []:
        if "=" not in item:
            raise SystemExit(f"--set expects key=value, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k] = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            out[k] = v  # a bare string
    return out


def reproduce(chapter: str, profile: str = "default", overrides=None, out_dir="results",
              run_root="runs", device=None) -> Path:
    """Run one chapter's experiment for a profile; return the path of the JSON written."""
    exp = get_experiment(chapter)
    name = exp.__name__.rsplit(".", 1)[-1]
    if profile not in exp.PROFILES:
        raise ValueError(f"profile {profile!r} is not defined for {name}; expected one of "
                         f"{', '.join(exp.PROFILES)}")
    params = {**exp.PROFILES[profile], **(overrides or {})}
    if device is not None:
        params["device"] = device
    if "run_dir" in exp.SCHEMA and params.get("run_dir") is None:
        params["run_dir"] = str(Path(run_root) / name / profile)
    params = validate(params, exp.SCHEMA)
    refuse_reserved_seeds(params)
    t0 = time.perf_counter()
    result = exp.run(**params)
    wall = time.perf_counter() - t0
    path = Path(out_dir) / name / f"{profile}.json"
    result = json.loads(json.dumps(result, default=float))    # judged as it will be read back
    write_result(path, result, provenance(params, str(result.get("device", params.get("device"))), wall),
                 claims=record(evaluate(list(getattr(exp, "CLAIMS", ())), result)))
    return path


def claims_table(results_dir="results", run_missing=False, run_root="runs", device=None) -> str:
    """Every claim of the book: chapter, id, paper, statement, and its verdict on each stored result.

    A result is ``results/<chapter>/<profile>.json`` as :func:`reproduce`
    writes it. With ``run_missing`` a chapter with no stored ``default``
    result runs its default profile first (minutes on a CPU).
    """
    if run_missing:
        for chapter in EXPERIMENTS:
            if read_result(chapter, "default", results_dir) is None:
                reproduce(chapter, "default", out_dir=results_dir, run_root=run_root, device=device)
    lines, current = [], None
    rows = stored_verdicts(results_dir)
    for row in rows:
        chapter, claim = row["chapter"], row["claim"]
        if chapter != current:
            lines.append(f"{chapter}:")
            current = chapter
        lines.append(f"  {claim.id} [{claim.paper}; {claim.kind_text}]: {claim.statement}")
        if not row["verdicts"] and not row["confirmations"]:
            lines.append(f"      no stored result: python -m pruning_utils reproduce {chapter} (or claims --run)")
        for prof, v in row["confirmations"].items():
            ctl = f" (control: {v['control']})" if v["control"] is not None else ""
            lines.append(f"      confirmation {prof} #{v['index']} ({v['device']}): {shown(v)}{ctl}")
        for prof, v in row["verdicts"].items():
            ctl = f" (control: {v['control']})" if v["control"] is not None else ""
            lines.append(f"      exploration {prof} ({v['device']}): {shown(v)}{ctl}")
    h = headline(rows)
    ev = h["evidence"]
    lines += ["", f"{h['claims']} claims; exploration at the default profile: evidence that holds against its "
                  f"control {ev['holds']}, does not hold {ev['does not hold']}, not discriminating "
                  f"{ev['not discriminating']}, holds with no control yet {ev['holds, no control']}, "
                  f"not robust {ev['not robust']}; checks {sum(h['checks'].values())} "
                  f"({', '.join(f'{k} {n}' for k, n in sorted(h['checks'].items())) or 'none'}); "
                  f"no stored result {h['no stored result']}",
              "confirmed at the default profile, evidence claims per paper:"]
    for paper, counts in h["confirmed"].items():
        lines.append(f"  {paper}: " + ", ".join(f"{k} {n}" for k, n in counts.items() if n))
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pruning_utils", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("reproduce", help="run a chapter's experiment and store the result")
    r.add_argument("chapter", help=f"one of {', '.join(EXPERIMENTS)}")
    r.add_argument("--profile", default="default")
    r.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one parameter")
    r.add_argument("--device", default=None, help="auto, cpu or cuda")
    r.add_argument("--out", default="results", help="results folder (default: results)")
    r.add_argument("--runs", default="runs", help="checkpoint folder (default: runs)")
    r.add_argument("--confirm", action="store_true",
                   help="a confirmation: the profile on seeds reserved for it, never used before, added look by look "
                        "as the experiment's plan says until every claim is decided; writes "
                        "results/CHAPTER/confirm/PROFILE-K.json (see pruning_utils.confirm)")
    r.add_argument("--smoke", action="store_true",
                   help="run the profile's whole pipeline cut to a few steps on stand-in data of its real shape, "
                        "writing nothing under --out or --runs; print each phase's time and the peak memory")
    d = sub.add_parser("download", help="download a torchvision dataset")
    d.add_argument("dataset")
    d.add_argument("--root", default=None)
    sub.add_parser("list", help="chapters, profiles and parameters")
    c = sub.add_parser("claims", help="every claim of the book, with its verdict on each stored result")
    c.add_argument("--results", default="results", help="results folder (default: results)")
    c.add_argument("--run", action="store_true", help="run a chapter's default profile where none is stored")
    c.add_argument("--runs", default="runs", help="checkpoint folder (default: runs)")
    c.add_argument("--device", default=None, help="auto, cpu or cuda (with --run)")
    ln = sub.add_parser("lenses", help="your own pruning score through chapter 06's pipeline, beside the book's")
    ln.add_argument("--scores", required=True, metavar="MODULE:FUNCTION",
                    help="a function scores_fn(ctx) -> {layer name: tensor} (see lenses.compare)")
    ln.add_argument("--name", default=None, help="the method's name in the tables (default: the function's)")
    ln.add_argument("--profile", default="default")
    ln.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one parameter")
    ln.add_argument("--device", default=None, help="auto, cpu or cuda")
    ln.add_argument("--out", default=None, help="also write the result (JSON, with provenance) to this file")
    ln.add_argument("--figure", default=None, help="also save the comparison figure to this file")
    args = ap.parse_args(argv)

    try:
        if args.command == "reproduce" and args.smoke:
            from .smoke import smoke, smoke_report
            print(smoke_report(smoke(args.chapter, args.profile, _parse_set(args.set), args.device)))
        elif args.command == "reproduce" and args.confirm:
            path = confirm(args.chapter, args.profile, _parse_set(args.set), args.out, args.runs, args.device)
            print(f"wrote {path}")
        elif args.command == "reproduce":
            path = reproduce(args.chapter, args.profile, _parse_set(args.set), args.out, args.runs,
                             args.device)
            print(f"wrote {path}")
        elif args.command == "download":
            from .data import load_dataset
            for train in (True, False):
                x, _ = load_dataset(args.dataset, train=train, root=args.root, download=True)
                print(f"{args.dataset} {'train' if train else 'test'}: {tuple(x.shape)}")
        elif args.command == "lenses":
            from .experiments import lenses
            fn = lenses.load_scores_fn(args.scores)
            if args.profile not in lenses.PROFILES:
                raise ValueError(f"profile {args.profile!r} is not defined for lenses; expected one of "
                                 f"{', '.join(lenses.PROFILES)}")
            params = {**lenses.PROFILES[args.profile], **_parse_set(args.set)}
            if args.device is not None:
                params["device"] = args.device
            name = args.name or args.scores.split(":")[1]
            t0 = time.perf_counter()
            result = lenses.compare(fn, name, **params)
            print(lenses.compare_table(result, name))
            if args.out:
                p = validate(params, lenses.SCHEMA)
                write_result(Path(args.out), result, provenance(p, result["device"], time.perf_counter() - t0))
                print(f"wrote {args.out}")
            if args.figure:
                lenses.compare_figure(result, name).savefig(args.figure, dpi=120)
                print(f"wrote {args.figure}")
        elif args.command == "claims":
            print(claims_table(args.results, args.run, args.runs, args.device))
        else:
            for name in EXPERIMENTS:
                exp = get_experiment(name)
                print(f"{name}: profiles {', '.join(exp.PROFILES)}")
                print("  " + describe(exp.SCHEMA).replace("\n", "\n  "))
    except (ValueError, FileNotFoundError, ConnectionError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Exception as e:       # a smoke run reports any failure of the pipeline in one line and a status
        if args.command == "reproduce" and args.smoke:
            import traceback
            traceback.print_exc()
            print(f"error: smoke run of {args.chapter} --profile {args.profile} failed: "
                  f"{type(e).__name__}: {e}", file=sys.stderr)
            return 1
        raise
    return 0
