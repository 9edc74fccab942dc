"""The error audit: wrong types, out-of-range values and unknown names, through papermill and through the CLI.

Each gets one message naming the parameter, and nothing is left behind in
``results/`` or ``runs/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pruning_utils.cli import main
from pruning_utils.experiments import EXPERIMENTS, NOTEBOOKS

ROOT = Path(__file__).resolve().parents[1]
BAD = [({"no_such_param": 3}, "'no_such_param' is not a parameter of this chapter"),
       ({"seed": "zero"}, "parameter 'seed' = 'zero' is not allowed"),
       ({"seed": -1}, "parameter 'seed' = -1 is not allowed")]


def _up_to_validation(stem, tmp_path):
    """The chapter's cells up to its validation cell (the first code cell after the parameters cell that
    calls ``validate(``): all the audit needs, without the minutes of experiment after it."""
    import nbformat

    nb = nbformat.read(ROOT / "chapters" / f"{stem}.ipynb", as_version=4)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    params = next(i for i in code if "parameters" in nb.cells[i].metadata.get("tags", []))
    check = next(i for i in code if i > params and "validate(" in nb.cells[i].source)
    nb.cells = nb.cells[:check + 1]
    path = tmp_path / f"{stem}_head.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("stem", sorted(NOTEBOOKS.values()))
def test_papermill_stops_at_the_validation_cell_naming_the_parameter(stem, tmp_path):
    papermill = pytest.importorskip("papermill")
    from papermill.exceptions import PapermillExecutionError

    head = _up_to_validation(stem, tmp_path)
    for params, message in BAD:
        out = tmp_path / f"{stem}.ipynb"
        with pytest.raises(PapermillExecutionError) as err:
            papermill.execute_notebook(str(head), str(out), parameters=params,
                                       kernel_name="python3", progress_bar=False, cwd=str(ROOT / "chapters"),
                                       log_output=False)
        assert err.value.ename == "ValueError" and message in err.value.evalue, err.value.evalue
        # the error came from the validation cell, not from a cell before it
        import json
        cells = [c for c in json.loads(out.read_text())["cells"] if c["cell_type"] == "code"]
        failed = next(i for i, c in enumerate(cells) if any(o.get("output_type") == "error" for o in c["outputs"]))
        assert "validate(" in "".join(cells[failed]["source"]) and failed == len(cells) - 1


CLI_BAD = [(["--set", "no_such_param=3"], "'no_such_param'"),
           (["--set", "seed=-1"], "'seed'"),
           (["--set", "seed=abc"], "'seed'"),
           (["--profile", "no_such_profile"], "'no_such_profile'")]
RUN_TIME_BAD = {"pruning_at_init": (["--set", "resnet_depths=(44,)"], "'resnet_depths'"),
                "lenses": (["--set", "rounds=(1.5,)"], "'rounds'"),
                # each choice is in its schema, the pair is not: refused before any data is loaded
                "foundations": (["--set", "dataset=digits", "--set", "model=lenet5"], "'model' = 'lenet5'"),
                "koopman": (["--set", "dataset=digits", "--set", "model=mnistnet"], "'model' = 'mnistnet'"),
                "spline": (["--set", "dataset=fashion-mnist", "--set", "model=vgg11"], "'model' = 'vgg11'")}


@pytest.mark.parametrize("chapter", sorted(EXPERIMENTS))
def test_cli_gives_one_line_naming_the_parameter_and_writes_nothing(chapter, tmp_path, capsys):
    results, runs = tmp_path / "results", tmp_path / "runs"
    cases = CLI_BAD + ([RUN_TIME_BAD[chapter]] if chapter in RUN_TIME_BAD else [])
    for args, name in cases:
        rc = main(["reproduce", chapter, *args, "--device", "cpu", "--out", str(results), "--runs", str(runs)])
        err = capsys.readouterr().err
        assert rc == 2, args
        assert err.startswith("error: ") and err.count("\n") == 1 and name in err, err
    assert not results.exists() or not any(results.rglob("*")), list(results.rglob("*"))
    assert not runs.exists() or not any(runs.rglob("*")), list(runs.rglob("*"))
