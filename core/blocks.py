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


class CausalConv1d(nn.Conv1d):
    """Dilated 1-D conv that sees only the past: pad (k-1)*dilation on the left only,
    so output[t] depends on input[<= t] (WaveNet, van den Oord et al. 2016)."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 2, dilation: int = 1) -> None:
        super().__init__(c_in, c_out, kernel, dilation=dilation)
        self.left_pad = (kernel - 1) * dilation

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(F.pad(x, (self.left_pad, 0)))  # (B, C, T) -> (B, C_out, T)
