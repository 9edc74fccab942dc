"""A paper's claim as an object, decided on per-seed statistics against a threshold.

Every chapter's experiment declares its claims next to its ``run``
(``CLAIMS`` in ``pruning_utils.experiments.<chapter>``). A :class:`Claim`
has an id, one sentence, the paper it comes from (a bibtex key of the book's
``references.bib``) and a check: a function of the experiment's result that
returns the :class:`Statistic` objects the claim is decided on (optionally
with a dict of further numbers). A statistic is one number per seed of the
run, a threshold and a side; the claim holds when every statistic passes.

Why verdicts and not numbers. A chapter's checked notebook cell (the one
``nbval`` compares with the committed output) prints :func:`report` of the
verdicts: one line per claim, its sentence and its word, never a decimal
number. A different CPU sums floats in another order, and a trained
network's numbers move with it, as much as a change of seed moves them. So a
verdict counts only when it is *robust*: every seed's statistic (at least
three seeds) lies on the same side of the threshold by more than the
statistic's spread across those seeds (``over="each"``), or, for a claim on a
mean over seeds (``over="mean"``), the mean lies further from the threshold
than twice its standard error. A claim that is not robust is printed as
"[not robust] ...", never as holds or does not hold. The numbers go in
:func:`numbers_report`, printed in an unchecked cell.

Example
-------
>>> c = Claim("imp_beats_random", "IMP reaches a higher sparsity than random pruning",
...           "frankle2019lottery",
...           lambda r: [Statistic("IMP minus random sparsity", r["gain"], 0.0)])
>>> print(report(evaluate([c], {"gain": [0.30, 0.32, 0.31]})))
[holds] IMP reaches a higher sparsity than random pruning
>>> print(report(evaluate([c], {"gain": [0.30, 0.02, 0.31]})))
[not robust] IMP reaches a higher sparsity than random pruning
"""

from __future__ import annotations

import math
import numbers as _numbers
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

__all__ = ["Claim", "Statistic", "Verdict", "evaluate", "report", "numbers_report", "pool", "not_measured", "MIN_SEEDS",
           "all_claims", "stored_verdicts"]

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
#: a decimal number written out (1.5, 0.99, .5): what a checked cell must never print
_DECIMAL = re.compile(r"\d*\.\d+")
#: the fewest seeds a verdict on seeds can be robust with
MIN_SEEDS = 3
_OVER = ("each", "mean", "exact")


@dataclass(frozen=True)
class Statistic:
    """The number a claim is decided on: one value per seed, a threshold and a side.

    ``values``: one float per seed of the run (``over="each"`` or ``"mean"``),
    or the one value of a computation that involves no seed (``over="exact"``:
    quadrature, an identity between two implementations).
    ``threshold`` and ``above``: a value passes when it is ``> threshold``
    (``above=True``) or ``< threshold`` (``above=False``).
    ``over``: ``"each"``, every seed must pass, and the verdict is robust when
    every seed lies on the same side by more than the spread (max - min) of
    the seeds' values; ``"mean"``, the mean over seeds must pass, robust when
    it lies further than twice its standard error from the threshold;
    ``"exact"``, one value, robust when it lies further than ``tolerance``
    (float rounding; default 1e-9 relative) from the threshold.
    """

    name: str
    values: tuple
    threshold: float
    above: bool = True
    over: str = "each"
    tolerance: float | None = None

    def __post_init__(self):
        if self.over not in _OVER:
            raise ValueError(f"parameter 'over' = {self.over!r} is not allowed; expected one of {_OVER}")
        try:
            vals = tuple(float(v) for v in (self.values if isinstance(self.values, (list, tuple))
                                            else list(self.values)))
        except (TypeError, ValueError):
            raise ValueError(f"statistic {self.name!r}: parameter 'values' must be a sequence of numbers, "
                             f"got {self.values!r}") from None
        if not vals or any(math.isnan(v) for v in vals):
            raise ValueError(f"statistic {self.name!r}: parameter 'values' must be non-empty numbers "
                             f"without NaN, got {vals!r}")
        if self.over == "exact" and len(vals) != 1:
            raise ValueError(f"statistic {self.name!r}: over='exact' takes one value, got {len(vals)}")
        object.__setattr__(self, "values", vals)
        object.__setattr__(self, "threshold", float(self.threshold))

    # -- the decision -------------------------------------------------------
    def _signed(self, v: float) -> float:
        """Distance from the threshold, positive on the passing side."""
        return v - self.threshold if self.above else self.threshold - v

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return sum(self.values) / self.n

    @property
    def passes(self) -> bool:
        if self.over == "each":
            return all(self._signed(v) > 0 for v in self.values)
        return self._signed(self.mean) > 0

    @property
    def noise(self) -> float:
        """The noise the margin must exceed, which is the seeds' spread (each), twice the standard error
        (mean), or the float tolerance (exact)."""
        if self.over == "exact":
            return self.tolerance if self.tolerance is not None else 1e-9 * max(1.0, abs(self.threshold))
        if self.n < 2:
            return math.inf
        if self.over == "each":
            return max(self.values) - min(self.values)
        m = self.mean
        sd = math.sqrt(sum((v - m) ** 2 for v in self.values) / (self.n - 1))
        return 2.0 * sd / math.sqrt(self.n)

    @property
    def margin(self) -> float:
        """Distance of the deciding value(s) from the threshold (the closest seed for ``each``), >= 0."""
        if self.over == "each":
            return min(abs(self._signed(v)) for v in self.values)
        return abs(self._signed(self.mean))

    @property
    def robust(self) -> bool:
        """Whether another seed, or another CPU, would give the same pass or fail."""
        if self.over != "exact" and self.n < MIN_SEEDS:
            return False
        if self.over == "each":
            sides = {self._signed(v) > 0 for v in self.values}
            if len(sides) != 1:
                return False
        return self.margin > self.noise

    def pooled(self, other: "Statistic") -> "Statistic":
        """The same statistic over the seeds of both (for the seed-swap test)."""
        if (other.name, other.threshold, other.above, other.over) != (self.name, self.threshold, self.above,
                                                                       self.over):
            raise ValueError(f"statistic {self.name!r} cannot be pooled with {other.name!r}: threshold, side or "
                             f"mode differ")
        if self.over == "exact":
            return self
        return Statistic(self.name, self.values + other.values, self.threshold, self.above, self.over,
                         self.tolerance)

    def summary(self) -> dict:
        side = ">" if self.above else "<"
        what = {"each": "every seed", "mean": "mean over seeds", "exact": "one value"}[self.over]
        noise = {"each": "spread of seeds", "mean": "2 standard errors", "exact": "tolerance"}[self.over]
        out = {"values": list(self.values), "passes if": f"{what} {side} {_fmt(self.threshold)}"}
        if self.over == "mean":
            out["mean"] = self.mean
        out["margin"] = self.margin
        out[noise] = self.noise
        out["robust"] = self.robust
        return out


def not_measured(what: str) -> tuple:
    """What a check returns when the run did not measure what the claim is about (``what`` says which
    parameter to change): one exact statistic that fails, so the claim reads "[does not hold]" and its
    numbers say why, rather than an error that stops a chapter run with valid parameters."""
    return [Statistic("measured (1 yes, 0 no)", [0.0], 0.5, over="exact")], {"not measured": what}


@dataclass(frozen=True)
class Claim:
    """One claim: ``id`` (snake_case), ``statement`` (one sentence, no decimal
    numbers: write "90%" or "s = 9/10"), ``paper`` (bibtex key) and ``check``
    (``result -> [Statistic, ...]`` or ``([Statistic, ...], numbers_dict)``).

    The claim holds when every statistic passes; its verdict is robust when
    every statistic is (for a claim that fails, when some statistic fails
    robustly). ``note`` may say how the claim was phrased to survive noise or
    that it holds by construction (a check of an implementation, not
    evidence).
    """

    id: str
    statement: str
    paper: str
    check: Callable[[Mapping[str, Any]], Any] = field(repr=False, compare=False)
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
            raise ValueError("parameter 'check' must be a function result -> [Statistic, ...]")

    def statistics(self, result: Mapping[str, Any]) -> tuple:
        """``(statistics, numbers)`` of the check on ``result``; a malformed return is a ``TypeError``."""
        out = self.check(result)
        nums = {}
        if isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], Mapping):
            out, nums = out
        if isinstance(out, Statistic):
            out = [out]
        if not (isinstance(out, (list, tuple)) and out and all(isinstance(s, Statistic) for s in out)):
            raise TypeError(f"claim {self.id!r}: check must return a non-empty list of Statistic "
                            f"(optionally with a numbers dict), got {out!r}")
        names = [s.name for s in out]
        if len(set(names)) != len(names):
            raise TypeError(f"claim {self.id!r}: statistics need distinct names, got {names}")
        return tuple(out), dict(nums)

    def evaluate(self, result: Mapping[str, Any]) -> "Verdict":
        stats, nums = self.statistics(result)
        return Verdict(self, stats, nums)


@dataclass(frozen=True)
class Verdict:
    """A claim's verdict on one result: the statistics it was decided on, and further numbers."""

    claim: Claim
    statistics: tuple
    extra: dict = field(default_factory=dict)

    @property
    def holds(self) -> bool:
        return all(s.passes for s in self.statistics)

    @property
    def robust(self) -> bool:
        """Holds with every statistic robust, or fails with at least one statistic failing robustly."""
        if self.holds:
            return all(s.robust for s in self.statistics)
        return any(s.robust and not s.passes for s in self.statistics)

    @property
    def word(self) -> str:
        if not self.robust:
            return "not robust"
        return "holds" if self.holds else "does not hold"

    @property
    def numbers(self) -> dict:
        return {**{s.name: s.summary() for s in self.statistics}, **self.extra}

    def line(self) -> str:
        """``[holds] statement``, ``[does not hold] ...`` or ``[not robust] ...``: no number a CPU could change."""
        return f"[{self.word}] {self.claim.statement}"


def evaluate(claims: Sequence[Claim], result: Mapping[str, Any]) -> list:
    """The verdicts of ``claims`` on ``result``, in order."""
    if isinstance(claims, Claim):
        claims = [claims]
    ids = [c.id for c in claims]
    if len(set(ids)) != len(ids):
        raise ValueError(f"parameter 'claims' has repeated ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return [c.evaluate(result) for c in claims]


def pool(claims: Sequence[Claim], *results: Mapping[str, Any]) -> list:
    """Verdicts on the seeds of several runs together: each statistic's per-seed values concatenated.

    The seed-swap test pools the chapter's run with a run on other seeds; a
    margin that held only for the seeds it was chosen on fails here.
    """
    if not results:
        raise ValueError("parameter 'results' must name at least one result")
    out = []
    for c in claims:
        parts = [c.statistics(r) for r in results]
        names = [tuple(s.name for s in stats) for stats, _ in parts]
        if len(set(names)) != 1:
            raise ValueError(f"claim {c.id!r}: the results give different statistics {names}")
        stats = list(parts[0][0])
        for other, _ in parts[1:]:
            stats = [a.pooled(b) for a, b in zip(stats, other)]
        out.append(Verdict(c, tuple(stats), parts[0][1]))
    return out


def report(verdicts: Sequence[Verdict]) -> str:
    """One line per verdict (for a chapter's checked cell): statement and holds / does not hold / not robust."""
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
    """The numbers behind each verdict (for an unchecked cell): every statistic per seed, its threshold,
    margin and noise, then any further numbers."""
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
