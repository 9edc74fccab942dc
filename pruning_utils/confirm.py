"""Confirmation: a chapter's profile run again, after its claims are frozen, on seeds no exploration used.

Every run anyone has looked at while shaping a claim (its statistic, margin,
rule, control) is *exploration*: ``python -m pruning_utils reproduce CHAPTER
--profile P`` writes one to ``results/<chapter>/<P>.json``. The verdict the book
reports for a claim is its *confirmation's*: ``reproduce CHAPTER --profile P
--confirm`` runs the same profile on seeds from a range reserved for it
(``CONFIRM_SEED_BASE`` and up; exploration runs through ``reproduce``
refuse them), never used before by any confirmation of the chapter, in the
steps of the experiment's :class:`pruning_utils.claims.Plan` (seeds added look
by look, up to its cap, stopping when every claim is decided), and writes
``results/<chapter>/confirm/<P>-<k>.json``: every call's result, the plan,
the seeds, and for each claim the digest of its definition, the word it got,
the look that decided it (or, undecided at the cap, about how many seeds would
decide it). A claim edited after its confirmation shows as such wherever the
confirmation is read, and needs a new confirmation (the next ``k``) on new
seeds.

An experiment without a ``seeds`` parameter (chapter 03: its replicates are
groups of sampled targets) counts its plan in runs: each run draws fresh
targets from the next reserved seed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from .claims import Plan, pool, record
from .params import validate
from .provenance import provenance, write_result
from .store import ResultStore

__all__ = ["CONFIRM_SEED_BASE", "SEED_GAP", "plan_for", "confirm", "confirmations", "latest_confirmation",
           "next_seed", "refuse_reserved_seeds", "replay"]

#: seeds from here on are reserved for confirmations (exploration runs through ``reproduce`` refuse them)
CONFIRM_SEED_BASE = 100_000
#: seeds left unused between two confirmations of a chapter (experiments derive seed + 1 and seed + 2 from a seed)
SEED_GAP = 10
#: the plan of a profile whose experiment declares none (``CONFIRM`` in the experiment's module)
DEFAULT_PLAN = Plan((3, 5, 8))


def plan_for(exp, profile: str) -> Plan:
    """The experiment's declared plan for ``profile`` (``CONFIRM``), else ``DEFAULT_PLAN``."""
    return getattr(exp, "CONFIRM", {}).get(profile, DEFAULT_PLAN)


def _seed_span(params: dict) -> tuple:
    first = params.get("seed", 0)
    return first, first + max(int(params.get("seeds", 1)), 1) - 1


def refuse_reserved_seeds(params: dict) -> None:
    """Refuse (``ValueError`` naming ``seed``) an exploration run whose seeds reach the confirmation range."""
    if "seed" not in params or params["seed"] is None:
        return
    first, last = _seed_span(params)
    if last >= CONFIRM_SEED_BASE:
        raise ValueError(f"parameter 'seed' = {first} is not allowed for an exploration run: its seeds reach "
                         f"{CONFIRM_SEED_BASE} and up, which are reserved for confirmations; expected seeds below "
                         f"{CONFIRM_SEED_BASE} (a confirmation: reproduce CHAPTER --profile P --confirm)")


def confirmations(chapter: str, results_dir="results") -> list:
    """Paths of every stored confirmation of ``chapter`` (any profile), oldest first per profile."""
    folder = Path(results_dir) / chapter / "confirm"
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*-*.json"), key=lambda p: (p.stem.rsplit("-", 1)[0], int(p.stem.rsplit("-", 1)[1])))


def latest_confirmation(chapter: str, profile: str, results_dir="results"):
    """The newest stored confirmation of ``chapter`` at ``profile`` (the dict written), or None."""
    paths = [p for p in confirmations(chapter, results_dir) if p.stem.rsplit("-", 1)[0] == profile]
    return json.loads(paths[-1].read_text()) if paths else None


def next_seed(chapter: str, results_dir="results", run_root="runs") -> int:
    """The first seed a new confirmation of ``chapter`` may use: past every seed any stored or unfinished
    confirmation of the chapter took (and their derived seeds), or ``CONFIRM_SEED_BASE``."""
    last = CONFIRM_SEED_BASE - SEED_GAP
    for path in confirmations(chapter, results_dir):
        seeds = json.loads(path.read_text()).get("seeds", [])
        last = max([last, *seeds])
    for path in Path(run_root, chapter).glob("confirm-*/looks.json"):
        data = json.loads(path.read_text()).get("data", {})
        if "first_seed" in data:
            last = max(last, data["first_seed"] + data.get("cap", 1) - 1)
    return last + SEED_GAP


def _calls(exp, plan: Plan, first: int):
    """Per look, the calls of ``exp.run`` that add its seeds: ``[(seed, seeds or None), ...]``."""
    with_seeds = "seeds" in exp.SCHEMA
    out, done = [], 0
    for n in plan.looks:
        add = n - done
        out.append([(first + done, add)] if with_seeds else [(first + done + u, None) for u in range(add)])
        done = n
    return out


def replay(claims, results, plan: Plan, units_per_look=None) -> dict:
    """Each claim's confirmation verdict from the results of the calls, in order, looked at as ``plan`` says:
    ``{id: {"verdict": Verdict, "look": index or None, "units": seeds when decided or at the cap}}``.
    ``units_per_look``: how many of ``results`` each look has (default: one result per look)."""
    units_per_look = units_per_look or [1] * len(plan.looks)
    out, have = {}, 0
    for j, k in enumerate(units_per_look):
        have += k
        if have > len(results):
            break
        for c, v in zip(claims, pool(claims, *results[:have])):
            if c.id in out and out[c.id]["look"] is not None:
                continue
            judged = plan.verdict(v, j)
            decided = judged.word != "not robust"
            out[c.id] = {"verdict": judged, "look": j if decided else None, "units": plan.looks[j]}
        if all(r["look"] is not None for r in out.values()):
            break
    return out


def confirm(chapter: str, profile: str = "default", overrides=None, out_dir="results", run_root="runs",
            device=None, plan: Plan | None = None) -> Path:
    """Run the confirmation of ``chapter`` at ``profile``; return the path of the JSON written.

    Interrupted, it resumes where it stopped (each call's result is kept in ``runs/<chapter>/confirm-<P>-<k>/``,
    with the seeds it was given). ``overrides`` may not set ``seed`` or ``seeds``: the plan sets them.
    """
    from .experiments import get_experiment
    exp = get_experiment(chapter)
    name = exp.__name__.rsplit(".", 1)[-1]
    if profile not in exp.PROFILES:
        raise ValueError(f"profile {profile!r} is not defined for {name}; expected one of {', '.join(exp.PROFILES)}")
    overrides = dict(overrides or {})
    fixed = sorted({"seed", "seeds"} & set(overrides))
    if fixed:
        raise ValueError(f"parameter {fixed[0]!r} cannot be set for a confirmation: its plan chooses the seeds")
    plan = plan or plan_for(exp, profile)
    claims = list(exp.CLAIMS)
    params = {**exp.PROFILES[profile], **overrides}
    if device is not None:
        params["device"] = device
    k = 1 + sum(1 for p in confirmations(name, out_dir) if p.stem.rsplit("-", 1)[0] == profile)
    folder = Path(run_root) / name / f"confirm-{profile}-{k}"
    store = ResultStore(folder / "looks.json", meta={"chapter": name, "profile": profile, "params": params,
                                                      "plan": {"looks": list(plan.looks), "alpha": plan.alpha}})
    first = store.get_or_run("first_seed", lambda: next_seed(name, out_dir, run_root))
    store.get_or_run("cap", lambda: plan.cap)
    t0 = time.perf_counter()
    calls, results, per_look, seeds, state = _calls(exp, plan, first), [], [], [], {}
    for j, look in enumerate(calls):
        for seed, n in look:
            p = {**params, "seed": seed, **({} if n is None else {"seeds": n})}
            if "run_dir" in exp.SCHEMA:
                p["run_dir"] = str(folder / f"seed{seed}")
            p = validate(p, exp.SCHEMA)
            results.append(store.get_or_run(f"seed{seed}", lambda p=p: json.loads(json.dumps(
                exp.run(**p), default=float))))
            seeds += list(range(seed, seed + (n or 1)))
        per_look.append(len(look))
        state = replay(claims, results, plan, per_look)
        if all(r["look"] is not None for r in state.values()):
            break
    verdicts = [state[c.id]["verdict"] for c in claims]
    rec = record(verdicts)
    for c in claims:
        s = state[c.id]
        rec[c.id]["look"] = s["look"]
        rec[c.id]["seeds"] = s["units"]
        if rec[c.id]["word"] == "not robust":
            rec[c.id]["word"] = "undecided"
            rec[c.id]["needed"] = plan.needed(s["verdict"], s["units"])
    params_out = validate({**params, "seed": first, **({"seeds": len(seeds)} if "seeds" in exp.SCHEMA else {})},
                          exp.SCHEMA)
    prov = provenance(params_out, str(results[-1].get("device", params.get("device"))), time.perf_counter() - t0)
    path = Path(out_dir) / name / "confirm" / f"{profile}-{k}.json"
    write_result(path, {"kind": "confirmation", "chapter": name, "profile": profile, "index": k,
                        "plan": {"looks": list(plan.looks), "alpha": plan.alpha}, "seeds": seeds,
                        "calls_per_look": per_look, "results": results}, prov, claims=rec)
    return path
