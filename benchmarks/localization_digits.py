"""Train the default localization recipe on digit images generated from
../shared/data/mnist (digits of the held-out eighth never seen in training), then score
it on ../shared/data/benchmarks/digit_locate_val (500 images, one digit each): CorLoc,
mean IoU, top-1 and training wall time; and on 2,000 new images of the held-out digits
(the shipped model must hold the target on digits it never saw). `--ship` copies the
best weights into the package as its default model.

    .venv/bin/python benchmarks/localization_digits.py [--ship]
"""

from __future__ import annotations

import argparse
import shutil
import time

from neocog.apps.localization import DEFAULT_WEIGHTS, Localizer, LocateTrainConfig, evaluate, train
from neocog.apps.localization.data import coco_source, unseen_digits

from common import SHARED, report, run

TARGET_CORLOC, TARGET_IOU, TARGET_SECONDS = 0.97, 0.85, 600.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(SHARED / "mnist"))
    parser.add_argument("--val", default=str(SHARED / "benchmarks" / "digit_locate_val" /
                                             "annotations.json"))
    parser.add_argument("--epochs", type=int, default=LocateTrainConfig.epochs)
    parser.add_argument("--train-images", type=int, default=LocateTrainConfig.train_images)
    parser.add_argument("--unseen-images", type=int, default=2000,
                        help="generated test images of the held-out digits")
    parser.add_argument("--ship", action="store_true", help="copy best weights into the package")
    parser.add_argument("--tag", default="", help="suffix of the result name (a longer run)")
    args = parser.parse_args()
    # One intra-op thread: on a 2-core machine shared with other jobs, two threads spin
    # against each other and a training step runs ~10x slower. The one DataLoader worker
    # renders images on the other core.
    name = "localization_digits" + (f"_{args.tag}" if args.tag else "")
    cfg = LocateTrainConfig(data=args.data, epochs=args.epochs, train_images=args.train_images,
                            workers=1, threads=1, project="runs/benchmarks", name=name)
    shutil.rmtree(f"runs/benchmarks/locate/{name}", ignore_errors=True)
    started = time.perf_counter()
    result = train(cfg)
    seconds = time.perf_counter() - started
    weights = result.run_dir / "best.safetensors"
    loc = Localizer(weights)
    source = coco_source(args.val, "largest")[0]
    scores = evaluate(loc.model, loc.pre, source, runtime=loc.runtime)
    unseen = unseen_digits(args.data, args.unseen_images, cfg.val_fraction)
    unseen_scores = evaluate(loc.model, loc.pre, unseen, runtime=loc.runtime)
    if args.ship:
        shutil.copyfile(weights, DEFAULT_WEIGHTS)
    held = result.best
    report(name, [
        ("validation set", f"{args.val} ({len(source)} images)"),
        ("CorLoc", f"{scores.corloc:.4f}  (target >= {TARGET_CORLOC})"),
        ("mean IoU", f"{scores.mean_iou:.4f}  (target >= {TARGET_IOU})"),
        ("top-1", f"{scores.top1:.4f}"),
        ("unseen digits", f"CorLoc {unseen_scores.corloc:.4f}  (target >= {TARGET_CORLOC}), "
                          f"mean IoU {unseen_scores.mean_iou:.4f} on {len(unseen)} generated "
                          "images of the held-out digits"),
        ("epoch selection", f"CorLoc {held['corloc']:.4f} on {cfg.val_images} other such images"),
        ("training wall s", f"{seconds:.1f}  (target <= {TARGET_SECONDS:.0f})"),
        ("recipe", f"{cfg.backbone} width {cfg.width}, {cfg.epochs} epochs x "
                   f"{cfg.train_images} images, batch {cfg.batch_size}"),
        ("weights", f"{weights.stat().st_size / 1024:.0f} KiB"),
    ], {"corloc": scores.corloc, "mean_iou": scores.mean_iou, "top1": scores.top1,
        "train_seconds": seconds, "precision": str(result.runtime),
        "val_images": len(source), "heldout_generated": held,
        "unseen_digits": {"corloc": unseen_scores.corloc, "mean_iou": unseen_scores.mean_iou,
                          "top1": unseen_scores.top1, "images": len(unseen)},
        "epochs": cfg.epochs, "train_images_per_epoch": cfg.train_images,
        "backbone": cfg.backbone, "width": cfg.width, "torch_threads": 1, "shipped": args.ship,
        "weights_bytes": weights.stat().st_size,
        "meets_target": min(scores.corloc, unseen_scores.corloc) >= TARGET_CORLOC
        and min(scores.mean_iou, unseen_scores.mean_iou) >= TARGET_IOU and seconds <= TARGET_SECONDS})


if __name__ == "__main__":
    run(main)
