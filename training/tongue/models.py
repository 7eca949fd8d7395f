"""The two tongue networks: a small U-Net that finds the tongue and a ResNet with one head per attribute.

Both take NCHW float32 RGB in [0, 1] and normalise inside the network, so
the ONNX files need no pre-processing constants beside them. Nothing is
downloaded: torchvision's ResNet is built with ``weights=None``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torchvision
from torch import Tensor, nn
from torch.nn import functional as F

# Normalisation stats measured on the tongue photos would drift with the data; these are generic.
MEAN, STD = (0.5, 0.4, 0.4), (0.25, 0.25, 0.25)


class Normalise(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std


@dataclass
class SegmenterConfig:
    input_size: int = 128
    base_channels: int = 8
    depth: int = 4

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmenterConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def _double_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class TinyUNet(nn.Module):
    """U-Net with ``depth`` levels of ``base * 2**i`` channels; outputs tongue logits at input resolution."""

    def __init__(self, config: SegmenterConfig) -> None:
        super().__init__()
        self.config = config
        widths = [config.base_channels * 2**i for i in range(config.depth)]
        self.normalise = Normalise()
        self.down = nn.ModuleList()
        cin = 3
        for width in widths:
            self.down.append(_double_conv(cin, width))
            cin = width
        self.bottom = _double_conv(widths[-1], widths[-1])
        self.up = nn.ModuleList(_double_conv(2 * w, max(w // 2, widths[0])) for w in reversed(widths))
        self.head = nn.Conv2d(widths[0], 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        x = self.normalise(x)
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottom(x)
        for block, skip in zip(self.up, reversed(skips), strict=True):
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], dim=1))
        return self.head(x)


@dataclass
class ClassifierConfig:
    input_size: int = 112
    backbone: str = "resnet50"  # "resnet50", or "resnet-tiny" (one basic block a stage; tests)
    heads: dict[str, int] = field(default_factory=dict)  # attribute -> number of classes, in order
    dropout: float = 0.2
    # A pruned network's shape: module name -> [out, in] (Conv2d, Linear) or [features] (BatchNorm2d) for
    # every such module; empty for the unpruned architecture. Written by training.tongue.pruning.
    widths: dict[str, list[int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClassifierConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def _backbone(name: str) -> tuple[nn.Module, int]:
    if name == "resnet50":
        net = torchvision.models.resnet50(weights=None)
    elif name == "resnet-tiny":
        net = torchvision.models.resnet.ResNet(torchvision.models.resnet.BasicBlock, [1, 1, 1, 1])
    else:
        raise ValueError(f"unknown backbone {name!r}")
    features = net.fc.in_features
    net.fc = nn.Identity()
    return net, features


def layer_widths(model: nn.Module) -> dict[str, list[int]]:
    """The width map of ``model``: [out, in] of every Conv2d and Linear, [features] of every BatchNorm2d."""
    widths: dict[str, list[int]] = {}
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            widths[name] = [module.out_channels, module.in_channels]
        elif isinstance(module, nn.Linear):
            widths[name] = [module.out_features, module.in_features]
        elif isinstance(module, nn.BatchNorm2d):
            widths[name] = [module.num_features]
    return widths


def _resized(module: nn.Module, shape: Sequence[int]) -> nn.Module:
    """A freshly initialised copy of ``module`` with the width ``shape`` (see :func:`layer_widths`)."""
    if isinstance(module, nn.Conv2d):
        out, cin = shape
        return nn.Conv2d(
            cin, out, module.kernel_size, module.stride, module.padding, module.dilation, module.groups,
            module.bias is not None, module.padding_mode,
        )  # fmt: skip
    if isinstance(module, nn.Linear):
        out, cin = shape
        return nn.Linear(cin, out, module.bias is not None)
    if isinstance(module, nn.BatchNorm2d):
        return nn.BatchNorm2d(shape[0], module.eps, module.momentum, module.affine, module.track_running_stats)
    raise ValueError(f"cannot resize a {type(module).__name__}")


def apply_widths(model: nn.Module, widths: dict[str, list[int]]) -> None:
    """Replace each module named in ``widths`` whose shape differs by a new one of that shape (weights to load)."""
    current = layer_widths(model)
    for name, shape in widths.items():
        if name not in current:
            raise ValueError(f"the width map names {name!r}, which the network does not have")
        if list(shape) == current[name]:
            continue
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        setattr(parent, child, _resized(parent.get_submodule(child), shape))


class TongueClassifier(nn.Module):
    """A torchvision ResNet trunk with one linear head per attribute; forward gives logits per head.

    With ``config.widths`` the trunk and heads take the pruned shapes it lists, so a pruned
    checkpoint loads with no other help.
    """

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        self.normalise = Normalise()
        self.backbone, features = _backbone(config.backbone)
        self.dropout = nn.Dropout(config.dropout)
        self.heads = nn.ModuleDict({name: nn.Linear(features, n) for name, n in config.heads.items()})
        if config.widths:
            apply_widths(self, config.widths)

    @property
    def head_names(self) -> list[str]:
        return list(self.config.heads)

    def forward(self, x: Tensor) -> list[Tensor]:
        features = self.dropout(self.backbone(self.normalise(x)))
        return [self.heads[name](features) for name in self.head_names]


class SegmenterGraph(nn.Module):
    """What the segmenter's ONNX file computes: tongue probability per pixel, [B, 1, H, W]."""

    def __init__(self, model: TinyUNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: Tensor) -> Tensor:
        return torch.sigmoid(self.model(image))


class ClassifierGraph(nn.Module):
    """What the classifier's ONNX file computes: softmax probabilities, one output per attribute."""

    def __init__(self, model: TongueClassifier) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: Tensor) -> tuple[Tensor, ...]:
        return tuple(torch.softmax(logits, dim=-1) for logits in self.model(image))


def masked_loss(
    logits: Sequence[Tensor], labels: Tensor, weights: Sequence[Tensor | None], smoothing: float = 0.05
) -> Tensor:
    """Mean over heads of the cross-entropy on the rows that have a label (-1 = NA, left out)."""
    losses = []
    for column, (head, weight) in enumerate(zip(logits, weights, strict=True)):
        target = labels[:, column]
        known = target >= 0
        if known.any():
            losses.append(F.cross_entropy(head[known], target[known], weight=weight, label_smoothing=smoothing))
    if not losses:
        return logits[0].sum() * 0.0
    return torch.stack(losses).mean()


def dice_bce(logits: Tensor, mask: Tensor) -> Tensor:
    """Binary cross-entropy plus soft Dice, the usual pair for a foreground that fills half the photo."""
    bce = F.binary_cross_entropy_with_logits(logits, mask)
    prob = torch.sigmoid(logits)
    inter = (prob * mask).sum(dim=(1, 2, 3))
    dice = 1 - (2 * inter + 1) / (prob.sum(dim=(1, 2, 3)) + mask.sum(dim=(1, 2, 3)) + 1)
    return bce + dice.mean()
