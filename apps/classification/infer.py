"""`neocog classify infer --source FILE|DIR [--json]`: label and probability per image.
An image that cannot be read prints its one-line error; the others are still classified
and the exit status is 1."""

from __future__ import annotations

from dataclasses import dataclass, field

from neocog.core.config import parse_config
from neocog.core.precision import RuntimeConfig
from neocog.core.zoo import WEIGHTS_HELP
from neocog.datasets.images import list_images, read_image

from ..common import Failures, predict_in_batches, print_json, run_main
from .metrics import TTA_HELP
from .predictor import Classifier


@dataclass
class ClassifyInferConfig(RuntimeConfig):
    source: str = field(default="", metadata={"help": "an image file or a folder of images"})
    weights: str = field(default="", metadata={"help": f"{WEIGHTS_HELP}; default: the shipped model"})
    json: bool = field(default=False, metadata={"help": "print a JSON list of {file, label, score}"})
    batch_size: int = field(default=64, metadata={"min": 1})
    tta: bool = field(default=False, metadata={"help": TTA_HELP})


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(ClassifyInferConfig, argv, "neocog classify infer",
                       "Classify images with a trained (default: the shipped MNIST) model.")
    if not cfg.source:
        raise SystemExit("neocog classify infer: error: --source FILE|DIR is required")
    clf = Classifier(cfg.weights or None, cfg.device, cfg.precision, cfg.threads,
                     cfg.memory_format, cfg.tta)
    failures = Failures()
    predictions = predict_in_batches(lambda path: read_image(path, clf.pre.channels), clf,
                                     list_images(cfg.source), cfg.batch_size, failures)
    results = [{"file": str(path), "label": pred.label, "score": round(pred.score, 4)}
               for path, pred in predictions]
    if cfg.json:
        print_json(results)
    else:
        for r in results:
            print(f"{r['file']}: {r['label']} ({r['score']:.3f})")
    return failures.status


if __name__ == "__main__":
    raise SystemExit(run_main(main))
