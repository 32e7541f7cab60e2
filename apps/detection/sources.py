"""Frame sources for inference: an image, a folder, a glob, a video file, a camera index
(`"0"`) or a stream URL (`rtsp://...`, `http://...`), all as (name, RGB frame) pairs.

Cameras and streams go through `cv2.VideoCapture` with open/read time-outs, so a camera
that cannot be opened, or a stream that drops, raises NeocogError instead of hanging.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from neocog.core.errors import NeocogError
from neocog.datasets.images import IMAGE_SUFFIXES, list_images, read_image

from ..common import Failures, readable

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
TIMEOUT_MS = 5000  # a live source silent this long counts as dropped


def open_capture(source: str | int) -> Any:
    """A cv2.VideoCapture with open/read time-outs (tests swap this for a fake)."""
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, TIMEOUT_MS, cv2.CAP_PROP_READ_TIMEOUT_MSEC, TIMEOUT_MS]
    return cv2.VideoCapture(source, cv2.CAP_ANY, params)


def source_kind(source: str) -> str:
    """'camera', 'stream', 'video', 'glob' or 'images'."""
    if source.isdigit():
        return "camera"
    if "://" in source:
        return "stream"
    if Path(source).suffix.lower() in VIDEO_SUFFIXES:
        return "video"
    if any(ch in source for ch in "*?[") and not Path(source).exists():
        return "glob"
    return "images"


def capture_frames(source: str, live: bool) -> Iterator[tuple[str, np.ndarray]]:
    """Frames of a video (ends at its last frame) or a live source (a failed read is a
    drop: NeocogError)."""
    what = f"camera {source}" if source.isdigit() else source
    cap = open_capture(int(source) if source.isdigit() else source)
    try:
        if not cap.isOpened():
            raise NeocogError(f"{what}: cannot be opened")
        count = 0
        while True:
            ok, frame = cap.read()
            if not ok or frame is None:
                if live:
                    raise NeocogError(f"{what}: stream dropped after {count} frames")
                if count == 0:
                    raise NeocogError(f"{what}: no frame could be decoded")
                return
            yield f"{source}#{count}", cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            count += 1
    finally:
        cap.release()


def glob_images(pattern: str) -> list[Path]:
    files = sorted(Path(p) for p in glob.glob(pattern, recursive=True)
                   if Path(p).suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise NeocogError(f"{pattern}: the pattern matches no images")
    return files


def frames(source: str, failures: Failures | None = None) -> Iterator[tuple[str, np.ndarray]]:
    """Any supported source -> (name, uint8 (H, W, 3) RGB) pairs, lazily; an image file
    that cannot be read goes to `failures` (without them, its error is raised)."""
    kind = source_kind(source)
    if kind in ("camera", "stream", "video"):
        if kind == "video" and not Path(source).is_file():
            raise NeocogError(f"{source}: no such video file")
        yield from capture_frames(source, live=kind != "video")
        return
    files = glob_images(source) if kind == "glob" else list_images(source)
    for path, image in readable(lambda p: read_image(p, channels=3), files, failures):
        yield str(path), image
