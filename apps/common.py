"""Pieces every app's entrypoints share: error handling, weights, output folders."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from neocog.core.errors import NeocogError

T = TypeVar("T")


def run_main(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None) -> int:
    """Run an entrypoint; a NeocogError becomes one line on stderr and exit status 1."""
    try:
        return int(main(argv) or 0)
    except NeocogError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def weights_or_default(weights: str, default: Path) -> Path:
    """The --weights path, or the model shipped with the package."""
    return Path(weights) if weights else default


def print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=None))


def predict_in_batches(predict: Callable[[list[Path]], list[T]], files: list[Path],
                       batch_size: int) -> Iterator[tuple[Path, T]]:
    """(file, result) for every file, calling `predict` on at most `batch_size` at a time."""
    for i in range(0, len(files), batch_size):
        chunk = files[i: i + batch_size]
        yield from zip(chunk, predict(chunk), strict=True)
