"""`neocog detect train`: train the YOLO-style detector on generated digit scenes, a COCO
layout, a YOLO txt layout, or an `--images DIR --annotations FILE` pair."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from torch.utils.data import Dataset

from neocog.core.backbones import BackboneConfig
from neocog.core.checkpoint import load_model
from neocog.core.config import flag, parse_config
from neocog.core.errors import NeocogError
from neocog.core.heads import TaskModel, build_model
from neocog.core.precision import Runtime
from neocog.core.trainer import TrainConfig, Trainer, TrainResult, run_for, seed_everything
from neocog.core.zoo import WEIGHTS_HELP
from neocog.datasets.detection import DetectionRecords, read_coco, read_detection
from neocog.datasets.idx import download_mnist
from neocog.datasets.scenes import SceneConfig

from ..common import run_main
from .data import Augment, DetectionDataset, SceneDataset, collate, read_mnist, scene_records
from .head import DetectConfig
from .metrics import evaluate
from .predictor import TASK

HELDOUT_DIGITS = 1000  # the last MNIST digits, kept for validation scenes only


@dataclass
class DetectTrainConfig(TrainConfig):
    data: str = field(default="scenes", metadata={
        "help": "'scenes' (digit scenes generated from --mnist), a COCO root (train2017/, "
                "val2017/, annotations/) or a YOLO root (images/, labels/, names.txt)"})
    images: str = field(default="", metadata={"help": "with --annotations: a COCO image folder"})
    annotations: str = field(default="", metadata={"help": "a COCO instances json (train)"})
    mnist: str = field(default="", metadata={"help": "MNIST IDX folder for scenes; empty downloads"})
    scenes: int = field(default=1000, metadata={
        "min": 1, "help": "generated training scenes per epoch"})
    # Both sides must also be multiples of the backbone's deepest stride (checked at setup).
    scene_size: int = field(default=256, metadata={
        "min": 32, "help": "side of generated training scenes; smaller trains faster, digits "
                           "keep their 24-96 px (the network is fully convolutional)"})
    val_scenes: int = field(default=200, metadata={"min": 1, "help": "fixed validation scenes"})
    imgsz: int = field(default=320, metadata={
        "min": 32, "help": "square input side (multiple of 32)"})
    backbone: str = field(default="csp", metadata={
        "shape": True, "help": "csp, mobile, resnet, ..."})
    width: int = field(default=8, metadata={
        "min": 1, "shape": True, "help": "backbone first-stage channels"})
    depth: int = field(default=1, metadata={"min": 1, "shape": True})
    neck_channels: int = field(default=32, metadata={"min": 1, "shape": True})
    mosaic: float = field(default=0.5, metadata={
        "min": 0, "max": 1, "help": "mosaic probability (real images)"})
    scale: float = field(default=0.3, metadata={
        "min": 0, "below": 1, "help": "random zoom in [1 - scale, 1 + scale]"})
    translate: float = field(default=0.1, metadata={
        "min": 0, "max": 1, "help": "random shift, as a fraction of the side"})
    hsv: float = field(default=0.3, metadata={
        "min": 0, "max": 1, "help": "colour gains in [1 - hsv, 1 + hsv]"})
    flip: float = field(default=0.5, metadata={
        "min": 0, "max": 1, "help": "horizontal flip probability (not digits)"})
    weights: str = field(default="", metadata={"help": f"fine-tune from this {WEIGHTS_HELP}"})
    epochs: int = 22
    batch_size: int = 8
    lr: float = 2e-3
    ema: bool = True
    warmup_epochs: float = 0.3


def load_data(cfg: DetectTrainConfig) -> tuple[Dataset, DetectionRecords]:
    """(training dataset, validation records) for the chosen data source."""
    augment = Augment(cfg.mosaic, cfg.scale, cfg.translate, cfg.hsv, cfg.flip)
    if cfg.annotations:
        train = read_coco(cfg.images, cfg.annotations)
        return DetectionDataset(train, cfg.imgsz, augment), train
    if cfg.data == "scenes":
        digits, labels = read_mnist(cfg.mnist or download_mnist(Path.home() / ".cache" / "neocog"))
        train_set = SceneDataset(digits[:-HELDOUT_DIGITS], labels[:-HELDOUT_DIGITS], cfg.scenes,
                                 SceneConfig(size=cfg.scene_size))
        val = scene_records(digits[-HELDOUT_DIGITS:], labels[-HELDOUT_DIGITS:], cfg.val_scenes,
                            seed=cfg.seed + 12345, scene=SceneConfig(size=cfg.imgsz))
        return train_set, val
    train = read_detection(cfg.data, "train")
    has_val = (Path(cfg.data) / "annotations" / "instances_val2017.json").is_file()
    # A YOLO folder has no split: it is scored on its own images (the overfit check).
    val = read_detection(cfg.data, "val") if has_val else train
    return DetectionDataset(train, cfg.imgsz, augment), val


def build_detector(cfg: DetectTrainConfig, num_classes: int) -> TaskModel:
    if cfg.weights:
        return load_model(cfg.weights, TASK)[0]
    backbone = BackboneConfig(name=cfg.backbone, in_channels=3, width=cfg.width, depth=cfg.depth)
    head = DetectConfig(num_classes=num_classes, neck_channels=cfg.neck_channels)
    return build_model(TASK, backbone, "detect", head)


def check_sides(cfg: DetectTrainConfig, model: TaskModel) -> None:
    """The neck adds each map to the next deeper one upsampled 2x: a side that does not
    halve evenly down to the deepest stride leaves maps one cell apart deep in training."""
    stride = model.head.strides[-1]
    scenes = cfg.data == "scenes" and not cfg.annotations  # trains on scene_size scenes
    for name in ("imgsz", "scene_size") if scenes else ("imgsz",):
        side = getattr(cfg, name)
        if side % stride:
            raise NeocogError(f"{flag(name)} {side}: the detector's deepest maps have stride "
                              f"{stride}; use a multiple of it, e.g. {-(-side // stride) * stride}")


def make_trainer(cfg: DetectTrainConfig) -> Trainer:
    """The run `train(cfg)` makes, set up (data, model, validation) and not started."""
    cfg, run_dir = run_for(cfg, TASK)
    train_set, val = load_data(cfg)
    seed_everything(cfg.seed)  # the initial weights too are a function of --seed
    model = build_detector(cfg, len(val.names))
    check_sides(cfg, model)

    def validate(m: TaskModel, runtime: Runtime) -> dict[str, float]:
        report = evaluate(m, val, cfg.imgsz, runtime=runtime)
        return {"map": report.map, "map50": report.map50}

    meta = {"names": val.names, "imgsz": cfg.imgsz}
    return Trainer(model, train_set, cfg, run_dir, validate, "map", meta, collate=collate,
                   app_config=asdict(cfg))


def train(cfg: DetectTrainConfig) -> TrainResult:
    """Train per `cfg`; every epoch is scored with COCOeval on the validation records."""
    return make_trainer(cfg).run()


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(DetectTrainConfig, argv, "neocog detect train",
                       "Train the YOLO-style detector; writes runs/detect/<name>/.")
    result = train(cfg)
    print(f"best: {result.best}\nweights: {result.run_dir / 'best.safetensors'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
