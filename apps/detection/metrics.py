"""COCO-style scoring through pycocotools COCOeval: mAP@[.5:.95], mAP@.5, per-class AP,
precision-recall curves, and a detection confusion matrix (with a background class)."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import numpy as np
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from torchvision.ops import box_convert, box_iou

from neocog.core.heads import TaskModel
from neocog.core.precision import Runtime
from neocog.datasets.detection import DetectionRecords

from .data import load_rgb
from .head import Detections
from .predictor import detect_arrays

# Scoring keeps nearly every box: COCO AP integrates precision over all recall levels.
EVAL_THRESHOLDS = (0.001, 0.6, 100)


@dataclass
class DetectionReport:
    map: float  # mAP@[.5:.95]
    map50: float  # mAP@.5
    per_class_ap: dict[str, float]  # AP@[.5:.95] per class name (nan: no ground truth)
    precision: np.ndarray  # (101, K) precision at recall 0..1 at IoU 0.5, -1 where undefined
    confusion: np.ndarray  # (K+1, K+1) counts; rows true, columns predicted; last = background
    results: list[dict]  # COCO results format, the ground truth's image and category ids


def coco_results(records: DetectionRecords, detections: list[Detections]) -> list[dict]:
    """Detections in original pixels -> COCO results: image_id, category_id, bbox xywh, score."""
    out = []
    for image_id, det in zip(records.image_ids, detections, strict=True):
        for box, score, label in zip(box_convert(det.boxes, "xyxy", "xywh").tolist(), det.scores.tolist(),
                                     det.labels.tolist(), strict=True):
            out.append({"image_id": image_id, "category_id": records.category_ids[label],
                        "bbox": [round(v, 2) for v in box], "score": round(score, 5)})
    return out


def coco_eval(gt: COCO, results: list[dict]) -> COCOeval | None:
    """Run COCOeval (bbox) quietly; None when there is nothing to score."""
    if not results:
        return None
    with contextlib.redirect_stdout(io.StringIO()):
        # loadRes adds keys (area, id, ...) to the dicts it gets: hand it copies.
        evaluator = COCOeval(gt, gt.loadRes([dict(r) for r in results]), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


def per_class_ap(evaluator: COCOeval, names: list[str]) -> dict[str, float]:
    """AP@[.5:.95] per class from eval['precision'] (T, R, K, area, maxDets)."""
    precision = evaluator.eval["precision"][:, :, :, 0, -1]  # (T, R, K): all areas, 100 dets
    out = {}
    for k, name in enumerate(names):
        p = precision[:, :, k]
        out[name] = float(p[p > -1].mean()) if (p > -1).any() else float("nan")
    return out


def confusion_matrix(records: DetectionRecords, detections: list[Detections], k: int,
                     iou: float = 0.5, score: float = 0.25) -> np.ndarray:
    """Match each true box to its best-overlapping prediction (score >= `score`, IoU >=
    `iou`); unmatched truths count as predicted background, unmatched predictions as
    true background. Returns (K+1, K+1) counts."""
    matrix = np.zeros((k + 1, k + 1), dtype=np.int64)
    for boxes, labels, det in zip(records.boxes, records.labels, detections, strict=True):
        keep = det.scores >= score
        p_boxes, p_labels = det.boxes[keep], det.labels[keep].numpy()
        overlap = box_iou(torch.from_numpy(boxes), p_boxes).numpy()  # (N true, M predicted)
        used = np.zeros(len(p_labels), dtype=bool)
        for t in np.argsort(-overlap.max(1, initial=0)):  # most certain matches first
            candidates = np.where(~used & (overlap[t] >= iou))[0]
            if len(candidates):
                j = candidates[overlap[t, candidates].argmax()]
                used[j] = True
                matrix[labels[t], p_labels[j]] += 1
            else:
                matrix[labels[t], k] += 1
        np.add.at(matrix, (k, p_labels[~used]), 1)
    return matrix


def evaluate(model: TaskModel, records: DetectionRecords, size: int, batch_size: int = 16,
             runtime: Runtime | None = None) -> DetectionReport:
    """Detect on every image of `records` and score against `records.coco`."""
    model.eval()
    detections: list[Detections] = []
    for i in range(0, len(records), batch_size):
        images = [load_rgb(im) for im in records.images[i: i + batch_size]]
        detections += detect_arrays(model, images, size, *EVAL_THRESHOLDS, runtime)
    results = coco_results(records, detections)
    evaluator = coco_eval(records.coco, results)
    k = len(records.names)
    confusion = confusion_matrix(records, detections, k)
    if evaluator is None:
        return DetectionReport(0.0, 0.0, dict.fromkeys(records.names, 0.0),
                               np.full((101, k), -1.0), confusion, results)
    precision = evaluator.eval["precision"][0, :, :, 0, -1]  # (R, K) at IoU 0.5
    return DetectionReport(float(max(0.0, evaluator.stats[0])), float(max(0.0, evaluator.stats[1])),
                           per_class_ap(evaluator, records.names), precision, confusion, results)
