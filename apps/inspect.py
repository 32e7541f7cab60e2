"""`neocog inspect`: the volume table of a backbone (or a checkpoint's whole model)."""

from __future__ import annotations

from dataclasses import dataclass, field

from neocog.core.backbones import BackboneConfig, build_backbone
from neocog.core.checkpoint import read_checkpoint
from neocog.core.config import parse_config
from neocog.core.errors import NeocogError
from neocog.core.heads import model_from_spec
from neocog.core.shapes import format_table, volume_table

from . import (  # noqa: F401 - register the heads a checkpoint may name
    classification,
    detection,
    localization,
    speech,
)
from .wavenet import DEFAULT_WEIGHTS as WAVENET_WEIGHTS
from .wavenet.model import WaveNet, summary


@dataclass
class InspectConfig:
    backbone: str = field(default="lenet", metadata={"help": "registered backbone name"})
    input: str = field(default="1x28x28", metadata={"help": "input volume C x H x W"})
    width: int = field(default=0, metadata={
        "min": 0, "help": "first-stage channels; 0 = the family's"})
    depth: int = field(default=1, metadata={"min": 1})
    weights: str = field(default="", metadata={"help": "inspect this checkpoint's full model"})
    wavenet: bool = field(default=False, metadata={
        "help": "the shipped WaveNet (or --weights of one): layers and receptive field"})


def parse_shape(text: str) -> tuple[int, int, int]:
    try:
        c, h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise NeocogError(f"--input '{text}': expected C x H x W, e.g. 1x28x28") from None
    return c, h, w


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(InspectConfig, argv, "neocog inspect",
                       "Print each layer's output volume W x H x D, parameters and multiply-adds, "
                       "computed with (W - F + 2P)/S + 1.")
    shape = parse_shape(cfg.input)
    if cfg.wavenet or cfg.weights:
        weights = cfg.weights or str(WAVENET_WEIGHTS)
        model = model_from_spec(read_checkpoint(weights)[1]["model"])
        title = f"{weights} ({model.task})"
        if isinstance(model, WaveNet):  # a 1-D autoregressive net: no 2-D volume table
            print(f"{title}\n{summary(model)}")
            return 0
        channels = model.backbone.config.in_channels
        if shape[0] != channels:
            raise NeocogError(f"--input {cfg.input}: {weights} reads {channels}-channel inputs, "
                              f"e.g. --input {channels}x{shape[1]}x{shape[2]}")
    else:
        width = cfg.width or (8 if cfg.backbone == "lenet" else 16)
        model = build_backbone(BackboneConfig(name=cfg.backbone, in_channels=shape[0],
                                              width=width, depth=cfg.depth))
        title = f"backbone {cfg.backbone} (width {width}, depth {cfg.depth})"
    rows = volume_table(model, shape)
    print(title)
    print(format_table(rows, shape, sum(p.numel() for p in model.parameters())))
    return 0
