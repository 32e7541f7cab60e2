"""Backbones: an input image (or spectrogram) -> a list of multi-scale feature maps.

Every backbone declares `feature_info`, the channels and stride of each output, so a
head can size itself without running the network (timm `resnet.py`, detectron2
`backbone.py`). Strides are per axis: (2, 1) halves height (frequency for a
spectrogram) and keeps width (time).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn

from .blocks import ConvBnAct, ConvPoolBlock, CSPBlock, DepthwiseSeparable, PatchWhitening, ResidualBlock
from .errors import NeocogError
from .registry import BACKBONES

Pair = tuple[int, int]


@dataclass
class FeatureInfo:
    channels: int
    stride: Pair  # (height, width) reduction of this output relative to the input


@dataclass
class BackboneConfig:
    name: str = "resnet"
    in_channels: int = 1  # 1 for grey digits and spectrograms, 3 for RGB
    width: int = 16  # channels of the first stage; each later stage doubles it
    depth: int = 1  # blocks per stage
    # Stride of the stem, then of each stage; an int or a (height, width) pair.
    # None takes the family's default.
    strides: list[Any] | None = None
    pretrained: bool = False  # torchvision:* only: ImageNet weights (needs the network)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def as_pair(stride: int | list[int] | Pair) -> Pair:
    """2 -> (2, 2); [2, 1] -> (2, 1)."""
    if isinstance(stride, int):
        return (stride, stride)
    return (int(stride[0]), int(stride[1]))


def cumulative_strides(strides: list[Pair]) -> list[Pair]:
    """[(2,2), (2,1)] -> [(2,2), (4,2)]: total reduction after each stage."""
    out, h, w = [], 1, 1
    for sh, sw in strides:
        h, w = h * sh, w * sw
        out.append((h, w))
    return out


class Backbone(nn.Module):
    """Base class: `forward(x: Tensor[B, C, H, W]) -> list[Tensor[B, C_i, H_i, W_i]]`."""

    feature_info: list[FeatureInfo]
    config: BackboneConfig

    def fit_data(self, images: Tensor) -> None:
        """Set data-derived weights from normalised training images Tensor[N, C, H, W]
        before training starts; most backbones have none."""


class StagedBackbone(Backbone):
    """A stem followed by stages; one feature map per stage (the stem's is not returned)."""

    def __init__(self, config: BackboneConfig, stem: nn.Module, stages: list[nn.Module],
                 channels: list[int], strides: list[Pair]) -> None:
        super().__init__()
        self.config = config
        self.stem = stem
        self.stages = nn.ModuleList(stages)
        totals = cumulative_strides(strides)[1:]  # strides[0] is the stem's
        self.feature_info = [FeatureInfo(c, s) for c, s in zip(channels, totals, strict=True)]

    def forward(self, x: Tensor) -> list[Tensor]:
        x = self.stem(x)
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features


def _strides(config: BackboneConfig, default: list[Any]) -> list[Pair]:
    return [as_pair(s) for s in (config.strides if config.strides is not None else default)]


@BACKBONES.register("lenet")
def lenet(config: BackboneConfig) -> Backbone:
    """The seed's LeNet: three conv + max-pool pairs (the two FC layers are the head's).

    First conv: `width` 5x5 filters, no padding: 28x28x1 -> 24x24x8, pool -> 12x12x8;
    then 3x3 'same' convs doubling the filters, each followed by a 2x2 max-pool.
    """
    strides = _strides(config, [1, 2, 2, 2])  # stem (identity), then each pool
    w = config.width
    stages: list[nn.Module] = [
        nn.Sequential(nn.Conv2d(config.in_channels, w, 5), nn.ReLU(inplace=True),
                      nn.MaxPool2d(strides[1], strides[1])),
        nn.Sequential(nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(inplace=True),
                      nn.MaxPool2d(strides[2], strides[2])),
        nn.Sequential(nn.Conv2d(2 * w, 4 * w, 3, padding=1), nn.ReLU(inplace=True),
                      nn.MaxPool2d(strides[3], strides[3])),
    ]
    return StagedBackbone(config, nn.Identity(), stages, [w, 2 * w, 4 * w], strides)


def staged(config: BackboneConfig, default_strides: list[Any], shift: int,
           make_stage: Callable[[int, int, Pair], nn.Module]) -> Backbone:
    """A 3x3 ConvBnAct stem at strides[0], then one stage per further stride;
    stage i has width * 2**(i + shift) channels and is `make_stage(c_in, c_out, stride)`."""
    strides = _strides(config, default_strides)
    w = config.width
    channels = [w * 2 ** (i + shift) for i in range(len(strides) - 1)]
    stages = [make_stage(c_in, c_out, stride)
              for c_in, c_out, stride in zip([w, *channels[:-1]], channels, strides[1:], strict=True)]
    return StagedBackbone(config, ConvBnAct(config.in_channels, w, 3, strides[0]), stages,
                          channels, strides)


def repeated(block: type[nn.Module], c_in: int, c_out: int, stride: Pair, depth: int) -> nn.Sequential:
    """`depth` blocks; the first changes channels and stride."""
    return nn.Sequential(block(c_in, c_out, stride=stride),
                         *(block(c_out, c_out) for _ in range(depth - 1)))


@BACKBONES.register("resnet")
def resnet(config: BackboneConfig) -> Backbone:
    """Small residual network: a 3x3 stem, then stages of `depth` residual blocks,
    doubling channels at each stage. Default strides suit 28-64 px inputs."""
    return staged(config, [1, 1, 2, 2], 0,
                  lambda c_in, c_out, s: repeated(ResidualBlock, c_in, c_out, s, config.depth))


class WhitenedBackbone(StagedBackbone):
    """A StagedBackbone whose stem is a PatchWhitening (then GELU), fitted to the data."""

    def fit_data(self, images: Tensor) -> None:
        self.stem[0].fit(images)


@BACKBONES.register("cifar")
def cifar(config: BackboneConfig) -> Backbone:
    """Fast-training CIFAR net after Jordan's airbench94: a fixed 2x2 whitening stem,
    then three ConvPoolBlocks of width, 4*width and 4*width channels (each halves the
    side: 32 -> 31 -> 15 -> 7 -> 3). Stride is fixed by the pools."""
    if config.depth != 1 or config.strides is not None:
        raise NeocogError("backbone cifar: its depth (1 block per stage) and strides (the "
                          "pools') are fixed; leave --depth and strides at their defaults")
    w, c_in = config.width, config.in_channels
    channels = [w, 4 * w, 4 * w]
    stem = nn.Sequential(PatchWhitening(c_in), nn.GELU())
    stages = [ConvPoolBlock(a, b) for a, b in zip([8 * c_in, *channels[:-1]], channels, strict=True)]
    return WhitenedBackbone(config, stem, stages, channels, [(1, 1), (2, 2), (2, 2), (2, 2)])


@BACKBONES.register("csp")
def csp(config: BackboneConfig) -> Backbone:
    """Fast detection-oriented CSP-Darknet (YOLOv5/v8 style): a strided stem, then stages
    of a strided 3x3 conv and a CSP block; outputs at strides 4, 8, 16, 32 by default."""
    return staged(config, [2, 2, 2, 2, 2], 1,
                  lambda c_in, c_out, s: nn.Sequential(ConvBnAct(c_in, c_out, 3, s),
                                                       CSPBlock(c_out, c_out, config.depth)))


@BACKBONES.register("mobile")
def mobile(config: BackboneConfig) -> Backbone:
    """Depthwise-separable stages (MobileNet v1 style): cheapest per pixel."""
    return staged(config, [2, 2, 2, 2, 2], 1,
                  lambda c_in, c_out, s: repeated(DepthwiseSeparable, c_in, c_out, s, config.depth))


class TorchvisionResNet(Backbone):
    """A torchvision ResNet's four stages as a neocog backbone (`torchvision:resnet18`)."""

    def __init__(self, config: BackboneConfig, arch: str) -> None:
        super().__init__()
        import torchvision

        self.config = config
        weights = "DEFAULT" if config.pretrained else None
        try:
            net = torchvision.models.get_model(arch, weights=weights)
        except ValueError as err:  # unknown architecture name
            raise NeocogError(f"backbone torchvision:{arch}: {err}") from None
        except OSError as err:  # URLError is an OSError: no network, no weights
            raise NeocogError(
                f"backbone torchvision:{arch}: could not download its ImageNet weights "
                f"({err}); run online once, or drop --pretrained"
            ) from None
        if not hasattr(net, "layer4"):
            raise NeocogError(f"backbone torchvision:{arch}: only ResNet-style models "
                              "(conv1, layer1..layer4) are wrapped")
        if config.in_channels != 3:
            net.conv1 = nn.Conv2d(config.in_channels, 64, 7, 2, 3, bias=False)
        self.stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
        self.stages = nn.ModuleList([net.layer1, net.layer2, net.layer3, net.layer4])
        self.feature_info = []  # filled from one dry run: block types differ per arch
        shapes = output_shapes(self, (config.in_channels, 64, 64))
        self.feature_info = [FeatureInfo(s[1], (st, st)) for s, st in zip(shapes, (4, 8, 16, 32),
                                                                           strict=True)]

    forward = StagedBackbone.forward


def build_backbone(config: BackboneConfig) -> Backbone:
    """Create a registered backbone, or wrap torchvision's for names `torchvision:<arch>`."""
    if config.name.startswith("torchvision:"):
        return TorchvisionResNet(config, config.name.split(":", 1)[1])
    return BACKBONES.create(config.name, config=config)


def backbone_names() -> list[str]:
    return BACKBONES.names()


@torch.no_grad()
def output_shapes(backbone: Backbone, input_shape: tuple[int, int, int]) -> list[torch.Size]:
    """Shapes of the backbone's feature maps for one input of (C, H, W)."""
    backbone.eval()
    return [f.shape for f in backbone(torch.zeros(1, *input_shape))]
