"""Driving the studio in headless Chromium with a fake camera and microphone, for the
browser tests and benchmarks/studio_latency.py (Debian's `chromium` and
`chromium-driver`, Selenium 4; nothing is downloaded).

The camera plays a .y4m file (I420 frames) and the microphone a 16-bit PCM .wav, through
Chromium's fake media devices; `digit_scene` makes a camera frame whose true boxes are
known, from the MNIST digits shipped as classification samples.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import uvicorn

from neocog.apps.demo import SAMPLES
from neocog.datasets.images import read_image
from neocog.datasets.scenes import Scene, SceneConfig, make_scene

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def missing_browser() -> str:
    """Why the browser cannot run here, or "" when it can."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.is_file():
            return f"{path} is missing (apt-get install {package})"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return ""


def sample_digits() -> tuple[np.ndarray, np.ndarray]:
    """The ten shipped MNIST samples as light-on-dark uint8 (10, 28, 28) and their labels."""
    files = sorted(SAMPLES.glob("digit_*.png"))
    digits = [read_image(p, channels=1) for p in files]
    digits = [255 - d if d.mean() > 127 else d for d in digits]  # the *_dark_on_light ones
    return np.stack(digits), np.array([int(p.stem.split("_")[1]) for p in files])


def digit_scene(width: int = 640, height: int = 480, seed: int = 0) -> Scene:
    """A (height, width) camera frame: a square digit scene centred on a grey field,
    with its digits' true boxes in the frame's pixels."""
    digits, labels = sample_digits()
    cfg = SceneConfig(size=height, min_digits=3, max_digits=4, min_height=70, max_height=130,
                      max_noise=4.0, max_strokes=0)
    scene = make_scene(digits, labels, cfg, np.random.default_rng(seed))
    frame = np.full((height, width, 3), 128, np.uint8)
    left = (width - height) // 2
    frame[:, left: left + height] = scene.image
    boxes = scene.boxes + np.array([left, 0, left, 0], np.float32)
    return Scene(frame, boxes, scene.labels)


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 30) -> Path:
    """uint8 RGB frames (H, W, 3), H and W even -> a YUV4MPEG2 file of I420 frames."""
    height, width = frames[0].shape[:2]
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            # (H * 3/2, W): the Y plane, then the quarter-size U and V planes
            f.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


def chromium(camera: Path | None = None, microphone: Path | None = None,
             width: int = 1280, height: int = 1000) -> Any:
    """A headless Chromium WebDriver whose fake camera plays `camera` (.y4m) and whose fake
    microphone plays `microphone` (.wav) once; permission prompts are accepted."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 f"--window-size={width},{height}", "--use-fake-device-for-media-stream",
                 "--use-fake-ui-for-media-stream", "--autoplay-policy=no-user-gesture-required",
                 "--mute-audio"):
        options.add_argument(flag)
    if camera:
        options.add_argument(f"--use-file-for-fake-video-capture={camera}")
    if microphone:
        options.add_argument(f"--use-file-for-fake-audio-capture={microphone}%noloop")
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


@contextmanager
def serving(app: Any, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ASGI `app` on a free port in a thread; yields its URL, stops it after."""
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the studio server did not start")
        thread.join(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
