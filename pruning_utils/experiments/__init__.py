"""One experiment per chapter: ``run(**params) -> dict`` (JSON-friendly).

Each module defines ``SCHEMA`` (its parameters, see :mod:`pruning_utils.params`),
``PROFILES`` (named parameter sets: ``default`` is what the chapter runs on a
2-core CPU, ``paper`` the paper's scale for a GPU), ``run`` and ``CLAIMS``
(the paper's claims as :class:`pruning_utils.claims.Claim` objects, checked on
``run``'s result).
"""

from __future__ import annotations

import importlib
import json

EXPERIMENTS = {"foundations": "pruning_utils.experiments.foundations",
               "koopman": "pruning_utils.experiments.koopman",
               "spline": "pruning_utils.experiments.spline",
               "bounds": "pruning_utils.experiments.bounds",
               "pruning_at_init": "pruning_utils.experiments.pruning_at_init",
               "topology": "pruning_utils.experiments.topology",
               "lenses": "pruning_utils.experiments.lenses"}
ALIASES = {"00_foundations": "foundations", "00": "foundations", "01_koopman": "koopman", "01": "koopman",
           "02_spline": "spline", "02": "spline",
           "03_probabilistic_bounds": "bounds", "03": "bounds",
           "04_pruning_at_init": "pruning_at_init", "04": "pruning_at_init",
           "05_topology": "topology", "05": "topology", "06_lenses": "lenses", "06": "lenses"}

#: the chapter notebook (``chapters/<stem>.ipynb``) of each experiment
NOTEBOOKS = {"foundations": "00_foundations", "koopman": "01_koopman", "spline": "02_spline",
             "bounds": "03_probabilistic_bounds", "pruning_at_init": "04_pruning_at_init",
             "topology": "05_topology", "lenses": "06_lenses"}

__all__ = ["EXPERIMENTS", "NOTEBOOKS", "get_experiment", "all_claims", "stored_verdicts", "headline",
           "scales_table", "stored_report", "judge", "shown", "confirmed_report"]


def get_experiment(name: str):
    """The experiment module of a chapter, by name (``foundations``) or file stem (``00_foundations``)."""
    key = ALIASES.get(name, name)
    if key not in EXPERIMENTS:
        raise ValueError(f"chapter {name!r} is not known; expected one of {', '.join(EXPERIMENTS)}")
    return importlib.import_module(EXPERIMENTS[key])


def all_claims() -> list:
    """Every claim of the book: ``[(chapter, claim), ...]`` in chapter order."""
    out = []
    for name in EXPERIMENTS:
        for c in getattr(get_experiment(name), "CLAIMS", ()):
            out.append((name, c))
    return out


def judge(claims, stored) -> list:
    """Each claim's verdict on a stored result as the book shows it, in the order of ``claims``.

    ``stored``: ``{"result", "provenance", "claims"}`` as ``reproduce`` (or ``reproduce --confirm``) wrote
    it. Each entry is ``{"word", "control", "status", "now"}``:

    - ``status = "as run"``: the claim's definition (:func:`pruning_utils.claims.digest`) is the one that
      judged the run; ``word`` is the word it got then;
    - ``"edited"``: the claim changed since the run; ``word`` is still the word it had then (never silently
      re-judged) and ``now`` the word today's definition gives, for information: a result judged by an edited
      claim needs a new run (for a confirmation, on new seeds);
    - ``"judged later"``: the run kept no record of this claim (written before records were kept, or the claim
      was added since): ``word`` is today's definition's.

    For a confirmation, ``word`` may be ``undecided`` and the entry carries ``seeds`` (how many it was decided
    on, or the cap), ``needed`` (for an undecided claim, about how many seeds would decide it; None where more
    seeds cannot) and ``look``.
    """
    from ..claims import Plan, digest, evaluate
    rec = stored.get("claims") or {}
    result = stored["result"]
    confirmation = isinstance(result, dict) and result.get("kind") == "confirmation"
    now = {}
    if confirmation:
        from ..confirm import replay
        state = replay(claims, result["results"], Plan(tuple(result["plan"]["looks"]), result["plan"]["alpha"]),
                       result["calls_per_look"])
        for c in claims:
            v = state[c.id]["verdict"]
            now[c.id] = ("undecided" if v.word == "not robust" else v.word,
                         None if v.control is None else v.control.subject_word)
    else:
        for v in evaluate(claims, result):
            now[v.claim.id] = (v.word, None if v.control is None else v.control.subject_word)
    out = []
    for c in claims:
        r = rec.get(c.id)
        if r is None:
            e = {"word": now[c.id][0], "control": now[c.id][1], "status": "judged later", "now": now[c.id][0]}
        else:
            e = {"word": r["word"], "control": r.get("control"),
                 "status": "as run" if r.get("digest") == digest(c) else "edited", "now": now[c.id][0]}
            for k in ("seeds", "needed", "look"):
                if k in r:
                    e[k] = r[k]
            if confirmation and "seeds" not in get_experiment(result["chapter"]).SCHEMA:
                e["unit"] = "runs"       # chapter 03: a plan counts runs, each a fresh draw of targets
        out.append(e)
    return out


def shown(entry: dict) -> str:
    """The words the book prints for an entry of :func:`judge`: the word, and what the reader must know about
    it (edited since the run, judged after it, how many seeds would decide an undecided claim); no number a
    CPU could change."""
    word = entry["word"]
    if word == "undecided" and "seeds" in entry:
        unit = entry.get("unit", "seeds")
        word = f"undecided at {entry['seeds']} {unit}" + (
            f" (more {unit} alone would not decide it)" if entry.get("needed") is None else
            f" (one look at about {entry['needed']} {unit} would decide it)")
    if entry["status"] == "edited":
        return f"{word} [claim edited since this run; rerun]"
    if entry["status"] == "judged later":
        return f"{word} [judged after the run]"
    return word


def _where(provenance: dict) -> str:
    dev = provenance.get("device", {})
    return (dev.get("gpu") or dev.get("requested") or "?") if isinstance(dev, dict) else str(dev)


def stored_verdicts(results_dir="results") -> list:
    """Every claim with its verdict on every stored result of its chapter.

    Returns ``[{"chapter", "claim", "verdicts": {profile: entry}, "confirmations": {profile: entry}}]`` in
    chapter order; an entry is :func:`judge`'s (``word``, ``control``, ``status``, ``now``) with ``device``
    added (and for a confirmation ``index``, its number). ``verdicts`` are the exploration results
    (``results/<chapter>/<profile>.json`` as ``python -m pruning_utils reproduce`` writes them, profiles in
    the order the experiment declares them); ``confirmations`` the newest confirmation of each profile
    (``results/<chapter>/confirm/<profile>-<k>.json``). Used by ``python -m pruning_utils claims`` and by the
    book's scorecard page, so the two cannot disagree.
    """
    from ..confirm import confirmations
    from ..provenance import read_result
    rows, by_chapter = [], {}
    for chapter, claim in all_claims():
        by_chapter.setdefault(chapter, []).append(claim)
    for chapter, claims in by_chapter.items():
        exp = get_experiment(chapter)
        stored = {prof: read_result(chapter, prof, results_dir) for prof in exp.PROFILES}
        stored = {k: v for k, v in stored.items() if v is not None}
        judged = {prof: judge(claims, data) for prof, data in stored.items()}
        latest = {}
        for path in confirmations(chapter, results_dir):
            latest[path.stem.rsplit("-", 1)[0]] = path       # oldest first: the newest stays
        conf = {}
        for prof in [p for p in exp.PROFILES if p in latest]:
            data = json.loads(latest[prof].read_text())
            conf[prof] = (data, judge(claims, data))
        for j, claim in enumerate(claims):
            per = {prof: {**js[j], "device": _where(stored[prof]["provenance"])} for prof, js in judged.items()}
            cf = {prof: {**js[j], "device": _where(data["provenance"]), "index": data["result"]["index"]}
                  for prof, (data, js) in conf.items()}
            rows.append({"chapter": chapter, "claim": claim, "verdicts": per, "confirmations": cf})
    return rows


def headline(rows, profile="default") -> dict:
    """Counts for the scorecard's headline from :func:`stored_verdicts` rows, at ``profile``: evidence claims by
    their exploration word (``holds`` means the control failed), checks apart, claims with no stored result;
    and ``confirmed``, per paper, the evidence claims by their confirmation word at ``profile`` (``reproduces``:
    holds against its control; ``does not``; ``not discriminating``; ``undecided``; ``edited``: confirmed by a
    definition since edited; ``not confirmed``: no confirmation stored)."""
    from ..claims import WORDS
    out = {"claims": len(rows), "evidence": {w: 0 for w in WORDS}, "checks": {}, "no stored result": 0,
           "confirmed": {}}
    names = {"holds": "reproduces", "does not hold": "does not", "not discriminating": "not discriminating",
             "undecided": "undecided", "holds, no control": "holds, no control"}
    for r in rows:
        v = r["verdicts"].get(profile)
        if v is None:
            out["no stored result"] += 1
        elif r["claim"].kind == "check":
            out["checks"][v["word"]] = out["checks"].get(v["word"], 0) + 1
        else:
            out["evidence"][v["word"]] += 1
        if r["claim"].kind == "check":
            continue
        per = out["confirmed"].setdefault(r["claim"].paper, {w: 0 for w in (*dict.fromkeys(names.values()),
                                                                             "edited", "not confirmed")})
        c = r.get("confirmations", {}).get(profile)
        key = "not confirmed" if c is None else "edited" if c["status"] != "as run" else names[c["word"]]
        per[key] += 1
    return out


def _scale_profiles(chapter, profiles):
    key = ALIASES.get(chapter, chapter)
    exp = get_experiment(key)
    profiles = tuple(profiles)
    if not profiles:
        raise ValueError("parameter 'profiles' must name at least one profile")
    unknown = [p for p in profiles if p not in exp.PROFILES]
    if unknown:
        raise ValueError(f"parameter 'profiles' = {unknown!r} is not allowed for chapter {key!r}; expected profiles "
                         f"among {', '.join(exp.PROFILES)}")
    return key, exp, profiles


def scales_table(chapter: str, results_dir="results", profiles=("default", "full"), confirmed=None) -> str:
    """The chapter's claims against its stored results, as text: the confirmation verdict at each of
    ``confirmed`` (default: the default profile, and every other profile with a stored confirmation), then
    the exploration verdict at each of ``profiles`` ("default vs full").

    One row per claim: its id and kind, then the words (:func:`shown`: a claim edited since a run is shown
    as such with the word it had, never re-judged), ``-`` where nothing is stored, and ``<- differs`` where
    two exploration verdicts differ. Words only, no decimal number, so a checked cell can print it; under the
    table, the command that produces each result not stored. Reads ``results/<chapter>/``; runs nothing.
    """
    from ..confirm import latest_confirmation
    from ..provenance import read_result
    key, exp, profiles = _scale_profiles(chapter, profiles)
    if confirmed is None:
        confirmed = ("default", *(p for p in exp.PROFILES
                                  if p != "default" and latest_confirmation(key, p, results_dir) is not None))
    confirmed = tuple(confirmed)
    unknown = [p for p in confirmed if p not in exp.PROFILES]
    if unknown:
        raise ValueError(f"parameter 'confirmed' = {unknown!r} is not allowed for chapter {key!r}; expected profiles "
                         f"among {', '.join(exp.PROFILES)}")
    claims = list(getattr(exp, "CLAIMS", ()))
    stored = {p: read_result(key, p, results_dir) for p in profiles}
    judged = {p: judge(claims, d) for p, d in stored.items() if d is not None}
    conf = {p: latest_confirmation(key, p, results_dir) for p in confirmed}
    cjudged = {p: judge(claims, d) for p, d in conf.items() if d is not None}
    rows = [("claim", "kind", *(f"confirmed ({p})" for p in confirmed), *profiles, "")]
    for j, c in enumerate(claims):
        cs = [shown(cjudged[p][j]) if p in cjudged else "-" for p in confirmed]
        ws = [shown(judged[p][j]) if p in judged else "-" for p in profiles]
        seen = {judged[p][j]["word"] for p in profiles if p in judged}
        rows.append((c.id, "check" if c.kind == "check" else "evidence", *cs, *ws,
                     "<- differs" if len(seen) > 1 else ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths[:-1]).rstrip())
    for p in confirmed:
        if p not in cjudged:
            lines.append(f"confirmed ({p}): not stored; python -m pruning_utils reproduce {key} --profile {p} --confirm")
    for p in profiles:
        if p not in judged:
            lines.append(f"{p}: not stored; python -m pruning_utils reproduce {key} --profile {p}")
    return "\n".join(lines)


def stored_report(chapter: str, profile: str = "full", results_dir="results") -> str:
    """The numbers behind the claims' verdicts on a stored result (for an unchecked cell): a line of its
    provenance, the claims edited since the run (with the word each had), then
    :func:`pruning_utils.claims.numbers_report` by today's definitions; where the result is not stored, the
    command that makes it. Runs nothing."""
    from ..claims import evaluate, numbers_report
    from ..provenance import describe_provenance, read_result
    key, exp, _ = _scale_profiles(chapter, (profile,))
    stored = read_result(key, profile, results_dir)
    if stored is None:
        return f"No {profile} result stored: python -m pruning_utils reproduce {key} --profile {profile}"
    claims = list(getattr(exp, "CLAIMS", ()))
    edited = [f"{c.id}: edited since this run (it had {e['word']}; today's definition gives {e['now']})"
              for c, e in zip(claims, judge(claims, stored)) if e["status"] == "edited"]
    return "\n".join([f"{profile} profile: {describe_provenance(stored['provenance'])}", *edited,
                      numbers_report(evaluate(claims, stored["result"]))])


def confirmed_report(chapter: str, profile: str = "default", results_dir="results") -> str:
    """The verdicts the book reports for a chapter (for a checked cell, before the chapter's own run): one line
    per claim from the newest stored confirmation at ``profile``, its word (:func:`shown`), the statement, the
    control, and the number of seeds it was decided on; words and whole numbers only. Where no confirmation is
    stored, the command that makes one. Runs nothing."""
    from ..confirm import latest_confirmation
    key, exp, _ = _scale_profiles(chapter, (profile,))
    claims = list(getattr(exp, "CLAIMS", ()))
    data = latest_confirmation(key, profile, results_dir)
    if data is None:
        return (f"No confirmation of the {profile} profile stored: python -m pruning_utils reproduce {key} "
                f"--profile {profile} --confirm")
    res = data["result"]
    looks = ", ".join(str(n) for n in res["plan"]["looks"])
    n = len(res["seeds"])
    unit = ("seed", "seeds") if "seeds" in exp.SCHEMA else ("run", "runs")
    what = f"{n} {unit[n != 1]}" + ("" if "seeds" in exp.SCHEMA else " on fresh seeds")
    lines = [f"Confirmation {res['index']} of the {profile} profile ({what} from the reserved range; looks at "
             f"{looks} {unit[1]}):"]
    for c, e in zip(claims, judge(claims, data)):
        when = f"; decided at {e['seeds']} {unit[e['seeds'] != 1]}" if e.get("look") is not None else ""
        if c.kind == "check":
            lines.append(f"[check] [{shown(e)}] {c.statement}{when}")
        else:
            control = f"control: {c.control.name}" if c.control is not None else "no control yet"
            lines.append(f"[{shown(e)}] {c.statement} ({control}){when}")
    return "\n".join(lines)
