"""Detect page: webcam frames over a WebSocket (JPEG in, boxes out, one frame at a time),
an uploaded image, or an uploaded video (every frame's boxes, to draw as it plays)."""

from __future__ import annotations

import asyncio
import io
import math
import time
from dataclasses import asdict
from typing import Any

import cv2
import numpy as np
from fastapi import APIRouter, Request, UploadFile, WebSocket, WebSocketDisconnect
from PIL import Image, UnidentifiedImageError

from neocog.apps.detection import Detection, Detector
from neocog.core.errors import NeocogError
from neocog.datasets.images import read_image

from .models import Loaded
from .safety import FormText, saved_upload

router = APIRouter(prefix="/api/detect")
MAX_VIDEO_FRAMES = 900  # 30 s at 30 FPS: what one uploaded video is read for
MAX_FRAME_BYTES = 4 << 20  # a webcam JPEG; 640x480 at quality 0.8 is about 50 KB
MAX_FRAME_PIXELS = 4096 * 4096


def rows(found: list[Detection]) -> list[dict[str, Any]]:
    """Detections as JSON rows: box (xyxy in the image's pixels), score, label, index."""
    return [asdict(d) for d in found]


def decode_jpeg(data: bytes) -> np.ndarray:
    """JPEG (or PNG) bytes -> uint8 (H, W, 3) RGB, or NeocogError."""
    if len(data) > MAX_FRAME_BYTES:
        raise NeocogError(f"frame of {len(data)} bytes: over the {MAX_FRAME_BYTES} a frame may be")
    try:  # the header alone: a few MB of PNG can claim (and OpenCV decode) a gigapixel
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError):
        raise NeocogError(f"frame of {len(data)} bytes: not a JPEG or PNG image") from None
    if width * height > MAX_FRAME_PIXELS:
        raise NeocogError(f"frame of {width}x{height}: over the {MAX_FRAME_PIXELS} pixels a frame may be")
    frame = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if frame is None:
        raise NeocogError(f"frame of {len(data)} bytes: not a JPEG or PNG image")
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def boxes(loaded: Loaded, image: np.ndarray) -> dict[str, Any]:
    """uint8 (H, W, 3) RGB -> {"detections": rows, "size": [W, H]}, one request at a time."""
    with loaded.lock:
        found = loaded.predictor.detect([image])[0]
    return {"detections": rows(found), "size": [image.shape[1], image.shape[0]]}


def detect_frame(loaded: Loaded, data: bytes) -> dict[str, Any]:
    """One webcam frame's bytes -> its boxes and the server's time on it (decode included)."""
    started = time.perf_counter()
    answer = boxes(loaded, decode_jpeg(data))
    return {**answer, "server_ms": 1000 * (time.perf_counter() - started)}


@router.websocket("/ws")
async def stream(socket: WebSocket, weights: str = "") -> None:
    """Each binary message is one frame; each answer is its boxes (or {"error": ...} for a
    frame that is not an image). The page sends the next frame only after the answer,
    so nothing queues; a closed page or dropped camera ends the loop."""
    await socket.accept()
    try:
        try:
            loaded = await asyncio.to_thread(socket.app.state.studio.models.get, "detect", weights)
        except NeocogError as err:
            await socket.send_json({"error": str(err)})
            await socket.close(code=1008)
            return
        await socket.send_json({"ready": True, "imgsz": loaded.predictor.size,
                                "names": loaded.predictor.names})
        while True:
            message = await socket.receive()
            if message["type"] == "websocket.disconnect":
                return
            await socket.send_json(await answer_frame(loaded, message.get("bytes")))
    except (WebSocketDisconnect, RuntimeError):
        return  # the page went away mid-answer (RuntimeError: a socket already closed)


async def answer_frame(loaded: Loaded, data: bytes | None) -> dict[str, Any]:
    """One message's boxes, or {"error": ...} for one that is not a binary image."""
    if data is None:
        return {"error": "a frame is a binary message of JPEG or PNG bytes, not text"}
    try:
        return await asyncio.to_thread(detect_frame, loaded, data)
    except NeocogError as err:
        return {"error": str(err)}


@router.get("/info")
def info(request: Request, weights: str = "") -> dict[str, Any]:
    det: Detector = request.app.state.studio.models.get("detect", weights).predictor
    return {"imgsz": det.size, "names": det.names}


@router.post("")
def detect_image(request: Request, file: UploadFile, weights: FormText = "") -> dict[str, Any]:
    loaded = request.app.state.studio.models.get("detect", weights)
    with saved_upload(file, "image.jpg") as path:
        image = read_image(path, channels=3)
    return boxes(loaded, image)


@router.post("/video")
def detect_video(request: Request, file: UploadFile, weights: FormText = "") -> dict[str, Any]:
    """Every frame's boxes (up to MAX_VIDEO_FRAMES) and the video's frame rate."""
    loaded = request.app.state.studio.models.get("detect", weights)
    det: Detector = loaded.predictor
    with saved_upload(file, "video.mp4") as path:
        capture = cv2.VideoCapture(str(path))
        fps = capture.get(cv2.CAP_PROP_FPS)  # 0 (or NaN, which JSON cannot hold) when unknown
        capture.release()
        fps = fps if math.isfinite(fps) and fps > 0 else 25.0
        frames, started = [], time.perf_counter()
        with loaded.lock:
            for result in det.stream(str(path)):
                frames.append(rows(result.detections))
                if len(frames) == MAX_VIDEO_FRAMES:
                    break
    return {"fps": fps, "frames": frames,
            "seconds_per_frame": (time.perf_counter() - started) / max(1, len(frames))}
