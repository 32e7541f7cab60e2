"""Box and letterbox helpers: small typed pure functions over torchvision.ops.

Formats: xyxy = (x1, y1, x2, y2) in pixels; xywh = COCO's (x, y, width, height).
A letterbox scales an image to fit a square of side `size` without distortion and pads
the rest; `Letterbox` records the scale and padding so boxes map back exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch import Tensor
from torchvision.ops import box_convert

PAD_VALUE = 114  # grey padding, as YOLO uses: neither black nor white ink


@dataclass
class Letterbox:
    scale: float  # new pixels per original pixel
    pad_x: float  # left padding in new pixels
    pad_y: float  # top padding in new pixels
    width: int  # original image width
    height: int  # original image height


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, Letterbox]:
    """uint8 (H, W, 3) -> uint8 (size, size, 3) fitted and centred, plus its Letterbox."""
    h, w = image.shape[:2]
    scale = min(size / h, size / w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    if (new_w, new_h) != (w, h):
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        image = cv2.resize(image, (new_w, new_h), interpolation=interp)
    pad_x, pad_y = (size - new_w) // 2, (size - new_h) // 2
    out = cv2.copyMakeBorder(image, pad_y, size - new_h - pad_y, pad_x, size - new_w - pad_x,
                             cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)
    return out, Letterbox(scale, float(pad_x), float(pad_y), w, h)


def to_letterbox(boxes: Tensor, lb: Letterbox) -> Tensor:
    """Tensor[N, 4] xyxy in original pixels -> xyxy in letterboxed pixels."""
    offset = boxes.new_tensor([lb.pad_x, lb.pad_y, lb.pad_x, lb.pad_y])
    return boxes * lb.scale + offset


def from_letterbox(boxes: Tensor, lb: Letterbox) -> Tensor:
    """Tensor[N, 4] xyxy in letterboxed pixels -> xyxy in original pixels, clipped to the
    image (the exact inverse of `to_letterbox` inside the image)."""
    offset = boxes.new_tensor([lb.pad_x, lb.pad_y, lb.pad_x, lb.pad_y])
    out = (boxes - offset) / lb.scale
    out[:, 0::2] = out[:, 0::2].clamp(0, lb.width)
    out[:, 1::2] = out[:, 1::2].clamp(0, lb.height)
    return out


def xyxy_to_xywh(boxes: Tensor) -> Tensor:
    """Tensor[N, 4] xyxy -> COCO xywh."""
    return box_convert(boxes, "xyxy", "xywh")


def xywh_to_xyxy(boxes: Tensor) -> Tensor:
    """Tensor[N, 4] COCO xywh -> xyxy."""
    return box_convert(boxes, "xywh", "xyxy")


def cxcywh_to_xyxy(boxes: Tensor) -> Tensor:
    """Tensor[N, 4] centre-size (YOLO txt, after un-normalising) -> xyxy."""
    return box_convert(boxes, "cxcywh", "xyxy")


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
