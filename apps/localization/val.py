"""`neocog locate val`: top-1, mean IoU and CorLoc on a COCO instances file (default: a
generated held-out digit set), and a PNG grid of images with true and predicted boxes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from neocog.core.checkpoint import atomic_write
from neocog.core.config import parse_config
from neocog.core.precision import RuntimeConfig
from neocog.core.trainer import run_dir_for
from neocog.core.zoo import WEIGHTS_HELP

from ..common import run_main
from .data import coco_source, generated_data
from .metrics import evaluate
from .predictor import TASK, Localizer
from .visualize import plot_box_grid


@dataclass
class LocateValConfig(RuntimeConfig):
    data: str = field(default="", metadata={
        "help": "COCO instances json (images/ beside it), or an MNIST IDX folder to generate "
                "--val-images held-out digit images from; empty downloads MNIST"})
    weights: str = field(default="", metadata={"help": f"{WEIGHTS_HELP}; default: the shipped model"})
    primary: str = field(default="largest", metadata={
        "choices": ["largest", "first"], "help": "which box of a COCO image is its main object"})
    val_images: int = field(default=500, metadata={"min": 1})
    val_fraction: float = field(default=0.125, metadata={"above": 0, "below": 1})
    grid: int = field(default=36, metadata={
        "min": 0, "help": "images in the box-grid PNG (worst first)"})
    project: str = "runs"
    name: str = ""


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(LocateValConfig, argv, "neocog locate val",
                       "Score a localizer: top-1, mean IoU, CorLoc; writes a box-grid PNG.")
    loc = Localizer(cfg.weights or None, cfg.device, cfg.precision, cfg.threads,
                     cfg.memory_format)
    if cfg.data.endswith(".json"):
        source = coco_source(cfg.data, cfg.primary)[0]
    else:
        source = generated_data(cfg.data, 0, cfg.val_images, cfg.val_fraction, seed=0).val
    report = evaluate(loc.model, loc.pre, source, runtime=loc.runtime)
    title = f"CorLoc {report.corloc:.4f}  mean IoU {report.mean_iou:.4f}  top-1 {report.top1:.4f}"
    summary = {"weights": str(loc.weights), "images": len(source), **report.metrics()}
    out = run_dir_for(cfg.project, TASK, cfg.name or "val", resume=False)
    text = json.dumps(summary, indent=2)
    atomic_write(out / "metrics.json", lambda tmp: tmp.write_text(text))  # makes the folder
    print(f"{title}  on {len(source)} images")
    if cfg.grid > 0:  # --grid 0: the scores alone
        plot_box_grid(source, report, loc.names, out / "boxes.png", cfg.grid, title)
        print(f"boxes (green true, red predicted): {out / 'boxes.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
