"""Build the HTML book from the notebooks' committed outputs, executing nothing.

    python tools/build_committed.py [--path-output DIR] [--quiet]

Same checks as ``make book`` (``-W -n``: any warning or unresolved reference
fails), but with execution off, so it takes seconds and needs no data: what
the Pages workflow publishes and what a test builds.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def build(path_output: Path | None = None, quiet: bool = False) -> subprocess.CompletedProcess:
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    cfg["execute"]["execute_notebooks"] = "off"
    # local extensions are found relative to the config file: point them at the repository
    cfg["sphinx"]["local_extensions"] = {k: str(ROOT / v) for k, v in cfg["sphinx"].get("local_extensions", {}).items()}
    with tempfile.TemporaryDirectory() as tmp:
        alt = Path(tmp) / "_config.yml"
        alt.write_text(yaml.safe_dump(cfg))
        jb = str(Path(sys.executable).parent / "jupyter-book")
        cmd = [jb, "build", str(ROOT), "--config", str(alt), "-W", "-n", "--keep-going"]
        if path_output is not None:
            cmd += ["--path-output", str(path_output)]
        if quiet:
            cmd.append("--quiet")
        proc = subprocess.run(cmd, capture_output=quiet, text=True, timeout=1800)
    if quiet and proc.returncode != 0:
        print(proc.stdout[-4000:], proc.stderr[-4000:], file=sys.stderr)
    return proc


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--path-output", type=Path, default=None)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    sys.exit(build(args.path_output, args.quiet).returncode)
