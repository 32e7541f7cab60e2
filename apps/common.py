"""Pieces every app's entrypoints share: error handling, JSON output, batches of files."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from neocog.core.errors import NeocogError

A = TypeVar("A")  # what a batch command reads from each file
T = TypeVar("T")  # what it makes of it


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


def print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=None))


class Failures:
    """The files a batch command could not use. Each is reported on stderr as it is met,
    on one line naming it, and the command carries on; `status` is its exit status."""

    def __init__(self) -> None:
        self.count = 0

    def report(self, err: NeocogError) -> None:
        print(f"error: {err}", file=sys.stderr)
        self.count += 1

    @property
    def status(self) -> int:
        return int(self.count > 0)


def readable(read: Callable[[Path], A], files: Iterable[Path],
             failures: Failures | None = None) -> Iterator[tuple[Path, A]]:
    """(file, read(file)) for each file; a file `read` refuses with a NeocogError is
    reported to `failures` and skipped (without `failures`, the error is raised)."""
    for path in files:
        try:
            item = read(path)
        except NeocogError as err:
            if failures is None:
                raise
            failures.report(err)
            continue
        yield path, item


def predict_in_batches(read: Callable[[Path], A], predict: Callable[[list[A]], list[T]],
                       files: Iterable[Path], batch_size: int,
                       failures: Failures) -> Iterator[tuple[Path, T]]:
    """(file, result) for every file `read` accepts, `predict` called on at most
    `batch_size` inputs at a time. Files are read one by one, so a bad one is reported
    to `failures` and left out without costing its batch."""
    items = readable(read, files, failures)
    while batch := list(islice(items, batch_size)):
        paths, inputs = zip(*batch, strict=True)
        yield from zip(paths, predict(list(inputs)), strict=True)
