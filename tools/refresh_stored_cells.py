"""Reprint, in the committed chapter notebooks, the cells that read only stored results.

    python tools/refresh_stored_cells.py [chapters/00_foundations.ipynb ...]

A cell whose source has the line ``# reads stored results only`` prints what
``results/`` holds (a confirmation's verdicts, the default-vs-full table) and
nothing of the chapter's own run. When a stored result changes, such a cell's
committed output is stale, but re-executing the whole chapter would rerun its
experiment for nothing. This runs each such cell alone, in a fresh namespace,
from the chapter's folder (as the kernel would), and writes what it prints as
the cell's output; no other cell is touched. ``make test`` (nbval) then
compares the reprinted output with a full execution of the chapter.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
MARKER = "# reads stored results only"


def refresh(path: Path) -> int:
    nb = nbformat.read(path, as_version=4)
    n = 0
    here = os.getcwd()
    try:
        os.chdir(path.parent)
        count = 0
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            if MARKER not in cell.source:
                count = cell.get("execution_count") or count
                continue
            cell.execution_count = cell.get("execution_count") or count or 1   # a new cell: its neighbour's
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                exec(compile(cell.source, f"{path.name} cell", "exec"), {"__name__": "__main__"})
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=buf.getvalue())] if buf.getvalue() \
                else []
            n += 1
    finally:
        os.chdir(here)
    nbformat.write(nb, path)
    return n


if __name__ == "__main__":
    paths = [Path(p).resolve() for p in sys.argv[1:]] or sorted((ROOT / "chapters").glob("[0-9]*.ipynb"))
    for p in paths:
        print(f"{p.relative_to(ROOT)}: {refresh(p)} cells reprinted")
