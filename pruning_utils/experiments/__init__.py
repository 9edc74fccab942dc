"""One experiment per chapter: ``run(**params) -> dict`` (JSON-friendly).

Each module defines ``SCHEMA`` (its parameters, see :mod:`pruning_utils.params`),
``PROFILES`` (named parameter sets: ``default`` is what the chapter runs on a
2-core CPU, ``paper`` the paper's scale for a GPU), ``run`` and ``CLAIMS``
(the paper's claims as :class:`pruning_utils.claims.Claim` objects, checked on
``run``'s result).
"""

from __future__ import annotations

import importlib

EXPERIMENTS = {"foundations": "pruning_utils.experiments.foundations",
               "koopman": "pruning_utils.experiments.koopman",
               "spline": "pruning_utils.experiments.spline",
               "bounds": "pruning_utils.experiments.bounds",
               "pruning_at_init": "pruning_utils.experiments.pruning_at_init",
               "topology": "pruning_utils.experiments.topology",
               "lenses": "pruning_utils.experiments.lenses"}
ALIASES = {"00_foundations": "foundations", "00": "foundations", "01_koopman": "koopman", "01": "koopman",
           "02_spline": "spline", "02": "spline",
           "03_probabilistic_bounds": "bounds", "03": "bounds",
           "04_pruning_at_init": "pruning_at_init", "04": "pruning_at_init",
           "05_topology": "topology", "05": "topology", "06_lenses": "lenses", "06": "lenses"}

#: the chapter notebook (``chapters/<stem>.ipynb``) of each experiment
NOTEBOOKS = {"foundations": "00_foundations", "koopman": "01_koopman", "spline": "02_spline",
             "bounds": "03_probabilistic_bounds", "pruning_at_init": "04_pruning_at_init",
             "topology": "05_topology", "lenses": "06_lenses"}

__all__ = ["EXPERIMENTS", "NOTEBOOKS", "get_experiment"]


def get_experiment(name: str):
    """The experiment module of a chapter, by name (``foundations``) or file stem (``00_foundations``)."""
    key = ALIASES.get(name, name)
    if key not in EXPERIMENTS:
        raise ValueError(f"chapter {name!r} is not known; expected one of {', '.join(EXPERIMENTS)}")
    return importlib.import_module(EXPERIMENTS[key])
