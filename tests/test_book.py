"""The book's structure: notebooks and their twins, configs, the HTML build."""

from __future__ import annotations

import ast
import re
import shutil
import sys
try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))


def _config():
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def test_chapters_exist():
    assert [p.stem for p in CHAPTERS][:1] == ["00_foundations"]


@pytest.mark.parametrize("nb_path", CHAPTERS, ids=lambda p: p.stem)
def test_twin_in_sync(nb_path):
    """The .ipynb and its py:percent twin hold the same cells (sources and types)."""
    py = nb_path.with_suffix(".py")
    assert py.exists(), f"{py.name} missing: run `make sync-notebooks`"
    a, b = jupytext.read(nb_path), jupytext.read(py)
    cells_a = [(c.cell_type, c.source.strip()) for c in a.cells]
    cells_b = [(c.cell_type, c.source.strip()) for c in b.cells]
    assert cells_a == cells_b, f"{nb_path.name} and {py.name} differ: run `make sync-notebooks`"


@pytest.mark.parametrize("nb_path", CHAPTERS, ids=lambda p: p.stem)
def test_notebook_committed_executed(nb_path):
    nb = nbformat.read(nb_path, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code), "commit the chapter executed"
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    assert any("NBVAL_CHECK_OUTPUT" in c.source and c.get("outputs") for c in code), \
        "a chapter prints its claim in a # NBVAL_CHECK_OUTPUT cell"
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {})
               for c in code for o in c.get("outputs", [])), "a chapter has at least one figure"


@pytest.mark.parametrize("nb_path", CHAPTERS, ids=lambda p: p.stem)
def test_stored_results_cells_are_current(nb_path, monkeypatch):
    """Each cell that reads only stored results (a confirmation's verdicts, the default-vs-full table) shows what
    it prints today from ``results/``: a stored result or a claim changed since, the committed page would be
    stale (``python tools/refresh_stored_cells.py`` reprints those cells)."""
    import contextlib
    import io
    sys.path.insert(0, str(ROOT / "tools"))
    from refresh_stored_cells import MARKER
    nb = nbformat.read(nb_path, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and MARKER in c.source]
    assert cells, f"{nb_path.name}: no cell shows the stored confirmation"
    assert any("confirmed_report(" in c.source for c in cells)
    monkeypatch.chdir(nb_path.parent)
    for c in cells:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(compile(c.source, nb_path.name, "exec"), {"__name__": "__main__"})
        shown = "".join(o.get("text", "") for o in c.get("outputs", []))
        assert shown == buf.getvalue(), f"{nb_path.name}: run python tools/refresh_stored_cells.py"


@pytest.mark.parametrize("nb_path", CHAPTERS, ids=lambda p: p.stem)
def test_parameters_cell_is_literals(nb_path):
    """Papermill injects after the `parameters` cell, so it must hold literal assignments only."""
    nb = nbformat.read(nb_path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    for stmt in ast.parse(tagged[0].source).body:
        assert isinstance(stmt, ast.Assign) and isinstance(stmt.value, (ast.Constant, ast.Tuple, ast.List)), \
            ast.unparse(stmt)
        ast.literal_eval(stmt.value)


@pytest.mark.parametrize("nb_path", CHAPTERS, ids=lambda p: p.stem)
def test_repository_url_in_one_place(nb_path):
    """Badge and install cell carry _config.yml's URL (`make set-repo` rewrites them)."""
    url = _config()["repository"]["url"].rstrip("/")
    text = nb_path.read_text()
    slug = url.split("github.com/")[1]
    assert f"git+{url}" in text
    assert f"colab.research.google.com/github/{slug}/blob/main/chapters/{nb_path.name}" in text
    others = set(re.findall(r"github\.com/([\w.-]+/[\w.-]+?)(?:/|\"|\.git)", text)) - {slug}
    assert not others, f"other repository URLs in {nb_path.name}: {others}"


def test_citation_and_licence():
    """CITATION.cff parses, names the repository of _config.yml and the licence of pyproject.toml."""
    import tomllib

    import yaml

    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    for key in ("cff-version", "message", "title", "authors", "repository-code", "license", "version"):
        assert key in cff, key
    assert cff["repository-code"].rstrip("/") == _config()["repository"]["url"].rstrip("/")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert cff["license"] == project["license"] == "MIT" and cff["version"] == project["version"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def _requirements(spec_list):
    return sorted(re.sub(r"\s+", "", s) for s in spec_list)


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted |= set(extra)
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = [p for p in pip if not p.startswith("-e")]
    assert _requirements(listed) == _requirements(wanted)


def test_readme_names_the_two_commands():
    text = (ROOT / "README.md").read_text()
    assert "make book" in text and "make test" in text
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def test_toc_lists_every_chapter():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    for nb in CHAPTERS:
        assert f"chapters/{nb.stem}" in files


@pytest.mark.skipif(shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) is None,
                    reason="jupyter-book not installed")
def test_book_builds_from_committed_outputs(committed_book):
    """HTML from the committed outputs, no execution: a broken toc, citation or
    cross-reference fails here (-W turns warnings into errors, -n checks references)."""
    rc, log, html = committed_book
    assert rc == 0, log
    assert (html / "intro.html").exists()
    page = (html / "chapters" / "00_foundations.html").read_text()
    assert "colab.research.google.com" in page  # the launch button
    assert "IMP stays within one point of the dense accuracy for more than three rounds of pruning" in page
    assert "(control: random pruning under another seed)" in page   # the checked cell names each claim's control
    # the scorecard page: every claim, with the verdicts `python -m pruning_utils claims` gives on results/
    import html as html_lib

    from pruning_utils.experiments import NOTEBOOKS, headline, shown, stored_verdicts
    card = html_lib.unescape(re.sub(r"<[^>]+>", " ", (html / "scorecard.html").read_text()))
    card = " ".join(card.split()).translate({0x2019: "'", 0x2018: "'", 0x201C: '"', 0x201D: '"'})  # smart quotes
    rows = stored_verdicts(ROOT / "results")
    assert (html / "scorecard.html").read_text().count("<table") == len({r["claim"].paper for r in rows})
    for row in rows:
        c, v = row["claim"], row["verdicts"]
        default = v["default"]["word"] if "default" in v else "no stored result"
        assert f"{c.id} {' '.join(c.statement.split())} " in card, c.id
        assert re.search(re.escape(c.id) + r" .*? " + re.escape(default), card), c.id
        assert f"{' '.join(c.statement.split())} {c.kind_text} " in card, c.id
        cf = row["confirmations"].get("default")    # the confirmation's verdict comes first, words as shown()
        confirmed = " ".join(shown(cf).split()) if cf else "not confirmed yet"
        assert f"{c.kind_text} {NOTEBOOKS[row['chapter']].replace('_', ' ')} {confirmed}" in card, c.id
    # the headline counts evidence against its control and checks apart
    h = headline(rows)
    assert f"{h['evidence']['holds']} hold against their control" in card


def test_set_repo_url_rewrites_every_copy(tmp_path, monkeypatch):
    """`make set-repo` points _config.yml, CITATION.cff and every chapter at a fork, and nothing else changes."""
    import importlib.util
    import shutil

    spec = importlib.util.spec_from_file_location("set_repo_url", ROOT / "tools" / "set_repo_url.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    for name in ("_config.yml", "CITATION.cff"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "chapters", tmp_path / "chapters", ignore=shutil.ignore_patterns("_build", ".ipynb_*"))
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    old = _config()["repository"]["url"].rstrip("/")
    tool.main("https://github.com/someone/fork")
    for f in [tmp_path / "_config.yml", tmp_path / "CITATION.cff", *sorted((tmp_path / "chapters").glob("*.*"))]:
        assert old not in f.read_text(), f.name
    assert "https://github.com/someone/fork" in (tmp_path / "CITATION.cff").read_text()
    assert "colab.research.google.com/github/someone/fork/blob/main/chapters/06_lenses.ipynb" in \
        (tmp_path / "chapters" / "06_lenses.py").read_text()
    with pytest.raises(SystemExit, match="not allowed"):
        tool.main("http://example.com/x")


def test_readme_thumbnails_are_the_chapters_own_figures(tmp_path):
    """Each README thumbnail is its chapter's stored figure, as tools/thumbnails.py cuts it."""
    import importlib.util

    import numpy as np
    from PIL import Image

    spec = importlib.util.spec_from_file_location("thumbnails", ROOT / "tools" / "thumbnails.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    fresh = tool.main(tmp_path)
    readme = (ROOT / "README.md").read_text()
    assert len(fresh) == len(list((ROOT / "chapters").glob("*.ipynb")))
    for path in fresh:
        committed = ROOT / "thumbnails" / path.name
        assert f'src="thumbnails/{path.name}"' in readme, path.name
        assert np.array_equal(np.asarray(Image.open(committed)), np.asarray(Image.open(path))), path.name
