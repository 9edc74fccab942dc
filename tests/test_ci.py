"""The GitHub Actions workflows: valid against GitHub's workflow schema, and doing what the README says.

actionlint itself cannot be installed offline (its Python package downloads
the binary at build time), so the lint here is the GitHub workflow JSON
schema vendored by check-jsonschema, plus the project's own checks below.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"


def _load(name):
    # PyYAML reads the key `on` as True
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))
    return data


def _steps(wf):
    return [s for job in wf["jobs"].values() for s in job.get("steps", [])]


@pytest.mark.parametrize("name", ["test.yml", "book.yml"])
def test_workflow_is_valid_against_githubs_schema(name):
    exe = Path(sys.executable).parent / "check-jsonschema"
    proc = subprocess.run([str(exe), "--builtin-schema", "vendor.github-workflows", str(WORKFLOWS / name)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_schema_check_can_fail(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("name: bad\non: [push]\njobs:\n  a:\n    steps:\n      - run: echo\n")   # no runs-on
    exe = Path(sys.executable).parent / "check-jsonschema"
    proc = subprocess.run([str(exe), "--builtin-schema", "vendor.github-workflows", str(bad)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "runs-on" in proc.stdout + proc.stderr


@pytest.mark.parametrize("name", ["test.yml", "book.yml"])
def test_actions_are_pinned_and_expressions_use_known_contexts(name):
    text = (WORKFLOWS / name).read_text()
    for step in _steps(_load(name)):
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), step["uses"]
    for expr in re.findall(r"\$\{\{(.*?)\}\}", text):
        assert expr.strip().split(".")[0] in {"steps", "github", "env", "secrets", "needs", "matrix", "inputs",
                                              "runner", "vars", "job"}, expr


def test_the_test_workflow_runs_the_readme_test_command():
    wf = _load("test.yml")
    assert "push" in wf["on"] and "pull_request" in wf["on"]
    runs = [s.get("run", "") for s in _steps(wf)]
    assert "bash .ci/run" in runs
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert all(job.get("timeout-minutes", 360) >= 90 for job in wf["jobs"].values())  # CI's own budget


def test_the_book_workflow_builds_committed_outputs_and_deploys_to_pages():
    wf = _load("book.yml")
    assert wf["on"]["push"]["branches"] == ["main"]
    assert wf["permissions"]["pages"] == "write" and wf["permissions"]["id-token"] == "write"
    build, deploy = wf["jobs"]["build"], wf["jobs"]["deploy"]
    assert any(s.get("run") == "make book-committed" for s in build["steps"])
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "_build/html"
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in deploy["steps"])
    assert "book-committed:" in (ROOT / "Makefile").read_text()
