"""pruning_utils.train against a standard PyTorch training loop, K networks at once, and snapshot recording.

All in one run, on one device, the same model, data shape, batch size and
number of steps for both sides of each ratio:

  (a) ResNet-20 on CIFAR-shaped data (50,000 x 3 x 32 x 32, random crop with
      4-pixel padding and horizontal flip) and LeNet-300-100 on MNIST-shaped
      data (60,000 x 784), batch 128, SGD: ``pruning_utils.train`` (the whole
      dataset on the device, batches as index slices, crop and flip on the
      device, bf16 autocast and channels-last on a GPU; ``--compile`` adds
      torch.compile) against the loop most code uses: a ``DataLoader`` over
      the data held on the host, torchvision's per-image transforms in
      ``--workers`` worker processes, fp32, each batch moved with
      ``.to(device)``. Time of one epoch after a warm-up epoch (each side's
      first epoch pays allocation, autotuning and compilation), best of
      ``--repeats``.
  (b) K = ``--k`` LeNet-300-100 with different initialisations and masks
      trained at once (``pruning_utils.train.train_many``: stacked weights,
      one ``vmap``-ed pass per batch) against one network with ``train``,
      and the largest difference of the K networks' weights from K separate
      ``train`` runs.
  (c) snapshot recording for Koopman analysis (a ``SnapshotRecorder`` that
      records every step into its preallocated buffer) against the same
      epoch without it, ResNet-20 and LeNet-300-100.

The data are random tensors of the real shapes: speed does not depend on the
pixels. Prints every time and ratio; ``--out`` writes them as JSON with the
run's provenance.

    python benchmarks/bench_train.py [--device cuda] [--repeats 2] [--k 8] [--compile] [--out FILE]
    python benchmarks/bench_train.py --quick          # a tiny setting, to try the script on a CPU
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch
import torch.nn.functional as F

from pruning_utils.koopman import SnapshotRecorder
from pruning_utils.masks import apply_masks, effective_weights, masks_from_scores
from pruning_utils.models import build_model, prunable_layers
from pruning_utils.provenance import provenance
from pruning_utils.train import TrainConfig, resolve_device, train, train_many


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def ours_epoch(model, data, cfg, device, repeats, callbacks_fn=None):
    """Seconds of one epoch of ``train`` (after one warm-up epoch), best of ``repeats``."""
    times = []
    for r in range(repeats + 1):
        cbs = callbacks_fn() if callbacks_fn else ()
        _sync(device)
        t = time.perf_counter()
        train(model, data, cfg.replace(epochs=1, seed=r), callbacks=cbs)
        _sync(device)
        times.append(time.perf_counter() - t)
    return min(times[1:])


class _Images(torch.utils.data.Dataset):
    """A host tensor dataset with per-image transforms, as torchvision's CIFAR10 applies them."""

    def __init__(self, x, y, transform=None):
        self.x, self.y, self.transform = x, y, transform

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        img = self.x[i]
        return (self.transform(img) if self.transform is not None else img), self.y[i]


def standard_epoch(model, x, y, batch, device, repeats, augment, workers):
    """Seconds of one epoch of the standard loop (after one warm-up epoch), best of ``repeats``."""
    import torchvision.transforms as T

    transform = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip()]) if augment else None
    loader = torch.utils.data.DataLoader(_Images(x, y, transform), batch_size=batch, shuffle=True,
                                         drop_last=True, num_workers=workers,
                                         persistent_workers=workers > 0)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    times = []
    for _ in range(repeats + 1):
        _sync(device)
        t = time.perf_counter()
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        _sync(device)
        times.append(time.perf_counter() - t)
    return min(times[1:])


def _line(label, value, unit="s"):
    print(f"{label:72s} {value:10.4f} {unit}", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--workers", type=int, default=4, help="DataLoader workers of the standard loop")
    ap.add_argument("--compile", action="store_true", help="also time train() with torch.compile")
    ap.add_argument("--quick", action="store_true", help="tiny data (2,048 images), to try the script on a CPU")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    device = resolve_device(a.device)
    t0 = time.perf_counter()
    n_cifar, n_mnist = (2048, 2048) if a.quick else (50_000, 60_000)
    g = torch.Generator().manual_seed(0)
    out = {"device": str(device), "n_cifar": n_cifar, "n_mnist": n_mnist, "batch": 128}
    if device.type == "cuda":
        out["gpu"] = torch.cuda.get_device_name(device)
    print(f"device {device}{' (' + out['gpu'] + ')' if 'gpu' in out else ''}; torch {torch.__version__}; "
          f"CIFAR-shaped {n_cifar}, MNIST-shaped {n_mnist}, batch 128", flush=True)

    # (a) ResNet-20, CIFAR-shaped, crop + flip
    xc, yc = torch.randn(n_cifar, 3, 32, 32, generator=g), torch.randint(0, 10, (n_cifar,), generator=g)
    cfg_c = TrainConfig(batch_size=128, lr=0.05, momentum=0.9, augment="crop_flip", eval_every=0)
    data_c = (xc.to(device), yc.to(device))
    res = build_model("resnet20", (3, 32, 32), 10, seed=0).to(device)
    out["resnet20_ours_s"] = ours_epoch(res, data_c, cfg_c, device, a.repeats)
    _line("ResNet-20 epoch, pruning_utils.train", out["resnet20_ours_s"])
    if a.compile:
        resc = build_model("resnet20", (3, 32, 32), 10, seed=0).to(device)
        out["resnet20_ours_compiled_s"] = ours_epoch(resc, data_c, cfg_c.replace(compile=True), device, a.repeats)
        _line("ResNet-20 epoch, pruning_utils.train with torch.compile", out["resnet20_ours_compiled_s"])
    res2 = build_model("resnet20", (3, 32, 32), 10, seed=0).to(device)
    out["resnet20_standard_s"] = standard_epoch(res2, xc, yc, 128, device, a.repeats, True, a.workers)
    _line(f"ResNet-20 epoch, DataLoader + torchvision transforms ({a.workers} workers), fp32",
          out["resnet20_standard_s"])
    best = min(out["resnet20_ours_s"], out.get("resnet20_ours_compiled_s", float("inf")))
    out["resnet20_ratio"] = out["resnet20_standard_s"] / best
    _line("ResNet-20: standard / ours (best of ours)", out["resnet20_ratio"], "x")

    # (a) LeNet-300-100, MNIST-shaped
    xm, ym = torch.randn(n_mnist, 1, 28, 28, generator=g), torch.randint(0, 10, (n_mnist,), generator=g)
    data_m = (xm.to(device), ym.to(device))
    cfg_m = TrainConfig(batch_size=128, lr=0.05, momentum=0.9, eval_every=0)
    lenet = build_model("lenet300100", (1, 28, 28), 10, seed=0).to(device)
    out["lenet_ours_s"] = ours_epoch(lenet, data_m, cfg_m, device, a.repeats)
    _line("LeNet-300-100 epoch, pruning_utils.train", out["lenet_ours_s"])
    lenet2 = build_model("lenet300100", (1, 28, 28), 10, seed=0).to(device)
    out["lenet_standard_s"] = standard_epoch(lenet2, xm, ym, 128, device, a.repeats, False, 0)
    _line("LeNet-300-100 epoch, DataLoader over a TensorDataset (no workers), fp32", out["lenet_standard_s"])
    out["lenet_ratio"] = out["lenet_standard_s"] / out["lenet_ours_s"]
    _line("LeNet-300-100: standard / ours", out["lenet_ratio"], "x")

    # (b) K at once
    k = a.k
    nets = [build_model("lenet300100", (1, 28, 28), 10, seed=s).to(device) for s in range(k)]
    masks = []
    for s, net in enumerate(nets):
        gs = torch.Generator().manual_seed(100 + s)
        masks.append({n: v.to(device) for n, v in masks_from_scores(
            {n: torch.rand(m.weight.shape, generator=gs) for n, m in prunable_layers(net).items()}, 0.8).items()})
    starts = [{n: p.detach().clone() for n, p in net.named_parameters()} for net in nets]
    times = []
    for r in range(a.repeats + 1):
        for net, st in zip(nets, starts):
            with torch.no_grad():
                for n, p in net.named_parameters():
                    p.copy_(st[n])
        _sync(device)
        t = time.perf_counter()
        train_many(nets, data_m, cfg_m.replace(epochs=1, seed=0), masks=masks)
        _sync(device)
        times.append(time.perf_counter() - t)
    out["k"] = k
    out["k_at_once_s"] = min(times[1:])
    one = build_model("lenet300100", (1, 28, 28), 10, seed=0).to(device)
    apply_masks(one, masks[0])
    out["k_one_s"] = ours_epoch(one, data_m, cfg_m, device, a.repeats)
    out["k_ratio"] = out["k_at_once_s"] / out["k_one_s"]
    _line(f"K = {k} LeNet-300-100 at once (train_many), one epoch", out["k_at_once_s"])
    _line("one LeNet-300-100, masked (train), one epoch", out["k_one_s"])
    _line(f"K = {k} at once / one", out["k_ratio"], "x")
    diff = 0.0                     # agreement: the last repeat's K networks against K separate runs from the start
    for net, st, mk in zip(nets, starts, masks):
        ref = build_model("lenet300100", (1, 28, 28), 10).to(device)
        with torch.no_grad():
            for n, p in ref.named_parameters():
                p.copy_(st[n])
        apply_masks(ref, mk)
        train(ref, data_m, cfg_m.replace(epochs=1, seed=0))       # the same data order as train_many's
        eff = effective_weights(ref)
        params = {n: p.detach() for n, p in net.named_parameters()}
        diff = max(diff, max(float((params[n] - w.detach()).abs().max()) for n, w in eff.items()))
    out["k_max_abs_difference"] = diff
    _line(f"K = {k} at once against {k} separate runs: largest weight difference", diff, "")

    # (c) snapshot recording, every step of an epoch
    for name, net_name, data, cfg, shape in (("resnet20", "resnet20", data_c, cfg_c, (3, 32, 32)),
                                             ("lenet", "lenet300100", data_m, cfg_m, (1, 28, 28))):
        net = build_model(net_name, shape, 10, seed=0).to(device)
        steps = data[0].shape[0] // 128
        plain = ours_epoch(net, data, cfg, device, a.repeats)
        rec = ours_epoch(net, data, cfg, device, a.repeats,
                         callbacks_fn=lambda net=net, steps=steps: [SnapshotRecorder(net, 0, steps)])
        out[f"snapshots_{name}_overhead"] = rec / plain - 1
        _line(f"{name}: epoch with a snapshot every step / without, minus 1", out[f"snapshots_{name}_overhead"], "")
    out["wall_s"] = time.perf_counter() - t0
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"provenance": provenance(vars(a), str(device), out["wall_s"]), "results": out}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
