"""Pictures of localization results: boxes drawn on images (OpenCV), and a grid."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from torch.utils.data import Dataset

from neocog.core.visualize import save_grid

from .metrics import LocalizationReport

TRUE_COLOUR = (0, 200, 0)
PRED_COLOUR = (255, 0, 0)


def draw_box(image: np.ndarray, box: np.ndarray | list[float], colour: tuple[int, int, int],
             text: str = "") -> np.ndarray:
    """A copy of uint8 (H, W, 3) RGB `image` with xyxy `box` outlined and `text` above it."""
    out = image.copy()
    thick = max(1, round(max(image.shape[:2]) / 300))
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    # x2/y2 are exclusive edges: outline the last pixel inside.
    cv2.rectangle(out, (x1, y1), (x2 - 1, y2 - 1), colour, thick)
    if text:
        scale = 0.35 * thick
        cv2.putText(out, text, (x1, max(10 * thick, y1 - 3)), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    colour, thick, cv2.LINE_AA)
    return out


def plot_box_grid(source: Dataset, report: LocalizationReport, names: list[str], out: Path,
                  count: int, title: str) -> None:
    """The `count` lowest-IoU samples (most instructive first), each resized to 128 px with
    its true box (green) and predicted box and label (red), in a square grid PNG."""
    order = np.argsort(report.ious)[:count]
    cols = max(1, int(np.ceil(np.sqrt(len(order)))))
    tiles = []
    for i in order:
        image = source[int(i)][0]
        scale = 128 / max(image.shape[:2])
        image = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)))
        image = cv2.copyMakeBorder(image, 0, 128 - image.shape[0], 0, 128 - image.shape[1],
                                   cv2.BORDER_CONSTANT, value=(255, 255, 255))
        image = draw_box(image, report.true_boxes[i] * scale, TRUE_COLOUR)
        label = f"{names[report.predicted[i]]} {report.ious[i]:.2f}"
        tiles.append(draw_box(image, report.pred_boxes[i] * scale, PRED_COLOUR, label))
    tiles += [np.full_like(tiles[0], 255)] * (cols * int(np.ceil(len(tiles) / cols)) - len(tiles))
    rows = [np.concatenate(tiles[r: r + cols], axis=1) for r in range(0, len(tiles), cols)]
    save_grid(np.concatenate(rows, axis=0), out, title)
