"""`neocog inspect`: the volume table of a backbone (or a checkpoint's whole model)."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from neocog.core.backbones import BackboneConfig, build_backbone
from neocog.core.checkpoint import read_checkpoint
from neocog.core.config import parse_config
from neocog.core.errors import NeocogError
from neocog.core.heads import model_from_spec
from neocog.core.shapes import format_table, volume_table
from neocog.core.zoo import WEIGHTS_HELP, named_weights

from . import (  # noqa: F401 - register the heads a checkpoint may name
    classification,
    detection,
    localization,
    speech,
)
from .common import run_main
from .wavenet import DEFAULT_WEIGHTS as WAVENET_WEIGHTS
from .wavenet.model import WaveNet, summary


@dataclass
class InspectConfig:
    backbone: str = field(default="lenet", metadata={"help": "registered backbone name"})
    input: str = field(default="", metadata={
        "help": "input volume C x H x W; default: a checkpoint's own, else 1x28x28"})
    width: int = field(default=0, metadata={
        "min": 0, "help": "first-stage channels; 0 = the family's"})
    depth: int = field(default=1, metadata={"min": 1})
    weights: str = field(default="", metadata={"help": f"the full model of this {WEIGHTS_HELP}"})
    wavenet: bool = field(default=False, metadata={
        "help": "the shipped WaveNet (or --weights of one): layers and receptive field"})


MAX_SIDE = 2048  # the table comes from a real dry run: 16 channels of 2048^2 are 256 MB
SPEECH_FRAMES = 100  # 1 s of 10 ms log-mel frames


def parse_shape(text: str) -> tuple[int, int, int]:
    try:
        c, h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise NeocogError(f"--input '{text}': expected C x H x W, e.g. 1x28x28") from None
    if not all(1 <= v <= MAX_SIDE for v in (c, h, w)):
        raise NeocogError(f"--input {text}: each of C, H and W must be 1 to {MAX_SIDE}")
    return c, h, w


def own_input(header: dict, channels: int) -> str:
    """The input a checkpoint's model was trained on, as C x H x W: a speech model's height
    is its mel bands (its head folds exactly that many into channels), an image model's
    side its preprocess size or imgsz."""
    if "mel" in header:
        return f"{channels}x{header['mel']['n_mels']}x{SPEECH_FRAMES}"
    side = header.get("imgsz") or header.get("preprocess", {}).get("size", 28)
    return f"{channels}x{side}x{side}"


def print_table(model: nn.Module, text: str, title: str, hint: str) -> None:
    """The volume table of `model` for input `text` (C x H x W); a model that cannot read
    that input is one line naming --input (and `hint`), not torch's traceback."""
    shape = parse_shape(text)
    try:
        rows = volume_table(model, shape)
    except RuntimeError as err:
        reason = str(err).strip().splitlines()[0]
        raise NeocogError(f"--input {text}: {title} cannot read it ({reason}){hint}") from None
    print(title)
    print(format_table(rows, shape, sum(p.numel() for p in model.parameters())))


def inspect_checkpoint(weights: str, text: str) -> None:
    """The whole model of checkpoint `weights` (a file or a shipped model's name) for input
    `text` ("": its own input)."""
    header = read_checkpoint(named_weights(weights))[1]
    model = model_from_spec(header["model"])
    title = f"{weights} ({model.task})"
    if isinstance(model, WaveNet):  # a 1-D autoregressive net: no 2-D volume table
        print(f"{title}\n{summary(model)}")
        return
    channels = model.backbone.config.in_channels
    own = own_input(header, channels)
    shape = parse_shape(text or own)
    if shape[0] != channels:
        raise NeocogError(f"--input {text}: {weights} reads {channels}-channel inputs, "
                          f"e.g. --input {channels}x{shape[1]}x{shape[2]}")
    print_table(model, text or own, title, f"; it was trained on --input {own}")


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(InspectConfig, argv, "neocog inspect",
                       "Print each layer's output volume W x H x D, parameters and multiply-adds, "
                       "computed with (W - F + 2P)/S + 1.")
    if cfg.wavenet or cfg.weights:
        inspect_checkpoint(cfg.weights or str(WAVENET_WEIGHTS), cfg.input)
        return 0
    text = cfg.input or "1x28x28"
    width = cfg.width or (8 if cfg.backbone == "lenet" else 16)
    model = build_backbone(BackboneConfig(name=cfg.backbone, in_channels=parse_shape(text)[0],
                                          width=width, depth=cfg.depth))
    print_table(model, text, f"backbone {cfg.backbone} (width {width}, depth {cfg.depth})", "")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
