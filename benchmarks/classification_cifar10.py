"""Train a CIFAR-10 recipe (`neocog classify train --recipe cifar10`, the fast one, or
`cifar10-long`, the shipped model's) on ../shared/data/cifar10/train (the 50,000
training images, a JPEG re-encoding), holding out the last 500 images of each class
(5,000) that it never trains on, over several seeds; report held-out top-1 with and
without test-time augmentation, and the training seconds. `--ship` copies the first
seed's best weights into the package (half precision) as the shipped `cifar10` model,
and scores that copy too.

    .venv/bin/python benchmarks/classification_cifar10.py [--recipe cifar10-long] [--seeds 0 1 2] [--ship]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from neocog.apps.classification import Classifier, ClassifyTrainConfig, train
from neocog.apps.classification.data import ArrayDataset, Split, load_split
from neocog.apps.classification.metrics import evaluate
from neocog.apps.classification.predictor import TASK
from neocog.apps.classification.train import RECIPES
from neocog.core.zoo import shipped_models

from common import SHARED, report, run, ship_half

SHIPPED = shipped_models()["cifar10"].path
# The CIFAR issue's targets, (held-out top-1, training seconds): the fast recipe's and
# the shipped one's.
TARGETS = {"cifar10": (0.915, 1200.0), "cifar10-long": (0.93, 3600.0)}


def score(weights: Path, split: Split) -> dict[str, float]:
    """Held-out top-1 of `weights` without and with test-time augmentation."""
    clf = Classifier(weights)
    held_out = ArrayDataset(split.val_images, split.val_labels, clf.pre)
    return {f"top1{'_tta' if tta else ''}": evaluate(clf.model, held_out, clf.names,
                                                     runtime=clf.runtime, tta=tta).top1
            for tta in (False, True)}


def train_seconds(run_dir: Path) -> float:
    """The epochs' seconds (training steps and each epoch's validation) from metrics.csv:
    what the recipe costs, without reading the 50,000 JPEGs (about 20 s, done once)."""
    with open(run_dir / "metrics.csv", newline="") as f:
        return sum(float(row["seconds"]) for row in csv.DictReader(f))


def one_seed(args: argparse.Namespace, name: str, seed: int, split: Split) -> dict[str, Any]:
    options = {k: v for k, v in (("epochs", args.epochs), ("width", args.width)) if v}
    cfg = ClassifyTrainConfig(recipe=args.recipe, data=args.data, seed=seed, precision=args.precision,
                              project="runs/benchmarks", name=f"{name}_seed{seed}", **options)
    shutil.rmtree(Path(cfg.project) / TASK / cfg.name, ignore_errors=True)
    started = time.perf_counter()
    result = train(cfg, given={"recipe", "data", "seed", "precision", "project", "name", *options})
    wall = time.perf_counter() - started
    return {"seed": seed, **score(result.run_dir / "best.safetensors", split),
            "train_seconds": train_seconds(result.run_dir), "wall_seconds": wall,
            "best_epoch_metrics": result.best, "precision": str(result.runtime),
            "weights": str(result.run_dir / "best.safetensors")}


def spread(runs: list[dict[str, Any]], key: str) -> dict[str, float]:
    values = [r[key] for r in runs]
    return {"mean": statistics.fmean(values),
            "stdev": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(SHARED / "cifar10" / "train"))
    parser.add_argument("--recipe", default="cifar10", choices=sorted(TARGETS),
                        help="cifar10 (fast) or cifar10-long (the shipped model's)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=0, help="0: the recipe's")
    parser.add_argument("--width", type=int, default=0, help="0: the recipe's")
    parser.add_argument("--precision", default="auto", help="auto, fp32 or bf16")
    parser.add_argument("--ship", action="store_true", help="ship the first seed's weights")
    parser.add_argument("--tag", default="", help="suffix of the result name (a variant)")
    args = parser.parse_args()
    name = "classification_" + args.recipe.replace("-", "_") + (f"_{args.tag}" if args.tag else "")
    recipe, (target_top1, target_seconds) = RECIPES[args.recipe], TARGETS[args.recipe]
    split = load_split(args.data, recipe["val_fraction"], recipe["imgsz"])
    runs = [one_seed(args, name, seed, split) for seed in args.seeds]
    shipped = {}
    if args.ship:
        ship_half(Path(runs[0]["weights"]), TASK, SHIPPED)
        shipped = score(SHIPPED, split)
    top1, tta, secs = (spread(runs, k) for k in ("top1", "top1_tta", "train_seconds"))
    epochs, width = args.epochs or recipe["epochs"], args.width or recipe["width"]
    report(name, [
        ("held-out images", f"{len(split.val_labels)} (last 500 of each class, never trained on)"),
        ("train images", f"{len(split.train_labels)}"),
        ("seeds", " ".join(map(str, args.seeds))),
        ("top-1", f"{top1['mean']:.4f} +- {top1['stdev']:.4f} (min {top1['min']:.4f})"),
        ("top-1 with TTA", f"{tta['mean']:.4f} +- {tta['stdev']:.4f} (min {tta['min']:.4f}); "
                           f"target >= {target_top1}"),
        ("training s", f"{secs['mean']:.0f} +- {secs['stdev']:.0f} (max {secs['max']:.0f}); "
                       f"target <= {target_seconds:.0f}"),
        ("precision", runs[0]["precision"]),
        ("recipe", f"{args.recipe}: cifar width {width}, {epochs} epochs, "
                   f"batch {recipe['batch_size']}"),
        *([("shipped fp16 copy", f"top-1 {shipped['top1']:.4f}, TTA {shipped['top1_tta']:.4f}")]
          if shipped else []),
    ], {"recipe": args.recipe, "runs": runs, "top1": top1, "top1_tta": tta,
        "train_seconds": secs, "epochs": epochs, "width": width,
        "heldout_images": len(split.val_labels), "train_images": len(split.train_labels),
        "shipped": shipped, "target": {"top1_tta": target_top1, "seconds": target_seconds},
        "meets_target": tta["mean"] >= target_top1 and secs["max"] <= target_seconds})


if __name__ == "__main__":
    run(main)
