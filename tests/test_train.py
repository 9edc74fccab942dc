"""Tests for pruning_utils.train: masked training, determinism, resumable
steps, LR schedules, validation, augmentation, callbacks."""

import math

import pytest
import torch
from torch import nn
from torch.nn.utils import prune

from pruning_utils.data import load_dataset
from pruning_utils.masks import apply_masks, effective_weights, masks_from_scores
from pruning_utils.models import build_model, prunable_layers
from pruning_utils.train import (Callback, TrainConfig, _crop_flip, _epoch_plan, evaluate, lr_at,
                                 train, train_many)


SYN = dict(n=256, dim=20, classes=4, separation=3.0, seed=0)


@pytest.fixture(scope="module")
def data():
    return load_dataset("synthetic", **SYN)


@pytest.fixture(scope="module")
def test_data():
    return load_dataset("synthetic", train=False, **SYN)


def mlp(seed=0, hidden=(32, 16)):
    return build_model("mlp", input_shape=(1, 1, 20), hidden=hidden, num_classes=4, seed=seed)


def masked_mlp(seed=0, sparsity=0.7):
    model = mlp(seed)
    g = torch.Generator().manual_seed(123)
    scores = {n: torch.rand(m.weight.shape, generator=g) for n, m in prunable_layers(model).items()}
    masks = masks_from_scores(scores, sparsity)
    apply_masks(model, masks)
    return model, masks


def params_equal(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# ---------------------------------------------------------------------------
# masked weights stay exactly zero


@pytest.mark.parametrize("opt_kw", [
    dict(optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=5e-4),
    dict(optimizer="adam", lr=0.01, weight_decay=5e-4),
])
def test_masked_weights_stay_zero(data, opt_kw):
    model, masks = masked_mlp()
    orig_before = {n: m.weight_orig.detach().clone() for n, m in prunable_layers(model).items()}
    train(model, data, epochs=4, batch_size=32, **opt_kw)
    x = data[0][:8]
    model(x)  # refresh module.weight from weight_orig * weight_mask
    for name, module in prunable_layers(model).items():
        w = module.weight
        assert bool((w[~masks[name]] == 0).all()), name
        assert bool((effective_weights(model)[name][~masks[name]] == 0).all())
        # training did something to the kept weights
        assert not torch.equal(module.weight_orig[masks[name]], orig_before[name][masks[name]])
        assert torch.equal(module.weight_mask.bool(), masks[name])
    out = model(x).detach()
    for module in prunable_layers(model).values():
        prune.remove(module, "weight")
    for name, module in prunable_layers(model).items():
        assert bool((module.weight[~masks[name]] == 0).all()), name
        assert int((module.weight != 0).sum()) == int(masks[name].sum())
    assert torch.equal(model(x), out)


# ---------------------------------------------------------------------------
# determinism


def test_same_seed_bitwise_identical(data, test_data):
    cfg = TrainConfig(epochs=3, batch_size=32, lr=0.05, momentum=0.9, weight_decay=5e-4, seed=7)
    runs = []
    for _ in range(2):
        model, _ = masked_mlp()
        h = train(model, data, cfg, test_data=test_data)
        runs.append((model, h))
    (m1, h1), (m2, h2) = runs
    assert params_equal(m1, m2)
    assert h1 == h2
    assert len(h1["epoch"]) == 3 and h1["step"] == [8, 16, 24]

    m3, _ = masked_mlp()
    h3 = train(m3, data, cfg.replace(seed=8), test_data=test_data)
    assert not params_equal(m1, m3)
    assert h3["train_loss"] != h1["train_loss"]


def test_does_not_touch_global_rng(data):
    torch.manual_seed(0)
    state = torch.get_rng_state()
    train(mlp(), data, epochs=1, batch_size=64)
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize("k", [5, 8, 13])
@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_split_run_equals_uninterrupted(data, k, schedule):
    cfg = TrainConfig(epochs=3, batch_size=32, lr=0.05, momentum=0.9, weight_decay=5e-4, seed=3,
                      schedule=schedule, warmup_epochs=0.5)
    full, _ = masked_mlp()
    train(full, data, cfg)

    part, _ = masked_mlp()

    class Grab(Callback):
        def on_train_start(self, s):
            self.opt = s.optimizer

    grab = Grab()
    h1 = train(part, data, cfg, stop_step=k, callbacks=[grab])
    assert h1["step"][-1] == k
    h2 = train(part, data, cfg, start_step=k, optimizer=grab.opt)
    assert h2["step"][-1] == 24
    assert params_equal(full, part)

    # without the optimizer's momentum state the continuation differs
    other, _ = masked_mlp()
    train(other, data, cfg, stop_step=k)
    train(other, data, cfg, start_step=k)
    assert not params_equal(full, other)


# ---------------------------------------------------------------------------
# learning-rate schedules


def test_lr_at_constant():
    cfg = TrainConfig(epochs=10, lr=0.1)
    assert [lr_at(cfg, s, 10) for s in (0, 57, 99)] == [0.1, 0.1, 0.1]


def test_lr_at_step():
    cfg = TrainConfig(epochs=10, lr=0.1, schedule="step", milestones=(3, 6), gamma=0.1)
    assert lr_at(cfg, 0, 10) == pytest.approx(0.1)
    assert lr_at(cfg, 29, 10) == pytest.approx(0.1)
    assert lr_at(cfg, 30, 10) == pytest.approx(0.01)
    assert lr_at(cfg, 59, 10) == pytest.approx(0.01)
    assert lr_at(cfg, 60, 10) == pytest.approx(0.001)
    assert lr_at(cfg, 99, 10) == pytest.approx(0.001)
    # milestones are epochs, also fractional
    cfg = cfg.replace(milestones=(2.5,))
    assert lr_at(cfg, 24, 10) == pytest.approx(0.1) and lr_at(cfg, 25, 10) == pytest.approx(0.01)


def test_lr_at_cosine():
    cfg = TrainConfig(epochs=10, lr=0.1, schedule="cosine")
    assert lr_at(cfg, 0, 10) == pytest.approx(0.1)
    assert lr_at(cfg, 50, 10) == pytest.approx(0.05)
    assert lr_at(cfg, 25, 10) == pytest.approx(0.05 * (1 + math.cos(math.pi / 4)))
    assert lr_at(cfg, 100, 10) == pytest.approx(0.0, abs=1e-12)
    lrs = [lr_at(cfg, s, 10) for s in range(100)]
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))


def test_lr_at_warmup():
    cfg = TrainConfig(epochs=10, lr=0.1, schedule="cosine", warmup_epochs=2)
    assert lr_at(cfg, 0, 10) == pytest.approx(0.1 / 20)
    assert lr_at(cfg, 9, 10) == pytest.approx(0.05)
    assert lr_at(cfg, 19, 10) == pytest.approx(0.1)
    assert lr_at(cfg, 20, 10) == pytest.approx(0.1)  # cosine starts after warm-up
    assert lr_at(cfg, 60, 10) == pytest.approx(0.05)  # half way through the cosine part
    cfg = TrainConfig(epochs=10, lr=0.2, warmup_epochs=1)
    assert lr_at(cfg, 4, 10) == pytest.approx(0.1) and lr_at(cfg, 10, 10) == pytest.approx(0.2)


def test_training_uses_lr_at(data):
    cfg = TrainConfig(epochs=2, batch_size=32, lr=0.1, schedule="step", milestones=(1,), gamma=0.5,
                      warmup_epochs=0.5)

    class Rec(Callback):
        lrs = []

        def on_step_end(self, s):
            self.lrs.append((s.step, s.lr, s.optimizer.param_groups[0]["lr"]))

    rec = Rec()
    train(mlp(), data, cfg, callbacks=[rec])
    assert [s for s, _, _ in rec.lrs] == list(range(1, 17))
    for step, lr, group_lr in rec.lrs:
        assert lr == group_lr == lr_at(cfg, step - 1, 8)
    assert rec.lrs[-1][1] == pytest.approx(0.05)


# ---------------------------------------------------------------------------
# learning on synthetic data


def test_learns_synthetic(data, test_data):
    model = mlp(seed=1)
    chance = evaluate(model, test_data)["accuracy"]
    h = train(model, data, test_data=test_data, epochs=6, batch_size=32, lr=0.05)
    acc = evaluate(model, test_data)["accuracy"]
    assert acc == h["test_accuracy"][-1]
    assert acc > 0.7, acc  # chance is 0.25
    assert acc > chance + 0.2
    assert h["train_loss"][-1] < h["train_loss"][0]
    assert h["test_loss"][-1] < math.log(4)


def test_evaluate_keeps_mode(test_data):
    model = build_model("mlp", input_shape=(1, 1, 20), hidden=(8,), num_classes=4, batchnorm=True, seed=0)
    model.train()
    ev = evaluate(model, test_data, batch_size=100)
    assert model.training
    assert 0.0 <= ev["accuracy"] <= 1.0 and ev["loss"] > 0
    model.eval()
    with torch.no_grad():
        out = model(test_data[0])
    acc = (out.argmax(1) == test_data[1]).float().mean().item()
    assert ev["accuracy"] == pytest.approx(acc)
    assert ev["loss"] == pytest.approx(nn.functional.cross_entropy(out, test_data[1]).item(), rel=1e-5)


# ---------------------------------------------------------------------------
# validation


@pytest.mark.parametrize("field,value", [
    ("epochs", 0), ("epochs", 1.5), ("batch_size", 0), ("lr", 0.0), ("lr", -1.0), ("lr", float("nan")),
    ("momentum", 1.0), ("optimizer", "rmsprop"), ("schedule", "linear"), ("weight_decay", -1e-4),
    ("gamma", 0.0), ("augment", "mixup"), ("seed", -1), ("label_smoothing", 1.0),
    ("milestones", "3"), ("nesterov", 1), ("warmup_epochs", -1.0),
])
def test_bad_config_values(field, value):
    with pytest.raises(ValueError, match=repr(field)):
        TrainConfig(**{field: value})


def test_bad_train_arguments(data):
    model = mlp()
    with pytest.raises(ValueError, match="batch_size"):
        train(model, data, epochs=1, batch_size=10_000)
    with pytest.raises(ValueError, match="lr"):
        train(model, data, epochs=1, lr=-0.1)
    with pytest.raises(ValueError, match="start_step"):
        train(model, data, epochs=1, batch_size=32, start_step=-1)
    with pytest.raises(ValueError, match="start_step"):
        train(model, data, epochs=1, batch_size=32, start_step=9)
    with pytest.raises(ValueError, match="stop_step"):
        train(model, data, epochs=1, batch_size=32, stop_step=9)
    with pytest.raises(ValueError, match="stop_step"):
        train(model, data, epochs=1, batch_size=32, start_step=4, stop_step=3)
    with pytest.raises(ValueError, match="data"):
        train(model, (data[0], data[1][:10]), epochs=1)
    with pytest.raises(ValueError, match="test_data"):
        train(model, data, epochs=1, test_data=data[0])
    with pytest.raises(ValueError, match="crop_flip"):
        train(model, (data[0].flatten(1), data[1]), epochs=1, augment="crop_flip")


def test_device_mismatch(data):
    model = mlp().to("meta")
    with pytest.raises(ValueError, match="model is on meta"):
        train(model, data, epochs=1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_device_mismatch_cuda(data):
    with pytest.raises(ValueError, match="cuda"):
        train(mlp().cuda(), data, epochs=1)


# ---------------------------------------------------------------------------
# augmentation


def test_crop_flip_shapes_and_semantics():
    x = torch.arange(2 * 3 * 6 * 5, dtype=torch.float32).view(2, 3, 6, 5)
    ident = torch.tensor([[4, 4, 0], [4, 4, 0]])
    assert torch.equal(_crop_flip(x, ident), x)
    assert _crop_flip(x, ident).is_contiguous()
    xcl = x.contiguous(memory_format=torch.channels_last)  # the layout train() uses for conv nets on GPU
    out = _crop_flip(xcl, ident)
    assert torch.equal(out, x) and out.is_contiguous(memory_format=torch.channels_last)
    flip = torch.tensor([[4, 4, 1], [4, 4, 0]])
    out = _crop_flip(x, flip)
    assert torch.equal(out[0], x[0].flip(-1)) and torch.equal(out[1], x[1])
    shift = torch.tensor([[0, 0, 0], [8, 6, 0]])
    out = _crop_flip(x, shift)
    assert out.shape == x.shape
    # (0, 0): the window starts 4 pixels up-left: the image moves down-right, zeros enter
    assert torch.equal(out[0, :, 4:, 4:], x[0, :, :2, :1])
    assert bool((out[0, :, :4, :] == 0).all()) and bool((out[0, :, :, :4] == 0).all())
    # (8, 6): moves up 4 and left 2
    assert torch.equal(out[1, :, :2, :3], x[1, :, 4:, 2:])
    assert bool((out[1, :, 2:, :] == 0).all()) and bool((out[1, :, :, 3:] == 0).all())


def test_crop_flip_deterministic_for_seed():
    cfg = TrainConfig(seed=5)
    x = torch.randn(16, 3, 8, 8)
    p1, a1 = _epoch_plan(cfg, 2, 16, "cpu", True)
    p2, a2 = _epoch_plan(cfg, 2, 16, "cpu", True)
    assert torch.equal(p1, p2) and torch.equal(a1, a2)
    assert a1.shape == (16, 3) and int(a1[:, :2].min()) >= 0 and int(a1[:, :2].max()) <= 8
    assert set(a1[:, 2].tolist()) <= {0, 1}
    out1, out2 = _crop_flip(x, a1), _crop_flip(x, a2)
    assert out1.shape == x.shape and torch.equal(out1, out2)
    p3, a3 = _epoch_plan(cfg, 3, 16, "cpu", True)
    assert not torch.equal(a1, a3)
    p4, a4 = _epoch_plan(cfg.replace(seed=6), 2, 16, "cpu", True)
    assert not torch.equal(a1, a4)


def _tiny_conv(seed=0):
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 3))


def test_train_with_crop_flip():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(64, 3, 8, 8, generator=g), torch.randint(0, 3, (64,), generator=g)
    cfg = TrainConfig(epochs=2, batch_size=16, lr=0.05, augment="crop_flip", seed=1)
    a, b, c = _tiny_conv(), _tiny_conv(), _tiny_conv()
    ha = train(a, (x, y), cfg)
    hb = train(b, (x, y), cfg)
    assert params_equal(a, b) and ha == hb
    train(c, (x, y), cfg.replace(augment="none"))
    assert not params_equal(a, c)


# ---------------------------------------------------------------------------
# callbacks


class Counter(Callback):
    def __init__(self):
        self.calls = {"start": 0, "step": 0, "epoch": 0, "end": 0}
        self.steps, self.epochs = [], []

    def on_train_start(self, s):
        self.calls["start"] += 1
        self.start_step = s.step

    def on_step_end(self, s):
        self.calls["step"] += 1
        self.steps.append(s.step)
        assert s.loss is not None and s.total_steps == 12 and s.steps_per_epoch == 4

    def on_epoch_end(self, s):
        self.calls["epoch"] += 1
        self.epochs.append((s.epoch, s.step))

    def on_train_end(self, s):
        self.calls["end"] += 1


def test_callbacks_counts(data):
    x, y = data[0][:64], data[1][:64]
    cb = Counter()
    train(mlp(), (x, y), epochs=3, batch_size=16, callbacks=[cb])
    assert cb.calls == {"start": 1, "step": 12, "epoch": 3, "end": 1}
    assert cb.steps == list(range(1, 13))
    assert cb.epochs == [(0, 4), (1, 8), (2, 12)]

    cb = Counter()
    train(mlp(), (x, y), epochs=3, batch_size=16, callbacks=[cb], start_step=5)
    assert cb.start_step == 5
    assert cb.calls == {"start": 1, "step": 7, "epoch": 2, "end": 1}
    assert cb.steps == list(range(6, 13))

    cb = Counter()
    h = train(mlp(), (x, y), epochs=3, batch_size=16, callbacks=[cb], stop_step=6)
    assert cb.calls == {"start": 1, "step": 6, "epoch": 1, "end": 1}
    assert h["step"] == [4, 6] and h["epoch"] == [1, 1.5]


def test_history_eval_every(data, test_data):
    x, y = data[0][:64], data[1][:64]
    h = train(mlp(), (x, y), epochs=5, batch_size=16, eval_every=2, test_data=test_data)
    assert h["epoch"] == [2, 4, 5]  # the end is always evaluated
    assert h["step"] == [8, 16, 20]
    assert len(h["test_accuracy"]) == 3 and len(h["train_loss"]) == 3
    h = train(mlp(), (x, y), epochs=3, batch_size=16, eval_every=0, test_data=test_data)
    assert h["epoch"] == [3] and len(h["test_loss"]) == 1


def test_optimizer_choice(data):
    class Grab(Callback):
        def on_train_start(self, s):
            self.opt, self.config = s.optimizer, s.config

    g = Grab()
    train(mlp(), data, epochs=1, batch_size=64, lr=0.01, callbacks=[g])
    assert type(g.opt) is torch.optim.SGD
    assert g.opt.defaults["momentum"] == 0.9 and g.opt.defaults["weight_decay"] == 0.0
    # the config field ``optimizer`` given as a keyword override (it shares its name with the
    # ``optimizer=`` argument that takes a torch optimizer)
    train(mlp(), data, epochs=1, batch_size=64, lr=0.01, optimizer="adam", weight_decay=1e-3, callbacks=[g])
    assert type(g.opt) is torch.optim.Adam and g.config.optimizer == "adam"
    assert g.opt.defaults["weight_decay"] == 1e-3
    with pytest.raises(ValueError, match="'optimizer'"):
        train(mlp(), data, epochs=1, optimizer="rmsprop")
    train(mlp(), data, TrainConfig(epochs=1, batch_size=64, optimizer="adam", lr=0.01), callbacks=[g])
    assert type(g.opt) is torch.optim.Adam


def test_unknown_override_is_a_value_error():
    with pytest.raises(ValueError, match="unknown parameter.*'epoch'.*known parameters"):
        TrainConfig().replace(epoch=3)


# ---------------------------------------------------------------------------
# K networks at once


def _random_masks(model, seed, sparsity=0.6):
    g = torch.Generator().manual_seed(seed)
    return masks_from_scores({n: torch.rand(m.weight.shape, generator=g) for n, m in prunable_layers(model).items()},
                             sparsity)


def test_train_many_equals_separate_runs(data, test_data):
    """K networks (different initialisations and masks) in one stacked pass end where K separate runs end."""
    cfg = TrainConfig(epochs=3, batch_size=32, lr=0.05, momentum=0.9, weight_decay=1e-4, schedule="step",
                      milestones=(2,), seed=5, eval_every=0)
    models = [mlp(seed=s) for s in range(3)]
    masks = [_random_masks(m, 10 + s) for s, m in enumerate(models)]
    separate = []
    for m, mk in zip(models, masks):
        net = mlp(seed=0)
        net.load_state_dict(m.state_dict())
        apply_masks(net, mk)
        train(net, data, cfg)
        separate.append((effective_weights(net), evaluate(net, test_data)))
    rows = train_many(models, data, cfg, masks=masks, test_data=test_data)
    for m, row, (weights, ev) in zip(models, rows, separate):
        for n, w in weights.items():
            assert torch.allclose(dict(m.named_parameters())[n], w, atol=1e-5), n
        assert abs(row["test_accuracy"] - ev["accuracy"]) < 1e-9 and abs(row["test_loss"] - ev["loss"]) < 1e-4
    dense = [mlp(seed=s) for s in (7, 8)]
    ref = mlp(seed=0)
    ref.load_state_dict(dense[1].state_dict())
    train_many(dense, data, cfg)
    train(ref, data, cfg)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(dense[1].parameters(), ref.parameters()))


def test_train_many_refuses_what_it_cannot_stack(data):
    with pytest.raises(ValueError, match="'models'"):
        train_many([], data, epochs=1)
    with pytest.raises(ValueError, match="one architecture"):
        train_many([mlp(), mlp(hidden=(8,))], data, epochs=1)
    bn = build_model("mlp", input_shape=(1, 1, 20), hidden=(8,), num_classes=4, batchnorm=True)
    with pytest.raises(ValueError, match="BatchNorm"):
        train_many([bn, bn], data, epochs=1)
    with pytest.raises(ValueError, match="'masks'"):
        train_many([mlp(), mlp(1)], data, epochs=1, masks=[{}])
    with pytest.raises(ValueError, match="weight_mask"):
        train_many([masked_mlp()[0], masked_mlp(1)[0]], data, epochs=1)
