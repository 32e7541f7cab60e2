"""Runs page: every run folder under the runs folder (runs/<task>/<name>/), its
config, metrics and pictures; files are served only from inside that folder."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from neocog.core.errors import NeocogError

from .models import TASKS
from .safety import Refused, confine, inside

router = APIRouter(prefix="/api")
SERVED = {".png": "image/png", ".jpg": "image/jpeg", ".csv": "text/csv",
          ".json": "application/json", ".txt": "text/plain"}
RUN_TASKS = (*TASKS, "locate")


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def read_metrics(path: Path) -> list[dict[str, str]]:
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except (OSError, csv.Error):
        return []


def describe_run(runs: Path, folder: Path) -> dict[str, Any]:
    """A run folder's files (none that links out of `runs`), config, metrics and summary."""
    files = sorted(p.name for p in folder.iterdir()
                   if p.is_file() and not p.name.startswith(".") and inside(runs, p))
    return {"task": folder.parent.name, "name": folder.name,
            "path": folder.relative_to(runs).as_posix(), "files": files,
            "images": [f for f in files if f.endswith((".png", ".jpg"))],
            "checkpoints": [f for f in files if f.endswith(".safetensors")],
            "config": read_json(folder / "config.json") if "config.json" in files else None,
            "metrics": read_metrics(folder / "metrics.csv") if "metrics.csv" in files else [],
            "summary": read_json(folder / "metrics.json") if "metrics.json" in files else None}


@router.get("/runs")
def runs(request: Request) -> list[dict[str, Any]]:
    root: Path = request.app.state.studio.runs
    folders = [f for task in RUN_TASKS if (root / task).is_dir()
               for f in sorted((root / task).iterdir()) if f.is_dir() and inside(root, f)]
    return [describe_run(root, f) for f in folders]


@router.get("/runs/file")
def run_file(request: Request, path: str) -> FileResponse:
    """A picture or table of a run; a path outside the runs folder is refused (403)."""
    file = confine(request.app.state.studio.runs, path)
    if file.suffix.lower() not in SERVED:
        raise Refused(f"{path}: only {', '.join(SERVED)} files of a run are served")
    if not file.is_file():
        raise NeocogError(f"{path}: no such file in the runs folder")
    return FileResponse(file, media_type=SERVED[file.suffix.lower()])


@router.get("/models")
def models(request: Request, task: str) -> list[dict[str, str]]:
    if task not in TASKS:
        raise NeocogError(f"task '{task}': expected one of {', '.join(TASKS)}")
    return request.app.state.studio.models.choices(task)
