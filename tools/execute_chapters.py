"""Execute chapter notebooks in place from their py:percent twins, so that the
committed .ipynb carries the outputs of the default parameters.

    python tools/execute_chapters.py [chapters/00_foundations.py ...]

Each .py twin is read with jupytext, run top to bottom with nbclient in the
chapter's folder (kernel ``python3``), and written to the paired .ipynb; the
chapter's README thumbnail (``tools/thumbnails.py``) is refreshed from it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jupytext
import nbclient

ROOT = Path(__file__).resolve().parents[1]


def execute(py: Path) -> Path:
    nb = jupytext.read(py)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata.setdefault("language_info", {"name": "python"})
    t0 = time.perf_counter()
    nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(py.parent)}}).execute()
    out = py.with_suffix(".ipynb")
    jupytext.write(nb, out)
    # write the twin again from the executed notebook so the pair stays in sync
    jupytext.write(nb, py, fmt="py:percent")
    print(f"{py.relative_to(ROOT)}: executed in {time.perf_counter() - t0:.0f} s -> {out.relative_to(ROOT)}")
    # the README thumbnail is cut from the stored figures: refresh it with them
    sys.path.insert(0, str(ROOT / "tools"))
    from thumbnails import thumbnail
    thumbnail(out).save(ROOT / "thumbnails" / f"{out.stem}.png", optimize=True)
    return out


if __name__ == "__main__":
    paths = [Path(p).resolve() for p in sys.argv[1:]] or sorted((ROOT / "chapters").glob("[0-9]*.py"))
    for p in paths:
        execute(p)
