"""`neocog classify val`: top-1/top-5, per-class precision/recall, confusion matrix PNG."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from neocog.core.config import parse_config
from neocog.core.errors import NeocogError
from neocog.core.precision import RuntimeConfig
from neocog.core.trainer import run_dir_for
from neocog.core.visualize import plot_confusion

from ..common import run_main
from .data import ArrayDataset, Preprocess, load_split
from .metrics import evaluate
from .predictor import TASK, Classifier


@dataclass
class ClassifyValConfig(RuntimeConfig):
    data: str = field(default="", metadata={"help": "same formats as train; empty downloads MNIST"})
    weights: str = field(default="", metadata={"help": "checkpoint; default: the shipped model"})
    split: str = field(default="val", metadata={
        "choices": ["val", "train"], "help": "which part of the data to score"})
    val_fraction: float = field(default=0.125, metadata={"above": 0, "below": 1})
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
                     cfg.memory_format)
    pre = Preprocess(**clf.header["preprocess"])
    split = load_split(cfg.data, cfg.val_fraction, pre.size)
    images, labels = ((split.val_images, split.val_labels) if cfg.split == "val"
                      else (split.train_images, split.train_labels))
    labels = model_labels(labels, split.names, clf, cfg.data)
    report = evaluate(clf.model, ArrayDataset(images, labels, pre), clf.names, runtime=clf.runtime)
    out = run_dir_for(cfg.project, TASK, cfg.name or "val", resume=False)
    out.mkdir(parents=True, exist_ok=True)
    plot_confusion(report.confusion, clf.names, out / "confusion.png",
                   f"top-1 {report.top1:.4f} on {len(labels)} images")
    summary = {"weights": str(clf.weights), "images": len(labels), "top1": report.top1,
               "top5": report.top5, "precision": report.precision().round(4).tolist(),
               "recall": report.recall().round(4).tolist()}
    (out / "metrics.json").write_text(json.dumps(summary, indent=2))
    print(report.per_class_table())
    print(f"top-1 {report.top1:.4f}  top-5 {report.top5:.4f}  on {len(labels)} images")
    print(f"confusion matrix: {out / 'confusion.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
