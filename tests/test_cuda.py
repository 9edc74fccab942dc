"""The CUDA paths, on a GPU (skipped without one): bf16 autocast and channels-last training, crop and flip on the
device, snapshot recording and DMD on the device, torch.compile, K networks at once, smoke runs with the CUDA
peak. Run by ``benchmarks/gpu_check.sh`` on a lent GPU machine; everything here also has a CPU test elsewhere."""

from __future__ import annotations

import pytest
import torch

from pruning_utils.koopman import SnapshotRecorder, dmd_decomposition, kmp_scores
from pruning_utils.masks import apply_masks, effective_weights, masks_from_scores
from pruning_utils.models import build_model, prunable_layers
from pruning_utils.train import TrainConfig, _crop_flip, _epoch_plan, evaluate, train, train_many

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def _cifar_like(n=512, seed=0, device="cuda"):
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(n, 3, 32, 32, generator=g), torch.randint(0, 10, (n,), generator=g)
    return x.to(device), y.to(device)


def test_conv_training_on_cuda_is_bf16_channels_last_and_deterministic():
    data = _cifar_like()
    cfg = TrainConfig(epochs=2, batch_size=64, lr=0.05, augment="crop_flip", eval_every=1, seed=3)
    runs = []
    for _ in range(2):
        net = build_model("resnet20", (3, 32, 32), 10, seed=1).cuda()
        hist = train(net, data, cfg, test_data=data)
        assert net.conv.weight.is_contiguous(memory_format=torch.channels_last)
        runs.append((hist["train_loss"], [p.detach().clone() for p in net.parameters()]))
    assert all(torch.isfinite(torch.tensor(runs[0][0])))
    # same seed, same device: the same losses (cuDNN's bf16 kernels may pick other algorithms: allow rounding)
    assert torch.allclose(torch.tensor(runs[0][0]), torch.tensor(runs[1][0]), rtol=1e-2)


def test_crop_flip_on_the_device_matches_the_cpu():
    x, _ = _cifar_like(64)
    plan_perm, aug = _epoch_plan(TrainConfig(augment="crop_flip", seed=2), 0, 64, torch.device("cuda"), True)
    assert aug.is_cuda
    out = _crop_flip(x, aug)
    assert out.is_cuda and torch.equal(out.cpu(), _crop_flip(x.cpu(), aug.cpu()))


def test_snapshot_recording_and_dmd_stay_on_the_device_and_match_the_cpu():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(256, 1, 28, 28, generator=g), torch.randint(0, 10, (256,), generator=g)
    net = build_model("lenet300100", (1, 28, 28), 10, seed=0).cuda()
    rec = SnapshotRecorder(net, 0, 8)
    train(net, (x.cuda(), y.cuda()), epochs=1, batch_size=32, callbacks=[rec])
    assert rec.full and rec.buffer.is_cuda
    S = rec.snapshots
    gpu = kmp_scores(S)
    cpu = kmp_scores(S.cpu())
    assert gpu.is_cuda and torch.allclose(gpu.cpu(), cpu, rtol=1e-3, atol=1e-5)
    dec = dmd_decomposition(S.double())
    assert dec.eigvals.is_cuda


def test_compiled_training_matches_eager_on_cuda():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(512, 1, 28, 28, generator=g).cuda(), torch.randint(0, 10, (512,), generator=g).cuda()
    cfg = TrainConfig(epochs=1, batch_size=64, lr=0.05, bf16=False, seed=0)
    eager = build_model("lenet300100", (1, 28, 28), 10, seed=0).cuda()
    comp = build_model("lenet300100", (1, 28, 28), 10, seed=0).cuda()
    train(eager, (x, y), cfg)
    train(comp, (x, y), cfg.replace(compile=True))
    for a, b in zip(eager.parameters(), comp.parameters()):
        assert torch.allclose(a, b, atol=1e-4)


def test_train_many_on_cuda_equals_separate_runs():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(1024, 1, 28, 28, generator=g).cuda(), torch.randint(0, 10, (1024,), generator=g).cuda()
    cfg = TrainConfig(epochs=2, batch_size=128, lr=0.05, momentum=0.9, bf16=False, seed=4)
    nets = [build_model("lenet300100", (1, 28, 28), 10, seed=s).cuda() for s in range(4)]
    masks = []
    for s, net in enumerate(nets):
        gs = torch.Generator().manual_seed(10 + s)
        masks.append({n: v.cuda() for n, v in masks_from_scores(
            {n: torch.rand(m.weight.shape, generator=gs) for n, m in prunable_layers(net).items()}, 0.7).items()})
    refs = []
    for net, mk in zip(nets, masks):
        ref = build_model("lenet300100", (1, 28, 28), 10).cuda()
        ref.load_state_dict(net.state_dict())
        apply_masks(ref, mk)
        train(ref, (x, y), cfg)
        refs.append(effective_weights(ref))
    train_many(nets, (x, y), cfg, masks=masks)
    for net, ref in zip(nets, refs):
        params = dict(net.named_parameters())
        for n, w in ref.items():
            assert torch.allclose(params[n], w, atol=1e-4), n
    assert evaluate(nets[0], (x, y))["accuracy"] >= 0


def test_smoke_run_on_cuda_reports_the_cuda_peak():
    from pruning_utils.smoke import smoke
    r = smoke("koopman", "paper_resnet20", device="cuda")
    assert r["device"].startswith("cuda") and r["cuda_peak_bytes"] > 0
    assert r["projection"]["hours"] is not None
