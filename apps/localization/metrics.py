"""Top-1, mean IoU and CorLoc (class right and IoU >= 0.5: the ILSVRC localization
criterion, Russakovsky et al. 2015) over a source of (image, label, box) samples."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from neocog.core.boxes import paired_box_iou
from neocog.core.heads import TaskModel
from neocog.core.precision import Runtime

from .data import Preprocess
from .predictor import locate_arrays

CORLOC_IOU = 0.5


@dataclass
class LocalizationReport:
    top1: float
    mean_iou: float
    corloc: float
    labels: np.ndarray  # (N,) true class indices
    predicted: np.ndarray  # (N,) predicted class indices
    true_boxes: np.ndarray  # (N, 4) xyxy, original pixels
    pred_boxes: np.ndarray  # (N, 4) xyxy, original pixels
    ious: np.ndarray  # (N,)

    def metrics(self) -> dict[str, float]:
        return {"corloc": self.corloc, "mean_iou": self.mean_iou, "top1": self.top1}


@torch.no_grad()
def evaluate(model: TaskModel, pre: Preprocess, source: Dataset, batch_size: int = 100,
             runtime: Runtime | None = None) -> LocalizationReport:
    """Run `model` once over every sample of `source`; boxes are compared in the pixels
    of each original image (after mapping back from the letterboxed input)."""
    model.eval()
    labels, predicted, true_boxes, pred_boxes = [], [], [], []
    for start in range(0, len(source), batch_size):
        samples = [source[i] for i in range(start, min(len(source), start + batch_size))]
        images, truth, boxes = zip(*samples, strict=True)
        for (index, _, box), label, true in zip(locate_arrays(model, pre, list(images), runtime), truth,
                                                boxes, strict=True):
            labels.append(label)
            predicted.append(index)
            true_boxes.append(true)
            pred_boxes.append(box)
    labels_a, predicted_a = np.array(labels), np.array(predicted)
    true_a, pred_a = np.array(true_boxes, np.float32), np.array(pred_boxes, np.float32)
    ious = paired_box_iou(torch.from_numpy(pred_a), torch.from_numpy(true_a)).numpy()
    hit = labels_a == predicted_a
    return LocalizationReport(float(hit.mean()), float(ious.mean()),
                              float((hit & (ious >= CORLOC_IOU)).mean()), labels_a, predicted_a,
                              true_a, pred_a, ious)
