"""Shared fixtures: the real data in ../shared/data and small files the tests make."""

from __future__ import annotations

import gzip
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
PYTHON = sys.executable

# Two cores: keep torch from oversubscribing when pytest and subprocesses overlap.
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


def cli_run(capsys: pytest.CaptureFixture, args: list[str]) -> tuple[int, str, str]:
    """`neocog ARGS` in this process -> (exit status, stdout, stderr)."""
    from neocog.apps.cli import main

    capsys.readouterr()
    try:
        code = main(args)
    except SystemExit as exit_:  # argparse errors
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write `array` (uint8) in IDX format, gzipped if the name ends with .gz."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    path = SHARED / "mnist"
    if not path.is_dir():
        pytest.skip("../shared/data/mnist is not here")
    return path


@pytest.fixture(scope="session")
def mnist_arrays(mnist_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    from neocog.datasets.idx import idx_pairs, read_idx_pair

    return read_idx_pair(next(iter(idx_pairs(mnist_dir).values())))


@pytest.fixture
def small_mnist(tmp_path: Path, mnist_arrays) -> Path:
    """The first 640 real MNIST digits as an IDX pair in a temp folder."""
    images, labels = mnist_arrays
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_idx(folder / "small-images-idx3-ubyte.gz", images[:640])
    write_idx(folder / "small-labels-idx1-ubyte.gz", labels[:640])
    return folder
