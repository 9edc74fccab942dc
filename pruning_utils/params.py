"""Parameter schemas and validation for chapters and the command line.

A schema maps each parameter name to a :class:`Spec`. :func:`validate` fills in
defaults, rejects unknown names, and raises a :class:`ValueError` that names the
parameter, the offending value and what is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

__all__ = ["Spec", "Int", "Float", "Choice", "Bool", "Str", "FloatList", "validate", "check_notebook_parameters"]


@dataclass(frozen=True)
class Spec:
    """One parameter: its type, its default and its allowed range or choices."""

    kind: str  # "int", "float", "choice", "bool", "str", "float_list", "int_or_none"
    default: Any = None
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    choices: tuple = field(default_factory=tuple)
    allow_none: bool = False
    min_len: int = 1
    help: str = ""

    def allowed(self) -> str:
        """Words that say what values are allowed."""
        if self.kind == "choice":
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        elif self.kind == "bool":
            text = "True or False"
        elif self.kind == "str":
            text = "a string"
        else:
            what = {"int": "an integer", "float": "a number",
                    "float_list": ("a non-empty list of numbers" if self.min_len > 0
                                   else "a list of numbers")}[self.kind]
            lo = "" if self.low is None else (f"{self.low} <= " if self.low_inclusive else f"{self.low} < ")
            hi = "" if self.high is None else (f" <= {self.high}" if self.high_inclusive else f" < {self.high}")
            if lo or hi:
                item = "each x" if self.kind == "float_list" else "x"
                text = f"{what} with {lo}{item}{hi}"
            else:
                text = what
        if self.allow_none:
            text += ", or None"
        return text


def Int(default, low=None, high=None, allow_none=False, help=""):
    return Spec("int", default, low, high, allow_none=allow_none, help=help)


def Float(default, low=None, high=None, low_inclusive=True, high_inclusive=True,
          allow_none=False, help=""):
    return Spec("float", default, low, high, low_inclusive, high_inclusive,
                allow_none=allow_none, help=help)


def Choice(default, choices: Sequence, help=""):
    return Spec("choice", default, choices=tuple(choices), help=help)


def Bool(default, help=""):
    return Spec("bool", default, help=help)


def Str(default, allow_none=False, help=""):
    return Spec("str", default, allow_none=allow_none, help=help)


def FloatList(default, low=None, high=None, low_inclusive=True, high_inclusive=True, min_len=1,
              help=""):
    return Spec("float_list", tuple(default), low, high, low_inclusive, high_inclusive,
                min_len=min_len, help=help)


def _in_range(x: float, spec: Spec) -> bool:
    if isinstance(x, float) and not math.isfinite(x):
        return False
    if spec.low is not None and (x < spec.low or (x == spec.low and not spec.low_inclusive)):
        return False
    if spec.high is not None and (x > spec.high or (x == spec.high and not spec.high_inclusive)):
        return False
    return True


def _check_one(name: str, value: Any, spec: Spec) -> Any:
    def bad():
        return ValueError(f"parameter {name!r} = {value!r} is not allowed; expected {spec.allowed()}")

    if value is None:
        if spec.allow_none:
            return None
        raise bad()
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise bad()
        return value
    if spec.kind == "choice":
        # 1 == True in Python: a bool matches only a bool, anything else only a non-bool
        if not any((value is c) if isinstance(c, bool) or isinstance(value, bool) else value == c
                   for c in spec.choices):
            raise bad()
        return value
    if spec.kind == "str":
        if not isinstance(value, str):
            raise bad()
        return value
    if spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or not _in_range(value, spec):
            raise bad()
        return int(value)
    if spec.kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not _in_range(float(value), spec):
            raise bad()
        return float(value)
    if spec.kind == "float_list":
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) < spec.min_len:
            raise bad()
        out = []
        for v in value:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not _in_range(float(v), spec):
                raise bad()
            out.append(float(v))
        return tuple(out)
    raise TypeError(f"unknown spec kind {spec.kind!r}")  # a schema bug, not a user error


def validate(params: Mapping[str, Any] | None, schema: Mapping[str, Spec]) -> dict:
    """Check ``params`` against ``schema`` and return them with defaults filled in.

    Raises ``ValueError`` naming the parameter, its value and what is allowed; an
    unknown name is rejected with the list of known ones.
    """
    params = dict(params or {})
    unknown = sorted(set(params) - set(schema))
    if unknown:
        raise ValueError(f"unknown parameter(s) {', '.join(map(repr, unknown))}; "
                         f"known parameters are: {', '.join(sorted(schema))}")
    out = {}
    for name, spec in schema.items():
        value = params.get(name, spec.default)
        out[name] = _check_one(name, value, spec)
    return out


def describe(schema: Mapping[str, Spec]) -> str:
    """A plain-text table of a schema: name, default, allowed values, help."""
    rows = [f"{n}: default {s.default!r}; {s.allowed()}" + (f" -- {s.help}" if s.help else "")
            for n, s in schema.items()]
    return "\n".join(rows)


def _assigned_names(source: str) -> list:
    import ast
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)]


def check_notebook_parameters() -> None:
    """In a chapter notebook run by papermill: refuse injected parameters the chapter does not have.

    papermill runs a cell of ``name = value`` lines (headed ``# Parameters``)
    right after the cell tagged ``parameters``, and only warns when a name is
    not one of that cell's: the value would then be silently ignored. Called
    at the top of a chapter's validation cell, this reads the kernel's input
    history and raises ``ValueError`` naming every injected name that the
    chapter's parameters cell does not set. Outside IPython, or when nothing
    was injected, it does nothing.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with every notebook kernel
        return
    ip = get_ipython()
    if ip is None:
        return
    history = list(ip.history_manager.input_hist_raw)
    for i in range(len(history) - 1, 0, -1):
        if history[i].lstrip().startswith("# Parameters"):
            injected, own = _assigned_names(history[i]), set(_assigned_names(history[i - 1]))
            unknown = [n for n in injected if n not in own]
            if unknown:
                what = (f"parameter {unknown[0]!r} is not a parameter" if len(unknown) == 1 else
                        f"parameters {', '.join(map(repr, unknown))} are not parameters")
                raise ValueError(f"{what} of this chapter (papermill would ignore it); the chapter's parameters "
                                 f"are: {', '.join(sorted(own))}")
            return
