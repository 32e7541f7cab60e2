"""Library API: `Detector()` then `detector(images)` or `for r in detector.stream(src)`.

    det = Detector()                           # the shipped digit detector
    det(["scene.jpg"])[0]                      # -> [Detection(box, score, label, index)]
    for frame in det.stream("clip.mp4"):       # one FrameResult per frame, lazily
        print(frame.index, frame.detections)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neocog.core.boxes import boxes_from_letterbox, letterbox
from neocog.core.checkpoint import load_model
from neocog.core.heads import TaskModel
from neocog.core.precision import Runtime, prepare
from neocog.core.zoo import default_model, resolve_weights

from ..common import Failures
from .data import load_rgb, to_tensor
from .head import Detections, postprocess
from .sources import frames

TASK = "detect"
DEFAULT_WEIGHTS = default_model(TASK).path  # the model a predictor given no weights loads


@dataclass
class Detection:
    box: tuple[float, float, float, float]  # xyxy in original image pixels
    score: float
    label: str
    index: int  # class index into the detector's names


@dataclass
class FrameResult:
    index: int  # frame number within the source, from 0
    name: str  # file path, or "<source>#<frame>" for videos and cameras
    image: np.ndarray  # uint8 (H, W, 3) RGB, the frame as read
    detections: list[Detection]
    seconds: float  # letterbox + forward + NMS time of this frame


@torch.no_grad()
def detect_arrays(model: TaskModel, images: list[np.ndarray], size: int, score_threshold: float,
                  iou_threshold: float, max_det: int,
                  runtime: Runtime | None = None) -> list[Detections]:
    """uint8 RGB images of any size -> Detections in each image's own pixels (the forward
    pass through `runtime`, decoding and NMS in fp32)."""
    boxed = [letterbox(im, size) for im in images]
    runtime = runtime or Runtime.as_placed(model)
    batch = torch.stack([to_tensor(im) for im, _ in boxed])  # (B, 3, S, S)
    decoded = model.head.decode(runtime.forward(model, batch))
    results = postprocess(decoded, score_threshold, iou_threshold, max_det)
    for r, (_, lb) in zip(results, boxed, strict=True):
        r.boxes = boxes_from_letterbox(r.boxes.cpu(), lb)
        r.scores, r.labels = r.scores.cpu(), r.labels.cpu()
    return results


class Detector:
    """A trained detector with its input size, class names and thresholds; `device`,
    `precision`, `threads` and `memory_format` as in core.precision.prepare."""

    def __init__(self, weights: str | Path | None = None, device: str = "auto",
                 precision: str = "auto", threads: int | None = None,
                 memory_format: str = "auto",
                 score_threshold: float = 0.25, iou_threshold: float = 0.6,
                 max_det: int = 100) -> None:
        self.weights = resolve_weights(weights, TASK)
        self.model, self.header = load_model(self.weights, TASK)
        self.runtime = prepare(self.model, TASK, "infer", device, precision, threads,
                               memory_format)
        self.names: list[str] = self.header["names"]
        self.size: int = int(self.header["imgsz"])
        self.thresholds = (score_threshold, iou_threshold, max_det)

    def detect(self, images: list[np.ndarray]) -> list[list[Detection]]:
        """uint8 RGB arrays -> per image a list of Detection in its own pixels."""
        return [[Detection(tuple(round(v, 2) for v in box.tolist()), round(float(s), 4),
                           self.names[int(c)], int(c)) for box, s, c in
                 zip(r.boxes, r.scores, r.labels, strict=True)]
                for r in detect_arrays(self.model, images, self.size, *self.thresholds,
                                       self.runtime)]

    def __call__(self, images: list[Any]) -> list[list[Detection]]:
        """Paths or uint8 RGB arrays -> per image a list of Detection."""
        return self.detect([load_rgb(im) for im in images])

    def stream(self, source: str, failures: Failures | None = None) -> Iterator[FrameResult]:
        """Image, folder, glob, video file, camera index or stream URL -> one result per
        frame, as frames arrive (a camera that fails raises NeocogError; so does an image
        that cannot be read, unless `failures` is given to report it and go on)."""
        for index, (name, image) in enumerate(frames(source, failures)):
            started = time.perf_counter()
            found = self.detect([image])[0]
            yield FrameResult(index, name, image, found, time.perf_counter() - started)
