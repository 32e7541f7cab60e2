"""`neocog classify visualize --source IMAGE`: first-layer filters and every conv
layer's activation maps for one image (the chapter's convolution demos)."""

from __future__ import annotations

from dataclasses import dataclass, field

from neocog.core.config import parse_config
from neocog.core.trainer import run_dir_for
from neocog.core.visualize import plot_activations, plot_filters
from neocog.core.zoo import WEIGHTS_HELP

from ..common import run_main
from .predictor import TASK, Classifier


@dataclass
class ClassifyVisualizeConfig:
    source: str = field(default="", metadata={"help": "one image file"})
    weights: str = field(default="", metadata={"help": f"{WEIGHTS_HELP}; default: the shipped model"})
    project: str = "runs"
    name: str = ""


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(ClassifyVisualizeConfig, argv, "neocog classify visualize",
                       "Write PNGs of the first-layer filters and of each conv layer's activations.")
    if not cfg.source:
        raise SystemExit("neocog classify visualize: error: --source IMAGE is required")
    clf = Classifier(cfg.weights or None, device="cpu", precision="fp32")  # maps in fp32
    image = clf.prepare(cfg.source)
    out = run_dir_for(cfg.project, TASK, cfg.name or "visualize", resume=False)
    out.mkdir(parents=True, exist_ok=True)
    plot_filters(clf.model, out / "filters.png")
    maps = plot_activations(clf.model.backbone, image, out)
    pred = clf([cfg.source])[0]
    print(f"{cfg.source}: {pred.label} ({pred.score:.3f})")
    print(f"wrote {out / 'filters.png'} and {len(maps)} activation maps to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
