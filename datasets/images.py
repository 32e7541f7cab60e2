"""Reading image files and image folders (`class/xxx.png`) with clear errors."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from neocog.core.errors import NeocogError

# What read_image decodes (Pillow), by the names a folder is listed by; a single file is
# held to the same list (see list_files).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".bmp", ".dib", ".gif", ".tif",
                  ".tiff", ".webp", ".pbm", ".pgm", ".ppm", ".pnm", ".tga")


def read_image(path: str | Path, channels: int = 3) -> np.ndarray:
    """An image file -> uint8 array (H, W) for channels=1, (H, W, 3) for channels=3.

    Whatever the file's mode, the array is the picture as it looks in 8-bit RGB (see
    `rendered`); an image over Pillow's pixel limit is refused, not decoded.
    """
    path = Path(path)
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; decoding such a
            # file (a header can claim any size) is what the limit is there to stop.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                rgb = rendered(img)
    except FileNotFoundError:
        raise NeocogError(f"{path}: no such image file") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise NeocogError(f"{path}: refused, too many pixels to decode ({err})") from None
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise NeocogError(f"{path}: not a readable image ({err})") from None
    return np.asarray(rgb.convert("L") if channels == 1 else rgb).copy()


def rendered(img: Image.Image) -> Image.Image:
    """Any Pillow mode -> the 8-bit RGB image it shows.

    Pillow's own convert() clips 16-bit samples (a mid-grey 32896 becomes white) and
    drops alpha (black ink on a transparent canvas becomes all black), so: 16-bit and
    float samples are scaled to 8 bits, and transparency is composited onto white.
    """
    if img.mode.startswith("I") or img.mode == "F":
        img = Image.fromarray(grey8(np.asarray(img), img.mode), "L")
    if img.has_transparency_data:  # RGBA, LA, PA, or P / L / RGB with a transparent colour
        img = Image.alpha_composite(Image.new("RGBA", img.size, "white"), img.convert("RGBA"))
    return img.convert("RGB")


def grey8(samples: np.ndarray, mode: str) -> np.ndarray:
    """(H, W) samples of mode I;16*, I or F -> uint8 (H, W).

    Integer samples are taken as 16-bit, 0..65535 -> 0..255: the widest grey a PNG or
    PNM holds and the usual TIFF (Pillow opens some as mode I; a rare 32-bit integer TIFF
    is read on the same scale). Float samples keep Pillow's scale (convert("F") of an
    8-bit image gives 0..255); NaN reads as 0.
    """
    scale = 1.0 if mode == "F" else 255 / 65535
    scaled = np.nan_to_num(samples.astype(np.float64) * scale)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def list_files(source: str | Path, suffixes: tuple[str, ...], what: str) -> list[Path]:
    """A file -> [file]; a folder -> its files with `suffixes`, sorted, searched recursively.

    A file given alone is held to the same suffixes, so that what works for one file
    works for a folder of them, and what a folder would skip is refused, not guessed at.
    """
    source = Path(source)
    if source.is_file():
        if source.suffix.lower() not in suffixes:
            raise NeocogError(f"{source}: not read as {what}: its suffix is not one of "
                              f"{', '.join(suffixes)}")
        return [source]
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.suffix.lower() in suffixes)
        if not files:
            raise NeocogError(f"{source}: folder holds no {what} ({', '.join(suffixes)})")
        return files
    raise NeocogError(f"{source}: no such file or folder")


def inside(folder: Path, name: Any, where: str, absolute: bool = False) -> Path:
    """`folder / name` for a path a data file lists; `where` names the file and entry.

    A relative name may not climb out of `folder` (`../../etc/passwd`); an absolute one
    is refused unless `absolute` (a manifest may list files anywhere, a COCO file_name
    is a name in its images folder). The check is on the text, not the resolved path,
    so a link inside the folder may point anywhere (a dataset of links to a store).
    """
    if not isinstance(name, str) or not name:
        raise NeocogError(f"{where}: path {name!r} is not a file name")
    if Path(name).is_absolute():
        if absolute:
            return Path(name)
        raise NeocogError(f"{where}: absolute path '{name}', expected a name inside {folder}")
    if not Path(os.path.abspath(folder / name)).is_relative_to(os.path.abspath(folder)):
        raise NeocogError(f"{where}: path '{name}' climbs out of {folder}")
    return folder / name


def require_files(where: str | Path, files: list[Path], what: str) -> None:
    """Raise NeocogError naming `where`, the file or folder that lists `files`, when any
    of them is missing: a dataset is found incomplete before training, not epochs in."""
    missing = [p for p in files if not p.is_file()]
    if len(missing) == 1:
        raise NeocogError(f"{where}: {what} file {missing[0]} is missing")
    if missing:
        raise NeocogError(f"{where}: {len(missing)} {what} files are missing, first {missing[0]}")


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
