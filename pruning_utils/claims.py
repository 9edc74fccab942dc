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

import ast
import functools
import hashlib
import inspect
import io
import json
import math
import numbers as _numbers
import re
import textwrap
import tokenize
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

__all__ = ["Claim", "Control", "Statistic", "Verdict", "evaluate", "report", "numbers_report", "pool", "not_measured",
           "definition", "digest", "record", "Plan", "t_quantile", "t_sf", "each_null_rate", "MIN_SEEDS", "KINDS", "WORDS"]

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
#: a decimal number written out (1.5, 0.99, .5): what a checked cell must never print
_DECIMAL = re.compile(r"\d*\.\d+")
#: the fewest seeds a verdict on seeds can be robust with
MIN_SEEDS = 3
_OVER = ("each", "mean", "exact")
#: what a claim can be
KINDS = ("evidence", "check")
#: every word a verdict can print, in the order the scorecard counts them
WORDS = ("holds", "does not hold", "not discriminating", "holds, no control", "not robust", "undecided")


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
    # matched by name: a result read back from JSON may list its parts in another order than a fresh one
    if len({tuple(sorted(n)) for n in names}) != 1 or len(set(names[0])) != len(names[0]):
        raise ValueError(f"claim {claim.id!r}: the results give different statistics {names}")
    stats = list(parts[0][0])
    for other, _ in parts[1:]:
        by_name = {b.name: b for b in other}
        stats = [a.pooled(by_name[a.name]) for a in stats]
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


# ---------------------------------------------------------------------------
# a claim's definition, as text that travels with every verdict stored

#: the package whose functions a claim's definition follows (an experiment's helpers); other functions (the
#: library's methods, numpy) make the result, not the claim, and enter by name only
_DEFINING = "pruning_utils.experiments"
#: the decision rule every claim shares: a change here re-judges every claim, so it is part of each definition
_RULE = ("Statistic.passes", "Statistic.noise", "Statistic.margin", "Statistic.robust", "Verdict.holds",
         "Verdict.subject_robust", "Verdict.subject_word", "Verdict.word")
_SOURCE_CACHE: dict = {}


def _module_tree(filename: str):
    if filename not in _SOURCE_CACHE:
        with open(filename, encoding="utf-8") as f:
            text = f.read()
        _SOURCE_CACHE[filename] = (text, ast.parse(text))
    return _SOURCE_CACHE[filename]


def _normalise(text: str) -> str:
    """Source text without its docstrings, comments or layout: what Python executes, written the same way on
    every version of Python (no bytecode, no ``ast.unparse``, whose spelling changes between versions)."""
    text = textwrap.dedent(text)
    try:
        tree = ast.parse(text)
    except SyntaxError:          # a lambda's segment cut from a longer expression
        tree = None
    drop = set()
    if tree is not None:
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module))
                    and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                drop.update(range(body[0].lineno, body[0].end_lineno + 1))
    lines = [ln for i, ln in enumerate(text.splitlines(), 1) if i not in drop]
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
            if tok.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                                tokenize.ENDMARKER):
                out.append(tok.string)
    except (tokenize.TokenError, IndentationError):
        return " ".join(" ".join(lines).split())
    return " ".join(out)


def _source(fn) -> str:
    """The normalised source of a function; for a lambda, of every lambda that starts on its line (found in its
    module's syntax tree: ``inspect`` gives the whole statement around a lambda)."""
    code = fn.__code__
    if code.co_name == "<lambda>":
        filename = inspect.getsourcefile(fn)
        text, tree = _module_tree(filename)
        segs = [ast.get_source_segment(text, n) for n in ast.walk(tree)
                if isinstance(n, ast.Lambda) and n.lineno == code.co_firstlineno]
        if segs:
            return " | ".join(_normalise(s) for s in segs)
    return _normalise(inspect.getsource(fn))


def _names(code) -> list:
    out = list(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            out += _names(c)
    return out


def _plain(value):
    """A value a definition can hold as text (numbers, strings, tuples of them), or None."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if isinstance(value, (tuple, list, frozenset, set)) and len(value) <= 64:
        items = [_plain(v) for v in (sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value)]
        return None if any(i is None for i in items) else f"{type(value).__name__}({', '.join(items)})"
    if isinstance(value, dict) and len(value) <= 64:
        items = [(_plain(k), _plain(v)) for k, v in value.items()]
        return None if any(a is None or b is None for a, b in items) else \
            "{" + ", ".join(f"{a}: {b}" for a, b in sorted(items)) + "}"
    return None


def _follow(fn, seen: dict, key: str) -> None:
    """``seen[key]``: the function's source; then every name it reads, in its module or closure: constants by
    value, the experiments' own functions by source (recursively), anything else by its name."""
    if key in seen:
        return
    seen[key] = _source(fn)
    scope = dict(fn.__globals__)
    if fn.__closure__:
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
            try:
                scope[name] = cell.cell_contents
            except ValueError:      # an empty cell
                pass
    names = _names(fn.__code__) + list(fn.__code__.co_freevars)
    for name in sorted(set(names)):
        if name not in scope:
            continue
        value = scope[name]
        plain = _plain(value)
        if plain is not None:
            seen[f"{fn.__module__}.{name}"] = plain
        elif isinstance(value, types.FunctionType) and str(value.__module__).startswith(_DEFINING):
            _follow(value, seen, f"{value.__module__}.{value.__qualname__}")


def _rule_text(module) -> dict:
    """The decision rule as ``module`` (the claims module that defined the claim) has it."""
    out = {"MIN_SEEDS": repr(module.MIN_SEEDS)}
    for name in _RULE:
        cls, attr = name.split(".")
        member = inspect.getattr_static(getattr(module, cls), attr)
        out[name] = _source(member.fget if isinstance(member, property) else member)
    return out


def definition(claim: "Claim") -> dict:
    """What decides ``claim``'s verdict, as text: its statement, paper and kind; its control's name and
    statement; the source of its check and of the control's swap, with every constant they read (a margin, a
    threshold) by value and every helper of the experiments they call by source, recursively; and the
    decision rule every claim shares (:class:`Statistic`, :class:`Verdict`, ``MIN_SEEDS``).

    Docstrings, comments and layout are left out, so rewording a comment edits nothing; the claim's ``note``
    is commentary and is left out too. The library's methods (what makes the result) enter by name only: a
    changed method changes the result, which a rerun shows; a changed claim changes how a result is judged,
    which this records.
    """
    deps: dict = {}
    _follow(claim.check, deps, "check")
    out = {"id": claim.id, "statement": claim.statement, "paper": claim.paper,
           "kind": getattr(claim, "kind", "evidence"), "control": None, "definitions": deps,
           "rule": _rule_text(inspect.getmodule(type(claim)))}
    if getattr(claim, "control", None) is not None:
        cdeps: dict = {}
        _follow(claim.control.swap, cdeps, "swap")
        out["control"] = {"name": claim.control.name, "statement": claim.control.statement, "definitions": cdeps}
    return out


def digest(claim: "Claim") -> str:
    """A short hash of :func:`definition`: equal digests, the same claim judged the same way."""
    text = json.dumps(definition(claim), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def record(verdicts: Sequence["Verdict"]) -> dict:
    """What a stored result keeps of its verdicts: per claim id, the claim's :func:`digest`, its word and its
    control's word (``None`` without a control), so a later edit of the claim shows instead of re-judging."""
    return {v.claim.id: {"digest": digest(v.claim), "word": v.word,
                         "control": None if v.control is None else v.control.subject_word} for v in verdicts}


# ---------------------------------------------------------------------------
# confirmation: seeds added in declared looks, the error split among them

#: the chance that the ``each`` rule decides a statistic whose seeds are normal around its threshold, by number of
#: seeds (every seed on one side, the nearest further from it than the seeds' spread; simulated, ten million draws
#: each, rounded up; the rule is scale-free, so one table serves every statistic; a test re-simulates it); from nine
#: seeds on, the value at eight bounds it (the chance falls with every seed)
EACH_NULL_RATE = {1: 1.0, 2: 0.205, 3: 0.039, 4: 0.0072, 5: 0.0013, 6: 0.00023, 7: 0.00005, 8: 0.00001}


def each_null_rate(n: int) -> float:
    """``EACH_NULL_RATE`` at ``n`` values (the value at eight for more)."""
    return EACH_NULL_RATE[min(max(int(n), 1), 8)]


def _betacf(a, b, x):
    """Continued fraction of the regularised incomplete beta function (modified Lentz)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def _betainc(a, b, x):
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_sf(t: float, df: int) -> float:
    """P(T > t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))
    return tail if t >= 0 else 1.0 - tail


@functools.lru_cache(maxsize=4096)
def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (bisection on :func:`t_sf`)."""
    if not 0.0 < p < 1.0 or df < 1:
        raise ValueError(f"t_quantile: p = {p!r} must lie in (0, 1) and df = {df!r} be at least 1")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_sf(hi, df) > 1.0 - p:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if t_sf(mid, df) > 1.0 - p else (lo, mid)
    return 0.5 * (lo + hi)


@dataclass(frozen=True)
class _Looked(Statistic):
    """A statistic judged at one look of a confirmation: its noise is ``band`` times the seeds' spread (``each``)
    or ``band`` standard errors (``mean``); ``band`` infinite, it cannot be decided at this look."""

    band: float = 2.0

    @property
    def noise(self) -> float:
        if self.over == "exact":
            return Statistic.noise.fget(self)
        if self.n < 2 or math.isinf(self.band):
            return math.inf
        if self.over == "each":
            return self.band * (max(self.values) - min(self.values))
        m = self.mean
        sd = math.sqrt(sum((v - m) ** 2 for v in self.values) / (self.n - 1))
        return self.band * sd / math.sqrt(self.n)

    def summary(self) -> dict:
        out = Statistic.summary(self)
        out["band at this look"] = self.band
        return out


@dataclass(frozen=True)
class Plan:
    """How a confirmation adds seeds and when it may decide: ``looks``, the increasing numbers of seeds (for an
    experiment without seeds, of runs on fresh seeds) at which every claim not yet decided is judged, the last
    being the cap; ``alpha``, the chance the whole confirmation may decide a statistic that sits exactly on its
    threshold (normal seeds), over all the looks together.

    Looking after each step and stopping once decided would inflate that chance; the plan accounts for the looks:

    - ``mean`` statistics: alpha split evenly among the K looks (Bonferroni): at a look with n values the mean
      must lie further from the threshold than the ``1 - alpha / (2K)`` quantile of Student's t with n - 1 degrees
      of freedom times its standard error (at three seeds and three looks, about eight standard errors: the
      price of looking three times with three seeds);
    - ``each`` statistics keep their rule (every value on one side, the nearest further than the spread), whose
      chance of deciding a statistic on its threshold is fixed by n (``EACH_NULL_RATE``): it may decide at a
      look only while those chances summed over the looks so far stay within alpha (the looks 3, 5, 8 spend
      about 4%);
    - ``exact`` values involve no seed and are decided at the first look.

    A claim is decided at the first look where it reads holds, does not hold or not discriminating under these
    bands, and keeps that word; at the cap, one still undecided says so.
    """

    looks: tuple = (3, 5, 8)
    alpha: float = 0.05

    def __post_init__(self):
        looks = tuple(self.looks)
        if not looks or any(not isinstance(n, int) or isinstance(n, bool) or n < 1 for n in looks) or \
                any(b <= a for a, b in zip(looks, looks[1:])):
            raise ValueError(f"parameter 'looks' = {self.looks!r} is not allowed; expected increasing positive "
                             f"integers")
        if not 0.0 < float(self.alpha) < 1.0:
            raise ValueError(f"parameter 'alpha' = {self.alpha!r} is not allowed; expected 0 < alpha < 1")
        object.__setattr__(self, "looks", looks)
        object.__setattr__(self, "alpha", float(self.alpha))

    @property
    def cap(self) -> int:
        return self.looks[-1]

    def band(self, stat: Statistic, look: int) -> float:
        """The band ``stat`` is judged with at look number ``look`` (0-based)."""
        if not 0 <= look < len(self.looks):
            raise ValueError(f"parameter 'look' = {look!r} is not allowed; expected 0 to {len(self.looks) - 1}")
        if stat.over == "exact" or stat.n < 2:
            return 2.0
        if stat.over == "mean":
            return t_quantile(1.0 - self.alpha / (2 * len(self.looks)), stat.n - 1)
        per_unit = stat.n / self.looks[look]     # values each seed (or run) gives this statistic
        spent = sum(each_null_rate(round(per_unit * m)) for m in self.looks[:look + 1])
        return 1.0 if spent <= self.alpha else math.inf

    def judged(self, stat: Statistic, look: int) -> Statistic:
        """``stat`` with this look's band."""
        return _Looked(stat.name, stat.values, stat.threshold, stat.above, stat.over, stat.tolerance,
                       band=self.band(stat, look))

    def verdict(self, verdict: "Verdict", look: int) -> "Verdict":
        """``verdict`` (pooled over the seeds so far) judged at look ``look``, its control too."""
        ctl = None if verdict.control is None else self.verdict(verdict.control, look)
        return Verdict(verdict.claim, tuple(self.judged(s, look) for s in verdict.statistics), verdict.extra, ctl,
                       verdict.is_control)

    def needed(self, verdict: "Verdict", units: int):
        """For a claim undecided after ``units`` seeds: about how many seeds one confirmation (a single look at
        level alpha) would need to decide it at the observed effect and spread, or ``None`` where more seeds
        cannot decide it (an ``each`` statistic with seeds on both sides of its threshold, or nearer to it than
        their spread, which only grows with more seeds)."""
        need = units
        for v in ([verdict] + ([verdict.control] if verdict.control is not None else [])):
            for s in v.statistics:
                if self.judged(s, len(self.looks) - 1).robust or s.over == "exact":
                    continue
                if s.over == "each":
                    return None
                m = s.mean
                sd = math.sqrt(sum((x - m) ** 2 for x in s.values) / (s.n - 1)) if s.n > 1 else math.inf
                effect = abs(s._signed(m))
                per_unit = s.n / units
                def decides(k):
                    return effect > t_quantile(1.0 - self.alpha / 2, k - 1) * sd / math.sqrt(k)

                lo, hi = max(s.n, 2), max(s.n, 2)
                while not decides(hi):          # the band shrinks with k: double, then bisect
                    lo, hi = hi, 2 * hi
                    if hi > 100_000:
                        return None
                while hi - lo > 1 and not decides(lo):
                    mid = (lo + hi) // 2
                    lo, hi = (lo, mid) if decides(mid) else (mid, hi)
                n = lo if decides(lo) else hi
                need = max(need, math.ceil(n / per_unit))
        return need

    def describe(self) -> str:
        return (f"looks at {', '.join(str(n) for n in self.looks)} seeds, at most a {self.alpha:.0%} chance over "
                f"all looks of deciding a statistic that sits on its threshold")


def __getattr__(name):
    # They read every experiment, so they live in the layer above this one; say where, import nothing.
    if name in ("all_claims", "stored_verdicts"):
        raise AttributeError(f"pruning_utils.claims.{name} moved to pruning_utils.experiments.{name} (this module "
                             f"knows nothing of the experiments)")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
