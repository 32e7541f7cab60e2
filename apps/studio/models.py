"""The models the pages run: each page names one by a shipped model's name or a run
checkpoint's path inside the runs folder; each is loaded once, through the apps' public
classes, and used by one request at a time."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neocog.core.precision import RuntimeConfig
from neocog.core.zoo import shipped_models

from .safety import confine, inside

TASKS = ("classify", "detect", "speech", "wavenet")
KEEP = 8  # models held at once; the least recently used goes first


def predictor_class(task: str) -> Callable[..., Any]:
    """The public predictor class of `task` (imported on first use: each loads torch models)."""
    if task == "classify":
        from neocog.apps.classification import Classifier
        return Classifier
    if task == "detect":
        from neocog.apps.detection import Detector
        return Detector
    if task == "speech":
        from neocog.apps.speech import Transcriber
        return Transcriber
    from neocog.apps.wavenet import Synthesizer
    return Synthesizer


class Loaded:
    """A predictor and the lock that keeps two requests from running it at once."""

    def __init__(self, predictor: Any) -> None:
        self.predictor = predictor
        self.lock = threading.Lock()


class Models:
    """Predictors by (task, weights), KEEP at most; `weights` is "" (the task's default),
    a shipped model's name, or a checkpoint path relative to `runs`."""

    def __init__(self, runs: Path, runtime: RuntimeConfig) -> None:
        self.runs, self.runtime = runs, runtime
        self.loaded: OrderedDict[tuple[str, str], Loaded] = OrderedDict()
        self.lock = threading.Lock()

    def weights(self, value: str) -> str | Path | None:
        """What a request's `weights` names: None, a shipped name, or a confined path."""
        if not value:
            return None
        return value if value in shipped_models() else confine(self.runs, value)

    def get(self, task: str, value: str = "") -> Loaded:
        key = (task, value)
        with self.lock:
            if key in self.loaded:
                self.loaded.move_to_end(key)
                return self.loaded[key]
        rt = self.runtime
        predictor = predictor_class(task)(self.weights(value), device=rt.device,
                                          precision=rt.precision, threads=rt.threads or None,
                                          memory_format=rt.memory_format)
        with self.lock:
            self.loaded[key] = Loaded(predictor)
            while len(self.loaded) > KEEP:
                self.loaded.popitem(last=False)
            return self.loaded[key]

    def forget(self, value: str) -> None:
        """Drop every predictor of checkpoint `value` (it was just written again)."""
        with self.lock:
            for key in [k for k in self.loaded if k[1] == value]:
                del self.loaded[key]

    def choices(self, task: str) -> list[dict[str, str]]:
        """The shipped models of `task`, then every checkpoint in runs/<task>/, as
        {value, label} for a page's model picker."""
        rows = [{"value": m.name, "label": f"{m.name} (shipped{', default' if m.default else ''})"}
                for m in sorted(shipped_models().values(), key=lambda m: not m.default)
                if m.task == task and m.path.is_file()]
        folder = self.runs / task
        found = sorted(folder.glob("*/*.safetensors")) if folder.is_dir() else []
        for path in (p for p in found if inside(self.runs, p)):
            relative = path.relative_to(self.runs).as_posix()
            rows.append({"value": relative, "label": f"run {relative}"})
        return rows
