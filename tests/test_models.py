"""Tests for pruning_utils.models: shapes, parameter counts against the
literature, seeding, Stable-ResNet scaling, validation."""

import math

import pytest
import torch
from torch import nn

from pruning_utils.models import MLP, MODELS, PreResNetCifar, build_model, count_parameters, prunable_layers


MNIST_LIKE = ("mlp", "lenet300100", "lenet5", "mnistnet", "conv2", "conv4", "conv6", "smallconv", "resnet20")
CIFAR = ("conv2", "conv4", "conv6", "vgg11", "vgg16", "resnet20", "resnet32", "resnet56", "resnet110", "preresnet20",
         "preresnet56", "preresnet110")


def n_weights(model):
    return sum(m.weight.numel() for m in prunable_layers(model).values())


@pytest.mark.parametrize("name", MNIST_LIKE)
def test_mnist_like_shapes(name):
    model = build_model(name, input_shape=(1, 28, 28), num_classes=10, seed=0)
    out = model(torch.randn(3, 1, 28, 28))
    assert out.shape == (3, 10)
    assert bool(torch.isfinite(out).all())


@pytest.mark.parametrize("name", CIFAR)
def test_cifar_shapes(name):
    model = build_model(name, input_shape=(3, 32, 32), num_classes=100, seed=0)
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 100)


def test_every_name_covered():
    assert set(MODELS) <= set(MNIST_LIKE) | set(CIFAR)


def test_lenet300100_count():
    model = build_model("lenet300100", input_shape=(1, 28, 28))
    assert count_parameters(model) == 266_610
    assert n_weights(model) == 266_200  # 784*300 + 300*100 + 100*10
    assert list(prunable_layers(model)) == ["0.weight", "2.weight", "4.weight"]
    assert [tuple(m.weight.shape) for m in prunable_layers(model).values()] == [(300, 784), (100, 300), (10, 100)]
    # the prunable names are the model's parameter names
    assert set(prunable_layers(model)) <= set(dict(model.named_parameters()))


def test_lenet5_count():
    # Caffe LeNet: conv 1->20 5x5, conv 20->50 5x5, fc 800->500, fc 500->10
    expected = (20 * 25 + 20) + (50 * 20 * 25 + 50) + (800 * 500 + 500) + (500 * 10 + 10)
    assert expected == 431_080
    assert count_parameters(build_model("lenet5")) == expected
    assert count_parameters(build_model("mnistnet")) == expected


def test_conv_counts():
    # Frankle & Carbin (2019), Table 1: Conv-2 4.3M, Conv-4 2.4M weights on CIFAR-10
    def conv_w(plan):
        c, total = 3, 0
        for w in plan:
            total += c * w * 9
            c = w
        return total

    head = lambda flat: flat * 256 + 256 * 256 + 256 * 10  # noqa: E731
    expected = {
        "conv2": conv_w([64, 64]) + head(64 * 16 * 16),
        "conv4": conv_w([64, 64, 128, 128]) + head(128 * 8 * 8),
        "conv6": conv_w([64, 64, 128, 128, 256, 256]) + head(256 * 4 * 4),
    }
    assert expected["conv2"] == 4_300_992 and expected["conv4"] == 2_425_024
    for name, w in expected.items():
        model = build_model(name, input_shape=(3, 32, 32))
        assert n_weights(model) == w, name
    assert round(expected["conv2"] / 1e6, 1) == 4.3 and round(expected["conv4"] / 1e6, 1) == 2.4


def _resnet_count(depth, projection=True):
    n = (depth - 2) // 6
    total = 3 * 16 * 9 + 2 * 16  # stem conv + BN
    c = 16
    for stage, w in enumerate((16, 32, 64)):
        for i in range(n):
            total += c * w * 9 + w * w * 9 + 2 * 2 * w  # two convs, two BNs
            if c != w:
                total += (c * w + 2 * w) if projection else 0  # 1x1 shortcut + BN
            c = w
    return total + 64 * 10 + 10


def test_resnet_counts():
    assert _resnet_count(20, projection=False) == 269_722  # He et al. (2016): 0.27M
    for depth, paper, digits in ((20, 0.27, 2), (32, 0.46, 2), (56, 0.85, 2), (110, 1.7, 1)):   # 110: "1.7M"
        model = build_model(f"resnet{depth}", input_shape=(3, 32, 32))
        assert count_parameters(model) == _resnet_count(depth), depth
        assert round(count_parameters(model) / 1e6, digits) == pytest.approx(paper, abs=0.011)
    assert count_parameters(build_model("resnet20", input_shape=(3, 32, 32))) == 272_474


def test_vgg_counts():
    def vgg(plan):
        c, total = 3, 0
        for v in plan:
            if v != "M":
                total += c * v * 9 + 2 * v  # conv without bias + BN
                c = v
        return total + c * 10 + 10

    p16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
    p11 = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")
    assert vgg(p16) == 14_724_042  # "about 14.7M" for CIFAR VGG-16
    assert count_parameters(build_model("vgg16", input_shape=(3, 32, 32))) == vgg(p16)
    assert count_parameters(build_model("vgg11", input_shape=(3, 32, 32))) == vgg(p11) == 9_228_362


def test_mlp_options():
    model = build_model("mlp", input_shape=(1, 1, 20), hidden=(7, 5, 3), num_classes=4,
                        activation="tanh", bias=False)
    assert isinstance(model, MLP)
    assert count_parameters(model) == 20 * 7 + 7 * 5 + 5 * 3 + 3 * 4
    assert sum(isinstance(m, nn.Tanh) for m in model) == 3
    assert model(torch.randn(2, 1, 1, 20)).shape == (2, 4)
    bn = build_model("mlp", input_shape=(1, 1, 20), hidden=(8,), num_classes=3, batchnorm=True)
    assert any(isinstance(m, nn.BatchNorm1d) for m in bn)
    assert build_model("mlp", input_shape=(1, 1, 20), hidden=(), num_classes=3)(torch.randn(2, 20)).shape == (2, 3)


def test_seed_determinism_and_global_rng():
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = build_model("resnet20", input_shape=(3, 32, 32), seed=7)
    assert torch.equal(torch.get_rng_state(), state)  # untouched
    b = build_model("resnet20", input_shape=(3, 32, 32), seed=7)
    c = build_model("resnet20", input_shape=(3, 32, 32), seed=8)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["conv.weight"], sc["conv.weight"])
    # without a seed the global RNG is used (and advanced)
    torch.manual_seed(7)
    d = build_model("resnet20", input_shape=(3, 32, 32))
    assert all(torch.equal(sa[k], d.state_dict()[k]) for k in sa)
    assert not torch.equal(torch.get_rng_state(), state)


def test_stable_resnet_branch_scale():
    for depth in (20, 56):
        n_blocks = 3 * (depth - 2) // 6
        model = build_model(f"resnet{depth}", input_shape=(3, 32, 32), stable=True, seed=0)
        scales = {b.branch_scale for b in model.blocks}
        assert len(model.blocks) == n_blocks
        assert len(scales) == 1 and scales.pop() == pytest.approx(1 / math.sqrt(n_blocks))
        assert {b.branch_scale for b in build_model(f"resnet{depth}", input_shape=(3, 32, 32)).blocks} == {1.0}
    # the block computes relu(shortcut(x) + branch(x) / sqrt(L))
    model = build_model("resnet20", input_shape=(3, 32, 32), stable=True, seed=0).eval()
    plain = build_model("resnet20", input_shape=(3, 32, 32), seed=0).eval()
    assert all(torch.equal(v, plain.state_dict()[k]) for k, v in model.state_dict().items())
    with torch.no_grad():
        for block in (model.blocks[0], model.blocks[3]):  # identity and projection shortcuts
            x_in = torch.randn(2, block.conv1.in_channels, 8, 8)
            branch = block.bn2(block.conv2(torch.relu(block.bn1(block.conv1(x_in)))))
            expected = torch.relu(block.shortcut(x_in) + branch / 3.0)
            torch.testing.assert_close(block(x_in), expected)
        x = torch.randn(2, 3, 32, 32)
        assert not torch.allclose(model(x), plain(x))


@pytest.mark.parametrize("name", ["resnet21", "foo", "", None, 3, "vgg19"])
def test_bad_names(name):
    with pytest.raises(ValueError, match="'name'"):
        build_model(name)


@pytest.mark.parametrize("shape", [(28, 28), (1, 0, 28), (1, 28, 28.0), (1, 28, 28, 1), (-1, 28, 28)])
def test_bad_input_shapes(shape):
    with pytest.raises(ValueError, match="'input_shape'"):
        build_model("mlp", input_shape=shape)


def test_other_bad_arguments():
    with pytest.raises(ValueError, match="'num_classes'"):
        build_model("mlp", num_classes=1)
    with pytest.raises(ValueError, match="'num_classes'"):
        build_model("mlp", num_classes=True)
    with pytest.raises(ValueError, match="'activation'"):
        build_model("mlp", activation="swish")
    with pytest.raises(ValueError, match="input_size"):
        build_model("lenet5", input_shape=(1, 12, 12))


def test_aliases():
    assert count_parameters(build_model("LeNet-300-100")) == 266_610
    assert count_parameters(build_model("resnet-20", input_shape=(3, 32, 32))) == 272_474


def test_preresnet_structure():
    net = build_model("preresnet20", input_shape=(3, 32, 32), seed=0)
    assert len(net.blocks) == 9 and len(net.channel_groups()) == 2 * 9 + 1
    # pre-activation: each block starts with BatchNorm and ends with a conv (no BN after the sum)
    blk = net.blocks[3]
    assert isinstance(blk.bn1, nn.BatchNorm2d) and blk.conv1.stride == (2, 2)
    assert isinstance(net.blocks[0].shortcut, nn.Identity) and isinstance(blk.shortcut, nn.Conv2d)
    # the same convs as ResNet-20 (3x3 stem, 18 3x3 convs, two 1x1 projections) plus the fc
    n_conv = sum(isinstance(m, nn.Conv2d) for m in net.modules())
    assert n_conv == 1 + 18 + 2
    with pytest.raises(ValueError, match="'depth'"):
        PreResNetCifar(21)


def test_conv_nets_with_batchnorm_and_width():
    net = build_model("conv2", (1, 8, 8), 10, seed=0, width=16, head=(32,), batchnorm=True)
    convs = [m for m in net.features if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [16, 16] and all(c.bias is None for c in convs)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in net.features) == 2
    assert net(torch.randn(3, 1, 8, 8)).shape == (3, 10)
    plain = build_model("conv2", (3, 32, 32), 10, seed=0)
    assert [m.out_channels for m in plain.features if isinstance(m, nn.Conv2d)] == [64, 64]
    assert not any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
    with pytest.raises(ValueError, match="'width'"):
        build_model("conv4", (1, 8, 8), 10, width=0)


def test_smallconv_counts_and_channel_chain():
    from pruning_utils.spline import channel_groups
    m = build_model("smallconv", (1, 28, 28), 10, seed=0, width=8)
    shapes = {n: tuple(l.weight.shape) for n, l in prunable_layers(m).items()}
    assert shapes == {"features.0.weight": (8, 1, 3, 3), "features.3.weight": (16, 8, 3, 3),
                      "classifier.0.weight": (10, 16 * 7 * 7)}
    assert [g[0] for g in channel_groups(m)] == ["features.1", "features.4"]
    assert build_model("smallconv", (1, 8, 8), 10)(torch.randn(2, 1, 8, 8)).shape == (2, 10)
    with pytest.raises(ValueError, match="'width'"):
        build_model("smallconv", (1, 28, 28), 10, width=0)
