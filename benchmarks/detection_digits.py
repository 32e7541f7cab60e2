"""Train the default detection recipe on digit scenes generated on the fly from
../shared/data/mnist (the last 1,000 digits held out), then score it with COCOeval on
the 300 scenes of ../shared/data/benchmarks/digit_scenes_val, never trained on.
`--ship` copies the best weights into the package as its default digit detector.

    .venv/bin/python benchmarks/detection_digits.py [--ship] [--epochs N]
"""

from __future__ import annotations

import argparse
import shutil
import time

import cv2
import numpy as np

from neocog.apps.detection import DEFAULT_WEIGHTS, Detector, DetectTrainConfig, train
from neocog.apps.detection.data import read_mnist, write_scene_video
from neocog.apps.detection.metrics import evaluate
from neocog.apps.detection.predictor import TASK
from neocog.apps.detection.train import HELDOUT_DIGITS
from neocog.datasets.detection import read_coco
from neocog.datasets.scenes import SceneConfig, make_scene

from common import SHARED, report, run, ship_half

ASSETS = DEFAULT_WEIGHTS.parent
TARGET_MAP, TARGET_MAP50, TARGET_SECONDS = 0.70, 0.95, 1200.0


def ship_samples(mnist: str) -> None:
    """The demo's inputs: one scene and a 30-frame video, from held-out digits only."""
    digits, labels = read_mnist(mnist)
    digits, labels = digits[-HELDOUT_DIGITS:], labels[-HELDOUT_DIGITS:]
    scene = make_scene(digits, labels, SceneConfig(), np.random.default_rng(2024))
    cv2.imwrite(str(ASSETS / "scene.jpg"), cv2.cvtColor(scene.image, cv2.COLOR_RGB2BGR))
    write_scene_video(ASSETS / "scenes.mp4", digits, labels, frames=30, seed=2025)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mnist", default=str(SHARED / "mnist"))
    parser.add_argument("--val", default=str(SHARED / "benchmarks" / "digit_scenes_val"))
    parser.add_argument("--epochs", type=int, default=DetectTrainConfig.epochs)
    parser.add_argument("--weights", default="", help="continue from this checkpoint")
    parser.add_argument("--lr", type=float, default=DetectTrainConfig.lr)
    parser.add_argument("--ship", action="store_true", help="copy best weights into the package")
    parser.add_argument("--tag", default="", help="suffix of the result name (a variant)")
    args = parser.parse_args()
    name = "detection_digits" + (f"_{args.tag}" if args.tag else "")
    cfg = DetectTrainConfig(mnist=args.mnist, epochs=args.epochs, weights=args.weights,
                            lr=args.lr, project="runs/benchmarks", name=name)
    shutil.rmtree(f"runs/benchmarks/detect/{name}", ignore_errors=True)
    started = time.perf_counter()
    result = train(cfg)
    seconds = time.perf_counter() - started
    weights = result.run_dir / "best.safetensors"
    val = read_coco(f"{args.val}/images", f"{args.val}/annotations.json")
    det = Detector(weights)
    rep = evaluate(det.model, val, cfg.imgsz, runtime=det.runtime)
    if args.ship:
        ship_half(weights, TASK, DEFAULT_WEIGHTS)
        ship_samples(args.mnist)
    report(name, [
        ("validation scenes", f"{len(val)} ({args.val}, never trained on)"),
        ("mAP@[.5:.95]", f"{rep.map:.4f}  (target >= {TARGET_MAP})"),
        ("mAP@.5", f"{rep.map50:.4f}  (target >= {TARGET_MAP50})"),
        ("training wall s", f"{seconds:.1f}  (target <= {TARGET_SECONDS:.0f})"),
        ("recipe", f"{cfg.backbone} width {cfg.width}, neck {cfg.neck_channels}, "
                   f"{cfg.epochs} x {cfg.scenes} scenes of {cfg.scene_size} px"),
    ], {"map": rep.map, "map50": rep.map50, "per_class_ap": rep.per_class_ap,
        "train_seconds": seconds, "precision": str(result.runtime),
        "epochs": cfg.epochs, "scenes_per_epoch": cfg.scenes,
        "backbone": cfg.backbone, "width": cfg.width, "neck_channels": cfg.neck_channels,
        "imgsz": cfg.imgsz, "lr": cfg.lr, "started_from": cfg.weights, "shipped": args.ship,
        "meets_target": rep.map >= TARGET_MAP and rep.map50 >= TARGET_MAP50
        and seconds <= TARGET_SECONDS})


if __name__ == "__main__":
    run(main)
