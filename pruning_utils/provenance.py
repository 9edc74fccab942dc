"""Where a result came from: commit, versions, device, wall time, parameters.

Every file under ``results/`` is written by :func:`write_result`, so a stored
number always carries the run that produced it.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import torch

from .store import atomic_write_text

__all__ = ["provenance", "write_result", "git_commit", "read_result", "describe_provenance"]

_PACKAGES = ("torch", "torchvision", "numpy", "scipy", "scikit-learn", "mlxtend", "pruning_utils")


def git_commit(cwd=None) -> dict:
    """``{"commit": sha or None, "dirty": bool or None}`` of the repository around ``cwd``."""
    cwd = cwd or Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True,
                             timeout=10).stdout.strip() or None
        status = subprocess.run(["git", "status", "--porcelain"], cwd=cwd,
                                capture_output=True, text=True, timeout=10)
        dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        sha, dirty = None, None
    return {"commit": sha, "dirty": dirty}


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for p in _PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    return out


def _device(device: str) -> dict:
    info = {"requested": device, "cpu": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads()}
    if torch.cuda.is_available():
        info["cuda"] = torch.version.cuda
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def provenance(params: dict, device: str, wall_time_s: float) -> dict:
    return {**git_commit(), "versions": _versions(), "device": _device(device),
            "platform": platform.platform(), "argv": sys.argv,
            "finished_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "wall_time_s": wall_time_s, "parameters": params}


def write_result(path, result: dict, prov: dict, claims: dict | None = None):
    """Write ``{"result": ..., "provenance": ..., "claims": ...}`` as JSON, atomically. ``claims``: what
    :func:`pruning_utils.claims.record` keeps of the verdicts the run got (each claim's definition digest and
    word), so that a claim edited later shows as such instead of re-judging the result."""
    data = {"result": result, "provenance": prov}
    if claims is not None:
        data["claims"] = claims
    atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True, default=float))


def read_result(chapter: str, profile: str, results_dir="results"):
    """The stored ``{"result", "provenance"}`` of a chapter's profile, or None if no run wrote it.

    A summary line for the reader (commit, device, wall time) is ``describe_provenance``.
    """
    path = Path(results_dir) / chapter / f"{profile}.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def describe_provenance(prov: dict) -> str:
    """One line: commit (and whether the tree was dirty), device, wall time."""
    dev = prov.get("device", {})
    where = dev.get("gpu") or dev.get("cpu") or "?"
    dirty = " (dirty tree)" if prov.get("dirty") else ""
    return f"commit {str(prov.get('commit'))[:10]}{dirty}, {where}, {prov.get('wall_time_s', 0) / 60:.1f} min"
