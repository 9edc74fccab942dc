"""A paper's claim as an object, checked against an experiment's result.

Every chapter's experiment declares its claims next to its ``run``
(``CLAIMS`` in ``pruning_utils.experiments.<chapter>``). A :class:`Claim`
has an id, one sentence, the paper it comes from (a bibtex key of the book's
``references.bib``) and a check: a function of the experiment's result
that returns ``(holds, numbers)``, the verdict and the numbers behind it.

Why verdicts and not numbers. A chapter's checked notebook cell (the one
``nbval`` compares with the committed output) prints :func:`report` of the
verdicts: one line per claim, its sentence and "holds" or "does not hold",
never a decimal number. A different CPU sums floats in another order, and a
trained network's numbers move with it; a verdict is built with a margin
that such noise does not cross, and a test runs every experiment with a
different seed and asserts that every verdict stays the same. The numbers go
in :func:`numbers_report`, printed in an unchecked cell.

Example
-------
>>> c = Claim("imp_beats_random", "IMP reaches a higher sparsity than random pruning",
...           "frankle2019lottery", lambda r: (r["imp"] > r["random"], {"imp": r["imp"]}))
>>> print(report(evaluate([c], {"imp": 0.99, "random": 0.78})))
[holds] IMP reaches a higher sparsity than random pruning
"""

from __future__ import annotations

import math
import numbers as _numbers
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

__all__ = ["Claim", "Verdict", "evaluate", "report", "numbers_report", "all_claims"]

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
#: a decimal number written out (1.5, 0.99, .5): what a checked cell must never print
_DECIMAL = re.compile(r"\d*\.\d+")


@dataclass(frozen=True)
class Claim:
    """One claim: ``id`` (snake_case), ``statement`` (one sentence, no decimal
    numbers: write "90%" or "s = 9/10"), ``paper`` (bibtex key) and ``check``
    (``result -> (holds, numbers)``).

    ``note`` may say how the claim was phrased to survive noise (the margin)
    or that it holds by construction (a check of an implementation, not
    evidence).
    """

    id: str
    statement: str
    paper: str
    check: Callable[[Mapping[str, Any]], tuple] = field(repr=False, compare=False)
    note: str = ""

    def __post_init__(self):
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise ValueError(f"parameter 'id' = {self.id!r} is not allowed; expected a snake_case string")
        if not isinstance(self.statement, str) or not self.statement.strip():
            raise ValueError("parameter 'statement' must be a non-empty sentence")
        if _DECIMAL.search(self.statement):
            raise ValueError(f"parameter 'statement' = {self.statement!r} contains a decimal number; "
                             f"expected words or percentages (\"90%\"), which no CPU can change")
        if not isinstance(self.paper, str) or not self.paper:
            raise ValueError(f"parameter 'paper' = {self.paper!r} is not allowed; expected a bibtex key")
        if not callable(self.check):
            raise ValueError("parameter 'check' must be a function result -> (holds, numbers)")

    def evaluate(self, result: Mapping[str, Any]) -> "Verdict":
        """Run the check on ``result``; a malformed return is a ``TypeError`` naming the claim."""
        out = self.check(result)
        if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], Mapping)):
            raise TypeError(f"claim {self.id!r}: check must return (holds, numbers_dict), got {out!r}")
        holds, nums = out
        if not isinstance(holds, bool):
            try:
                import numpy as np
                if isinstance(holds, np.bool_):
                    holds = bool(holds)
            except ImportError:  # pragma: no cover
                pass
        if not isinstance(holds, bool):
            raise TypeError(f"claim {self.id!r}: the verdict must be a bool, got {type(holds).__name__}")
        return Verdict(self, holds, dict(nums))


@dataclass(frozen=True)
class Verdict:
    """A claim's verdict on one result, with the numbers behind it."""

    claim: Claim
    holds: bool
    numbers: dict

    @property
    def word(self) -> str:
        return "holds" if self.holds else "does not hold"

    def line(self) -> str:
        """``[holds] statement`` or ``[does not hold] statement``: no number a CPU could change."""
        return f"[{self.word}] {self.claim.statement}"


def evaluate(claims: Sequence[Claim], result: Mapping[str, Any]) -> list:
    """The verdicts of ``claims`` on ``result``, in order."""
    if isinstance(claims, Claim):
        claims = [claims]
    ids = [c.id for c in claims]
    if len(set(ids)) != len(ids):
        raise ValueError(f"parameter 'claims' has repeated ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return [c.evaluate(result) for c in claims]


def report(verdicts: Sequence[Verdict]) -> str:
    """One line per verdict (for a chapter's checked cell): statement and holds / does not hold."""
    return "\n".join(v.line() for v in verdicts)


def _fmt(x) -> str:
    if isinstance(x, bool) or x is None:
        return str(x)
    if isinstance(x, _numbers.Integral):
        return str(int(x))
    if isinstance(x, _numbers.Real):
        x = float(x)
        return "nan" if math.isnan(x) else f"{x:.4g}"
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in x) + "]"
    if isinstance(x, Mapping):
        return "{" + ", ".join(f"{k}: {_fmt(v)}" for k, v in x.items()) + "}"
    return str(x)


def numbers_report(verdicts: Sequence[Verdict]) -> str:
    """The numbers behind each verdict (for an unchecked cell)."""
    lines = []
    for v in verdicts:
        lines.append(f"{v.claim.id} ({v.word}):")
        for k, x in v.numbers.items():
            lines.append(f"    {k} = {_fmt(x)}")
    return "\n".join(lines)


def all_claims() -> list:
    """Every claim of the book: ``[(chapter, claim), ...]`` in chapter order."""
    from .experiments import EXPERIMENTS, get_experiment
    out = []
    for name in EXPERIMENTS:
        for c in getattr(get_experiment(name), "CLAIMS", ()):
            out.append((name, c))
    return out


def stored_verdicts(results_dir="results") -> list:
    """Every claim with its verdict on every stored result of its chapter.

    Returns ``[{"chapter", "claim", "verdicts": {profile: {"word", "device"}}}]``
    in chapter order; a result is ``results/<chapter>/<profile>.json`` as
    ``python -m pruning_utils reproduce`` writes it (profiles in the order the
    experiment declares them). Used by ``python -m pruning_utils claims`` and
    by the book's scorecard page, so the two cannot disagree.
    """
    from .experiments import get_experiment
    from .provenance import read_result
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
                per[prof] = {"word": vs[j].word, "device": where}
            rows.append({"chapter": chapter, "claim": claim, "verdicts": per})
    return rows
