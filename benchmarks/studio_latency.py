"""End-to-end speed of the studio's Detect page in a real browser: headless Chromium's
fake camera plays 640x480 digit scenes at 30 FPS into the page, which streams each frame
to the server (at most one in flight) and draws the boxes it gets back. Measured in the
browser: frames answered per second, and frame-to-boxes latency (from grabbing the frame
to having its boxes), median and p95. Browser and server share the machine.

    .venv/bin/python benchmarks/studio_latency.py [--seconds 30] [--threads 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from neocog.apps.studio import create_app
from neocog.apps.studio.headless import chromium, digit_scene, missing_browser, serving, write_y4m
from neocog.core.errors import NeocogError
from neocog.core.precision import RuntimeConfig, set_threads

from common import add_threads_option, report, run

TARGET_FPS = 25.0
TARGET_P95_MS = 100.0
CAMERA_FPS = 30
WARM_UP_S = 3.0  # first frames pay for the model load and the first forward passes


def camera_file(folder: Path) -> Path:
    """Two seconds of camera: three digit scenes, 20 frames each, at 640x480."""
    frames = [digit_scene(640, 480, seed).image for seed in range(3) for _ in range(20)]
    return write_y4m(folder / "camera.y4m", frames, CAMERA_FPS)


def measure(url: str, camera: Path, seconds: float) -> dict[str, float]:
    """Start the Detect page's webcam, skip the warm-up, then read the page's own figures."""
    driver = chromium(camera)
    try:
        driver.get(f"{url}/#detect")
        driver.find_element("id", "detect-start").click()
        time.sleep(WARM_UP_S)
        driver.execute_script("const s = window.studio.stats.detect; s.latency_ms = [];"
                              "window.benchStart = [s.frames, s.dropped, performance.now()]")
        time.sleep(seconds)
        frames, dropped, elapsed, latency = driver.execute_script(
            "const s = window.studio.stats.detect, [f, d, t] = window.benchStart;"
            "return [s.frames - f, s.dropped - d, performance.now() - t, s.latency_ms]")
    finally:
        driver.quit()
    if not frames:
        raise NeocogError("the Detect page answered no frame (is the camera flag honoured?)")
    return {"fps": 1000 * frames / elapsed, "frames": frames, "dropped": dropped,
            "latency_median_ms": float(np.median(latency)),
            "latency_p95_ms": float(np.percentile(latency, 95))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0, help="measured, after the warm-up")
    add_threads_option(parser, 1)
    args = parser.parse_args()
    reason = missing_browser()
    if reason:
        raise NeocogError(f"studio_latency needs headless Chromium: {reason}")
    set_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Path(tmp) / "runs", runtime=RuntimeConfig(threads=args.threads))
        with serving(app) as url:
            result = measure(url, camera_file(Path(tmp)), args.seconds)
    met = result["fps"] >= TARGET_FPS and result["latency_p95_ms"] <= TARGET_P95_MS
    report("studio_latency", [
        ("camera", f"Chromium fake camera, 640x480 at {CAMERA_FPS} FPS (digit scenes)"),
        ("detector", "shipped digits-detect at its own input size, server on "
                     f"{args.threads} torch thread(s), browser on the same machine"),
        ("end-to-end FPS", f"{result['fps']:.1f}  (target >= {TARGET_FPS:.0f})"),
        ("latency median", f"{result['latency_median_ms']:.1f} ms"),
        ("latency p95", f"{result['latency_p95_ms']:.1f} ms  (target <= {TARGET_P95_MS:.0f})"),
        ("frames", f"{result['frames']} answered, {result['dropped']} dropped in {args.seconds:.0f} s"),
    ], {**result, "seconds": args.seconds, "threads": args.threads, "camera_fps": CAMERA_FPS,
        "meets_target": met})


if __name__ == "__main__":
    run(main)
