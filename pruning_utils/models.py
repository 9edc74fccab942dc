"""Models in the forms the pruning literature uses.

``build_model(name, **kw)`` builds one; ``MODELS`` lists the names. Shapes and
layer names follow the papers: LeNet-300-100 (LeCun et al. 1998; Frankle &
Carbin 2019), the Caffe LeNet-5 variant that Redman et al. call MnistNet
(conv 20, conv 50, fc 500, fc 10), the Conv-2/4/6 nets of Frankle & Carbin, a small
two-convolution BatchNorm net for CPU budgets (``smallconv``),
VGG-11/16 and ResNet-20/32/56/110 in their CIFAR forms (He et al. 2016; 1x1
projection shortcuts as in open_lth), with an option for the Stable-ResNet
branch scaling of Hayou et al. (each residual branch times 1/sqrt(L)).

Prunable parameters are the weights of ``nn.Linear`` and ``nn.Conv2d``
layers; see :func:`prunable_layers`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["build_model", "check_fits", "MODELS", "MLP", "prunable_layers", "count_parameters"]

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "sigmoid": nn.Sigmoid,
    "linear": nn.Identity,
}


def _activation(name: str) -> nn.Module:
    if name not in _ACTIVATIONS:
        raise ValueError(f"parameter 'activation' = {name!r} is not allowed; "
                         f"expected one of {', '.join(_ACTIVATIONS)}")
    return _ACTIVATIONS[name]()


class MLP(nn.Sequential):
    """A fully connected network; the input is flattened first.

    Layers are numbered as in ``nn.Sequential``: for hidden widths (300, 100)
    the linear layers are ``0``, ``2`` and ``4`` (``"0.weight"``, ...).
    """

    def __init__(self, input_dim: int, hidden=(300, 100), num_classes: int = 10,
                 activation: str = "relu", bias: bool = True, batchnorm: bool = False):
        layers = []
        d = input_dim
        for width in hidden:
            layers.append(nn.Linear(d, width, bias=bias))
            if batchnorm:
                layers.append(nn.BatchNorm1d(width))
            layers.append(_activation(activation))
            d = width
        layers.append(nn.Linear(d, num_classes, bias=bias))
        super().__init__(*layers)
        self.input_dim = input_dim

    def forward(self, x):
        return super().forward(x.flatten(1))


class ConvNet(nn.Module):
    """Conv blocks (3x3 same-padding convs, max-pool after each block) then an MLP head.

    ``Conv-2/4/6`` of Frankle & Carbin: blocks of (64, 64), (128, 128), (256, 256),
    head 256, 256, classes. ``batchnorm=True`` puts a BatchNorm after every
    conv (conv bias dropped). ``build_model("conv2", ..., width=w)`` scales the
    blocks' widths by ``w / 64``, ``head=(...)`` sets the head.
    """

    def __init__(self, blocks, head=(256, 256), in_channels=3, input_size=32, num_classes=10,
                 batchnorm: bool = False):
        super().__init__()
        layers = []
        c, s = in_channels, input_size
        for block in blocks:
            for width in block:
                if batchnorm:
                    layers += [nn.Conv2d(c, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
                else:
                    layers += [nn.Conv2d(c, width, 3, padding=1), nn.ReLU()]
                c = width
            layers.append(nn.MaxPool2d(2))
            s //= 2
        self.features = nn.Sequential(*layers)
        self.classifier = MLP(c * s * s, head, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x))


class SmallConvNet(nn.Module):
    """A two-convolution BatchNorm net small enough to train in about a second on a 2-core CPU (chapter 06's
    conv net on 28x28 images): conv 3x3 ``width`` channels, stride 2, BatchNorm, ReLU; conv 3x3 ``2 * width``,
    BatchNorm, ReLU, max-pool 2; a linear head. The stride-2 first convolution stands in for a pooled one at a
    quarter of the cost. No conv bias (BatchNorm follows)."""

    def __init__(self, in_channels=1, input_size=28, num_classes=10, width: int = 8):
        super().__init__()
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ValueError(f"parameter 'width' = {width!r} is not allowed; expected a positive integer")
        s = (input_size + 1) // 2 // 2
        if s < 1:
            raise ValueError(f"parameter 'input_shape' is not allowed; smallconv needs images of at least 4x4 "
                             f"pixels, got {input_size}")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, padding=1, bias=False), nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.MaxPool2d(2))
        self.classifier = MLP(2 * width * s * s, (), num_classes)

    def forward(self, x):
        """Logits of the batch ``x`` of shape ``(N, C, H, W)``."""
        return self.classifier(self.features(x))


class LeNet5(nn.Module):
    """Caffe's LeNet-5 variant ("MnistNet" in Redman et al.): conv5x5-20, pool,
    conv5x5-50, pool, fc 500, fc classes."""

    def __init__(self, in_channels=1, input_size=28, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 20, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(20, 50, 5), nn.ReLU(), nn.MaxPool2d(2))
        s = ((input_size - 4) // 2 - 4) // 2
        if s < 1:
            raise ValueError(f"parameter 'input_size' = {input_size} is too small for LeNet-5; expected >= 16")
        self.classifier = MLP(50 * s * s, (500,), num_classes)

    def forward(self, x):
        return self.classifier(self.features(x))


_VGG = {
    "vgg11": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "vgg16": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
              512, 512, 512, "M"),
}


class VGG(nn.Module):
    """VGG for 32x32 inputs: 3x3 conv + BN + ReLU, max-pools, one linear classifier."""

    def __init__(self, plan, in_channels=3, num_classes=10):
        super().__init__()
        layers = []
        c = in_channels
        for v in plan:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(c, v, 3, padding=1, bias=False), nn.BatchNorm2d(v), nn.ReLU()]
                c = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x):
        x = self.features(x)
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride, branch_scale=1.0):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                          nn.BatchNorm2d(c_out))
        self.branch_scale = branch_scale

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(self.shortcut(x) + self.branch_scale * out)


class ResNetCifar(nn.Module):
    """ResNet-(6n+2) for CIFAR (He et al. 2016): widths 16/32/64, n blocks per stage.

    ``stable=True`` scales every residual branch by ``1/sqrt(L)``, ``L`` the
    number of blocks (Stable ResNet, Hayou et al. 2021).
    """

    def __init__(self, depth, in_channels=3, num_classes=10, width=16, stable=False):
        super().__init__()
        if (depth - 2) % 6 != 0:
            raise ValueError(f"parameter 'depth' = {depth} is not allowed; expected 6n + 2")
        n = (depth - 2) // 6
        scale = 1.0 / math.sqrt(3 * n) if stable else 1.0
        self.conv = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(width)
        blocks, c = [], width
        for stage, w in enumerate((width, 2 * width, 4 * width)):
            for i in range(n):
                stride = 2 if (stage > 0 and i == 0) else 1
                blocks.append(BasicBlock(c, w, stride, scale))
                c = w
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        x = self.blocks(x)
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class PreActBlock(nn.Module):
    """Pre-activation basic block (He et al. 2016): BN-ReLU-conv, BN-ReLU-conv, plus the input.

    The shortcut takes the block's input itself (a 1x1 projection of it when
    the shape changes), so each BatchNorm's channels are read by exactly one
    conv: ``bn1`` by ``conv1``, ``bn2`` by ``conv2``.
    """

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.shortcut = (nn.Conv2d(c_in, c_out, 1, stride, bias=False) if stride != 1 or c_in != c_out
                         else nn.Identity())

    def forward(self, x):
        out = self.conv1(torch.relu(self.bn1(x)))
        out = self.conv2(torch.relu(self.bn2(out)))
        return out + self.shortcut(x)


class PreResNetCifar(nn.Module):
    """Pre-activation ResNet for 32x32 inputs (depth 6n + 2, basic blocks, widths 16/32/64).

    The early-bird papers' CIFAR family; theirs is the bottleneck PreResNet-101,
    this one uses basic blocks (depths 20, 56, 110).
    """

    def __init__(self, depth, in_channels=3, num_classes=10, width=16):
        super().__init__()
        if (depth - 2) % 6 != 0 or depth < 8:
            raise ValueError(f"parameter 'depth' = {depth} is not allowed; expected 6n + 2 with n >= 1")
        n = (depth - 2) // 6
        self.conv = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        blocks, c = [], width
        for stage, w in enumerate((width, 2 * width, 4 * width)):
            for b in range(n):
                blocks.append(PreActBlock(c, w, 2 if (stage > 0 and b == 0) else 1))
                c = w
        self.blocks = nn.Sequential(*blocks)
        self.bn = nn.BatchNorm2d(c)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        """Logits ``(n, num_classes)`` for images ``(n, C, H, W)``."""
        x = self.blocks(self.conv(x))
        x = torch.relu(self.bn(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))

    def channel_groups(self):
        """``[(bn name, producer weight name or None, consumer weight name)]``: see
        :func:`pruning_utils.spline.channel_groups`."""
        out = []
        for i, blk in enumerate(self.blocks):
            out.append((f"blocks.{i}.bn1", None, f"blocks.{i}.conv1.weight"))
            out.append((f"blocks.{i}.bn2", f"blocks.{i}.conv1.weight", f"blocks.{i}.conv2.weight"))
        out.append(("bn", None, "fc.weight"))
        return out


MODELS = ("mlp", "lenet300100", "lenet5", "mnistnet", "conv2", "conv4", "conv6", "smallconv",
          "vgg11", "vgg16", "resnet20", "resnet32", "resnet56", "resnet110", "preresnet20", "preresnet56",
          "preresnet110")
_ALIASES = {"lenet-300-100": "lenet300100", "lenet_300_100": "lenet300100",
            "lenet-5": "lenet5", "conv-2": "conv2", "conv-4": "conv4", "conv-6": "conv6",
            "vgg-11": "vgg11", "vgg-16": "vgg16", "resnet-20": "resnet20",
            "resnet-32": "resnet32", "resnet-56": "resnet56", "resnet-110": "resnet110", "preresnet-20": "preresnet20",
            "preresnet-56": "preresnet56", "preresnet-110": "preresnet110"}


def _build(name, input_shape, num_classes, **kw):
    c, h, w = input_shape
    if name == "mlp":
        return MLP(c * h * w, num_classes=num_classes, **kw)
    if name == "lenet300100":
        return MLP(c * h * w, (300, 100), num_classes, **kw)
    if name in ("lenet5", "mnistnet"):
        return LeNet5(c, h, num_classes, **kw)
    if name in ("conv2", "conv4", "conv6"):
        k = int(name[-1]) // 2
        width = kw.pop("width", 64)
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ValueError(f"parameter 'width' = {width!r} is not allowed; expected a positive integer")
        blocks = [tuple(max(1, v * width // 64) for v in b) for b in [(64, 64), (128, 128), (256, 256)][:k]]
        return ConvNet(blocks, in_channels=c, input_size=h, num_classes=num_classes, **kw)
    if name == "smallconv":
        return SmallConvNet(c, h, num_classes, **kw)
    if name in _VGG:
        return VGG(_VGG[name], c, num_classes, **kw)
    if name.startswith("preresnet"):
        return PreResNetCifar(int(name[len("preresnet"):]), c, num_classes, **kw)
    depth = int(name[len("resnet"):])
    return ResNetCifar(depth, c, num_classes, **kw)


def build_model(name: str, input_shape=(1, 28, 28), num_classes: int = 10, seed=None, **kw) -> nn.Module:
    """Build a model by name.

    ``input_shape`` is ``(C, H, W)`` of one example; ``num_classes`` the output
    width. ``seed`` makes the initialisation deterministic without touching the
    global random state. Extra keywords go to the model: for ``mlp``
    ``hidden``, ``activation``, ``bias``, ``batchnorm``; for ``conv2/4/6``
    ``width``, ``head`` and ``batchnorm``; for ``resnet*`` ``width`` and ``stable``.
    """
    if not isinstance(name, str) or _ALIASES.get(name.lower(), name.lower()) not in MODELS:
        raise ValueError(f"parameter 'name' = {name!r} is not allowed; expected one of {', '.join(MODELS)}")
    name = _ALIASES.get(name.lower(), name.lower())
    if len(tuple(input_shape)) != 3 or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in input_shape):
        raise ValueError(f"parameter 'input_shape' = {input_shape!r} is not allowed; "
                         f"expected (C, H, W), three positive integers")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"parameter 'num_classes' = {num_classes!r} is not allowed; expected an integer >= 2")
    if seed is None:
        return _build(name, tuple(input_shape), num_classes, **kw)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _build(name, tuple(input_shape), num_classes, **kw)


def check_fits(name: str, input_shape, num_classes: int = 10, parameter: str = "model", dataset=None, **kw) -> None:
    """Refuse, before any data is loaded or any step is trained, a model that cannot take inputs of
    ``input_shape``: LeNet-5 on 8x8 digits, VGG's five poolings on 28x28 images. The model is built and run
    on PyTorch's ``meta`` device (shapes only: no memory, no arithmetic). The ``ValueError`` names
    ``parameter`` and, where given, the ``dataset`` the shape comes from."""
    shape = tuple(input_shape)
    try:
        with torch.device("meta"):
            build_model(name, shape, num_classes, **kw).eval()(torch.zeros(2, *shape))
    except (RuntimeError, ValueError) as e:
        size = "x".join(map(str, shape))
        where = f"dataset {dataset!r} ({size} images)" if dataset is not None else f"{size} inputs"
        raise ValueError(f"parameter {parameter!r} = {name!r} is not allowed with {where}: {e}; choose another "
                         f"model or a dataset of larger images") from None


def prunable_layers(model: nn.Module) -> dict:
    """``{"<module>.weight": module}`` for every Linear and Conv layer, in model order.

    The keys are the parameter names of the unpruned model; they stay valid
    after masks are applied (when the parameter itself becomes ``weight_orig``).
    """
    return {f"{n}.weight" if n else "weight": m for n, m in model.named_modules()
            if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))}


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
