"""Small, atomic, resumable storage for long runs.

:class:`ResultStore` keeps finished pieces of an experiment (JSON-friendly
values under string keys) in one file, rewritten atomically after each piece,
so an interrupted run loses at most the piece in progress.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["ResultStore", "atomic_write_text"]


def atomic_write_text(path, text: str):
    """Write ``text`` to ``path`` through a temp file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class ResultStore:
    """A JSON dict on disk (or in memory when ``path`` is None).

    ``meta`` identifies the run (its parameters); reopening a store whose
    saved ``meta`` differs raises ``ValueError`` instead of mixing runs.
    """

    def __init__(self, path=None, meta=None):
        self.path = Path(path) if path is not None else None
        self.meta = json.loads(json.dumps(meta)) if meta is not None else None
        self.data = {}
        if self.path is not None and self.path.exists():
            saved = json.loads(self.path.read_text())
            if self.meta is not None and saved.get("meta") != self.meta:
                raise ValueError(f"{str(self.path)!r} holds results of a run with other parameters; "
                                 f"use another run folder or delete it to start over")
            self.data = saved.get("data", {})

    def __contains__(self, key):
        return key in self.data

    def __getitem__(self, key):
        return self.data[key]

    def put(self, key: str, value):
        self.data[key] = json.loads(json.dumps(value))
        if self.path is not None:
            atomic_write_text(self.path, json.dumps({"meta": self.meta, "data": self.data}, indent=1))

    def get_or_run(self, key: str, fn):
        """The stored value of ``key``, or ``fn()`` stored under it."""
        if key not in self.data:
            self.put(key, fn())
        return self.data[key]
