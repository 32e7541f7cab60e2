"""Top-k accuracy, per-class precision/recall and the confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
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

    def confused_pairs(self, top: int = 5) -> list[dict[str, Any]]:
        """The `top` largest off-diagonal cells, largest first (ties in row order), each
        {"true", "predicted", "count", "share"}: share = count / images of the true class.
        Cells that are 0 are left out: a perfect model has no pairs."""
        mistakes = self.confusion.copy()
        np.fill_diagonal(mistakes, 0)
        cells = np.argsort(-mistakes, axis=None, kind="stable")[:top]  # flat indices
        support = self.confusion.sum(1)
        return [{"true": self.names[i], "predicted": self.names[j], "count": int(mistakes[i, j]),
                 "share": round(float(mistakes[i, j] / support[i]), 4)}
                for i, j in zip(*np.unravel_index(cells, mistakes.shape), strict=True)
                if mistakes[i, j] > 0]

    def confused_table(self, top: int = 5) -> str:
        pairs = self.confused_pairs(top)
        if not pairs:
            return "most confused: none (no image was given another class)"
        rows = [f"{'most confused (true -> predicted)':<34} {'count':>6} {'share of true':>14}"]
        for p in pairs:
            rows.append(f"{p['true'] + ' -> ' + p['predicted']:<34} {p['count']:>6} "
                        f"{p['share']:>14.2%}")
        return "\n".join(rows)


def shifted(batch: Tensor, dy: int, dx: int) -> Tensor:
    """Tensor[B, C, H, W] moved by (dy, dx) pixels, the edge reflected into the gap."""
    p = max(abs(dy), abs(dx))
    padded = F.pad(batch, (p, p, p, p), mode="reflect")
    h, w = batch.shape[-2:]
    return padded[..., p - dy:p - dy + h, p - dx:p - dx + w]


TTA_HELP = "test-time augmentation: average shifted (and mirrored photo) views"


@torch.no_grad()
def logits(model: TaskModel, runtime: Runtime, batch: Tensor, tta: bool = False) -> Tensor:
    """Tensor[B, C, S, S] -> fp32 logits Tensor[B, K]. With `tta`, test-time augmentation
    as in airbench: half the weight on the image, half on it moved one pixel diagonally
    each way, each view averaged with its mirror image for colour inputs (a mirrored
    photo is the same class; a mirrored digit is not)."""
    if not tta:
        return runtime.forward(model, batch)

    def mirrored(x: Tensor) -> Tensor:
        out = runtime.forward(model, x)
        return (out + runtime.forward(model, x.flip(-1))) / 2 if x.shape[1] == 3 else out

    moved = (mirrored(shifted(batch, 1, 1)) + mirrored(shifted(batch, -1, -1))) / 2
    return (mirrored(batch) + moved) / 2


@torch.no_grad()
def evaluate(model: TaskModel, dataset: Dataset, names: list[str], batch_size: int = 256,
             runtime: Runtime | None = None, tta: bool = False) -> ClassificationReport:
    """Run `model` over `dataset` once (through `runtime`; default fp32 where the model
    is; `tta`: see `logits`); accuracy, loss and confusion."""
    runtime = runtime or Runtime.as_placed(model)
    model.eval()
    k = len(names)
    confusion = np.zeros((k, k), dtype=np.int64)
    top5_hits, loss_sum, n = 0, 0.0, 0
    for inputs, labels in DataLoader(dataset, batch_size=batch_size):
        out = logits(model, runtime, inputs, tta).cpu()  # (B, K) fp32
        loss_sum += float(model.loss(out, labels)["loss"]) * len(labels)
        top = out.topk(min(5, k), dim=1).indices  # (B, 5)
        top5_hits += int((top == labels[:, None]).any(1).sum())
        np.add.at(confusion, (labels.numpy(), top[:, 0].numpy()), 1)
        n += len(labels)
    return ClassificationReport(float(np.trace(confusion) / max(1, n)), top5_hits / max(1, n),
                                loss_sum / max(1, n), confusion, names)
