"""Localization data: (image, label, box) samples from generated digit images or a
COCO instances file, letterboxed into model inputs.

A *source* is any Dataset yielding `(uint8 (H, W, 3) RGB, label int, float32 (4,)
xyxy box in that image's pixels)`; `LocateTrainSet` turns one into model inputs and
targets. The preprocessing (input side, normalisation) is stored in every checkpoint.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from neocog.core.boxes import Letterbox, boxes_to_letterbox, letterbox
from neocog.core.errors import NeocogError
from neocog.datasets.coco import CocoImage, read_coco
from neocog.datasets.digit_scenes import DigitLocateDataset, SceneStyle
from neocog.datasets.idx import download_mnist, idx_pairs, read_idx_pair
from neocog.datasets.images import read_image, require_files

from ..classification.data import MNIST_NAMES, holdout

PRIMARY_RULES = ("largest", "first")
VAL_FRACTION = 0.125  # share of digits held out of training (default of --val-fraction)


@dataclass
class Preprocess:
    size: int = 128  # square input side: images are letterboxed to it
    mean: float = 0.5  # on [0, 1], all channels
    std: float = 0.25

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def to_input(image: np.ndarray, pre: Preprocess) -> tuple[Tensor, Letterbox]:
    """uint8 (H, W, 3) RGB -> normalised Tensor[3, size, size] and its letterbox mapping."""
    boxed, lb = letterbox(image, pre.size)
    # In numpy on purpose: per-image torch ops on a busy 2-core machine spin up the
    # intra-op thread pool and cost ~100x more than the arithmetic.
    x = (boxed.astype(np.float32) * (1 / 255) - pre.mean) / pre.std
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1))), lb  # HWC -> CHW


class LocateTrainSet(Dataset):
    """A source -> (Tensor[3, S, S], {"boxes": Tensor[4] xyxy input pixels, "labels": int})."""

    def __init__(self, source: Dataset, pre: Preprocess) -> None:
        self.source, self.pre = source, pre

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, i: int) -> tuple[Tensor, dict[str, Any]]:
        image, label, box = self.source[i]
        x, lb = to_input(image, self.pre)
        box = boxes_to_letterbox(torch.from_numpy(box)[None], lb)[0]  # (1, 4) -> (4,)
        return x, {"boxes": box, "labels": label}


def primary_index(record: CocoImage, rule: str) -> int:
    """Which of an image's boxes is its main object: the largest by area, or the first."""
    return int(np.argmax(record.areas)) if rule == "largest" else 0


class CocoLocateSource(Dataset):
    """COCO images with at least one box -> (image, primary label, primary box)."""

    def __init__(self, records: list[CocoImage], primary: str) -> None:
        if primary not in PRIMARY_RULES:
            raise NeocogError(f"--primary {primary}: expected one of {', '.join(PRIMARY_RULES)}")
        self.records = [r for r in records if len(r.boxes)]
        self.primary = primary

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> tuple[np.ndarray, int, np.ndarray]:
        record = self.records[i]
        k = primary_index(record, self.primary)
        return read_image(record.path, 3), int(record.labels[k]), record.boxes[k]


@dataclass
class LocateData:
    train: Dataset  # a source (see module docstring)
    val: Dataset
    names: list[str]


def mnist_digits(data: str, cache: str = "") -> tuple[np.ndarray, np.ndarray]:
    """All digits of an MNIST IDX folder (empty: download MNIST), concatenated."""
    folder = Path(data) if data else download_mnist(cache or Path.home() / ".cache" / "neocog")
    parts = [read_idx_pair(p) for p in idx_pairs(folder).values()]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def generated_data(data: str, train_images: int, val_images: int, val_fraction: float,
                   seed: int) -> LocateData:
    """Digit images generated on the fly; validation digits are held out of training."""
    digits, labels = mnist_digits(data)
    train, val = holdout(labels, val_fraction)
    style = SceneStyle()
    return LocateData(
        DigitLocateDataset(digits[train], labels[train], train_images, style, seed),
        DigitLocateDataset(digits[val], labels[val], val_images, style, seed + 1, fixed=True),
        MNIST_NAMES)


def unseen_digits(data: str, images: int, val_fraction: float = VAL_FRACTION,
                  seed: int = 1000) -> Dataset:
    """`images` new images of the digits that `generated_data` (with this `val_fraction`)
    holds out of training; the seed differs from the validation images' that pick the
    best epoch, so these measure a trained model on digits it never saw."""
    return generated_data(data, 0, images, val_fraction, seed).val


def coco_source(annotations: str, primary: str) -> tuple[CocoLocateSource, list[str]]:
    """A validated COCO file -> its (image, primary label, primary box) source and class
    names; every image file is checked up front, so training never stops half-way."""
    instances = read_coco(annotations)
    source = CocoLocateSource(instances.images, primary)
    if not len(source):
        raise NeocogError(f"{annotations}: no image has a (non-crowd) box")
    require_files(annotations, [r.path for r in source.records], "image")
    return source, instances.names
