"""`neocog classify templates`: what a one-layer net learns, next to what a convnet scores.

A linear classifier (pixels -> class logits, softmax cross-entropy) holds one weight per
pixel and class, so each class's weights, laid out as an image, are the template it
matches every input against (cs231n's "linear classification" notes). Its held-out
accuracy is set beside the convnet's on the same held-out images.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from neocog.core.config import SEED_RANGE, parse_config
from neocog.core.errors import NeocogError
from neocog.core.trainer import run_dir_for
from neocog.core.visualize import plot_templates
from neocog.core.zoo import WEIGHTS_HELP, shipped_models

from ..common import run_main
from .data import ArrayDataset, Preprocess, Split, load_split
from .metrics import evaluate
from .predictor import TASK, Classifier
from .train import check_classes
from .val import model_labels


@dataclass
class ClassifyTemplatesConfig:
    data: str = field(default="", metadata={"help": "same formats as train; empty downloads MNIST"})
    weights: str = field(default="", metadata={
        "help": f"the convnet to compare with: {WEIGHTS_HELP}; default: the shipped "
                "classifier that knows the data's classes (mnist, cifar10)"})
    # Held out by every recipe too: the held-out part of a smaller fraction lies inside
    # that of a larger one (the tail of the same order), so the convnet is never scored
    # on an image it trained on (MNIST's recipe holds out 1/8, CIFAR-10's exactly 1/10).
    val_fraction: float = field(default=0.1, metadata={
        "above": 0, "below": 1, "help": "held-out share when the data has no official split"})
    imgsz: int = field(default=0, metadata={"min": 0, "help": "the linear model's input side; "
                                                              "0 = the convnet's"})
    # On MNIST, 3 epochs scored as well as 10 (0.916 vs 0.914) and the templates stay
    # digit-shaped; more epochs fit pixel noise that the panels then show.
    epochs: int = field(default=3, metadata={"min": 1})
    batch_size: int = field(default=128, metadata={"min": 1})
    lr: float = field(default=0.01, metadata={"above": 0, "help": "SGD learning rate (momentum 0.9)"})
    # Decay pulls the weights of pixels no class needs (an MNIST border) to 0, so the
    # templates show strokes, not noise.
    weight_decay: float = field(default=1e-3, metadata={"min": 0})
    seed: int = field(default=0, metadata=SEED_RANGE)
    project: str = "runs"
    name: str = ""


def flattened(images: Any, labels: np.ndarray, pre: Preprocess) -> tuple[Tensor, Tensor]:
    """uint8 images -> (normalised pixels Tensor[N, C*S*S], labels Tensor[N])."""
    dataset = ArrayDataset(images, labels, pre)
    pixels = torch.stack([dataset[i][0] for i in range(len(dataset))])  # (N, C, S, S)
    return pixels.flatten(1), torch.as_tensor(labels, dtype=torch.long)


def fit_linear(x: Tensor, y: Tensor, classes: int, cfg: ClassifyTemplatesConfig) -> nn.Linear:
    """Softmax regression on pixels Tensor[N, D], labels Tensor[N]: minibatch SGD."""
    model = nn.Linear(x.shape[1], classes)
    # Zero start: all a template shows was learnt, none of it is initial noise.
    nn.init.zeros_(model.weight)
    nn.init.zeros_(model.bias)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9,
                          weight_decay=cfg.weight_decay)
    order = torch.Generator().manual_seed(cfg.seed)
    for _ in range(cfg.epochs):
        for batch in torch.randperm(len(y), generator=order).split(cfg.batch_size):
            loss = F.cross_entropy(model(x[batch]), y[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


@torch.no_grad()
def top1(model: nn.Linear, x: Tensor, y: Tensor) -> float:
    return float((model(x).argmax(1) == y).double().mean())


def fit_templates(split: Split, cfg: ClassifyTemplatesConfig) -> tuple[Tensor, float]:
    """Train the one-layer model on `split`'s training images: (its class templates
    Tensor[K, C, S, S], its top-1 on the held-out images)."""
    x, y = flattened(split.train_images, split.train_labels, split.pre)
    linear = fit_linear(x, y, len(split.names), cfg)
    held_out = top1(linear, *flattened(split.val_images, split.val_labels, split.pre))
    pre = split.pre
    # (K, C*S*S) -> (K, C, S, S): flattened() laid each image out channel by channel
    return linear.weight.detach().view(-1, pre.channels, pre.size, pre.size), held_out


def convnet_top1(clf: Classifier, split: Split, data: str) -> tuple[float | None, str]:
    """(the convnet's top-1 on the held-out images, the line's text); (None, why) when
    the data has classes the convnet does not know."""
    try:
        labels = model_labels(split.val_labels, split.names, clf, data)
    except NeocogError as err:
        return None, f"not scored: {err}"
    report = evaluate(clf.model, ArrayDataset(split.val_images, labels, clf.pre), clf.names,
                      runtime=clf.runtime)
    return report.top1, f"top-1 {report.top1:.4f}"


def matching_convnet(names: list[str]) -> Classifier:
    """The first shipped classifier whose classes include all of `names` (mnist for
    digits, cifar10 for CIFAR-10's), else the default one."""
    for model in shipped_models().values():
        if model.task == TASK and model.path.is_file():
            clf = Classifier(model.name)
            if set(names) <= set(clf.names):
                return clf
    return Classifier()


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(ClassifyTemplatesConfig, argv, "neocog classify templates",
                       "Train a one-layer linear classifier; write its class templates PNG "
                       "and its held-out accuracy beside the convnet's.")
    split = load_split(cfg.data, cfg.val_fraction, cfg.imgsz)
    check_classes(split, cfg.data)
    clf = Classifier(cfg.weights) if cfg.weights else matching_convnet(split.names)
    # The images are kept as read; the linear model sees them at the convnet's side.
    split.pre = replace(split.pre, size=cfg.imgsz or clf.pre.size)
    templates, linear_top1 = fit_templates(split, cfg)
    conv_top1, conv_text = convnet_top1(clf, split, cfg.data)
    out = run_dir_for(cfg.project, TASK, cfg.name or "templates", resume=False)
    out.mkdir(parents=True, exist_ok=True)
    plot_templates(templates, split.names, out / "templates.png",
                   f"one-layer templates, held-out top-1 {linear_top1:.4f}")
    summary = {"images": len(split.val_labels), "train_images": len(split.train_labels),
               "linear": {"top1": linear_top1, "epochs": cfg.epochs},
               "convnet": {"weights": str(clf.weights), "top1": conv_top1, "result": conv_text}}
    (out / "templates.json").write_text(json.dumps(summary, indent=2))
    print(f"linear (one layer): top-1 {linear_top1:.4f}  |  "
          f"convnet ({cfg.weights or clf.weights.name}): {conv_text}  "
          f"(on {len(split.val_labels)} held-out images)")
    print(f"templates: {out / 'templates.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
