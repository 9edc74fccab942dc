"""pruning_utils.meter: steps per kind of network, timed work, analyses kept out of the step time, structures."""

from __future__ import annotations

import time

import pytest
import torch

from pruning_utils.meter import measure_steps, note_structure, step_group, work
from pruning_utils.train import Callback, train


def _net():
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))


DATA = (torch.randn(40, 1, 1, 4), torch.arange(40) % 2)


def test_steps_are_filed_under_the_innermost_group():
    with measure_steps() as m:
        train(_net(), DATA, epochs=2, batch_size=8)
        with step_group("big"):
            train(_net(), DATA, epochs=1, batch_size=8)
            with step_group("small"):
                train(_net(), DATA, epochs=1, batch_size=20)
    assert {g: v["steps"] for g, v in m.groups.items()} == {"training": 10, "big": 5, "small": 2}
    assert m.steps == 17 and m.calls == 3
    assert m.groups["training"]["warm_steps"] == 9            # each call's first step left out
    with pytest.raises(ValueError, match="'name'"):
        step_group("")


def test_structures_with_owners_add_up_while_the_owners_live():
    with measure_steps() as m:
        a, b = torch.zeros(1), torch.zeros(1)
        note_structure("windows", 10, owner=a)
        note_structure("windows", 5, owner=b)
        del a
        note_structure("windows", 1, owner=torch.zeros(1))        # b (5) and this one (1) live: 6
        note_structure("plain", 7)
        note_structure("plain", 3)
    assert m.structures == {"windows": 15, "plain": 7}
    note_structure("outside", 1)                                  # no meter: nothing recorded, no error
    assert "outside" not in m.structures


class _SlowAnalysis(Callback):
    """An analysis run from a step callback, as Koopman's window analysis is."""

    def on_step_end(self, state):
        if state.step == 3:
            with work("analysis"):
                time.sleep(0.3)


def test_an_analysis_inside_training_is_kept_out_of_the_step_time():
    with measure_steps() as m:
        train(_net(), DATA, epochs=1, batch_size=8, callbacks=[_SlowAnalysis()])
    g = m.groups["training"]
    assert m.analyses["analysis"] >= 0.3 and "analysis" not in m.groups
    assert g["step_seconds"] < 0.25 and m.seconds >= 0.3          # the call took it; its steps did not


def test_work_with_units_is_filed_like_steps_and_checked():
    with measure_steps() as m:
        for _ in range(3):
            with work("search", 100):
                time.sleep(0.01)
    g = m.groups["search"]
    assert g["steps"] == 300 and g["calls"] == 3 and g["warm_steps"] == 200     # the first block left out
    assert m.steps == 0 and m.calls == 0                                         # not training
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="'units'"):
            work("x", bad)
