"""Checkpoints: safetensors weights + a JSON header; loading never unpickles code.

The header holds the model spec (backbone + head configs), the task, class names,
preprocessing and the package version, so a file alone rebuilds its model.
Every write is atomic (temp file in the same folder + rename), so a kill at any
moment leaves the previous good file readable.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .errors import NeocogError
from .heads import TaskModel, model_from_spec

FORMAT = "neocog/1"
HEADER_KEY = "neocog"


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("neocog")
    except PackageNotFoundError:
        return "0+unknown"


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` on a temp file beside `path`, fsync it, then rename over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a checkpoint is an ordinary file
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_checkpoint(path: str | Path, model: TaskModel, meta: dict[str, Any]) -> None:
    """Write `model`'s weights and a header {format, version, model spec, **meta}."""
    header = {"format": FORMAT, "version": package_version(), "model": model.spec(), **meta}
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    metadata = {HEADER_KEY: json.dumps(header)}
    atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))


def read_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read (tensors, header); a missing, corrupt or foreign file raises NeocogError."""
    path = Path(path)
    if not path.is_file():
        raise NeocogError(f"{path}: no such checkpoint file")
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise NeocogError(f"{path}: not a readable safetensors checkpoint ({err})") from None
    if HEADER_KEY not in metadata:
        raise NeocogError(f"{path}: safetensors file without a neocog header")
    try:
        header = json.loads(metadata[HEADER_KEY])
    except json.JSONDecodeError as err:
        raise NeocogError(f"{path}: its neocog header is not valid JSON ({err})") from None
    return tensors, header


def load_model(path: str | Path, task: str) -> tuple[TaskModel, dict[str, Any]]:
    """Rebuild the model a checkpoint describes and load its weights (eval mode)."""
    tensors, header = read_checkpoint(path)
    found = header.get("model", {}).get("task")
    if found != task:
        raise NeocogError(f"{path}: a '{found}' checkpoint, expected a '{task}' one")
    try:
        model = model_from_spec(header["model"])
    except NeocogError as err:
        raise NeocogError(f"{path}: {err}") from None
    try:
        model.load_state_dict(tensors)
    except RuntimeError as err:
        first = str(err).strip().splitlines()
        detail = first[1].strip() if len(first) > 1 else first[0]
        raise NeocogError(f"{path}: weights do not fit the model in its header: {detail}") from None
    return model.eval(), header


def save_training_state(path: str | Path, state: dict[str, Any]) -> None:
    """Optimizer/scheduler/EMA state for --resume: plain tensors and numbers only."""
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_training_state(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise NeocogError(f"{path}: nothing to resume (no training state)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)  # never unpickles code
    except Exception as err:  # noqa: BLE001 - torch raises many types for a bad file
        raise NeocogError(f"{path}: unreadable training state ({err})") from None
