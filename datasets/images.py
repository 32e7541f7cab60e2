"""Reading image files and image folders (`class/xxx.png`) with clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from neocog.core.errors import NeocogError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def read_image(path: str | Path, channels: int = 3) -> np.ndarray:
    """An image file -> uint8 array (H, W) for channels=1, (H, W, 3) for channels=3."""
    path = Path(path)
    try:
        with Image.open(path) as img:
            img = img.convert("L" if channels == 1 else "RGB")
            return np.asarray(img).copy()
    except FileNotFoundError:
        raise NeocogError(f"{path}: no such image file") from None
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise NeocogError(f"{path}: not a readable image ({err})") from None


def list_files(source: str | Path, suffixes: tuple[str, ...], what: str) -> list[Path]:
    """A file -> [file]; a folder -> its files with `suffixes`, sorted, searched recursively."""
    source = Path(source)
    if source.is_file():
        return [source]
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.suffix.lower() in suffixes)
        if not files:
            raise NeocogError(f"{source}: folder holds no {what} ({', '.join(suffixes)})")
        return files
    raise NeocogError(f"{source}: no such file or folder")


def list_images(source: str | Path) -> list[Path]:
    return list_files(source, IMAGE_SUFFIXES, "images")


def read_image_folder(root: str | Path, channels: int) -> tuple[list[np.ndarray], np.ndarray, list[str]]:
    """`root/<class>/<image>` -> images, labels (N,) int64, class names (sorted folder names).

    Every file is decoded up front, so a bad one is reported before training starts.
    """
    root = Path(root)
    if not root.is_dir():
        raise NeocogError(f"{root}: no such image folder")
    names = sorted(p.name for p in root.iterdir() if p.is_dir())
    if not names:
        raise NeocogError(f"{root}: expected one sub-folder per class (root/<class>/<image>)")
    images, labels = [], []
    for label, name in enumerate(names):
        for path in sorted(p for p in (root / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            images.append(read_image(path, channels))
            labels.append(label)
    if not images:
        raise NeocogError(f"{root}: class folders hold no images")
    return images, np.asarray(labels, dtype=np.int64), names
