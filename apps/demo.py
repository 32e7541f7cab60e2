"""`neocog demo`: every app that exists, offline, on the samples shipped in the package."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from neocog.core.config import parse_config

from .classification import infer as classify_infer
from .classification import visualize as classify_visualize
from .localization import infer as locate_infer

SAMPLES = Path(__file__).parent / "classification" / "assets" / "samples"
LOCATE_SAMPLES = Path(__file__).parent / "localization" / "assets" / "samples"


@dataclass
class DemoConfig:
    project: str = field(default="runs/demo", metadata={"help": "where the demo writes"})


def classification(project: str) -> None:
    print(f"== classify: the shipped MNIST model on {SAMPLES}")
    classify_infer.main(["--source", str(SAMPLES)])
    first = sorted(SAMPLES.glob("*.png"))[0]
    classify_visualize.main(["--source", str(first), "--project", project, "--name", "visualize"])


def localization(project: str) -> None:
    out = Path(project) / "locate"
    print(f"\n== locate: the shipped digit localizer on {LOCATE_SAMPLES}")
    locate_infer.main(["--source", str(LOCATE_SAMPLES), "--save", str(out)])


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(DemoConfig, argv, "neocog demo",
                       "Run every app on shipped samples, offline, and say where outputs went.")
    classification(cfg.project)
    localization(cfg.project)
    print(f"\ndemo outputs are under {Path(cfg.project).resolve()}")
    return 0
