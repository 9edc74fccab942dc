"""Every chapter ends with exercises, each with a worked solution folded until the reader opens it.

The committed notebooks are read (they carry the outputs of the default run).
Between "## Exercises" and "## References": exercises numbered 1..k in bold,
each followed, before the next exercise, by exactly one ``Solution k``
admonition with the ``dropdown`` class (sphinx-togglebutton folds it); every
code cell there is a solution's experiment, tagged ``hide-cell`` (folded in
the book), opening with a ``# Solution`` comment, executed, and free of error
outputs. The rendering (folded, opens on a click) is checked in the browser
test.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
EXERCISE = re.compile(r"^\*\*(\d+)\. ", re.M)
SOLUTION = re.compile(r"^```\{admonition\} Solution (\d+)\n:class: dropdown\n", re.M)


def exercise_cells(nb):
    """The cells from the Exercises heading up to (not including) the References heading."""
    heads = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"
             and re.search(r"^## (Exercises|References)\b", c.source, re.M)]
    starts = [i for i in heads if re.search(r"^## Exercises\b", nb.cells[i].source, re.M)]
    ends = [i for i in heads if re.search(r"^## References\b", nb.cells[i].source, re.M)]
    assert len(starts) == 1 and len(ends) == 1 and starts[0] < ends[0], \
        "expected one '## Exercises' cell followed by a separate '## References' cell"
    return nb.cells[starts[0]:ends[0]]


def test_every_chapter_is_checked():
    assert len(CHAPTERS) >= 7


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_has_a_folded_solution(path):
    cells = exercise_cells(nbformat.read(path, as_version=4))
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    # order of exercise and solution markers through the section
    events = sorted([(m.start(), "exercise", int(m.group(1))) for m in EXERCISE.finditer(text)]
                    + [(m.start(), "solution", int(m.group(1))) for m in SOLUTION.finditer(text)])
    numbers = [n for _, kind, n in events if kind == "exercise"]
    assert len(numbers) >= 5, f"{path.stem}: {len(numbers)} exercises, expected at least 5"
    assert numbers == list(range(1, len(numbers) + 1)), f"{path.stem}: exercises numbered {numbers}"
    expected = [e for n in numbers for e in (("exercise", n), ("solution", n))]
    assert [(kind, n) for _, kind, n in events] == expected, \
        f"{path.stem}: each exercise must be followed by its own folded solution; found {events}"
    assert text.count("{admonition} Solution") == len(SOLUTION.findall(text)), \
        f"{path.stem}: a 'Solution' admonition without the dropdown class (it would be shown unfolded)"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_solution_cells_are_folded_executed_and_clean(path):
    cells = [c for c in exercise_cells(nbformat.read(path, as_version=4)) if c.cell_type == "code"]
    for c in cells:
        first = c.source.lstrip().splitlines()[0]
        assert first.startswith("# Solution"), f"{path.stem}: a code cell among the exercises starts {first!r}"
        assert "hide-cell" in c.metadata.get("tags", []), f"{path.stem}: {first!r} is not folded (tag hide-cell)"
        assert c.get("execution_count") is not None and c.outputs, f"{path.stem}: {first!r} was not executed"
        for out in c.outputs:
            assert out.output_type != "error", f"{path.stem}: {first!r} raised {out.get('ename')}"
            if out.output_type == "stream" and out.name == "stderr":
                assert "Traceback" not in out.text and "Error" not in out.text, \
                    f"{path.stem}: {first!r} wrote to stderr: {out.text[:300]}"
        assert not re.search(r"results_dir|['\"](\.\./)?(results|runs)/", c.source), \
            f"{path.stem}: {first!r} must not write into results/ or runs/"
