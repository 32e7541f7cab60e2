"""CIFAR-10's official python batches (data_batch_1..5, test_batch, batches.meta).

The batches are pickles; they are read with an unpickler that accepts only numpy
arrays and plain containers, so a hostile file cannot run code.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from neocog.core.errors import NeocogError

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"), ("_codecs", "encode"),
}


class _DataOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def read_batch(path: Path) -> dict[str, Any]:
    """One batch file -> dict with str keys (b'data' -> 'data')."""
    try:
        with open(path, "rb") as f:
            raw = _DataOnlyUnpickler(f, encoding="bytes").load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError) as err:
        raise NeocogError(f"{path}: not a CIFAR python batch ({err})") from None
    if not isinstance(raw, dict):
        raise NeocogError(f"{path}: not a CIFAR python batch (holds {type(raw).__name__})")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in raw.items()}


def read_cifar10(folder: str | Path, train: bool) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Images (N, 32, 32, 3) uint8, labels (N,) int64 and the 10 class names."""
    folder = Path(folder)
    names = [n.decode() for n in read_batch(folder / "batches.meta")["label_names"]] \
        if (folder / "batches.meta").exists() else [str(i) for i in range(10)]
    files = sorted(folder.glob("data_batch_*")) if train else [folder / "test_batch"]
    if not files or not files[0].exists():
        raise NeocogError(f"{folder}: no CIFAR-10 {'data_batch_*' if train else 'test_batch'} files")
    images, labels = [], []
    for path in files:
        batch = read_batch(path)
        data, batch_labels = batch.get("data"), batch.get("labels")
        if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != 3072:
            raise NeocogError(f"{path}: 'data' must be an (N, 3072) array")
        if batch_labels is None or len(batch_labels) != len(data):
            raise NeocogError(f"{path}: {0 if batch_labels is None else len(batch_labels)} "
                              f"labels for {len(data)} images")
        # Rows are 1024 red, 1024 green, 1024 blue values: (N, 3, 32, 32) -> (N, 32, 32, 3)
        images.append(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        labels.append(np.asarray(batch_labels, dtype=np.int64))
    return np.concatenate(images), np.concatenate(labels), names
