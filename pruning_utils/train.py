"""The one training loop every chapter uses.

The whole dataset sits on the device as tensors; a batch is an index slice.
The batch order of epoch ``e`` depends only on ``(seed, e)``, and the learning
rate is a pure function of the global step, so training can start at any step
``k`` (rewinding) and reproduce exactly what an uninterrupted run would do.

On a GPU: bf16 autocast (``bf16="auto"``), channels-last for conv nets,
optional ``torch.compile``. Callbacks see every step and every epoch, so later
chapters can record weight trajectories or watch masks change.
"""

from __future__ import annotations

import copy
import math
import sys
import time
from dataclasses import asdict, dataclass, field, replace

import torch
import torch.nn.functional as F
from torch import nn

from .masks import dense_state_dict
from .meter import _METERS, ANALYSIS_CLOCK, StepMeter, measure_steps, note_structure, step_group  # noqa: F401
from .params import Bool, Choice, Float, FloatList, Int, validate

__all__ = ["TrainConfig", "Callback", "TrainState", "StateRecorder", "train", "evaluate", "lr_at",
           "resolve_device", "StepMeter", "measure_steps", "step_group", "note_structure", "train_many"]

TRAIN_SCHEMA = {
    "epochs": Int(10, 1, None, help="passes over the training set"),
    "batch_size": Int(128, 1, None),
    "optimizer": Choice("sgd", ("sgd", "adam")),
    "lr": Float(0.1, 0.0, None, low_inclusive=False),
    "momentum": Float(0.9, 0.0, 1.0, high_inclusive=False),
    "nesterov": Bool(False),
    "weight_decay": Float(0.0, 0.0, None),
    "schedule": Choice("constant", ("constant", "step", "cosine")),
    "milestones": FloatList((), 0.0, None, min_len=0),
    "gamma": Float(0.1, 0.0, 1.0, low_inclusive=False),
    "warmup_epochs": Float(0.0, 0.0, None),
    "augment": Choice("none", ("none", "crop_flip")),
    "label_smoothing": Float(0.0, 0.0, 1.0, high_inclusive=False),
    "seed": Int(0, 0, None),
    "bf16": Choice("auto", ("auto", True, False)),
    "compile": Bool(False),
    "eval_every": Int(1, 0, None, help="epochs between test evaluations; 0 = only at the end"),
    "progress": Bool(False),
}


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one training run (validated on construction).

    ``milestones`` are epochs at which the step schedule multiplies the LR by
    ``gamma``; ``warmup_epochs`` ramps the LR linearly from 0 first.
    """

    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    schedule: str = "constant"
    milestones: tuple = field(default_factory=tuple)
    gamma: float = 0.1
    warmup_epochs: float = 0.0
    augment: str = "none"
    label_smoothing: float = 0.0
    seed: int = 0
    bf16: object = "auto"
    compile: bool = False
    eval_every: int = 1
    progress: bool = False

    def __post_init__(self):
        checked = validate(asdict(self), TRAIN_SCHEMA)
        for k, v in checked.items():
            object.__setattr__(self, k, v)

    def replace(self, **changes) -> "TrainConfig":
        unknown = sorted(set(changes) - set(TRAIN_SCHEMA))
        if unknown:
            raise ValueError(f"unknown parameter(s) {', '.join(map(repr, unknown))}; "
                             f"known parameters are: {', '.join(sorted(TRAIN_SCHEMA))}")
        return replace(self, **changes)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["milestones"] = list(d["milestones"])
        return d


def lr_at(config: TrainConfig, step: int, steps_per_epoch: int) -> float:
    """Learning rate at global ``step`` (0-based) of a run of ``config.epochs`` epochs."""
    epoch = step / steps_per_epoch
    total = config.epochs * steps_per_epoch
    if config.warmup_epochs > 0 and epoch < config.warmup_epochs:
        return config.lr * (step + 1) / (config.warmup_epochs * steps_per_epoch)
    if config.schedule == "constant":
        return config.lr
    if config.schedule == "step":
        return config.lr * config.gamma ** sum(epoch >= m for m in config.milestones)
    # cosine from the end of warm-up to the end of training
    start = config.warmup_epochs * steps_per_epoch
    frac = (step - start) / max(1.0, total - start)
    return config.lr * 0.5 * (1.0 + math.cos(math.pi * min(1.0, frac)))


class Callback:
    """Hooks into :func:`train`; override what you need. Each gets a :class:`TrainState`."""

    def on_train_start(self, state):  # noqa: D401
        pass

    def on_after_backward(self, state):
        """After the loss's backward pass, before the optimizer step: a callback may change the gradients
        (a penalty's subgradient), which then pass through momentum and weight decay as the loss's do.
        ``state.lr`` is the step's learning rate; ``state.step`` still counts the steps already taken."""
        pass

    def on_step_end(self, state):
        pass

    def on_epoch_end(self, state):
        pass

    def on_train_end(self, state):
        pass


class StateRecorder(Callback):
    """Keep the model's state (unpruned layout, CPU copies) after the given global steps.

    ``states[s]`` is the state after ``s`` optimizer steps (``s = 0``: before any).
    """

    def __init__(self, steps):
        self.steps = set(int(s) for s in steps)
        if any(s < 0 for s in self.steps):
            raise ValueError(f"parameter 'steps' = {sorted(steps)} is not allowed; expected steps >= 0")
        self.states = {}

    def _maybe(self, state):
        if state.step in self.steps:
            self.states[state.step] = dense_state_dict(state.model)

    def on_train_start(self, state):
        self._maybe(state)

    def on_step_end(self, state):
        self._maybe(state)


@dataclass
class TrainState:
    """What callbacks see. ``step`` counts optimizer steps done (global, from 0)."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    config: TrainConfig
    steps_per_epoch: int
    total_steps: int
    step: int = 0
    epoch: int = 0
    lr: float = 0.0
    loss: torch.Tensor | None = None
    history: dict = field(default_factory=dict)


def _autocast(device: torch.device, bf16):
    use = (device.type == "cuda") if bf16 == "auto" else bool(bf16)
    if use:
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return torch.autocast(device.type, enabled=False)


def _crop_flip(x: torch.Tensor, params: torch.Tensor, pad: int = 4) -> torch.Tensor:
    """Random crop (zero padding ``pad``) and horizontal flip, batched on the device.

    ``params`` rows are (dy, dx, flip) with dy, dx in [0, 2 pad].
    """
    b, c, h, w = x.shape
    xp = F.pad(x, (pad, pad, pad, pad))
    rows = params[:, 0:1] + torch.arange(h, device=x.device)  # (b, h)
    cols = params[:, 1:2] + torch.arange(w, device=x.device)  # (b, w)
    flip = params[:, 2].bool()
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    idx_b = torch.arange(b, device=x.device)[:, None, None]
    out = xp[idx_b, :, rows[:, :, None], cols[:, None, :]]  # (b, h, w, c)
    # keep the batch's memory format (channels-last on GPU conv nets, else contiguous);
    # ``contiguous`` does not accept ``torch.preserve_format``
    channels_last = not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    return out.permute(0, 3, 1, 2).contiguous(memory_format=fmt)


def _epoch_plan(config: TrainConfig, epoch: int, n: int, device, augment: bool):
    """Batch order (and augmentation draws) of one epoch: a function of (seed, epoch) only."""
    g = torch.Generator().manual_seed(config.seed * 1_000_003 + epoch)
    perm = torch.randperm(n, generator=g)
    aug = None
    if augment:
        aug = torch.stack([torch.randint(0, 9, (n,), generator=g), torch.randint(0, 9, (n,), generator=g),
                           torch.randint(0, 2, (n,), generator=g)], 1)
        aug = aug.to(device)
    return perm.to(device), aug


def _check_data(data, what):
    if not (isinstance(data, (tuple, list)) and len(data) == 2 and torch.is_tensor(data[0])
            and torch.is_tensor(data[1]) and data[0].shape[0] == data[1].shape[0]):
        raise ValueError(f"parameter {what!r} must be a pair (x, y) of tensors with the same first dimension")


def evaluate(model: nn.Module, data, batch_size: int = 1024, bf16="auto") -> dict:
    """Mean cross-entropy and accuracy of ``model`` on ``data = (x, y)``; eval mode, no grad."""
    _check_data(data, "data")
    x, y = data
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), device=x.device, dtype=torch.float64)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    with torch.no_grad(), _autocast(x.device, bf16):
        for i in range(0, x.shape[0], batch_size):
            out = model(x[i:i + batch_size]).float()
            loss_sum += F.cross_entropy(out, y[i:i + batch_size], reduction="sum").double()
            correct += (out.argmax(1) == y[i:i + batch_size]).sum()
    model.train(was_training)
    n = x.shape[0]
    return {"loss": float(loss_sum) / n, "accuracy": float(correct) / n}


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum,
                               nesterov=config.nesterov and config.momentum > 0,
                               weight_decay=config.weight_decay)
    return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)


def train(model: nn.Module, data, config: TrainConfig | None = None, *, test_data=None,
          callbacks=(), start_step: int = 0, stop_step: int | None = None,
          optimizer: torch.optim.Optimizer | None = None, criterion=None, **overrides) -> dict:
    """Train ``model`` in place on ``data = (x, y)`` (tensors on the model's device).

    ``config`` (or keyword overrides of it) sets the hyperparameters. Training
    runs global steps ``start_step`` to ``stop_step`` (default: the end) of a
    ``config.epochs``-epoch run, so a run can begin at a rewinding point.
    Returns the history: per evaluated epoch ``epoch``, ``step``, ``lr``,
    ``train_loss`` (mean over the steps since the previous record), and with ``test_data``,
    ``test_loss`` and ``test_accuracy``. ``criterion(logits, labels) -> loss`` replaces the cross-entropy
    (with ``config.label_smoothing``); :func:`train_many` passes one that sums K networks' losses.
    """
    if isinstance(optimizer, str):  # the config field ``optimizer="sgd"|"adam"``, given as an override
        overrides["optimizer"], optimizer = optimizer, None
    config = (config or TrainConfig()).replace(**overrides) if overrides else (config or TrainConfig())
    _check_data(data, "data")
    if test_data is not None:
        _check_data(test_data, "test_data")
    x, y = data
    n = x.shape[0]
    if config.batch_size > n:
        raise ValueError(f"parameter 'batch_size' = {config.batch_size} is larger than the "
                         f"training set ({n} examples)")
    device = x.device
    pdev = next(model.parameters()).device
    if pdev != device:
        raise ValueError(f"the model is on {pdev} but the data is on {device}; move one of them")
    if config.augment == "crop_flip" and x.dim() != 4:
        raise ValueError("augment='crop_flip' needs image data of shape (N, C, H, W)")
    steps_per_epoch = n // config.batch_size  # the last partial batch is dropped
    total = config.epochs * steps_per_epoch
    stop = total if stop_step is None else stop_step
    if not (isinstance(start_step, int) and 0 <= start_step <= total):
        raise ValueError(f"parameter 'start_step' = {start_step!r} is not allowed; expected 0 <= start_step <= {total}")
    if not (isinstance(stop, int) and start_step <= stop <= total):
        raise ValueError(f"parameter 'stop_step' = {stop_step!r} is not allowed; "
                         f"expected {start_step} <= stop_step <= {total}")

    conv = any(isinstance(m, nn.Conv2d) for m in model.modules())
    if device.type == "cuda" and conv:
        model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    forward = torch.compile(model) if config.compile else model
    opt = optimizer or make_optimizer(model, config)
    history = {k: [] for k in ("epoch", "step", "lr", "train_loss", "test_loss", "test_accuracy")}
    state = TrainState(model, opt, config, steps_per_epoch, total, start_step,
                       start_step // steps_per_epoch, history=history)
    callbacks = list(callbacks)
    for cb in callbacks:
        cb.on_train_start(state)

    from tqdm import tqdm

    bar = tqdm(total=stop - start_step, disable=not config.progress, file=sys.stderr,
               desc="train", leave=False)
    t_start = time.perf_counter()
    epoch_end_seconds = first_step_seconds = 0.0  # timed apart while a meter is active
    analysis0, analysis_at_epoch_ends = ANALYSIS_CLOCK[0], 0.0  # analyses run by callbacks (meter.work, no units)
    model.train()
    perm = aug = None
    loss_sum = torch.zeros((), device=device, dtype=torch.float64)
    loss_count = 0
    for step in range(start_step, stop):
        epoch, i = divmod(step, steps_per_epoch)
        if perm is None or i == 0:
            perm, aug = _epoch_plan(config, epoch, n, device, config.augment != "none")
        idx = perm[i * config.batch_size:(i + 1) * config.batch_size]
        xb, yb = x[idx], y[idx]
        if aug is not None:
            xb = _crop_flip(xb, aug[i * config.batch_size:(i + 1) * config.batch_size])
        lr = lr_at(config, step, steps_per_epoch)
        for group in opt.param_groups:
            group["lr"] = lr
        with _autocast(device, config.bf16):
            out = forward(xb).float()
            loss = (F.cross_entropy(out, yb, label_smoothing=config.label_smoothing) if criterion is None
                    else criterion(out, yb))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        state.lr = lr
        for cb in callbacks:
            cb.on_after_backward(state)
        opt.step()
        loss_sum += loss.detach().double()
        loss_count += 1
        state.step, state.epoch, state.lr, state.loss = step + 1, epoch, lr, loss.detach()
        for cb in callbacks:
            cb.on_step_end(state)
        if step == start_step and _METERS:   # the first step pays one-time costs (allocation, autotuning)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            first_step_seconds = time.perf_counter() - t_start
        bar.update(1)
        end_of_epoch = (step + 1) % steps_per_epoch == 0
        last = step + 1 == stop
        if (end_of_epoch or last) and _METERS:
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            t_end, a_end = time.perf_counter(), ANALYSIS_CLOCK[0]
        if end_of_epoch or last:
            due = end_of_epoch and config.eval_every > 0 and (epoch + 1) % config.eval_every == 0
            if due or last:
                history["epoch"].append(epoch + 1 if end_of_epoch else (step + 1) / steps_per_epoch)
                history["step"].append(step + 1)
                history["lr"].append(lr)
                history["train_loss"].append(float(loss_sum) / max(1, loss_count))
                if test_data is not None:
                    ev = evaluate(model, test_data, bf16=config.bf16)
                    history["test_loss"].append(ev["loss"])
                    history["test_accuracy"].append(ev["accuracy"])
                    bar.set_postfix(acc=f"{ev['accuracy']:.4f}")
                    model.train()
                loss_sum.zero_()
                loss_count = 0
            if end_of_epoch:
                for cb in callbacks:
                    cb.on_epoch_end(state)
            if _METERS:
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                epoch_end_seconds += time.perf_counter() - t_end
                analysis_at_epoch_ends += ANALYSIS_CLOCK[0] - a_end
    bar.close()
    for cb in callbacks:
        cb.on_train_end(state)
    if _METERS:
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - t_start
        in_steps = ANALYSIS_CLOCK[0] - analysis0 - analysis_at_epoch_ends   # analyses run by step callbacks
        for m in _METERS:
            m.add(stop - start_step, seconds, config.batch_size, step_seconds=seconds - epoch_end_seconds - in_steps,
                  first_step_seconds=min(first_step_seconds, seconds - epoch_end_seconds - in_steps))
    return history


def resolve_device(device="auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; other values as ``torch.device``."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ValueError(f"parameter 'device' = {device!r} is not allowed; expected 'auto', 'cpu' or 'cuda'") from e
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("parameter 'device' = 'cuda' but no CUDA device is available; use 'auto' or 'cpu'")
    return dev


class _Stacked(nn.Module):
    """K networks of one architecture as one module: their parameters stacked along a new first dimension
    (``torch.func.stack_module_state``), masks applied to the stacked weights, one forward for all K by
    ``torch.vmap`` over ``torch.func.functional_call``. Output ``(K, batch, classes)``."""

    def __init__(self, models, masks):
        super().__init__()
        from torch.func import stack_module_state
        base = copy.deepcopy(models[0]).to("meta")
        params, buffers = stack_module_state(list(models))
        self.names = list(params)
        self.stacked = nn.ParameterList([nn.Parameter(params[n].detach().clone()) for n in self.names])
        for n, b in buffers.items():
            self.register_buffer("buf_" + n.replace(".", "__"), b.clone())
        self.buffer_names = list(buffers)
        self.mask_of = {}
        for i, n in enumerate(self.names):
            if masks is not None and n in masks[0]:
                self.register_buffer(f"mask_{i}", torch.stack([m[n] for m in masks]).to(params[n].dtype))
                self.mask_of[n] = f"mask_{i}"
        self._base = [base]                     # a list: not a submodule (its meta parameters stay out)

    def effective(self) -> dict:
        out = {}
        for n, w in zip(self.names, self.stacked):
            out[n] = w * getattr(self, self.mask_of[n]) if n in self.mask_of else w
        return out

    def forward(self, x):
        from torch.func import functional_call
        params = self.effective()
        buffers = {n: getattr(self, "buf_" + n.replace(".", "__")) for n in self.buffer_names}

        def one(p, b):
            return functional_call(self._base[0], (p, b), (x,))
        return torch.vmap(one, in_dims=(0, 0), randomness="different")(params, buffers)


def _sum_of_losses(label_smoothing):
    def loss(out, y):
        k = out.shape[0]
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.repeat(k), label_smoothing=label_smoothing,
                               reduction="sum") / y.shape[0]
    return loss


def train_many(models, data, config: TrainConfig | None = None, *, masks=None, test_data=None,
               **overrides) -> list:
    """Train K networks of one architecture at once, in one pass per batch, and return their histories.

    ``models``: K modules of the same architecture (different initialisations), trained in place; ``masks``:
    None or K mask dicts (names as ``named_parameters()``, ``True`` = kept), applied to the weights as
    :func:`pruning_utils.masks.apply_masks` would. Every network sees the same batches in the same order (the
    config's seed), so the result equals K separate :func:`train` calls with that config, up to floating-point
    summation order; the loss is the sum of the K networks' losses, which gives each its own gradient.

    For a GPU, where a small network's step is bound by kernel launches and K of them cost little more than
    one; on a CPU a small network is compute-bound and K separate runs are faster (DESIGN.md section 6). No
    BatchNorm (its running statistics cannot update under ``vmap``), no callbacks. Returns, per network,
    ``{"train_loss": the summed loss per evaluated epoch (shared), "test_accuracy", "test_loss"}`` with the
    test numbers of the trained network when ``test_data`` is given.
    """
    config = (config or TrainConfig()).replace(**overrides) if overrides else (config or TrainConfig())
    models = list(models)
    if not models or not all(isinstance(m, nn.Module) for m in models):
        raise ValueError("parameter 'models' must be a non-empty list of nn.Module")
    if len({type(m) for m in models}) != 1 or len({tuple((n, tuple(p.shape)) for n, p in m.named_parameters())
                                                   for m in models}) != 1:
        raise ValueError("parameter 'models' must hold networks of one architecture (same parameter names and "
                         "shapes)")
    if any(isinstance(mod, nn.modules.batchnorm._BatchNorm) for m in models for mod in m.modules()):
        raise ValueError("parameter 'models' holds BatchNorm layers, which train_many does not support (their "
                         "running statistics cannot update under vmap); train them one by one with train()")
    if any(hasattr(mod, n + "_mask") for m in models for mod in m.modules() for n in ("weight", "bias")):
        raise ValueError("parameter 'models' holds pruned layers (weight_mask buffers); pass unpruned models and "
                         "their masks in 'masks'")
    if masks is not None and (not isinstance(masks, (list, tuple)) or len(masks) != len(models)):
        raise ValueError(f"parameter 'masks' must be None or a list of {len(models)} mask dicts, one per model")
    stacked = _Stacked(models, masks)
    hist = train(stacked, data, config.replace(eval_every=0), criterion=_sum_of_losses(config.label_smoothing))
    out = []
    with torch.no_grad():
        eff = stacked.effective()
        for k, m in enumerate(models):
            for n, p in m.named_parameters():
                p.copy_(eff[n][k])
            row = {"train_loss": hist["train_loss"]}
            if test_data is not None:
                ev = evaluate(m, test_data, bf16=config.bf16)
                row.update(test_accuracy=ev["accuracy"], test_loss=ev["loss"])
            out.append(row)
    return out
