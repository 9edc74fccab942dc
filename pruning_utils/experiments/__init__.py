"""One experiment per chapter: ``run(**params) -> dict`` (JSON-friendly).

Each module defines ``SCHEMA`` (its parameters, see :mod:`pruning_utils.params`),
``PROFILES`` (named parameter sets: ``default`` is what the chapter runs on a
2-core CPU, ``paper`` the paper's scale for a GPU), ``run`` and ``CLAIMS``
(the paper's claims as :class:`pruning_utils.claims.Claim` objects, checked on
``run``'s result).
"""

from __future__ import annotations

import importlib

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
           "scales_table", "stored_report"]


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


def stored_verdicts(results_dir="results") -> list:
    """Every claim with its verdict on every stored result of its chapter.

    Returns ``[{"chapter", "claim", "verdicts": {profile: {"word", "device", "control"}}}]``
    in chapter order (``control``: the control's own word, or ``None``); a
    result is ``results/<chapter>/<profile>.json`` as ``python -m pruning_utils
    reproduce`` writes it (profiles in the order the experiment declares
    them). Used by ``python -m pruning_utils claims`` and by the book's
    scorecard page, so the two cannot disagree.
    """
    from ..claims import evaluate
    from ..provenance import read_result
    rows, by_chapter = [], {}
    for chapter, claim in all_claims():
        by_chapter.setdefault(chapter, []).append(claim)
    for chapter, claims in by_chapter.items():
        exp = get_experiment(chapter)
        stored = {prof: read_result(chapter, prof, results_dir) for prof in exp.PROFILES}
        stored = {k: v for k, v in stored.items() if v is not None}
        verdicts = {prof: evaluate(claims, data["result"]) for prof, data in stored.items()}
        for j, claim in enumerate(claims):
            per = {}
            for prof, vs in verdicts.items():
                dev = stored[prof]["provenance"].get("device", {})
                where = (dev.get("gpu") or dev.get("requested") or "?") if isinstance(dev, dict) else str(dev)
                ctl = vs[j].control
                per[prof] = {"word": vs[j].word, "device": where,
                             "control": None if ctl is None else ctl.subject_word}
            rows.append({"chapter": chapter, "claim": claim, "verdicts": per})
    return rows


def headline(rows, profile="default") -> dict:
    """Counts for the scorecard's headline from :func:`stored_verdicts` rows, at ``profile``:
    evidence claims by word (``holds`` means the control failed), checks apart, and claims with no
    stored result."""
    from ..claims import WORDS
    out = {"claims": len(rows), "evidence": {w: 0 for w in WORDS}, "checks": {}, "no stored result": 0}
    for r in rows:
        v = r["verdicts"].get(profile)
        if v is None:
            out["no stored result"] += 1
        elif r["claim"].kind == "check":
            out["checks"][v["word"]] = out["checks"].get(v["word"], 0) + 1
        else:
            out["evidence"][v["word"]] += 1
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


def scales_table(chapter: str, results_dir="results", profiles=("default", "full")) -> str:
    """The chapter's claims against its stored results at each of ``profiles`` ("default vs full"), as text.

    One row per claim: its id and kind, then the verdict word at each profile
    (``-`` where that profile's result is not stored), and ``<- differs``
    where two stored verdicts differ. Words only, no number, so a checked
    cell can print it; under the table, the command that produces each
    profile not stored. Reads ``results/<chapter>/<profile>.json``; runs
    nothing.
    """
    from ..claims import evaluate
    from ..provenance import read_result
    key, exp, profiles = _scale_profiles(chapter, profiles)
    claims = list(getattr(exp, "CLAIMS", ()))
    stored = {p: read_result(key, p, results_dir) for p in profiles}
    words = {p: [v.word for v in evaluate(claims, d["result"])] for p, d in stored.items() if d is not None}
    rows = [("claim", "kind", *profiles, "")]
    for j, c in enumerate(claims):
        ws = [words[p][j] if p in words else "-" for p in profiles]
        seen = {w for w in ws if w != "-"}
        rows.append((c.id, "check" if c.kind == "check" else "evidence", *ws, "<- differs" if len(seen) > 1 else ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths).rstrip())
    for p in profiles:
        if p not in words:
            lines.append(f"{p}: not stored; python -m pruning_utils reproduce {key} --profile {p}")
    return "\n".join(lines)


def stored_report(chapter: str, profile: str = "full", results_dir="results") -> str:
    """The numbers behind the claims' verdicts on a stored result (for an unchecked cell): a line of its
    provenance, then :func:`pruning_utils.claims.numbers_report`; where the result is not stored, the command
    that makes it. Runs nothing."""
    from ..claims import evaluate, numbers_report
    from ..provenance import describe_provenance, read_result
    key, exp, _ = _scale_profiles(chapter, (profile,))
    stored = read_result(key, profile, results_dir)
    if stored is None:
        return f"No {profile} result stored: python -m pruning_utils reproduce {key} --profile {profile}"
    return (f"{profile} profile: {describe_provenance(stored['provenance'])}\n"
            + numbers_report(evaluate(list(getattr(exp, "CLAIMS", ())), stored["result"])))
