"""MNIST's official IDX format (http://yann.lecun.com/exdb/mnist/), gzipped or not.

An IDX file is a big-endian header -- two zero bytes, a type code (0x08 = uint8) and
the number of dimensions -- then one uint32 size per dimension, then the data.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from neocog.core.errors import NeocogError

IMAGES_GLOB = "*-images-idx3-ubyte*"


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file into a uint8 array: images (N, H, W), labels (N,)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:
        raise NeocogError(f"{path}: cannot read IDX file ({err})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise NeocogError(f"{path}: not an IDX file (bad magic number)")
    if raw[2] != 0x08:
        raise NeocogError(f"{path}: IDX type 0x{raw[2]:02x} unsupported (only unsigned bytes)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims)) if dims else 0
    if len(raw) - header != expected:
        raise NeocogError(f"{path}: header says {dims} = {expected} bytes of data, "
                          f"file holds {len(raw) - header} (truncated or corrupt)")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def labels_path_for(images: Path) -> Path:
    """train-images-idx3-ubyte.gz -> train-labels-idx1-ubyte.gz (same folder)."""
    return images.with_name(images.name.replace("-images-idx3-", "-labels-idx1-"))


def read_idx_pair(images_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8 and labels (N,) int64 of one IDX pair, checked together."""
    labels_path = labels_path_for(images_path)
    if not labels_path.exists():
        raise NeocogError(f"{images_path}: no labels file beside it ({labels_path.name})")
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3:
        raise NeocogError(f"{images_path}: expected 3 dimensions (N, H, W), got {images.shape}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise NeocogError(f"{labels_path}: {labels.shape[0] if labels.ndim else 0} labels for "
                          f"{len(images)} images in {images_path.name}")
    if labels.max(initial=0) > 9:
        raise NeocogError(f"{labels_path}: label {labels.max()} is not a digit 0-9")
    return images, labels.astype(np.int64)


def idx_pairs(folder: str | Path) -> dict[str, Path]:
    """Image files of a folder by split prefix: {"train": ..., "t10k": ...}."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NeocogError(f"{folder}: no such data folder")
    found = {p.name.split("-images-")[0]: p for p in sorted(folder.glob(IMAGES_GLOB))
             if not p.name.endswith(".tmp")}
    # torchvision keeps both the .gz and the unpacked file: prefer one per prefix.
    if not found:
        raise NeocogError(f"{folder}: no MNIST IDX files ({IMAGES_GLOB} with matching labels)")
    return found


def download_mnist(root: str | Path) -> Path:
    """Fetch the official MNIST IDX files with torchvision; return their folder."""
    from torchvision.datasets import MNIST

    try:
        MNIST(str(root), train=True, download=True)
        MNIST(str(root), train=False, download=True)
    except (OSError, RuntimeError) as err:  # URLError is an OSError
        reason = " ".join(str(err).split())  # torchvision lists each mirror on its own line
        raise NeocogError(f"could not download MNIST into {root} ({reason}); offline? "
                          "pass --data DIR holding the *-idx3-ubyte.gz / *-idx1-ubyte.gz files") from None
    return Path(root) / "MNIST" / "raw"
