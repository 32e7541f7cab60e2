"""Box helpers shared by localization and detection: formats, IoU, letterbox mapping.

Boxes are float tensors in pixels. `xyxy` is (x1, y1, x2, y2) with x2/y2 the exclusive
right/bottom edge (COCO's x + w); `cxcywh` is (centre x, centre y, width, height);
`xywh` is COCO's (left, top, width, height). Format conversions are torchvision's
`box_convert`; the IoU of matched pairs is tested against its `box_iou`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch import Tensor

PAD_VALUE = 114  # grey letterbox padding, as YOLO uses: neither black nor white ink


def paired_box_iou(a: Tensor, b: Tensor) -> Tensor:
    """IoU of matched pairs: Tensor[N, 4] xyxy, Tensor[N, 4] xyxy -> Tensor[N].

    The diagonal of torchvision's `box_iou(a, b)` (N x N) without building the matrix.
    """
    lt = torch.maximum(a[:, :2], b[:, :2])
    rb = torch.minimum(a[:, 2:], b[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(dim=1)
    area_a = (a[:, 2:] - a[:, :2]).clamp(min=0).prod(dim=1)
    area_b = (b[:, 2:] - b[:, :2]).clamp(min=0).prod(dim=1)
    return inter / (area_a + area_b - inter).clamp(min=1e-9)


@dataclass(frozen=True)
class Letterbox:
    """How an image of (height, width) was scaled by `scale` and padded by (pad_x, pad_y)
    to fit a square of side `size` without changing its aspect ratio."""

    height: int
    width: int
    size: int
    scale: float
    pad_x: int
    pad_y: int


def letterbox_params(height: int, width: int, size: int) -> Letterbox:
    """The scale and padding that centre a (height, width) image in a size x size square."""
    scale = size / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    return Letterbox(height, width, size, scale, (size - new_w) // 2, (size - new_h) // 2)


def letterbox(image: np.ndarray, size: int, fill: int = PAD_VALUE) -> tuple[np.ndarray, Letterbox]:
    """uint8 (H, W[, C]) -> uint8 (size, size[, C]) padded with `fill`, and its mapping."""
    lb = letterbox_params(image.shape[0], image.shape[1], size)
    new_w, new_h = max(1, round(lb.width * lb.scale)), max(1, round(lb.height * lb.scale))
    if (new_h, new_w) != image.shape[:2]:
        # INTER_AREA averages when shrinking (no aliasing); LINEAR when enlarging.
        mode = cv2.INTER_AREA if lb.scale < 1 else cv2.INTER_LINEAR
        image = cv2.resize(image, (new_w, new_h), interpolation=mode)
    canvas = np.full((size, size, *image.shape[2:]), fill, dtype=np.uint8)
    canvas[lb.pad_y: lb.pad_y + new_h, lb.pad_x: lb.pad_x + new_w] = image
    return canvas, lb


def boxes_to_letterbox(boxes: Tensor, lb: Letterbox) -> Tensor:
    """Tensor[N, 4] xyxy in original pixels -> Tensor[N, 4] xyxy in letterboxed pixels."""
    offset = boxes.new_tensor([lb.pad_x, lb.pad_y, lb.pad_x, lb.pad_y])
    return boxes * lb.scale + offset


def boxes_from_letterbox(boxes: Tensor, lb: Letterbox) -> Tensor:
    """Tensor[N, 4] xyxy in letterboxed pixels -> Tensor[N, 4] xyxy in original pixels,
    clipped to the original image."""
    offset = boxes.new_tensor([lb.pad_x, lb.pad_y, lb.pad_x, lb.pad_y])
    out = (boxes - offset) / lb.scale
    limit = boxes.new_tensor([lb.width, lb.height, lb.width, lb.height])
    return torch.minimum(out.clamp(min=0), limit)
