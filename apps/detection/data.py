"""Detection training data: records or generated scenes -> (Tensor[3, S, S], target dict).

Augmentation (train only): mosaic of four images, a random affine (scale + translate)
that maps boxes through the same matrix, HSV colour jitter and horizontal flips (off for
digits: a mirrored 2 is no 2). Every image reaches the network letterboxed to S x S.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from neocog.core.boxes import PAD_VALUE, boxes_to_letterbox, letterbox
from neocog.datasets.detection import DetectionRecords, coco_ground_truth
from neocog.datasets.idx import idx_pairs, read_idx_pair
from neocog.datasets.images import read_image
from neocog.datasets.scenes import SceneConfig, make_scene

DIGIT_NAMES = [str(d) for d in range(10)]


@dataclass
class Augment:
    mosaic: float = 0.0  # probability of a 4-image mosaic
    scale: float = 0.0  # random zoom in [1 - scale, 1 + scale]
    translate: float = 0.0  # random shift, as a fraction of the side
    hsv: float = 0.0  # colour jitter strength (hue/saturation/value gains +- this)
    flip: float = 0.0  # probability of a horizontal flip

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def to_tensor(image: np.ndarray) -> Tensor:
    """uint8 (S, S, 3) RGB -> float Tensor[3, S, S] in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(255)


def load_rgb(image: Any) -> np.ndarray:
    return image if isinstance(image, np.ndarray) else read_image(image, channels=3)


def affine(image: np.ndarray, boxes: np.ndarray, labels: np.ndarray, size: int, scale: float,
           shift: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zoom by `scale` about the centre, shift by `shift` px, into (size, size); boxes
    (N, 4) xyxy follow the same matrix and are dropped when mostly cut off."""
    h, w = image.shape[:2]
    m = np.array([[scale, 0, size / 2 - scale * w / 2 + shift[0]],
                  [0, scale, size / 2 - scale * h / 2 + shift[1]]], dtype=np.float32)
    out = cv2.warpAffine(image, m, (size, size), borderValue=(PAD_VALUE,) * 3)
    moved = boxes * scale + np.tile(m[:, 2], 2)
    clipped = np.clip(moved, 0, size)
    area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])  # noqa: E731
    keep = (area(clipped) > 0.3 * np.maximum(area(moved), 1e-6)) & (
        np.minimum(clipped[:, 2] - clipped[:, 0], clipped[:, 3] - clipped[:, 1]) > 2)
    return out, clipped[keep], labels[keep]


def hsv_jitter(image: np.ndarray, gain: float, rng: np.random.Generator) -> np.ndarray:
    """Random hue/saturation/value gains in [1 - gain, 1 + gain] (YOLOv5's augment_hsv)."""
    gains = rng.uniform(1 - gain, 1 + gain, 3) * np.array([0.1, 1.0, 1.0]) + np.array([0.9, 0, 0])
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV).astype(np.float32) * gains
    hsv[..., 0] %= 180
    return cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2RGB)


class DetectionDataset(Dataset):
    """Records -> (Tensor[3, S, S], {"boxes": Tensor[N, 4] xyxy letterboxed, "labels": [N]})."""

    def __init__(self, records: DetectionRecords, size: int, augment: Augment | None = None) -> None:
        self.records, self.size, self.augment = records, size, augment or Augment()

    def __len__(self) -> int:
        return len(self.records)

    def letterboxed(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        image, lb = letterbox(load_rgb(self.records.images[i]), self.size)
        boxes = boxes_to_letterbox(torch.from_numpy(self.records.boxes[i]), lb).numpy()
        return image, boxes, self.records.labels[i]

    def mosaic(self, i: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Four letterboxed images in the quadrants of a (2S, 2S) canvas."""
        s, parts = self.size, [self.letterboxed(i)]
        parts += [self.letterboxed(int(j)) for j in rng.integers(0, len(self), 3)]
        canvas = np.empty((2 * s, 2 * s, 3), np.uint8)
        boxes, labels = [], []
        for (image, b, lab), (ox, oy) in zip(parts, [(0, 0), (s, 0), (0, s), (s, s)], strict=True):
            canvas[oy: oy + s, ox: ox + s] = image
            boxes.append(b + np.array([ox, oy, ox, oy], np.float32))
            labels.append(lab)
        return canvas, np.concatenate(boxes), np.concatenate(labels)

    def __getitem__(self, i: int) -> tuple[Tensor, dict[str, Tensor]]:
        a, rng = self.augment, np.random.default_rng(np.random.randint(2**31))
        use_mosaic = rng.random() < a.mosaic
        image, boxes, labels = self.mosaic(i, rng) if use_mosaic else self.letterboxed(i)
        if use_mosaic or a.scale or a.translate:
            zoom = (0.5 if use_mosaic else 1.0) * rng.uniform(1 - a.scale, 1 + a.scale)
            shift = tuple(rng.uniform(-a.translate, a.translate, 2) * self.size)
            image, boxes, labels = affine(image, boxes, labels, self.size, zoom, shift)
        if a.hsv:
            image = hsv_jitter(image, a.hsv, rng)
        if rng.random() < a.flip:
            image = image[:, ::-1]
            boxes = np.stack([self.size - boxes[:, 2], boxes[:, 1], self.size - boxes[:, 0],
                              boxes[:, 3]], axis=1) if len(boxes) else boxes
        return to_tensor(image), {"boxes": torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                                  "labels": torch.as_tensor(labels, dtype=torch.long)}


def collate(batch: list[tuple[Tensor, dict[str, Tensor]]]) -> tuple[Tensor, list[dict[str, Tensor]]]:
    """Stack images (B, 3, S, S); keep targets as a list (each image has its own count)."""
    return torch.stack([b[0] for b in batch]), [b[1] for b in batch]


def read_mnist(folder: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Every IDX pair in `folder` -> (uint8 (N, 28, 28), labels (N,))."""
    pairs = [read_idx_pair(p) for p in idx_pairs(Path(folder)).values()]
    return np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])


class SceneDataset(Dataset):
    """`length` fresh digit scenes per epoch from MNIST digits, drawn on the fly."""

    def __init__(self, digits: np.ndarray, labels: np.ndarray, length: int,
                 scene: SceneConfig | None = None) -> None:
        self.digits, self.labels, self.length = digits, labels, length
        self.scene = scene or SceneConfig()

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> tuple[Tensor, dict[str, Tensor]]:
        # np.random is reseeded per epoch by the Trainer: new scenes each epoch, reproducibly.
        scene = make_scene(self.digits, self.labels, self.scene,
                           np.random.default_rng(np.random.randint(2**31)))
        return to_tensor(scene.image), {"boxes": torch.from_numpy(scene.boxes),
                                        "labels": torch.from_numpy(scene.labels)}


def scene_records(digits: np.ndarray, labels: np.ndarray, count: int, seed: int,
                  scene: SceneConfig | None = None) -> DetectionRecords:
    """A fixed set of `count` generated scenes as records with a COCO ground truth."""
    cfg, rng = scene or SceneConfig(), np.random.default_rng(seed)
    scenes = [make_scene(digits, labels, cfg, rng) for _ in range(count)]
    records = DetectionRecords([s.image for s in scenes], [s.boxes for s in scenes],
                               [s.labels for s in scenes], list(range(1, count + 1)),
                               DIGIT_NAMES, list(range(1, 11)))
    records.coco = coco_ground_truth(records, [(cfg.size, cfg.size)] * count)
    return records


def write_scene_video(path: str | Path, digits: np.ndarray, labels: np.ndarray, frames: int,
                      seed: int = 0, size: int = 320, fps: float = 25.0) -> Path:
    """An .mp4 of a (size, size) window panning 4 px a frame across one wider digit scene."""
    rng = np.random.default_rng(seed)
    wide = make_scene(digits, labels, SceneConfig(size=size + 4 * frames, max_digits=12), rng)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (size, size))
    top = (wide.image.shape[0] - size) // 2
    for i in range(frames):
        window = wide.image[top: top + size, 4 * i: 4 * i + size]
        writer.write(cv2.cvtColor(np.ascontiguousarray(window), cv2.COLOR_RGB2BGR))
    writer.release()
    return Path(path)
