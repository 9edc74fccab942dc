"""Every chapter through papermill with ``smoke=True`` and non-default valid values: no cell may fail.

papermill is how readers parametrize a chapter. Before this test only the
defaults (nbval) and bad values (``test_errors``) had been tried, and valid
values broke a folded solution (chapter 00's solutions assumed ten rounds).
Each chapter runs here with the values of each of its other profiles (those its
parameters cell has) and with one set at the edges of its schema's ranges and
its other choices, every cell included (solutions too), in smoke mode: every
loop cut to a few steps, on stand-in data of the real shape, offline.
"""

from __future__ import annotations

import ast
import json
import time
from pathlib import Path

import pytest

from pruning_utils.experiments import NOTEBOOKS, get_experiment
from pruning_utils.params import validate

ROOT = Path(__file__).resolve().parents[1]
#: the notebooks' ``smoke`` value here: smoke mode with every batch capped at 16 (VGG-16 and the ResNets run on a
#: CPU in seconds; the pipeline is the same)
SMOKE = 16

#: one set per chapter at the edges of its ranges and on its other choices (all valid for its schema)
EDGES = {
    "foundations": {"dataset": "mnist", "model": "lenet5", "epochs": 1, "batch_size": 1, "lr": 10.0,
                    "rounds": 1, "prune_fraction": 0.9, "scope": "layerwise", "rewind_step": 3, "seeds": 1,
                    "seed": 10**6, "tolerance": 100.0},
    "koopman": {"dataset": "cifar10", "model": "resnet20", "epochs": 2, "window": 3, "lr": 1e-4,
                "compressions": [1], "agreement_sparsity": 0.0, "finetune_epochs": 0, "seeds": 1},
    "spline": {"dataset": "cifar100", "model": "vgg11", "width": 2, "depth": 1, "epochs": 4, "ratio": 0.99,
               "ratios": [0.0, 0.99], "finetune_epochs": 0, "seeds": 1},
    "bounds": {"input_dim": 1, "output_dim": 1, "widths": [1, 2], "depths": [0, 1], "rates": [0.99],
               "deltas": [0.5], "layer_inputs": [1], "targets": 10},
    "pruning_at_init": {"dataset": "digits", "width": 2, "depths": [1], "sparsities": [0.0],
                        "rescale_depth": 1, "rescale_sparsity": 0.99, "conv_sparsity": 0.5, "method_depth": 1,
                        "method_sparsities": [0.5], "resnet_depths": [56], "epochs": 1, "seeds": 1},
    "topology": {"dataset": "digits", "epochs": 1, "lr": 10.0, "rounds": 1, "prune_fraction": 0.9, "seeds": 1,
                 "tolerance": 100.0},
    "lenses": {"dataset": "digits", "conv_width": 1, "epochs": 2, "prune_fraction": 0.9, "rounds": [1], "seeds": 1},
}


def notebook_parameters(stem: str) -> dict:
    """The names and default values of a chapter's parameters cell."""
    import nbformat

    nb = nbformat.read(ROOT / "chapters" / f"{stem}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    return {t.id: ast.literal_eval(s.value) for s in ast.parse(cell.source).body
            for t in getattr(s, "targets", []) if isinstance(t, ast.Name)}


def _lists(values: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


def cases():
    out = []
    for chapter, stem in NOTEBOOKS.items():
        own = notebook_parameters(stem)
        exp = get_experiment(chapter)
        seen = []
        for profile, values in exp.PROFILES.items():
            vals = _lists({k: v for k, v in values.items() if k in own})
            if profile != "default" and vals and vals not in seen:
                seen.append(vals)
                out.append((chapter, profile, vals))
        out.append((chapter, "edges", EDGES[chapter]))
    return out


CASES = cases()


@pytest.mark.parametrize("chapter", sorted(EDGES))
def test_edge_values_are_valid_non_default_and_the_chapters_own(chapter):
    own = notebook_parameters(NOTEBOOKS[chapter])
    schema = get_experiment(chapter).SCHEMA
    edges = EDGES[chapter]
    assert set(edges) <= set(own), sorted(set(edges) - set(own))
    p = validate(edges, schema)                           # valid: no ValueError
    assert all(p[k] != schema[k].default for k in edges if k not in ("epochs", "window", "seeds")), chapter
    assert "smoke" in own and own["smoke"] is False


def _smoke_cut_names(exp) -> set:
    """Every parameter a smoke run of any of the experiment's profiles cuts."""
    names = set()
    for values in exp.PROFILES.values():
        cuts = exp.SMOKE(validate(values, exp.SCHEMA)) if callable(exp.SMOKE) else exp.SMOKE
        names |= set(cuts)
    return names


@pytest.mark.parametrize("chapter", sorted(EDGES))
def test_no_cell_after_validation_reads_a_cut_parameter_by_its_bare_name(chapter):
    """In smoke mode ``params`` holds the cut values and the notebook's own names keep the uncut ones: a cell that
    reads ``epochs`` instead of ``params["epochs"]`` draws the wrong axis (chapter 02 plotted 30 epochs of a
    4-epoch run) or asks for steps that never ran."""
    import nbformat

    nb = nbformat.read(ROOT / "chapters" / f"{NOTEBOOKS[chapter]}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    first = next(i for i, c in enumerate(code) if "parameters" in c.metadata.get("tags", []))
    check = next(i for i, c in enumerate(code) if i > first and "validate(" in c.source)
    cut = _smoke_cut_names(get_experiment(chapter))
    bad = []
    for n, c in enumerate(code[check + 1:], check + 2):
        reads = {x.id for x in ast.walk(ast.parse(c.source)) if isinstance(x, ast.Name) and isinstance(x.ctx, ast.Load)}
        bad += [f"code cell {n} reads {name}" for name in sorted(reads & cut)]
    assert not bad, bad


def test_every_chapter_runs_through_papermill_with_non_default_values_in_smoke_mode(tmp_path, capsys):
    papermill = pytest.importorskip("papermill")
    from papermill.exceptions import PapermillExecutionError

    t0, failures, lines = time.perf_counter(), [], []
    for chapter, label, values in CASES:
        stem = NOTEBOOKS[chapter]
        out = tmp_path / f"{stem}_{label}.ipynb"
        t = time.perf_counter()
        try:
            papermill.execute_notebook(str(ROOT / "chapters" / f"{stem}.ipynb"), str(out),
                                       parameters={**values, "smoke": SMOKE, "device": "cpu"},
                                       kernel_name="python3", progress_bar=False, cwd=str(ROOT / "chapters"),
                                       log_output=False)
        except PapermillExecutionError as e:
            failures.append(f"{stem} with {label} values {values}: cell {e.exec_count}: {e.ename}: {e.evalue}")
            continue
        cells = [c for c in json.loads(out.read_text())["cells"] if c["cell_type"] == "code"]
        errors = [c for c in cells if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
        assert not errors, (stem, label)
        lines.append(f"  {stem:26s} {label:16s} {len(cells):3d} code cells, {time.perf_counter() - t:5.1f} s")
    with capsys.disabled():
        print(f"\npapermill, smoke=True: {len(CASES) - len(failures)} of {len(CASES)} runs of {len(NOTEBOOKS)} "
              f"chapters with non-default values passed in {time.perf_counter() - t0:.0f} s\n" + "\n".join(lines))
    assert not failures, "\n".join(failures)
