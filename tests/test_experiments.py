"""What every chapter's experiment must do with its parameters."""

from __future__ import annotations

import pytest

from pruning_utils.experiments import EXPERIMENTS, get_experiment
from pruning_utils.params import validate

from schema_cases import bad_values


CASES = [(chapter, name, v) for chapter in EXPERIMENTS
         for name, spec in get_experiment(chapter).SCHEMA.items() for v in bad_values(spec)]


@pytest.mark.parametrize("chapter,name,value", CASES, ids=[f"{c}:{n}={v!r}" for c, n, v in CASES])
def test_every_parameter_rejected_with_clear_message(chapter, name, value):
    """Rejected by run() itself, before any data is loaded, naming the parameter and what is allowed."""
    with pytest.raises(ValueError) as e:
        get_experiment(chapter).run(**{name: value})
    assert repr(name) in str(e.value) and "expected" in str(e.value)


@pytest.mark.parametrize("chapter", list(EXPERIMENTS))
def test_unknown_parameter_rejected(chapter):
    with pytest.raises(ValueError, match="unknown parameter.*'no_such_parameter'"):
        get_experiment(chapter).run(no_such_parameter=3)


@pytest.mark.parametrize("chapter", list(EXPERIMENTS))
def test_profiles_validate(chapter):
    exp = get_experiment(chapter)
    assert "default" in exp.PROFILES and any(p.startswith("paper") for p in exp.PROFILES)
    for prof in exp.PROFILES.values():
        validate(prof, exp.SCHEMA)


def test_learning_curves_draws_each_seed_and_their_mean():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pruning_utils.plotting import learning_curves
    fig, ax = plt.subplots()
    mean = learning_curves(ax, [[0.5, 0.7, 0.8], [0.7, 0.9, 0.8]], color="red", label="dense")
    assert list(mean) == pytest.approx([60.0, 80.0, 80.0])
    assert len(ax.lines) == 3 and list(ax.lines[-1].get_xdata()) == [1, 2, 3]
    with pytest.raises(ValueError, match="per_seed"):
        learning_curves(ax, [[0.5, 0.6], [0.7]])
    with pytest.raises(ValueError, match="per_seed"):
        learning_curves(ax, [[]])
    plt.close(fig)
