"""`neocog classify train`: train an image classifier (default: digits on MNIST IDX files)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from neocog.core.backbones import BackboneConfig
from neocog.core.checkpoint import load_model
from neocog.core.config import parse_config
from neocog.core.errors import NeocogError
from neocog.core.heads import TaskModel, build_model
from neocog.core.precision import Runtime
from neocog.core.shapes import check_input_side
from neocog.core.trainer import TrainConfig, Trainer, TrainResult, run_for, seed_everything

from ..common import run_main
from .data import ArrayDataset, Split, load_split
from .head import ClassifierConfig
from .metrics import evaluate
from .predictor import TASK


@dataclass
class ClassifyTrainConfig(TrainConfig):
    data: str = field(default="", metadata={
        "help": "MNIST IDX folder, CIFAR-10 batches folder or image folder (class/xxx.png); "
                "empty downloads MNIST"})
    val_fraction: float = field(default=0.125, metadata={
        "above": 0, "below": 1, "help": "held-out share when the data has no official split"})
    imgsz: int = field(default=0, metadata={"min": 0, "help": "input side; 0 = the data's own"})
    backbone: str = field(default="resnet", metadata={
        "shape": True, "help": "lenet, resnet, csp, mobile or torchvision:<resnet arch>"})
    width: int = field(default=16, metadata={"min": 1, "shape": True})
    depth: int = field(default=1, metadata={"min": 1, "shape": True})
    pretrained: bool = field(default=False, metadata={"help": "ImageNet weights (torchvision:*)"})
    hidden: int = field(default=0, metadata={
        "min": 0, "shape": True, "help": "hidden FC width; 0 = one linear layer"})
    pool: int = field(default=1, metadata={
        "min": 1, "shape": True, "help": "pool the last map to pool x pool"})
    dropout: float = field(default=0.1, metadata={"min": 0, "below": 1})
    label_smoothing: float = field(default=0.1, metadata={"min": 0, "below": 1})
    weights: str = field(default="", metadata={"help": "start from this checkpoint (fine-tune)"})
    epochs: int = 18
    batch_size: int = 64
    lr: float = 4e-3
    warmup_epochs: float = 0.5


def build_classifier(cfg: ClassifyTrainConfig, split: Split) -> TaskModel:
    if cfg.weights:
        model, _ = load_model(cfg.weights, TASK)
        return model
    backbone = BackboneConfig(name=cfg.backbone, in_channels=split.pre.channels, width=cfg.width,
                              depth=cfg.depth, pretrained=cfg.pretrained)
    head = ClassifierConfig(num_classes=len(split.names), pool=cfg.pool, hidden=cfg.hidden,
                            dropout=cfg.dropout, label_smoothing=cfg.label_smoothing)
    return build_model(TASK, backbone, "classify", head)


def check_classes(split: Split, data: str) -> None:
    """Training images of one class would score "accuracy 1.0" and mean nothing."""
    classes = np.unique(split.train_labels)
    if len(classes) < 2:
        found = ", ".join(split.names[i] for i in classes) or "none"
        raise NeocogError(f"{data or 'MNIST'}: the training images are of {len(classes)} "
                          f"class ({found}); a classifier needs at least 2 classes")


def make_trainer(cfg: ClassifyTrainConfig) -> Trainer:
    """The run `train(cfg)` makes, set up (data, model, validation) and not started."""
    cfg, run_dir = run_for(cfg, TASK)
    split = load_split(cfg.data, cfg.val_fraction, cfg.imgsz)
    check_classes(split, cfg.data)
    seed_everything(cfg.seed)  # the initial weights too are a function of --seed
    model = build_classifier(cfg, split)
    side = split.pre.size
    what = f"--imgsz {side}" if cfg.imgsz else f"{cfg.data or 'MNIST'}: its {side} px images"
    check_input_side(model.backbone, split.pre.channels, side, what,
                     f"backbone {model.backbone.config.name}")
    train_set = ArrayDataset(split.train_images, split.train_labels, split.pre, augment=True)
    val_set = ArrayDataset(split.val_images, split.val_labels, split.pre)

    def validate(m: TaskModel, runtime: Runtime) -> dict[str, float]:
        report = evaluate(m, val_set, split.names, runtime=runtime)
        return {"accuracy": report.top1, "top5": report.top5, "val_loss": report.loss}

    meta = {"names": split.names, "preprocess": split.pre.to_dict()}
    return Trainer(model, train_set, cfg, run_dir, validate, "accuracy", meta,
                   app_config=asdict(cfg))


def train(cfg: ClassifyTrainConfig) -> TrainResult:
    """Train per `cfg` (data-parallel when launched by torchrun)."""
    return make_trainer(cfg).run()


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(ClassifyTrainConfig, argv, "neocog classify train",
                       "Train an image classifier; writes runs/classify/<name>/.")
    result = train(cfg)
    print(f"best: {result.best}\nweights: {result.run_dir / 'best.safetensors'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
