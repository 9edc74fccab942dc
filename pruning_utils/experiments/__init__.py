"""One experiment per chapter: ``run(**params) -> dict`` (JSON-friendly).

Each module defines ``SCHEMA`` (its parameters, see :mod:`pruning_utils.params`),
``PROFILES`` (named parameter sets: ``default`` is what the chapter runs on a
2-core CPU, ``paper`` the paper's scale for a GPU) and ``run``.
"""

from __future__ import annotations

import importlib

EXPERIMENTS = {"foundations": "pruning_utils.experiments.foundations",
               "koopman": "pruning_utils.experiments.koopman",
               "topology": "pruning_utils.experiments.topology"}
ALIASES = {"00_foundations": "foundations", "00": "foundations", "01_koopman": "koopman", "01": "koopman",
           "05_topology": "topology", "05": "topology"}

__all__ = ["EXPERIMENTS", "get_experiment"]


def get_experiment(name: str):
    """The experiment module of a chapter, by name (``foundations``) or file stem (``00_foundations``)."""
    key = ALIASES.get(name, name)
    if key not in EXPERIMENTS:
        raise ValueError(f"chapter {name!r} is not known; expected one of {', '.join(EXPERIMENTS)}")
    return importlib.import_module(EXPERIMENTS[key])
