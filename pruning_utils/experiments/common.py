"""What every chapter's experiment shares: run-time parameters, data loading, the drop test."""

from __future__ import annotations

import copy

from ..data import dataset_info, load_dataset
from ..models import check_fits
from ..params import Bool, Choice, Str
from ..train import resolve_device

__all__ = ["RUNTIME_SCHEMA", "load_data", "check_model", "first_below", "swap_seeds", "imp_steps",
           "dataset_bytes", "prunable_count"]

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


def check_model(p: dict, name: str, parameter: str = "model", dataset_key: str = "dataset", **kw) -> None:
    """Refuse (``ValueError`` naming ``parameter``) a model that cannot take the images of ``p[dataset_key]``,
    before anything is loaded: the schemas allow each choice alone, not every pair."""
    info = dataset_info(p[dataset_key])
    check_fits(name, info["shape"], info["classes"], parameter=parameter, dataset=p[dataset_key], **kw)


def imp_steps(total: int, rounds: int, rewind_step: int = 0) -> int:
    """Optimizer steps of :func:`pruning_utils.imp.run_imp`: the dense training (``total`` steps), then each
    round retrained from the rewind step to the end. What the experiments' ``training_steps`` build on."""
    return total + rounds * (total - rewind_step)


def dataset_bytes(name: str, sizes) -> int:
    """Bytes of a dataset's two splits as :func:`pruning_utils.data.load_dataset` holds them (float32 images,
    int64 labels); ``sizes(name)`` gives ``(train images, test images)``."""
    import math
    n_train, n_test = sizes(name)
    return (n_train + n_test) * (4 * math.prod(dataset_info(name)["shape"]) + 8)


def prunable_count(name: str, input_shape, num_classes: int, **kw) -> int:
    """Weights of the prunable (Linear and Conv) layers of ``build_model(name, ...)``: the ``N`` of a snapshot
    row. Built on PyTorch's ``meta`` device: shapes only."""
    import torch

    from ..models import build_model, prunable_layers
    with torch.device("meta"):
        net = build_model(name, tuple(input_shape), num_classes, **kw)
    return sum(m.weight.numel() for m in prunable_layers(net).values())


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
