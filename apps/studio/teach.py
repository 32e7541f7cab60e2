"""Teach page (the ml4a workflow): examples of two or more classes of the reader's own,
from the webcam or uploaded, are turned into features by a shipped model's frozen
backbone (the CIFAR-10 photo model's), a new classification head is fitted on them in
seconds, and the whole model is saved as an ordinary checkpoint in
runs/classify/<name>/best.safetensors, which `neocog classify infer --weights` reads."""

from __future__ import annotations

import json
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from fastapi import APIRouter, Request, UploadFile

from neocog.apps.classification import Classifier, ClassifierHead
from neocog.core.checkpoint import atomic_write, save_checkpoint
from neocog.core.errors import NeocogError
from neocog.core.heads import TaskModel
from neocog.core.zoo import shipped_models
from neocog.datasets.images import read_image

from .safety import FormText, FormTexts, saved_upload

router = APIRouter(prefix="/api/teach")
BACKBONES = ("cifar10", "mnist")  # the first one shipped lends its backbone
MAX_EXAMPLES = 400
STEPS = 150  # full-batch Adam steps on the features: well under a second
NAME = re.compile(r"[\w-]{1,64}")


def backbone_model() -> str:
    """The shipped model whose backbone Teach borrows: the first of BACKBONES installed."""
    return next(n for n in BACKBONES if n in shipped_models() and shipped_models()[n].path.is_file())


@torch.no_grad()
def features(base: Classifier, images: list[np.ndarray]) -> torch.Tensor:
    """uint8 images -> the backbone's last feature maps Tensor[N, C, h, w], fp32 on the CPU
    (where the new head is fitted), whatever device and precision the backbone runs at."""
    batch = torch.stack([base.prepare(im) for im in images])  # (N, C, S, S)
    return base.runtime.forward(base.model.backbone, batch)[-1].cpu().contiguous()


def fit_head(base: Classifier, maps: torch.Tensor, labels: torch.Tensor,
             names: list[str]) -> tuple[TaskModel, float]:
    """A new head of `base`'s kind for `names`, fitted on frozen feature maps
    Tensor[N, C, h, w] with labels Tensor[N] (indices into `names`); -> the model (base's
    backbone + the head) and its accuracy on those examples."""
    config = replace(base.model.head.config, num_classes=len(names), hidden=0, dropout=0.0)
    # Seeded inside fork_rng: the same head for the same examples, and the server's own
    # random state left as it was.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        head = ClassifierHead(config, base.model.backbone.feature_info)
    optimizer = torch.optim.Adam(head.parameters(), lr=0.01)
    for _ in range(STEPS):
        loss = head.loss(head([maps]), labels)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    head.eval()
    with torch.no_grad():
        accuracy = float((head([maps]).argmax(1) == labels).float().mean())
    return TaskModel("classify", base.model.backbone, head), accuracy


def check_examples(files: list[UploadFile], classes: list[str]) -> list[str]:
    """The class names in first-seen order, after checking counts and names."""
    if len(files) != len(classes):
        raise NeocogError(f"{len(files)} images but {len(classes)} class names: one name per image")
    if len(files) > MAX_EXAMPLES:
        raise NeocogError(f"{len(files)} images: at most {MAX_EXAMPLES} are taught at once")
    names = list(dict.fromkeys(c.strip() for c in classes))
    if any(not n or len(n) > 40 for n in names):
        raise NeocogError("a class name must be 1 to 40 characters")
    if len(names) < 2:
        raise NeocogError(f"examples of {len(names)} class given: teach at least two")
    return names


def run_folder(runs: Path, name: str) -> Path:
    """runs/classify/<name>, for a plain name; the folder of a training run (it holds
    config.json) is refused, so `neocog classify train`'s checkpoint is never replaced."""
    if not NAME.fullmatch(name):
        raise NeocogError(f"name '{name}': letters, digits, '-' and '_' only (at most 64)")
    folder = runs / "classify" / name
    if (folder / "config.json").exists():
        raise NeocogError(f"classify/{name}: a training run's folder; give the taught model "
                          "another name")
    return folder


def save_run(folder: Path, model: TaskModel, base: Classifier, names: list[str],
             summary: dict[str, Any]) -> Path:
    """best.safetensors (the header `classify train` writes, plus "taught") and
    metrics.json in `folder`."""
    path = folder / "best.safetensors"
    save_checkpoint(path, model, {"names": names, "preprocess": base.header["preprocess"],
                                  "taught": summary})
    atomic_write(folder / "metrics.json", lambda tmp: tmp.write_text(json.dumps(summary, indent=2)))
    return path


@router.post("/train")
def teach(request: Request, files: list[UploadFile], classes: FormTexts,
          name: FormText = "") -> dict[str, Any]:
    studio = request.app.state.studio
    folder = run_folder(studio.runs, name or time.strftime("teach-%Y%m%d-%H%M%S"))
    names = check_examples(files, classes)
    started = time.perf_counter()
    loaded = studio.models.get("classify", backbone_model())
    base: Classifier = loaded.predictor
    images = []
    for upload in files:
        with saved_upload(upload, "example.jpg") as path:
            images.append(read_image(path, base.pre.channels))
    labels = torch.tensor([names.index(c.strip()) for c in classes])
    with loaded.lock:
        model, accuracy = fit_head(base, features(base, images), labels, names)
    counts = {n: int((labels == i).sum()) for i, n in enumerate(names)}
    summary = {"backbone": backbone_model(), "examples": counts, "train_accuracy": accuracy,
               "seconds": time.perf_counter() - started}
    path = save_run(folder, model, base, names, summary)
    checkpoint = path.relative_to(studio.runs).as_posix()
    studio.models.forget(checkpoint)
    return {"checkpoint": checkpoint, "names": names, **summary}
