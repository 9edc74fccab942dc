"""Record, for each stored result written before results kept their claims, the definition that judged it.

``python tools/record_claims.py [results]``: for every ``results/<chapter>/<profile>.json`` without a
``claims`` record, check out the commit its provenance names (a git worktree in a temporary folder), import
that commit's package, judge the stored result with that commit's claims and record, per claim, the digest
of that commit's definition (``pruning_utils.claims.digest``, today's function applied to the old claim
objects and the old claims module's rule) and the word it got: what ``reproduce`` would have written had it
kept records then. The record says so (``"recorded": "afterwards, from commit ..."``). A result whose
provenance names no commit is left alone and stays "judged after the run".

Nothing is re-run and no number changes: only the ``claims`` key is added to each file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_SCRIPT = r"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("_claims_now", sys.argv[1])
now = importlib.util.module_from_spec(spec)
sys.modules["_claims_now"] = now
spec.loader.exec_module(now)
import pruning_utils, importlib
assert pruning_utils.__file__.startswith(sys.argv[2]), pruning_utils.__file__
from pruning_utils.claims import evaluate
chapter, path = sys.argv[3], sys.argv[4]
exp = importlib.import_module("pruning_utils.experiments." + chapter)
stored = json.load(open(path))
print(json.dumps(now.record(evaluate(list(exp.CLAIMS), stored["result"]))))
"""


def record_file(path: Path, python=sys.executable) -> str:
    data = json.loads(path.read_text())
    if "claims" in data or "result" not in data:
        return "kept"
    commit = (data.get("provenance") or {}).get("commit")
    if not commit:
        return "no commit"
    chapter = path.parent.name
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(tree), commit], cwd=ROOT, check=True)
        try:
            out = subprocess.run([python, "-c", _SCRIPT, str(ROOT / "pruning_utils" / "claims.py"), str(tree),
                                  chapter, str(path.resolve())], cwd=tree, env={"PYTHONPATH": str(tree),
                                                                               "PATH": "/usr/bin:/bin"},
                                 capture_output=True, text=True)
            if out.returncode != 0:
                raise SystemExit(f"{path}: {out.stderr}")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)
    rec = json.loads(out.stdout)
    for r in rec.values():
        r["recorded"] = f"afterwards, from commit {commit[:10]} (the run's own)"
    data["claims"] = rec
    from pruning_utils.store import atomic_write_text
    atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True))
    return f"recorded from {commit[:10]}"


def main(results="results"):
    for path in sorted(Path(results).glob("*/*.json")):
        print(path, record_file(path))


if __name__ == "__main__":
    main(*sys.argv[1:])
