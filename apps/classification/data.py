"""Classification data: MNIST IDX, CIFAR-10 batches or an image folder -> (image, label).

Preprocessing (size, channels, normalisation, inversion) is a small dict stored in
every checkpoint and reused at inference, so a model always sees what it trained on.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset
from torchvision.transforms import v2

from neocog.core.errors import NeocogError
from neocog.datasets.cifar import read_cifar10
from neocog.datasets.idx import download_mnist, idx_pairs, read_idx_pair
from neocog.datasets.images import read_image_folder

MNIST_NAMES = [str(d) for d in range(10)]


@dataclass
class Preprocess:
    size: int = 28  # square input side in pixels
    channels: int = 1  # 1 grey, 3 RGB
    mean: float = 0.1307  # MNIST's pixel mean / std (on [0, 1])
    std: float = 0.3081
    # MNIST digits are light ink on black; a photo of a digit on paper is the reverse,
    # so a light-background image is inverted before a model trained on MNIST sees it.
    invert_light: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def to_tensor(image: np.ndarray, pre: Preprocess) -> Tensor:
    """uint8 (H, W) or (H, W, 3) -> float Tensor[C, size, size] in [0, 1], not normalised."""
    if pre.channels == 1 and image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    if pre.channels == 3 and image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if pre.invert_light and image.mean() > 127:
        image = 255 - image
    if image.shape[:2] != (pre.size, pre.size):
        image = cv2.resize(image, (pre.size, pre.size), interpolation=cv2.INTER_AREA)
    tensor = torch.from_numpy(np.ascontiguousarray(image)).float().div_(255)
    return tensor[None] if tensor.ndim == 2 else tensor.permute(2, 0, 1)  # (H, W, C) -> (C, H, W)


def normalize(batch: Tensor, pre: Preprocess) -> Tensor:
    return (batch - pre.mean) / pre.std


@dataclass
class DigitAffine:
    """A random rotation, shift, scale and x-shear of a Tensor[C, S, S], uniform over the
    ranges torchvision's RandomAffine took here (the shift in sub-pixels, where it rounds
    to whole pixels), drawn from torch's generator so --seed and loader workers seed it,
    and warped by OpenCV, bilinear with black borders: 0.07 ms per
    28 px digit against RandomAffine's 0.39, when loading was 40% of an MNIST step."""

    degrees: float = 12.0
    translate: float = 0.12  # share of the side, each axis
    scale: tuple[float, float] = (0.85, 1.15)
    shear: float = 8.0  # degrees, x only

    def matrix(self, side: int) -> np.ndarray:
        """A random forward map p -> A (p - c) + c + t about the centre c: float32 (2, 3)."""
        u = (torch.rand(5) * 2 - 1).tolist()  # each in [-1, 1)
        angle, shear = math.radians(self.degrees * u[0]), math.radians(self.shear * u[1])
        lo, hi = self.scale
        s = lo + (hi - lo) * (u[2] + 1) / 2
        rotate = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
        a = s * rotate @ np.array([[1.0, math.tan(shear)], [0.0, 1.0]])
        c = np.full(2, (side - 1) / 2)
        t = np.array(u[3:]) * self.translate * side
        return np.hstack([a, (c + t - a @ c)[:, None]]).astype(np.float32)

    def __call__(self, x: Tensor) -> Tensor:
        side = x.shape[-1]
        image = np.ascontiguousarray(x.numpy().transpose(1, 2, 0))  # (S, S, C) for OpenCV
        warped = cv2.warpAffine(image, self.matrix(side), (side, side), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        return torch.from_numpy(warped.reshape(side, side, -1)).permute(2, 0, 1)


def augmentation(pre: Preprocess, translate: float = 0.125) -> DigitAffine | v2.Transform:
    """Random affine for digits (no flips: a mirrored 2 is no 2); for photos a flip and
    a shift of up to `translate` of the side (reflect-padded crop)."""
    if pre.channels == 1:
        return DigitAffine()
    pad = round(pre.size * translate)
    shift = [v2.RandomCrop(pre.size, padding=pad, padding_mode="reflect")] if pad else []
    return v2.Compose([*shift, v2.RandomHorizontalFlip()])


class ArrayDataset(Dataset):
    """In-memory uint8 images + labels -> (normalised Tensor[C, S, S], label)."""

    def __init__(self, images: list[np.ndarray] | np.ndarray, labels: np.ndarray, pre: Preprocess,
                 augment: bool = False, translate: float = 0.125) -> None:
        self.images, self.labels, self.pre = images, labels, pre
        self.augment = augmentation(pre, translate) if augment else None

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[Tensor, int]:
        x = to_tensor(self.images[i], self.pre)
        if self.augment is not None:
            x = self.augment(x)
        return normalize(x, self.pre), int(self.labels[i])


@dataclass
class Split:
    train_images: Any
    train_labels: np.ndarray
    val_images: Any
    val_labels: np.ndarray
    names: list[str]
    pre: Preprocess


def holdout(labels: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val): a fixed permutation (seed 0), the last `fraction` held out."""
    order = np.random.default_rng(0).permutation(len(labels))
    n_val = max(1, int(round(len(labels) * fraction)))
    return order[:-n_val], order[-n_val:]


def class_tails(labels: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val) of an image folder: the last `fraction` of each class's
    files (in name order) held out, so the split is fixed, balanced, and the same
    whatever else the folder holds (CIFAR-10's folders: the last 500 of each class)."""
    val = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        # At least one held out, and at least one left to train on (none of a 1-image class)
        n_val = min(max(1, int(round(len(members) * fraction))), len(members) - 1)
        val.extend(members[len(members) - n_val:])
    held = np.zeros(len(labels), dtype=bool)
    held[val] = True
    return np.flatnonzero(~held), np.flatnonzero(held)


def detect_kind(folder: Path) -> str:
    if any(folder.glob("*-images-idx3-ubyte*")):
        return "mnist"
    if (folder / "data_batch_1").exists() or (folder / "test_batch").exists():
        return "cifar10"
    return "folder"


def load_split(data: str, val_fraction: float, imgsz: int = 0, cache: str = "",
               by_class: bool = True) -> Split:
    """Read `data` (empty: download MNIST to `cache`) into a train/val split; an image
    folder holds out each class's tail (class_tails), or with `by_class` False the random
    `holdout` that models trained before class_tails existed held out."""
    folder = Path(data) if data else download_mnist(cache or Path.home() / ".cache" / "neocog")
    if not folder.exists():
        raise NeocogError(f"{folder}: no such data folder")
    kind = detect_kind(folder)
    if kind == "cifar10":
        tx, ty, names = read_cifar10(folder, train=True)
        vx, vy, _ = read_cifar10(folder, train=False)
        return Split(tx, ty, vx, vy, names, colour_preprocess(imgsz or 32))
    if kind == "mnist":
        pairs = idx_pairs(folder)
        if "train" in pairs and "t10k" in pairs:  # the official split
            tx, ty = read_idx_pair(pairs["train"])
            vx, vy = read_idx_pair(pairs["t10k"])
            return Split(tx, ty, vx, vy, MNIST_NAMES, Preprocess(size=imgsz or 28))
        parts = [read_idx_pair(p) for p in pairs.values()]
        images = np.concatenate([p[0] for p in parts])
        labels = np.concatenate([p[1] for p in parts])
        names, pre = MNIST_NAMES, Preprocess(size=imgsz or images.shape[1])
        train, val = holdout(labels, val_fraction)
    else:
        images, labels, names = read_image_folder(folder, channels=3)  # a list: sizes differ
        pre = colour_preprocess(imgsz or 64)
        train, val = (class_tails if by_class else holdout)(labels, val_fraction)
    return Split([images[i] for i in train], labels[train], [images[i] for i in val], labels[val],
                 names, pre)


def colour_preprocess(size: int) -> Preprocess:
    # ImageNet statistics, averaged over channels: a fine default for natural photos.
    return Preprocess(size=size, channels=3, mean=0.449, std=0.226, invert_light=False)
