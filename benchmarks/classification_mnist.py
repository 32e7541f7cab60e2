"""Train the default classification recipe on ../shared/data/mnist (8,000 real MNIST
digits), holding out 1,000 it never trains on; report top-1 on those and the training
wall time. `--ship` copies the best weights into the package as its default model.

    .venv/bin/python benchmarks/classification_mnist.py [--ship]
"""

from __future__ import annotations

import argparse
import shutil
import time

import numpy as np

from neocog.apps.classification import DEFAULT_WEIGHTS, Classifier, ClassifyTrainConfig, train
from neocog.apps.classification.data import load_split

from common import SHARED, report, run

TARGET_ACCURACY, TARGET_SECONDS = 0.994, 150.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(SHARED / "mnist"))
    parser.add_argument("--ship", action="store_true", help="copy best weights into the package")
    args = parser.parse_args()
    cfg = ClassifyTrainConfig(data=args.data, project="runs/benchmarks", name="classification_mnist")
    shutil.rmtree("runs/benchmarks/classify/classification_mnist", ignore_errors=True)
    started = time.perf_counter()
    result = train(cfg)
    seconds = time.perf_counter() - started
    weights = result.run_dir / "best.safetensors"
    split = load_split(args.data, cfg.val_fraction)
    clf = Classifier(weights)
    preds = np.array([p.index for p in clf(list(split.val_images))])
    accuracy = float(np.mean(preds == split.val_labels))
    if args.ship:
        shutil.copyfile(weights, DEFAULT_WEIGHTS)
    report("classification_mnist", [
        ("held-out digits", f"{len(split.val_labels)} (never trained on)"),
        ("top-1 accuracy", f"{accuracy:.4f}  (target >= {TARGET_ACCURACY})"),
        ("training wall s", f"{seconds:.1f}  (target <= {TARGET_SECONDS:.0f})"),
        ("recipe", f"{cfg.backbone} width {cfg.width}, {cfg.epochs} epochs, EMA {cfg.ema}"),
    ], {"accuracy": accuracy, "train_seconds": seconds, "precision": str(result.runtime),
        "heldout_images": len(split.val_labels),
        "train_images": len(split.train_labels), "epochs": cfg.epochs, "backbone": cfg.backbone,
        "width": cfg.width, "shipped": args.ship,
        "meets_target": accuracy >= TARGET_ACCURACY and seconds <= TARGET_SECONDS})


if __name__ == "__main__":
    run(main)
