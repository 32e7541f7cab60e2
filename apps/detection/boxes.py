"""Detection-only box helpers: grid cell centres and distance-to-box decoding.
Letterboxing and the shared box helpers are in `neocog.core.boxes`."""

from __future__ import annotations

import torch
from torch import Tensor


def grid_points(shapes: list[tuple[int, int]], strides: list[int],
                device: torch.device | None = None) -> tuple[Tensor, Tensor]:
    """Cell centres of every level, flattened in (level, row, column) order.

    Returns (points Tensor[A, 2] xy in input pixels, strides Tensor[A]).
    """
    points, scales = [], []
    for (h, w), s in zip(shapes, strides, strict=True):
        ys = (torch.arange(h, device=device, dtype=torch.float32) + 0.5) * s
        xs = (torch.arange(w, device=device, dtype=torch.float32) + 0.5) * s
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")  # (h, w) each
        points.append(torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1))  # (h*w, 2)
        scales.append(torch.full((h * w,), float(s), device=device))
    return torch.cat(points), torch.cat(scales)


def distances_to_boxes(points: Tensor, ltrb: Tensor) -> Tensor:
    """points Tensor[A, 2] xy, ltrb Tensor[..., A, 4] distances -> Tensor[..., A, 4] xyxy."""
    return torch.cat([points - ltrb[..., :2], points + ltrb[..., 2:]], dim=-1)
