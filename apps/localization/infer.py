"""`neocog locate infer --source FILE|DIR [--json] [--save DIR]`: the main object's class
and box per image, in pixels of the original image. An image that cannot be read prints
its one-line error; the others are still localized and the exit status is 1."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2

from neocog.core.config import parse_config
from neocog.core.precision import RuntimeConfig
from neocog.core.zoo import WEIGHTS_HELP
from neocog.datasets.images import list_images, read_image

from ..common import Failures, predict_in_batches, print_json, run_main
from .predictor import Localizer
from .visualize import PRED_COLOUR, draw_box


@dataclass
class LocateInferConfig(RuntimeConfig):
    source: str = field(default="", metadata={"help": "an image file or a folder of images"})
    weights: str = field(default="", metadata={"help": f"{WEIGHTS_HELP}; default: the shipped model"})
    json: bool = field(default=False, metadata={
        "help": "print a JSON list of {file, label, score, box: [x1, y1, x2, y2]}"})
    save: str = field(default="", metadata={"help": "write annotated copies into this folder"})
    batch_size: int = field(default=32, metadata={"min": 1})


def save_annotated(path: Path, result: dict, folder: Path) -> Path:
    image = read_image(path, 3)
    text = f"{result['label']} {result['score']:.2f}"
    out = folder / f"{path.stem}.png"
    # OpenCV writes BGR.
    cv2.imwrite(str(out), cv2.cvtColor(draw_box(image, result["box"], PRED_COLOUR, text),
                                       cv2.COLOR_RGB2BGR))
    return out


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(LocateInferConfig, argv, "neocog locate infer",
                       "Localize the main object of each image with a trained (default: the "
                       "shipped digit) model.")
    if not cfg.source:
        raise SystemExit("neocog locate infer: error: --source FILE|DIR is required")
    loc = Localizer(cfg.weights or None, cfg.device, cfg.precision, cfg.threads,
                     cfg.memory_format)
    failures = Failures()
    found = list(predict_in_batches(lambda path: read_image(path, 3), loc,
                                    list_images(cfg.source), cfg.batch_size, failures))
    results = [{"file": str(path), "label": r.label, "score": round(r.score, 4), "box": r.box}
               for path, r in found]
    if cfg.save and results:  # the folder appears only with something to write into it
        Path(cfg.save).mkdir(parents=True, exist_ok=True)
        for (path, _), r in zip(found, results, strict=True):
            save_annotated(path, r, Path(cfg.save))
    if cfg.json:
        print_json(results)
    else:
        for r in results:
            print(f"{r['file']}: {r['label']} ({r['score']:.3f}) box {r['box']}")
        if cfg.save and results:
            print(f"annotated images: {Path(cfg.save).resolve()}")
    return failures.status


if __name__ == "__main__":
    raise SystemExit(run_main(main))
