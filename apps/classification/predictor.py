"""Library API: `Classifier.load()` then `classifier(images)` -> one result per image."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from neocog.core.checkpoint import load_model
from neocog.core.precision import prepare
from neocog.core.zoo import default_model, resolve_weights
from neocog.datasets.images import read_image

from .data import Preprocess, normalize, to_tensor
from .head import ClassPrediction
from .metrics import logits

TASK = "classify"
DEFAULT_WEIGHTS = default_model(TASK).path  # the model a predictor given no weights loads


@dataclass
class Classification:
    label: str
    index: int
    score: float


class Classifier:
    """A trained classifier plus its preprocessing and class names; `weights`: a file or
    a shipped model's name (`neocog models`); `device`, `precision`, `threads` and
    `memory_format` as in core.precision.prepare; `tta`: average over shifted (and, for
    photos, mirrored) views (metrics.logits): slower, a little more accurate."""

    def __init__(self, weights: str | Path | None = None, device: str = "auto",
                 precision: str = "auto", threads: int | None = None,
                 memory_format: str = "auto", tta: bool = False) -> None:
        self.tta = tta
        self.weights = resolve_weights(weights, TASK)
        self.model, self.header = load_model(self.weights, TASK)
        self.runtime = prepare(self.model, TASK, "infer", device, precision, threads,
                               memory_format)
        self.names: list[str] = self.header["names"]
        self.pre = Preprocess(**self.header["preprocess"])

    def prepare(self, image: np.ndarray | str | Path) -> torch.Tensor:
        """A path or uint8 array -> normalised Tensor[C, S, S]."""
        if not isinstance(image, np.ndarray):
            image = read_image(image, self.pre.channels)
        return normalize(to_tensor(image, self.pre), self.pre)

    @torch.no_grad()
    def predictions(self, images: list[np.ndarray | str | Path]) -> list[ClassPrediction]:
        """The head's prediction per image, with its probabilities over `names`."""
        batch = torch.stack([self.prepare(im) for im in images])  # (B, C, S, S)
        return self.model.predict(logits(self.model, self.runtime, batch, self.tta))

    def __call__(self, images: list[np.ndarray | str | Path]) -> list[Classification]:
        return [Classification(self.names[r.index], r.index, r.score)
                for r in self.predictions(images)]
