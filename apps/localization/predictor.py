"""Library API: `Localizer()` then `localizer(images)` -> one class and box per image."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from neocog.core.boxes import boxes_from_letterbox
from neocog.core.checkpoint import load_model
from neocog.core.heads import TaskModel
from neocog.core.precision import Runtime, prepare
from neocog.core.zoo import default_model, resolve_weights
from neocog.datasets.images import read_image

from .data import Preprocess, to_input

TASK = "locate"
DEFAULT_WEIGHTS = default_model(TASK).path  # the model a predictor given no weights loads


@dataclass
class Located:
    label: str
    index: int
    score: float
    box: list[float]  # [x1, y1, x2, y2] in pixels of the original image


@torch.no_grad()
def locate_arrays(model: TaskModel, pre: Preprocess, images: list[np.ndarray],
                  runtime: Runtime | None = None) -> list[tuple[int, float, np.ndarray]]:
    """uint8 (H, W, 3) RGB images of any size -> (class index, score, float32 (4,) xyxy box
    in that image's pixels) each: letterboxed in, boxes mapped back out."""
    inputs, boxes = zip(*(to_input(im, pre) for im in images), strict=True)
    runtime = runtime or Runtime.as_placed(model)
    preds = model.predict(runtime.forward(model, torch.stack(inputs)))
    return [(p.index, p.score, boxes_from_letterbox(p.box[None], lb)[0].numpy())
            for p, lb in zip(preds, boxes, strict=True)]


class Localizer:
    """A trained localizer plus its preprocessing and class names; `device`,
    `precision`, `threads` and `memory_format` as in core.precision.prepare."""

    def __init__(self, weights: str | Path | None = None, device: str = "auto",
                 precision: str = "auto", threads: int | None = None,
                 memory_format: str = "auto") -> None:
        self.weights = resolve_weights(weights, TASK)
        self.model, self.header = load_model(self.weights, TASK)
        self.runtime = prepare(self.model, TASK, "infer", device, precision, threads,
                               memory_format)
        self.names: list[str] = self.header["names"]
        self.pre = Preprocess(**self.header["preprocess"])

    def __call__(self, images: list[np.ndarray | str | Path]) -> list[Located]:
        """Paths or uint8 RGB arrays (any size) -> one Located per image."""
        arrays = [im if isinstance(im, np.ndarray) else read_image(im, 3) for im in images]
        return [Located(self.names[i], i, s, [round(float(v), 1) for v in box])
                for i, s, box in locate_arrays(self.model, self.pre, arrays, self.runtime)]
