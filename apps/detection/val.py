"""`neocog detect val`: COCOeval mAP@[.5:.95], mAP@.5 and per-class AP, a PR-curve PNG, a
confusion matrix PNG, and optionally the predictions in the COCO results format."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from neocog.core.checkpoint import atomic_write
from neocog.core.config import parse_config
from neocog.core.errors import NeocogError
from neocog.core.precision import RuntimeConfig
from neocog.core.trainer import run_dir_for
from neocog.core.visualize import plot_confusion
from neocog.core.zoo import WEIGHTS_HELP
from neocog.datasets.detection import DetectionRecords, read_coco, read_detection

from ..common import run_main
from .metrics import DetectionReport, evaluate
from .predictor import TASK, Detector
from .visualize import plot_pr_curves


@dataclass
class DetectValConfig(RuntimeConfig):
    annotations: str = field(default="", metadata={"help": "COCO instances json to score against"})
    images: str = field(default="", metadata={"help": "the image folder of --annotations"})
    data: str = field(default="", metadata={
        "help": "instead of the pair: a COCO root (scores val2017) or a YOLO root"})
    weights: str = field(default="", metadata={"help": f"{WEIGHTS_HELP}; default: the shipped model"})
    save_predictions: str = field(default="", metadata={
        "help": "write the predictions here (COCO results json, the file's own ids)"})
    batch_size: int = field(default=16, metadata={"min": 1})
    project: str = "runs"
    name: str = ""


def load_records(cfg: DetectValConfig) -> DetectionRecords:
    if cfg.annotations:
        if not cfg.images:
            raise NeocogError("--annotations needs --images DIR (the folder its file_names are in)")
        return read_coco(cfg.images, cfg.annotations)
    if cfg.data:
        return read_detection(cfg.data, "val")
    raise NeocogError("give --annotations FILE --images DIR, or --data ROOT")


def write_outputs(report: DetectionReport, names: list[str], out: Path, n_images: int) -> None:
    title = f"mAP@.5 {report.map50:.4f} on {n_images} images"
    plot_pr_curves(report.precision, names, out / "pr_curve.png", title)
    plot_confusion(report.confusion, [*names, "background"], out / "confusion.png", title)
    summary = {"map": report.map, "map50": report.map50, "per_class_ap": report.per_class_ap,
               "images": n_images}
    (out / "metrics.json").write_text(json.dumps(summary, indent=2))


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(DetectValConfig, argv, "neocog detect val",
                       "Score a detector with COCOeval; writes PR curves and a confusion matrix.")
    records = load_records(cfg)
    det = Detector(cfg.weights or None, cfg.device, cfg.precision, cfg.threads,
                     cfg.memory_format)
    if len(det.names) != len(records.names):
        raise NeocogError(f"{det.weights}: a model of {len(det.names)} classes cannot be scored "
                          f"on data of {len(records.names)} classes")
    report = evaluate(det.model, records, det.size, cfg.batch_size, det.runtime)
    out = run_dir_for(cfg.project, TASK, cfg.name or "val", resume=False)
    out.mkdir(parents=True, exist_ok=True)
    write_outputs(report, records.names, out, len(records))
    if cfg.save_predictions:
        text = json.dumps(report.results)
        atomic_write(cfg.save_predictions, lambda tmp: tmp.write_text(text))
        print(f"predictions ({len(report.results)} boxes): {cfg.save_predictions}")
    for name, ap in report.per_class_ap.items():
        print(f"{name:<16} AP {ap:.4f}")
    print(f"mAP@[.5:.95] {report.map:.4f}  mAP@.5 {report.map50:.4f}  on {len(records)} images")
    print(f"PR curve: {out / 'pr_curve.png'}  confusion matrix: {out / 'confusion.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
