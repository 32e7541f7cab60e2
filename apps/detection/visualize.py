"""Drawing detections on frames, and the precision-recall plot of `detect val`."""

from __future__ import annotations

from pathlib import Path

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .predictor import Detection  # noqa: E402


def colour(index: int) -> tuple[int, int, int]:
    """A stable, distinct RGB colour per class index (golden-angle hues)."""
    hsv = np.uint8([[[int(index * 137.5) % 180, 220, 230]]])
    return tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0])


def draw(image: np.ndarray, detections: list[Detection], fps: float | None = None) -> np.ndarray:
    """A copy of uint8 RGB `image` with boxes, 'label score' tags and an optional FPS."""
    out = image.copy()
    for d in detections:
        x1, y1, x2, y2 = (int(round(v)) for v in d.box)
        c = colour(d.index)
        cv2.rectangle(out, (x1, y1), (x2, y2), c, 2)
        cv2.putText(out, f"{d.label} {d.score:.2f}", (x1, max(12, y1 - 4)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, c, 1, cv2.LINE_AA)
    if fps is not None:
        cv2.putText(out, f"{fps:.1f} FPS", (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 0),
                    2, cv2.LINE_AA)
    return out


def plot_pr_curves(precision: np.ndarray, names: list[str], out: Path, title: str = "") -> None:
    """precision (101, K) at recall 0..1 (COCOeval, IoU 0.5) -> per-class and mean curves."""
    recall = np.linspace(0, 1, precision.shape[0])
    fig, ax = plt.subplots(figsize=(6, 5))
    valid = [k for k in range(precision.shape[1]) if (precision[:, k] > -1).all()]
    for k in valid if len(valid) <= 20 else []:
        ax.plot(recall, precision[:, k], linewidth=0.8, label=names[k])
    if valid:
        ax.plot(recall, precision[:, valid].mean(1), "k", linewidth=2.5, label="mean")
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02), title=title)
    ax.legend(fontsize=6, loc="lower left", ncol=2)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
