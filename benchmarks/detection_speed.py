"""Frames per second of the default digit detector at 320x320, batch 1, on the CPU, over a
video file this script makes from ../shared/data/mnist digit scenes: end to end (decode,
letterbox, forward, NMS, draw) through the library's `Detector.stream`, and forward alone.

    .venv/bin/python benchmarks/detection_speed.py [--frames 200] [--threads 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from neocog.apps.detection import Detector
from neocog.apps.detection.data import read_mnist, write_scene_video
from neocog.apps.detection.visualize import draw
from neocog.core.precision import set_threads

from common import SHARED, add_threads_option, report, run

TARGET_FPS = 50.0


def end_to_end(det: Detector, video: Path) -> tuple[int, float]:
    """(frames, seconds) to decode, detect and draw every frame of `video`."""
    started, frames = time.perf_counter(), 0
    for frame in det.stream(str(video)):
        draw(frame.image, frame.detections)
        frames += 1
    return frames, time.perf_counter() - started


@torch.no_grad()
def forward_only(det: Detector, runs: int) -> float:
    """Seconds per forward pass of one (1, 3, S, S) input."""
    x = torch.rand(1, 3, det.size, det.size)
    for _ in range(10):  # warm-up: first calls pick kernels and allocate
        det.model(x)
    started = time.perf_counter()
    for _ in range(runs):
        det.model(x)
    return (time.perf_counter() - started) / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", default="", help="default: the shipped digit detector")
    parser.add_argument("--frames", type=int, default=200)
    add_threads_option(parser, 1)
    args = parser.parse_args()
    set_threads(args.threads)
    det = Detector(args.weights or None)
    digits, labels = read_mnist(SHARED / "mnist")
    with tempfile.TemporaryDirectory() as tmp:
        video = write_scene_video(Path(tmp) / "scenes.mp4", digits, labels, args.frames, seed=1)
        end_to_end(det, video)  # warm-up pass
        frames, seconds = end_to_end(det, video)
    fps, forward_fps = frames / seconds, 1.0 / forward_only(det, args.frames)
    report("detection_speed", [
        ("input", f"{det.size}x{det.size}, batch 1, {args.threads} torch thread(s), CPU"),
        ("end-to-end FPS", f"{fps:.1f}  (decode + letterbox + forward + NMS + draw; "
                           f"target >= {TARGET_FPS:.0f})"),
        ("forward-only FPS", f"{forward_fps:.1f}"),
        ("frames", str(frames)),
    ], {"fps_end_to_end": fps, "fps_forward": forward_fps, "frames": frames,
        "imgsz": det.size, "threads": args.threads, "weights": str(det.weights),
        "meets_target": fps >= TARGET_FPS})


if __name__ == "__main__":
    run(main)
