"""The chapters' first cell, as Colab runs it: install the book's package only when it is missing.

A fresh virtual environment gets every third-party package of the test
environment (linked, so nothing is downloaded: Colab has PyTorch and the rest
already) but not ``pruning_utils``. Each chapter's first code cell runs there
with its ``git+https://...`` requirement replaced by a wheel built from this
checkout, and ``PIP_NO_INDEX`` set so pip cannot reach the network: it must
install the package, after which every module the chapter imports must
import. Run again with the wheel path made invalid, the cell must not try to
install anything.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def _code_cells(nb_path):
    nb = json.loads(nb_path.read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def _imports(cells):
    """Every module a chapter imports (top-level statements of its code cells)."""
    mods = set()
    for src in cells:
        for line in src.splitlines():
            m = re.match(r"\s*from\s+([\w.]+)\s+import\b", line) or re.match(r"\s*import\s+([\w.]+)", line)
            if m and not m.group(1).startswith("."):
                mods.add(m.group(1))
    return sorted(mods)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("colab")
    wheel_dir, src = tmp / "wheel", tmp / "src"     # built from a copy: no build/ left in the checkout
    shutil.copytree(ROOT / "pruning_utils", src / "pruning_utils", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(wheel_dir), str(src)], check=True, timeout=600, cwd=tmp)
    wheel = next(wheel_dir.glob("pruning_utils-*.whl"))
    venv = tmp / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    ours = Path(sysconfig.get_paths()["purelib"])
    for entry in ours.iterdir():      # the test environment's packages, minus this package and pip itself
        name = entry.name.lower()
        if "pruning_utils" in name or name.startswith(("pip", "_distutils_hack", "distutils-precedence")):
            continue
        if not (site / entry.name).exists():
            (site / entry.name).symlink_to(entry)
    environ = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONNOUSERSITE": "1"}
    environ.pop("PYTHONPATH", None)
    return py, wheel, environ, tmp


def _run(env, code):
    py, _, environ, tmp = env
    return subprocess.run([str(py), "-c", code], capture_output=True, text=True, timeout=600, cwd=tmp, env=environ)


@pytest.mark.parametrize("nb_path", CHAPTERS, ids=lambda p: p.stem)
def test_first_cell_installs_only_when_missing_then_the_chapter_imports(env, nb_path):
    py, wheel, environ, tmp = env
    cells = _code_cells(nb_path)
    first = cells[0]
    url = re.search(r'"(git\+https://github\.com/[^"]+)"', first)
    assert url, "the first cell installs the package from the repository"
    subprocess.run([str(py), "-m", "pip", "uninstall", "-y", "-q", "pruning_utils"], capture_output=True,
                   env=environ, cwd=tmp)
    missing = _run(env, "import importlib.util; print(importlib.util.find_spec('pruning_utils') is None)")
    assert missing.stdout.strip() == "True", missing.stderr
    # missing: the cell installs the wheel (offline), and everything the chapter imports then imports
    installed = _run(env, first.replace(url.group(1), str(wheel)))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    imports = "\n".join(f"import {m}" for m in _imports(cells[1:]))
    imported = _run(env, imports + "\nimport pruning_utils, pathlib\nprint(pathlib.Path(pruning_utils.__file__))")
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert str(ROOT) not in imported.stdout          # the installed copy, not this checkout
    # present: the cell does nothing (an install would fail on the invalid path)
    again = _run(env, first.replace(url.group(1), str(tmp / "no-such-wheel.whl")))
    assert again.returncode == 0, again.stderr[-3000:]
