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

Evidence and checks. A claim's ``kind`` is ``"evidence"`` (a statement about
networks, training or bounds that could have come out otherwise) or
``"check"`` (true by construction: an implementation or an identity checked
numerically). An evidence claim names a :class:`Control`, the most plausible
"nothing is going on" alternative computed in the same run: ``swap(result)``
returns the result with the claim's subject replaced by the control (random
masks of the same per-layer counts, a shuffled or mutated variant, the
baseline under another seed). The claim *holds* only when the subject passes
and the control fails; when both pass it is *not discriminating*. A check
reads "[check] ..." and never counts as evidence.

Example
-------
>>> c = Claim("imp_beats_random", "IMP reaches a higher sparsity than random pruning",
...           "frankle2019lottery",
...           lambda r: [Statistic("IMP minus random sparsity", r["gain"], 0.0)])
>>> print(report(evaluate([c], {"gain": [0.30, 0.32, 0.31]})))
[holds, no control] IMP reaches a higher sparsity than random pruning (no control yet)
>>> ctl = Control("random under another seed", "random pruning's gain over itself under another seed",
...               lambda r: {"gain": r["random_gain"]})
>>> c = Claim("imp_beats_random", "IMP reaches a higher sparsity than random pruning",
...           "frankle2019lottery",
...           lambda r: [Statistic("IMP minus random sparsity", r["gain"], 0.0)], control=ctl)
>>> print(report(evaluate([c], {"gain": [0.30, 0.32, 0.31], "random_gain": [-0.05, -0.04, -0.06]})))
[holds] IMP reaches a higher sparsity than random pruning (control: random under another seed)
>>> print(report(evaluate([c], {"gain": [0.30, 0.32, 0.31], "random_gain": [0.20, 0.22, 0.21]})))
[not discriminating] IMP reaches a higher sparsity than random pruning (control: random under another seed)
>>> print(report(evaluate([c], {"gain": [0.30, 0.02, 0.31], "random_gain": [-0.05, -0.04, -0.06]})))
[not robust] IMP reaches a higher sparsity than random pruning (control: random under another seed)
"""

from __future__ import annotations

import math
import numbers as _numbers
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

__all__ = ["Claim", "Control", "Statistic", "Verdict", "evaluate", "report", "numbers_report", "pool", "not_measured",
           "MIN_SEEDS", "KINDS", "WORDS"]

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
#: a decimal number written out (1.5, 0.99, .5): what a checked cell must never print
_DECIMAL = re.compile(r"\d*\.\d+")
#: the fewest seeds a verdict on seeds can be robust with
MIN_SEEDS = 3
_OVER = ("each", "mean", "exact")
#: what a claim can be
KINDS = ("evidence", "check")
#: every word a verdict can print, in the order the scorecard counts them
WORDS = ("holds", "does not hold", "not discriminating", "holds, no control", "not robust")


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


def _no_decimal(text: str, name: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"parameter {name!r} must be a non-empty sentence")
    if _DECIMAL.search(text):
        raise ValueError(f"parameter {name!r} = {text!r} contains a decimal number; "
                         f"expected words or percentages (\"90%\"), which no CPU can change")


@dataclass(frozen=True)
class Control:
    """The "nothing is going on" alternative an evidence claim must fail on.

    ``name``: a few words printed beside the verdict ("random masks of the same
    widths"). ``statement``: one sentence, what the control is and why it could
    pass if the claim's effect were not real. ``swap(result) -> result``: the
    result with the claim's subject replaced by the control's numbers,
    computed in the same run, so that the claim's own check can be applied to
    it unchanged. No decimal numbers in ``name`` or ``statement``.
    """

    name: str
    statement: str
    swap: Callable[[Mapping[str, Any]], Mapping[str, Any]] = field(repr=False, compare=False)

    def __post_init__(self):
        _no_decimal(self.name, "name")
        _no_decimal(self.statement, "statement")
        if not callable(self.swap):
            raise ValueError("parameter 'swap' must be a function result -> result")


@dataclass(frozen=True)
class Claim:
    """One claim: ``id`` (snake_case), ``statement`` (one sentence, no decimal
    numbers: write "90%" or "s = 9/10"), ``paper`` (bibtex key; ``"this_book"``
    for the book's own claims) and ``check`` (``result -> [Statistic, ...]`` or
    ``([Statistic, ...], numbers_dict)``).

    ``kind``: ``"evidence"`` or ``"check"`` (true by construction; it never
    has a control). ``control``: for evidence, the :class:`Control` the claim
    must fail on (``None`` only while a chapter does not yet compute one: the
    verdict then reads "holds, no control").

    The claim's subject passes when every statistic passes; its verdict is
    robust when every statistic is (for a claim that fails, when some
    statistic fails robustly). ``note`` may say how the claim was phrased to
    survive noise, or why its margin is what it is.
    """

    id: str
    statement: str
    paper: str
    check: Callable[[Mapping[str, Any]], Any] = field(repr=False, compare=False)
    note: str = ""
    kind: str = "evidence"
    control: Control | None = None

    def __post_init__(self):
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise ValueError(f"parameter 'id' = {self.id!r} is not allowed; expected a snake_case string")
        _no_decimal(self.statement, "statement")
        if not isinstance(self.paper, str) or not self.paper:
            raise ValueError(f"parameter 'paper' = {self.paper!r} is not allowed; expected a bibtex key")
        if not callable(self.check):
            raise ValueError("parameter 'check' must be a function result -> [Statistic, ...]")
        if self.kind not in KINDS:
            raise ValueError(f"parameter 'kind' = {self.kind!r} is not allowed; expected one of {KINDS}")
        if self.control is not None and not isinstance(self.control, Control):
            raise ValueError(f"parameter 'control' = {self.control!r} is not allowed; expected a Control or None")
        if self.kind == "check" and self.control is not None:
            raise ValueError(f"claim {self.id!r}: a check is true by construction and takes no control")

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

    def line(self, word: str) -> str:
        """The line a chapter prints for this claim with verdict ``word`` (see :attr:`Verdict.word`)."""
        if word not in WORDS:
            raise ValueError(f"parameter 'word' = {word!r} is not allowed; expected one of {WORDS}")
        if self.kind == "check":
            return f"[check] [{word}] {self.statement}"
        tail = f" (control: {self.control.name})" if self.control is not None else " (no control yet)"
        return f"[{word}] {self.statement}{tail}"

    @property
    def kind_text(self) -> str:
        """``check``, ``evidence; control: <name>`` or ``evidence; no control yet``: the kind as the claims table
        and the scorecard print it."""
        if self.kind == "check":
            return "check"
        return f"evidence; control: {self.control.name}" if self.control is not None else "evidence; no control yet"

    def swapped(self, result: Mapping[str, Any]) -> Mapping[str, Any]:
        """``control.swap(result)``: the result with the subject replaced by the control."""
        if self.control is None:
            raise ValueError(f"claim {self.id!r} has no control")
        return self.control.swap(result)

    def evaluate(self, result: Mapping[str, Any]) -> "Verdict":
        """The verdict on ``result``: the check on it, and (evidence with a control) on ``swap(result)``."""
        stats, nums = self.statistics(result)
        control = None
        if self.control is not None:
            cstats, cnums = self.statistics(self.swapped(result))
            control = Verdict(self, cstats, cnums, is_control=True)
        return Verdict(self, stats, nums, control)


@dataclass(frozen=True)
class Verdict:
    """A claim's verdict on one result: the statistics it was decided on, further numbers, and the
    verdict of the same check on the control (``control``; ``None`` for checks and uncontrolled claims)."""

    claim: Claim
    statistics: tuple
    extra: dict = field(default_factory=dict)
    control: "Verdict | None" = None
    is_control: bool = False

    @property
    def holds(self) -> bool:
        """Whether the subject passes every statistic (the control aside)."""
        return all(s.passes for s in self.statistics)

    @property
    def subject_robust(self) -> bool:
        """Passes with every statistic robust, or fails with at least one statistic failing robustly."""
        if self.holds:
            return all(s.robust for s in self.statistics)
        return any(s.robust and not s.passes for s in self.statistics)

    @property
    def subject_word(self) -> str:
        """``holds``, ``does not hold`` or ``not robust`` for the subject alone."""
        if not self.subject_robust:
            return "not robust"
        return "holds" if self.holds else "does not hold"

    @property
    def control_holds(self):
        """Whether the check passes on the control too (``None`` without a control)."""
        return None if self.control is None else self.control.holds

    @property
    def word(self) -> str:
        """``holds`` (subject passes, control fails), ``does not hold``, ``not discriminating`` (both pass),
        ``holds, no control`` (evidence without a control yet) or ``not robust`` (either side within noise)."""
        w = self.subject_word
        if self.is_control or self.claim.kind == "check" or w != "holds":
            return w
        if self.control is None:
            return "holds, no control"
        return {"does not hold": "holds", "holds": "not discriminating"}.get(self.control.subject_word,
                                                                               "not robust")

    @property
    def robust(self) -> bool:
        return self.word != "not robust"

    @property
    def evidence(self) -> bool:
        """True only for an evidence claim that holds and whose control fails (a check never counts)."""
        return self.claim.kind == "evidence" and self.word == "holds"

    @property
    def numbers(self) -> dict:
        out = {**{s.name: s.summary() for s in self.statistics}, **self.extra}
        if self.control is not None:
            out[f"control ({self.claim.control.name}): {self.control.subject_word}"] = self.control.numbers
        return out

    def line(self) -> str:
        """``[holds] statement (control: ...)``, ``[check] [holds] ...``: no number a CPU could change."""
        return self.claim.line(self.word)


def evaluate(claims: Sequence[Claim], result: Mapping[str, Any]) -> list:
    """The verdicts of ``claims`` on ``result``, in order."""
    if isinstance(claims, Claim):
        claims = [claims]
    ids = [c.id for c in claims]
    if len(set(ids)) != len(ids):
        raise ValueError(f"parameter 'claims' has repeated ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return [c.evaluate(result) for c in claims]


def _pooled(claim: Claim, results, is_control=False) -> "Verdict":
    parts = [claim.statistics(r) for r in results]
    names = [tuple(s.name for s in stats) for stats, _ in parts]
    if len(set(names)) != 1:
        raise ValueError(f"claim {claim.id!r}: the results give different statistics {names}")
    stats = list(parts[0][0])
    for other, _ in parts[1:]:
        stats = [a.pooled(b) for a, b in zip(stats, other)]
    return Verdict(claim, tuple(stats), parts[0][1], is_control=is_control)


def pool(claims: Sequence[Claim], *results: Mapping[str, Any]) -> list:
    """Verdicts on the seeds of several runs together: each statistic's per-seed values concatenated
    (the control's too).

    The seed-swap test pools the chapter's run with a run on other seeds; a
    margin that held only for the seeds it was chosen on fails here.
    """
    if not results:
        raise ValueError("parameter 'results' must name at least one result")
    out = []
    for c in claims:
        v = _pooled(c, results)
        if c.control is not None:
            v = Verdict(c, v.statistics, v.extra, _pooled(c, [c.swapped(r) for r in results], True))
        out.append(v)
    return out


def report(verdicts: Sequence[Verdict]) -> str:
    """One line per verdict (for a chapter's checked cell): its word, the statement, and the control."""
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
    margin and noise, then any further numbers, then the same for the control."""
    lines = []

    def emit(d, indent):
        for k, x in d.items():
            if isinstance(x, Mapping) and k.startswith("control ("):
                lines.append(f"{indent}{k}:")
                emit(x, indent + "    ")
            else:
                lines.append(f"{indent}{k} = {_fmt(x)}")

    for v in verdicts:
        kind = "check, " if v.claim.kind == "check" else ""
        lines.append(f"{v.claim.id} ({kind}{v.word}):")
        emit(v.numbers, "    ")
    return "\n".join(lines)


def __getattr__(name):
    # They read every experiment, so they live in the layer above this one; say where, import nothing.
    if name in ("all_claims", "stored_verdicts"):
        raise AttributeError(f"pruning_utils.claims.{name} moved to pruning_utils.experiments.{name} (this module "
                             f"knows nothing of the experiments)")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
