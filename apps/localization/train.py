"""`neocog locate train`: train a localizer (default: digits generated from MNIST)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from torch.utils.data import Subset

from neocog.core.backbones import BackboneConfig
from neocog.core.checkpoint import load_model
from neocog.core.config import parse_config
from neocog.core.heads import TaskModel, build_model
from neocog.core.precision import Runtime
from neocog.core.trainer import TrainConfig, Trainer, TrainResult, run_for, seed_everything
from neocog.core.zoo import WEIGHTS_HELP

from ..classification.data import holdout
from ..common import run_main
from .data import VAL_FRACTION, LocateData, LocateTrainSet, Preprocess, coco_source, generated_data
from .head import LocalizerConfig
from .metrics import evaluate
from .predictor import TASK


@dataclass
class LocateTrainConfig(TrainConfig):
    data: str = field(default="", metadata={
        "help": "MNIST IDX folder (digit images are generated from it) or a COCO instances "
                "json (images in images/ beside it); empty downloads MNIST"})
    val: str = field(default="", metadata={
        "help": "COCO instances json to validate on; empty: held-out part of --data"})
    primary: str = field(default="largest", metadata={
        "choices": ["largest", "first"], "help": "which box of a COCO image is its main object"})
    train_images: int = field(default=8000, metadata={
        "min": 1, "help": "generated images per epoch"})
    val_images: int = field(default=500, metadata={"min": 1, "help": "generated validation images"})
    val_fraction: float = field(default=VAL_FRACTION, metadata={
        "above": 0, "below": 1, "help": "share of digits (or COCO images) held out for validation"})
    # The head picks one cell of a stride-8 map: under 32 px there are at most 3 x 3.
    imgsz: int = field(default=128, metadata={"min": 32, "help": "input side (letterboxed)"})
    backbone: str = field(default="resnet", metadata={
        "shape": True, "help": "lenet, resnet, csp, mobile or torchvision:<resnet arch>"})
    width: int = field(default=16, metadata={"min": 1, "shape": True})
    depth: int = field(default=1, metadata={"min": 1, "shape": True})
    pretrained: bool = field(default=False, metadata={"help": "ImageNet weights (torchvision:*)"})
    channels: int = field(default=48, metadata={
        "min": 1, "shape": True, "help": "width of the head's fused map"})
    weights: str = field(default="", metadata={"help": f"fine-tune from this {WEIGHTS_HELP}"})
    epochs: int = 14
    batch_size: int = 32
    lr: float = 4e-3
    warmup_epochs: float = 0.3


def load_data(cfg: LocateTrainConfig) -> LocateData:
    if not cfg.data.endswith(".json"):
        return generated_data(cfg.data, cfg.train_images, cfg.val_images, cfg.val_fraction,
                              cfg.seed)
    source, names = coco_source(cfg.data, cfg.primary)
    if cfg.val:
        return LocateData(source, coco_source(cfg.val, cfg.primary)[0], names)
    train, val = holdout(np.arange(len(source)), cfg.val_fraction)
    return LocateData(Subset(source, train.tolist()), Subset(source, val.tolist()), names)


def build_localizer(cfg: LocateTrainConfig, num_classes: int) -> TaskModel:
    if cfg.weights:
        return load_model(cfg.weights, TASK)[0]
    # resnet's default strides [1, 1, 2, 2] suit 28-64 px digits; here a stride-2 stem and
    # three strided stages give the stride-8 map the head needs at a fraction of the cost.
    strides = [2, 2, 2, 2] if cfg.backbone == "resnet" else None
    backbone = BackboneConfig(name=cfg.backbone, in_channels=3, width=cfg.width, depth=cfg.depth,
                              strides=strides, pretrained=cfg.pretrained)
    head = LocalizerConfig(num_classes=num_classes, channels=cfg.channels)
    return build_model(TASK, backbone, "locate", head)


def make_trainer(cfg: LocateTrainConfig) -> Trainer:
    """The run `train(cfg)` makes, set up (data, model, validation) and not started."""
    cfg, run_dir = run_for(cfg, TASK)
    data = load_data(cfg)
    pre = Preprocess(size=cfg.imgsz)
    seed_everything(cfg.seed)  # the initial weights too are a function of --seed
    model = build_localizer(cfg, len(data.names))

    def validate(m: TaskModel, runtime: Runtime) -> dict[str, float]:
        return evaluate(m, pre, data.val, runtime=runtime).metrics()

    meta = {"names": data.names, "preprocess": pre.to_dict()}
    return Trainer(model, LocateTrainSet(data.train, pre), cfg, run_dir, validate, "corloc",
                   meta, app_config=asdict(cfg))


def train(cfg: LocateTrainConfig) -> TrainResult:
    """Train per `cfg`; the best epoch by CorLoc is kept."""
    return make_trainer(cfg).run()


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(LocateTrainConfig, argv, "neocog locate train",
                       "Train a localizer (class + one box); writes runs/locate/<name>/.")
    result = train(cfg)
    print(f"best: {result.best}\nweights: {result.run_dir / 'best.safetensors'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
