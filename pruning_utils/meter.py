"""Counting and timing what a run does: optimizer steps per kind of network, and the size of its largest
structures. :mod:`pruning_utils.smoke` reads them to check each experiment's step and memory formulas and to
project a profile's length; the training loop (:func:`pruning_utils.train.train`) and the structures
(snapshot buffers, activation codes, datasets) report to every active meter, at no cost when none is active.
"""

from __future__ import annotations

import itertools
import time
import weakref

__all__ = ["StepMeter", "measure_steps", "step_group", "current_step_group", "note_structure", "work"]

_KEYS = itertools.count()
_LIVE: dict = {}


class StepMeter:
    """Optimizer steps and seconds of every :func:`pruning_utils.train.train` call made while it is active (see
    :func:`measure_steps`): ``steps``, ``seconds`` (each call's wall time, its evaluations included), ``calls``,
    and per call ``(steps, seconds, batch_size)`` in ``log``.

    ``groups`` splits the steps by the :func:`step_group` they ran in (``"training"`` outside any):
    ``{group: {"steps", "step_seconds", "calls", "warm_steps", "warm_seconds"}}``, where ``step_seconds`` is the
    time of the steps alone (the per-epoch evaluations and epoch-end callbacks, in ``epoch_end_seconds``, left
    out) and ``warm_*`` the same without each call's first step (which pays one-time costs): what a projection
    to other dataset sizes multiplies. ``structures`` holds the largest size in bytes each named structure reached
    (:func:`note_structure`), ``analyses`` the seconds of each named analysis (:class:`work` without units).
    """

    def __init__(self):
        self.steps, self.seconds, self.calls, self.log = 0, 0.0, 0, []
        self.groups: dict = {}
        self.epoch_end_seconds = 0.0
        self.structures: dict = {}
        self.analyses: dict = {}

    def add(self, steps: int, seconds: float, batch_size: int, step_seconds: float | None = None,
            group: str | None = None, first_step_seconds: float = 0.0, calls_only: bool = False):
        """Record one training call (``step_seconds``: its steps alone, default ``seconds``;
        ``first_step_seconds``: the part of them its first step took). ``calls_only``: a block of
        :class:`work`, filed under its ``group`` only (not a training call: ``steps`` and ``log`` unchanged)."""
        step_seconds = seconds if step_seconds is None else step_seconds
        if not calls_only:
            self.steps += steps
            self.seconds += seconds
            self.calls += 1
            self.log.append((steps, seconds, batch_size))
            self.epoch_end_seconds += seconds - step_seconds
        g = self.groups.setdefault(group or current_step_group(), {"steps": 0, "step_seconds": 0.0, "calls": 0,
                                                                    "warm_steps": 0, "warm_seconds": 0.0})
        g["steps"] += steps
        g["step_seconds"] += step_seconds
        g["calls"] += 1
        if calls_only:                      # a block of work: all of it is warm except the name's first block
            if first_step_seconds == 0.0:
                g["warm_steps"] += steps
                g["warm_seconds"] += step_seconds
        elif steps > 1 and 0 < first_step_seconds <= step_seconds:
            g["warm_steps"] += steps - 1
            g["warm_seconds"] += step_seconds - first_step_seconds

    def note(self, name: str, nbytes: int):
        """Record that structure ``name`` holds ``nbytes`` bytes now (the largest value is kept)."""
        self.structures[name] = max(int(nbytes), self.structures.get(name, 0))

    @property
    def seconds_per_step(self) -> float:
        """Mean wall time of one optimizer step over the recorded calls (``nan`` before any step)."""
        return self.seconds / self.steps if self.steps else float("nan")


_METERS: list = []
_GROUPS: list = []


class measure_steps:
    """``with measure_steps() as meter:`` counts and times every :func:`pruning_utils.train.train` call in the block
    (a :class:`StepMeter`); meters nest, each sees every call."""

    def __enter__(self) -> StepMeter:
        self.meter = StepMeter()
        _METERS.append(self.meter)
        return self.meter

    def __exit__(self, *exc):
        _METERS.remove(self.meter)
        return False


class step_group:
    """``with step_group("resnet"):`` files the :func:`pruning_utils.train.train` calls in the block under
    ``"resnet"`` in every active :class:`StepMeter` (``meter.groups``). Experiments that train networks of
    different costs name each kind, so that a projection multiplies each kind's step count by that kind's
    measured step time. Groups nest; the innermost names the steps."""

    def __init__(self, name: str):
        if not isinstance(name, str) or not name:
            raise ValueError(f"parameter 'name' = {name!r} is not allowed; expected a non-empty string")
        self.name = name

    def __enter__(self):
        _GROUPS.append(self.name)
        return self

    def __exit__(self, *exc):
        _GROUPS.pop()
        return False


def current_step_group() -> str:
    """The innermost :func:`step_group`'s name (``"training"`` outside any)."""
    return _GROUPS[-1] if _GROUPS else "training"


def note_structure(name: str, nbytes: int, owner=None) -> None:
    """Tell every active :class:`StepMeter` that structure ``name`` (a snapshot buffer, a set of activation
    codes, the datasets) holds ``nbytes`` bytes now. With ``owner``, the bytes count while ``owner`` lives and
    add up over the living owners of the same name (two snapshot windows recorded at once, a training and a
    test split). A smoke run checks each experiment's memory formula against the largest total. Free when no
    meter is active."""
    if not _METERS:
        return
    if owner is None:
        total = int(nbytes)
    else:
        live = _LIVE.setdefault(name, {})
        key = next(_KEYS)
        live[key] = int(nbytes)
        weakref.finalize(owner, live.pop, key, None)
        total = sum(live.values())
    for m in _METERS:
        m.note(name, total)


#: seconds spent in blocks of :class:`work` without units (analyses) so far: :func:`pruning_utils.train.train`
#: subtracts what ran inside its steps from their time
ANALYSIS_CLOCK = [0.0]


class work:
    """``with work("gap search", units):`` times the block and files ``units`` (any count of the work: inputs
    evaluated, multiply-adds) under ``name`` in every active :class:`StepMeter`, as
    :func:`pruning_utils.train.train` files its steps, so that a projection multiplies a profile's units by the
    measured time per unit. The first block of each name is left out of ``warm_*`` (it pays one-time costs).

    ``units=None``: an analysis run from inside training (a callback's): its time goes to ``meter.analyses``
    and is taken out of the enclosing training steps' time, so that it does not inflate the time per step.
    Free when no meter is active."""

    def __init__(self, name: str, units: int | None = None):
        if not isinstance(name, str) or not name:
            raise ValueError(f"parameter 'name' = {name!r} is not allowed; expected a non-empty string")
        if units is not None and (isinstance(units, bool) or not isinstance(units, int) or units < 0):
            raise ValueError(f"parameter 'units' = {units!r} is not allowed; expected a whole number >= 0 or None")
        self.name, self.units = name, units

    def __enter__(self):
        if _METERS:
            self._sync()
            self.t0 = time.perf_counter()
        return self

    @staticmethod
    def _sync():
        import torch
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()

    def __exit__(self, *exc):
        if _METERS and exc[0] is None:
            self._sync()
            seconds = time.perf_counter() - self.t0
            if self.units is None:
                ANALYSIS_CLOCK[0] += seconds
                for m in _METERS:
                    m.analyses[self.name] = m.analyses.get(self.name, 0.0) + seconds
                return False
            for m in _METERS:
                first = self.name not in m.groups
                m.add(self.units, seconds, 0, group=self.name, first_step_seconds=seconds if first else 0.0,
                      calls_only=True)
        return False
