"""`neocog classify train`: train an image classifier (default: digits on MNIST IDX files)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neocog.core.backbones import Backbone, BackboneConfig
from neocog.core.checkpoint import load_model
from neocog.core.config import field_metadata, given_fields, keep_fixed, parse_config
from neocog.core.errors import NeocogError
from neocog.core.heads import TaskModel, build_model
from neocog.core.precision import Runtime
from neocog.core.shapes import check_input_side
from neocog.core.trainer import TrainConfig, Trainer, TrainResult, run_for, seed_everything
from neocog.core.zoo import WEIGHTS_HELP

from ..common import run_main
from .data import ArrayDataset, Split, load_split
from .head import ClassifierConfig
from .metrics import evaluate
from .predictor import TASK

# A recipe is a set of defaults for the options below; options given still win.
RECIPES: dict[str, dict[str, Any]] = {
    "mnist": {},  # the field defaults: digits, 28 px
    # After airbench94 (Jordan 2024), its ideas in this trainer's terms: a whitened 2x2
    # stem, max-pooled blocks, frozen BN scales, label smoothing 0.2, a 2-px shift, biases
    # at 64x the lr. lr and weight decay give airbench's step and decay per epoch at this
    # batch and momentum (its 10 and 0.0153 per 1024 images, momentum 0.85).
    "cifar10": {"backbone": "cifar", "width": 64, "pooling": "max", "logit_scale": 0.125,
                "dropout": 0.0, "label_smoothing": 0.2, "optimizer": "sgd", "lr": 0.4,
                "bias_lr": 64.0, "weight_decay": 2e-3,
                "batch_size": 512, "epochs": 16, "warmup_epochs": 2.0, "grad_clip": 0.0,
                "translate": 1 / 16, "val_fraction": 0.1, "imgsz": 32},
}
# The same for up to an hour of training: the shipped CIFAR-10 model's recipe.
RECIPES["cifar10-long"] = {**RECIPES["cifar10"], "epochs": 45}


@dataclass
class ClassifyTrainConfig(TrainConfig):
    recipe: str = field(default="mnist", metadata={
        "choices": sorted(RECIPES), "shape": True,
        "help": "defaults for the options below: mnist (digits), cifar10 (fast training on "
                "32 px photos) or cifar10-long (the same for up to an hour)"})
    data: str = field(default="", metadata={
        "help": "MNIST IDX folder, CIFAR-10 batches folder or image folder (class/xxx.png); "
                "empty downloads MNIST"})
    val_fraction: float = field(default=0.125, metadata={
        "above": 0, "below": 1, "help": "held-out share when the data has no official split"})
    imgsz: int = field(default=0, metadata={"min": 0, "help": "input side; 0 = the data's own"})
    backbone: str = field(default="resnet", metadata={
        "shape": True, "help": "lenet, resnet, cifar, csp, mobile or torchvision:<resnet arch>"})
    width: int = field(default=16, metadata={"min": 1, "shape": True})
    depth: int = field(default=1, metadata={"min": 1, "shape": True})
    pretrained: bool = field(default=False, metadata={"help": "ImageNet weights (torchvision:*)"})
    hidden: int = field(default=0, metadata={
        "min": 0, "shape": True, "help": "hidden FC width; 0 = one linear layer"})
    pool: int = field(default=1, metadata={
        "min": 1, "shape": True, "help": "pool the last map to pool x pool"})
    pooling: str = field(default="avg", metadata={
        "choices": ["avg", "max"], "shape": True, "help": "how the head pools the last map"})
    logit_scale: float = field(default=1.0, metadata={
        "above": 0, "shape": True, "help": "logits times this (1/8: a slower last layer)"})
    dropout: float = field(default=0.1, metadata={"min": 0, "below": 1})
    label_smoothing: float = field(default=0.1, metadata={"min": 0, "below": 1})
    translate: float = field(default=0.125, metadata={
        "min": 0, "below": 0.5, "help": "photos: random shift, as a share of the side"})
    weights: str = field(default="", metadata={
        "help": f"start from this {WEIGHTS_HELP} (fine-tune)"})
    epochs: int = 18
    batch_size: int = 64
    lr: float = 4e-3
    warmup_epochs: float = 0.5


def build_classifier(cfg: ClassifyTrainConfig, split: Split) -> TaskModel:
    backbone = BackboneConfig(name=cfg.backbone, in_channels=split.pre.channels, width=cfg.width,
                              depth=cfg.depth, pretrained=cfg.pretrained)
    head = ClassifierConfig(num_classes=len(split.names), pool=cfg.pool, hidden=cfg.hidden,
                            dropout=cfg.dropout, label_smoothing=cfg.label_smoothing,
                            pooling=cfg.pooling, logit_scale=cfg.logit_scale)
    return build_model(TASK, backbone, "classify", head)


def check_classes(split: Split, data: str) -> None:
    """Training images of one class would score "accuracy 1.0" and mean nothing."""
    classes = np.unique(split.train_labels)
    if len(classes) < 2:
        found = ", ".join(split.names[i] for i in classes) or "none"
        raise NeocogError(f"{data or 'MNIST'}: the training images are of {len(classes)} "
                          f"class ({found}); a classifier needs at least 2 classes")


def changed_fields(cfg: ClassifyTrainConfig) -> set[str]:
    """What a config built in Python asks for: the fields off their defaults."""
    return {f.name for f in fields(cfg) if getattr(cfg, f.name) != f.default}


def with_recipe(cfg: ClassifyTrainConfig, given: Collection[str] | None) -> ClassifyTrainConfig:
    """`cfg` with its recipe's defaults for every option not `given` (written on the
    command line; None, from Python: changed_fields)."""
    given = changed_fields(cfg) if given is None else given
    return replace(cfg, **{k: v for k, v in RECIPES[cfg.recipe].items() if k not in given})


def fine_tuning(cfg: ClassifyTrainConfig, given: Collection[str]
                ) -> tuple[TaskModel, dict, ClassifyTrainConfig]:
    """(the --weights model, its header, `cfg` with the options the checkpoint fixes: its
    model's shape, head and input side), so config.json says what was trained; one the
    user gave otherwise is an error (core keep_fixed)."""
    model, header = load_model(cfg.weights, TASK)
    backbone, head = model.backbone.config, model.head.config
    kept = {"backbone": backbone.name, "width": backbone.width, "depth": backbone.depth,
            "hidden": head.hidden, "pool": head.pool, "pooling": head.pooling,
            "logit_scale": head.logit_scale, "dropout": head.dropout,
            "label_smoothing": head.label_smoothing, "imgsz": header["preprocess"]["size"]}
    return model, header, keep_fixed(cfg, kept, given, cfg.weights)


def options_for(cfg: ClassifyTrainConfig, given: Collection[str] | None
                ) -> tuple[ClassifyTrainConfig, Path, tuple[TaskModel, dict] | None]:
    """(the run's options, its folder, the --weights model and header or None): the run's
    own model-shaping options when resuming (its recipe among them), else the recipe's
    defaults for what was not given, then what a fine-tuned checkpoint fixes."""
    given = changed_fields(cfg) if given is None else set(given)
    cfg, run_dir = run_for(cfg, TASK, given)
    if cfg.resume:
        given |= {f.name for f in fields(cfg) if field_metadata(type(cfg), f.name).get("shape")}
    cfg = with_recipe(cfg, given)
    if not cfg.weights:
        return cfg, run_dir, None
    model, header, cfg = fine_tuning(cfg, given)
    return cfg, run_dir, (model, header)


def check_same_classes(split: Split, header: dict, cfg: ClassifyTrainConfig) -> None:
    """Fine-tuning keeps the checkpoint's head: other classes would train to the end
    and write a checkpoint that does not load."""
    if split.names != header["names"]:
        raise NeocogError(f"{cfg.data or 'MNIST'}: its classes ({', '.join(split.names[:5])}"
                          f"{' ...' if len(split.names) > 5 else ''}) are not the "
                          f"{len(header['names'])} classes of {cfg.weights}, which "
                          "fine-tuning keeps")


def make_trainer(cfg: ClassifyTrainConfig, given: Collection[str] | None = None) -> Trainer:
    """The run `train(cfg)` makes, set up (data, model, validation) and not started;
    `given`: the options written on the command line (None from Python: changed_fields)."""
    cfg, run_dir, start = options_for(cfg, given)
    split = load_split(cfg.data, cfg.val_fraction, cfg.imgsz)
    check_classes(split, cfg.data)
    if start:
        check_same_classes(split, start[1], cfg)
    seed_everything(cfg.seed)  # the initial weights too are a function of --seed
    model = start[0] if start else build_classifier(cfg, split)
    side = split.pre.size
    what = f"--imgsz {side}" if cfg.imgsz else f"{cfg.data or 'MNIST'}: its {side} px images"
    check_input_side(model.backbone, split.pre.channels, side, what,
                     f"backbone {model.backbone.config.name}")
    train_set = ArrayDataset(split.train_images, split.train_labels, split.pre, augment=True,
                             translate=cfg.translate)
    val_set = ArrayDataset(split.val_images, split.val_labels, split.pre)
    if not start and type(model.backbone).fit_data is not Backbone.fit_data:
        model.backbone.fit_data(spread_sample(split, 5000))

    def validate(m: TaskModel, runtime: Runtime) -> dict[str, float]:
        report = evaluate(m, val_set, split.names, runtime=runtime)
        return {"accuracy": report.top1, "top5": report.top5, "val_loss": report.loss}

    # val_fraction: what `classify val` holds out by default, so it scores the images
    # this model never trained on.
    meta = {"names": split.names, "preprocess": split.pre.to_dict(),
            "val_fraction": cfg.val_fraction}
    return Trainer(model, train_set, cfg, run_dir, validate, "accuracy", meta,
                   app_config=asdict(cfg))


def spread_sample(split: Split, n: int) -> torch.Tensor:
    """`n` training images spread evenly over the split (a folder's images come class by
    class), unaugmented: Tensor[n, C, S, S]."""
    plain = ArrayDataset(split.train_images, split.train_labels, split.pre)
    picks = np.linspace(0, len(plain) - 1, min(n, len(plain))).astype(int)
    return torch.stack([plain[i][0] for i in picks])


def train(cfg: ClassifyTrainConfig, given: Collection[str] | None = None) -> TrainResult:
    """Train per `cfg` (data-parallel when launched by torchrun)."""
    return make_trainer(cfg, given).run()


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(ClassifyTrainConfig, argv, "neocog classify train",
                       "Train an image classifier; writes runs/classify/<name>/.")
    result = train(cfg, given_fields(ClassifyTrainConfig, argv))
    print(f"best: {result.best}\nweights: {result.run_dir / 'best.safetensors'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
