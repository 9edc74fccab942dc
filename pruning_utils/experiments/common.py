"""What every chapter's experiment shares: run-time parameters, data loading, the drop test."""

from __future__ import annotations

import copy

from ..data import dataset_info, load_dataset
from ..params import Bool, Choice, Str
from ..train import resolve_device

__all__ = ["RUNTIME_SCHEMA", "load_data", "first_below", "swap_seeds"]

# Parameters that say where and how to run, not what to compute.
RUNTIME_SCHEMA = {
    "data_root": Str(None, allow_none=True, help="folder of torchvision datasets"),
    "download": Bool(False, help="let torchvision download a missing dataset"),
    "device": Choice("auto", ("auto", "cpu", "cuda")),
    "progress": Bool(False, help="tqdm progress bars"),
}


def load_data(p: dict):
    """``(device, info, train_data, test_data)`` for validated parameters ``p``
    (keys ``dataset``, ``data_root``, ``download``, ``device``); data on the device."""
    device = resolve_device(p["device"])
    info = dataset_info(p["dataset"])
    train_data = load_dataset(p["dataset"], True, p["data_root"], p["download"], device)
    test_data = load_dataset(p["dataset"], False, p["data_root"], p["download"], device)
    return device, info, train_data, test_data


def first_below(sparsities, accuracies, reference, tolerance_points):
    """First sparsity whose accuracy is more than ``tolerance_points`` below ``reference`` (None if none)."""
    for s, a in zip(sparsities, accuracies):
        if a < reference - tolerance_points / 100.0:
            return s
    return None


def swap_seeds(result, assign, next_seed: bool):
    """A control's result: a deep copy of ``result`` where ``assign(record, source)`` has put, into each seed's
    record of ``result["per_seed"]``, the control's numbers taken from ``source``: the same seed's record, or
    (``next_seed``) the next seed's (seed i gets seed i + 1's, cyclically), so that a margin must exceed what
    the baseline gains over itself from a change of seed. ``source`` is the original, untouched record;
    ``assign`` copies what it takes."""
    out = copy.deepcopy(result)
    seeds = result["per_seed"]
    for i, record in enumerate(out["per_seed"]):
        assign(record, seeds[(i + 1) % len(seeds) if next_seed else i])
    return out
