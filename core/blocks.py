"""Building blocks shared by every backbone and head."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

Stride = int | tuple[int, int]


class ConvBnAct(nn.Sequential):
    """Conv2d -> BatchNorm2d -> activation; 'same' padding for odd kernels.

    `stride` may differ per axis, e.g. (2, 1) halves frequency and keeps time.
    """

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel: int = 3,
        stride: Stride = 1,
        groups: int = 1,
        act: bool = True,
    ) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(c_out),
            nn.SiLU(inplace=True) if act else nn.Identity(),
        )


class DepthwiseSeparable(nn.Sequential):
    """Depthwise kxk conv then pointwise 1x1 conv (MobileNet), each with BN + act."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 3, stride: Stride = 1) -> None:
        super().__init__(
            ConvBnAct(c_in, c_in, kernel, stride, groups=c_in),
            ConvBnAct(c_in, c_out, 1),
        )


class ResidualBlock(nn.Module):
    """Two 3x3 ConvBnAct with an identity (or 1x1 projection) shortcut (He et al. 2016)."""

    def __init__(self, c_in: int, c_out: int, stride: Stride = 1) -> None:
        super().__init__()
        self.conv1 = ConvBnAct(c_in, c_out, 3, stride)
        self.conv2 = ConvBnAct(c_out, c_out, 3, act=False)
        needs_projection = c_in != c_out or stride not in (1, (1, 1))
        self.shortcut = ConvBnAct(c_in, c_out, 1, stride, act=False) if needs_projection else None

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.shortcut is None else self.shortcut(x)
        return F.silu(self.conv2(self.conv1(x)) + identity)


class CSPBlock(nn.Module):
    """Cross-stage partial block (CSPNet, as in YOLOv5/v8's C2f): split the channels,
    run bottlenecks on one half only, concatenate, fuse with a 1x1 conv."""

    def __init__(self, c_in: int, c_out: int, n: int = 1) -> None:
        super().__init__()
        hidden = c_out // 2
        self.split = ConvBnAct(c_in, 2 * hidden, 1)
        self.blocks = nn.ModuleList(
            nn.Sequential(ConvBnAct(hidden, hidden, 3), ConvBnAct(hidden, hidden, 3))
            for _ in range(n)
        )
        self.fuse = ConvBnAct((2 + n) * hidden, c_out, 1)

    def forward(self, x: Tensor) -> Tensor:
        parts = list(self.split(x).chunk(2, dim=1))  # 2 x (B, hidden, H, W)
        for block in self.blocks:
            parts.append(parts[-1] + block(parts[-1]))
        return self.fuse(torch.cat(parts, dim=1))  # (B, (2+n)*hidden, H, W) -> (B, c_out, H, W)


class PatchWhitening(nn.Conv2d):
    """A fixed 2x2 stem whose filters whiten the training images' 2x2 patches
    (Page's DAWNBench ResNet, Jordan's airbench): each eigenvector of the patch
    covariance, scaled by 1/sqrt(eigenvalue), and its negative, so the next ReLU-like
    activation keeps both signs. `fit(images)` sets them. Nothing trains: the stem is a
    fixed transform (airbench trains its bias for 3 epochs only, for no measured gain).
    Tensor[B, C, H, W] -> Tensor[B, 8C, H-1, W-1]."""

    def __init__(self, c_in: int, eps: float = 5e-4) -> None:
        super().__init__(c_in, 2 * 4 * c_in, 2)
        self.eps = eps
        self.weight.requires_grad_(False)
        nn.init.zeros_(self.bias)
        self.bias.requires_grad_(False)

    @torch.no_grad()
    def fit(self, images: Tensor) -> None:
        """Set the filters from normalised training images Tensor[N, C, H, W]."""
        c = images.shape[1]
        covariance, count = torch.zeros(c * 4, c * 4), 0
        for chunk in images.float().split(256):  # all patches at once would need ~1 GB at 64 px
            # (n, C, H-1, W-1, 2, 2) -> (n, H-1, W-1, C, 2, 2) -> (n*(H-1)*(W-1), C*4)
            patches = chunk.unfold(2, 2, 1).unfold(3, 2, 1).permute(0, 2, 3, 1, 4, 5)
            flat = patches.reshape(-1, c * 4)
            covariance += flat.T @ flat
            count += len(flat)
        covariance /= count
        eigenvalues, eigenvectors = torch.linalg.eigh(covariance)  # ascending eigenvalues
        filters = (eigenvectors.T / (eigenvalues[:, None] + self.eps).sqrt()).reshape(-1, c, 2, 2)
        self.weight.copy_(torch.cat([filters, -filters]))


def frozen_scale_bn(channels: int) -> nn.BatchNorm2d:
    """BatchNorm with its scale fixed at 1 and a fast-moving running average: airbench's
    setting (a learned scale only fights the convs' weight decay; momentum 0.4 because a
    short run's statistics drift fast)."""
    bn = nn.BatchNorm2d(channels, momentum=0.4, eps=1e-12)
    bn.weight.requires_grad_(False)
    return bn


def identity_conv(c_in: int, c_out: int) -> nn.Conv2d:
    """A 3x3 conv whose first min(c_in, c_out) filters start as the identity (Dirac
    delta) and the rest as usual: an implicit residual at initialisation, which airbench's
    ablations found to shorten training (94% in 17 -> 14 epochs)."""
    conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
    with torch.no_grad():
        nn.init.dirac_(conv.weight[:c_in])
    return conv


class ConvPoolBlock(nn.Sequential):
    """conv3x3 -> max-pool 2 -> BN -> GELU -> conv3x3 -> BN -> GELU (airbench's ConvGroup):
    pooling right after the first conv halves the cost of everything after it.
    Tensor[B, c_in, H, W] -> Tensor[B, c_out, H/2, W/2]."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(
            identity_conv(c_in, c_out), nn.MaxPool2d(2), frozen_scale_bn(c_out), nn.GELU(),
            identity_conv(c_out, c_out), frozen_scale_bn(c_out), nn.GELU(),
        )


class CausalConv1d(nn.Conv1d):
    """Dilated 1-D conv that sees only the past: pad (k-1)*dilation on the left only,
    so output[t] depends on input[<= t] (WaveNet, van den Oord et al. 2016)."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 2, dilation: int = 1) -> None:
        super().__init__(c_in, c_out, kernel, dilation=dilation)
        self.left_pad = (kernel - 1) * dilation

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(F.pad(x, (self.left_pad, 0)))  # (B, C, T) -> (B, C_out, T)
