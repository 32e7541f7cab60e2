"""Top-k accuracy, per-class precision/recall and the confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from neocog.core.heads import TaskModel
from neocog.core.precision import Runtime


@dataclass
class ClassificationReport:
    top1: float
    top5: float
    loss: float
    confusion: np.ndarray  # (K, K) counts, rows = true class, columns = predicted
    names: list[str]

    def precision(self) -> np.ndarray:
        return np.diag(self.confusion) / np.maximum(1, self.confusion.sum(0))

    def recall(self) -> np.ndarray:
        return np.diag(self.confusion) / np.maximum(1, self.confusion.sum(1))

    def per_class_table(self) -> str:
        rows = [f"{'class':<12} {'precision':>9} {'recall':>7} {'support':>8}"]
        for name, p, r, n in zip(self.names, self.precision(), self.recall(),
                                 self.confusion.sum(1), strict=True):
            rows.append(f"{name:<12} {p:>9.4f} {r:>7.4f} {int(n):>8}")
        return "\n".join(rows)


@torch.no_grad()
def evaluate(model: TaskModel, dataset: Dataset, names: list[str], batch_size: int = 256,
             runtime: Runtime | None = None) -> ClassificationReport:
    """Run `model` over `dataset` once (through `runtime`; default fp32 where the model
    is); accuracy, loss and confusion."""
    runtime = runtime or Runtime.as_placed(model)
    model.eval()
    k = len(names)
    confusion = np.zeros((k, k), dtype=np.int64)
    top5_hits, loss_sum, n = 0, 0.0, 0
    for inputs, labels in DataLoader(dataset, batch_size=batch_size):
        logits = runtime.forward(model, inputs).cpu()  # (B, K) fp32
        loss_sum += float(model.loss(logits, labels)["loss"]) * len(labels)
        top = logits.topk(min(5, k), dim=1).indices  # (B, 5)
        top5_hits += int((top == labels[:, None]).any(1).sum())
        np.add.at(confusion, (labels.numpy(), top[:, 0].numpy()), 1)
        n += len(labels)
    return ClassificationReport(float(np.trace(confusion) / max(1, n)), top5_hits / max(1, n),
                                loss_sum / max(1, n), confusion, names)
