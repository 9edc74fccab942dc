"""Where a small network's training step spends its time on a GPU: pruning_utils.train against bare loops.

ResNet-20 (batch 128, CIFAR-shaped, crop and flip off: the step alone) and
LeNet-300-100 (batch 128), milliseconds per step, median over ``--steps``
steps after ``--warmup``, each variant in one run:

  train            pruning_utils.train as the chapters call it (bf16 autocast and channels-last on a GPU)
  train_fp32       the same with bf16=False
  bare             a minimal loop over the same device-resident batches: forward, loss, backward, SGD step
  bare_fused       the same with SGD(fused=True)
  bare_compiled    torch.compile(model) (default mode), fused SGD
  bare_graphs      torch.compile(model, mode="reduce-overhead") (CUDA graphs), fused SGD

and a torch.profiler table (top operators by self CPU time) of ``train`` on ResNet-20. The gap between
``train`` and ``bare`` is the loop's own overhead; between ``bare`` and ``bare_graphs`` the kernel launches'.

    python benchmarks/explore_step.py [--device cuda] [--steps 100] [--warmup 20] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from pruning_utils.models import build_model
from pruning_utils.train import TrainConfig, resolve_device, train


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_train(net, data, cfg, device, steps, warmup):
    """ms per step of ``train`` (whole calls of ``steps`` steps, after a warm-up call; per step)."""
    n = data[0].shape[0]
    cfg = cfg.replace(batch_size=128, epochs=max(1, (steps * 128 + n - 1) // n), eval_every=0)
    stop = steps
    train(net, data, cfg, stop_step=min(warmup, stop))
    _sync(device)
    t = time.perf_counter()
    train(net, data, cfg, stop_step=stop)
    _sync(device)
    return 1000 * (time.perf_counter() - t) / stop


def time_bare(net, data, device, steps, warmup, fused=False, compile_mode=None):
    x, y = data
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, fused=fused or None)
    fwd = net if compile_mode is None else torch.compile(net, mode=None if compile_mode == "default" else compile_mode)
    net.train()
    times = []
    for i in range(warmup + steps):
        xb, yb = x[(i * 128) % (len(x) - 128):][:128], y[(i * 128) % (len(x) - 128):][:128]
        _sync(device)
        t = time.perf_counter()
        loss = F.cross_entropy(fwd(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        _sync(device)
        if i >= warmup:
            times.append(1000 * (time.perf_counter() - t))
    return statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--skip-compile", action="store_true")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    device = resolve_device(a.device)
    g = torch.Generator().manual_seed(0)
    out = {"device": str(device), "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
           "torch": torch.__version__, "ms_per_step": {}}
    cases = {"resnet20": ((3, 32, 32), 8192), "lenet300100": ((1, 28, 28), 8192)}
    for name, (shape, n) in cases.items():
        data = (torch.randn(n, *shape, generator=g).to(device), torch.randint(0, 10, (n,), generator=g).to(device))
        if device.type == "cuda" and name == "resnet20":
            data = (data[0].contiguous(memory_format=torch.channels_last), data[1])
        row = {}

        def fresh():
            net = build_model(name, shape, 10, seed=0).to(device)
            return net.to(memory_format=torch.channels_last) if device.type == "cuda" and name == "resnet20" else net

        row["train"] = time_train(fresh(), data, TrainConfig(lr=0.05), device, a.steps, a.warmup)
        row["train_fp32"] = time_train(fresh(), data, TrainConfig(lr=0.05, bf16=False), device, a.steps, a.warmup)
        row["bare"] = time_bare(fresh(), data, device, a.steps, a.warmup)
        if device.type == "cuda":
            row["bare_fused"] = time_bare(fresh(), data, device, a.steps, a.warmup, fused=True)
            if not a.skip_compile:
                row["bare_compiled"] = time_bare(fresh(), data, device, a.steps, a.warmup, True, "default")
                row["bare_graphs"] = time_bare(fresh(), data, device, a.steps, a.warmup, True, "reduce-overhead")
        out["ms_per_step"][name] = row
        print(name, " ".join(f"{k} {v:.3f} ms" for k, v in row.items()), flush=True)
    # where train() spends its CPU time on ResNet-20
    shape, n = cases["resnet20"]
    data = (torch.randn(n, *shape, generator=g).to(device), torch.randint(0, 10, (n,), generator=g).to(device))
    net = build_model("resnet20", shape, 10, seed=0).to(device)
    cfg = TrainConfig(lr=0.05, batch_size=128, epochs=1, eval_every=0)
    train(net, data, cfg, stop_step=10)
    from torch.profiler import ProfilerActivity, profile
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=acts) as prof:
        train(net, data, cfg, stop_step=30)
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15)
    print(table)
    out["profile_top15"] = table
    if a.out:
        with open(a.out, "w") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
