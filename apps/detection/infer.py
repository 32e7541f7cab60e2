"""`neocog detect infer --source SRC`: detect on an image, folder, glob, video file, webcam
index (`--source 0`) or stream URL. `--json` prints one JSON line per frame, `--save`
writes annotated images (or an annotated .mp4 per video/camera), `--show` opens a window
with boxes and live FPS (q quits). An image of a folder or glob that cannot be read prints
its one-line error; the others are still detected and the exit status is 1."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from neocog.core.config import parse_config
from neocog.core.precision import RuntimeConfig
from neocog.core.trainer import run_dir_for
from neocog.core.zoo import WEIGHTS_HELP

from ..common import Failures, print_json, run_main
from .predictor import TASK, Detector, FrameResult
from .sources import source_kind
from .visualize import draw

WINDOW = "neocog detect (q quits)"


@dataclass
class DetectInferConfig(RuntimeConfig):
    source: str = field(default="", metadata={
        "help": "image, folder, glob ('imgs/*.jpg'), video file, webcam index (0) or stream URL"})
    weights: str = field(default="", metadata={"help": f"{WEIGHTS_HELP}; default: the shipped digits"})
    conf: float = field(default=0.25, metadata={
        "min": 0, "max": 1, "help": "least score of a kept box"})
    iou: float = field(default=0.6, metadata={"min": 0, "max": 1, "help": "NMS overlap threshold"})
    max_det: int = field(default=100, metadata={"min": 1, "help": "most boxes per frame"})
    json: bool = field(default=False, metadata={"help": "print one JSON line of boxes per frame"})
    save: bool = field(default=False, metadata={"help": "write annotated images / video"})
    show: bool = field(default=False, metadata={"help": "open a window with boxes and FPS"})
    project: str = "runs"
    name: str = ""


class Fps:
    """End-to-end frames per second, smoothed over recent frames."""

    def __init__(self) -> None:
        self.last, self.value = time.perf_counter(), 0.0

    def tick(self) -> float:
        now = time.perf_counter()
        rate = 1.0 / max(1e-6, now - self.last)
        self.last, self.value = now, rate if self.value == 0 else 0.9 * self.value + 0.1 * rate
        return self.value


class Saver:
    """Annotated frames -> image files (image sources) or one .mp4 (video-like sources)."""

    def __init__(self, out: Path, source: str) -> None:
        self.out, self.video = out, source_kind(source) in ("video", "camera", "stream")
        self.writer: Any = None
        stem = Path(source).stem if source_kind(source) == "video" else "camera"
        self.video_path = out / f"{stem}.mp4"

    def write(self, frame: FrameResult, annotated: np.ndarray) -> None:
        self.out.mkdir(parents=True, exist_ok=True)  # made with its first file, not before
        bgr = cv2.cvtColor(annotated, cv2.COLOR_RGB2BGR)
        if not self.video:
            cv2.imwrite(str(self.out / Path(frame.name).name), bgr)
            return
        if self.writer is None:
            h, w = bgr.shape[:2]
            self.writer = cv2.VideoWriter(str(self.video_path), cv2.VideoWriter_fourcc(*"mp4v"),
                                          25.0, (w, h))
        self.writer.write(bgr)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()


def report(frame: FrameResult, as_json: bool) -> None:
    if as_json:
        print_json({"frame": frame.index, "source": frame.name,
                    "detections": [asdict(d) for d in frame.detections]})
        return
    found = ", ".join(f"{d.label} {d.score:.2f}" for d in frame.detections) or "nothing"
    print(f"{frame.name}: {found}")


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(DetectInferConfig, argv, "neocog detect infer",
                       "Detect objects (default: the shipped digit detector) in images or video.")
    if not cfg.source:
        raise SystemExit("neocog detect infer: error: --source is required")
    det = Detector(cfg.weights or None, cfg.device, cfg.precision, cfg.threads,
                     cfg.memory_format,
                   score_threshold=cfg.conf, iou_threshold=cfg.iou, max_det=cfg.max_det)
    out = run_dir_for(cfg.project, TASK, cfg.name or "infer", resume=False)
    saver = Saver(out, cfg.source) if cfg.save else None
    fps, frames, started, failures = Fps(), 0, time.perf_counter(), Failures()
    try:
        for frame in det.stream(cfg.source, failures):
            rate, frames = fps.tick(), frames + 1
            report(frame, cfg.json)
            if saver or cfg.show:
                annotated = draw(frame.image, frame.detections, rate if cfg.show else None)
            if saver:
                saver.write(frame, annotated)
            if cfg.show and show(annotated):
                break
    finally:
        if saver:
            saver.close()
        if cfg.show:
            cv2.destroyAllWindows()
    if not cfg.json:
        seconds = time.perf_counter() - started
        print(f"{frames} frames in {seconds:.2f}s: {frames / max(seconds, 1e-9):.1f} FPS end to end")
        if saver and frames:
            print(f"annotated output: {out}")
    return failures.status


def show(annotated: np.ndarray) -> bool:
    """Display a frame; True when the user pressed q."""
    cv2.imshow(WINDOW, cv2.cvtColor(annotated, cv2.COLOR_RGB2BGR))
    return (cv2.waitKey(1) & 0xFF) == ord("q")


if __name__ == "__main__":
    raise SystemExit(run_main(main))
