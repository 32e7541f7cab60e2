"""`neocog classify val`: top-1/top-5, per-class precision/recall, the most-confused
class pairs, confusion matrix PNG."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from neocog.core.config import parse_config
from neocog.core.errors import NeocogError
from neocog.core.precision import RuntimeConfig
from neocog.core.trainer import run_dir_for
from neocog.core.visualize import plot_confusion
from neocog.core.zoo import WEIGHTS_HELP

from ..common import run_main
from .data import ArrayDataset, Preprocess, load_split
from .metrics import TTA_HELP, evaluate
from .predictor import TASK, Classifier

DEFAULT_VAL_FRACTION = 0.125  # what models trained before checkpoints recorded it held out


@dataclass
class ClassifyValConfig(RuntimeConfig):
    data: str = field(default="", metadata={"help": "same formats as train; empty downloads MNIST"})
    weights: str = field(default="", metadata={"help": f"{WEIGHTS_HELP}; default: the shipped model"})
    split: str = field(default="val", metadata={
        "choices": ["val", "train"], "help": "which part of the data to score"})
    val_fraction: float = field(default=0.0, metadata={
        "min": 0, "below": 1, "help": "held-out share when the data has no official split; "
        f"0: the model's own (its checkpoint's val_fraction, else {DEFAULT_VAL_FRACTION})"})
    tta: bool = field(default=False, metadata={"help": TTA_HELP})
    project: str = "runs"
    name: str = ""


def model_labels(labels: np.ndarray, names: list[str], clf: Classifier, data: str) -> np.ndarray:
    """The data's labels as indices of the model's classes, matched by name: a class the
    model lacks would be scored wrong on every image (accuracy 0.0, and exit 0)."""
    unknown = [n for n in names if n not in clf.names]
    if unknown:
        more = " ..." if len(unknown) > 5 else ""
        raise NeocogError(f"{data or 'MNIST'}: class(es) {', '.join(unknown[:5])}{more} are not "
                          f"among the {len(clf.names)} classes of {clf.weights}")
    return np.array([clf.names.index(n) for n in names], dtype=np.int64)[labels]


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(ClassifyValConfig, argv, "neocog classify val",
                       "Score a classifier: accuracy, per-class precision/recall, confusion PNG.")
    clf = Classifier(cfg.weights or None, cfg.device, cfg.precision, cfg.threads,
                     cfg.memory_format, cfg.tta)
    pre = Preprocess(**clf.header["preprocess"])
    fraction = cfg.val_fraction or clf.header.get("val_fraction", DEFAULT_VAL_FRACTION)
    # A checkpoint that records no val_fraction predates the per-class split of image
    # folders: it held out a random share, and that is what it must be scored on.
    split = load_split(cfg.data, fraction, pre.size, by_class="val_fraction" in clf.header)
    images, labels = ((split.val_images, split.val_labels) if cfg.split == "val"
                      else (split.train_images, split.train_labels))
    labels = model_labels(labels, split.names, clf, cfg.data)
    report = evaluate(clf.model, ArrayDataset(images, labels, pre), clf.names, runtime=clf.runtime,
                      tta=cfg.tta)
    out = run_dir_for(cfg.project, TASK, cfg.name or "val", resume=False)
    out.mkdir(parents=True, exist_ok=True)
    plot_confusion(report.confusion, clf.names, out / "confusion.png",
                   f"top-1 {report.top1:.4f} on {len(labels)} images")
    summary = {"weights": str(clf.weights), "images": len(labels), "top1": report.top1,
               "top5": report.top5, "precision": report.precision().round(4).tolist(),
               "recall": report.recall().round(4).tolist(),
               "confused_pairs": report.confused_pairs()}
    (out / "metrics.json").write_text(json.dumps(summary, indent=2))
    print(report.per_class_table())
    print(report.confused_table())
    print(f"top-1 {report.top1:.4f}  top-5 {report.top5:.4f}  on {len(labels)} images")
    print(f"confusion matrix: {out / 'confusion.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
