"""`neocog detect export --format onnx`: the network plus box decoding as one ONNX graph.

Input `images` float32 (B, 3, S, S) RGB in [0, 1] (letterboxed); output `detections`
float32 (B, A, 4 + K): xyxy boxes in input pixels, then class probabilities. NMS stays
outside the graph (run `torchvision.ops.batched_nms` or your runtime's own).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from neocog.core.checkpoint import atomic_write
from neocog.core.config import parse_config
from neocog.core.errors import NeocogError
from neocog.core.heads import TaskModel
from neocog.core.zoo import WEIGHTS_HELP

from ..common import run_main
from .predictor import Detector


class Decoded(nn.Module):
    """TaskModel -> one tensor output: `head.decode(model(x))`, Tensor[B, A, 4 + K]."""

    def __init__(self, model: TaskModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: Tensor) -> Tensor:
        return self.model.head.decode(self.model(images))


@dataclass
class DetectExportConfig:
    format: str = field(default="onnx", metadata={"choices": ["onnx"]})
    weights: str = field(default="", metadata={"help": f"{WEIGHTS_HELP}; default: the shipped model"})
    output: str = field(default="", metadata={"help": "file to write; default: <weights>.onnx"})
    opset: int = field(default=18, metadata={
        "help": "ONNX opset: 18 is the exporter's own; a lower one is converted after export"})


def export_onnx(model: TaskModel, size: int, path: Path, opset: int = 18) -> None:
    """Write `model` (eval mode) as ONNX with a dynamic batch axis, atomically.

    torch.export traces the graph (the TorchScript exporter is deprecated since
    torch 2.9) and onnxscript translates it, so the onnx extra brings onnxscript."""
    wrapper = Decoded(model.cpu()).eval()
    dummy = torch.zeros(1, 3, size, size)
    with warnings.catch_warnings():
        # torch 2.11's own export internals copy a pytree LeafSpec and warn about it: a
        # note to torch's developers, not to the user of the exported model.
        warnings.filterwarnings("ignore", r"`isinstance\(treespec, LeafSpec\)`", FutureWarning)
        program = torch.onnx.export(wrapper, (dummy,), input_names=["images"],
                                    output_names=["detections"], opset_version=opset,
                                    dynamo=True, verbose=False,
                                    dynamic_shapes={"images": {0: torch.export.Dim("batch")}})
    atomic_write(path, lambda tmp: program.save(str(tmp)))


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(DetectExportConfig, argv, "neocog detect export",
                       "Export a detector to ONNX (decoded boxes + class probabilities).")
    # Exported as trained: fp32, contiguous weights (a channels_last layout baked into the
    # graph makes torch.export's dynamic batch size fail).
    det = Detector(cfg.weights or None, device="cpu", precision="fp32", memory_format="contiguous")
    out = Path(cfg.output) if cfg.output else Path(det.weights.name).with_suffix(".onnx")
    try:
        export_onnx(det.model, det.size, out, cfg.opset)
    except ImportError as err:
        raise NeocogError(f"ONNX export needs the onnx extra: pip install 'neocog[onnx]' ({err})") from None
    print(f"wrote {out}: input images (B, 3, {det.size}, {det.size}) RGB in [0, 1]; "
          f"output detections (B, A, {4 + len(det.names)}); classes {det.names}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
